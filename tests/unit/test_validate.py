"""The WebAssembly 2.0 validator (csrc/validate/validate*.c): for each rule, a minimal module breaking it
is refused with a message naming the function or section, the byte offset and the reason; valid
modules - every committed plugin, the benchmark plugin, and small modules using each 2.0
feature - pass.  Modules are built as bytes by the small encoder below (wat2wasm refuses most
invalid modules), so these tests need no wabt.

Rejections go through plugin creation, the path users take.  Acceptance is checked with
exn_module_validate, the same check without wasm3 behind it (wasm3 0.5.0 cannot run every
valid 2.0 module, e.g. reference types; that is not the validator's business)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable, Optional, Sequence, Tuple

import pytest

import extism_native as extism
from conftest import PLUGINS
from extism_native._native import ffi, lib

ROOT = Path(__file__).resolve().parents[2]

I32, I64, F32, F64, V128, FUNCREF, EXTERNREF = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F
END = b"\x0b"


# ---- a tiny encoder of the binary format ------------------------------------------------------

def u(n: int) -> bytes:
    """Unsigned LEB128."""
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(n: int) -> bytes:
    """Signed LEB128."""
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        done = (n == 0 and not b & 0x40) or (n == -1 and b & 0x40)
        out.append(b if done else b | 0x80)
        if done:
            return bytes(out)


def vec(items: Iterable[bytes]) -> bytes:
    items = list(items)
    return u(len(items)) + b"".join(items)


def name(text: "str | bytes") -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return u(len(data)) + data


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + u(len(payload)) + payload


def functype(params: Sequence[int] = (), results: Sequence[int] = ()) -> bytes:
    return b"\x60" + vec(bytes([t]) for t in params) + vec(bytes([t]) for t in results)


def limits(minimum: int, maximum: Optional[int] = None) -> bytes:
    return b"\x00" + u(minimum) if maximum is None else b"\x01" + u(minimum) + u(maximum)


def body(code: bytes, *local_groups: Tuple[int, int]) -> bytes:
    """A code section entry: local declarations (count, type), then code (with its end)."""
    content = vec(u(n) + bytes([t]) for n, t in local_groups) + code
    return u(len(content)) + content


def custom(title: "str | bytes", payload: bytes = b"") -> bytes:
    return section(0, name(title) + payload)


def func_names(*pairs: Tuple[int, str]) -> bytes:
    """A "name" section with function names."""
    sub = vec(u(i) + name(n) for i, n in pairs)
    return custom("name", b"\x01" + u(len(sub)) + sub)


def build(*, types=(), imports=(), funcs=(), tables=(), mems=(), globals_=(), exports=(),
          start=None, elems=(), datacount=None, codes=None, datas=None, tail=b"") -> bytes:
    """A module from its sections' entries (each already encoded); empty sections are left out."""
    out = b"\0asm\x01\0\0\0"
    for sid, entries in ((1, types), (2, imports), (3, funcs), (4, tables), (5, mems),
                         (6, globals_), (7, exports)):
        if entries:
            out += section(sid, vec(entries))
    if start is not None:
        out += section(8, u(start))
    if elems:
        out += section(9, vec(elems))
    if datacount is not None:
        out += section(12, u(datacount))
    if codes is not None:
        out += section(10, vec(codes))
    if datas is not None:
        out += section(11, vec(datas))
    return out + tail


def fn(code: bytes, params=(), results=(), local_groups=(), types=(), funcs=(),
       **sections) -> bytes:
    """A module whose function 0 (type 0: params -> results) has `code`; `types` are added as
    types 1.., `funcs` (type indices) as functions 1.. with the body `unreachable end`."""
    return build(types=[functype(params, results), *types], funcs=[u(0), *(u(t) for t in funcs)],
                 codes=[body(code, *local_groups)] + [body(b"\x00" + END)] * len(funcs),
                 **sections)


def imp(module: str, field: str, kind: int, desc: bytes) -> bytes:
    return name(module) + name(field) + bytes([kind]) + desc


def exp(field: "str | bytes", kind: int, index: int) -> bytes:
    return name(field) + bytes([kind]) + u(index)


def glob(t: int, mutable: bool, init: bytes) -> bytes:
    return bytes([t, int(mutable)]) + init + END


MEM1 = [limits(1)]
FUNCREF_TABLE = [bytes([FUNCREF]) + limits(1)]


def validate(wasm: bytes) -> Tuple[int, str]:
    """exn_module_validate: (status, message)."""
    buf = ffi.new("char[512]")
    st = lib.exn_module_validate(wasm, len(wasm), buf, len(buf))
    return st, ffi.string(buf).decode()


def rejected(wasm: bytes, *fragments: str, cls=extism.InvalidModuleError) -> str:
    """Plugin creation fails with `cls`, the message containing every fragment."""
    with pytest.raises(cls) as info:
        extism.Plugin(wasm)
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, msg
    status = lib.EXN_ERR_UNSUPPORTED if cls is extism.UnsupportedError else lib.EXN_ERR_LOAD
    assert validate(wasm)[0] == status
    return msg


def accepted(wasm: bytes) -> None:
    st, msg = validate(wasm)
    assert st == lib.EXN_OK, msg


def at(wasm: bytes, code: bytes, k: int = 0) -> str:
    """'at offset 0x..' of byte k of `code`, found (last occurrence) in the module."""
    return f"at offset {wasm.rindex(code) + k:#x}:"


# ---- messages: context first, then the cause ---------------------------------------------------

def test_message_names_function_offset_and_reason():
    code = b"\x41\x01\x42\x02\x6a\x1a" + END  # i32.const 1, i64.const 2, i32.add, drop
    wasm = fn(code)
    rejected(wasm, f"function 0 {at(wasm, code, 4)} type mismatch in i32.add: expected i32, "
                   "found i64")


def test_message_uses_the_name_section_and_counts_imports():
    code = b"\x42\x02\x6a\x1a" + END
    wasm = build(types=[functype()], imports=[imp("env", "f", 0, u(0))], funcs=[u(0)],
                 codes=[body(code)], tail=func_names((0, "imported"), (1, "adder")))
    rejected(wasm, f"function 1 ($adder) {at(wasm, code, 2)} type mismatch in i32.add: "
                   "expected i32, found i64")


def test_a_malformed_name_section_is_no_error():
    garbage = custom("name", b"\x01\xff\xff\xff\xff\x0f\x00")
    accepted(fn(END, tail=garbage))
    accepted(fn(END, tail=custom("name", b"\x01\x03\x05\x00\x00")))
    msg = rejected(fn(b"\x6a" + END, tail=garbage), "function 0 at offset")
    assert "$" not in msg


def test_names_are_printable_and_short():
    msg = rejected(fn(b"\x6a" + END, tail=func_names((0, "a\x01b" + "é" * 80))))
    assert "($a?b" in msg and "...)" in msg


def test_section_errors_name_the_section():
    wasm = build(types=[functype()], funcs=[u(5)], codes=[body(END)])
    where = wasm.index(bytes([3, 2, 1, 5])) + 3
    rejected(wasm, f"section 3 (function) at offset {where:#x}: unknown type 5 for function 0")


# ---- the binary format: malformed modules ------------------------------------------------------

HEADER = b"\0asm\x01\0\0\0"

MALFORMED = {
    "truncated header": (b"\0asm\x01", "truncated WebAssembly module"),
    "version 2": (b"\0asm\x02\0\0\0", "unsupported WebAssembly binary version"),
    "section id 14": (HEADER + b"\x0e\x00", "at offset 0x8: malformed section id 14"),
    "section past the end": (HEADER + b"\x01\x05\x00", "section 1 (type) at offset 0x8: "
                                                       "unexpected end"),
    "section out of order": (HEADER + section(3, vec([])) + section(1, vec([])),
                             "section 1 (type) at offset 0xb: unexpected content: section out "
                             "of order or repeated"),
    "section repeated": (HEADER + section(1, vec([])) * 2, "out of order or repeated"),
    "data count after code": (HEADER + section(10, vec([])) + section(12, u(0)),
                              "section 12 (data count)"),
    "section bytes left over": (HEADER + section(1, vec([]) + b"\x00"),
                                "section 1 (type) at offset 0xb: section size mismatch: 1 bytes "
                                "left over"),
    "section size LEB too long": (HEADER + b"\x01\x80\x80\x80\x80\x80\x00",
                                  "integer representation too long"),
    "count LEB unused bits": (HEADER + b"\x03\x05\x80\x80\x80\x80\x10", "integer too large"),
    "count past the section": (HEADER + section(3, u(1000)), "unexpected end"),
    "function type form": (HEADER + section(1, vec([b"\x61\x00\x00"])),
                           "malformed function type: form 0x61"),
    "value type": (HEADER + section(1, vec([b"\x60\x01\x40\x00"])),
                   "section 1 (type) at offset 0xd: malformed value type 0x40"),
    "import kind": (build(imports=[imp("a", "b", 5, b"")]), "malformed import kind 5"),
    "import name UTF-8": (build(imports=[name(b"\xc0\x80") + name("b") + b"\x02" + limits(0)]),
                          "malformed UTF-8 encoding"),
    "export name UTF-8": (build(mems=MEM1, exports=[name(b"\xed\xa0\x80") + b"\x02\x00"]),
                          "malformed UTF-8 encoding"),
    "custom section name UTF-8": (HEADER + section(0, name(b"\xff")), "section 0 (custom) at "
                                                                      "offset 0x"),
    "custom section name past the end": (HEADER + section(0, b"\x05ab"), "unexpected end"),
    "mutability": (build(globals_=[bytes([I32, 2]) + b"\x41\x00" + END]),
                   "malformed mutability 0x02"),
    "limits flags": (build(mems=[b"\x08\x00"]), "malformed limits flags 0x08"),
    "export kind": (build(exports=[exp("x", 4 + 1, 0)]), "malformed export kind 5"),
    "element segment kind": (build(elems=[u(8) + vec([])]), "malformed element segment kind 8"),
    "element kind": (build(types=[functype()], funcs=[u(0)], elems=[u(1) + b"\x01" + vec([])],
                           codes=[body(END)]), "malformed element kind 0x01"),
    "data segment kind": (build(mems=MEM1, datas=[u(3) + name("")]),
                          "malformed data segment kind 3"),
    "functions without code": (build(types=[functype()], funcs=[u(0)]),
                               "section 3 (function) at offset 0x10: function and code section "
                               "have inconsistent lengths (1 functions, no code section)"),
    "more bodies than functions": (build(types=[functype()], funcs=[u(0)],
                                         codes=[body(END)] * 2),
                                   "function and code section have inconsistent lengths (1 "
                                   "functions, 2 bodies)"),
    "data count without data": (build(mems=MEM1, datacount=1),
                                "data count and data section have inconsistent lengths"),
    "data count differs": (build(mems=MEM1, datacount=2, datas=[u(1) + name("")]),
                           "data count and data section have inconsistent lengths (2 and 1)"),
    "too many locals": (fn(END, local_groups=[(0xFFFFFFFF, I32), (1, I64)]), "too many locals"),
    "local count LEB too large": (build(types=[functype()], funcs=[u(0)],
                                        codes=[u(8) + b"\x01\x80\x80\x80\x80\x10\x7f" + END]),
                                  "integer too large"),
    "body without end": (fn(b"\x01"), "unexpected end of the function body (no end "
                                      "instruction)"),
    "operators after the end": (fn(END + b"\x01"), "operators remaining after the end of the "
                                                   "function"),
    "body past the section": (build(types=[functype()], funcs=[u(0)],
                                    codes=[u(9) + b"\x00\x0b"]), "unexpected end"),
    "illegal opcode": (fn(b"\xff" + END), "illegal opcode 0xff"),
    "illegal 0xfc opcode": (fn(b"\xfc\x63" + END), "illegal opcode 0xfc 99"),
    "memory.size reserved byte": (fn(b"\x3f\x01\x1a" + END, mems=MEM1),
                                  "zero byte expected in memory.size"),
    "memory.grow long zero": (fn(b"\x41\x00\x40\x80\x00\x1a" + END, mems=MEM1),
                              "zero byte expected in memory.grow"),
    "memory.fill reserved byte": (fn(b"\x41\x00" * 3 + b"\xfc\x0b\x01" + END, mems=MEM1),
                                  "zero byte expected in memory.fill"),
    "i32.const unused bits": (fn(b"\x41\x80\x80\x80\x80\x70\x1a" + END), "integer too large"),
    "i32.const too long": (fn(b"\x41\xff\xff\xff\xff\xff\x7f\x1a" + END),
                           "integer representation too long"),
    "i64.const unused bits": (fn(b"\x42" + b"\x80" * 9 + b"\x02\x1a" + END),
                              "integer too large"),
    "f64.const truncated": (fn(b"\x44\x00\x00"), "unexpected end"),
    "block type negative index": (fn(b"\x02\xc0\x7f" + END + END), "malformed block type"),
    "block value type": (fn(b"\x02\x7a" + END + END), "malformed value type 0x7a"),
    "memory.init without data count": (fn(b"\x41\x00" * 3 + b"\xfc\x08\x00\x00" + END,
                                          mems=MEM1, datas=[u(1) + name("x")]),
                                       "data count section required for memory.init"),
    "data.drop without data count": (fn(b"\xfc\x09\x00" + END, mems=MEM1,
                                        datas=[u(1) + name("x")]),
                                     "data count section required for data.drop"),
    "ref.null type": (fn(b"\xd0\x7f\x1a" + END), "malformed reference type 0x7f in ref.null"),
    "table element type": (build(tables=[bytes([I32]) + limits(0)]),
                           "malformed reference type 0x7f"),
}


def test_not_wasm():
    assert validate(b"\x7fELF\x02\x01\x01\x00") == (lib.EXN_ERR_LOAD, "not a WebAssembly "
                                                                       "module (no \\0asm header)")
    with pytest.raises(extism.ManifestError):  # what is not wasm is taken for a manifest
        extism.Plugin(b"\x7fELF\x02\x01\x01\x00")


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed(case):
    wasm, fragment = MALFORMED[case]
    rejected(wasm, fragment)


# ---- validation: invalid modules ---------------------------------------------------------------

def table(t: int = FUNCREF, minimum: int = 1) -> bytes:
    return bytes([t]) + limits(minimum)


INVALID = {
    # operand stack
    "operand missing": (fn(b"\x41\x01\x6a\x1a" + END), "type mismatch in i32.add: expected i32, "
                                                       "found nothing"),
    "value left over": (fn(b"\x41\x01" + END), "type mismatch in end: 1 value too many on the "
                                               "stack at the end of the function"),
    "wrong result": (fn(b"\x42\x00" + END, results=[I32]), "type mismatch in end: expected i32, "
                                                           "found i64"),
    "missing result": (fn(END, results=[I32]), "expected i32, found nothing"),
    "unary operand": (fn(b"\x43\x00\x00\x00\x00\x45\x1a" + END),
                      "type mismatch in i32.eqz: expected i32, found f32"),
    "conversion operand": (fn(b"\x41\x00\xa7\x1a" + END),
                           "type mismatch in i32.wrap_i64: expected i64, found i32"),
    "trunc_sat operand": (fn(b"\x41\x00\xfc\x00\x1a" + END),
                          "type mismatch in i32.trunc_sat_f32_s: expected f32, found i32"),
    "sign extension operand": (fn(b"\x41\x00\xc2\x1a" + END),
                               "type mismatch in i64.extend8_s: expected i64, found i32"),
    "drop nothing": (fn(b"\x1a" + END), "type mismatch in drop: expected a value, found nothing"),
    # blocks
    "block leaves a value": (fn(b"\x02\x40\x41\x00" + END + END),
                             "1 value too many on the stack at the end of the block"),
    "block result": (fn(b"\x02\x7f\x42\x00" + END + b"\x1a" + END),
                     "type mismatch in end: expected i32, found i64"),
    "block cannot see outer values": (fn(b"\x41\x00\x02\x7f" + END + b"\x1a\x1a" + END),
                                      "expected i32, found nothing"),
    "block param": (fn(b"\x42\x00\x02\x01" + END + END, types=[functype([I32], [])]),
                    "type mismatch in block: expected i32, found i64"),
    "block unknown type": (fn(b"\x02\x05" + END + END), "unknown type 5"),
    "loop result": (fn(b"\x03\x7e\x41\x00" + END + b"\x1a" + END), "expected i64, found i32"),
    "if condition": (fn(b"\x42\x00\x04\x40" + END + END), "type mismatch in if: expected i32, "
                                                          "found i64"),
    "if without else changes types": (fn(b"\x41\x00\x04\x7f\x41\x01" + END + b"\x1a" + END),
                                      "without an else, its block type must leave the stack "
                                      "unchanged"),
    "else branch result": (fn(b"\x41\x00\x04\x7f\x41\x01\x05\x42\x01" + END + b"\x1a" + END),
                           "type mismatch in end: expected i32, found i64"),
    "then branch result": (fn(b"\x41\x00\x04\x7f\x05\x41\x01" + END + b"\x1a" + END),
                           "type mismatch in else: expected i32, found nothing"),
    "else without if": (fn(b"\x02\x40\x05" + END + END), "else without a matching if"),
    # branches
    "br unknown label": (fn(b"\x0c\x01" + END), "unknown label 1"),
    "br carries the wrong type": (fn(b"\x02\x7f\x42\x00\x0c\x00" + END + b"\x1a" + END),
                                  "type mismatch in br: expected i32, found i64"),
    "br to a loop carries its params": (fn(b"\x41\x00\x03\x01\x1a\x0c\x00" + END + END,
                                           types=[functype([I32], [])]),
                                        "type mismatch in br: expected i32, found nothing"),
    "br_if condition": (fn(b"\x02\x40\x42\x00\x0d\x00" + END + END),
                        "type mismatch in br_if: expected i32, found i64"),
    "br_table index": (fn(b"\x02\x40\x42\x00\x0e\x00\x00" + END + END),
                       "type mismatch in br_table: expected i32, found i64"),
    "br_table unknown label": (fn(b"\x41\x00\x0e\x01\x00\x05" + END),
                               "unknown label 5 in br_table"),
    "br_table arities differ": (fn(b"\x02\x7f\x41\x00\x0e\x01\x00\x01" + END + b"\x1a" + END),
                                "type mismatch in br_table: label 0 takes 1 value, the default "
                                "label 0"),
    "br_table types differ with an operand": (  # the f32 operand cannot be the f64 of label 1
        fn(b"\x02\x7c\x02\x7d\x00\x43" + bytes(4) + b"\x41\x01\x0e\x02\x00\x01\x01" + END +
           b"\x1a\x44" + bytes(8) + END + b"\x1a" + END),
        "type mismatch in br_table: expected f64, found f32"),
    "return value": (fn(b"\x42\x00\x0f" + END, results=[I32]),
                     "type mismatch in return: expected i32, found i64"),
    # unreachable code is typed too
    "unreachable then wrong operand": (fn(b"\x00\x42\x00\x6a\x1a" + END),
                                       "type mismatch in i32.add: expected i32, found i64"),
    "unreachable then wrong result": (fn(b"\x00\x42\x00" + END, results=[I32]),
                                      "expected i32, found i64"),
    "br then too many values": (fn(b"\x02\x40\x0c\x00\x41\x00\x41\x00" + END + END),
                                "2 values too many on the stack at the end of the block"),
    # calls
    "call unknown function": (fn(b"\x10\x03" + END), "unknown function 3 in call"),
    "call argument": (fn(b"\x42\x00\x10\x01" + END, types=[functype([I32])], funcs=[1]),
                      "type mismatch in call: expected i32, found i64"),
    "call result": (fn(b"\x10\x01\x1a" + END, types=[functype([], [])], funcs=[1]),
                    "type mismatch in drop: expected a value, found nothing"),
    "call_indirect without table": (fn(b"\x41\x00\x11\x00\x00" + END),
                                    "unknown table 0 in call_indirect"),
    "call_indirect unknown type": (fn(b"\x41\x00\x11\x07\x00" + END, tables=FUNCREF_TABLE),
                                   "unknown type 7 in call_indirect"),
    "call_indirect externref table": (fn(b"\x41\x00\x11\x00\x00" + END,
                                         tables=[table(EXTERNREF)]),
                                      "table 0 holds externref, not funcref"),
    "call_indirect index": (fn(b"\x42\x00\x11\x00\x00" + END, tables=FUNCREF_TABLE),
                            "type mismatch in call_indirect: expected i32, found i64"),
    # locals and globals
    "unknown local": (fn(b"\x20\x02\x1a" + END, params=[I32], local_groups=[(1, I64)]),
                      "unknown local 2"),
    "local type": (fn(b"\x20\x01\x45\x1a" + END, params=[I32], local_groups=[(1, I64)]),
                   "type mismatch in i32.eqz: expected i32, found i64"),
    "local.set type": (fn(b"\x42\x00\x21\x00" + END, params=[I32]),
                       "type mismatch in local.set: expected i32, found i64"),
    "local.tee type": (fn(b"\x41\x00\x22\x00\x1a" + END, local_groups=[(1, F64)]),
                       "type mismatch in local.tee: expected f64, found i32"),
    "unknown global": (fn(b"\x23\x00\x1a" + END), "unknown global 0 in global.get"),
    "global.set immutable": (fn(b"\x41\x00\x24\x00" + END,
                                globals_=[glob(I32, False, b"\x41\x00")]),
                             "global.set of global 0, which is immutable"),
    "global.set type": (fn(b"\x42\x00\x24\x00" + END, globals_=[glob(I32, True, b"\x41\x00")]),
                        "type mismatch in global.set: expected i32, found i64"),
    # memory
    "load without memory": (fn(b"\x41\x00\x28\x02\x00\x1a" + END),
                            "unknown memory 0 in i32.load"),
    "memory.size without memory": (fn(b"\x3f\x00\x1a" + END), "unknown memory 0 in memory.size"),
    "memory.copy without memory": (fn(b"\x41\x00" * 3 + b"\xfc\x0a\x00\x00" + END),
                                   "unknown memory 0 in memory.copy"),
    "alignment": (fn(b"\x41\x00\x28\x03\x00\x1a" + END, mems=MEM1),
                  "alignment must not be larger than natural in i32.load (2^3 > 4 bytes)"),
    "narrow alignment": (fn(b"\x41\x00\x42\x00\x3d\x02\x00" + END, mems=MEM1),
                         "alignment must not be larger than natural in i64.store16"),
    "store value": (fn(b"\x41\x00\x41\x00\x39\x03\x00" + END, mems=MEM1),
                    "type mismatch in f64.store: expected f64, found i32"),
    "load address": (fn(b"\x42\x00\x29\x03\x00\x1a" + END, mems=MEM1),
                     "type mismatch in i64.load: expected i32, found i64"),
    "memory too large": (build(mems=[limits(65537)]),
                         "memory size must be at most 65536 pages (4 GiB)"),
    "memory max too large": (build(mems=[limits(0, 70000)]), "at most 65536 pages"),
    "memory min above max": (build(mems=[limits(2, 1)]),
                             "size minimum 2 must not be greater than the maximum 1"),
    "table min above max": (build(tables=[bytes([FUNCREF]) + limits(3, 2)]),
                            "size minimum 3 must not be greater than the maximum 2"),
    "unknown data segment": (fn(b"\xfc\x09\x01" + END, mems=MEM1, datacount=1,
                                datas=[u(1) + name("x")]), "unknown data segment 1 in data.drop"),
    "memory.init operands": (fn(b"\x41\x00\x41\x00\x42\x00\xfc\x08\x00\x00" + END, mems=MEM1,
                                datacount=1, datas=[u(1) + name("x")]),
                             "type mismatch in memory.init: expected i32, found i64"),
    # select
    "select operands differ": (fn(b"\x41\x00\x42\x00\x41\x00\x1b\x1a" + END),
                               "type mismatch in select: expected i32, found i64"),
    "select on references": (fn(b"\xd0\x70\xd0\x70\x41\x00\x1b\x1a" + END),
                             "type mismatch in select: funcref operands need select with a "
                             "type"),
    "select after unreachable keeps the known type": (
        fn(b"\x00\x42\x00\x41\x00\x1b\x45\x1a" + END),
        "type mismatch in i32.eqz: expected i32, found i64"),
    "typed select arity": (fn(b"\x41\x00\x41\x00\x41\x00\x1c\x02\x7f\x7f\x1a" + END),
                           "invalid result arity 2 in select"),
    "typed select operand": (fn(b"\xd0\x70\xd0\x6f\x41\x00\x1c\x01\x70\x1a" + END),
                             "type mismatch in select: expected funcref, found externref"),
    # references and tables
    "ref.func undeclared": (fn(b"\xd2\x00\x1a" + END), "undeclared function reference 0 in "
                                                       "ref.func"),
    "ref.func unknown": (fn(b"\xd2\x09\x1a" + END), "unknown function 9 in ref.func"),
    "ref.is_null on a number": (fn(b"\x41\x00\xd1\x1a" + END),
                                "type mismatch in ref.is_null: expected a reference, found i32"),
    "table.get unknown table": (fn(b"\x41\x00\x25\x00\x1a" + END), "unknown table 0 in table.get"),
    "table.set value": (fn(b"\x41\x00\xd0\x70\x26\x00" + END, tables=[table(EXTERNREF)]),
                        "type mismatch in table.set: expected externref, found funcref"),
    "table.grow value": (fn(b"\xd0\x6f\x41\x01\xfc\x0f\x00\x1a" + END, tables=FUNCREF_TABLE),
                         "type mismatch in table.grow: expected funcref, found externref"),
    "table.fill value": (fn(b"\x41\x00\xd0\x6f\x41\x01\xfc\x11\x00" + END, tables=FUNCREF_TABLE),
                         "type mismatch in table.fill: expected funcref, found externref"),
    "table.size unknown table": (fn(b"\xfc\x10\x02\x1a" + END, tables=FUNCREF_TABLE),
                                 "unknown table 2 in table.size"),
    "table.copy types": (fn(b"\x41\x00" * 3 + b"\xfc\x0e\x00\x01" + END,
                            tables=[table(FUNCREF), table(EXTERNREF)]),
                         "type mismatch in table.copy: table 0 holds funcref, table 1 holds "
                         "externref"),
    "table.init types": (fn(b"\x41\x00" * 3 + b"\xfc\x0c\x00\x00" + END, tables=[table(EXTERNREF)],
                            elems=[u(1) + b"\x00" + vec([])]),
                         "type mismatch in table.init: element segment 0 holds funcref, table 0 "
                         "holds externref"),
    "elem.drop unknown segment": (fn(b"\xfc\x0d\x00" + END), "unknown element segment 0 in "
                                                             "elem.drop"),
    # module-level rules
    "duplicate export": (fn(END, exports=[exp("run", 0, 0), exp("run", 0, 0)]),
                         'duplicate export name "run"'),
    "duplicate export of different kinds": (fn(END, mems=MEM1, exports=[exp("x", 2, 0),
                                                                        exp("x", 0, 0)]),
                                            'duplicate export name "x"'),
    "export unknown function": (build(exports=[exp("f", 0, 0)]),
                                "section 7 (export) at offset 0xe: unknown function 0"),
    "export unknown global": (build(exports=[exp("g", 3, 1)]), "unknown global 1"),
    "export unknown memory": (build(exports=[exp("m", 2, 0)]), "unknown memory 0"),
    "export unknown table": (build(exports=[exp("t", 1, 0)]), "unknown table 0"),
    "start unknown function": (build(start=0), "section 8 (start) at offset 0xa: unknown "
                                               "function 0"),
    "start type": (fn(END, params=[I32], start=0),
                   "start function 0 must have type [] -> [], it has 1 parameters and 0 results"),
    "import unknown type": (build(imports=[imp("env", "f", 0, u(3))]), "unknown type 3"),
    "global init type": (build(globals_=[glob(I32, False, b"\x42\x00")]),
                         "type mismatch in constant expression: expected i32, found i64"),
    "global init leaves two values": (build(globals_=[glob(I32, False, b"\x41\x01\x41\x02")]),
                                      "type mismatch: constant expression leaves more than one "
                                      "value (2)"),
    "global init not constant": (build(globals_=[glob(I32, False, b"\x41\x01\x41\x02\x6d")]),
                                 "constant expression required (opcode 0x6d is not constant)"),
    # extended constant expressions (WebAssembly 3.0)
    "extended const operand type": (build(globals_=[glob(I32, False, b"\x41\x01\x42\x02\x6a")]),
                                    "type mismatch in constant expression: i32.add expects two "
                                    "i32 operands"),
    "extended const one operand": (build(globals_=[glob(I64, False, b"\x42\x01\x7e")]),
                                   "i64.mul expects two i64 operands"),
    "extended const result type": (build(globals_=[glob(I64, False, b"\x41\x01\x41\x02\x6b")]),
                                   "type mismatch in constant expression: expected i64, found "
                                   "i32"),
    "global init reads a later global": (build(globals_=[glob(I32, False, b"\x23\x01"),
                                                         glob(I32, False, b"\x41\x00")]),
                                         "unknown global 1 (a constant expression may read only "
                                         "imported globals and globals defined before it)"),
    "global init reads itself": (build(globals_=[glob(I32, False, b"\x23\x00")]),
                                 "unknown global 0"),
    "global init reads a mutable global": (build(globals_=[glob(I32, True, b"\x41\x00"),
                                                           glob(I32, False, b"\x23\x00")]),
                                           "constant expression required: global 0 is mutable"),
    "global init instruction": (build(globals_=[glob(I32, False, b"\x01\x41\x00")]),
                                "constant expression required (opcode 0x01 is not constant)"),
    "global init empty": (build(globals_=[glob(I32, False, b"")]),
                          "type mismatch: empty constant expression, expected i32"),
    "global init reads a mutable import": (build(imports=[imp("env", "g", 3, bytes([I32, 1]))],
                                                 globals_=[glob(I32, False, b"\x23\x00")]),
                                           "constant expression required: global 0 is mutable"),
    "global init ref.func unknown": (build(globals_=[glob(FUNCREF, False, b"\xd2\x00")]),
                                     "unknown function 0"),
    "data without memory": (build(datas=[u(0) + b"\x41\x00" + END + name("x")]),
                            "unknown memory 0 in data segment 0"),
    "data offset type": (build(mems=MEM1, datas=[u(0) + b"\x42\x00" + END + name("x")]),
                         "type mismatch in constant expression: expected i32, found i64"),
    "data memory index": (build(mems=MEM1, datas=[u(2) + u(1) + b"\x41\x00" + END + name("")]),
                          "unknown memory 1 in data segment 0"),
    "elem without table": (fn(END, elems=[u(0) + b"\x41\x00" + END + vec([u(0)])]),
                           "unknown table 0 in element segment 0"),
    "elem unknown function": (fn(END, tables=FUNCREF_TABLE,
                                 elems=[u(0) + b"\x41\x00" + END + vec([u(4)])]),
                              "unknown function 4"),
    "elem type differs from the table's": (fn(END, tables=[table(EXTERNREF)],
                                              elems=[u(0) + b"\x41\x00" + END + vec([u(0)])]),
                                           "type mismatch: element segment 0 holds funcref, "
                                           "table 0 holds externref"),
    "elem expression type": (fn(END, tables=FUNCREF_TABLE,
                                elems=[u(5) + bytes([FUNCREF]) + vec([b"\xd0\x6f" + END])]),
                             "type mismatch in constant expression: expected funcref, found "
                             "externref"),
    "elem offset type": (fn(END, tables=FUNCREF_TABLE,
                            elems=[u(0) + b"\x42\x00" + END + vec([u(0)])]),
                         "expected i32, found i64"),
    # tail calls (WebAssembly 3.0)
    "return_call unknown function": (fn(b"\x12\x05" + END), "unknown function 5 in return_call"),
    "return_call results differ": (fn(b"\x12\x01" + END, results=[I32],
                                      types=[functype([], [I64])], funcs=[1]),
                                   "type mismatch in return_call: the callee's results differ "
                                   "from the function's"),
    "return_call more results": (fn(b"\x12\x01" + END, types=[functype([], [I32])], funcs=[1]),
                                 "the callee's results differ from the function's"),
    "return_call argument": (fn(b"\x42\x00\x12\x01" + END, types=[functype([I32])], funcs=[1]),
                             "type mismatch in return_call: expected i32, found i64"),
    "return_call_indirect no index": (fn(b"\x13\x00\x00" + END, tables=FUNCREF_TABLE),
                                      "type mismatch in return_call_indirect: expected i32, "
                                      "found nothing"),
    "return_call_indirect results differ": (fn(b"\x41\x00\x13\x01\x00" + END, results=[F32],
                                               types=[functype([], [F64])],
                                               tables=FUNCREF_TABLE),
                                            "type mismatch in return_call_indirect: the callee's "
                                            "results differ"),
    "return_call_indirect table type": (fn(b"\x41\x00\x13\x00\x00" + END,
                                           tables=[table(EXTERNREF)]),
                                        "table 0 holds externref, not funcref"),
    "return_call_indirect unknown type": (fn(b"\x41\x00\x13\x07\x00" + END,
                                             tables=FUNCREF_TABLE),
                                          "unknown type 7 in return_call_indirect"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid(case):
    wasm, fragment = INVALID[case]
    rejected(wasm, fragment)


def test_offsets_point_at_the_instruction():
    code = b"\x41\x00\x04\x40\x42\x00\x0d\x00" + END + END  # if; i64.const; br_if 0
    wasm = fn(code)
    rejected(wasm, f"function 0 {at(wasm, code, 6)} type mismatch in br_if")
    code = b"\x02\x40\x0c\x05" + END + END
    wasm = fn(code)
    rejected(wasm, f"function 0 {at(wasm, code, 2)} unknown label 5")


# ---- features past WebAssembly 2.0 are refused as unsupported ----------------------------------

UNSUPPORTED = {
    "relaxed SIMD": (fn(b"\xfd\x0c" + bytes(16) + b"\xfd\x0c" + bytes(16) + b"\xfd\x80\x02\x1a" + END),
                     "relaxed SIMD instructions (opcode 0xfd 256, from the relaxed SIMD proposal) "
                     "are not supported"),
    "atomics": (fn(b"\xfe\x03\x00" + END), "(from the threads proposal) are not supported"),
    "shared memory": (build(mems=[b"\x03\x01\x02"]), "shared memories (from the threads "
                                                      "proposal) are not supported"),
    "memory64": (build(mems=[b"\x04\x01"]), "64-bit memories and tables (from the memory64 "
                                            "proposal) are not supported"),
    "exceptions": (fn(b"\x06\x40" + END + END), "try (opcode 0x06, from the exception handling "
                                                "proposal) is not supported"),
    "tag section": (build(types=[functype()]) + section(13, vec([b"\x00\x00"])),
                    "the tag section (from the exception handling proposal)"),
    "tag import": (build(types=[functype()], imports=[imp("env", "e", 4, b"\x00\x00")]),
                   "tag imports"),
    "two memories": (build(imports=[imp("env", "m", 2, limits(1))], mems=MEM1),
                     "section 5 (memory) at offset 0x17: multiple memories (from the "
                     "multi-memory proposal) are not supported"),
    "memory index in a memarg": (fn(b"\x41\x00\x28\x42\x00\x00\x1a" + END, mems=MEM1),
                                 "a memory index in i32.load (from the multi-memory proposal) is "
                                 "not supported"),
    "memory index in a SIMD memarg": (fn(b"\x41\x00\xfd\x00\x44\x00\x00\x1a" + END, mems=MEM1),
                                      "a memory index in v128.load (from the multi-memory "
                                      "proposal)"),
    "typed function references": (fn(b"\x14\x00" + END), "call_ref (opcode 0x14, from the "
                                                         "typed function references proposal)"),
    "GC types": (build(types=[b"\x5e\x7f\x00"]), "GC types (from the GC proposal) are not "
                                              "supported"),
    "GC ref type": (fn(END, local_groups=[(1, 0x6E)]), "value type 0x6e (from the GC proposal)"),
    "GC instruction": (fn(b"\xfb\x00" + END), "0xfb-prefixed instructions (from the GC "
                                              "proposal)"),
    "too many results": (build(types=[functype([], [I32] * 1001)]),
                         "type 0 has 0 parameters and 1001 results: more than 1000 is not "
                         "supported"),
    "operand stack too deep": (fn(b"\x41\x00" * (1 << 20 | 1) + b"\x00" + END),
                               "operand stack deeper than 1048576 values is not supported"),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_unsupported(case):
    wasm, fragment = UNSUPPORTED[case]
    rejected(wasm, fragment, "not supported by extism_native", cls=extism.UnsupportedError)


# ---- valid modules ------------------------------------------------------------------------------

# committed plugins that are refused on purpose (their tests say why)
REFUSED_PLUGINS = {"wasm3_multi_memory.wasm"}  # multi-memory: test_wasm3_features.py


def committed_plugins():
    big = ROOT / "bench" / "plugins" / "big_gen.wasm"  # not in the sdist or a copy of tests/
    return sorted(p for p in PLUGINS.glob("*.wasm") if p.name not in REFUSED_PLUGINS) + (
        [big] if big.exists() else [])


@pytest.mark.parametrize("path", committed_plugins(), ids=lambda p: p.name)
def test_committed_plugins_are_valid(path):
    accepted(path.read_bytes())


F64_0 = b"\x44" + bytes(8)
NULLS = b"\xd0\x70"

VALID = {
    "empty module": b"\0asm\x01\0\0\0",
    "custom sections anywhere": (HEADER + custom("a") + section(1, vec([functype()])) +
                                 custom("b", b"xyz") + section(3, vec([u(0)])) + custom("") +
                                 section(10, vec([body(END)])) + custom("name", b"\xff")),
    "all numeric operators": fn(b"".join(
        # each i32/i64/f32/f64 unary and binary op on fresh constants, result dropped
        bytes(pre) + bytes([op]) + b"\x1a" for op, pre in
        [(op, b"\x41\x00") for op in [0x45, 0x67, 0x68, 0x69, 0xAC, 0xAD, 0xB2, 0xB3, 0xB7,
                                      0xB8, 0xBE, 0xC0, 0xC1]] +
        [(op, b"\x41\x00\x41\x00") for op in range(0x46, 0x50)] +
        [(op, b"\x41\x00\x41\x00") for op in range(0x6A, 0x79)] +
        [(op, b"\x42\x00") for op in [0x50, 0x79, 0x7A, 0x7B, 0xA7, 0xB4, 0xB5, 0xB9, 0xBA,
                                      0xBF, 0xC2, 0xC3, 0xC4]] +
        [(op, b"\x42\x00\x42\x00") for op in list(range(0x51, 0x5B)) + list(range(0x7C, 0x8B))] +
        [(op, b"\x43" + bytes(4)) for op in list(range(0x8B, 0x92)) +
         [0xA8, 0xA9, 0xAE, 0xAF, 0xBB, 0xBC]] +
        [(op, (b"\x43" + bytes(4)) * 2) for op in list(range(0x5B, 0x61)) +
         list(range(0x92, 0x99))] +
        [(op, F64_0) for op in list(range(0x99, 0xA0)) + [0xAA, 0xAB, 0xB0, 0xB1, 0xB6, 0xBD]] +
        [(op, F64_0 * 2) for op in list(range(0x61, 0x67)) + list(range(0xA0, 0xA7))]) + END),
    "saturating truncation": fn(b"".join(
        (b"\x43" + bytes(4) if k in (0, 1, 4, 5) else F64_0) + b"\xfc" + bytes([k]) + b"\x1a"
        for k in range(8)) + END),
    "loads and stores": fn(b"".join(b"\x41\x00" + bytes([op, align, 0]) + b"\x1a" for op, align in
                                    [(0x28, 2), (0x29, 3), (0x2A, 2), (0x2B, 3), (0x2C, 0),
                                     (0x2F, 1), (0x34, 2), (0x35, 0)]) +
                           b"\x41\x00\x42\x00\x3e\x02\x00\x41\x00\x41\x00\x3b\x01\x80\x80\x04" +
                           b"\x3f\x00\x40\x00\x1a" + END, mems=MEM1),
    "multi-value function and blocks": fn(
        b"\x41\x01\x42\x02"                      # i32 i64
        b"\x02\x01\x0c\x00\x0b"                  # block (type 1: [i32 i64] -> [i32 i64]) br 0
        b"\x03\x01\x0b"                          # loop (type 1), its params as results
        b"\x41\x00\x04\x01\x05\x0b" + END,        # if (type 1) with an empty else
        results=[I32, I64], types=[functype([I32, I64], [I32, I64])]),
    "calls with several results": fn(b"\x10\x01\x1a\x1a" + END,
                                     types=[functype([], [F32, F64])], funcs=[1]),
    # unreached-valid.wast line 49 (issue 14 item 9): labels of different types, after
    # unreachable: valid in 2.0 (no operand on the stack to disagree with either)
    "br_table types differ after unreachable": fn(
        b"\x02\x7c\x02\x7d\x00\x41\x01\x0e\x02\x00\x01\x01" + END + b"\x1a\x44" + bytes(8) +
        END + b"\x1a" + END),
    "br_table with values": fn(b"\x02\x7f\x02\x7f\x41\x07\x41\x00\x0e\x02\x00\x01\x00" + END +
                               END + END, results=[I32]),
    "unreachable code is polymorphic": fn(
        b"\x00\x6a\x1a"          # unreachable; i32.add with nothing on the stack
        b"\x02\x7f\x00\x0b"      # block (result i32) unreachable end
        b"\x0e\x00\x00\x1b\x1a" + END, results=[I32]),
    "unreachable after br then a block": fn(b"\x02\x40\x0c\x00\x02\x7e\x00" + END + b"\x1a" +
                                            END + END),
    "select with type on references": fn(NULLS + NULLS + b"\x41\x00\x1c\x01\x70\xd1\x1a" + END),
    "select keeps the known type": fn(b"\x00\x42\x00\x41\x00\x1b\x50\x1a" + END),
    "bulk memory": fn(b"\x41\x00" * 3 + b"\xfc\x08\x00\x00" + b"\xfc\x09\x00" +
                      b"\x41\x00" * 3 + b"\xfc\x0a\x00\x00" + b"\x41\x00" * 3 + b"\xfc\x0b\x00" +
                      END, mems=MEM1, datacount=2, datas=[u(1) + name("abc"),
                                                          u(0) + b"\x41\x08" + END + name("d")]),
    "reference types and tables": fn(
        b"\x41\x00\x25\x01\xd1\x1a"              # table.get 1; ref.is_null
        b"\x41\x00\xd0\x6f\x26\x01"              # table.set 1 (externref)
        b"\xd0\x70\x41\x02\xfc\x0f\x00\x1a"      # table.grow 0
        b"\xfc\x10\x01\x1a"                      # table.size 1
        b"\x41\x00\xd2\x00\x41\x01\xfc\x11\x00"  # table.fill 0 with ref.func 0
        b"\x41\x00\x41\x00\x41\x00\xfc\x0e\x00\x02"  # table.copy 0 2
        b"\x41\x00\x41\x00\x41\x00\xfc\x0c\x00\x00\xfc\x0d\x01"  # table.init 0 0; elem.drop 1
        b"\x41\x00\x11\x00\x02" + END,           # call_indirect (type 0) on table 2
        tables=[table(FUNCREF), table(EXTERNREF), table(FUNCREF)],
        elems=[u(1) + b"\x00" + vec([u(0)]), u(7) + bytes([EXTERNREF]) + vec([b"\xd0\x6f" + END])]),
    "every element segment encoding": fn(
        END, tables=[table(FUNCREF), table(EXTERNREF)],
        imports=[imp("env", "g", 3, bytes([FUNCREF, 0]))],
        elems=[u(0) + b"\x41\x00" + END + vec([u(0)]),                          # 0: active
               u(1) + b"\x00" + vec([u(0), u(0)]),                              # 1: passive
               u(2) + u(0) + b"\x41\x01" + END + b"\x00" + vec([u(0)]),         # 2: table 0
               u(3) + b"\x00" + vec([u(0)]),                                    # 3: declarative
               u(4) + b"\x41\x02" + END + vec([b"\xd2\x00" + END, NULLS + END]),  # 4: exprs
               u(5) + bytes([EXTERNREF]) + vec([b"\xd0\x6f" + END]),            # 5: passive
               u(6) + u(1) + b"\x41\x00" + END + bytes([EXTERNREF]) + vec([]),  # 6: table 1
               u(7) + bytes([FUNCREF]) + vec([b"\x23\x00" + END])]),            # 7: declarative
    "ref.func declared by a declarative segment": fn(b"\xd2\x00\x1a" + END,
                                                     elems=[u(3) + b"\x00" + vec([u(0)])]),
    "ref.func declared by an export": fn(b"\xd2\x00\x1a" + END, exports=[exp("f", 0, 0)]),
    "extended constant expressions": build(
        imports=[imp("env", "g", 3, bytes([I32, 0]))],
        globals_=[glob(I32, False, b"\x23\x00\x41\x04\x6a"),                 # g + 4
                  glob(I64, False, b"\x42\x02\x42\x03\x7e\x42\x01\x7d"),      # 2 * 3 - 1
                  glob(I32, True, b"\x23\x01\x23\x00\x6c")],                  # g1 * g
        mems=MEM1, datas=[u(0) + b"\x23\x01\x41\x08\x6b" + END + name("x")]),
    "global init reads an earlier global": build(globals_=[glob(I32, False, b"\x41\x00"),
                                                           glob(I32, False, b"\x23\x00")]),
    "return_call": fn(b"\x41\x07\x12\x01\x42\x00\x1a" + END, results=[I64],
                      types=[functype([I32], [I64])], funcs=[1]),
    "return_call_indirect": fn(b"\x41\x00\x13\x00\x00" + END, tables=FUNCREF_TABLE),
    "ref.func declared by a global": fn(b"\xd2\x00\x1a" + END,
                                        globals_=[glob(FUNCREF, False, b"\xd2\x00")]),
    "globals and constant expressions": build(
        imports=[imp("env", "g", 3, bytes([I64, 0])), imp("env", "m", 3, bytes([F32, 1]))],
        globals_=[glob(I64, True, b"\x23\x00"), glob(F64, False, F64_0),
                  glob(EXTERNREF, True, b"\xd0\x6f"), glob(I32, False, b"\x41" + s(-123456))],
        exports=[exp("m", 3, 1), exp("g2", 3, 2), exp("", 3, 3)]),
    "imports of every kind": build(
        types=[functype([I32], [I64])],
        imports=[imp("env", "f", 0, u(0)), imp("env", "t", 1, table(EXTERNREF)),
                 imp("env", "mem", 2, limits(1, 65536)), imp("env", "g", 3, bytes([I32, 1]))],
        exports=[exp("f", 0, 0), exp("t", 1, 0), exp("mem", 2, 0), exp("g", 3, 0)]),
    "passive data without data count": build(mems=MEM1, datas=[u(1) + name("x")]),
    "start function": fn(END, start=0),
    "names are UTF-8": build(imports=[imp("é", "日本", 2, limits(0))],
                             exports=[exp("\U0001F600", 2, 0), exp("\x00", 2, 0)]),
    "non-minimal LEBs": build(types=[b"\x60\x80\x00\x80\x80\x80\x80\x00"],
                              funcs=[b"\x80\x00"],
                              codes=[body(b"\x41\xff\xff\xff\xff\x07\x42\x7f\x1a\x1a" + END)]),
    "extreme constants": fn(b"\x41" + s(-2**31) + b"\x41" + s(2**31 - 1) + b"\x42" + s(-2**63) +
                            b"\x42" + s(2**63 - 1) + b"\x1a" * 4 + END),
    "locals of all types": fn(b"\x20\x00\x20\x01\x20\x02\x20\x03\x20\x04\x20\x05" + b"\x1a" * 6 +
                              END, local_groups=[(1, I32), (1, I64), (1, F32), (1, F64),
                                                 (1, FUNCREF), (1, EXTERNREF)]),
    "1000 params and results": build(types=[functype([I32] * 1000, [I64] * 1000)]),
    "call_indirect with table index 0 as a long LEB": fn(b"\x41\x00\x11\x00\x80\x00" + END,
                                                         tables=FUNCREF_TABLE),
    "v128 everywhere": fn(
        b"\x20\x00\x20\x01"                       # local.get 0 (param v128), 1 (local v128)
        b"\x41\x00\x1b"                           # select without a type
        b"\x02\x7b\x20\x00\x0b\x41\x01\x1c\x01\x7b"  # block (result v128); typed select
        b"\x23\x00\xfd\x51\x24\x00"               # global.get 0; v128.xor; global.set 0
        b"\x23\x01" + END,                        # the immutable global's v128.const
        params=[V128], results=[V128], local_groups=[(1, V128)],
        globals_=[glob(V128, True, b"\xfd\x0c" + bytes(16)), glob(V128, False, b"\xfd\x0c" + bytes(range(16)))]),
    "v128 memory accesses at their natural alignment": fn(
        b"\x41\x00\xfd\x00\x04\x00"               # v128.load align=16
        b"\x41\x00\xfd\x0a\x03\x00\x1a"           # v128.load64_splat align=8
        b"\x41\x00\x20\x00\xfd\x54\x00\x00\x0f\x1a"  # v128.load8_lane lane 15
        b"\x41\x00\x20\x00\xfd\x5b\x03\x00\x01"     # v128.store64_lane lane 1
        b"\x1a" + END, params=[V128], mems=MEM1),
}


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid(case):
    accepted(VALID[case])


# ---- hostile shapes: deep, wide, long - bounded time and memory, no recursion --------------------

def test_deep_nesting_is_not_recursion():
    depth = 400_000
    accepted(fn(b"\x02\x40" * depth + END * depth + END))
    rejected(fn(b"\x02\x40" * depth + END * (depth - 1) + END), "unexpected end of the function "
                                                               "body")


def test_huge_local_counts_cost_nothing():
    # 2^32 - 1 locals declared in a few bytes; the last ones are found by binary search
    groups = [(0xFFFF_FFFD - 70_000, I32), (70_000, I64), (1, F32)]  # 2^32 - 1 with the param
    code = b"\x20" + u(0xFFFF_FFFE) + b"\x20" + u(0xFFFF_FFFD) + b"\x20" + u(100) + \
        b"\x1a\x1a\x1a" + END
    accepted(fn(code, params=[F64], local_groups=groups))
    code = b"\x20" + u(0xFFFF_FFFD) + b"\x45\x1a" + END  # that local is an i64
    rejected(fn(code, params=[F64], local_groups=groups), "expected i32, found i64")


def test_wide_br_table_to_many_multi_value_frames():
    depth, labels = 300, 200_000
    result = functype([], [I64] * 50)
    code = (b"\x02\x01" * depth + b"\x00\x41\x00\x0e" + u(labels) +
            b"".join(u(i % depth) for i in range(labels)) + u(0) + END +
            (b"\x1a" * 50 + b"\x00" + END) * (depth - 1) + b"\x1a" * 50 + END)
    accepted(fn(code, types=[result]))


def test_many_small_functions():
    n = 50_000
    accepted(build(types=[functype([I32], [I32])], funcs=[u(0)] * n,
                   codes=[body(b"\x20\x00\x10" + u(i // 2) + END) for i in range(n)]))


def test_random_mutations_never_crash():
    rng = random.Random(2024)
    seeds = [(PLUGINS / "edge.wasm").read_bytes(), VALID["reference types and tables"],
             VALID["every element segment encoding"], VALID["multi-value function and blocks"]]
    statuses = {lib.EXN_OK, lib.EXN_ERR_LOAD, lib.EXN_ERR_UNSUPPORTED}
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            k = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.6:
                data[k] = rng.randrange(256)
            elif choice < 0.8:
                del data[k]
            else:
                data.insert(k, rng.randrange(256))
        st, msg = validate(bytes(data))
        assert st in statuses
        assert st == lib.EXN_OK or msg


def test_validate_api_misuse():
    buf = ffi.new("char[64]")
    assert lib.exn_module_validate(ffi.NULL, 5, buf, 64) == lib.EXN_ERR_MISUSE
    assert b"NULL" in ffi.string(buf)
    assert lib.exn_module_validate(ffi.NULL, 0, ffi.NULL, 0) == lib.EXN_ERR_LOAD
