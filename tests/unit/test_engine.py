"""The engine (wasm3 and our patches, third_party/wasm3/UPSTREAM.md) through the public Plugin
API: encodings current toolchains emit, hostile modules, traps instead of crashes, parallel
plugins.  Modules that WAT cannot express (padded LEBs, crafted counts) are assembled here
byte by byte; the others are WAT plugins in tests/plugins/wat/engine_*.wat."""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Callable, List, Optional, Sequence

import pytest

import extism_native as extism
from conftest import u64s, wasm

# ---- wasm3 alone -------------------------------------------------------------------------------
# Hostile modules are refused by our validator before wasm3 sees them; wasm3's own defences
# (the patches) are checked too, by loading the same bytes into wasm3 without the validator
# (tests/spec/engine_check.c --raw).


@pytest.fixture
def raw_wasm3(c_build, tmp_path):
    """raw_wasm3(module_bytes, times=1) -> what wasm3 alone says: "parse: ...", "load: ...", or
    for each of `times` calls of export "run" a line "call: ..." or "ok RC".  A crash fails the
    test."""
    exe = next(p for p in c_build.rglob("engine_check") if p.is_file())

    def run_raw(data: bytes, times: int = 1) -> str:
        path = tmp_path / "module.wasm"
        path.write_bytes(data)
        out = subprocess.run([str(exe), "--raw", str(path), "run", str(times)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"wasm3 crashed (status {out.returncode}): {out.stderr}"
        return out.stdout.strip()

    return run_raw


def refused_by_the_validator(data: bytes, reason: str) -> None:
    with pytest.raises(extism.InvalidModuleError, match=reason):
        extism.Plugin(data)


# ---- a tiny module assembler ------------------------------------------------------------------


def uleb(n: int) -> bytes:
    """Unsigned LEB128, minimal length."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vec(items: Sequence[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def name(s: str) -> bytes:
    return uleb(len(s)) + s.encode()


I32 = 0x7F
FUNC_I32 = b"\x60\x00\x01\x7f"  # () -> i32


def module(types: Sequence[bytes], funcs: Sequence[int], bodies: Sequence[bytes],
           exports: Sequence[tuple], table: Optional[int] = None,
           elems: Sequence[bytes] = (), memory: Optional[int] = None,
           globals_: Sequence[bytes] = ()) -> bytes:
    """A module from its parts; bodies are code without the size prefix (locals included)."""
    out = b"\0asm\1\0\0\0" + section(1, vec(list(types))) + section(3, vec([uleb(f) for f in funcs]))
    if table is not None:
        out += section(4, vec([b"\x70\x00" + uleb(table)]))
    if memory is not None:
        out += section(5, vec([b"\x00" + uleb(memory)]))
    if globals_:
        out += section(6, vec(list(globals_)))
    out += section(7, vec([name(n) + bytes([kind]) + uleb(i) for n, kind, i in exports]))
    if elems:
        out += section(9, vec(list(elems)))
    out += section(10, vec([uleb(len(b)) + b for b in bodies]))
    return out


def run(plugin: extism.Plugin, fn: str) -> None:
    """Call fn; its i32 result is an exit code (0 = every in-guest check held)."""
    plugin.call(fn, b"")


def on_thread(fn: Callable[[], object], stack_size: int) -> List[object]:
    """Run fn on a new thread with the given stack size; returns [result] or [exception]."""
    out: List[object] = []

    def body() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out.append(exc)

    old = threading.stack_size(stack_size)
    try:
        t = threading.Thread(target=body)
        t.start()
        t.join()
    finally:
        threading.stack_size(old)
    return out


STACKS = [pytest.param(None, id="main-thread"), pytest.param(256 * 1024, id="256KiB-thread")]


def on_stack(fn: Callable[[], object], stack_size: Optional[int]) -> object:
    if stack_size is None:
        try:
            return fn()
        except BaseException as exc:  # noqa: BLE001
            return exc
    return on_thread(fn, stack_size)[0]


# ---- call_indirect (patch 0005) ------------------------------------------------------------------


def padded_call_indirect(table_index: bytes) -> bytes:
    """run() = call_indirect (type 0) (table <table_index>) of table[0], which returns 42,
    minus 42: 0 when the indirect call worked."""
    run_body = b"\x00" + b"\x41\x00" + b"\x11\x00" + table_index + b"\x41\x2a\x6b\x0b"
    answer = b"\x00\x41\x2a\x0b"
    elem = b"\x00\x41\x00\x0b" + vec([uleb(1)])
    return module([FUNC_I32], [0, 0], [run_body, answer], [("run", 0, 0)], table=1,
                  elems=[elem])


@pytest.mark.parametrize("encoding", [b"\x00", b"\x80\x00", b"\x80\x80\x80\x80\x00"],
                         ids=["plain", "padded", "padded-5-bytes"])
def test_call_indirect_table_index_is_a_full_leb(encoding):
    # LLVM 19+ / Rust 1.82+ write table 0 as 0x80 0x00
    with extism.Plugin(padded_call_indirect(encoding)) as plugin:
        run(plugin, "run")


def test_call_indirect_to_a_missing_table_fails_cleanly(raw_wasm3):
    refused_by_the_validator(padded_call_indirect(b"\x05"), "table")
    assert "table" in raw_wasm3(padded_call_indirect(b"\x05"))


# ---- br_table with a crafted target count (patch 0006) -------------------------------------------


@pytest.mark.parametrize("count,targets", [(0xFFFFFFFC, 100_000), (0xFFFFFFFF, 10),
                                           (1 << 20, 1000)])
def test_br_table_target_count_larger_than_the_body_is_refused(count, targets, raw_wasm3):
    # block; i32.const 0; br_table <count> 0...; end; i32.const 0; end.  Unpatched, a count of
    # 2^32 - 4 sized the code page for 0 targets and the next 100,000 were written past it.
    body = (b"\x00\x02\x40\x41\x00\x0e" + uleb(count) + b"\x00" * targets +
            b"\x0b\x41\x00\x0b")
    wasm_ = module([FUNC_I32], [0], [body], [("run", 0, 0)])
    refused_by_the_validator(wasm_, "br_table|unexpected end|section")
    assert raw_wasm3(wasm_).startswith(("parse:", "load:", "call:"))


def test_br_table_with_many_targets_works():
    n = 5000
    # block; block; i32.const 1; br_table [1]*n 0; end (inner: rc 7); end (outer: rc 0)
    inner = b"\x02\x40\x02\x40\x41\x01\x0e" + uleb(n) + b"\x01" * n + b"\x00" + b"\x0b"
    body = b"\x00" + inner + b"\x41\x07\x0f\x0b\x41\x00\x0b"
    with extism.Plugin(module([FUNC_I32], [0], [body], [("run", 0, 0)])) as plugin:
        run(plugin, "run")


# ---- the native stack guard (patch 0003) ---------------------------------------------------------


@pytest.mark.parametrize("stack_size", STACKS)
def test_unbounded_recursion_traps(stack_size):
    def go() -> object:
        with extism.Plugin(wasm("edge")) as plugin:
            try:
                plugin.call("recurse")
            except extism.Trap as exc:
                return exc.reason, plugin.call("output_interior")
        return "returned"

    assert on_stack(go, stack_size) == ("stack overflow", b"op")


def nested_blocks(depth: int) -> bytes:
    body = b"\x00" + b"\x02\x40" * depth + b"\x0b" * depth + b"\x41\x00\x0b"
    return module([FUNC_I32], [0], [body], [("run", 0, 0)])


# limits of wasm3's compiler: the compiled tier compiles these modules (and runs them)
WASM3_ONLY = pytest.mark.skipif(os.environ.get("EXTISM_NATIVE_TIER") == "native",
                                reason="a limit of wasm3's compiler; the compiled tier has none")


@WASM3_ONLY
@pytest.mark.parametrize("stack_size", STACKS)
def test_deeply_nested_blocks_do_not_overflow_the_compiler(stack_size):
    def go() -> object:
        with extism.Plugin(nested_blocks(200_000)) as plugin:
            try:
                run(plugin, "run")
            except extism.ExtismError as exc:
                return str(exc)
        return "compiled"

    result = on_stack(go, stack_size)
    assert isinstance(result, str) and "stack overflow" in result


def test_moderately_nested_blocks_compile():
    with extism.Plugin(nested_blocks(500)) as plugin:
        run(plugin, "run")


# ---- memory.grow (patch 0002) --------------------------------------------------------------------


@pytest.mark.parametrize("delta", [-1, -65536, 0x7FFFFFFF, 70000, 65536])
def test_memory_grow_with_a_negative_or_huge_delta_fails_and_never_shrinks(delta):
    # run(): r = memory.grow(delta); rc = (r != -1) * 1 + (memory.size != 2) * 2
    grow = b"\x41" + sleb(delta) + b"\x40\x00"
    body = (b"\x00" + grow + b"\x41\x7f\x47" + b"\x3f\x00\x41\x02\x47\x41\x01\x74\x72\x0b")
    with extism.Plugin(module([FUNC_I32], [0], [body], [("run", 0, 0)], memory=2)) as plugin:
        run(plugin, "run")


def sleb(n: int) -> bytes:
    """Signed LEB128."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def test_memory_grow_minus_one_through_a_plugin(request):
    edge = extism.Plugin(wasm("edge"))
    request.addfinalizer(edge.close)
    assert u64s(edge.call("grow_neg")) == [-1]
    assert u64s(edge.call("mem_size")) == [1]


# ---- immutable globals (patch 0007; the compiler already refused global.set) ---------------------


def test_global_set_on_an_immutable_global_does_not_compile(raw_wasm3):
    g = b"\x7f\x00\x41\x05\x0b"  # immutable i32 = 5
    body = b"\x00\x41\x07\x24\x00\x23\x00\x0b"  # global.set 0 (7); global.get 0
    wasm_ = module([FUNC_I32], [0], [body], [("run", 0, 0)], globals_=[g])
    refused_by_the_validator(wasm_, "immutable")
    assert "immutable" in raw_wasm3(wasm_)


# ---- parallel plugins (patch 0008: no mutable static state in wasm3) ------------------------------


def test_hammer_separate_plugins_on_many_threads():
    """N threads x M calls, each thread on plugins of its own running varied code: compiling
    (code pages), traps, memory growth, indirect calls, the kernel."""
    threads, rounds = 6, 40
    errors: List[str] = []

    def worker(k: int) -> None:
        try:
            for i in range(rounds):
                with extism.Plugin(wasm("kitchen")) as kitchen, \
                        extism.Plugin(padded_call_indirect(b"\x80\x00")) as indirect, \
                        extism.Plugin(wasm("edge")) as edge:
                    text = f"thread {k} round {i} aeiou".encode()
                    if b'"count":' not in kitchen.call("count_vowels", text):
                        errors.append("count_vowels")
                    run(indirect, "run")
                    try:
                        edge.call("recurse" if i % 2 else "div0")
                        errors.append("no trap")
                    except extism.Trap:
                        pass
                    if u64s(edge.call("grow_one")) != [1]:
                        errors.append("grow")
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []


# ---- post-MVP features (patches 0010, 0011; sign-ext, sat-trunc, multi-value, bulk memory) -------


@pytest.fixture(scope="module")
def features():
    with extism.Plugin(wasm("engine_features")) as plugin:
        yield plugin


@pytest.mark.parametrize("fn", ["tables", "multi_value", "numeric", "bulk_memory", "nan_bits"])
def test_post_mvp_features(features, fn):
    run(features, fn)


@pytest.mark.parametrize("fn,reason", [("null_slot", "null table element"),
                                       ("table_oob", "out of bounds table access"),
                                       ("dropped_data", "out of bounds memory access"),
                                       ("dropped_elem", "out of bounds table access")])
def test_table_traps(fn, reason):
    with extism.Plugin(wasm("engine_features")) as plugin:
        with pytest.raises(extism.Trap, match=reason):
            run(plugin, fn)


# ---- stack bookkeeping in unreachable code (patch 0015) ------------------------------------------


@pytest.mark.parametrize("fn", ["block_params", "loop_br_if", "return_in_dead_block",
                                "loop_branch"])
def test_unreachable_code_compiles(fn):
    # each of these valid functions was refused or corrupted the compiler's slot table
    with extism.Plugin(wasm("engine_unreachable")) as plugin:
        run(plugin, fn)


# ---- LEB128 strictness (patch 0018) ---------------------------------------------------------------


def test_padded_leb_constants_are_read_exactly():
    # i32.const -2^31 written in 5 bytes (last byte repeats the sign) equals its minimal form
    body = b"\x00\x41\x80\x80\x80\x80\x78\x41\x80\x80\x80\x80\x78\x47\x0b"
    with extism.Plugin(module([FUNC_I32], [0], [body], [("run", 0, 0)])) as plugin:
        run(plugin, "run")


def test_out_of_range_leb_is_malformed(raw_wasm3):
    # the fifth byte of an i32 sets bits that do not repeat the sign: malformed, not a number
    body = b"\x00\x41\x80\x80\x80\x80\x70\x0b"
    wasm_ = module([FUNC_I32], [0], [body], [("run", 0, 0)])
    refused_by_the_validator(wasm_, "integer")
    assert "LEB" in raw_wasm3(wasm_)


# ---- select in unreachable code (patch 0020) ------------------------------------------------------


def dead_code(sequence: bytes) -> bytes:
    """run() = block; br 0; <sequence>; end; i32.const 0: the sequence is unreachable code."""
    body = b"\x00\x02\x40\x0c\x00" + sequence + b"\x0b\x41\x00\x0b"
    return module([FUNC_I32], [0], [body], [("run", 0, 0)])


@pytest.mark.parametrize("sequence", [
    # found by fuzz_plugin_new in a kitchen.wasm mutant: select with only the condition on the
    # stack; wasm3 refused the next operator ("no operation found for opcode")
    pytest.param(b"\x46\x1b\x6a\x1a", id="i32.eq-select-i32.add"),
    pytest.param(b"\x46\x1c\x01\x7f\x6a\x1a", id="typed-select"),
    pytest.param(b"\x1b\x1b\x6a\x1a", id="select-select-i32.add"),
    pytest.param(b"\x43\x00\x00\x80\x3f\x41\x01\x1b\x43\x00\x00\x80\x3f\x92\x1a",
                 id="f32-select-f32.add"),
])
def test_select_in_unreachable_code_compiles(sequence, raw_wasm3):
    wasm_ = dead_code(sequence)
    with extism.Plugin(wasm_) as plugin:  # valid wasm: the validator accepts it
        run(plugin, "run")
    assert raw_wasm3(wasm_) == "ok 0"


def test_select_in_unreachable_code_leaves_an_outer_blocks_value_alone():
    # f32.const 1 + f32.const 2 (a register), then a block (result f32) whose unreachable
    # select has no operand of its own but the condition; its f32.const 3 ends it by br 0:
    # (1 + 2) + 3 must be 6
    f32 = {1: b"\x00\x00\x80\x3f", 2: b"\x00\x00\x00\x40", 3: b"\x00\x00\x40\x40",
           6: b"\x00\x00\xc0\x40"}
    body = (b"\x00\x43" + f32[1] + b"\x43" + f32[2] + b"\x92"
            b"\x02\x7d\x43" + f32[3] + b"\x0c\x00\x41\x01\x1b\x0b"
            b"\x92\x43" + f32[6] + b"\x5c\x0b")  # f32.add; f32.ne 6: 0 when right
    with extism.Plugin(module([FUNC_I32], [0], [body], [("run", 0, 0)])) as plugin:
        run(plugin, "run")


# ---- a function that wasm3 cannot compile (patch 0019; csrc/runtime/plugin.c is_engine_error) ----------


def uncompilable_callee() -> bytes:
    """big() has 7,990 locals and pushes 20 operands: valid wasm, within what the interpreter
    checks at load (8,000 parameters and locals) but beyond wasm3's stack height limit (8,000
    entries), so its lazy compilation fails when run() first calls it.  bump() returns a mutable
    global and increments it (0 on fresh instances, then a non-zero code); trap() traps."""
    big = uleb(1) + uleb(7990) + b"\x7f" + b"\x41\x00" * 20 + b"\x1a" * 19 + b"\x0b"
    run_ = b"\x00\x10\x00\x0b"  # call big
    bump = b"\x00\x23\x00\x23\x00\x41\x01\x6a\x24\x00\x0b"
    trap = b"\x00\x00\x0b"
    g = b"\x7f\x01\x41\x00\x0b"  # mutable i32 = 0
    return module([FUNC_I32], [0, 0, 0, 0], [big, run_, bump, trap],
                  [("run", 0, 1), ("bump", 0, 2), ("trap", 0, 3)], globals_=[g])


def test_a_call_site_whose_callee_fails_to_compile_fails_again_cleanly(raw_wasm3):
    # unpatched, the first call rewrote the call site to a direct call of the callee's
    # IM3Function, not code: the second call jumped into the heap
    lines = raw_wasm3(uncompilable_callee(), times=3).splitlines()
    assert len(lines) == 3 and all("stack height" in line for line in lines), lines


@WASM3_ONLY
def test_an_engine_error_re_instantiates_the_plugin_a_trap_does_not():
    with extism.Plugin(uncompilable_callee()) as plugin:
        plugin.call("bump")  # 0: fresh instances
        with pytest.raises(extism.Error, match="code 1"):
            plugin.call("bump")  # the instance keeps its state across calls...
        with pytest.raises(extism.Trap, match="unreachable"):
            plugin.call("trap")
        with pytest.raises(extism.Error, match="code 2"):
            plugin.call("bump")  # ... and across a trap of the guest
        for _ in range(2):
            with pytest.raises(extism.Error, match="cannot compile a function called by function "
                                                   "1: the interpreter keeps at most 8000"):
                plugin.call("run")  # wasm3 failed: the next call starts from fresh instances
            plugin.call("bump")
