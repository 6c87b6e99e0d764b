#!/usr/bin/env python3
"""Generates tests/plugins/wat/simd_ops.wat and the lane model its results are checked against
(tests/unit/test_simd.py).

    python tests/unit/simd_ops_gen.py > tests/plugins/wat/simd_ops.wat

Every fixed-width SIMD instruction of WebAssembly 2.0 but v128.const (which builds the plugin's
constants) is evaluated by a function of the plugin on two input vectors a and b, in the
contexts wasm3 (patch 0070) compiles differently:

    plain    (op a b) returned                the result in a new slot
    set      (local.set $r (op a b)) $r       the operation writes the local directly
    alias    (local.set $a (op a b)) $a       ... which is also its operand
    reg      a scalar operand (shift count, splatted or replacing value, address) computed
             into r0 / fp0 instead of read from a slot

Scalar operands come from b's lane 0 (shift counts, splatted and replacing values); scalar
results (extract_lane, any_true, all_true, bitmask) are put into lane 0 of a zero vector.
Memory instructions run on 128 bytes at address 64: a, then b, then zeros, at several
addresses and offsets (unaligned too).

Export "run" takes n vectors (16 bytes each) and, for every pair (a, b) of them, writes the
result of every context in the order of `contexts()`, 16 bytes each.  The model below is the
spec's lane semantics (4.3.2, 4.4.3) written independently of the C: float lanes go through
Python floats and struct (f32 rounding of an exactly computed double is correct for + - * /
sqrt); a NaN result is given as a pattern (canonical when every NaN operand is canonical, else
any arithmetic NaN, as the spec's nans_N allows).
"""

from __future__ import annotations

import math
import struct
import sys
from typing import Callable, List, Optional, Tuple

# ---- lanes ---------------------------------------------------------------------------------------

SHAPES = {"i8x16": (8, 16), "i16x8": (16, 8), "i32x4": (32, 4), "i64x2": (64, 2),
          "f32x4": (32, 4), "f64x2": (64, 2)}
NAN = "nan"  # a lane of a model result that must be a NaN (see Lane)


class Lane:
    """A float lane that must be a NaN: canonical (quiet, no payload, either sign) or any
    arithmetic NaN (quiet bit set)."""

    def __init__(self, bits: int, canonical: bool) -> None:
        self.bits, self.canonical = bits, canonical

    def matches(self, got: int) -> bool:
        quiet = 0x7FC00000 if self.bits == 32 else 0x7FF8000000000000
        mag = (1 << (self.bits - 1)) - 1
        return (got & mag) == quiet if self.canonical else (got & quiet) == quiet

    def __repr__(self) -> str:
        return "nan:canonical" if self.canonical else "nan:arithmetic"


def lanes(v: bytes, bits: int) -> List[int]:
    n = bits // 8
    return [int.from_bytes(v[i:i + n], "little") for i in range(0, 16, n)]


def pack(ls: list, bits: int) -> list:
    """Lanes back to a result: a list of (bits, value or Lane) per lane."""
    return [(bits, x) for x in ls]


def signed(x: int, bits: int) -> int:
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def sat(x: int, lo: int, hi: int) -> int:
    return lo if x < lo else hi if x > hi else x


def f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def f64(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits & (2**64 - 1)))[0]


def b32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def b64(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


TOF = {32: f32, 64: f64}
TOB = {32: b32, 64: b64}


def is_nan(bits: int, w: int) -> bool:
    return math.isnan(TOF[w](bits))


def is_canonical(bits: int, w: int) -> bool:
    return (bits & ((1 << (w - 1)) - 1)) == (0x7FC00000 if w == 32 else 0x7FF8000000000000)


def fresult(w: int, value: float, operands: List[int]):
    """The result of an arithmetic float operation: its bits, or the NaN pattern it allows."""
    if math.isnan(value):
        nans = [x for x in operands if is_nan(x, w)]
        return Lane(w, all(is_canonical(x, w) for x in nans))
    if w == 32:
        try:
            return b32(value)
        except OverflowError:  # struct refuses to round to infinity
            return b32(math.copysign(math.inf, value))
    return b64(value)


def round_even(x: float) -> float:
    return x if math.isinf(x) else float(round(x)) if x == x else x


def fround(w: int, x: int, f: Callable[[float], float]):
    v = TOF[w](x)
    if math.isnan(v):
        return Lane(w, is_canonical(x, w))
    if math.isinf(v) or v == 0:
        return x
    r = f(v)
    return TOB[w](math.copysign(r, v) if r == 0 else r)


def fmin(w: int, x: int, y: int):
    a, b = TOF[w](x), TOF[w](y)
    if math.isnan(a) or math.isnan(b):
        return Lane(w, all(is_canonical(z, w) for z in (x, y) if is_nan(z, w)))
    if a == b == 0:
        return x | y  # -0 if either is
    return x if a < b else y


def fmax(w: int, x: int, y: int):
    a, b = TOF[w](x), TOF[w](y)
    if math.isnan(a) or math.isnan(b):
        return Lane(w, all(is_canonical(z, w) for z in (x, y) if is_nan(z, w)))
    if a == b == 0:
        return x & y
    return x if a > b else y


def trunc_sat(v: float, lo: int, hi: int) -> int:
    if math.isnan(v):
        return 0
    if math.isinf(v):
        return lo if v < 0 else hi
    return sat(int(v), lo, hi)


def f32_of_int(i: int) -> int:
    # round to nearest even: Python's float(i) is exact for |i| < 2^53, then struct rounds
    return b32(float(i))


# ---- the model: name -> function of (a, b) bytes, result: list of (bits, lane) ------------------

def model(name: str) -> Callable[[bytes, bytes], list]:
    shape, _, op = name.partition(".")
    if shape == "v128":
        return {
            "not": lambda a, b: pack([~x & (2**64 - 1) for x in lanes(a, 64)], 64),
            "and": lambda a, b: pack([x & y for x, y in zip(lanes(a, 64), lanes(b, 64))], 64),
            "andnot": lambda a, b: pack([x & ~y & (2**64 - 1) for x, y in zip(lanes(a, 64), lanes(b, 64))], 64),
            "or": lambda a, b: pack([x | y for x, y in zip(lanes(a, 64), lanes(b, 64))], 64),
            "xor": lambda a, b: pack([x ^ y for x, y in zip(lanes(a, 64), lanes(b, 64))], 64),
            "any_true": lambda a, b: scalar32(int(any(a))),
        }[op]
    w, n = SHAPES[shape]
    m = (1 << w) - 1

    def lanewise(f: Callable[[int, int], object]) -> Callable[[bytes, bytes], list]:
        return lambda a, b: pack([f(x, y) for x, y in zip(lanes(a, w), lanes(b, w))], w)

    def unary(f: Callable[[int], object]) -> Callable[[bytes, bytes], list]:
        return lambda a, b: pack([f(x) for x in lanes(a, w)], w)

    s = lambda x: signed(x, w)  # noqa: E731
    if shape[0] == "i":
        cmp = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y,
               "lt_s": lambda x, y: s(x) < s(y), "lt_u": lambda x, y: x < y,
               "gt_s": lambda x, y: s(x) > s(y), "gt_u": lambda x, y: x > y,
               "le_s": lambda x, y: s(x) <= s(y), "le_u": lambda x, y: x <= y,
               "ge_s": lambda x, y: s(x) >= s(y), "ge_u": lambda x, y: x >= y}
        if op in cmp:
            return lanewise(lambda x, y: m if cmp[op](x, y) else 0)
        smin, smax = -(1 << (w - 1)), (1 << (w - 1)) - 1
        simple = {
            "add": lambda x, y: (x + y) & m, "sub": lambda x, y: (x - y) & m,
            "mul": lambda x, y: (x * y) & m,
            "add_sat_s": lambda x, y: sat(s(x) + s(y), smin, smax) & m,
            "add_sat_u": lambda x, y: sat(x + y, 0, m), "sub_sat_u": lambda x, y: sat(x - y, 0, m),
            "sub_sat_s": lambda x, y: sat(s(x) - s(y), smin, smax) & m,
            "min_s": lambda x, y: x if s(x) < s(y) else y, "min_u": lambda x, y: min(x, y),
            "max_s": lambda x, y: x if s(x) > s(y) else y, "max_u": lambda x, y: max(x, y),
            "avgr_u": lambda x, y: (x + y + 1) >> 1,
            "q15mulr_sat_s": lambda x, y: sat((s(x) * s(y) + 0x4000) >> 15, smin, smax) & m,
        }
        if op in simple:
            return lanewise(simple[op])
        un = {"abs": lambda x: abs(s(x)) & m, "neg": lambda x: -x & m,
              "popcnt": lambda x: bin(x).count("1")}
        if op in un:
            return unary(un[op])
        if op in ("shl", "shr_s", "shr_u"):
            def shift(a: bytes, b: bytes) -> list:
                k = lanes(b, 32)[0] % w
                f = {"shl": lambda x: (x << k) & m, "shr_u": lambda x: x >> k,
                     "shr_s": lambda x: (s(x) >> k) & m}[op]
                return pack([f(x) for x in lanes(a, w)], w)
            return shift
        if op == "all_true":
            return lambda a, b: scalar32(int(all(lanes(a, w))))
        if op == "bitmask":
            return lambda a, b: scalar32(sum(((x >> (w - 1)) & 1) << i for i, x in enumerate(lanes(a, w))))
        if op.startswith("narrow_"):
            signed_ = op.endswith("_s")
            lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed_ else (0, m)
            return lambda a, b: pack([sat(signed(x, 2 * w), lo, hi) & m
                                      for x in lanes(a, 2 * w) + lanes(b, 2 * w)], w)
        if op.startswith(("extend_", "extmul_", "extadd_pairwise")):
            half = w // 2
            conv = (lambda x: signed(x, half)) if op.endswith("_s") else (lambda x: x)
            if op.startswith("extadd"):
                return lambda a, b: pack([(conv(l[2 * i]) + conv(l[2 * i + 1])) & m
                                          for l in [lanes(a, half)] for i in range(n)], w)
            high = "_high_" in op
            def pick(v: bytes) -> List[int]:
                ls = lanes(v, half)
                return ls[n:] if high else ls[:n]
            if op.startswith("extend"):
                return lambda a, b: pack([conv(x) & m for x in pick(a)], w)
            return lambda a, b: pack([(conv(x) * conv(y)) & m for x, y in zip(pick(a), pick(b))], w)
        if op == "dot_i16x8_s":
            return lambda a, b: pack([(signed(x0, 16) * signed(y0, 16) + signed(x1, 16) * signed(y1, 16)) & m
                                      for la, lb in [(lanes(a, 16), lanes(b, 16))]
                                      for x0, x1, y0, y1 in [(la[2 * i], la[2 * i + 1], lb[2 * i], lb[2 * i + 1])
                                                             for i in range(4)]], 32)
        if op == "swizzle":
            return lambda a, b: pack([a[j] if j < 16 else 0 for j in b], 8)
        if op.startswith("trunc_sat_f32x4"):
            lo, hi = (-(2**31), 2**31 - 1) if op.endswith("_s") else (0, 2**32 - 1)
            return lambda a, b: pack([trunc_sat(f32(x), lo, hi) & m for x in lanes(a, 32)], 32)
        if op.startswith("trunc_sat_f64x2"):
            lo, hi = (-(2**31), 2**31 - 1) if "_s_" in op else (0, 2**32 - 1)
            return lambda a, b: pack([trunc_sat(f64(x), lo, hi) & m for x in lanes(a, 64)] + [0, 0], 32)
    else:  # float shapes
        cmpf = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
                "gt": lambda x, y: x > y, "le": lambda x, y: x <= y, "ge": lambda x, y: x >= y}
        F = TOF[w]
        if op in cmpf:
            return lanewise(lambda x, y: m if cmpf[op](F(x), F(y)) else 0)
        arith = {"add": lambda p, q: p + q, "sub": lambda p, q: p - q, "mul": lambda p, q: p * q}
        if op in arith:
            return lanewise(lambda x, y: fresult(w, arith[op](F(x), F(y)), [x, y]))
        if op == "div":
            def div(x: int, y: int):
                p, q = F(x), F(y)
                if q == 0:
                    v = math.nan if p == 0 or math.isnan(p) else math.copysign(math.inf, p) * math.copysign(1, q)
                else:
                    v = p / q
                return fresult(w, v, [x, y])
            return lanewise(div)
        if op == "sqrt":
            return unary(lambda x: fresult(w, math.sqrt(F(x)) if F(x) >= 0 else (math.nan if F(x) == F(x) and F(x) < 0 else F(x)), [x]))
        if op == "min":
            return lanewise(lambda x, y: fmin(w, x, y))
        if op == "max":
            return lanewise(lambda x, y: fmax(w, x, y))
        if op == "pmin":
            return lanewise(lambda x, y: y if F(y) < F(x) else x)
        if op == "pmax":
            return lanewise(lambda x, y: y if F(x) < F(y) else x)
        if op == "abs":
            return unary(lambda x: x & ~(1 << (w - 1)))
        if op == "neg":
            return unary(lambda x: x ^ (1 << (w - 1)))
        rounding = {"ceil": math.ceil, "floor": math.floor, "trunc": math.trunc, "nearest": round_even}
        if op in rounding:
            return unary(lambda x: fround(w, x, lambda v: float(rounding[op](v))))
        if op == "convert_i32x4_s":
            return lambda a, b: pack([f32_of_int(signed(x, 32)) for x in lanes(a, 32)], 32)
        if op == "convert_i32x4_u":
            return lambda a, b: pack([f32_of_int(x) for x in lanes(a, 32)], 32)
        if op == "convert_low_i32x4_s":
            return lambda a, b: pack([b64(float(signed(x, 32))) for x in lanes(a, 32)[:2]], 64)
        if op == "convert_low_i32x4_u":
            return lambda a, b: pack([b64(float(x)) for x in lanes(a, 32)[:2]], 64)
        if op == "demote_f64x2_zero":
            return lambda a, b: pack([demote(x) for x in lanes(a, 64)] + [0, 0], 32)
        if op == "promote_low_f32x4":
            return lambda a, b: pack([promote(x) for x in lanes(a, 32)[:2]], 64)
    raise KeyError(name)


def demote(x: int):
    v = f64(x)
    if math.isnan(v):
        return Lane(32, is_canonical(x, 64))
    return fresult(32, v, [])  # struct rounds to nearest f32 (infinity past the range)


def promote(x: int):
    v = f32(x)
    if math.isnan(v):
        return Lane(64, is_canonical(x, 32))
    return b64(v)


def scalar32(v: int) -> list:
    return pack([v & 0xFFFFFFFF, 0, 0, 0], 32)


# ---- the instructions and their contexts ----------------------------------------------------------

BINARY = (
    [f"i8x16.{c}" for c in ("eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split())]
    + [f"i16x8.{c}" for c in ("eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split())]
    + [f"i32x4.{c}" for c in ("eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split())]
    + [f"i64x2.{c}" for c in ("eq ne lt_s gt_s le_s ge_s".split())]
    + [f"{t}.{c}" for t in ("f32x4", "f64x2") for c in ("eq ne lt gt le ge".split())]
    + ["v128.and", "v128.andnot", "v128.or", "v128.xor", "i8x16.swizzle",
       "i8x16.narrow_i16x8_s", "i8x16.narrow_i16x8_u", "i16x8.narrow_i32x4_s", "i16x8.narrow_i32x4_u"]
    + [f"i8x16.{c}" for c in "add add_sat_s add_sat_u sub sub_sat_s sub_sat_u min_s min_u max_s max_u avgr_u".split()]
    + [f"i16x8.{c}" for c in "add add_sat_s add_sat_u sub sub_sat_s sub_sat_u mul min_s min_u max_s max_u avgr_u q15mulr_sat_s".split()]
    + [f"i16x8.extmul_{h}_i8x16_{s}" for h in ("low", "high") for s in "su"]
    + [f"i32x4.{c}" for c in "add sub mul min_s min_u max_s max_u dot_i16x8_s".split()]
    + [f"i32x4.extmul_{h}_i16x8_{s}" for h in ("low", "high") for s in "su"]
    + ["i64x2.add", "i64x2.sub", "i64x2.mul"]
    + [f"i64x2.extmul_{h}_i32x4_{s}" for h in ("low", "high") for s in "su"]
    + [f"{t}.{c}" for t in ("f32x4", "f64x2") for c in "add sub mul div min max pmin pmax".split()]
)
UNARY = (
    ["v128.not"] + [f"{t}.{c}" for t in ("i8x16", "i16x8", "i32x4", "i64x2") for c in ("abs", "neg")]
    + ["i8x16.popcnt", "i16x8.extadd_pairwise_i8x16_s", "i16x8.extadd_pairwise_i8x16_u",
       "i32x4.extadd_pairwise_i16x8_s", "i32x4.extadd_pairwise_i16x8_u"]
    + [f"i16x8.extend_{h}_i8x16_{s}" for h in ("low", "high") for s in "su"]
    + [f"i32x4.extend_{h}_i16x8_{s}" for h in ("low", "high") for s in "su"]
    + [f"i64x2.extend_{h}_i32x4_{s}" for h in ("low", "high") for s in "su"]
    + [f"{t}.{c}" for t in ("f32x4", "f64x2") for c in "abs neg sqrt ceil floor trunc nearest".split()]
    + ["i32x4.trunc_sat_f32x4_s", "i32x4.trunc_sat_f32x4_u", "f32x4.convert_i32x4_s", "f32x4.convert_i32x4_u",
       "i32x4.trunc_sat_f64x2_s_zero", "i32x4.trunc_sat_f64x2_u_zero", "f64x2.convert_low_i32x4_s",
       "f64x2.convert_low_i32x4_u", "f32x4.demote_f64x2_zero", "f64x2.promote_low_f32x4"]
)
TESTS = ["v128.any_true"] + [f"{t}.{c}" for t in ("i8x16", "i16x8", "i32x4", "i64x2") for c in ("all_true", "bitmask")]
SHIFTS = [f"{t}.{c}" for t in ("i8x16", "i16x8", "i32x4", "i64x2") for c in ("shl", "shr_s", "shr_u")]
SCALAR = {"i8x16": "i32", "i16x8": "i32", "i32x4": "i32", "i64x2": "i64", "f32x4": "f32", "f64x2": "f64"}
SHUFFLES = [list(range(16)), list(range(16, 32)), [0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31],
            list(range(31, -1, -2)), [5] * 16, [3, 30, 1, 0, 31, 16, 15, 14, 8, 9, 24, 25, 2, 2, 29, 28]]

A, B = "(local.get $a)", "(local.get $b)"
ZERO = "(v128.const i64x2 0 0)"


def scalar_of_b(t: str, in_register: bool) -> str:
    """b's lane 0 as a scalar of type t: read from the slot extract_lane writes, or computed
    into r0 / fp0 by an operation that keeps its bits."""
    lane = {"i32": "(i32x4.extract_lane 0 (local.get $b))", "i64": "(i64x2.extract_lane 0 (local.get $b))",
            "f32": "(f32x4.extract_lane 0 (local.get $b))", "f64": "(f64x2.extract_lane 0 (local.get $b))"}[t]
    if not in_register:
        return lane
    return {"i32": f"(i32.add {lane} (i32.const 0))", "i64": f"(i64.add {lane} (i64.const 0))",
            "f32": "(f32.reinterpret_i32 (i32.add (i32x4.extract_lane 0 (local.get $b)) (i32.const 0)))",
            "f64": "(f64.reinterpret_i64 (i64.add (i64x2.extract_lane 0 (local.get $b)) (i64.const 0)))"}[t]


def b_lane0(b: bytes, t: str) -> int:
    return int.from_bytes(b[:4 if t in ("i32", "f32") else 8], "little")


Context = Tuple[str, str, Callable[[bytes, bytes], list]]  # (label, body, model)


def op_contexts() -> List[Context]:
    out: List[Context] = []
    for name in BINARY:
        f = model(name)
        expr = f"({name} {A} {B})"
        out += [(f"{name} plain", expr, f),
                (f"{name} set", f"(local.set $r {expr}) (local.get $r)", f),
                (f"{name} alias", f"(local.set $a {expr}) (local.get $a)", f),
                (f"{name} alias_b", f"(local.set $b {expr}) (local.get $b)", f)]
    for name in UNARY:
        f = model(name)
        expr = f"({name} {A})"
        out += [(f"{name} plain", expr, f), (f"{name} alias", f"(local.set $a {expr}) (local.get $a)", f)]
    for name in TESTS:
        out.append((f"{name} plain", f"(i32x4.replace_lane 0 {ZERO} ({name} {A}))", model(name)))
    for name in SHIFTS:
        f = model(name)
        for reg in (False, True):
            out.append((f"{name} {'reg' if reg else 'slot'}", f"({name} {A} {scalar_of_b('i32', reg)})", f))
        out.append((f"{name} alias", f"(local.set $a ({name} {A} {scalar_of_b('i32', False)})) (local.get $a)", f))
    out.append(("v128.bitselect plain", f"(v128.bitselect {A} {B} (v128.xor {A} {B}))", bitselect))
    out.append(("v128.bitselect alias",
                f"(local.set $a (v128.bitselect {A} {B} (v128.xor {A} {B}))) (local.get $a)", bitselect))
    for shape, (w, n) in SHAPES.items():
        t = SCALAR[shape]
        for reg in (False, True):
            out.append((f"{shape}.splat {'reg' if reg else 'slot'}", f"({shape}.splat {scalar_of_b(t, reg)})",
                        lambda a, b, w=w, n=n, t=t: pack([b_lane0(b, t) & ((1 << w) - 1)] * n, w)))
        for lane in (0, n - 1):
            for reg in (False, True):
                out.append((f"{shape}.replace_lane {lane} {'reg' if reg else 'slot'}",
                            f"({shape}.replace_lane {lane} {A} {scalar_of_b(t, reg)})",
                            lambda a, b, w=w, lane=lane, t=t: replace(a, w, lane, b_lane0(b, t) & ((1 << w) - 1))))
            if shape in ("i8x16", "i16x8"):
                for sfx, sgn in (("_s", True), ("_u", False)):
                    out.append((f"{shape}.extract_lane{sfx} {lane}",
                                f"(i32x4.replace_lane 0 {ZERO} ({shape}.extract_lane{sfx} {lane} {A}))",
                                lambda a, b, w=w, lane=lane, sgn=sgn: scalar32(
                                    signed(lanes(a, w)[lane], w) if sgn else lanes(a, w)[lane])))
            else:
                out.append((f"{shape}.extract_lane {lane}",
                            f"({shape}.replace_lane 0 {ZERO} ({shape}.extract_lane {lane} {A}))",
                            lambda a, b, w=w, lane=lane: pack([lanes(a, w)[lane]] + [0] * (128 // w - 1), w)))
    for k, idx in enumerate(SHUFFLES):
        out.append((f"i8x16.shuffle #{k}", f"(i8x16.shuffle {' '.join(map(str, idx))} {A} {B})",
                    lambda a, b, idx=idx: pack([(a + b)[j] for j in idx], 8)))
    out += memory_contexts()
    # a v128.const operand (from the constant table) and a select of v128
    out.append(("i32x4.add const", f"(i32x4.add {A} (v128.const i32x4 1 -1 0x7fffffff 0x80000000))",
                lambda a, b: pack([(x + y) & 0xFFFFFFFF for x, y in
                                   zip(lanes(a, 32), [1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000])], 32)))
    out.append(("select v128", f"(select {A} {B} (i32x4.extract_lane 0 {A}))",
                lambda a, b: pack(list(a if lanes(a, 32)[0] else b), 8)))
    out.append(("select v128 reg", f"(select (result v128) {A} {B} (i32.add (i32x4.extract_lane 1 {A}) (i32.const 0)))",
                lambda a, b: pack(list(a if lanes(a, 32)[1] else b), 8)))
    out += control_contexts()
    return out


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def add64(a: bytes, b: bytes) -> bytes:
    return b"".join(((x + y) & (2**64 - 1)).to_bytes(8, "little") for x, y in zip(lanes(a, 64), lanes(b, 64)))


def control_contexts() -> List[Context]:
    """v128 values through calls (mixed with other types: their frame offsets), multi-value
    blocks, if/else and br_table (the copies of block results)."""
    def mixed(a: bytes, b: bytes) -> list:
        r = bytearray(xor(a, b))
        r[0:4] = (21).to_bytes(4, "little")
        r[8:16] = (4).to_bytes(8, "little")
        return pack(list(r), 8)
    return [
        ("call (i32 v128 i64 v128) -> (i64 v128 i32)",
         f"(call $mix (i32.const 7) {A} (i64.const -3) {B}) (local.set $n) (local.set $r) (local.set $w) "
         "(i64x2.replace_lane 1 (i32x4.replace_lane 0 (local.get $r) (local.get $n)) (local.get $w))", mixed),
        ("block (v128 v128) -> (v128 v128)",
         f"{A} {B} (block (param v128 v128) (result v128 v128) (local.set $r) (local.get $r) (i64x2.add) {A}) "
         "(v128.xor)", lambda a, b: pack(list(xor(add64(a, b), a)), 8)),
        ("loop (v128) -> (v128)",
         f"(local.set $n (i32.const 3)) {A} (loop (param v128) (result v128) {B} (i64x2.add) "
         "(local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if 0 (local.get $n)))",
         lambda a, b: pack(list(add64(add64(add64(a, b), b), b)), 8)),
        ("if (result v128)", f"(if (result v128) (i32x4.extract_lane 0 {B}) (then {A}) (else {B}))",
         lambda a, b: pack(list(a if lanes(b, 32)[0] else b), 8)),
        ("br_table v128",
         f"(block $outer (result v128) (i64x2.add (block $inner (result v128) {A} "
         f"(br_table $inner $outer (i32.and (i32x4.extract_lane 0 {B}) (i32.const 1)))) {B}))",
         lambda a, b: pack(list(a if lanes(b, 32)[0] & 1 else add64(a, b)), 8)),
    ]


def bitselect(a: bytes, b: bytes) -> list:
    c = bytes(x ^ y for x, y in zip(a, b))
    return pack([(x & z) | (y & ~z & 0xFF) for x, y, z in zip(a, b, c)], 8)


def replace(a: bytes, w: int, lane: int, x: int) -> list:
    ls = lanes(a, w)
    ls[lane] = x
    return pack(ls, w)


# memory: 128 bytes at 64: a, b, zeros (the function stores a and b there first)
MEM_BASE = 64


def memory_image(a: bytes, b: bytes) -> bytes:
    return a + b + bytes(96)


LOADS = {  # name -> (bytes read, result from them)
    "v128.load": (16, lambda m: pack(list(m), 8)),
    "v128.load8x8_s": (8, lambda m: pack([signed(x, 8) & 0xFFFF for x in m], 16)),
    "v128.load8x8_u": (8, lambda m: pack(list(m), 16)),
    "v128.load16x4_s": (8, lambda m: pack([signed(x, 16) & 0xFFFFFFFF for x in lanes(m + bytes(8), 16)[:4]], 32)),
    "v128.load16x4_u": (8, lambda m: pack(lanes(m + bytes(8), 16)[:4], 32)),
    "v128.load32x2_s": (8, lambda m: pack([signed(x, 32) & (2**64 - 1) for x in lanes(m + bytes(8), 32)[:2]], 64)),
    "v128.load32x2_u": (8, lambda m: pack(lanes(m + bytes(8), 32)[:2], 64)),
    "v128.load8_splat": (1, lambda m: pack([m[0]] * 16, 8)),
    "v128.load16_splat": (2, lambda m: pack(list(m) * 8, 8)),
    "v128.load32_splat": (4, lambda m: pack(list(m) * 4, 8)),
    "v128.load64_splat": (8, lambda m: pack(list(m) * 2, 8)),
    "v128.load32_zero": (4, lambda m: pack(list(m) + [0] * 12, 8)),
    "v128.load64_zero": (8, lambda m: pack(list(m) + [0] * 8, 8)),
}
LANE_WIDTHS = {8: 16, 16: 8, 32: 4, 64: 2}


def memory_contexts() -> List[Context]:
    out: List[Context] = []
    store = f"(v128.store (i32.const {MEM_BASE}) {A}) (v128.store (i32.const {MEM_BASE + 16}) {B}) "
    for name, (size, f) in LOADS.items():
        for addr, offset in ((MEM_BASE, 0), (MEM_BASE + 3, 0), (MEM_BASE + 1, 14), (MEM_BASE + 16, 9)):
            for reg in (False, True):
                address = f"(i32.add (local.get $addr) (i32.const {addr}))" if reg else f"(local.get $addr{addr})"
                start = addr + offset - MEM_BASE
                out.append((f"{name} {addr}+{offset} {'reg' if reg else 'slot'}",
                            f"{store}({name} offset={offset} {address})",
                            lambda a, b, f=f, start=start, size=size: f(memory_image(a, b)[start:start + size])))
    for w, n in LANE_WIDTHS.items():
        for lane in (0, n - 1):
            for reg in (False, True):
                addr = MEM_BASE + 5
                address = f"(i32.add (local.get $addr) (i32.const {addr}))" if reg else f"(local.get $addr{addr})"
                out.append((f"v128.load{w}_lane {lane} {'reg' if reg else 'slot'}",
                            f"{store}(v128.load{w}_lane offset=2 {lane} {address} {A})",
                            lambda a, b, w=w, lane=lane: replace(
                                a, w, lane, int.from_bytes(memory_image(a, b)[7:7 + w // 8], "little"))))
                out.append((f"v128.store{w}_lane {lane} {'reg' if reg else 'slot'}",
                            f"{store}(v128.store{w}_lane offset=1 {lane} {address} {B}) "
                            f"(v128.load (i32.const {MEM_BASE}))",
                            lambda a, b, w=w, lane=lane: pack(list(store_bytes(a, 6, b[lane * w // 8:(lane + 1) * w // 8])), 8)))
    for reg in (False, True):
        addr = MEM_BASE + 3
        address = f"(i32.add (local.get $addr) (i32.const {addr}))" if reg else f"(local.get $addr{addr})"
        out.append((f"v128.store {'reg' if reg else 'slot'}",
                    f"{store}(v128.store offset=2 {address} {B}) (v128.load (i32.const {MEM_BASE}))",
                    lambda a, b: pack(list(store_bytes(a, 5, b)), 8)))
    return out


def store_bytes(a: bytes, at: int, data: bytes) -> bytes:
    """The 16 bytes at MEM_BASE after writing data at MEM_BASE + at (a there before)."""
    img = bytearray(a + bytes(32))
    img[at:at + len(data)] = data
    return bytes(img[:16])


def contexts() -> List[Context]:
    return op_contexts()


def expected(vectors: List[bytes]) -> List[Tuple[str, bytes, bytes, list]]:
    """For every pair and context: (label, a, b, result lanes)."""
    out = []
    ctx = contexts()
    for a in vectors:
        for b in vectors:
            for label, _body, f in ctx:
                out.append((label, a, b, f(a, b)))
    return out


def matches(got: bytes, want: list) -> bool:
    at = 0
    for w, lane in want:
        g = int.from_bytes(got[at:at + w // 8], "little")
        at += w // 8
        if isinstance(lane, Lane):
            if not lane.matches(g):
                return False
        elif g != lane:
            return False
    return at == 16


# ---- the plugin -----------------------------------------------------------------------------------

OUT_BASE = 1024


def wat() -> str:
    ctx = contexts()
    addrs = sorted({int(tok[len("$addr"):].rstrip(")")) for _l, body, _f in ctx
                    for tok in body.split() if tok.startswith("$addr") and tok[5:].rstrip(")").isdigit()})
    lines = [
        ";; generated by tests/unit/simd_ops_gen.py: do not edit",
        "(module",
        '  (import "extism:host/env" "input_length" (func $input_length (result i64)))',
        '  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))',
        '  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))',
        '  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))',
        '  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))',
        "  (memory 1)",
        "  (global $out (mut i32) (i32.const 0))",
        "  (global $scratch (mut v128) (v128.const i64x2 0 0))",
        f"  (type $op (func (param v128 v128) (result v128)))",
        f"  (table {len(ctx)} funcref)",
    ]
    for k, (label, body, _f) in enumerate(ctx):
        params = "(param $a v128) (param $b v128)"
        locals_ = "(local $r v128) (local $addr i32) (local $n i32) (local $w i64)" + "".join(f" (local $addr{x} i32)" for x in addrs
                                                                    if f"$addr{x}" in body)
        init = "".join(f" (local.set $addr{x} (i32.const {x}))" for x in addrs if f"$addr{x}" in body)
        lines.append(f"  (func $f{k} (type $op) {params} (result v128) {locals_}  ;; {label}")
        lines.append(f"   {init} (v128.store (i32.const 0) (v128.const i64x2 0 0)) (v128.store (i32.const {MEM_BASE + 32}) {ZERO})"
                     f" (v128.store (i32.const {MEM_BASE + 48}) {ZERO}) (v128.store (i32.const {MEM_BASE + 64}) {ZERO})")
        lines.append(f"    {body})")
        lines.append(f"  (elem (i32.const {k}) func $f{k})")
    lines += [
        "  (func $mix (param $x i32) (param $p v128) (param $y i64) (param $q v128) (result i64 v128 i32)",
        "    (i64.add (local.get $y) (i64.extend_i32_u (local.get $x))) (v128.xor (local.get $p) (local.get $q))",
        "    (i32.mul (local.get $x) (i32.const 3)))",
        # run: n vectors in; every pair, every context: the 16 bytes of the result out
        "  (func (export \"run\") (result i32)",
        "    (local $n i32) (local $i i32) (local $j i32) (local $k i32) (local $a v128) (local $b v128)",
        "    (local $h i64) (local $len i32) (local $p i32)",
        "    (local.set $n (i32.wrap_i64 (i64.shr_u (call $input_length) (i64.const 4))))",
        "    (local.set $len (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $n))",
        f"                                      (i32.const {len(ctx)})) (i32.const 16)))",
        "    (local.set $h (call $alloc (i64.extend_i32_u (local.get $len))))",
        "    (block $done (loop $pairs",
        "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))",
        "      (local.set $a (i64x2.replace_lane 1",
        "        (i64x2.splat (call $input_load_u64 (i64.extend_i32_u (i32.shl (local.get $i) (i32.const 4)))))",
        "        (call $input_load_u64 (i64.extend_i32_u (i32.add (i32.shl (local.get $i) (i32.const 4)) (i32.const 8))))))",
        "      (local.set $b (i64x2.replace_lane 1",
        "        (i64x2.splat (call $input_load_u64 (i64.extend_i32_u (i32.shl (local.get $j) (i32.const 4)))))",
        "        (call $input_load_u64 (i64.extend_i32_u (i32.add (i32.shl (local.get $j) (i32.const 4)) (i32.const 8))))))",
        "      (local.set $k (i32.const 0))",
        "      (loop $ops",
        "        (global.set $scratch (call_indirect (type $op) (local.get $a) (local.get $b) (local.get $k)))",
        "        (call $store_u64 (i64.add (local.get $h) (i64.extend_i32_u (local.get $p)))",
        "                         (i64x2.extract_lane 0 (global.get $scratch)))",
        "        (call $store_u64 (i64.add (local.get $h) (i64.extend_i32_u (i32.add (local.get $p) (i32.const 8))))",
        "                         (i64x2.extract_lane 1 (global.get $scratch)))",
        "        (local.set $p (i32.add (local.get $p) (i32.const 16)))",
        "        (local.set $k (i32.add (local.get $k) (i32.const 1)))",
        f"        (br_if $ops (i32.lt_u (local.get $k) (i32.const {len(ctx)}))))",
        "      (local.set $j (i32.add (local.get $j) (i32.const 1)))",
        "      (if (i32.ge_u (local.get $j) (local.get $n))",
        "        (then (local.set $j (i32.const 0)) (local.set $i (i32.add (local.get $i) (i32.const 1)))))",
        "      (br $pairs)))",
        "    (call $output_set (local.get $h) (i64.extend_i32_u (local.get $len)))",
        "    (i32.const 0))",
        # bounds: v128.load / store at the address given (4 bytes of input); traps past the end
        "  (func (export \"load_at\") (result i32) (local $v v128)",
        "    (local.set $v (v128.load (i32.wrap_i64 (call $input_load_u64 (i64.const 0)))))",
        "    (i32.const 0))",
        "  (func (export \"store_at\") (result i32)",
        "    (v128.store (i32.wrap_i64 (call $input_load_u64 (i64.const 0))) (v128.const i64x2 -1 -1))",
        "    (i32.const 0))",
        "  (func (export \"load_lane_at\") (result i32) (local $v v128)",
        "    (local.set $v (v128.load64_lane 1 (i32.wrap_i64 (call $input_load_u64 (i64.const 0))) (local.get $v)))",
        "    (i32.const 0))",
        ")",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(wat())
