#!/usr/bin/env python3
"""Side-by-side benchmarks: extism_native against the official `extism` package (PyPI), in the
same process run, on the project's own plugins (tests/plugins/wasm).

    python bench/run.py                 # every workload
    python bench/run.py noop echo_1k    # some of them
    python bench/run.py --list

Prints one row per workload: the value for each runtime (time per operation, resident memory
per instance, or a speed-up) and the ratio in extism_native's favour (above 1 means
extism_native is faster / smaller / scales better).  RUST_BACKTRACE is removed and the official
compilation cache disabled before the official runtime loads.  See bench/README.md for the
method and where the time goes.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

# The official runtime must not see RUST_BACKTRACE (it makes every call ~2.4x slower), and its
# compilation cache is disabled (EXTISM_CACHE_CONFIG empty) so "create" measures creation, not a
# cache lookup; both must be set before libextism loads, so re-run with them fixed.
if os.environ.get("RUST_BACKTRACE") is not None or os.environ.get("EXTISM_CACHE_CONFIG") != "":
    env = dict(os.environ)
    env.pop("RUST_BACKTRACE", None)
    env["EXTISM_CACHE_CONFIG"] = ""
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import extism  # noqa: E402  (the official package)

import extism_native  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(os.environ.get("EXN_TEST_PLUGINS", ROOT / "tests" / "plugins" / "wasm"))
BIG = ROOT / "bench" / "plugins" / "big_gen.wasm"


def plugin_bytes(name: str) -> bytes:
    return BIG.read_bytes() if name == "big" else (PLUGINS / f"{name}.wasm").read_bytes()


def timed(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Median seconds per call of fn over `repeat` runs of `number` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Workload:
    """One measurement: `setup(module)` returns the operation to time, or `measure(module)`
    returns a value directly (then `unit` says what it is)."""

    def __init__(self, name: str, doc: str, number: int = 0, setup=None, repeat: int = 5,
                 measure=None, unit: str = "time", higher_is_better: bool = False) -> None:
        self.name, self.doc, self.number, self.setup, self.repeat = name, doc, number, setup, repeat
        self.measure, self.unit, self.higher_is_better = measure, unit, higher_is_better

    def run_pair(self) -> Tuple[float, float]:
        """(official, extism_native).  Timed workloads alternate between the two runtimes run
        by run, so a change in the machine's load hits both alike."""
        if self.measure is not None:
            return self.measure(extism), self.measure(extism_native)
        ops = [self.setup(extism), self.setup(extism_native)]
        for op in ops:
            op()  # warm up (first call compiles and initialises)
        runs: List[List[float]] = [[], []]
        for _ in range(self.repeat):
            for i, op in enumerate(ops):
                runs[i].append(timed(op, self.number, 1))
        return statistics.median(runs[0]), statistics.median(runs[1])


def new_plugin(module, data, **kwargs):
    if module is extism:
        return extism.Plugin(data, functions=kwargs.pop("functions", []), **kwargs)
    return extism_native.Plugin(data, **kwargs)


def compiled_plugin(module, data):
    if module is extism:
        from extism.extism import CompiledPlugin
        return CompiledPlugin(data, functions=[])
    return extism_native.CompiledPlugin(data)


def call_op(plugin_name: str, function: str, data: bytes):
    def setup(module):
        plugin = new_plugin(module, plugin_bytes(plugin_name))
        return lambda: plugin.call(function, data)
    return setup


def create_op(plugin_name: str):
    def setup(module):
        data = plugin_bytes(plugin_name)
        return lambda: new_plugin(module, data).call("noop", b"")
    return setup


def instantiate_op(plugin_name: str):
    def setup(module):
        compiled = compiled_plugin(module, plugin_bytes(plugin_name))
        return lambda: module.Plugin(compiled).call("noop", b"")
    return setup


def host_roundtrip(module):
    n = 20_000
    sig = ([module.ValType.I64], [module.ValType.I64])

    @module.host_fn(name="ping", signature=sig)
    def ping(plugin, inputs, outputs, *user_data):
        outputs[0].value = inputs[0].value

    @module.host_fn(name="transform", signature=sig)
    def transform(plugin, inputs, outputs, *user_data):
        outputs[0].value = inputs[0].value

    return ping_loop_time(module, [ping, transform], n)


def ping_loop_time(module, functions, n: int) -> float:
    plugin = new_plugin(module, plugin_bytes("host_calls"), functions=functions)
    data = struct.pack("<Q", n)
    plugin.call("ping_loop", data)
    return timed(lambda: plugin.call("ping_loop", data), 1, 5) / n


def host_roundtrip_typed(module):
    """As host_roundtrip, with extism_native's host functions typed by annotations
    (``def ping(x: int) -> int``).  The official package has no comparable form (its inferred
    ``int`` result is the handle of an 8-byte block, python-sdk-api.md), so its column is its
    explicit form, the same as in host_roundtrip."""
    if module is extism:
        return host_roundtrip(module)

    @module.host_fn(name="ping")
    def ping(x: int) -> int:
        return x

    @module.host_fn(name="transform")
    def transform(x: int) -> int:
        return x

    return ping_loop_time(module, [ping, transform], 20_000)


def threads_speedup(module):
    """Throughput of two plugins in two threads relative to one thread (2.0 is perfect).
    One and two threads are timed in turn, five times; the best time of each counts (the
    VM's scheduler now and then leaves a thread waiting for milliseconds)."""
    data = plugin_bytes("bench")
    text = b"the quick brown fox jumps over the lazy dog " * 2000
    plugins = [new_plugin(module, data) for _ in range(2)]
    rounds = 100

    def work(p):
        for _ in range(rounds):
            p.call("count_vowels", text)

    for p in plugins:
        work(p)
    ones, twos = [], []
    for _ in range(5):
        start = time.perf_counter()
        work(plugins[0])
        ones.append(time.perf_counter() - start)
        threads = [threading.Thread(target=work, args=(p,)) for p in plugins]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        twos.append(time.perf_counter() - start)
    return 2 * min(ones) / min(twos)


def rss_per_instance(plugin_name: str, count: int = 50):
    """Growth of the resident size per live instance (each after one call): the growth from
    `count` live instances to twice as many.  The first batch takes whatever memory the
    runtimes keep for reuse (extism_native's cache of released regions, allocators' free
    lists), so the second one is what a further live instance costs; the median of three
    rounds counts."""
    def measure(module):
        data = plugin_bytes(plugin_name)

        def batch():
            plugins = [new_plugin(module, data) for _ in range(count)]
            for p in plugins:
                p.call("noop", b"")
            return plugins

        def one_round():
            first = batch()
            before = rss()
            second = batch()
            grown = (rss() - before) / count
            del first, second
            gc.collect()
            return grown

        return statistics.median(one_round() for _ in range(3))
    return measure


WORKLOADS: Dict[str, Workload] = {}


def workload(name: str, doc: str, *args, **kwargs) -> None:
    WORKLOADS[name] = Workload(name, doc, *args, **kwargs)


workload("create_small", "create a plugin from the bytes of a 4 KB module + first call", 200,
         create_op("edge"))
workload("create_2mb", "create a plugin from the bytes of a 1.9 MB module + first call", 3,
         create_op("big"), repeat=3)
workload("instantiate", "instance from a compiled 1.9 MB plugin + first call", 200,
         instantiate_op("big"))
workload("noop", "call an export that does nothing, no input", 50_000, call_op("bench", "noop", b""))
workload("echo_1k", "echo 1 KiB through kernel memory (8-byte loads/stores)", 20_000,
         call_op("bench", "echo", bytes(range(256)) * 4))
workload("echo_1m", "echo 1 MiB", 50, call_op("bench", "echo", bytes(range(256)) * 4096))
workload("count_vowels_1m", "count vowels over 1 MiB in a wasm loop (compute-bound)", 20,
         call_op("bench", "count_vowels", b"abcdefghijklmnopqrstuvwxyz" * 40330))
for _fn, _what in (("count_scalar", "count one byte value over 1 MiB, 8 passes, scalar code"),
                  ("count_simd", "the same with v128 (i8x16.eq ...; clang -msimd128)"),
                  ("sum_scalar", "sum the bytes of 1 MiB, 8 passes, scalar code"),
                  ("sum_simd", "the same with v128 (extadd_pairwise, i32x4.add)")):
    workload(f"{_fn}_1m", _what, 5,
             call_op("simd_bench", _fn, b"abcdefghijklmnopqrstuvwxyz" * 40330))
workload("host_roundtrip", "one guest -> host function -> guest round trip (i64 in, i64 out)",
         measure=host_roundtrip)
workload("host_roundtrip_typed", "as host_roundtrip, ours typed by annotations (int) -> int",
         measure=host_roundtrip_typed)
workload("threads_2v1", "throughput of 2 threads on 2 plugins / 1 thread (2.0 = perfect)",
         measure=threads_speedup, unit="x", higher_is_better=True)
workload("rss_small", "resident memory per live instance, 4 KB module", measure=rss_per_instance("edge"),
         unit="bytes")
workload("rss_2mb", "resident memory per live instance, 1.9 MB module",
         measure=rss_per_instance("big", 20), unit="bytes")


def fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:8.2f} x"
    if unit == "bytes":
        return f"{value / 1024:8.1f} KiB"
    if value >= 1e-3:
        return f"{value * 1e3:9.2f} ms"
    return f"{value * 1e6:9.2f} us"


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="workloads to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the workloads")
    args = ap.parse_args(argv)
    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:22} {w.doc}")
        return
    names = args.names or list(WORKLOADS)
    print(f"extism_native {extism_native.__version__} vs extism {extism.extism_version()} "
          f"(python {sys.version.split()[0]}, RUST_BACKTRACE unset)")
    print(f"{'workload':18} {'official':>13} {'extism_native':>14} {'ratio':>9}")
    for name in names:
        w = WORKLOADS[name]
        official, ours = w.run_pair()
        # ratio > 1: extism_native is better (faster, less memory, more speedup)
        ratio = ours / official if w.higher_is_better else official / ours
        print(f"{name:18} {fmt(official, w.unit):>13} {fmt(ours, w.unit):>14} {ratio:8.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
