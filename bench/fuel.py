"""What fuel costs: time per call with and without a budget, on both tiers, and the fuel used
(which must be the same on both).  `python bench/fuel.py [rounds]`; README "Limits, timeouts,
cancel" and docs/RATIONALE.md ("Why fuel counts function and loop entries") have a run.  For
C-level comparisons count instructions instead: third_party/wasm3/tools/hotloop.c with
HOTLOOP_FUEL=N under callgrind."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import extism_native as ext

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "tests" / "plugins" / "wasm"
SHARED = ROOT.parent.parent / "shared" / "plugins"  # (/work/shared/plugins next to /work/wt/x)
TEXT = bytes(ord("a") + i % 26 for i in range(1 << 20))


@ext.host_fn(name="hello_world")
def hello_world(x: int) -> int:
    return x


WORKLOADS = [
    ("bench.wat count_vowels 1 MiB", PLUGINS / "bench.wasm", [], False, "count_vowels", TEXT),
    ("kitchen.c count_vowels 1 MiB", PLUGINS / "kitchen.wasm", [], False, "count_vowels", TEXT),
    ("kitchen.c reverse 1 MiB", PLUGINS / "kitchen.wasm", [], False, "reverse", TEXT),
    ("rust-code-functions count_vowels 64 KiB", SHARED / "rust-code-functions.wasm",
     [hello_world], True, "count_vowels", TEXT[:1 << 16]),
]


def per_call(plugin: ext.Plugin, export: str, data: bytes, rounds: int) -> float:
    plugin.call(export, data)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        plugin.call(export, data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    print(f"{'workload':42} {'tier':7} {'no fuel':>10} {'fuel':>10} {'cost':>7} {'fuel used':>12}")
    for name, path, functions, wasi, export, data in WORKLOADS:
        if not path.exists():
            continue
        wasm = path.read_bytes()
        for tier in ("interp", "native"):
            try:
                plain = ext.Plugin(wasm, functions=functions, wasi=wasi, tier=tier)
                fueled = ext.Plugin(wasm, functions=functions, wasi=wasi, tier=tier,
                                   fuel=2**62)
            except ext.UnsupportedError as e:
                print(f"{name:42} {tier:7} unsupported: {e}")
                continue
            off = on = float("inf")
            for _ in range(3):  # interleaved, the best of three medians each
                off = min(off, per_call(plain, export, data, rounds))
                on = min(on, per_call(fueled, export, data, rounds))
            print(f"{name:42} {tier:7} {off * 1e3:8.3f}ms {on * 1e3:8.3f}ms "
                  f"{(on / off - 1) * 100:+6.1f}% {fueled.fuel_used:12}")


if __name__ == "__main__":
    main()
