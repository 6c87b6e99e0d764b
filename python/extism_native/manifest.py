"""Typed manifests: build one in Python instead of writing the dict by hand.

>>> from extism_native.manifest import Manifest, WasmPath, MemoryOptions
>>> m = Manifest([WasmPath("plugin.wasm", hash="ab" * 32)], memory=MemoryOptions(max_pages=4),
...              allowed_hosts=["*.example.com"], timeout_ms=1000)
>>> m.to_dict()["memory"]
{'max_pages': 4}

A :class:`Manifest` is accepted wherever a manifest dict is (``Plugin(manifest)``).  The C core
checks every field again and raises :class:`~extism_native.ManifestError` naming the field.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .errors import ManifestError

__all__ = ["Manifest", "MemoryOptions", "Wasm", "WasmData", "WasmPath", "WasmUrl"]


def _check(field: str, value: Any, types: Any, what: str) -> None:
    if not isinstance(value, types) or isinstance(value, bool) and bool not in (
            types if isinstance(types, tuple) else (types,)):
        raise ManifestError(f"invalid manifest: {field}: expected {what}, got "
                            f"{type(value).__name__}")


class Wasm:
    """A wasm module of a manifest: its optional ``name`` (other modules import it by that
    name) and ``hash`` (lowercase hex sha256, checked before anything parses the module)."""

    def __init__(self, name: Optional[str] = None, hash: Optional[str] = None) -> None:
        if name is not None:
            _check("wasm.name", name, str, "a string")
        if hash is not None:
            _check("wasm.hash", hash, str, "a string")
        self.name = name
        self.hash = hash

    def _common(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        if self.hash is not None:
            out["hash"] = self.hash
        return out

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of the manifest (docs/extism-abi.md section 6.2; bytes as base64)."""
        raise NotImplementedError


class WasmPath(Wasm):
    """A module read from a file when the plugin is created."""

    def __init__(self, path: Union[str, "os.PathLike[str]"], name: Optional[str] = None,
                 hash: Optional[str] = None) -> None:
        super().__init__(name, hash)
        self.path = os.fspath(path)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of the manifest (docs/extism-abi.md section 6.2; bytes as base64)."""
        return {"path": self.path, **self._common()}


class WasmData(Wasm):
    """A module given as bytes."""

    def __init__(self, data: bytes, name: Optional[str] = None, hash: Optional[str] = None) -> None:
        super().__init__(name, hash)
        _check("wasm.data", data, (bytes, bytearray, memoryview), "bytes")
        self.data = bytes(data)

    @classmethod
    def with_hash(cls, data: bytes, name: Optional[str] = None) -> "WasmData":
        """The module with its sha256 filled in."""
        return cls(data, name, hashlib.sha256(data).hexdigest())

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of the manifest (docs/extism-abi.md section 6.2; bytes as base64)."""
        return {"data": base64.b64encode(self.data).decode("ascii"), **self._common()}


class WasmUrl(Wasm):
    """A module downloaded when the plugin is created (``allowed_hosts`` does not apply: it
    governs the guest).  Fetched through ``extism_native.http.default_transport``."""

    def __init__(self, url: str, headers: Optional[Mapping[str, str]] = None,
                 method: Optional[str] = None, name: Optional[str] = None,
                 hash: Optional[str] = None) -> None:
        super().__init__(name, hash)
        _check("wasm.url", url, str, "a string")
        self.url = url
        self.headers = dict(headers or {})
        self.method = method

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of the manifest (docs/extism-abi.md section 6.2; bytes as base64)."""
        out: Dict[str, Any] = {"url": self.url, **self._common()}
        if self.headers:
            out["headers"] = self.headers
        if self.method is not None:
            out["method"] = self.method
        return out


class MemoryOptions:
    """Memory limits: ``max_pages`` (64 KiB pages, per linear memory; kernel memory may grow by
    as many beyond its first 16), ``max_http_response_bytes`` (default 50 MiB) and
    ``max_var_bytes`` (default 1 MiB; 0 disables vars)."""

    def __init__(self, max_pages: Optional[int] = None,
                 max_http_response_bytes: Optional[int] = None,
                 max_var_bytes: Optional[int] = None) -> None:
        for field, value in (("max_pages", max_pages),
                             ("max_http_response_bytes", max_http_response_bytes),
                             ("max_var_bytes", max_var_bytes)):
            if value is not None:
                _check(f"memory.{field}", value, int, "an integer")
                if value < 0:
                    raise ManifestError(f"invalid manifest: memory.{field}: must not be negative")
        self.max_pages = max_pages
        self.max_http_response_bytes = max_http_response_bytes
        self.max_var_bytes = max_var_bytes

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form of the manifest (docs/extism-abi.md section 6.2; bytes as base64)."""
        return {k: v for k, v in (("max_pages", self.max_pages),
                                  ("max_http_response_bytes", self.max_http_response_bytes),
                                  ("max_var_bytes", self.max_var_bytes)) if v is not None}


class Manifest:
    """An Extism manifest (spec section 6).

    Args:
        wasm: the modules; with several, the one named "main" (or else the last) is called.
        memory: limits.
        config: string -> string, read by the guest with ``config_get``.
        allowed_hosts: host name patterns (``*``, ``?``) the guest may reach over HTTP;
            ``None`` or ``[]`` allow nothing.
        allowed_paths: host path (``"ro:"`` prefix: read-only) -> guest path, for WASI.
        timeout_ms: the most a call may run.
    """

    def __init__(self, wasm: Sequence[Wasm], memory: Optional[MemoryOptions] = None,
                 config: Optional[Mapping[str, str]] = None,
                 allowed_hosts: Optional[Sequence[str]] = None,
                 allowed_paths: Optional[Mapping[str, str]] = None,
                 timeout_ms: Optional[int] = None) -> None:
        wasm = list(wasm)
        if not wasm:
            raise ManifestError("invalid manifest: wasm: no wasm modules given")
        for i, w in enumerate(wasm):
            if not isinstance(w, Wasm):
                raise ManifestError(f"invalid manifest: wasm[{i}]: expected a Wasm source, got "
                                    f"{type(w).__name__}")
        if timeout_ms is not None:
            _check("timeout_ms", timeout_ms, int, "an integer")
        self.wasm: List[Wasm] = wasm
        self.memory = memory
        self.config = dict(config or {})
        self.allowed_hosts = None if allowed_hosts is None else list(allowed_hosts)
        self.allowed_paths = None if allowed_paths is None else dict(allowed_paths)
        self.timeout_ms = timeout_ms

    def to_dict(self) -> Dict[str, Any]:
        """The manifest as the JSON-ready dict of docs/extism-abi.md section 6.2."""
        out: Dict[str, Any] = {"wasm": [w.to_dict() for w in self.wasm]}
        if self.memory is not None:
            out["memory"] = self.memory.to_dict()
        if self.config:
            out["config"] = self.config
        if self.allowed_hosts is not None:
            out["allowed_hosts"] = self.allowed_hosts
        if self.allowed_paths is not None:
            out["allowed_paths"] = self.allowed_paths
        if self.timeout_ms is not None:
            out["timeout_ms"] = self.timeout_ms
        return out

    def to_json(self) -> str:
        """The manifest as JSON text (for the C API or the official SDK)."""
        return json.dumps(self.to_dict())
