"""Vars and config (spec 2.5, 2.6): persistence, deletion, the max_var_bytes accounting of the
official runtime (48 bytes per entry plus key and value, the replaced entry still counted),
config from the manifest, from Plugin(config=...) and update_config."""

from __future__ import annotations

import pytest

import extism_native as extism
from conftest import wasm_path


def kv(key: bytes, value: bytes = b"") -> bytes:
    return bytes([len(key)]) + key + value


def vars_plugin(**memory):
    manifest = {"wasm": [{"path": str(wasm_path("vars"))}], "config": {"from": "manifest"}}
    if memory:
        manifest["memory"] = memory
    return extism.Plugin(manifest)


def test_vars_persist_across_calls_and_empty_deletes():
    with vars_plugin() as p:
        assert p.call("get", kv(b"a")) == b""
        p.call("set", kv(b"a", b"one"))
        assert p.call("get", kv(b"a")) == b"one"
        p.call("set", kv(b"a", b"two"))
        assert p.call("get", kv(b"a")) == b"two"
        p.call("set", kv(b"a"))  # value handle 0 deletes
        assert p.call("get", kv(b"a")) == b""
        p.call("set", kv(b"", b"empty key"))  # key 0 is the empty key
        assert p.call("get", kv(b"")) == b"empty key"


def test_max_var_bytes_accounting():
    with vars_plugin(max_var_bytes=60) as p:
        p.call("set", kv(b"k", b"v"))  # 48 + 1 + 1 = 50 <= 60
        with pytest.raises(extism.Trap, match="Variable store is full"):
            p.call("set", kv(b"k2", b"x" * 12))  # 50 + 48 + 2 + 12 > 60
        with pytest.raises(extism.Trap, match="Variable store is full"):
            p.call("set", kv(b"k", b"v" * 11))  # the old value still counts: 50 + 60 > 60
        assert p.call("get", kv(b"k")) == b"v"
    with vars_plugin(max_var_bytes=100) as p:
        p.call("set", kv(b"k", b"v"))
        p.call("set", kv(b"k", b"w"))  # 50 + 50 <= 100
        assert p.call("get", kv(b"k")) == b"w"


def test_max_var_bytes_zero_disables_vars():
    with vars_plugin(max_var_bytes=0) as p:
        with pytest.raises(extism.Trap, match="Vars are disabled by this host"):
            p.call("set", kv(b"k", b"v"))
        with pytest.raises(extism.Trap, match="Vars are disabled"):
            p.call("set", kv(b"k"))  # even a delete
        assert p.call("get", kv(b"k")) == b""  # reading still works


def test_config_sources():
    with vars_plugin() as p:
        assert p.call("config", kv(b"from")) == b"manifest"
        assert p.call("config", kv(b"missing")) == b""
        p.update_config({"from": "update", "new": "x", "gone": None})
        assert p.call("config", kv(b"from")) == b"update"
        assert p.call("config", kv(b"new")) == b"x"
        p.update_config({"new": None})
        assert p.call("config", kv(b"new")) == b""
        p.update_config({"empty": ""})
        assert p.call("config", kv(b"empty")) == b""  # an empty value reads as missing
    manifest = {"wasm": [{"path": str(wasm_path("vars"))}], "config": {"a": "m", "b": "m"}}
    with extism.Plugin(manifest, config={"b": "arg", "é": "ü"}) as p:
        assert p.call("config", kv(b"a")) == b"m"
        assert p.call("config", kv(b"b")) == b"arg"  # Plugin(config=) is applied on top
        assert p.call("config", kv("é".encode())) == "ü".encode()


def test_update_config_is_all_or_nothing():
    with vars_plugin() as p:
        with pytest.raises(TypeError):
            p.update_config({"ok": "1", "bad": 2})  # type: ignore[dict-item]
        assert p.call("config", kv(b"ok")) == b""


def test_vars_are_per_plugin():
    with vars_plugin() as a, vars_plugin() as b:
        a.call("set", kv(b"x", b"a"))
        assert b.call("get", kv(b"x")) == b""
