#!/usr/bin/env python3
"""Differential fuzzing of the two engines: generated modules must behave the same on wasm3
and on the compiled tier.

    python tests/native/fuzz_diff.py --runner build/c/tests/native/diff_engines --seconds 600

Modules come from tests/spec/fuzz.py's generator (random well-nested function bodies over
blocks with parameters and results, branches, unreachable code, locals, globals, a table, a
memory, bulk memory), every function called by index through engine.call; or, with --mutate, from the spec suite's modules mutated (those the validator
refuses are skipped).  diff_engines (diff_engines.c) runs each module on both engines and
compares every call's results or trap, memory, globals and host calls (the generator's sloppy
modules, which the validator refuses, are skipped).  A difference is saved
with its report in the crash directory.  The compiled tier compiles every module with the C
compiler (a cache entry each, in a temporary cache by default): expect a few modules per
second.  A sanitizer build of diff_engines (EXN_SANITIZE=address,undefined) checks the engines
too; EXTISM_NATIVE_SANITIZE=undefined builds the generated code with UBSan as well.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "spec"))
import fetch  # noqa: E402
import fuzz  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runner", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--mutate", action="store_true", help="mutated spec-suite modules")
    ap.add_argument("--only", default="",
                    help="with --mutate: only the scripts whose name contains this (e.g. simd)")
    ap.add_argument("--crashes", type=Path, default=fetch.default_cache() / "diffs")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    corpus = sorted(p for p in (fetch.default_cache() / "json").glob("*/*.wasm")
                    if args.only in p.parent.name) if args.mutate else []
    if args.mutate and not corpus:
        print("no modules: run tests/spec/fetch.py first", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.seconds
    rounds = modules = found = ran = calls = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.setdefault("EXTISM_NATIVE_CACHE_DIR", str(Path(tmp) / "cache"))
        while time.monotonic() < deadline:
            files = []
            for k in range(args.batch):
                path = Path(tmp) / f"m{k}.wasm"
                if args.mutate:
                    data = fuzz.mutate(rng.choice(corpus).read_bytes(), rng)
                else:
                    data = fuzz.generate(rng)  # (its sloppy ones the validator refuses: skipped)
                path.write_bytes(data)
                files.append(path)
            out = subprocess.run([str(args.runner), *map(str, files)], capture_output=True,
                                 text=True, timeout=3600, env=env)
            rounds += 1
            modules += len(files)
            last = out.stdout.strip().splitlines()[-1:] or ["{}"]
            try:
                summary = json.loads(last[0])
                ran += summary.get("ran", 0)
                calls += summary.get("calls", 0)
            except ValueError:
                pass
            bad = [ln for ln in out.stdout.splitlines() if ln.startswith("DIFF ")]
            if out.returncode not in (0, 1) or (out.returncode == 1 and not bad):
                bad.append(f"CRASH exit {out.returncode}: {out.stderr[-500:]}")
            if bad:
                args.crashes.mkdir(parents=True, exist_ok=True)
                names = {ln.split(" ")[1].rstrip(":") for ln in bad if ln.startswith("DIFF ")}
                for path in files if not names else [Path(n) for n in names]:
                    saved = args.crashes / f"diff-{args.seed}-{rounds}-{path.name}"
                    saved.write_bytes(path.read_bytes())
                report = args.crashes / f"diff-{args.seed}-{rounds}.txt"
                report.write_text("\n".join(bad) + "\n")
                for ln in bad[:5]:
                    print(f"finding: {ln}", flush=True)
                found += len(bad)
    print(f"{rounds} rounds, {modules} modules, {ran} run on both engines, {calls} calls, "
          f"{found} differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
