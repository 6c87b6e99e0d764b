#!/usr/bin/env python3
"""Generates tests/plugins/wat/engine_ops.wat and the model its results are checked against
(tests/unit/test_engine_ops.py).

    python tests/unit/engine_ops_gen.py > tests/plugins/wat/engine_ops.wat

wasm3 compiles each binary integer operation into one of several operations depending on where
its operands are (r0, a slot, a constant: wasm3 patches 0060-0062), where its result goes (r0,
a new slot when r0 is taken, a local for a `local.set` right after it) and what consumes it
(br_if, if, a loop's br_if: fused compare-and-branch).  For every such operation the plugin
evaluates it in each of these contexts, written so that the compiler must pick that variant:

    rs      (op a (or b 0))          b computed into r0, a in a slot
    sr      (op (or a 0) b)          a in r0, b in a slot
    ss      (op a b)                 both in slots
    ss_s    (xor (or C 0) (op a b))  r0 taken (by C): the result goes to a new slot
    ir K    (op (or a 0) K)          constant top operand, a in r0
    is K    (op a K)                 constant top operand, a in a slot
    set_*   (local.set r (op ...))   the result written straight to the local
    setx_*  C (local.set r (op ...)) the same while r0 holds C (which must survive)
    brif_* / if_* / loop_*           the operation fused with the branch on its result

and every integer load (patch 0063) of a and b stored at address 16, with its address in r0 or
in a slot, its result in r0, in a new slot (r0 taken) or written straight to a local.

Export "run" takes a list of i64 values (little-endian) and, for every pair (a, b) of them, calls
each operation's function; the output is every result as a little-endian i64, in the order of
`contexts()`.  i32 operands are the values' low 32 bits.
"""

from __future__ import annotations

import sys
from typing import Callable, List, Tuple

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1


def signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def binop_model(name: str, bits: int) -> Callable[[int, int], int]:
    """The operation on unsigned `bits`-bit values, result unsigned (compares: 0/1)."""
    mask = (1 << bits) - 1

    def s(v: int) -> int:
        return signed(v, bits)

    table = {
        "eq": lambda a, b: int(a == b), "ne": lambda a, b: int(a != b),
        "lt_s": lambda a, b: int(s(a) < s(b)), "lt_u": lambda a, b: int(a < b),
        "gt_s": lambda a, b: int(s(a) > s(b)), "gt_u": lambda a, b: int(a > b),
        "le_s": lambda a, b: int(s(a) <= s(b)), "le_u": lambda a, b: int(a <= b),
        "ge_s": lambda a, b: int(s(a) >= s(b)), "ge_u": lambda a, b: int(a >= b),
        "add": lambda a, b: (a + b) & mask, "sub": lambda a, b: (a - b) & mask,
        "mul": lambda a, b: (a * b) & mask,
        "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
        "shl": lambda a, b: (a << (b % bits)) & mask,
        "shr_s": lambda a, b: (s(a) >> (b % bits)) & mask,
        "shr_u": lambda a, b: a >> (b % bits),
    }
    return table[name]


COMPARES = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
ARITH = ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u"]
# operations a branch can be fused with (patch 0062)
BRANCHABLE = {"i32": set(COMPARES) | {"and", "or"}, "i64": set(COMPARES)}

# constants for the immediate variants: every K in the ir/is contexts, SMALL_K in the others
K = {"i32": [0, 1, -1, 31, 32, 97, -(1 << 31), (1 << 31) - 1],
     "i64": [0, 1, -1, 63, 64, (1 << 32) - 1, 1 << 32, -(1 << 63), (1 << 63) - 1]}
SMALL_K = {"i32": [-1, -(1 << 31)], "i64": [-1, 1 << 32, -(1 << 63)]}
# the value r0 holds while an operation on two slots runs, which must survive it (both halves
# differ: a big-endian host that moved the wrong half of an i64 would show)
SPILLED = {"i32": 0x5A5A5A5A, "i64": 0x0123456789ABCDEF}

Model = Callable[[int, int], int]
Context = Tuple[str, str, Model]      # label, WAT expression (value of the op's result type), model


def operand_contexts(t: str, op: str, f: Model) -> List[Tuple[str, str, Model]]:
    """Operand placements of `t.op` on $a, $b: (variant, WAT expression, model)."""
    o = f"{t}.{op}"
    return [
        ("rs", f"({o} (local.get $a) ({t}.or (local.get $b) ({t}.const 0)))", f),
        ("sr", f"({o} ({t}.or (local.get $a) ({t}.const 0)) (local.get $b))", f),
        ("ss", f"({o} (local.get $a) (local.get $b))", f),
    ]


def imm_contexts(t: str, op: str, f: Model, ks: List[int]) -> List[Tuple[str, str, Model]]:
    o = f"{t}.{op}"
    bits = 32 if t == "i32" else 64
    out = []
    for k in ks:
        ku = k & ((1 << bits) - 1)
        out.append((f"ir {k}", f"({o} ({t}.or (local.get $a) ({t}.const 0)) ({t}.const {k}))",
                    lambda a, b, ku=ku: f(a, ku)))
        out.append((f"is {k}", f"({o} (local.get $a) ({t}.const {k}))",
                    lambda a, b, ku=ku: f(a, ku)))
    return out


def op_contexts(t: str, op: str) -> List[Tuple[str, List[str], Model]]:
    """(label, WAT statements leaving the result as an i64 on the stack, model) per context."""
    bits = 32 if t == "i32" else 64
    f = binop_model(op, bits)
    is_cmp = op in COMPARES
    r = "i32" if is_cmp or t == "i32" else "i64"      # the result type
    widen = (lambda e: f"(i64.extend_i32_u {e})") if r == "i32" else (lambda e: e)
    out: List[Tuple[str, List[str], Model]] = []
    base = operand_contexts(t, op, f)
    imm_all = imm_contexts(t, op, f, K[t])
    imm_small = imm_contexts(t, op, f, SMALL_K[t])
    for label, e, m in base + imm_all:
        out.append((label, [widen(e)], m))
    c = SPILLED[r]
    cu = c & (M32 if r == "i32" else M64)
    both_in_slots = [base[2]] + [x for x in imm_small if x[0].startswith("is")]
    for label, e, m in both_in_slots:
        # r0 holds C: the result goes to a new slot
        out.append((label.replace(" ", "_s ", 1) if " " in label else label + "_s",
                    [widen(f"({r}.xor ({r}.or ({r}.const {c}) ({r}.const 0)) {e})")],
                    lambda a, b, m=m, cu=cu: cu ^ m(a, b)))
    for label, e, m in base + imm_small:
        out.append(("set_" + label, [f"(local.set $r_{r} {e})", widen(f"(local.get $r_{r})")], m))
    for label, e, m in both_in_slots:
        # the same followed by a local.set (flat code: C stays on the stack below it)
        out.append(("setx_" + label, [f"({r}.or ({r}.const {c}) ({r}.const 0))", f"(local.set $r_{r} {e})",
                                      f"(local.get $r_{r})", f"{r}.xor"]
                    + (["i64.extend_i32_u"] if r == "i32" else []) + [""],
                    lambda a, b, m=m, cu=cu: cu ^ m(a, b)))
    if op in BRANCHABLE[t]:
        for label, e, m in base + imm_small:
            out.extend(branch_contexts(label, e, m))
    return out


def branch_contexts(label: str, cond: str, m: Model) -> List[Tuple[str, List[str], Model]]:
    """The condition `cond` (an i32) consumed by br_if, if and a loop's br_if; result 0/1."""
    b = lambda a, bb: int(m(a, bb) != 0)  # noqa: E731
    return [
        ("brif_" + label, ["(local.set $f (i64.const 1))",
                           f"(block $t (br_if $t {cond}) (local.set $f (i64.const 0)))",
                           "(local.get $f)"], b),
        ("if_" + label, ["(local.set $f (i64.const 0))",
                         f"(if {cond} (then (local.set $f (i64.const 1))))",
                         "(local.get $f)"], b),
        # the loop runs once more (n = 2) when the condition holds
        ("loop_" + label, ["(local.set $n (i32.const 0))",
                           "(block $done (loop $l",
                           "  (br_if $done (i32.eq (local.get $n) (i32.const 2)))",
                           "  (local.set $n (i32.add (local.get $n) (i32.const 1)))",
                           f"  (br_if $l {cond})))",
                           "(i64.extend_i32_u (i32.sub (local.get $n) (i32.const 1)))"], b),
    ]


def eqz_contexts(t: str) -> List[Tuple[str, List[str], Model]]:
    out: List[Tuple[str, List[str], Model]] = []
    m = lambda a, b: int(a == 0)  # noqa: E731
    for label, cond in [("r", f"({t}.eqz ({t}.or (local.get $a) ({t}.const 0)))"),
                        ("s", f"({t}.eqz (local.get $a))")]:
        out.extend(branch_contexts(label, cond, m))
    return out


# (opcode name, result type, width in bytes, signed)
LOADS = [("i32.load", "i32", 4, False), ("i64.load", "i64", 8, False),
         ("i32.load8_s", "i32", 1, True), ("i32.load8_u", "i32", 1, False),
         ("i32.load16_s", "i32", 2, True), ("i32.load16_u", "i32", 2, False),
         ("i64.load8_s", "i64", 1, True), ("i64.load8_u", "i64", 1, False),
         ("i64.load16_s", "i64", 2, True), ("i64.load16_u", "i64", 2, False),
         ("i64.load32_s", "i64", 4, True), ("i64.load32_u", "i64", 4, False)]
LOAD_BASE = 16      # a at 16..23, b at 24..31 (little-endian)


def load_contexts() -> List[Tuple[str, List[str], Model]]:
    out: List[Tuple[str, List[str], Model]] = []
    for name, r, width, is_signed in LOADS:
        widen = (lambda e: f"(i64.extend_i32_u {e})") if r == "i32" else (lambda e: e)
        for offset in (0, 3, 8):
            def m(a: int, b: int, width: int = width, is_signed: bool = is_signed, offset: int = offset,
                  r: str = r) -> int:
                data = (a & M64).to_bytes(8, "little") + (b & M64).to_bytes(8, "little")
                v = int.from_bytes(data[offset:offset + width], "little", signed=is_signed)
                return v & (M32 if r == "i32" else M64)
            load = f"{name} offset={offset}"
            in_reg = f"({load} (i32.or (local.get $p) (i32.const 0)))"
            in_slot = f"({load} (local.get $p))"
            out += [
                (f"{load} r", [widen(in_reg)], m),
                (f"{load} s", [widen(in_slot)], m),
                (f"{load} s_s", [widen(f"({r}.xor ({r}.or ({r}.const {SPILLED[r]}) ({r}.const 0)) {in_slot})")],
                 lambda a, b, m=m, r=r: (SPILLED[r] & (M32 if r == "i32" else M64)) ^ m(a, b)),
                (f"set {load} r", [f"(local.set $r_{r} {in_reg})", widen(f"(local.get $r_{r})")], m),
                (f"set {load} s", [f"(local.set $r_{r} {in_slot})", widen(f"(local.get $r_{r})")], m),
            ]
    return out


def functions() -> List[Tuple[str, str, List[Tuple[str, List[str], Model]]]]:
    """(function name, operand type, contexts) in call order."""
    out = []
    for t in ("i32", "i64"):
        for op in COMPARES + ARITH:
            out.append((f"{t}_{op}", t, op_contexts(t, op)))
        out.append((f"{t}_eqz", t, eqz_contexts(t)))
    out.append(("loads", "i64", load_contexts()))
    return out


def contexts() -> List[Tuple[str, str, Model]]:
    """(function, label, model) for each result of one pair, in output order."""
    return [(name, label, m) for name, _t, ctxs in functions() for label, _w, m in ctxs]


def expected(values: List[int]) -> List[int]:
    """The output of "run" on `values` (i64s), as unsigned 64-bit integers."""
    out = []
    ctxs = [(t, m) for _n, t, cs in functions() for _l, _w, m in cs]
    for a in values:
        for b in values:
            for t, m in ctxs:
                mask = M32 if t == "i32" else M64
                out.append(m(a & mask, b & mask) & M64)
    return out


def wat() -> str:
    funcs = functions()
    per_pair = sum(len(c) for _n, _t, c in funcs)
    lines = [
        ";; engine_ops.wat: GENERATED by tests/unit/engine_ops_gen.py (do not edit), for",
        ";; tests/unit/test_engine_ops.py: every binary integer operation of wasm3 patches 0060-0062",
        ";; in each operand / result / branch context; see the generator for the contexts.",
        "(module",
        '  (import "extism:host/env" "input_length" (func $input_length (result i64)))',
        '  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))',
        '  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))',
        '  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))',
        '  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))',
        "  (memory (export \"memory\") 1)",
        "  (global $h (mut i64) (i64.const 0))",
        "  (global $off (mut i64) (i64.const 0))",
        "  (func $emit (param $v i64)",
        "    (call $store_u64 (i64.add (global.get $h) (global.get $off)) (local.get $v))",
        "    (global.set $off (i64.add (global.get $off) (i64.const 8))))",
    ]
    for name, t, ctxs in funcs:
        lines.append(f"  (func ${name} (param $a {t}) (param $b {t})")
        lines.append("    (local $r_i32 i32) (local $r_i64 i64) (local $f i64) (local $n i32) (local $p i32)")
        if name == "loads":
            lines.append(f"    (local.set $p (i32.const {LOAD_BASE}))")
            lines.append(f"    (i64.store (i32.const {LOAD_BASE}) (local.get $a))")
            lines.append(f"    (i64.store (i32.const {LOAD_BASE + 8}) (local.get $b))")
        for label, stmts, _m in ctxs:
            lines.append(f"    ;; {label}")
            for s in stmts[:-1]:
                lines.append(f"    {s}")
            # "" ends a flat sequence that left the i64 on the stack
            lines.append(f"    (call $emit {stmts[-1]})" if stmts[-1] else "    call $emit")
        lines[-1] += ")"
    lines += [
        ";; a load past the end of memory traps whatever its variant: the address is the input's",
        ";; length, the variant the export's name (_r_s, _s_s: to a local; r0: while r0 is taken)",
        '  (func (export "load_r_s") (result i32) (local $x i32)',
        "    (local.set $x (i32.load (i32.or (i32.wrap_i64 (call $input_length)) (i32.const 0))))",
        "    (i32.const 0))",
        '  (func (export "load_s_s") (result i32) (local $p i32) (local $x i32)',
        "    (local.set $p (i32.wrap_i64 (call $input_length)))",
        "    (local.set $x (i32.load (local.get $p)))",
        "    (i32.const 0))",
        '  (func (export "load_slot") (result i32) (local $p i32)',
        "    (local.set $p (i32.wrap_i64 (call $input_length)))",
        "    (drop (i64.add (i64.extend_i32_u (i32.or (local.get $p) (i32.const 0))) (i64.load (local.get $p))))",
        "    (i32.const 0))",
        '  (func (export "run") (result i32)',
        "    (local $n i64) (local $i i64) (local $j i64) (local $a i64) (local $b i64)",
        "    (local.set $n (i64.shr_u (call $input_length) (i64.const 3)))",
        f"    (global.set $h (call $alloc (i64.mul (i64.mul (local.get $n) (local.get $n)) (i64.const {per_pair * 8}))))",
        "    (global.set $off (i64.const 0))",
        "    (block $done_i (loop $next_i",
        "      (br_if $done_i (i64.ge_u (local.get $i) (local.get $n)))",
        "      (local.set $a (call $input_load_u64 (i64.shl (local.get $i) (i64.const 3))))",
        "      (local.set $j (i64.const 0))",
        "      (block $done_j (loop $next_j",
        "        (br_if $done_j (i64.ge_u (local.get $j) (local.get $n)))",
        "        (local.set $b (call $input_load_u64 (i64.shl (local.get $j) (i64.const 3))))",
    ]
    for name, t, _c in funcs:
        if t == "i32":
            lines.append(f"        (call ${name} (i32.wrap_i64 (local.get $a)) (i32.wrap_i64 (local.get $b)))")
        else:
            lines.append(f"        (call ${name} (local.get $a) (local.get $b))")
    lines += [
        "        (local.set $j (i64.add (local.get $j) (i64.const 1)))",
        "        (br $next_j)))",
        "      (local.set $i (i64.add (local.get $i) (i64.const 1)))",
        "      (br $next_i)))",
        "    (call $output_set (global.get $h) (global.get $off))",
        "    (i32.const 0))",
        ")",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(wat())
