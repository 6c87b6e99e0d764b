#!/usr/bin/env python3
"""Side-by-side benchmarks: extism_native against the official `extism` package (PyPI), in the
same process run, on the project's own plugins (tests/plugins/wasm) and on the real plugins of
../shared/plugins built by the official toolchains (workloads `real_*`).

    python bench/run.py                 # every workload
    python bench/run.py noop echo_1k    # some of them
    python bench/run.py 'real_*'        # the real plugins
    python bench/run.py --tier native   # extism_native on one tier (default: as configured)
    python bench/run.py --tier both     # both tiers, a column each
    python bench/run.py --list

Prints one row per workload: the value for each runtime (time per operation, resident memory
per instance, or a speed-up) and the ratio in extism_native's favour (above 1 means
extism_native is faster / smaller / scales better).  RUST_BACKTRACE is removed and the official
compilation cache disabled before the official runtime loads.  See bench/README.md for the
method and where the time goes.
"""

from __future__ import annotations

import argparse
import fnmatch
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
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
import real_plugins  # noqa: E402  (the table of the real plugins, shared with the tests)

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


class Ours:
    """extism_native with every Plugin / CompiledPlugin made on one tier (None: as configured,
    i.e. EXTISM_NATIVE_TIER or the default); everything else is the module's."""

    def __init__(self, tier: Optional[str]) -> None:
        self.tier = tier
        self.label = "extism_native" if tier is None else tier

    def __getattr__(self, name: str):
        return getattr(extism_native, name)

    def Plugin(self, plugin, *args, **kwargs):  # noqa: N802 (the module's name)
        if self.tier is not None and not isinstance(plugin, extism_native.CompiledPlugin):
            kwargs.setdefault("tier", self.tier)
        return extism_native.Plugin(plugin, *args, **kwargs)

    def CompiledPlugin(self, plugin, *args, **kwargs):  # noqa: N802
        if self.tier is not None:
            kwargs.setdefault("tier", self.tier)
        return extism_native.CompiledPlugin(plugin, *args, **kwargs)


class Workload:
    """One measurement: `setup(module)` returns the operation to time, or `measure(module)`
    returns a value directly (then `unit` says what it is).  `number` 0: as many calls per
    run as take about 0.2 s (at least one)."""

    def __init__(self, name: str, doc: str, number: int = 0, setup=None, repeat: int = 5,
                 measure=None, unit: str = "time", higher_is_better: bool = False) -> None:
        self.name, self.doc, self.number, self.setup, self.repeat = name, doc, number, setup, repeat
        self.measure, self.unit, self.higher_is_better = measure, unit, higher_is_better

    def run(self, runtimes: list) -> List[float]:
        """The value for each runtime.  Timed workloads alternate between the runtimes run by
        run, so a change in the machine's load hits them alike."""
        if self.measure is not None:
            return [self.measure(m) for m in runtimes]
        ops = [self.setup(m) for m in runtimes]
        numbers = []
        for op in ops:
            start = time.perf_counter()
            op()  # warm up (first call compiles and initialises)
            once = time.perf_counter() - start
            numbers.append(self.number or max(1, min(10_000, int(0.2 / max(once, 1e-7)))))
        number = min(numbers)
        runs: List[List[float]] = [[] for _ in ops]
        for _ in range(self.repeat):
            for i, op in enumerate(ops):
                runs[i].append(timed(op, number, 1))
        return [statistics.median(r) for r in runs]


def new_plugin(module, data, **kwargs):
    if module is extism:
        return extism.Plugin(data, functions=kwargs.pop("functions", []), **kwargs)
    return module.Plugin(data, **kwargs)


def compiled_plugin(module, data):
    if module is extism:
        from extism.extism import CompiledPlugin
        return CompiledPlugin(data, functions=[])
    return module.CompiledPlugin(data)


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


def real_op(call: "real_plugins.RealCall"):
    def setup(module):
        if call.one_call:  # one call per instance: time instance + call
            data = call.path.read_bytes()
            compiled = real_plugins.make_compiled(module, call, data)
            return lambda: module.Plugin(compiled).call(call.function, call.input)
        plugin = real_plugins.make_plugin(module, call)
        return lambda: plugin.call(call.function, call.input)
    return setup


for _call in real_plugins.CALLS:
    workload(f"real_{_call.name}",
             f"{_call.file} {_call.function}({len(_call.input)} bytes)"
             + (f", {_call.notes}" if _call.notes else ""), setup=real_op(_call))


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
    ap.add_argument("names", nargs="*", help="workloads to run, shell patterns (default: all)")
    ap.add_argument("--list", action="store_true", help="list the workloads")
    ap.add_argument("--tier", choices=["interp", "native", "both"],
                    help="extism_native's tier (default: as configured)")
    args = ap.parse_args(argv)
    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:26} {w.doc}")
        return
    names = [n for n in WORKLOADS if not args.names or
             any(fnmatch.fnmatchcase(n, pattern) for pattern in args.names)]
    # plugins that print (tinygo host_memory writes to stdout through WASI, on both runtimes)
    # write to /dev/null: the table goes to the real stdout
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    os.dup2(devnull, 1)
    os.close(devnull)
    tiers = ["interp", "native"] if args.tier == "both" else [args.tier]
    ours = [Ours(tier) for tier in tiers]
    print(f"extism_native {extism_native.__version__} vs extism {extism.extism_version()} "
          f"(python {sys.version.split()[0]}, RUST_BACKTRACE unset)", file=out)
    print(f"{'workload':26} {'official':>13}" +
          "".join(f" {o.label:>14} {'ratio':>8}" for o in ours), file=out)
    for name in names:
        w = WORKLOADS[name]
        try:
            official, *values = w.run([extism] + ours)
        except Exception as exc:  # a real plugin that does not load on one side
            print(f"{name:26} does not run: {type(exc).__name__}: {str(exc)[:100]}", file=out,
                  flush=True)
            continue
        row = f"{name:26} {fmt(official, w.unit):>13}"
        for value in values:
            # ratio > 1: extism_native is better (faster, less memory, more speedup)
            ratio = value / official if w.higher_is_better else official / value
            row += f" {fmt(value, w.unit):>14} {ratio:7.2f}x"
        print(row, file=out, flush=True)


if __name__ == "__main__":
    main()
