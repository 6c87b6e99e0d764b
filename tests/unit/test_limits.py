"""Timeouts and cancellation (spec 7): any guest can be stopped, even one spinning in
`loop br 0` without calls; the plugin stays usable afterwards."""

from __future__ import annotations

import struct
import threading
import time

import pytest

import extism_native as extism
from conftest import u64s, wasm, wasm_path


def spin_n(n: int) -> bytes:
    return struct.pack("<Q", n)


@pytest.mark.parametrize("timeout", [0.05, 0.2, 0.5])
def test_a_call_free_loop_is_stopped_within_10_percent_plus_20_ms(timeout):
    with extism.Plugin(wasm("spin")) as plugin:
        start = time.perf_counter()
        with pytest.raises(extism.CallTimeoutError, match="timeout") as info:
            plugin.call("forever", timeout=timeout)
        elapsed = time.perf_counter() - start
        assert timeout <= elapsed <= timeout * 1.1 + 0.02
        assert isinstance(info.value, TimeoutError)
        assert u64s(plugin.call("spin", spin_n(10))) == [10]  # still usable


def test_manifest_timeout_ms():
    manifest = {"wasm": [{"path": str(wasm_path("spin"))}], "timeout_ms": 100}
    with extism.Plugin(manifest) as plugin:
        start = time.perf_counter()
        with pytest.raises(extism.CallTimeoutError):
            plugin.call("forever")
        assert 0.1 <= time.perf_counter() - start <= 0.13
        assert u64s(plugin.call("spin", spin_n(1000))) == [1000]  # a quick call is not stopped
        # a per-call timeout replaces the manifest's
        with pytest.raises(extism.CallTimeoutError):
            plugin.call("forever", timeout=0.01)


def test_a_timeout_also_stops_unbounded_work_without_loops():
    # recursion without loops: stopped at a function entry (or the stack runs out first)
    with extism.Plugin(wasm("edge")) as plugin:
        with pytest.raises((extism.CallTimeoutError, extism.Trap)):
            plugin.call("recurse", timeout=0.05)


def test_zero_timeout_and_bad_values():
    with extism.Plugin(wasm("spin")) as plugin:
        with pytest.raises(extism.CallTimeoutError):
            plugin.call("forever", timeout=0)
        with pytest.raises(ValueError):
            plugin.call("forever", timeout=-1)


def test_cancel_from_another_thread():
    with extism.Plugin(wasm("spin")) as plugin:
        handle = plugin.cancel_handle()
        assert handle.cancel() is False  # nothing running: nothing is remembered
        assert u64s(plugin.call("spin", spin_n(5))) == [5]
        timer = threading.Timer(0.1, handle.cancel)
        start = time.perf_counter()  # before the timer starts counting, so elapsed >= 0.1
        timer.start()
        with pytest.raises(extism.CancelledError, match="cancelled"):
            plugin.call("forever")
        assert 0.1 <= time.perf_counter() - start < 2.0  # (generous: a loaded machine)
        timer.join()
        assert u64s(plugin.call("spin", spin_n(5))) == [5]


def test_cancel_stops_only_its_own_plugin():
    a, b = extism.Plugin(wasm("spin")), extism.Plugin(wasm("spin"))
    outcome = {}

    def run(name, plugin, timeout):
        try:
            plugin.call("forever", timeout=timeout)
        except extism.Error as exc:
            outcome[name] = type(exc)

    ta = threading.Thread(target=run, args=("a", a, None))
    tb = threading.Thread(target=run, args=("b", b, 0.4))
    ta.start()
    tb.start()
    time.sleep(0.1)
    assert a.cancel_handle().cancel()
    ta.join()
    tb.join()
    assert outcome == {"a": extism.CancelledError, "b": extism.CallTimeoutError}


def test_cancel_handle_outlives_close():
    plugin = extism.Plugin(wasm("spin"))
    handle = plugin.cancel_handle()
    plugin.close()
    assert handle.cancel() is False
