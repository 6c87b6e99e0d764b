"""Modules the official runtime accepts are accepted here too, within real limits; where a limit
remains, the error names it, at load (issue 14 items 9, 10, 11).  Each test failed before its
fix: the validator refused `br_table` to labels of different types after `unreachable`; wasm3
refused a 0xFC sub-opcode written as a multi-byte LEB128; a malformed "name" section failed the
module; an import name with a NUL was "malformed"; a type of 1,000 parameters and a result was
"too many arguments or return values"; a function past wasm3's count was "invalid wasm"; a
65,536-page memory could not be made and a memory larger than max_pages was refused when the
plugin was compiled, not when it was instantiated; 50,000 locals loaded and failed at the first
call.  Modules are built with the encoder of test_validate.py."""

from __future__ import annotations

import sys

import pytest

import extism_native as extism
from test_validate import (END, I32, I64, body, build, custom, exp, functype, imp, limits, u,
                           validate)
from extism_native._native import lib

NOOP = body(END)


def one_function(code: bytes, *local_groups, results=(), **sections) -> bytes:
    """A module exporting function 0, "f" (() -> results), with `code`."""
    return build(types=[functype([], results)], funcs=[u(0)], exports=[exp("f", 0, 0)],
                 codes=[body(code, *local_groups)], **sections)


# ---- item 9: the validator -------------------------------------------------------------------

def test_br_table_to_labels_of_different_types_after_unreachable_runs():
    """unreached-valid.wast line 49: (block f64 (block f32 unreachable (br_table 0 1 1 ...)))"""
    code = (b"\x02\x7c\x02\x7d\x00\x41\x01\x0e\x02\x00\x01\x01" + END + b"\x1a\x44" + bytes(8) +
            END + b"\x1a" + END)
    wasm = one_function(code)
    assert validate(wasm)[0] == lib.EXN_OK
    with extism.Plugin(wasm) as plugin:
        with pytest.raises(extism.Trap, match="unreachable"):
            plugin.call("f")


# ---- item 10: a prefixed instruction's sub-opcode is a LEB128 --------------------------------

@pytest.mark.parametrize("encoding", [b"\x8b\x00", b"\x8b\x80\x00", b"\x8b\x80\x80\x80\x00"])
def test_a_padded_0xfc_sub_opcode_runs(encoding):
    """binary-leb128.wast line 967: memory.fill (0xFC 11) with its sub-opcode padded; the
    function then returns byte 5 - 7 (0 when the fill happened)."""
    code = (b"\x41\x00\x41\x07\x41\x0a"      # memory.fill(dst 0, byte 7, len 10)
            b"\xfc" + encoding + b"\x00"
            b"\x41\x05\x2d\x00\x00"          # i32.load8_u(5)
            b"\x41\x07\x6b" + END)           # - 7
    wasm = one_function(code, results=[I32], mems=[limits(1)])
    with extism.Plugin(wasm) as plugin:
        assert plugin.call("f") == b""


# ---- item 11: what the official runtime accepts ----------------------------------------------

def test_a_malformed_name_section_is_ignored():
    wasm = one_function(END, tail=custom("name", b"\x01\xff\xff\xff\x0f\x00"))
    with extism.Plugin(wasm) as plugin:
        assert plugin.call("f") == b""


def test_an_import_name_with_a_nul_loads_and_only_fails_to_link():
    wasm = build(types=[functype()], imports=[imp("env", "a\0b", 0, u(0))], funcs=[u(0)],
                 exports=[exp("f", 0, 1)], codes=[NOOP])
    assert validate(wasm)[0] == lib.EXN_OK
    with pytest.raises(extism.LinkError, match=r"unresolved imports: env::a\\0b"):
        extism.Plugin(wasm)


@pytest.mark.parametrize("params, results", [(1000, 1), (1000, 1000), (1, 1000)])
def test_a_thousand_parameters_and_a_thousand_results(params, results):
    """The JS API's limits (1,000 each), which the official runtime follows."""
    callee = body(b"\x41\x00" * results + END)
    caller = body(b"\x42\x00" * params + b"\x10\x00" + b"\x1a" * results + END)
    wasm = build(types=[functype([I64] * params, [I32] * results), functype()],
                 funcs=[u(0), u(1)], exports=[exp("f", 0, 1)], codes=[callee, caller])
    with extism.Plugin(wasm) as plugin:
        assert plugin.call("f") == b""


# The limits of the interpreter are tested on the interpreter (tier="interp") whatever
# EXTISM_NATIVE_TIER says: the compiled tier has others (a C compiler takes minutes for 100,000
# functions, and it has no fixed count of locals).


def test_a_hundred_thousand_functions():
    n = 100_000
    wasm = build(types=[functype()], funcs=[u(0)] * n, exports=[exp("f", 0, n - 1)],
                 codes=[NOOP] * n)
    with extism.Plugin(wasm, tier="interp") as plugin:
        assert plugin.call("f") == b""


def test_past_the_interpreters_function_count_the_error_names_the_limit():
    n = 100_001
    wasm = build(types=[functype()], funcs=[u(0)] * n, exports=[exp("f", 0, 0)],
                 codes=[NOOP] * n)
    assert validate(wasm)[0] == lib.EXN_OK  # valid wasm: a limit of the interpreter
    with pytest.raises(extism.UnsupportedError,
                       match="100001 functions: the interpreter supports at most 100000"):
        extism.Plugin(wasm, tier="interp")


@pytest.mark.skipif(sys.maxsize < 2**32, reason="a 4 GiB memory needs a 64-bit address space")
def test_a_65536_page_memory_is_made():
    code = (b"\x41\x7f\x41\x2a\x3a\x00\x00"  # i32.store8(-1 = the last byte, 42)
            b"\x41\x7f\x2d\x00\x00\x41\x2a\x6b"  # i32.load8_u(-1) - 42
            b"\x3f\x00\x41\x80\x80\x04\x6b\x72" + END)  # | memory.size - 65536
    wasm = one_function(code, results=[I32], mems=[limits(65536)])
    with extism.Plugin(wasm) as plugin:
        assert plugin.call("f") == b""


def test_a_memory_larger_than_max_pages_fails_at_instantiation():
    wasm = one_function(END, mems=[limits(65536)])
    manifest = {"wasm": [{"data": wasm}], "memory": {"max_pages": 16}}
    compiled = extism.CompiledPlugin(manifest)  # compiling is fine
    with pytest.raises(extism.PluginLoadError,
                       match="needs 65536 pages of memory at start but memory.max_pages is 16"):
        extism.Plugin(compiled)


@pytest.mark.parametrize("n, ty", [(50_000, I32), (8_000, I64)])
def test_too_many_locals_fail_at_load_naming_the_limit(n, ty):
    wasm = one_function(END, (n, ty))
    assert validate(wasm)[0] == lib.EXN_OK
    with pytest.raises(extism.UnsupportedError,
                       match="function 0 has %d parameters and locals .* the interpreter "
                             "supports at most 8000" % n):
        extism.Plugin(wasm, tier="interp")


def test_as_many_locals_as_the_interpreter_takes_run():
    with extism.Plugin(one_function(END, (8_000, I32)), tier="interp") as plugin:
        assert plugin.call("f") == b""
    with extism.Plugin(one_function(END, (7_999, I64)), tier="interp") as plugin:
        assert plugin.call("f") == b""


def test_a_function_the_interpreter_cannot_compile_says_why_at_its_first_call():
    """Within the load-time limit, the operands can still overflow the compiler's stack."""
    code = b"\x41\x00" * 20 + b"\x1a" * 20 + END
    with extism.Plugin(one_function(code, (7_990, I32)), tier="interp") as plugin:
        with pytest.raises(extism.Error, match="cannot compile function 0: the interpreter "
                                               "keeps at most 8000 parameters, locals and "
                                               "operands per function"):
            plugin.call("f")
