"""What a wasm module is, for people: ``python -m extism_native inspect`` and
:func:`inspect_module`.

The C core validates the module and describes it (``exn_module_inspect``: the validator's
description, decoded once); this module groups the imports the way a plugin's host sees them
(the Extism kernel, WASI, host functions) and formats the report.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

from . import errors
from ._native import ffi, lib

__all__ = ["inspect_module", "format_report", "KERNEL_MODULE", "WASI_MODULES"]

KERNEL_MODULE = "extism:host/env"
"""The import module of the Extism kernel."""
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
"""Import modules of WASI (extism_native provides ``wasi_snapshot_preview1``)."""


def inspect_module(wasm: bytes) -> Dict[str, Any]:
    """Describe the WebAssembly module ``wasm`` (module bytes, not a manifest).

    Returns a dict with ``imports`` grouped as ``{"kernel": [...], "wasi": [...], "host":
    [...]}`` (each import ``{"module", "name", "kind", "type"}``), ``exports`` (each
    ``{"name", "kind", "type", "callable"}``; ``callable`` for the functions a plugin call can
    use, ``() -> ()`` or ``() -> (i32)``), ``callable`` (their names), ``memories`` (``min``,
    ``max`` in 64 KiB pages, ``max`` None when unbounded, ``imported``, ``exports``),
    ``features`` (post-MVP features the module uses: ``"simd"``, ``"bulk-memory"``, ...),
    ``producers`` (the ``producers`` section: field -> list of ``[name, version]``; None if
    the module has none), ``module_name``, ``functions`` (defined functions), ``start``,
    ``size`` (bytes) and ``runs`` (``{"interp": True, "native": bool, "native_reason": ...,
    "needs_wasi": bool, "host_functions": [...], "unresolved": [...]}``: which engine of this
    build can run it, what a plugin made from it must be given, and the kernel and WASI imports
    this build does not provide (by name or type): a plugin cannot be made from a module with
    any).  Each kernel and WASI import has ``provided`` too.

    Raises:
        InvalidModuleError: the bytes are not a valid module.
        UnsupportedError: the module uses a feature extism_native does not implement.
        TypeError: ``wasm`` is not bytes-like.
    """
    data = bytes(wasm)
    size = ffi.new("size_t *")
    buf = ffi.new("char[]", 1 << 16)
    status = lib.exn_module_inspect(data, len(data), buf, len(buf), size)
    if status == 0 and size[0] >= len(buf):
        buf = ffi.new("char[]", size[0] + 1)
        status = lib.exn_module_inspect(data, len(data), buf, len(buf), size)
    text = ffi.string(buf).decode("utf-8", "replace")
    if status != 0:
        cls = errors._STATUS_CLASSES.get(status, errors.Error)
        raise cls(f"not a valid WebAssembly module: {text}")
    info: Dict[str, Any] = json.loads(text)
    groups: Dict[str, List[Dict[str, Any]]] = {"kernel": [], "wasi": [], "host": []}
    for im in info["imports"]:
        module = im["module"]
        group = ("kernel" if module == KERNEL_MODULE else
                 "wasi" if module in WASI_MODULES else "host")
        groups[group].append(im)
    info["imports"] = groups
    info["callable"] = [e["name"] for e in info["exports"] if e.get("callable")]
    info["size"] = len(data)
    tiers = info.pop("tiers")
    info["runs"] = {
        "interp": bool(tiers["interp"]),
        "native": bool(tiers["native"]),
        "native_reason": tiers.get("native_reason"),
        "native_compiler": tiers.get("native_compiler"),
        "needs_wasi": bool(groups["wasi"]),
        "host_functions": [f"{im['module']}::{im['name']}" for im in groups["host"]
                           if im["kind"] == "func"],
        "unresolved": [f"{im['module']}::{im['name']}" for im in groups["kernel"] + groups["wasi"]
                       if im.get("provided") is False],
    }
    return info


def _sig(item: Dict[str, Any]) -> str:
    return f" {item['type']}" if item.get("type") else f" ({item['kind']})"


def format_report(info: Dict[str, Any], name: str = "") -> str:
    """The report ``inspect`` prints for the description :func:`inspect_module` returned."""
    lines: List[str] = []
    add = lines.append
    title = name or "module"
    extra = f", module name {info['module_name']!r}" if info.get("module_name") else ""
    add(f"{title}: {info['size']} bytes, {info['functions']} functions{extra}")

    producers = info.get("producers")
    if producers:
        add("toolchain:")
        for field, values in producers.items():
            text = ", ".join(f"{n} {v}".strip() for n, v in values)
            add(f"  {field}: {text}")
    else:
        add("toolchain: unknown (no producers section)")

    imports = info["imports"]
    labels = (("kernel", f"Extism kernel ({KERNEL_MODULE})"), ("wasi", "WASI"),
              ("host", "host functions"))
    if not any(imports.values()):
        add("imports: none")
    for key, label in labels:
        items = imports[key]
        if not items:
            continue
        add(f"imports, {label}: {len(items)}")
        for im in items:
            where = f"{im['module']}::{im['name']}" if key != "kernel" else im["name"]
            add(f"  {where}{_sig(im)}")

    exports = info["exports"]
    callable_ = [e for e in exports if e.get("callable")]
    add(f"callable exports: {len(callable_)}" if callable_ else "callable exports: none")
    for e in callable_:
        add(f"  {e['name']}{_sig(e)}")
    others = [e for e in exports if not e.get("callable") and e["kind"] != "memory"]
    if others:
        add(f"other exports: {len(others)}")
        for e in others:
            add(f"  {e['name']}{_sig(e)}")

    mems = info["memories"]
    if not mems:
        add("memory: none")
    for i, m in enumerate(mems):
        top = "unbounded" if m["max"] is None else f"max {m['max']} pages"
        how = ("imported" if m["imported"] else "defined")
        shown = (f", exported as {', '.join(repr(x) for x in m['exports'])}" if m["exports"]
                 else ", not exported")
        label = "memory" if len(mems) == 1 else f"memory {i}"
        add(f"{label}: min {m['min']} pages ({m['min'] * 64} KiB), {top}, {how}{shown}")

    feats = info["features"]
    add(f"features: {', '.join(feats)}" if feats else "features: none beyond WebAssembly 1.0")

    runs = info["runs"]
    add("runs here:")
    add("  interp: yes")
    if runs["native"]:
        add(f"  native: yes ({runs['native_compiler']})")
    else:
        add(f"  native: no ({runs['native_reason']})")
    needs = []
    if runs["needs_wasi"]:
        needs.append("wasi=True")
    if runs["host_functions"]:
        needs.append(f"{len(runs['host_functions'])} host function(s): "
                     + ", ".join(runs["host_functions"]))
    add(f"  needs: {'; '.join(needs)}" if needs else "  needs: nothing beyond the kernel")
    if runs["unresolved"]:
        add("  cannot link here, not provided by this build: " + ", ".join(runs["unresolved"]))
    return "\n".join(lines)
