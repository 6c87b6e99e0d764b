#!/usr/bin/env python3
"""Mutation fuzzing of wasm3's decoder and compiler on the spec suite's modules.

    python tests/spec/fuzz.py --runner build/asan/tests/spec/spec_run --seconds 600

Every round takes modules of the converted suite (tests/spec/fetch.py), mutates each a few
times (byte flips, interesting values, LEB-breaking bytes, insertions, deletions, duplicated
chunks), or with --generate makes modules whose function bodies are random but well-nested
instruction sequences (blocks with parameters and results, branches, unreachable code,
locals, globals, tables, bulk memory: mostly ill-typed, which wasm3 must refuse or compile
without corrupting memory), and has a sanitizer build of spec_run load, link and compile them
in one process (`--load`: no guest code runs).  With --check-valid, a generated module that
wabt's wasm-validate accepts but wasm3 refuses is a finding too (a compiler bug on valid
code, like the unreachable-code bookkeeping of patch 0015).  A crash, or an AddressSanitizer/UBSan report, is bisected to
the module that caused it, which is saved in the crash directory.  Nothing here is random
between runs unless --seed changes.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch  # noqa: E402

INTERESTING = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x40, 0x0B, 0x02, 0x03, 0x04, 0x05, 0x0C, 0x0E,
               0x1A, 0x20, 0x21, 0x41, 0x6F, 0x70, 0xFC, 0xD0, 0xD2]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A few random edits, past the 8-byte header most of the time."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if len(buf) <= 8:
            break
        i = rng.randrange(8, len(buf))
        op = rng.randrange(6)
        if op == 0:
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[i] = rng.choice(INTERESTING)
        elif op == 2:
            buf[i:i] = bytes([rng.choice(INTERESTING)])
        elif op == 3:
            del buf[i]
        elif op == 4:
            j = rng.randrange(i, min(len(buf), i + 16) + 1)
            buf[i:i] = buf[i:j]
        else:
            buf[i:i + 1] = b"\xff\xff\xff\xff\x0f"  # a huge LEB
    return bytes(buf)


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vec(items: List[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


VALTYPES = [0x7F, 0x7E, 0x7D, 0x7C, 0x70, 0x6F]
TYPES = [([], []), ([0x7F], [0x7F]), ([0x7F, 0x7E], [0x7D, 0x7C, 0x7F]), ([0x7E, 0x7E], [0x7E]),
         ([0x70], [0x6F]), ([], [0x7F, 0x7F]), ([0x7C], []), ([0x7F, 0x7F, 0x7F], [0x7F])]
NUMERIC = list(range(0x45, 0xC5))


I32, I64, F32, F64, FUNCREF, EXTERNREF = 0x7F, 0x7E, 0x7D, 0x7C, 0x70, 0x6F
CONST = {I32: b"\x41\x05", I64: b"\x42\x7b", F32: b"\x43\x00\x00\x80\x3f",
         F64: b"\x44" + bytes(7) + b"\x40", FUNCREF: b"\xd0\x70", EXTERNREF: b"\xd0\x6f"}
# opcode, operand types, result types
OPS = [(b"\x6a", [I32, I32], [I32]), (b"\x7c", [I64, I64], [I64]), (b"\x92", [F32, F32], [F32]),
       (b"\xa0", [F64, F64], [F64]), (b"\x45", [I32], [I32]), (b"\x50", [I64], [I32]),
       (b"\xac", [I32], [I64]), (b"\xb7", [I32], [F64]), (b"\xa7", [I64], [I32]),
       (b"\xb6", [F64], [F32]), (b"\xbb", [F32], [F64]), (b"\xbc", [F32], [I32]),
       (b"\x5b", [F32, F32], [I32]), (b"\x63", [F64, F64], [I32]), (b"\x6d", [I32, I32], [I32]),
       (b"\x28\x02\x00", [I32], [I32]), (b"\x29\x03\x00", [I32], [I64]),
       (b"\x2b\x03\x00", [I32], [F64]), (b"\x36\x02\x04", [I32, I32], []),
       (b"\x39\x03\x08", [I32, F64], []), (b"\x3f\x00", [], [I32]), (b"\x40\x00", [I32], [I32]),
       (b"\x25\x00", [I32], [FUNCREF]), (b"\x26\x00", [I32, FUNCREF], []),
       (b"\xd1", [FUNCREF], [I32]), (b"\xfc\x10\x00", [], [I32]),
       (b"\xfc\x0f\x00", [FUNCREF, I32], [I32]), (b"\xfc\x0b\x00", [I32, I32, I32], []),
       (b"\xfc\x0a\x00\x00", [I32, I32, I32], []), (b"\xfc\x08\x00\x00", [I32, I32, I32], []),
       (b"\xfc\x11\x00", [I32, FUNCREF, I32], []), (b"\xfc\x00", [F32], [I32]),
       (b"\xc4", [I64], [I64]), (b"\x23\x00", [], [I32]), (b"\x24\x00", [I32], []),
       (b"\x23\x01", [], [I64])]


class Frame:
    """A block being generated: its label's types, its results, its operand stack."""

    def __init__(self, op: int, params: List[int], results: List[int]) -> None:
        self.op, self.params, self.results = op, params, results
        self.stack: List[int] = list(params)
        self.unreachable = False
        self.else_done = op != 0x04

    def label(self) -> List[int]:
        return self.params if self.op == 0x03 else self.results


def body(rng: random.Random, nfuncs: int, locals_: List[int], results: List[int],
         sloppy: float) -> bytes:
    """A random instruction sequence, type-correct but for a `sloppy` share of the
    instructions, ending with the function's end."""
    out = bytearray()
    frames = [Frame(0x02, [], results)]

    def push_values(types: List[int]) -> None:
        f = frames[-1]
        for t in types:
            out.extend(CONST[t])
            f.stack.append(t)

    def need(types: List[int]) -> None:
        """Make the top of the stack `types` (pushing constants), unless unreachable."""
        f = frames[-1]
        if f.unreachable and not f.stack:
            return  # taken from the polymorphic stack of unreachable code
        if f.stack[len(f.stack) - len(types):] != types or len(f.stack) < len(types):
            push_values(types)
        del f.stack[len(f.stack) - len(types):]

    def settle(types: List[int]) -> None:
        """Make the frame's stack exactly `types`: what is there is dropped otherwise."""
        f = frames[-1]
        if f.stack != types:
            out.extend(b"\x1a" * len(f.stack))
            f.stack = []
            push_values(types)
        f.stack = []

    def close() -> None:
        f = frames[-1]
        settle(f.results)
        if f.op == 0x04 and not f.else_done and f.params != f.results:
            out.append(0x05)  # an if whose types differ needs its else
            f.stack, f.unreachable = list(f.params), False
            settle(f.results)
        out.append(0x0B)
        frames.pop()
        if frames:
            frames[-1].stack.extend(f.results)

    for _ in range(rng.randint(1, 80)):
        f = frames[-1]
        if rng.random() < sloppy:  # an arbitrary instruction, typed or not
            out.extend(rng.choice(OPS)[0] if rng.random() < 0.7 else
                       bytes([rng.choice([0x00, 0x0F, 0x1A, 0x1B, 0x0C, 0x0D])]) + b"\x00")
            continue
        k = rng.random()
        if k < 0.1 and len(frames) < 10:
            params, results_ = rng.choice(TYPES)
            op = rng.choice([0x02, 0x03, 0x04])
            need(params)
            if op == 0x04:
                push_values([I32])
                f.stack.pop()
            if not params and len(results_) <= 1 and rng.random() < 0.5:
                imm = b"\x40" if not results_ else bytes([results_[0]])
            else:
                imm = uleb(TYPES.index((params, results_)))
            out += bytes([op]) + imm
            frames.append(Frame(op, params, results_))
        elif k < 0.18 and len(frames) > 1:
            if f.op == 0x04 and not f.else_done and rng.random() < 0.5:
                settle(f.results)
                out.append(0x05)
                f.stack, f.unreachable, f.else_done = list(f.params), False, True
            else:
                close()
        elif k < 0.26:
            depth = rng.randrange(len(frames))
            target = frames[-1 - depth]
            op = rng.choice([0x0C, 0x0D, 0x0E])
            if op == 0x0D:
                need(target.label())
                push_values([I32])
                f.stack.pop()
                out += b"\x0d" + uleb(depth)
                f.stack.extend(target.label())
            else:
                need(target.label())
                if op == 0x0E:
                    push_values([I32])
                    f.stack.pop()
                    n = rng.randint(0, 3)
                    same = [d for d in range(len(frames)) if frames[-1 - d].label() == target.label()]
                    out += b"\x0e" + uleb(n) + b"".join(uleb(rng.choice(same)) for _ in range(n + 1))
                else:
                    out += b"\x0c" + uleb(depth)
                f.stack, f.unreachable = [], True
        elif k < 0.3:
            out.append(rng.choice([0x00, 0x0F]))
            if out[-1] == 0x0F:
                out.pop()
                need(frames[0].results)
                out.append(0x0F)
            f.stack, f.unreachable = [], True
        elif k < 0.42 and locals_:
            i = rng.randrange(len(locals_))
            op = rng.choice([0x20, 0x21, 0x22])
            if op != 0x20:
                need([locals_[i]])
            out += bytes([op]) + uleb(i)
            if op != 0x21:
                f.stack.append(locals_[i])
        elif k < 0.47:
            fi = rng.randrange(nfuncs)
            params, res = CALLEE_TYPES[fi]
            need(params)
            out += b"\x10" + uleb(fi)
            f.stack.extend(res)
        elif k < 0.5:
            ti = rng.randrange(len(TYPES))
            need(TYPES[ti][0] + [I32])
            out += b"\x11" + uleb(ti) + rng.choice([b"\x00", b"\x80\x00"])
            f.stack.extend(TYPES[ti][1])
        elif k < 0.55 and f.stack and not f.unreachable:
            t = f.stack[-1]
            if rng.random() < 0.5:
                out.append(0x1A)
                f.stack.pop()
            else:
                need([t])
                push_values([t, I32])
                f.stack[-2:] = []
                out += b"\x1b" if t in (I32, I64, F32, F64) else b"\x1c\x01" + bytes([t])
                f.stack.append(t)
        elif k < 0.65:
            push_values([rng.choice(VALTYPES)])
        else:
            code, ins, outs = rng.choice(OPS)
            need(ins)
            out += code
            f.stack.extend(outs)
    while frames:
        close()
    return bytes(out)


CALLEE_TYPES: List[tuple] = []


def generate(rng: random.Random) -> bytes:
    """A module of a few random functions over a fixed set of types, globals, a table, a
    memory, an element and a data segment."""
    nfuncs = rng.randint(1, 4)
    types = [b"\x60" + vec([bytes([t]) for t in p]) + vec([bytes([t]) for t in r])
             for p, r in TYPES]
    ftypes = [rng.randrange(len(TYPES)) for _ in range(nfuncs)]
    bodies = []
    CALLEE_TYPES[:] = [TYPES[t] for t in ftypes]
    sloppy = rng.choice([0.0, 0.0, 0.01, 0.05])
    for t in ftypes:
        decls = [(rng.randint(1, 3), rng.choice(VALTYPES)) for _ in range(rng.randint(0, 3))]
        locals_ = list(TYPES[t][0]) + [vt for n, vt in decls for _ in range(n)]
        code = vec([uleb(n) + bytes([vt]) for n, vt in decls]) + body(
            rng, nfuncs, locals_, list(TYPES[t][1]), sloppy)
        bodies.append(uleb(len(code)) + code)
    return (b"\0asm\1\0\0\0" + section(1, vec(types)) + section(3, vec([uleb(t) for t in ftypes]))
            + section(4, vec([b"\x70\x00\x04"])) + section(5, vec([b"\x00\x01"]))
            + section(6, vec([b"\x7f\x01\x41\x00\x0b", b"\x7e\x00\x42\x05\x0b"]))
            + section(9, vec([b"\x01\x00" + vec([uleb(i) for i in range(nfuncs)])]))
            + section(12, uleb(1)) + section(10, vec(bodies)) + section(11, vec([b"\x01\x03abc"])))


def run(runner: Path, files: List[Path]) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1")
    return subprocess.run([str(runner), "--load", *map(str, files)], capture_output=True,
                          text=True, timeout=300, env=env)


def bad(out: subprocess.CompletedProcess) -> bool:
    return (out.returncode != 0 or "ERROR: AddressSanitizer" in out.stderr
            or "runtime error:" in out.stderr or "LeakSanitizer" in out.stderr)


def bisect(runner: Path, files: List[Path]) -> Path:
    while len(files) > 1:
        half = files[:len(files) // 2]
        files = half if bad(run(runner, half)) else files[len(files) // 2:]
    return files[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runner", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=300)
    ap.add_argument("--crashes", type=Path, default=fetch.default_cache() / "crashes")
    ap.add_argument("--generate", action="store_true", help="random well-nested bodies")
    ap.add_argument("--check-valid", action="store_true",
                    help="with --generate: valid modules (wasm-validate) must load")
    args = ap.parse_args()
    corpus = sorted((fetch.default_cache() / "json").glob("*/*.wasm"))
    if not corpus and not args.generate:
        print("no modules: run tests/spec/fetch.py first", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    rounds = modules = found = 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < deadline:
            files = []
            for k in range(args.batch):
                path = Path(tmp) / f"m{k}.wasm"
                if args.generate:
                    path.write_bytes(generate(rng))
                else:
                    path.write_bytes(mutate(rng.choice(corpus).read_bytes(), rng))
                files.append(path)
            out = run(args.runner, files)
            rounds += 1
            modules += len(files)
            if args.check_valid and not bad(out):
                refused = {ln.split(" ", 2)[1].rstrip(":"): ln for ln in out.stderr.splitlines()
                           if ln.startswith("REFUSED ")}
                for path in files:
                    if str(path) in refused and subprocess.run(
                            ["wasm-validate", str(path)], capture_output=True).returncode == 0:
                        args.crashes.mkdir(parents=True, exist_ok=True)
                        saved = args.crashes / f"refused-{args.seed}-{rounds}-{path.name}"
                        saved.write_bytes(path.read_bytes())
                        print(f"finding: {saved}: valid but {refused[str(path)]}", flush=True)
                        found += 1
            if bad(out):
                culprit = bisect(args.runner, files)
                args.crashes.mkdir(parents=True, exist_ok=True)
                saved = args.crashes / f"crash-{args.seed}-{rounds}.wasm"
                saved.write_bytes(culprit.read_bytes())
                report = run(args.runner, [culprit]).stderr
                saved.with_suffix(".txt").write_text(report)
                first = next((ln for ln in report.splitlines()
                              if "ERROR" in ln or "runtime error" in ln), report[-300:])
                print(f"finding: {saved}: {first}", flush=True)
                found += 1
    print(f"{rounds} rounds, {modules} modules, {found} findings")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
