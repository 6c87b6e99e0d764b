#!/usr/bin/env python3
"""The compiled tier against wasm3 and the official package, per plugin (issue 16's numbers).

    python bench/tiers.py                    # every plugin
    python bench/tiers.py js_execute bench_cv_1m
    python bench/tiers.py --no-cold          # skip the cold compiles (minutes for 2 MB modules)

Per plugin: the cold compile of the compiled tier (an empty cache: translate, C compiler, link,
store), loading it again from the cache in a fresh process (CompiledPlugin creation: validation
+ the cache lookup; and the engine's share alone), and the median time of a warm call on the
official package, on wasm3 and on the compiled tier, with the ratios official/ours (above 1:
ours faster).  EXTISM_NATIVE_TIER chooses the engine per CompiledPlugin, so one process measures
all three.  Needs a C compiler; the real plugins are read from ../shared/plugins.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional

if os.environ.get("RUST_BACKTRACE") is not None or os.environ.get("EXTISM_CACHE_CONFIG") != "":
    env = dict(os.environ)
    env.pop("RUST_BACKTRACE", None)  # makes the official runtime ~2.4x slower per call
    env["EXTISM_CACHE_CONFIG"] = ""
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import extism  # noqa: E402

import extism_native  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "tests" / "plugins" / "wasm"
REAL = Path(os.environ.get("EXN_REAL_PLUGINS") or ROOT.parent / "shared" / "plugins")
if not REAL.is_dir():
    REAL = Path("/work/shared/plugins")

TEXT_1K = (b"The quick brown fox jumps over the lazy dog. " * 24)[:1024]
ABC_1M = b"abcdefghijklmnopqrstuvwxyz" * 40330


@dataclass
class Call:
    name: str
    path: Path
    function: str
    input: bytes
    wasi: bool = False
    host: Optional[str] = None
    calls: int = 20


def _echo(module: Any, namespace: str, name: str) -> List[Any]:
    sig = ([module.ValType.I64], [module.ValType.I64])

    def f(plugin, inputs, outputs, *user_data):
        outputs[0].value = inputs[0].value

    f.__name__ = name
    return [module.host_fn(name=name, namespace=namespace, signature=sig)(f)]


def _to_upper(module: Any) -> List[Any]:
    sig = ([module.ValType.I64], [module.ValType.I64])

    def to_upper(plugin, inputs, outputs, *user_data):
        plugin.return_string(outputs[0], plugin.input_string(inputs[0]).upper())

    return [module.host_fn(name="to_upper", namespace="host", signature=sig)(to_upper)]


HOSTS: dict = {
    "hello_world": lambda m: _echo(m, "extism:host/user", "hello_world"),
    "host_reflect": lambda m: _echo(m, "extism:host/user", "host_reflect"),
    "to_upper": _to_upper,
}

CALLS = [
    Call("bench_cv_1m", OURS / "bench.wasm", "count_vowels", ABC_1M),
    Call("bench_echo_1m", OURS / "bench.wasm", "echo", ABC_1M),
    Call("big_gen_run", ROOT / "bench" / "plugins" / "big_gen.wasm", "run", TEXT_1K),
    Call("rust_cv_1k", REAL / "rust-code-functions.wasm", "count_vowels", TEXT_1K, True,
         "hello_world"),
    Call("rust_cv_64k", REAL / "rust-code-functions.wasm", "count_vowels", TEXT_1K * 64, True,
         "hello_world"),
    Call("rust_reflect_1k", REAL / "rust-reflect.wasm", "reflect", TEXT_1K, host="host_reflect"),
    Call("rust_allocations", REAL / "rust-allocations.wasm", "allocations", b""),
    Call("wat_consume_64k", REAL / "wat-consume.wasm", "consume", TEXT_1K * 64),
    Call("tinygo_replace", REAL / "tinygo-replace.wasm", "run_test", TEXT_1K, True),
    Call("tinygo_host_memory", REAL / "tinygo-host_memory.wasm", "run_test", b"hello world",
         True, "to_upper"),
    Call("go_count_vowels", REAL / "go-count_vowels_std.wasm", "_start", TEXT_1K, True, calls=10),
    Call("js_execute", REAL / "js-quickjs-execute.wasm", "execute", b"{}", True),
]


def plugin(module: Any, call: Call, data: bytes) -> Any:
    functions = HOSTS[call.host](module) if call.host else []
    return module.Plugin(data, wasi=call.wasi, functions=functions)


def median_call(p: Any, call: Call) -> float:
    out = bytes(p.call(call.function, call.input))
    times = []
    for _ in range(call.calls):
        t = time.perf_counter()
        p.call(call.function, call.input)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def ours(call: Call, data: bytes, tier: str) -> Any:
    os.environ["EXTISM_NATIVE_TIER"] = tier
    try:
        return plugin(extism_native, call, data)
    finally:
        os.environ.pop("EXTISM_NATIVE_TIER", None)


LOAD_SNIPPET = """
import os, sys, time, extism_native
data = open(sys.argv[1], 'rb').read()
os.environ['EXTISM_NATIVE_TIER'] = sys.argv[2]
t = time.perf_counter()
c = extism_native.CompiledPlugin(data, wasi=sys.argv[3] == '1', functions=[])
print(time.perf_counter() - t)
"""


def load_in_fresh_process(call: Call, tier: str) -> Optional[float]:
    """CompiledPlugin creation in a new process (the cache is warm for the compiled tier)."""
    if call.host:
        return None  # (host functions would have to be declared in the snippet too)
    best = None
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET, str(call.path), tier,
                              "1" if call.wasi else "0"], capture_output=True, text=True)
        if out.returncode != 0:
            return None
        t = float(out.stdout.strip().splitlines()[-1])
        best = t if best is None else min(best, t)
    return best


def fmt_ms(s: Optional[float]) -> str:
    return "-" if s is None else f"{s * 1e3:.2f}"


def fmt_us(s: Optional[float]) -> str:
    return "-" if s is None else (f"{s * 1e6:.1f}" if s < 1e-3 else f"{s * 1e6:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold compiles")
    args = ap.parse_args()
    calls = [c for c in CALLS if not args.names or c.name in args.names]
    rows = []
    for call in calls:
        if not call.path.exists():
            print(f"{call.name}: {call.path} missing", file=sys.stderr)
            continue
        data = call.path.read_bytes()
        cold = None
        if not args.no_cold:
            with tempfile.TemporaryDirectory() as cache:
                old = os.environ.get("EXTISM_NATIVE_CACHE_DIR")
                os.environ["EXTISM_NATIVE_CACHE_DIR"] = cache
                os.environ["EXTISM_NATIVE_TIER"] = "native"
                t = time.perf_counter()
                extism_native.CompiledPlugin(data, wasi=call.wasi,
                                             functions=HOSTS[call.host](extism_native)
                                             if call.host else [])
                cold = time.perf_counter() - t
                os.environ.pop("EXTISM_NATIVE_TIER")
                if old is None:
                    os.environ.pop("EXTISM_NATIVE_CACHE_DIR")
                else:
                    os.environ["EXTISM_NATIVE_CACHE_DIR"] = old
        t_off, out_off = median_call(plugin(extism, call, data), call)
        t_w3, out_w3 = median_call(ours(call, data, "interp"), call)
        t_nat, out_nat = median_call(ours(call, data, "native"), call)
        same = "yes" if out_off == out_w3 == out_nat else "NO"
        load_nat = load_in_fresh_process(call, "native")
        load_w3 = load_in_fresh_process(call, "interp")
        rows.append((call.name, len(data), cold, load_w3, load_nat, t_off, t_w3, t_nat, same))
        print(f"{call.name}: done", file=sys.stderr, flush=True)
    print("| plugin | wasm bytes | cold compile (s) | load wasm3 (ms) | load cached native (ms) | "
          "official (us) | wasm3 (us) | native (us) | official/wasm3 | official/native | "
          "same output |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, size, cold, lw3, lnat, toff, tw3, tnat, same in rows:
        print(f"| {name} | {size} | {'-' if cold is None else f'{cold:.1f}'} | {fmt_ms(lw3)} | "
              f"{fmt_ms(lnat)} | {fmt_us(toff)} | {fmt_us(tw3)} | {fmt_us(tnat)} | "
              f"{toff / tw3:.2f}x | {toff / tnat:.2f}x | {same} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
