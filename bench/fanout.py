"""Fan-out across processes: what pickling a plugin costs, and Dask throughput with 1 vs 2
worker processes (README "Many processes and machines").

    python bench/fanout.py [--plugin PATH] [--inputs 1000] [--chunk 50] [--repeat 3]

Needs `distributed` (pip install distributed) for the Dask part; without it only the pickling
numbers are printed.  Prints the load average: on a shared machine it bounds what a second
worker can add.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/fanout.py: the task functions workers import

import extism_native as extism  # noqa: E402
import fanout  # noqa: E402


def best_of(n: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def pickling(path: Path, repeat: int) -> None:
    data = path.read_bytes()
    compiled = extism.CompiledPlugin(data, wasi=True)
    payload = pickle.dumps(compiled, pickle.HIGHEST_PROTOCOL)
    dump = best_of(repeat, lambda: pickle.dumps(compiled, pickle.HIGHEST_PROTOCOL))
    load = statistics.median(best_of(1, lambda: pickle.loads(payload)) for _ in range(repeat))
    make = statistics.median(best_of(1, lambda: extism.CompiledPlugin(data, wasi=True))
                             for _ in range(repeat))
    plugin = compiled.instantiate()
    plugin_payload = pickle.dumps(plugin, pickle.HIGHEST_PROTOCOL)
    print(f"module {path.name}: {len(data):,} bytes")
    print(f"  pickled CompiledPlugin: {len(payload):,} bytes "
          f"(+{len(payload) - len(data)} over the module); dumps {dump * 1e3:.2f} ms")
    print(f"  pickle.loads (compiles again): {load * 1e3:.1f} ms "
          f"(CompiledPlugin(bytes): {make * 1e3:.1f} ms)")
    print(f"  pickled Plugin of it: {len(plugin_payload):,} bytes")


def dask(inputs: List[str], chunk: int, repeat: int, big: str) -> None:
    try:
        import distributed
    except ImportError:
        print("(distributed is not installed: no Dask numbers)")
        return
    compiled = extism.CompiledPlugin(fanout.kitchen(), name="kitchen")
    here = compiled.instantiate()
    t0 = time.perf_counter()
    for data in inputs:
        here.call("reverse", data)
    local_small = len(inputs) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in inputs:
        here.call("count_vowels", big)
    local_big = len(inputs) / (time.perf_counter() - t0)
    print(f"in this process, one instance: reverse {local_small:,.0f} calls/s; "
          f"count_vowels of {len(big) // 1024} KiB {local_big:,.0f} calls/s")
    chunks = [[big] * chunk for _ in range(len(inputs) // chunk)]
    # both clusters live at once and are measured in turn, so that a change in the machine's
    # load (it is shared) hits both alike; each number is the best of `repeat` turns
    with contextlib.ExitStack() as stack:
        clients = {}
        for workers in (1, 2):
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL))
            client = stack.enter_context(distributed.Client(cluster))
            client.wait_for_workers(workers)
            [shipped] = client.scatter([compiled], broadcast=True, hash=False)
            client.gather(client.map(fanout.call_on, inputs[:workers * 4], plugin=shipped,
                                     function="reverse", pure=False))  # instances made
            clients[workers] = (client, shipped)

        def one_per_task(client: Any, shipped: Any) -> None:
            client.gather(client.map(fanout.call_on, inputs, plugin=shipped,
                                     function="reverse", pure=False))

        def chunked(client: Any, shipped: Any) -> None:
            client.gather(client.map(fanout.call_chunk, chunks, compiled=shipped,
                                     function="count_vowels", pure=False))

        def noop_tasks(client: Any, shipped: Any) -> None:  # Dask's own cost per task
            client.gather(client.map(len, inputs, pure=False))

        best: Dict[Tuple[str, int], float] = {}
        for _ in range(repeat):
            for name, fn in (("small", one_per_task), ("chunked", chunked),
                             ("len", noop_tasks)):
                for workers, (client, shipped) in clients.items():
                    t0 = time.perf_counter()
                    fn(client, shipped)
                    elapsed = time.perf_counter() - t0
                    key = (name, workers)
                    best[key] = min(best.get(key, elapsed), elapsed)
    n = len(inputs)
    for workers in (1, 2):
        print(f"{workers} worker(s): {n} tasks of one small call "
              f"{n / best['small', workers]:,.0f} calls/s (tasks of `len`: "
              f"{n / best['len', workers]:,.0f}/s); {len(chunks)} tasks of {chunk} calls "
              f"of count_vowels on {len(big) // 1024} KiB "
              f"{n / best['chunked', workers]:,.0f} calls/s")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plugin", type=Path,
                    default=fanout.real_plugins.REAL_PLUGINS / "js-quickjs-execute.wasm",
                    help="module for the pickling numbers (default: the 2.2 MB QuickJS plugin "
                    "of ../shared/plugins)")
    ap.add_argument("--inputs", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--kib", type=int, default=8, help="input size of the compute-bound calls")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"Python {sys.version.split()[0]}")
    if args.plugin.is_file():
        pickling(args.plugin, args.repeat)
    else:
        print(f"({args.plugin} is missing: no pickling numbers)")
    big = ("The quick brown fox jumps over the lazy dog. " * (args.kib * 24))[:args.kib * 1024]
    dask(fanout.texts(args.inputs), args.chunk, args.repeat, big)


if __name__ == "__main__":
    main()
