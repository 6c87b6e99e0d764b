"""``inspect_module`` and ``python -m extism_native inspect``: imports grouped (kernel, WASI,
host functions), callable exports, memory, features, producers, and which tier runs the
module - on every committed test plugin and every real plugin in ../shared/plugins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import extism_native as en
from extism_native._native import ffi, lib
from conftest import PLUGINS, ROOT, wasm, wasm_path

SHARED = ROOT.parent / "shared" / "plugins"
# (wasm3_multi_memory.wasm uses a feature extism_native refuses: test_refused_module)
OURS = sorted(p for p in PLUGINS.glob("*.wasm") if p.name != "wasm3_multi_memory.wasm")
REAL = sorted(SHARED.glob("*.wasm")) if SHARED.is_dir() else []

_TYPES = {"i32": en.ValType.I32, "i64": en.ValType.I64, "f32": en.ValType.F32,
          "f64": en.ValType.F64}


def _types(text: str):
    return [_TYPES[t] for t in text.strip("()").split(", ") if t]


def _stub(im):
    """A host function with the import's signature (returning zeros)."""
    params, results = im["type"].split(" -> ")

    def f(_plugin, _inputs, outputs):
        for out in outputs:
            out.value = 0

    return en.Function(im["module"], im["name"], _types(params), _types(results), f)


def _can_stub(im) -> bool:
    return all(t in _TYPES or t in ("", "()") for t in
               im["type"].replace("(", "").replace(")", "").replace(" -> ", ", ").split(", "))


def _real_ids():
    return [p.name for p in REAL]


@pytest.mark.parametrize("path", OURS + REAL, ids=[p.name for p in OURS] + _real_ids())
def test_every_plugin(path: Path):
    data = path.read_bytes()
    info = en.inspect_module(data)
    assert info["size"] == len(data)
    groups = info["imports"]
    assert set(groups) == {"kernel", "wasi", "host"}
    assert all(im["module"] == "extism:host/env" for im in groups["kernel"])
    assert all(im["module"].startswith("wasi_") for im in groups["wasi"])
    assert all(im["module"] != "extism:host/env" and not im["module"].startswith("wasi_")
               for im in groups["host"])
    assert info["runs"]["interp"] is True
    assert info["runs"]["needs_wasi"] == bool(groups["wasi"])
    assert all(isinstance(im["provided"], bool) for im in groups["kernel"] + groups["wasi"]
               if im["kind"] == "func")
    available, _ = en.native_available()
    assert info["runs"]["native"] is available  # (SIMD too, since the compiled tier has it)

    # the facts agree with what a plugin made from the module does: its callable exports
    # are the ones function_exists accepts, and the interpreter loads it
    host = [im for im in groups["host"] if im["kind"] == "func"]
    if not all(_can_stub(im) for im in host) or any(im["kind"] != "func"
                                                     for im in groups["host"]):
        return  # (imports of tables, memories or globals from the host: not a plugin)
    try:
        # (a timeout: some test plugins' start functions loop, on purpose)
        plugin = en.Plugin({"wasm": [{"data": data}], "timeout_ms": 2000},
                           wasi=info["runs"]["needs_wasi"], functions=[_stub(im) for im in host])
    except en.LinkError as exc:
        # a module importing other modules of a manifest, or what this build does not provide
        assert path.name.startswith("link_") or info["runs"]["unresolved"], exc
        for name in info["runs"]["unresolved"]:
            assert name in str(exc)
        return
    except (en.PluginLoadError, en.CallTimeoutError) as exc:
        # start functions that trap or hang are the point of some test plugins
        assert path.name.startswith(("init_", "hang_")), exc
        return
    assert info["runs"]["unresolved"] == []
    with plugin:
        exported = {e["name"] for e in info["exports"] if e["kind"] == "func"}
        callable_ = set(info["callable"])
        assert callable_ <= exported
        for name in exported:
            assert plugin.function_exists(name) == (name in callable_), name


def test_real_plugins_facts():
    if not REAL:
        pytest.skip(f"{SHARED} is absent")
    rust = en.inspect_module((SHARED / "rust-code-functions.wasm").read_bytes())
    assert [(im["module"], im["name"], im["type"]) for im in rust["imports"]["host"]] == [
        ("extism:host/user", "hello_world", "(i64) -> (i64)")]
    assert "count_vowels" in rust["callable"]
    assert rust["runs"]["host_functions"] == ["extism:host/user::hello_world"]
    haskell = en.inspect_module((SHARED / "haskell-hello.wasm").read_bytes())
    assert "simd" in haskell["features"]
    assert haskell["runs"]["native"] is en.native_available()[0]  # (SIMD runs compiled)
    assert "ghc" in json.dumps(haskell["producers"])
    assert "testing" in haskell["callable"] and "hs_init" not in haskell["callable"]
    go = en.inspect_module((SHARED / "go-count_vowels_std.wasm").read_bytes())
    assert go["callable"] == ["_start"] or "_start" in go["callable"]
    assert go["runs"]["needs_wasi"]


def test_our_plugins_facts():
    rust = en.inspect_module(wasm("backtrace_rust"))
    assert rust["producers"]["language"] == [["Rust", ""]]
    assert rust["producers"]["processed-by"] == [["rustc", "1.63.0"]]
    assert [im["name"] for im in rust["imports"]["kernel"]] == ["input_length"]
    assert rust["imports"]["wasi"] == [] and rust["imports"]["host"] == []
    assert sorted(rust["callable"]) == ["closure", "divide", "nested"]
    assert rust["features"] == []
    traps = en.inspect_module(wasm("backtrace"))
    assert traps["module_name"] == "traps" and traps["producers"] is None
    assert traps["memories"] == [{"min": 1, "max": None, "imported": False,
                                  "exports": ["memory"]}]
    assert traps["functions"] == 11 and traps["start"] is None
    missing = en.inspect_module(wasm("link_missing"))
    # (a kernel function that does not exist, and alloc with the wrong type)
    assert missing["runs"]["unresolved"] == ["extism:host/env::no_such_kernel_function",
                                             "extism:host/env::alloc"]
    assert [im["provided"] for im in missing["imports"]["wasi"]] == [True]
    assert "simd" in en.inspect_module(wasm("simd_ops"))["features"]
    stripped = en.inspect_module(wasm("rust_plugin"))
    assert stripped["producers"] is None and stripped["module_name"] is None


def test_features_and_memory_of_a_module():
    info = en.inspect_module(wasm("inspect_features"))
    assert info["memories"] == [{"min": 2, "max": 5, "imported": False, "exports": ["a", "b"]}]
    assert info["features"] == ["bulk-memory", "multi-value"]
    assert info["callable"] == ["fill", "run"]
    assert [e["type"] for e in info["exports"] if e["name"] == "two"] == ["() -> (i32, i32)"]
    assert [(im["name"], im["index"]) for g in ("kernel", "wasi", "host")
            for im in info["imports"][g]] == [("input_length", 0), ("sched_yield", 1),
                                              ("twice", 2)]
    assert info["imports"]["host"][0]["module"] == "extism:host/user"
    assert info["start"] == 3 and info["functions"] == 4 and info["module_name"] == "features"
    assert info["runs"]["needs_wasi"] and info["runs"]["host_functions"] == [
        "extism:host/user::twice"]


def test_invalid_modules():
    with pytest.raises(en.InvalidModuleError, match="not a valid WebAssembly module"):
        en.inspect_module(b"not wasm")
    with pytest.raises(en.InvalidModuleError):
        en.inspect_module(wasm("backtrace")[:-5])


def test_c_api_buffer_too_small():
    data = wasm("kitchen")
    size = ffi.new("size_t *")
    small = ffi.new("char[]", 8)
    assert lib.exn_module_inspect(data, len(data), small, 8, size) == 0
    assert size[0] > 8 and ffi.string(small) == b""  # (nothing written that does not fit)
    full = ffi.new("char[]", size[0] + 1)
    assert lib.exn_module_inspect(data, len(data), full, size[0] + 1, size) == 0
    assert len(ffi.string(full)) == size[0]
    json.loads(ffi.string(full))
    assert lib.exn_module_inspect(ffi.NULL, 3, full, 100, size) == 1  # EXN_ERR_MISUSE
    assert lib.exn_module_inspect(data, len(data), full, 100, ffi.NULL) == 1


# ---- the command line -------------------------------------------------------------------------

def run(*args):
    return subprocess.run([sys.executable, "-m", "extism_native", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_cli_json_is_inspect_module():
    out = run("inspect", wasm_path("backtrace_rust"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == en.inspect_module(wasm("backtrace_rust"))


def test_cli_text():
    out = run("inspect", wasm_path("backtrace_rust"))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "toolchain:\n  language: Rust\n  processed-by: rustc 1.63.0\n" in text
    assert "imports, Extism kernel (extism:host/env): 1\n  input_length () -> (i64)\n" in text
    assert "callable exports: 3\n  closure () -> (i32)\n  divide () -> (i32)\n" in text
    assert "memory: min 17 pages (1088 KiB), unbounded, defined, exported as 'memory'" in text
    assert "features: none beyond WebAssembly 1.0" in text
    assert "  interp: yes\n" in text and "  native: " in text
    if REAL:
        text = run("inspect", SHARED / "rust-code-functions.wasm").stdout
        assert "imports, host functions: 1\n  extism:host/user::hello_world (i64) -> (i64)" in text
        assert "needs: wasi=True; 1 host function(s): extism:host/user::hello_world" in text


def test_cli_errors(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\2\0\0\0")
    out = run("inspect", bad)
    assert out.returncode == 65 and "not a valid WebAssembly module" in out.stderr
    out = run("inspect", tmp_path / "missing.wasm")
    assert out.returncode == 66 and "cannot read" in out.stderr
    out = subprocess.run([sys.executable, "-m", "extism_native", "inspect", "-", "--json"],
                         input=wasm("backtrace"), capture_output=True, timeout=120)
    assert out.returncode == 0 and json.loads(out.stdout)["module_name"] == "traps"


def test_large_description():
    # 3000 exports: the JSON is larger than the first buffer inspect_module tries (64 KiB)
    from test_backtrace import _named_module

    names = [f"function_with_a_rather_long_name_{i}" for i in range(3000)]
    info = en.inspect_module(_named_module(names))
    assert len(info["exports"]) == 3000 and len(json.dumps(info)) > 1 << 16
    assert info["callable"] == sorted(f"f{i}" for i in range(3000))


def test_refused_module():
    with pytest.raises(en.UnsupportedError, match="multi-memory"):
        en.inspect_module((PLUGINS / "wasm3_multi_memory.wasm").read_bytes())
