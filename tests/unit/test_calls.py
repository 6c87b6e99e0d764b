"""How calls end (spec section 3): return codes, plugin errors, traps, signatures, and what
persists across calls - on the WAT plugin tests/plugins/wat/edge.wat."""

from __future__ import annotations

import threading

import pytest

import extism_native as extism
from conftest import u64s, wasm


@pytest.fixture
def edge():
    with extism.Plugin(wasm("edge")) as plugin:
        yield plugin


@pytest.mark.parametrize("function, cls, attrs", [
    ("rc7", extism.PluginCallError, {"code": 7, "message": None}),
    ("rc_neg", extism.PluginCallError, {"code": -3, "message": None}),
    ("fail", extism.PluginCallError, {"code": 1, "message": "oops"}),
    ("fail_rc0", extism.PluginCallError, {"code": 0, "message": "oops"}),
    ("error_then_trap", extism.PluginCallError, {"code": -1, "message": "oops"}),
    ("error_not_a_block", extism.PluginCallError, {"code": 0, "message": ""}),
    ("trap", extism.Trap, {"reason": "unreachable executed"}),
    ("div0", extism.Trap, {"reason": "integer divide by zero"}),
    ("oob", extism.Trap, {"reason": "out of bounds memory access"}),
    ("recurse", extism.Trap, {"reason": "stack overflow"}),
    ("nope", extism.FunctionNotFoundError, {}),
    ("a_global", extism.FunctionNotFoundError, {}),
    ("secret", extism.FunctionNotFoundError, {}),
    ("takes_param", extism.FunctionSignatureError, {}),
    ("two_results", extism.FunctionSignatureError, {}),
    ("i64_result", extism.FunctionSignatureError, {}),
])
def test_failures_raise_their_own_exception_naming_the_function(edge, function, cls, attrs):
    with pytest.raises(cls) as info:
        edge.call(function, b"input")
    exc = info.value
    assert type(exc) is cls
    assert f"calling {function!r}" in str(exc)
    assert exc.function_name == function
    for name, value in attrs.items():
        assert getattr(exc, name) == value
    # the plugin stays usable after every kind of failure
    assert edge.call("output_interior") == b"op"


@pytest.mark.parametrize("function", ["noop", "error_cleared", "error_out_of_range"])
def test_successes(edge, function):
    assert edge.call(function) == b""


def test_signature_errors_do_not_run_the_function(edge):
    assert u64s(edge.call("count")) == [1]
    with pytest.raises(extism.FunctionSignatureError):
        edge.call("takes_param")
    assert u64s(edge.call("count")) == [2]


def test_only_exports_are_callable_not_debug_names(edge):
    # edge.wat names $secret in its name section but does not export it
    assert edge.call("uses_secret") == b""
    with pytest.raises(extism.FunctionNotFoundError):
        edge.call("secret")


def test_one_function_under_two_export_names(edge):
    assert u64s(edge.call("alias_a")) == u64s(edge.call("alias_b")) == [2]


def test_globals_persist_across_calls_and_traps(edge):
    assert u64s(edge.call("count")) == [1]
    with pytest.raises(extism.Trap):
        edge.call("count_then_trap")  # increments, then traps
    assert u64s(edge.call("count")) == [3]


def test_calling_start_gives_the_next_call_a_fresh_instance():
    with extism.Plugin(wasm("command")) as plugin:
        assert u64s(plugin.call("count")) == [1]
        assert u64s(plugin.call("count")) == [2]
        assert plugin.call("_start") == b""  # sets the counter to 1000
        assert u64s(plugin.call("count")) == [1]  # re-instantiated: the counter starts over


def test_output_rules(edge):
    assert edge.call("output_twice") == b"op"  # the last accepted output_set wins
    assert edge.call("output_out_of_range") == b""  # rejected ranges leave no output
    assert edge.call("output_interior") == b"op"  # the output need not be a block


def test_input_rules(edge):
    length, handle, block_len, tail_u64, past_end_u8, far_u64 = u64s(
        edge.call("input_info", b"hello world!"))
    assert (length, handle, block_len) == (12, 77, 12)  # the input is the first block
    assert (tail_u64, past_end_u8, far_u64) == (0, 0, 0)  # no partial or out-of-range reads
    assert u64s(edge.call("free_input", b"abc")) == [0]  # freeing the input empties it


def test_memory_grow(edge):
    assert u64s(edge.call("mem_size")) == [1]
    assert u64s(edge.call("grow_neg")) == [-1]  # memory.grow(-1) fails ...
    assert u64s(edge.call("mem_size")) == [1]  # ... and never shrinks
    assert u64s(edge.call("grow_huge")) == [-1]
    assert u64s(edge.call("grow_one")) == [1]
    assert u64s(edge.call("mem_size")) == [2]


@pytest.mark.parametrize("stack_size", [128 * 1024, 512 * 1024, 8 << 20])
def test_unbounded_recursion_traps_on_any_thread_stack(stack_size):
    result = []

    def run():
        with extism.Plugin(wasm("edge")) as plugin:
            try:
                plugin.call("recurse")
            except extism.Trap as exc:
                result.append(exc.reason)
            result.append(plugin.call("output_interior"))

    old = threading.stack_size(stack_size)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old)
    assert result == ["stack overflow", b"op"]


def test_many_locals_compile():
    # wasm3's default stack-height limit (2000) cannot compile a function with 3000 locals
    with extism.Plugin(wasm("big_locals")) as plugin:
        assert u64s(plugin.call("run")) == [1]
