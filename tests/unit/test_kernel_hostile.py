"""Hostile handles, addresses and lengths from the guest never read or write outside kernel
memory: they read 0, are ignored, or fail the call with the official runtime's wording."""

from __future__ import annotations

import pytest

import extism_native as extism
from conftest import u64s, wasm


@pytest.fixture
def edge():
    with extism.Plugin(wasm("edge")) as plugin:
        yield plugin


def test_out_of_range_loads_read_zero(edge):
    # load_u8(0), load_u8(2**64-1), load_u64(2**64-8), load_u64(2**63-1), load_u64(2**32),
    # length(2**64-1), length_unsafe(2**64-1), length_unsafe(12345678)
    assert u64s(edge.call("hostile_loads")) == [0] * 8


def test_out_of_range_stores_and_frees_are_ignored(edge):
    assert u64s(edge.call("hostile_stores")) == [1]
    assert edge.call("output_interior") == b"op"


def test_impossible_allocations_return_zero(edge):
    # alloc(2**64-1), alloc(2**63), alloc(4 GiB), alloc(0)
    assert u64s(edge.call("hostile_allocs")) == [0, 0, 0, 0]


@pytest.mark.parametrize("function, reason", [
    ("config_bad_handle", "invalid handle offset for config key: 12345"),
    ("var_bad_value", "invalid handle offset for var value: 99999"),
    ("log_bad_handle", "invalid handle offset for log message: 99999"),
])
def test_invalid_handles_fail_the_call(edge, function, reason):
    with pytest.raises(extism.Trap) as info:
        edge.call(function)
    assert info.value.reason == reason
    assert edge.call("output_interior") == b"op"


def test_invalid_log_handle_is_ignored_when_the_level_is_off():
    with extism.Plugin(wasm("edge"), log_level="off") as plugin:
        assert plugin.call("log_bad_handle") == b""
        assert u64s(plugin.call("log_level")) == [2**31 - 1]
