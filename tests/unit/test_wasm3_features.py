"""WebAssembly 3.0 features toolchains start to emit (issue 17 item 3), on both engines: the
interpreter (wasm3, patches 0071 and 0072) and the compiled tier (EXTISM_NATIVE_TIER=native,
csrc/engine/native/translate.c).

- Extended constant expressions: i32/i64 add, sub, mul and global.get of earlier immutable
  globals in global initialisers, data and element segment offsets (wasm3_extended_const.wat).
- Tail calls: return_call and return_call_indirect replace the caller's frame, so tail
  recursion 10 million calls deep runs (wasm3_tail_call.wat), and an endless one is stopped by
  the call's timeout, not by a stack overflow.
- Multi-memory: refused at load with UnsupportedError naming it (wasm3_multi_memory.wat).

The validator's rules for these are in test_validate.py.  Every export of the WAT plugins
checks its results in the guest and returns 0, or the number of the first check that failed
(the call then raises PluginCallError with that code)."""

from __future__ import annotations

import shutil
from typing import Iterator

import pytest

import extism_native as extism
from conftest import wasm
from test_validate import name, section, u, vec  # the binary encoder of the tests

TIERS = ["wasm3", "native"]


@pytest.fixture(scope="module")
def native_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("native-cache"))


@pytest.fixture(params=TIERS)
def tier(request, monkeypatch, native_cache) -> Iterator[str]:
    """The engine plugins created in the test use (the tier is read at plugin creation)."""
    if request.param == "native":
        if not any(shutil.which(cc) for cc in ("cc", "gcc", "clang")):
            pytest.skip("the compiled tier needs a C compiler")
        monkeypatch.setenv("EXTISM_NATIVE_TIER", "native")
        monkeypatch.setenv("EXTISM_NATIVE_CACHE_DIR", native_cache)
        # proof that it is the engine in use
        assert extism.Plugin(wasm("wasm3_extended_const")).tier == "native"
    else:
        monkeypatch.delenv("EXTISM_NATIVE_TIER", raising=False)
    yield request.param


# ---- extended constant expressions ---------------------------------------------------------


@pytest.mark.parametrize("fn", ["globals", "data", "elems"])
def test_extended_constant_expressions(tier, fn):
    with extism.Plugin(wasm("wasm3_extended_const")) as plugin:
        plugin.call(fn, b"")


def test_extended_constants_in_every_instance(tier):
    # a global written by one call is initialised again in the next instance, and the data
    # segments at computed offsets are written again
    compiled = extism.CompiledPlugin(wasm("wasm3_extended_const"))
    for _ in range(3):
        with extism.Plugin(compiled) as plugin:
            plugin.call("globals", b"")
            plugin.call("data", b"")


# ---- tail calls ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tail_module() -> bytes:
    return wasm("wasm3_tail_call")


@pytest.mark.parametrize("fn", ["self", "mutual", "indirect", "early", "import", "args", "top"])
def test_tail_calls(tier, tail_module, fn):
    with extism.Plugin(tail_module) as plugin:
        plugin.call(fn, b"12345")


@pytest.mark.parametrize("fn,trap", [("bad_type", "indirect call type mismatch"),
                                     ("null_slot", "null table element"),
                                     ("out_of_range", "undefined element")])
def test_tail_call_indirect_traps(tier, tail_module, fn, trap):
    with extism.Plugin(tail_module) as plugin:
        with pytest.raises(extism.Trap, match=trap):
            plugin.call(fn, b"")
        plugin.call("mutual", b"")  # the plugin is usable after the trap


def test_endless_tail_recursion_times_out(tier, tail_module):
    # no frame is added per call: the loop runs until the deadline stops it
    with extism.Plugin(tail_module) as plugin:
        with pytest.raises(extism.CallTimeoutError):
            plugin.call("forever", b"", timeout=0.3)
        plugin.call("self", b"")


# ---- multi-memory --------------------------------------------------------------------------


def test_multi_memory_is_refused_by_name(tier):
    with pytest.raises(extism.UnsupportedError,
                       match=r"multiple memories \(from the multi-memory proposal\) are not "
                             r"supported by extism_native"):
        extism.Plugin(wasm("wasm3_multi_memory"))


def code_after_return_call_indirect(n: int) -> bytes:
    """n exported functions `f<k>` () -> i32: k additions to a local, then
    `(block (br_if 0 (local.get 0)) (return_call_indirect (i32.const 0)))` and code after the
    block: local + 5.  Their lengths differ, so the interpreter's code pages put the
    return_call_indirect at every distance from a page's end (wasm3 patch 0076)."""
    types = section(1, vec([b"\x60\x00\x01\x7f"]))
    funcs = section(3, vec([b"\x00"] * (n + 1)))
    table = section(4, vec([b"\x70\x00\x01"]))
    exports = section(7, vec([name(f"f{k}") + b"\x00" + u(k + 1) for k in range(n)]))
    elem = section(9, vec([b"\x00\x41\x00\x0b" + vec([b"\x00"])]))
    bodies = [vec([]) + b"\x41\x07\x0b"]  # $g: 7
    for k in range(n):
        code = b"".join(b"\x20\x00\x41" + u(i + 1) + b"\x6a\x21\x00" for i in range(k % 31))
        code += b"\x02\x40\x20\x00\x0d\x00\x41\x00\x13\x00\x00\x0b"  # block ... end
        code += b"\x20\x00\x41\x05\x6a\x0b"  # local.get 0, i32.const 5, i32.add, end
        body = vec([b"\x01\x7f"]) + code  # one i32 local
        bodies.append(body)
    code_sec = section(10, vec([u(len(b)) + b for b in bodies]))
    return b"\x00asm\x01\x00\x00\x00" + types + funcs + table + exports + elem + code_sec


def test_code_after_return_call_indirect_at_every_page_phase(tier):
    """wasm3 patch 0076: the op after a return_call_indirect emitted with exactly 8 lines left
    on its code page wrote its bridge one line past the page (a heap overflow ASan reports in
    the sanitizer job; here, the results)."""
    n = 600
    with extism.Plugin(code_after_return_call_indirect(n)) as plugin:
        for k in range(n):
            adds = k % 31
            expected = 7 if adds == 0 else adds * (adds + 1) // 2 + 5
            with pytest.raises(extism.PluginCallError) as info:
                plugin.call(f"f{k}")
            assert info.value.code == expected, k
