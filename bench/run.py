#!/usr/bin/env python3
"""Side-by-side benchmarks: extism_native against the official `extism` package (PyPI), in the
same process run, on the project's own plugins (tests/plugins/wasm).

    python bench/run.py                 # every workload
    python bench/run.py noop echo_1k    # some of them
    python bench/run.py --list

Prints one row per workload: time per operation for each runtime and the ratio
official / extism_native (above 1 means extism_native is faster).  RUST_BACKTRACE is removed
from the environment before the official runtime loads (with it set, every official call is
about 2.4x slower).  See bench/README.md for the method and where the time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

if os.environ.get("RUST_BACKTRACE") is not None:
    # must happen before libextism is loaded: re-run without it
    env = dict(os.environ)
    env.pop("RUST_BACKTRACE")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import extism  # noqa: E402  (the official package)

import extism_native  # noqa: E402

PLUGINS = Path(__file__).resolve().parent.parent / "tests" / "plugins" / "wasm"


def plugin_bytes(name: str) -> bytes:
    return (PLUGINS / f"{name}.wasm").read_bytes()


def timed(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Median seconds per call of fn over `repeat` runs of `number` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


class Workload:
    """One measurement: a setup per runtime returning the operation to time."""

    def __init__(self, name: str, doc: str, number: int,
                 setup: Callable[[object], Callable[[], object]], repeat: int = 5) -> None:
        self.name, self.doc, self.number, self.setup, self.repeat = name, doc, number, setup, repeat

    def run(self, module: object) -> float:
        op = self.setup(module)
        op()  # warm up (first call compiles and initialises)
        return timed(op, self.number, self.repeat)


def new_plugin(module, data: bytes, **kwargs):
    if module is extism:
        return extism.Plugin(data, functions=[], **kwargs)
    return extism_native.Plugin(data, **kwargs)


def call_op(plugin_name: str, function: str, data: bytes):
    def setup(module):
        plugin = new_plugin(module, plugin_bytes(plugin_name))
        return lambda: plugin.call(function, data)
    return setup


WORKLOADS: Dict[str, Workload] = {}


def workload(name: str, doc: str, number: int, setup, repeat: int = 5) -> None:
    WORKLOADS[name] = Workload(name, doc, number, setup, repeat)


workload("noop", "call an export that does nothing, no input", 50_000,
         call_op("edge", "noop", b""))


def fmt_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds * 1e6:9.2f} us"


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
    print(f"{'workload':22} {'official':>12} {'extism_native':>14} {'ratio':>8}")
    rows: List[Tuple[str, float, float]] = []
    for name in names:
        w = WORKLOADS[name]
        official = w.run(extism)
        ours = w.run(extism_native)
        rows.append((name, official, ours))
        print(f"{name:22} {fmt_time(official):>12} {fmt_time(ours):>14} {official / ours:7.1f}x",
              flush=True)


if __name__ == "__main__":
    main()
