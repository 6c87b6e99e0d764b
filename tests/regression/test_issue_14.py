"""Issue 14: no caller or plugin can crash the process, reach another plugin's memory, or hang
past a timeout.  One test (or a few) per item; each failed before its fix."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

import extism_native as extism
from conftest import gc_collect, u64s, wasm, wasm_path
from extism_native import CurrentPlugin, ValType

FOREVER = (2**62).to_bytes(8, "little")  # spin: longer than any test


def run_in_thread(fn):
    """Start fn on a thread; returns (thread, result dict: "value" or "error")."""
    result = {}

    def body():
        try:
            result["value"] = fn()
        except BaseException as exc:  # reported to the test
            result["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, result


# ---- 1. close() racing call() -------------------------------------------------------------------

def test_close_cancels_a_running_call_and_waits_for_it():
    plugin = extism.Plugin(wasm("spin"))
    thread, result = run_in_thread(lambda: plugin.call("spin", FOREVER))
    time.sleep(0.2)  # inside the guest's loop by now
    start = time.monotonic()
    plugin.close()
    assert time.monotonic() - start < 5
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(result.get("error"), extism.CancelledError), result
    assert "cancelled" in str(result["error"])
    with pytest.raises(extism.UsageError, match="closed"):
        plugin.call("spin", b"")


def test_calls_waiting_for_a_closing_plugin_raise_usage_error():
    plugin = extism.Plugin(wasm("spin"))
    running, first = run_in_thread(lambda: plugin.call("spin", FOREVER))
    time.sleep(0.1)
    waiting, second = run_in_thread(lambda: plugin.call("spin", b""))  # waits for the first
    time.sleep(0.1)
    plugin.close()
    for t in (running, waiting):
        t.join(5)
        assert not t.is_alive()
    assert isinstance(first.get("error"), extism.CancelledError), first
    assert isinstance(second.get("error"), extism.UsageError), second


def test_closing_from_a_host_function_is_a_usage_error():
    holder = {}

    @extism.host_fn()
    def hello_world(text: str) -> str:
        with pytest.raises(extism.UsageError, match="inside its own call"):
            holder["plugin"].close()
        return "still open"

    holder["plugin"] = plugin = extism.Plugin(wasm("host_vowels"), functions=[hello_world])
    assert plugin.call("count_vowels", "a") == b"still open"
    plugin.close()


# ---- 1 + 2. every interleaving of call and close: right output or a clean error ------------------

def test_close_racing_calls_never_gives_wrong_output():
    data = os.urandom(4 << 20)  # 4 MiB: copying the output takes a while
    rng = random.Random(14)
    bad = []
    for _ in range(25):
        plugin = extism.Plugin(wasm("bench"))

        def caller():
            for _ in range(20):
                try:
                    out = plugin.call("echo", data)
                except (extism.CancelledError, extism.UsageError):
                    continue
                except BaseException as exc:  # reported below
                    bad.append(exc)
                    return
                if out != data:
                    bad.append(f"wrong output: {len(out)} bytes, {out.count(0)} zero")

        threads = [threading.Thread(target=caller) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(rng.random() * 0.03)
        plugin.close()
        for t in threads:
            t.join(30)
            assert not t.is_alive()
    assert bad == []


# ---- 3. what a host function may keep ------------------------------------------------------------

def test_a_kept_current_plugin_raises_usage_error():
    kept = []

    @extism.host_fn()
    def hello_world(plugin: CurrentPlugin, text: str) -> str:
        kept.append(plugin)
        return text

    with extism.Plugin(wasm("host_vowels"), functions=[hello_world]) as plugin:
        plugin.call("count_vowels", "ae")
        plugin.call("count_vowels", "ae")  # the next host call gets a fresh one
        assert kept[0] is not kept[1]
        for current in kept:
            for use in (lambda: current.read(0, 1), lambda: current.alloc(8),
                        lambda: current.memory(extism.Memory(0, 1)), lambda: current.id,
                        lambda: current.host_context(), lambda: current.set_error("x")):
                with pytest.raises(extism.UsageError, match="host call that has returned"):
                    use()


def test_a_kept_explicit_current_plugin_raises_usage_error():
    kept = []

    @extism.host_fn(signature=([ValType.I64], [ValType.I64]))
    def hello_world(plugin, inputs, outputs):
        kept.append(plugin)
        outputs[0].value = inputs[0].value

    with extism.Plugin(wasm("host_vowels"), functions=[hello_world]) as plugin:
        plugin.call("count_vowels", "ae")
        with pytest.raises(extism.UsageError):
            kept[0].input_bytes(extism.Val(ValType.I64, 0))


def test_a_kept_memory_view_never_reaches_another_plugins_memory():
    kept = []

    @extism.host_fn(signature=([ValType.I64], [ValType.I64]))
    def hello_world(plugin, inputs, outputs):
        view = plugin.input_buffer(inputs[0])
        kept.append(view[:])  # a slice outlives the release of the view itself
        plugin.return_bytes(outputs[0], b"ok")

    plugin = extism.Plugin(wasm("host_vowels"), functions=[hello_world])
    assert plugin.call("count_vowels", "aaaa") == b"ok"
    piece = kept.pop()
    seen = bytes(piece)
    assert seen == b'{"count": 4}'
    plugin.close()
    del plugin
    gc_collect()
    # plugins made now take released kernel memory regions; none of them is the one viewed
    secret = b"S3CRET" * 20_000
    others = [extism.Plugin(wasm("bench")) for _ in range(6)]
    for other in others:
        assert other.call("echo", secret) == secret
    assert bytes(piece) == seen
    piece[:4] = b"XXXX"  # writing into it touches no other plugin
    for other in others:
        assert other.call("echo", secret) == secret
        other.close()


# ---- 4. timeouts cover initialisation --------------------------------------------------------------

def test_a_looping_start_function_honours_timeout_ms():
    start = time.monotonic()
    with pytest.raises(extism.CallTimeoutError, match="timeout"):
        extism.Plugin({"wasm": [{"path": str(wasm_path("hang_start"))}], "timeout_ms": 200})
    assert time.monotonic() - start < 5
    compiled = extism.CompiledPlugin({"wasm": [{"path": str(wasm_path("hang_start"))}],
                                      "timeout_ms": 100})
    with pytest.raises(extism.CallTimeoutError):
        compiled.instantiate()


@pytest.mark.parametrize("name", ["hang_init", "hang_ctors"])
def test_a_looping_initialiser_honours_timeouts_and_cancel(name):
    with extism.Plugin({"wasm": [{"path": str(wasm_path(name))}], "timeout_ms": 200}) as p:
        start = time.monotonic()
        with pytest.raises(extism.CallTimeoutError, match="initialising"):
            p.call("noop")
        assert time.monotonic() - start < 5
    with extism.Plugin(wasm(name)) as p:
        start = time.monotonic()
        with pytest.raises(extism.CallTimeoutError):
            p.call("noop", timeout=0.2)
        assert time.monotonic() - start < 5
    with extism.Plugin(wasm(name)) as p:
        handle = p.cancel_handle()  # exists before any guest code runs
        thread, result = run_in_thread(lambda: p.call("noop"))
        time.sleep(0.2)
        assert handle.cancel()
        thread.join(5)
        assert isinstance(result.get("error"), extism.CancelledError), result


# ---- 5. waiting for a busy plugin --------------------------------------------------------------------

def test_waiting_for_a_busy_plugin_honours_the_callers_timeout():
    with extism.Plugin(wasm("spin")) as plugin:
        thread, result = run_in_thread(lambda: plugin.call("spin", FOREVER))
        time.sleep(0.1)
        start = time.monotonic()
        with pytest.raises(extism.CallTimeoutError, match="busy"):
            plugin.call("spin", b"", timeout=0.2)
        assert time.monotonic() - start < 3
        plugin.cancel_handle().cancel()
        thread.join(5)
        assert isinstance(result.get("error"), extism.CancelledError)


def test_plugins_whose_host_functions_call_each_other_do_not_deadlock():
    barrier = threading.Barrier(2, timeout=20)
    plugins = {}

    def make(other):
        @extism.host_fn(signature=([ValType.I64], [ValType.I64]))
        def hello_world(plugin, inputs, outputs):
            if plugin.host_context() == "cross":
                barrier.wait()  # both outer calls hold their plugin now
                plugins[other].call("count_vowels", "x")  # no timeout anywhere
            plugin.return_bytes(outputs[0], b"done")
        return hello_world

    plugins["a"] = extism.Plugin(wasm("host_vowels"), functions=[make("b")])
    plugins["b"] = extism.Plugin(wasm("host_vowels"), functions=[make("a")])
    runs = [run_in_thread(lambda n=n: plugins[n].call("count_vowels", "a", host_context="cross"))
            for n in ("a", "b")]
    for thread, _ in runs:
        thread.join(30)
        assert not thread.is_alive(), "deadlock"
    results = [r for _, r in runs]
    errors = [r["error"] for r in results if "error" in r]
    assert len(errors) == 1 and isinstance(errors[0], extism.UsageError), results
    assert "deadlock" in str(errors[0])
    assert [r["value"] for r in results if "value" in r] == [b"done"]
    for p in plugins.values():
        p.close()


# ---- 6. Ctrl-C -------------------------------------------------------------------------------------

SIGINT_SCRIPT = """
import sys, extism_native as extism
plugin = extism.Plugin(open(sys.argv[1], "rb").read())
print("ready", flush=True)
try:
    plugin.call("forever")
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
print(plugin.call("spin", (7).to_bytes(8, "little")).hex(), flush=True)  # still usable
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigint_interrupts_a_call_on_the_main_thread():
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT, str(wasm_path("spin"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.3)  # inside the endless loop
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert time.monotonic() - start < 5
    assert out.split() == [b"KeyboardInterrupt", (7).to_bytes(8, "little").hex().encode()], err


SIGINT_CUSTOM = """
import signal, sys, extism_native as extism
seen = []
signal.signal(signal.SIGINT, lambda *a: seen.append("handler"))
plugin = extism.Plugin(open(sys.argv[1], "rb").read())
print("ready", flush=True)
out = plugin.call("spin", (400_000_000).to_bytes(8, "little"))
print("returned", seen, flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_custom_sigint_handler_does_not_stop_the_call():
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_CUSTOM, str(wasm_path("spin"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert out == b"returned ['handler']\n", err


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_the_cli_ends_after_two_quick_sigints():
    from extism_native import cli

    proc = subprocess.Popen([sys.executable, "-m", "extism_native", "call",
                             str(wasm_path("spin")), "forever", "--verbose"],
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        while not proc.stderr.readline().startswith(b"input:"):
            assert proc.poll() is None
        time.sleep(0.3)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == cli.EXIT_INTERRUPTED
    assert time.monotonic() - start < 10


# ---- 13, 14. messages --------------------------------------------------------------------------------

def test_a_missing_str_path_is_file_not_found():
    with pytest.raises(FileNotFoundError) as info:
        extism.Plugin("tests/plugins/wasm/nope.wasm")
    assert info.value.filename == "tests/plugins/wasm/nope.wasm"
    with pytest.raises(FileNotFoundError):
        extism.CompiledPlugin("nope.wasm")


def test_a_wrong_input_type_names_the_accepted_ones():
    with extism.Plugin(wasm("bench")) as plugin:
        with pytest.raises(TypeError, match=r"str .*bytes.*bytes-like.*not int"):
            plugin.call("echo", 42)
