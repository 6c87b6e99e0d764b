"""Threads: the GIL is released while the guest runs; calls on one plugin from several threads
are serialized; different plugins run at the same time."""

from __future__ import annotations

import struct
import threading

import extism_native as extism
from conftest import run_threads, u64s, wasm

SPIN = struct.pack("<Q", 300_000_000)  # a few hundred ms of guest code


def test_gil_is_released_during_a_call():
    plugin = extism.Plugin(wasm("spin"))
    done = threading.Event()
    ticks = 0

    def guest():
        plugin.call("spin", SPIN)
        done.set()

    thread = threading.Thread(target=guest)
    thread.start()
    while not done.is_set():  # pure Python: only runs if the guest thread let go of the GIL
        ticks += 1
    thread.join()
    assert ticks > 1000


def test_one_plugin_shared_by_threads_serializes_calls():
    # `count` increments a global and outputs it: serialized calls see every value once, an
    # update lost or calls overlapping would show as a missing or repeated value
    plugin = extism.Plugin(wasm("edge"))
    seen = [[] for _ in range(4)]
    errors = []

    def worker(k):
        try:
            for _ in range(2000):
                seen[k].extend(u64s(plugin.call("count")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    run_threads(worker, [(k,) for k in range(4)])
    assert errors == []
    assert sorted(v for values in seen for v in values) == list(range(1, 8001))
    assert all(values == sorted(values) for values in seen)  # each thread's in order
    assert u64s(plugin.call("count")) == [8001]


def test_hammer_separate_plugins():
    results = []

    def worker(seed):
        with extism.Plugin(wasm("edge")) as plugin:
            for i in range(500):
                assert u64s(plugin.call("count")) == [i + 1]
                assert u64s(plugin.call("input_info", bytes(seed + i % 7)))[0] == seed + i % 7
            results.append(seed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(6))


def test_each_thread_gets_its_own_output_from_a_shared_plugin():
    # Outputs live in the plugin's kernel memory until its next call: a thread must copy its
    # own before another thread's call overwrites it.  A tiny GIL switch interval makes the
    # threads interleave between the call and the copy as often as possible.
    import sys

    plugin = extism.Plugin(wasm("bench"))
    errors = []
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def worker(seed):
        try:
            for i in range(1500):
                data = bytes([seed]) * (8 + (i % 64))
                if plugin.call("echo", data) != data:
                    errors.append((seed, i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    try:
        run_threads(worker, [(s,) for s in range(4)])
    finally:
        sys.setswitchinterval(old)
    assert errors == []
