"""Plugin creation failures: each kind raises its own exception with a message that says what
is wrong (garbage bytes, WAT text, unresolved imports, bad manifests)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

import extism_native as extism
from conftest import wasm, wasm_path


@pytest.mark.parametrize("data", [
    b"",
    b"hello",
    b"\0asm",
    b"\0asm\x02\0\0\0",                      # unsupported version
    b"\0asm\x01\0\0\0\x01",                  # truncated section header
    b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f",  # section size far past the end
    b"\0asm\x01\0\0\0\x07\x05\x01\x01a\x00\x05",  # export of a function that does not exist
    bytes(range(256)) * 4,
])
def test_garbage_bytes(data):
    with pytest.raises((extism.InvalidModuleError, extism.ManifestError)) as info:
        extism.Plugin(data)
    assert "cannot load plugin" in str(info.value)


def test_random_garbage_never_crashes():
    rng = __import__("random").Random(1234)
    good = wasm("edge")
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            plugin = extism.Plugin(bytes(data))
        except extism.Error:
            continue
        for name in ("noop", "output_interior", "count"):
            try:
                plugin.call(name, b"x")
            except extism.Error:
                pass
        plugin.close()


def test_truncated_modules_never_crash():
    good = wasm("edge")
    for n in range(0, len(good), max(1, len(good) // 200)):
        with pytest.raises(extism.Error):
            extism.Plugin(good[:n])


def test_wat_text_is_refused_clearly():
    with pytest.raises(extism.UnsupportedError, match="WAT"):
        extism.Plugin("(module)")


def test_unresolved_imports_are_all_listed():
    with pytest.raises(extism.LinkError) as info:
        extism.Plugin(wasm("link_missing"))
    exc = info.value
    assert exc.missing == [
        ("env", "abort"),
        ("extism:host/env", "no_such_kernel_function"),
        ("extism:host/user", "hello_world"),
        ("wasi_snapshot_preview1", "fd_write"),
        ("extism:host/env", "alloc"),
        ("env", "memory"),
    ]
    text = str(exc)
    for module, name in exc.missing:
        assert f"{module}::{name}" in text
    assert "imported with type (i32) -> (i32), the kernel's is (i64) -> (i64)" in text


def test_wasi_disabled_says_how_to_enable_it():
    with pytest.raises(extism.LinkError, match=r"WASI, which is disabled: enable it with wasi=True"):
        extism.Plugin(wasm("link_wasi"))


@pytest.mark.parametrize("manifest, field", [
    ({}, "wasm"),
    ({"wasm": []}, "wasm"),
    ({"wasm": {}}, "wasm"),
    ({"wasm": [{}]}, "wasm[0]"),
    ({"wasm": [{"data": "!!!"}]}, "wasm[0].data"),
    ({"wasm": [{"data": {"ptr": 1, "len": 2}}]}, "wasm[0].data"),
    ({"wasm": [{"path": 7}]}, "wasm[0].path"),
    ({"wasm": [{"path": "a", "data": "AA=="}]}, "wasm[0]"),
    ({"wasm": [{"path": "a", "extra": 1}]}, "wasm[0]"),
    ({"wasm": [{"path": "a", "hash": "ABC"}]}, "wasm[0].hash"),
    ({"wasm": [{"path": "a"}], "memory": {"max_pages": -1}}, "memory.max_pages"),
    ({"wasm": [{"path": "a"}], "memory": {"max_pages": 70000}}, "memory.max_pages"),
    ({"wasm": [{"path": "a"}], "memory": {"other": 1}}, "memory"),
    ({"wasm": [{"path": "a"}], "config": {"k": 1}}, "config"),
    ({"wasm": [{"path": "a"}], "config": []}, "config"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": "*"}, "allowed_hosts"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": [1]}, "allowed_hosts[0]"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": ["ok.com", ""]}, "allowed_hosts[1]"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": ["127.0.0.1:8080"]}, "allowed_hosts[0]"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": ["http://x.com"]}, "allowed_hosts[0]"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": ["[invalid"]}, "allowed_hosts[0]"),
    ({"wasm": [{"path": "a"}], "allowed_hosts": ["a b"]}, "allowed_hosts[0]"),
    ({"wasm": [{"url": 5}]}, "wasm[0].url"),
    ({"wasm": [{"url": "http://x", "headers": {"a": 1}}]}, "wasm[0].headers"),
    ({"wasm": [{"url": "http://x", "method": 3}]}, "wasm[0].method"),
    ({"wasm": [{"path": "a", "name": 3}]}, "wasm[0].name"),
    ({"wasm": [{"path": "a"}], "memory": {"max_var_bytes": "1"}}, "memory.max_var_bytes"),
    ({"wasm": [{"path": "a"}], "memory": {"max_http_response_bytes": -5}},
     "memory.max_http_response_bytes"),
    ({"wasm": [{"path": "a"}], "memory": []}, "memory"),
    ({"wasm": [{"ftp": "a"}]}, "wasm[0]"),
    ({"wasm": [{"path": "a"}], "allowed_paths": {"/tmp": 3}}, 'allowed_paths["/tmp"]'),
    ({"wasm": [{"path": "a"}], "timeout_ms": "1"}, "timeout_ms"),
    ({"wasm": [{"path": "a"}], "timeout_ms": 1.5}, "timeout_ms"),
    ({"wasm": [{"path": "a"}], "invalid_manifest": True}, "manifest"),
])
def test_bad_manifests_name_the_field(manifest, field):
    with pytest.raises(extism.ManifestError) as info:
        extism.Plugin(manifest)
    assert f"invalid manifest: {field}:" in str(info.value)


@pytest.mark.parametrize("text", ["{", '{"wasm": [}', '{"wasm": [{"path": "\\ud800"}]}',
                                  '{"wasm": [] } x', "[1, 2]", '"just a string"', "   "])
def test_invalid_json(text):
    with pytest.raises(extism.ManifestError):
        extism.Plugin(text)


def test_deeply_nested_json_is_refused_not_a_crash():
    with pytest.raises(extism.ManifestError, match="nesting too deep"):
        extism.Plugin('{"wasm": ' + "[" * 100000 + "]" * 100000 + "}")


def test_hash_mismatch_names_both_hashes():
    data = wasm("edge")
    actual = hashlib.sha256(data).hexdigest()
    wrong = "0" * 64
    with pytest.raises(extism.ManifestError) as info:
        extism.Plugin({"wasm": [{"path": str(wasm_path("edge")), "hash": wrong}]})
    assert actual in str(info.value) and wrong in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(extism.ManifestError, match="no-such.wasm"):
        extism.Plugin({"wasm": [{"path": str(tmp_path / "no-such.wasm")}]})
    with pytest.raises(FileNotFoundError):
        extism.Plugin(tmp_path / "no-such.wasm")


def test_directory_as_path(tmp_path):
    with pytest.raises(extism.ManifestError, match="not a regular file"):
        extism.Plugin({"wasm": [{"path": str(tmp_path)}]})


def test_manifest_values_that_json_cannot_encode():
    with pytest.raises(extism.ManifestError):
        extism.Plugin({"wasm": [{"path": object()}]})


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_fifo_path_is_not_read(tmp_path):
    fifo = tmp_path / "pipe.wasm"
    os.mkfifo(fifo)
    with pytest.raises(extism.ManifestError):
        extism.Plugin({"wasm": [{"path": str(fifo)}]})


def test_arbitrary_manifests_give_manifest_error_or_load():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                        st.text(max_size=8), st.binary(max_size=8))
    values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=3) |
                          st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=8)
    keys = st.sampled_from(["wasm", "memory", "config", "allowed_hosts", "allowed_paths",
                            "timeout_ms", "max_pages", "path", "data", "url", "name", "hash"])
    wasm_entry = st.dictionaries(st.sampled_from(["path", "data", "url", "name", "hash", "headers",
                                                  "method", "x"]), values, max_size=4)
    manifests = st.fixed_dictionaries({"wasm": st.one_of(values, st.lists(wasm_entry, max_size=3))},
                                      optional={k: values for k in ["memory", "config",
                                                                    "allowed_hosts",
                                                                    "allowed_paths",
                                                                    "timeout_ms"]}) | \
        st.dictionaries(keys, values, max_size=4)

    @given(manifests)
    def check(manifest):
        try:
            extism.Plugin(manifest).close()
        except extism.ManifestError:
            pass
        except extism.PluginLoadError:
            pass  # a manifest that was valid, with bytes that are not wasm

    check()
