"""Memory: repeated calls and create/close cycles keep RSS flat; linear memory is not
resident before the guest touches it."""

from __future__ import annotations

import os
import struct
import sys

import pytest

import extism_native as extism
from extism_native._native import slab
from conftest import gc_collect, u64s, wasm

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                       reason="reads RSS from /proc/self/statm (Linux)"),
    # AddressSanitizer keeps freed memory in quarantine: RSS says nothing then
    pytest.mark.skipif(bool(os.environ.get("EXN_SANITIZE")),
                       reason="RSS is meaningless under sanitizers (EXN_SANITIZE is set)"),
]


def rss() -> int:
    gc_collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_ten_thousand_calls_keep_rss_flat():
    payload = bytes(range(256)) * 4  # 1 KiB
    with extism.Plugin(wasm("edge")) as plugin:
        for _ in range(500):
            plugin.call("input_info", payload)
        before = rss()
        for _ in range(10_000):
            plugin.call("input_info", payload)
            plugin.call("output_twice")
        grown = rss() - before
    assert grown < 1 << 20, f"RSS grew by {grown} bytes over 10,000 calls"


def test_a_thousand_create_close_cycles_keep_rss_flat():
    data = wasm("edge")
    baseline_slab = len(slab)
    for _ in range(50):
        with extism.Plugin(data) as plugin:
            plugin.call("count")
    before = rss()
    for i in range(1000):
        plugin = extism.Plugin(data)
        assert u64s(plugin.call("count")) == [1]
        if i % 2:
            plugin.close()  # the other half is left to the garbage collector
        del plugin
        if i % 50 == 49 and sys.implementation.name != "cpython":
            gc_collect()  # PyPy: this loop grows its heap too little to start a collection
    grown = rss() - before
    assert grown < 4 << 20, f"RSS grew by {grown} bytes over 1,000 create/close cycles"
    assert len(slab) == baseline_slab


def test_linear_memory_is_not_resident_until_touched():
    # spin.wat declares 256 pages (16 MiB) of linear memory
    data = wasm("spin")
    before = rss()
    plugins = [extism.Plugin(data) for _ in range(20)]
    for p in plugins:
        p.call("spin", struct.pack("<Q", 10))
    grown = rss() - before
    assert grown < 20 * (1 << 20), f"20 instances of a 16 MiB memory cost {grown} bytes"
    per_instance = grown / 20
    plugins[0].call("touch")  # writes one page 8 MB in
    assert rss() - before - grown < 1 << 20
    for p in plugins:
        p.close()
    assert per_instance < 1 << 20


def test_kernel_memory_dirtied_by_a_big_input_is_given_back_at_the_next_call():
    with extism.Plugin(wasm("edge")) as plugin:
        plugin.call("input_info", b"x")
        before = rss()
        plugin.call("input_info", b"x" * (200 << 20))  # 200 MiB copied into kernel memory
        plugin.call("input_info", b"x")  # the reset at this call's start zeroes all of it
        grown = rss() - before
    assert grown < 16 << 20, f"RSS still {grown} bytes higher after the big input was reset"
