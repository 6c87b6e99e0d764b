"""Stress (issue 14): threads x calls x close x cancel x host functions keeping views, round
after round.  Every call must return the right output or raise one of the errors its race
allows; crashes, memory errors and hangs are for the run (and the sanitizers of
.ci/jobs/20-sanitizers.sh, which sets EXN_STRESS_ROUNDS to a few thousand) to catch."""

from __future__ import annotations

import collections
import os
import random
import struct
import threading
import time

import extism_native as extism
from conftest import wasm
from extism_native import ValType

ROUNDS = int(os.environ.get("EXN_STRESS_ROUNDS", "150"))


class Raised(Exception):
    """What the host function raises now and then."""


def test_threads_calls_close_cancel_and_host_functions_keeping_views():
    rng = random.Random(1414)
    kept_views: collections.deque = collections.deque(maxlen=64)
    kept_currents: collections.deque = collections.deque(maxlen=8)
    bad = []

    @extism.host_fn(signature=([ValType.I64], [ValType.I64]))
    def hello_world(plugin, inputs, outputs):
        view = plugin.input_buffer(inputs[0])
        kept_views.append(view[2:])  # outlives the host call (and maybe its plugin)
        kept_currents.append(plugin)
        for old in list(kept_views)[-4:]:  # older plugins' memory: must stay harmless
            bytes(old)
            if len(old):
                old[0] = old[0]
        if rng.random() < 0.05:
            raise Raised("now and then")
        plugin.return_bytes(outputs[0], bytes(view))

    vowels = extism.CompiledPlugin(wasm("host_vowels"), functions=[hello_world])
    spin = extism.CompiledPlugin(wasm("spin"))

    def vowel_caller(plugin, stop):
        while not stop.is_set():
            try:
                out = plugin.call("count_vowels", "aeiou!")
            except (extism.CancelledError, Raised):
                continue
            except extism.UsageError:
                return
            except BaseException as exc:  # reported below
                bad.append(exc)
                return
            if out != b'{"count": 5}':
                bad.append(out)

    def spin_caller(plugin, stop, seed):
        local = random.Random(seed)
        while not stop.is_set():
            n = local.randrange(50_000)
            timeout = local.choice([None, 0.001, 1.0])
            try:
                out = plugin.call("spin", struct.pack("<Q", n), timeout=timeout)
            except (extism.CancelledError, extism.CallTimeoutError):
                continue
            except extism.UsageError:
                return
            except BaseException as exc:  # reported below
                bad.append(exc)
                return
            if out != struct.pack("<Q", n):
                bad.append(out)

    def canceller(handles, stop):
        while not stop.is_set():
            for handle in handles:
                handle.cancel()
            time.sleep(0.0002)

    for _ in range(ROUNDS):
        a, s = vowels.instantiate(), spin.instantiate()
        stop = threading.Event()
        threads = [threading.Thread(target=vowel_caller, args=(a, stop)),
                   threading.Thread(target=vowel_caller, args=(a, stop)),
                   threading.Thread(target=spin_caller, args=(s, stop, rng.random())),
                   threading.Thread(target=canceller,
                                    args=([a.cancel_handle(), s.cancel_handle()], stop))]
        for t in threads:
            t.start()
        time.sleep(rng.random() * 0.003)
        for p in rng.sample([a, s], 2):
            p.close()
        stop.set()
        for t in threads:
            t.join(30)
            assert not t.is_alive(), "a thread hangs"
        assert bad == []
    for current in kept_currents:
        try:
            current.read(0, 1)
        except extism.UsageError:
            continue
        raise AssertionError("a kept CurrentPlugin still works")
