"""Clocks, random, sleeping and readiness (poll_oneoff), args and environment, proc_exit,
sched_yield, proc_raise and the sock_* functions - through the raw caller."""

from __future__ import annotations

import struct
import threading
import time

import pytest

import extism_native
from wasi_helpers import EBADF, EFAULT, EINVAL, ENOTSUP, Raw, raw_plugin, wasm

MEMORY = 131072


@pytest.fixture
def raw():
    return raw_plugin(None, wasi=extism_native.WASI(stdin=b"12345"))


def subscription(userdata, tag, clock_id=1, timeout=0, flags=0, fd=0):
    if tag == 0:
        return struct.pack("<QB7xI4xQQH6x", userdata, 0, clock_id, timeout, 0, flags)
    return struct.pack("<QB7xI28x", userdata, tag, fd)


def poll(raw, *subs, out=1024, nevents=512):
    image = b"".join(subs)
    err, mem = raw.call("poll_oneoff", 0, out, len(subs), nevents, image=image,
                        nout=out + 32 * len(subs))
    n = struct.unpack_from("<I", mem, nevents)[0]
    events = [struct.unpack_from("<QHB5xQH", mem, out + 32 * i) for i in range(n)]
    return err, events  # (userdata, error, type, nbytes, flags)


def now_ns(raw, clock):
    err, mem = raw.call("clock_time_get", clock, 0, 8, nout=16)
    assert err == 0
    return struct.unpack_from("<Q", mem, 8)[0]


# ---- clocks and random -----------------------------------------------------------------------

def test_clocks(raw):
    assert abs(now_ns(raw, 0) - time.time_ns()) < 5 * 10**9
    a = now_ns(raw, 1)
    b = now_ns(raw, 1)
    assert b >= a
    assert now_ns(raw, 2) > 0 and now_ns(raw, 3) > 0  # process and thread CPU time
    for clock in range(4):
        err, mem = raw.call("clock_res_get", clock, 8, nout=16)
        assert err == 0 and 1 <= struct.unpack_from("<Q", mem, 8)[0] <= 10**9
    for clock in (4, 2**32 - 1):
        assert raw.errno("clock_time_get", clock, 0, 8) == EINVAL
        assert raw.errno("clock_res_get", clock, 8) == EINVAL
    assert raw.errno("clock_time_get", 0, 0, MEMORY - 7) == EFAULT
    assert raw.errno("clock_res_get", 0, MEMORY - 4) == EFAULT


def test_random(raw):
    err, a = raw.call("random_get", 64, 64, nout=128)
    err2, b = raw.call("random_get", 64, 64, nout=128)
    assert err == err2 == 0
    assert a[:64] == bytes(64) and a[64:] != bytes(64) and a[64:] != b[64:]
    assert raw.errno("random_get", 0, 0) == 0
    assert raw.errno("random_get", 0, MEMORY) == 0  # the whole of memory
    assert raw.errno("random_get", 1, MEMORY) == EFAULT
    assert raw.errno("random_get", 2**32 - 1, 2) == EFAULT


# ---- poll_oneoff --------------------------------------------------------------------------------

def test_sleep_on_a_relative_clock(raw):
    t0 = time.monotonic()
    err, events = poll(raw, subscription(42, 0, timeout=30_000_000))
    assert time.monotonic() - t0 >= 0.03
    assert (err, events) == (0, [(42, 0, 0, 0, 0)])


def test_the_earliest_clock_wakes_up(raw):
    t0 = time.monotonic()
    err, events = poll(raw, subscription(1, 0, timeout=5 * 10**9),
                       subscription(2, 0, timeout=10_000_000))
    assert time.monotonic() - t0 < 2
    assert (err, [e[0] for e in events]) == (0, [2])


def test_absolute_clocks(raw):
    err, events = poll(raw, subscription(7, 0, clock_id=0, timeout=1, flags=1))  # the past
    assert (err, [e[0] for e in events]) == (0, [7])
    deadline = now_ns(raw, 1) + 20_000_000
    err, events = poll(raw, subscription(8, 0, clock_id=1, timeout=deadline, flags=1))
    assert err == 0 and now_ns(raw, 1) >= deadline
    deadline = now_ns(raw, 0) + 20_000_000
    err, events = poll(raw, subscription(9, 0, clock_id=0, timeout=deadline, flags=1))
    assert err == 0 and now_ns(raw, 0) >= deadline - 1_000_000


def test_descriptors_are_ready_at_once(raw):
    t0 = time.monotonic()
    err, events = poll(raw, subscription(1, 0, timeout=10 * 10**9),
                       subscription(2, 1, fd=0), subscription(3, 2, fd=1),
                       subscription(4, 1, fd=99), subscription(5, 1, fd=1))
    assert time.monotonic() - t0 < 2
    assert err == 0
    assert events == [(2, 0, 1, 5, 0),       # stdin: 5 bytes left
                      (3, 0, 2, 0, 0),       # stdout can be written
                      (4, EBADF, 1, 0, 0),   # not open: the error is in its event
                      (5, EBADF, 1, 0, 0)]   # stdout is not readable


def test_poll_errors(raw):
    assert poll(raw)[0] == EINVAL  # nothing to wait for
    assert poll(raw, subscription(1, 3))[0] == EINVAL  # unknown tag
    assert poll(raw, subscription(1, 0, clock_id=2))[0] == EINVAL  # CPU-time clock
    assert poll(raw, subscription(1, 0, clock_id=9))[0] == EINVAL
    assert poll(raw, subscription(1, 0, flags=2))[0] == EINVAL
    sub = subscription(1, 0)
    assert raw.errno("poll_oneoff", MEMORY - 47, 0, 1, 0) == EFAULT
    assert raw.errno("poll_oneoff", 0, MEMORY - 31, 1, 64, image=sub) == EFAULT
    assert raw.errno("poll_oneoff", 0, 64, 1, MEMORY - 3, image=sub) == EFAULT
    assert raw.errno("poll_oneoff", 0, 64, 2**31, 64) == EFAULT


def test_a_sleep_can_be_cancelled(raw):
    handle = raw.plugin.cancel_handle()
    threading.Timer(0.1, handle.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(extism_native.CancelledError):
        poll(raw, subscription(1, 0, timeout=60 * 10**9))
    assert time.monotonic() - t0 < 5
    assert raw.errno("sched_yield") == 0  # still usable


def test_a_sleep_times_out():
    plugin = extism_native.Plugin({"wasm": [{"data": wasm("wasi_raw")}], "timeout_ms": 100},
                                  wasi=True)
    raw = Raw(plugin)
    t0 = time.monotonic()
    with pytest.raises(extism_native.CallTimeoutError):
        poll(raw, subscription(1, 0, timeout=60 * 10**9))
    assert time.monotonic() - t0 < 5


# ---- args and environment -------------------------------------------------------------------

def test_args_and_environ_layout():
    raw = raw_plugin(None, wasi=extism_native.WASI(args=["prog", "", "two words"],
                                                   env={"A": "1", "LONG": "x" * 300}))
    err, mem = raw.call("args_sizes_get", 0, 4, nout=8)
    assert (err, struct.unpack("<II", mem)) == (0, (3, 5 + 1 + 10))
    err, mem = raw.call("args_get", 100, 200, nout=216)
    assert err == 0 and struct.unpack_from("<III", mem, 100) == (200, 205, 206)
    assert mem[200:216] == b"prog\0\0two words\0"
    err, mem = raw.call("environ_sizes_get", 0, 4, nout=8)
    assert (err, struct.unpack("<II", mem)) == (0, (2, 4 + 306))
    err, mem = raw.call("environ_get", 100, 200, nout=520)
    assert err == 0 and struct.unpack_from("<II", mem, 100) == (200, 204)
    assert mem[200:510] == b"A=1\0LONG=" + b"x" * 300 + b"\0"
    assert raw.errno("args_get", MEMORY - 8, 0) == EFAULT  # 3 pointers do not fit
    assert raw.errno("args_get", 0, MEMORY - 15) == EFAULT  # 16 bytes do not fit
    assert raw.errno("args_sizes_get", MEMORY - 3, 0) == EFAULT
    assert raw.errno("environ_get", 0, MEMORY - 10) == EFAULT
    assert raw.errno("environ_sizes_get", 0, MEMORY) == EFAULT


def test_no_args_or_environment_by_default(raw):
    for function in ("args_sizes_get", "environ_sizes_get"):
        err, mem = raw.call(function, 0, 4, nout=8)
        assert (err, mem) == (0, bytes(8))
    assert raw.errno("args_get", MEMORY, MEMORY) == 0  # nothing to write: nothing is out


def test_configuration_rejects_nul():
    with pytest.raises(ValueError):
        extism_native.WASI(args=["a\0b"])
    with pytest.raises(ValueError):
        extism_native.WASI(env={"A=B": "c"})


# ---- proc_exit and the rest ------------------------------------------------------------------

@pytest.mark.parametrize("code, expected", [(1, 1), (3, 3), (255, 255), (500, 500),
                                            (2**31 - 1, 2**31 - 1), (2**32 - 1, -1),
                                            (2**31, -2**31)])
def test_proc_exit_codes(raw, code, expected):
    with pytest.raises(extism_native.ExitError) as info:
        raw.call("proc_exit", code)
    assert info.value.code == expected
    assert f"exited with code {expected}" in str(info.value)
    # the plugin stays usable, and exits again
    assert raw.errno("sched_yield") == 0
    with pytest.raises(extism_native.ExitError):
        raw.call("proc_exit", code)
    assert raw.errno("random_get", 0, 8) == 0


def test_proc_exit_0_is_success(raw):
    out = raw.plugin.call("proc_exit", bytes(80))
    assert out == b""  # (it did not reach the code that sets the output)
    assert raw.errno("sched_yield") == 0


def test_proc_exit_in_the_c_api(raw):
    from extism_native._native import lib
    with pytest.raises(extism_native.ExitError):
        raw.call("proc_exit", 500)
    assert lib.exn_plugin_exit_code(raw.plugin._ptr) == 500


def test_sockets_and_signals_are_not_supported(raw):
    for function, args in (("sock_accept", (3, 0, 0)), ("sock_recv", (0, 0, 0, 0, 0, 0)),
                           ("sock_send", (1, 0, 0, 0, 0)), ("sock_shutdown", (0, 3)),
                           ("proc_raise", (2,))):
        assert raw.errno(function, *args) == ENOTSUP
    assert raw.errno("sched_yield") == 0


# ---- a fresh instance after `_start` -------------------------------------------------------------

def host_fds():
    import os
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def test_start_gives_the_next_call_a_fresh_wasi_state(tmp_path):
    (tmp_path / "f").write_bytes(b"data")
    raw = raw_plugin({str(tmp_path): "/d"}, wasi=extism_native.WASI(stdin=b"abc"))
    before = host_fds()
    opened = [raw.open(b"f")[1] for _ in range(20)]
    assert opened == list(range(4, 24))
    assert raw.read(0, 2) == (0, b"ab")
    assert raw.errno("fd_close", 3) == 0  # the guest closes its preopen
    assert raw.errno("fd_renumber", 4, 1) == 0
    raw.plugin.call("_start")
    # the next call runs on a fresh instance: the guest's descriptors are gone, the preopen and
    # stdio are back, stdin starts again
    assert raw.errno("fd_close", 4) == 8  # EBADF
    assert raw.errno("fd_prestat_get", 3, 0) == 0
    assert raw.read(0, 10) == (0, b"abc")
    assert raw.write(1, b"")[0] == 0
    assert raw.open(b"f")[1] == 4
    if before is not None:
        assert host_fds() <= before + 1  # the 20 host files were closed
