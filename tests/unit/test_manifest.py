"""Typed manifests (extism_native.manifest) and every manifest field reaching the plugin."""

from __future__ import annotations

import hashlib
import json

import pytest

import extism_native as extism
from extism_native import Manifest, MemoryOptions, WasmData, WasmPath, WasmUrl
from conftest import u64s, wasm, wasm_path


def test_typed_manifest_round_trip():
    data = wasm("edge")
    m = Manifest([WasmData.with_hash(data, name="main")], memory=MemoryOptions(max_pages=2),
                 config={"k": "v"}, allowed_hosts=["*.example.com"], timeout_ms=500)
    d = m.to_dict()
    assert d["wasm"][0]["hash"] == hashlib.sha256(data).hexdigest()
    assert d["memory"] == {"max_pages": 2} and d["timeout_ms"] == 500
    assert json.loads(m.to_json()) == d
    with extism.Plugin(m) as plugin:
        assert u64s(plugin.call("grow_one")) == [1]
        assert u64s(plugin.call("grow_one")) == [-1]  # max_pages 2


def test_typed_sources():
    assert WasmPath(wasm_path("edge"), name="x").to_dict() == {"path": str(wasm_path("edge")),
                                                               "name": "x"}
    assert WasmUrl("https://h/p.wasm", {"A": "b"}, "POST").to_dict() == {
        "url": "https://h/p.wasm", "headers": {"A": "b"}, "method": "POST"}
    with extism.Plugin(Manifest([WasmPath(wasm_path("edge"))])) as plugin:
        assert plugin.call("output_interior") == b"op"


@pytest.mark.parametrize("make", [
    lambda: Manifest([]),
    lambda: Manifest(["plugin.wasm"]),  # type: ignore[list-item]
    lambda: MemoryOptions(max_pages="4"),  # type: ignore[arg-type]
    lambda: MemoryOptions(max_var_bytes=-1),
    lambda: WasmData("not bytes"),  # type: ignore[arg-type]
    lambda: Manifest([WasmPath("x")], timeout_ms=1.5),  # type: ignore[arg-type]
])
def test_typed_manifest_errors(make):
    with pytest.raises(extism.ManifestError):
        make()


def test_hash_is_checked_before_parsing():
    # garbage with a matching hash is a load error; valid wasm with a wrong hash is a manifest
    # error: the hash is checked first
    junk = b"not wasm at all"
    with pytest.raises(extism.PluginLoadError):
        extism.Plugin(Manifest([WasmData.with_hash(junk)]))
    with pytest.raises(extism.ManifestError, match="hash mismatch"):
        extism.Plugin(Manifest([WasmData(junk, hash="1" * 64)]))
