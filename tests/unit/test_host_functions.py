"""Host functions: Python callables the guest imports (host_vowels.wat, host_types.wat,
host_calls.wat), type conversions both ways, exceptions, re-entrancy, user data lifetime."""

from __future__ import annotations

import pickle
import struct
import threading
import traceback
from typing import Annotated, Tuple

import pytest

import extism_native as extism
from extism_native import CurrentPlugin, Json, Pickle, Codec, ValType, host_fn
from extism_native._native import slab
from conftest import gc_collect, run_threads, u64s, wasm

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def typed_functions():
    @host_fn(signature=([I32, I32], [I32]))
    def add_i32(plugin, inputs, outputs):
        assert [v.t for v in inputs] == [I32, I32]
        outputs[0].value = inputs[0].value + inputs[1].value

    @host_fn()
    def add_i64(a: int, b: int) -> int:
        return a + b

    @host_fn(signature=([F32, F32], [F32]))
    def mul_f32(plugin, inputs, outputs):
        outputs[0].value = inputs[0].value * inputs[1].value

    @host_fn()
    def mul_f64(a: float, b: float) -> float:
        return a * b

    @host_fn()
    def pair() -> Tuple[int, bool]:
        return -5, True

    return [add_i32, add_i64, mul_f32, mul_f64, pair]


def test_every_value_type_both_ways():
    with extism.Plugin(wasm("host_types"), functions=typed_functions()) as plugin:
        assert u64s(plugin.call("types")) == [42, 2**40 + 2, f32_bits(3.0), f64_bits(-5.0), -5, 1]


def test_explicit_function_class():
    def add(plugin, inputs, outputs, offset):
        outputs[0].value = inputs[0].value + inputs[1].value + offset

    funcs = typed_functions()
    funcs[0] = extism.Function(None, "add_i32", [I32, I32], [I32], add, 100)
    with extism.Plugin(wasm("host_types"), functions=funcs) as plugin:
        assert u64s(plugin.call("types"))[0] == 142


# ---- the official package's documented examples, unchanged -----------------------------------

def test_official_explicit_signature_with_user_data():
    @host_fn(signature=([ValType.PTR], [ValType.PTR]), user_data=b"test")
    def hello_world(plugin, params, results, user_data):
        offs = plugin.alloc(len(user_data))
        mem = plugin.memory(offs)
        mem[:] = user_data
        results[0].value = offs.offset

    with extism.Plugin(wasm("host_vowels"), functions=[hello_world], wasi=True) as plugin:
        assert plugin.call("count_vowels", "hello world") == b"test"


def test_official_inferred_str():
    @host_fn(user_data=b"test")
    def hello_world(inp: str, *user_data) -> str:
        return "hello world: %s %s" % (inp, user_data[0].decode("utf-8"))

    with extism.Plugin(wasm("host_vowels"), functions=[hello_world]) as plugin:
        assert plugin.call("count_vowels", "hello world") == b'hello world: {"count": 3} test'


def test_official_inferred_json_param():
    @host_fn(name="hello_world", user_data=b"test")
    def hello(inp: Annotated[dict, Json], *user_data) -> str:
        return "hello world: %s %s" % (inp["count"], user_data[0].decode("utf-8"))

    with extism.Plugin(wasm("host_vowels"), functions=[hello]) as plugin:
        assert plugin.call("count_vowels", "hello world") == b"hello world: 3 test"


def test_official_codecs():
    @host_fn(name="hello_world")
    def hello(inp: Annotated[str, Codec(lambda xs: xs.decode().replace("o", "u"))]
              ) -> Annotated[str, Codec(lambda xs: xs.replace("u", "a").encode())]:
        return inp

    with extism.Plugin(wasm("host_vowels"), functions=[hello]) as plugin:
        assert plugin.call("count_vowels", "hello world") == b'{"caant": 3}'


class Thing:
    def __init__(self, text):
        self.text = text


def test_official_pickle_return():
    @host_fn(name="hello_world")
    def hello(inp: Annotated[dict, Json]) -> Annotated[Thing, Pickle]:
        return Thing(f"count is {inp['count']}")

    with extism.Plugin(wasm("host_vowels"), functions=[hello]) as plugin:
        result = plugin.call("count_vowels", "hello world", parse=pickle.loads)
        assert result.text == "count is 3"


def test_official_host_context():
    class Context:
        seen = 0

    @host_fn(name="hello_world")
    def hello(current_plugin: CurrentPlugin, inp: str) -> str:
        ctx = current_plugin.host_context()
        ctx.seen += 1
        return inp

    foo = Context()
    with extism.Plugin(wasm("host_vowels"), functions=[hello]) as plugin:
        plugin.call("count_vowels", "hello world", host_context=foo)
        plugin.call("count_vowels", "aaa", host_context=foo)
        assert foo.seen == 2

        @host_fn(name="hello_world")
        def check(current_plugin: CurrentPlugin, inp: str) -> str:
            return repr(current_plugin.host_context())

    with extism.Plugin(wasm("host_vowels"), functions=[check]) as plugin:
        assert plugin.call("count_vowels", "x") == b"None"  # no host context given


def test_decorated_functions_stay_callable():
    @host_fn()
    def double(x: int) -> int:
        """Double it."""
        return 2 * x

    assert double(21) == 42
    assert double.__name__ == "double" and double.__doc__ == "Double it."
    assert double.args == [I64] and double.returns == [I64]


# ---- exceptions -------------------------------------------------------------------------------------

class Boom(Exception):
    pass


def calls_plugin(ping):
    """host_calls.wat with `ping` (a function, typed by annotations, or a Function)."""
    @host_fn()
    def transform(x: bytes) -> bytes:
        return x

    if not isinstance(ping, extism.Function):
        ping = host_fn(name="ping")(ping)
    return extism.Plugin(wasm("host_calls"), functions=[transform, ping])


def test_an_exception_stops_the_guest_and_is_raised_again():
    def ping(i: int) -> int:
        raise Boom("kaboom")

    plugin = calls_plugin(ping)
    with pytest.raises(Boom) as info:
        plugin.call("fail_then_count")
    exc = info.value
    assert str(exc) == "kaboom"
    # the original object with its traceback, chained to the error describing the call
    assert any(frame.name == "ping" for frame in traceback.extract_tb(exc.__traceback__))
    assert isinstance(exc.__cause__, extism.HostFunctionError)
    assert "calling 'fail_then_count'" in str(exc.__cause__)
    assert "host function 'ping' raised Boom: kaboom" in str(exc.__cause__)
    # the guest stopped at once: it never counted
    assert u64s(plugin.call("count")) == [0]


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_base_exceptions_propagate(exc_type):
    def ping(i: int) -> int:
        raise exc_type()

    plugin = calls_plugin(ping)
    with pytest.raises(exc_type):
        plugin.call("fail_then_count")
    assert u64s(plugin.call("count")) == [0]


def test_a_wrong_result_type_is_an_error_not_garbage():
    def ping(i: int) -> int:
        return "not an int"  # type: ignore[return-value]

    with pytest.raises(ValueError):
        calls_plugin(ping).call("fail_then_count")


@pytest.mark.parametrize("explicit", [False, True])
def test_an_i64_result_out_of_range_fails_the_call(explicit):
    # the result is converted to int64 in C: an int that does not fit is an OverflowError raised
    # by Plugin.call (the guest stopped), never a truncated value
    def big(i: int) -> int:
        return 2**63 + i

    def big_explicit(plugin, inputs, outputs):
        outputs[0].value = 2**63 + inputs[0].value

    ping = (host_fn(name="ping", signature=([I64], [I64]))(big_explicit) if explicit else big)
    with calls_plugin(ping) as plugin:
        with pytest.raises(OverflowError) as info:
            plugin.call("fail_then_count")
        assert isinstance(info.value.__cause__, extism.HostFunctionError)
        assert "host function 'ping' raised OverflowError" in str(info.value.__cause__)
        assert u64s(plugin.call("count")) == [0]


@pytest.mark.parametrize("value", [2**63 - 1, -2**63, -1, 0])
def test_i64_results_at_the_edges_reach_the_guest(value):
    @host_fn(name="ping", signature=([I64], [I64]))
    def ping(plugin, inputs, outputs):
        outputs[0].value = value + inputs[0].value

    with calls_plugin(ping) as plugin:
        # ping_loop outputs the sum of ping(i) for i < n
        assert u64s(plugin.call("ping_loop", struct.pack("<Q", 1))) == [value]


def test_set_error_from_a_host_function():
    @host_fn(name="ping")
    def ping(current: CurrentPlugin, i: int) -> int:
        current.set_error("refused by host")
        return 0

    @host_fn()
    def transform(x: bytes) -> bytes:
        return x

    with extism.Plugin(wasm("host_calls"), functions=[transform, ping]) as plugin:
        with pytest.raises(extism.PluginCallError) as info:
            plugin.call("fail_then_count")
        assert info.value.message == "refused by host"
        assert u64s(plugin.call("count")) == [1]  # the guest ran to its end


def test_reentrant_call_is_a_clear_error():
    holder = {}

    def ping(i: int) -> int:
        holder["plugin"].call("count")
        return 0

    plugin = holder["plugin"] = calls_plugin(ping)
    with pytest.raises(extism.UsageError, match="re-entrant call") as info:
        plugin.call("fail_then_count")
    assert isinstance(info.value.__cause__, extism.HostFunctionError)
    assert u64s(plugin.call("count")) == [0]


def test_closing_a_plugin_from_its_own_host_function_is_refused():
    holder = {}

    def ping(i: int) -> int:
        holder["plugin"].close()
        return 0

    plugin = holder["plugin"] = calls_plugin(ping)
    with pytest.raises(extism.UsageError, match="closed from inside"):
        plugin.call("fail_then_count")
    assert u64s(plugin.call("count")) == [0]


def test_other_plugins_can_be_called_from_a_host_function():
    inner = extism.Plugin(wasm("edge"))

    def ping(i: int) -> int:
        return u64s(inner.call("count"))[0]

    outer = calls_plugin(ping)
    assert u64s(outer.call("ping_loop", struct.pack("<Q", 4))) == [1 + 2 + 3 + 4]


# ---- linking ------------------------------------------------------------------------------------------

def test_plugins_get_exactly_the_functions_they_are_given():
    @host_fn()
    def hello_world(inp: str) -> str:  # decorated, but not given to the plugin
        return inp

    with pytest.raises(extism.LinkError) as info:
        extism.Plugin(wasm("host_vowels"))
    assert info.value.missing == [("extism:host/user", "hello_world")]


def test_namespaces():
    @host_fn(namespace="elsewhere")
    def hello_world(inp: str) -> str:
        return inp

    with pytest.raises(extism.LinkError, match=r"extism:host/user::hello_world"):
        extism.Plugin(wasm("host_vowels"), functions=[hello_world])
    assert repr(hello_world).startswith("<extism_native.Function elsewhere::hello_world")


def test_type_mismatch_with_the_import():
    @host_fn()
    def hello_world(inp: int) -> float:
        return 0.0

    with pytest.raises(extism.LinkError, match=r"imported with type \(i64\) -> \(i64\), the host "
                                               r"function's is \(i64\) -> \(f64\)"):
        extism.Plugin(wasm("host_vowels"), functions=[hello_world])


def test_a_host_function_can_replace_a_kernel_function():
    @host_fn(namespace="extism:host/env", signature=([], [I32]))
    def get_log_level(plugin, inputs, outputs):
        outputs[0].value = 1234

    with extism.Plugin(wasm("edge"), functions=[get_log_level]) as plugin:
        assert u64s(plugin.call("log_level")) == [1234]


def test_the_last_of_two_functions_with_one_name_wins():
    first_typed = host_fn(name="hello_world", signature=([I64], [I64]))(
        lambda p, i, o: p.return_string(o[0], "first"))
    second_typed = host_fn(name="hello_world", signature=([I64], [I64]))(
        lambda p, i, o: p.return_string(o[0], "second"))
    with extism.Plugin(wasm("host_vowels"), functions=[first_typed, second_typed]) as plugin:
        assert plugin.call("count_vowels", "a") == b"second"


def test_bad_declarations():
    with pytest.raises(TypeError, match="type annotations"):
        host_fn()(lambda x: x)
    with pytest.raises(TypeError, match="argument x"):
        @host_fn()
        def f(x: list) -> int:
            return 0
    with pytest.raises(TypeError, match="return type"):
        @host_fn()
        def g(x: int) -> list:
            return []
    with pytest.raises(TypeError):
        extism.Function(None, "v", [ValType.V128], [], lambda *a: None)
    with pytest.raises(TypeError):
        extism.Plugin(wasm("edge"), functions=[lambda: None])


# ---- lifetime, memory, threads ----------------------------------------------------------------------

def test_user_data_lives_as_long_as_a_plugin_needs_it():
    gc_collect()
    before = len(slab)

    def make():
        @host_fn()
        def transform(x: bytes) -> bytes:
            return x[::-1]

        @host_fn()
        def ping(i: int) -> int:
            return i

        return extism.Plugin(wasm("host_calls"), functions=[transform, ping])

    plugin = make()  # the Function objects are gone; the plugin still holds the functions
    gc_collect()
    assert plugin.call("echo", "abc") == b"cba"
    assert len(slab) == before + 3  # two functions and the plugin's context
    plugin.close()
    gc_collect()
    assert len(slab) == before  # released exactly when the last owner went


def test_one_function_serves_several_plugins():
    @host_fn()
    def transform(x: bytes) -> bytes:
        return x.upper()

    @host_fn()
    def ping(i: int) -> int:
        return i

    plugins = [extism.Plugin(wasm("host_calls"), functions=[transform, ping]) for _ in range(3)]
    assert [p.call("echo", "x") for p in plugins] == [b"X"] * 3
    for p in plugins:
        p.close()


def test_memory_helpers_check_bounds():
    results = {}

    @host_fn(name="transform")
    def transform(current: CurrentPlugin, x: int) -> int:
        mem = current.memory_at_offset(x)
        results["len"] = mem.length
        results["bytes"] = current.read(mem)
        for bad in ((-1, 1), (2**40, 1), (0, 2**40)):
            try:
                current.read(*bad)
            except IndexError:
                results.setdefault("index_errors", 0)
                results["index_errors"] += 1
        return current.alloc_bytes(b"ok")

    @host_fn()
    def ping(i: int) -> int:
        return i

    with extism.Plugin(wasm("host_calls"), functions=[transform, ping]) as plugin:
        assert plugin.call("echo", "hello") == b"ok"
    assert results == {"len": 5, "bytes": b"hello", "index_errors": 3}


def test_a_host_function_allocating_in_a_loop_keeps_memory_flat():
    @host_fn(name="ping")
    def ping(current: CurrentPlugin, i: int) -> int:
        mem = current.alloc(4096)
        current.free(mem)
        return 1

    @host_fn()
    def transform(x: bytes) -> bytes:
        return x

    with extism.Plugin(wasm("host_calls"), functions=[transform, ping]) as plugin:
        assert u64s(plugin.call("ping_loop", struct.pack("<Q", 20_000))) == [20_000]
        assert u64s(plugin.call("ping_loop", struct.pack("<Q", 20_000))) == [20_000]


def test_two_threads_two_plugins_with_host_functions():
    errors = []

    def worker(offset):
        @host_fn(name="ping")
        def ping(i: int) -> int:
            return i + offset

        @host_fn()
        def transform(x: bytes) -> bytes:
            return x

        try:
            with extism.Plugin(wasm("host_calls"), functions=[transform, ping]) as plugin:
                for _ in range(200):
                    n = 50
                    got = u64s(plugin.call("ping_loop", struct.pack("<Q", n)))[0]
                    if got != n * (n - 1) // 2 + n * offset:
                        errors.append(got)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---- explicit functions: the inputs/outputs lists and Vals (reused by the C shim on CPython
# while nothing else holds them) ------------------------------------------------------------

def explicit_ping(body):
    return host_fn(name="ping", signature=([I64], [I64]))(body)


def ping_loop(plugin, n):
    return u64s(plugin.call("ping_loop", struct.pack("<Q", n)))[0]


def test_lists_and_vals_kept_by_a_host_function_are_never_reused():
    kept = []

    def ping(plugin, inputs, outputs):
        outputs[0].value = inputs[0].value * 2
        kept.append((inputs, outputs, inputs[0], outputs[0]))

    with calls_plugin(explicit_ping(ping)) as plugin:
        assert ping_loop(plugin, 5) == 2 * sum(range(5))
    assert [ins[0].value for ins, _, _, _ in kept] == [0, 1, 2, 3, 4]
    assert [outs[0].value for _, outs, _, _ in kept] == [0, 2, 4, 6, 8]
    assert len({id(obj) for entry in kept for obj in entry}) == 4 * len(kept)


def test_a_kept_val_keeps_its_value():
    kept = []

    def ping(plugin, inputs, outputs):
        kept.append(inputs[0])  # only the Val, not the list
        outputs[0].value = 1

    with calls_plugin(explicit_ping(ping)) as plugin:
        assert ping_loop(plugin, 4) == 4
    assert [v.value for v in kept] == [0, 1, 2, 3]
    assert all(v.t == I64 for v in kept)


def test_changes_to_the_lists_and_types_do_not_leak_into_the_next_call():
    seen = []

    def ping(plugin, inputs, outputs):
        seen.append((len(inputs), len(outputs), inputs[0].t, outputs[0].t, outputs[0].value))
        i = inputs[0].value
        if i == 0:
            inputs.append(extism.Val(I32, 99))
            inputs[0].t = F64
            outputs[0].t = F32
        if i == 1:
            outputs[0] = extism.Val(I64, 1000)  # a new Val: its value is the result
            return
        if i == 2:
            del inputs[:]
        outputs[0].value = i

    with calls_plugin(explicit_ping(ping)) as plugin:
        assert ping_loop(plugin, 4) == 0 + 1000 + 2 + 3
    assert seen == [(1, 1, I64, I64, 0)] * 4


def test_an_explicit_function_serving_a_nested_call_sees_its_own_values():
    # ping(i) calls a second plugin whose ping is the same Function: while the outer call is in
    # progress the inner one must not get (and overwrite) the outer call's Vals
    inner, depth = [], []

    def ping(plugin, inputs, outputs):
        i = inputs[0].value
        if inner and not depth:
            depth.append(1)
            assert ping_loop(inner[0], 2) == 200 + 1  # ping(0), ping(1) on the other plugin
            depth.pop()
        outputs[0].value = inputs[0].value + 100
        assert inputs[0].value == i

    function = explicit_ping(ping)
    with calls_plugin(function) as outer, calls_plugin(function) as other:
        inner.append(other)
        assert ping_loop(outer, 3) == 300 + sum(range(3))


def test_explicit_functions_shared_by_threads():
    def ping(plugin, inputs, outputs):
        outputs[0].value = inputs[0].value * 3

    function = explicit_ping(ping)
    plugins = [calls_plugin(function) for _ in range(4)]
    results = {}

    def work(k):
        results[k] = [ping_loop(plugins[k], 300) for _ in range(20)]

    run_threads(work, [(k,) for k in range(4)])
    assert all(r == [3 * sum(range(300))] * 20 for r in results.values())
    for p in plugins:
        p.close()
