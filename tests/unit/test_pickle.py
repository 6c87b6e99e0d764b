"""Pickling (issue 18 item 1): CompiledPlugin, Plugin, PluginPool and host functions pickle as
what they were made from and give the same outputs; what does not travel (vars, memory, captured
output, cancel handles) does not; parts that cannot travel fail naming the part.  Then the same
across processes: ProcessPoolExecutor and multiprocessing with the spawn start method."""

from __future__ import annotations

import concurrent.futures
import copy
import json
import logging
import multiprocessing
import os
import pickle
import threading
import time

import pytest

import extism_native as extism
import fanout
from conftest import u64s, wasm, wasm_path
from extism_native import CompiledPlugin, Function, PluginPool, ValType, WASI, host_fn

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


def roundtrip(obj, protocol=pickle.HIGHEST_PROTOCOL):
    return pickle.loads(pickle.dumps(obj, protocol))


def outputs(plugin, function="count_vowels", inputs=None):
    return [plugin.call(function, data) for data in (inputs or fanout.texts(20))]


def outcome(plugin, function, data=b""):
    try:
        return ("ok", plugin.call(function, data))
    except extism.Error as exc:
        return ("error", type(exc).__name__, str(exc))


# ---- what travels ------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_compiled_plugin_roundtrip_gives_the_same_outputs(protocol):
    compiled = CompiledPlugin(fanout.kitchen(), name="kitchen")
    again = roundtrip(compiled, protocol)
    assert type(again) is CompiledPlugin and again is not compiled
    assert again.name == "kitchen" and again.size == compiled.size
    assert again._data == compiled._data  # the very bytes the C core got
    assert outputs(again.instantiate()) == outputs(compiled.instantiate())
    assert outputs(extism.Plugin(again), "reverse") == outputs(extism.Plugin(compiled), "reverse")


def test_the_pickle_holds_the_module_once_and_little_else():
    data = fanout.kitchen()
    compiled = CompiledPlugin(data)
    payload = pickle.dumps(compiled)
    assert payload.count(data) == 1
    assert len(payload) < len(data) + 400
    # a Plugin made from it pickles with it (once, however many instances share it)
    a, b = extism.Plugin(compiled), compiled.instantiate()
    pair = pickle.dumps([a, b])
    assert pair.count(data) == 1
    a2, b2 = pickle.loads(pair)
    assert a2._source is b2._source  # one compiled plugin on the other side too
    assert a2.id != a.id and a2.id != b2.id


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("source", ["bytes", "path", "str", "dict", "json", "Manifest"])
def test_plugin_roundtrip_from_every_kind_of_source(source, protocol):
    data = fanout.kitchen()
    made = {
        "bytes": lambda: data,
        "path": lambda: wasm_path("kitchen"),
        "str": lambda: str(wasm_path("kitchen")),
        "dict": lambda: {"wasm": [{"data": data}], "config": {"vowels": "xyz"}},
        "json": lambda: json.dumps({"wasm": [{"path": str(wasm_path("kitchen"))}],
                                    "config": {"vowels": "ou"}}),
        "Manifest": lambda: extism.Manifest([extism.WasmData(data)], config={"vowels": "e"}),
    }[source]()
    plugin = extism.Plugin(made)
    again = roundtrip(plugin, protocol)
    assert again.name == plugin.name
    assert outputs(again) == outputs(plugin)
    assert outcome(again, "config", "vowels") == outcome(plugin, "config", "vowels")


def test_config_travels_with_update_config_changes():
    plugin = extism.Plugin({"wasm": [{"data": fanout.kitchen()}],
                            "config": {"vowels": "a", "keep": "k", "drop": "d"}},
                           config={"vowels": "ae"})
    plugin.update_config({"vowels": "aei", "new": "n", "drop": None})
    again = roundtrip(plugin)
    for key in ("vowels", "keep", "drop", "new", "missing"):
        assert outcome(again, "config", key) == outcome(plugin, "config", key), key
    assert again.call("config", "vowels") == b"aei" and again.call("config", "new") == b"n"
    assert outcome(again, "config", "drop")[0] == "error"  # removed, as in the original
    assert outputs(again) == outputs(plugin)


def test_guest_state_does_not_travel():
    plugin = extism.Plugin(wasm("edge"))
    assert u64s(plugin.call("count")) == [1]
    assert u64s(plugin.call("count")) == [2]  # globals persist between calls...
    again = roundtrip(plugin)
    assert u64s(again.call("count")) == [1]  # ...but a new instance starts afresh
    kitchen = extism.Plugin(fanout.kitchen())
    kitchen.call("set_var", "colour=blue")
    assert kitchen.call("get_var", "colour") == b"blue"
    assert roundtrip(kitchen).call("get_var", "colour") == b""


def test_the_original_is_unchanged_and_both_run_on():
    plugin = extism.Plugin(wasm("edge"))
    plugin.call("count")
    again = roundtrip(plugin)
    assert u64s(plugin.call("count")) == [2]
    assert u64s(again.call("count")) == [1]
    plugin.close()
    assert u64s(again.call("count")) == [2]


def test_out_of_band_buffers_carry_the_module():
    """Protocol 5 with a buffer callback (as Dask sends frames): the module goes out of band,
    not copied into the pickle stream."""
    data = fanout.kitchen()
    for obj in (CompiledPlugin(data), extism.Plugin(data, config={"vowels": "xyz"})):
        buffers = []
        payload = pickle.dumps(obj, 5, buffer_callback=buffers.append)
        assert len(payload) < 1000 and [bytes(b.raw()) for b in buffers] == [data]
        again = pickle.loads(payload, buffers=[memoryview(bytearray(data))])
        plugin = again if isinstance(again, extism.Plugin) else again.instantiate()
        reference = obj if isinstance(obj, extism.Plugin) else obj.instantiate()
        assert outputs(plugin) == outputs(reference)


def test_pickling_beside_a_running_call():
    plugin = extism.Plugin(wasm("spin"))
    done = []
    runner = threading.Thread(target=lambda: done.append(outcome(plugin, "forever")))
    runner.start()
    try:
        time.sleep(0.05)
        again = roundtrip(plugin)  # the running call neither blocks nor travels
        n = (1000).to_bytes(8, "little")
        assert u64s(again.call("spin", n)) == [1000]
    finally:
        handle = plugin.cancel_handle()
        while runner.is_alive():  # (a cancel before the call started is not remembered)
            handle.cancel()
            runner.join(0.05)
    assert done and done[0][1] == "CancelledError"


def test_copy_refuses_a_plugin_and_shares_a_compiled_plugin():
    compiled = CompiledPlugin(fanout.kitchen())
    assert copy.copy(compiled) is compiled and copy.deepcopy(compiled) is compiled
    plugin = compiled.instantiate()
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.copy(plugin)
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.deepcopy({"p": plugin})


def test_a_closed_plugin_does_not_pickle():
    plugin = extism.Plugin(fanout.kitchen(), name="gone")
    plugin.close()
    with pytest.raises(extism.UsageError, match="'gone': it is closed"):
        pickle.dumps(plugin)


# ---- host functions ----------------------------------------------------------------------------

def test_a_decorated_module_level_host_function_pickles_by_reference():
    payload = pickle.dumps(fanout.hello_world)
    assert b"hello_world" in payload and len(payload) < 100  # its module and name, nothing else
    assert pickle.loads(payload) is fanout.hello_world
    assert roundtrip(fanout.host_reflect) is fanout.host_reflect


def test_host_functions_travel_with_their_plugin():
    plugin = extism.Plugin(wasm("host_vowels"), functions=[fanout.hello_world])
    again = roundtrip(plugin)
    assert again.call("count_vowels", "aeiou") == b"hello from pid-independent host: 50"
    assert outputs(again) == outputs(plugin)
    compiled = CompiledPlugin(wasm("host_vowels"), functions=[fanout.shout_fn])
    again = roundtrip(compiled)
    assert again.functions[0] is not fanout.shout_fn  # rebuilt from its parts...
    assert again.functions[0].func is fanout.shout  # ...its function by reference
    assert again.instantiate().call("count_vowels", "aeiou") == b"SHOUT 5"


def explicit_upper(plugin, inputs, outputs, prefix):
    outputs[0].value = plugin.alloc_bytes(prefix + plugin.read(inputs[0]))


def test_host_functions_made_without_the_decorator_travel_as_their_parts():
    made = Function(None, "hello_world", [ValType.I64], [ValType.I64], explicit_upper, b">> ")
    plugin = extism.Plugin(wasm("host_vowels"), functions=[made])
    again = roundtrip(plugin)
    assert again.call("count_vowels", "aa") == b'>> {"count": 2}' == plugin.call("count_vowels",
                                                                               "aa")
    inferred = host_fn(name="hello_world", namespace="extism:host/user")(fanout.shout)
    clone = roundtrip(inferred)
    assert (clone.namespace, clone.name, clone.args, clone.returns) == (
        inferred.namespace, inferred.name, inferred.args, inferred.returns)


def test_an_unpicklable_host_function_names_itself():
    def nested(text: str) -> str:
        return text

    inner = host_fn(name="hello_world", namespace="my:ns")(nested)
    plugin = extism.Plugin(wasm("host_vowels"), functions=[host_fn(name="hello_world")(nested)])
    with pytest.raises(pickle.PicklingError,
                       match=r"host function extism:host/user::hello_world of plugin "
                             r"'plugin': .*nested.*defined at the top level"):
        pickle.dumps(plugin)
    with pytest.raises(pickle.PicklingError, match="host function my:ns::hello_world"):
        pickle.dumps(inner)
    compiled = CompiledPlugin(wasm("host_vowels"), functions=[host_fn(name="hello_world")(nested)])
    with pytest.raises(pickle.PicklingError, match="of compiled plugin 'plugin'"):
        pickle.dumps(compiled)
    with pytest.raises(pickle.PicklingError, match="compiled plugin"):
        pickle.dumps(compiled.instantiate())


def test_unpicklable_user_data_names_itself():
    made = Function(None, "hello_world", [ValType.I64], [ValType.I64], explicit_upper,
                    threading.Lock())
    with pytest.raises(pickle.PicklingError, match="user data of host function"):
        pickle.dumps(extism.Plugin(wasm("host_vowels"), functions=[made]))


# ---- options: WASI, logging, HTTP ------------------------------------------------------------

def test_wasi_settings_travel_and_captured_output_does_not():
    options = WASI(args=["prog", "env"], env={"FOO": "bar", "X": "a=b"}, stdout="capture")
    plugin = extism.Plugin(wasm("wasi_std"), wasi=options)
    plugin.call("_start")
    again = roundtrip(plugin)
    assert again.read_stdout() == b""  # what the original captured stays there
    again.call("_start")
    printed = plugin.read_stdout()
    assert b"argv[1] env" in printed and b"FOO bar" in printed and b"env X=a=b" in printed
    assert again.read_stdout() == printed


def test_a_wasi_output_callable_travels_by_reference():
    options = WASI(stdout=fanout.collect_stdout, stderr="discard")
    plugin = extism.Plugin(wasm("wasi_reactor"), wasi=options)
    again = roundtrip(plugin)
    del fanout.STDOUT_CHUNKS[:]
    again.call("say", "hello")
    assert b"".join(fanout.STDOUT_CHUNKS) == b"hello\n"
    with pytest.raises(pickle.PicklingError, match="WASI stdout callable"):
        pickle.dumps(extism.Plugin(wasm("wasi_reactor"), wasi=WASI(stdout=lambda b: None)))


def test_loggers_travel_by_reference_and_a_lambda_names_itself():
    plugin = extism.Plugin(fanout.kitchen(), logger=fanout.collect_log, log_level="warn")
    again = roundtrip(plugin)
    del fanout.LOG_LINES[:]
    assert again.call("log", "x") == plugin.call("log", "x") == b"2"
    assert fanout.LOG_LINES == [("warn", "warn: x"), ("error", "error: x")] * 2
    named = logging.getLogger("extism_native.tests.pickled")
    named.setLevel(logging.ERROR)
    again = roundtrip(extism.Plugin(fanout.kitchen(), logger=named))
    assert again.call("log", "x") == b"1"  # the same Logger, found by its name
    with pytest.raises(pickle.PicklingError, match="logger of plugin 'plugin'"):
        pickle.dumps(extism.Plugin(fanout.kitchen(), logger=lambda level, message: None))


def test_the_http_transport_travels_by_reference():
    manifest = {"wasm": [{"data": wasm("http")}], "allowed_hosts": ["example.com"]}
    plugin = extism.Plugin(manifest, http_transport=fanout.fixed_transport,
                           http_response_headers=True)
    request = json.dumps({"url": "https://example.com/x"})
    again = roundtrip(plugin)
    assert again.call("request", request) == plugin.call("request", request) == (
        b"served https://example.com/x")
    assert json.loads(again.call("headers")) == {"x-test": "1"}
    denied = json.dumps({"url": "https://other.example/x"})
    with pytest.raises(extism.HttpError):
        again.call("request", denied)  # allowed_hosts travelled too
    with pytest.raises(pickle.PicklingError, match="http_transport"):
        pickle.dumps(extism.Plugin(manifest, http_transport=lambda r: None))


def test_what_belongs_to_this_process_does_not_pickle():
    plugin = extism.Plugin(fanout.kitchen())
    with pytest.raises(pickle.PicklingError, match="CancelHandle"):
        pickle.dumps(plugin.cancel_handle())
    kept = []

    @host_fn(name="hello_world")
    def keep(current: extism.CurrentPlugin, text: str) -> str:
        try:
            pickle.dumps(current)
        except pickle.PicklingError as exc:
            kept.append(str(exc))
        return text

    extism.Plugin(wasm("host_vowels"), functions=[keep]).call("count_vowels", "a")
    assert kept and "CurrentPlugin" in kept[0]


# ---- pools -------------------------------------------------------------------------------------

def test_a_pool_and_a_plugin_inside_it_pickle():
    compiled = CompiledPlugin(fanout.kitchen())
    with PluginPool(compiled, max_instances=2, config={"vowels": "xyz"}) as pool:
        with pool.get() as plugin:
            plugin.call("set_var", "k=v")
            again = roundtrip(plugin)
            assert outputs(again) == outputs(plugin)
            assert again.call("get_var", "k") == b""
        pool2 = roundtrip(pool)
        assert pool2.max_instances == 2 and pool2.count == 0
        assert pool2.call("count_vowels", "xyz a") == b'{"count":3,"total":3,"vowels":"xyz"}'
        pool2.close()
    with pytest.raises(extism.UsageError, match="closed pool"):
        pickle.dumps(pool)
    with pytest.raises(pickle.PicklingError, match="logger of the pool's plugins"):
        pickle.dumps(PluginPool(compiled, logger=lambda level, message: None))


# ---- other processes: spawn start method ------------------------------------------------------

SPAWN = multiprocessing.get_context("spawn")
N = 200


@pytest.mark.skipif(
    not hasattr(concurrent.futures.ProcessPoolExecutor, "_adjust_process_count"),
    reason="this interpreter's ProcessPoolExecutor cannot start workers (Debian's PyPy 3.9 "
    "calls _adjust_process_count, which its concurrent.futures renamed); multiprocessing's "
    "spawn pool below still runs",
)
def test_process_pool_executor_spawn():
    inputs = fanout.texts(N)
    compiled = CompiledPlugin(fanout.kitchen(), name="kitchen")
    plugin = extism.Plugin(compiled, config={"vowels": "xyz"})
    plugin.update_config({"vowels": "aeiouxyz"})
    expected = [fanout.without_total(plugin.call("count_vowels", t)) for t in inputs]
    assert len({json.dumps(e) for e in expected}) > 10  # the inputs give different outputs
    reversed_ = [plugin.call("reverse", t) for t in inputs]
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=SPAWN) as executor:
        # the Plugin pickled with each chunk of tasks
        got = list(executor.map(fanout.call, [plugin] * N, ["count_vowels"] * N, inputs,
                                chunksize=25))
        assert [fanout.without_total(out) for out in got] == expected
        # the CompiledPlugin: one instance per worker, config as for `plugin`
        got = list(executor.map(fanout.call_compiled, [compiled] * N, ["reverse"] * N,
                                inputs, [{"vowels": "aeiouxyz"}] * N, chunksize=25))
        assert [out for _, out in got] == reversed_
        assert os.getpid() not in {pid for pid, _ in got}


def test_multiprocessing_pool_spawn_with_host_functions():
    inputs = fanout.texts(N)
    plugin = extism.Plugin(wasm("host_vowels"), functions=[fanout.hello_world])
    expected = [plugin.call("count_vowels", t) for t in inputs]
    with SPAWN.Pool(2, initializer=fanout.init_worker, initargs=(plugin,)) as pool:
        got = pool.starmap(fanout.call_initialized, [("count_vowels", t) for t in inputs],
                           chunksize=25)
    assert [out for _, out in got] == expected
    assert os.getpid() not in {pid for pid, _ in got}


@pytest.mark.skipif(not fanout.real_plugins.available(), reason="../shared/plugins is not there")
def test_a_real_plugin_in_spawned_processes():
    call = fanout.real_plugins.BY_NAME["rust_reflect_1k"]
    compiled = CompiledPlugin(call.path.read_bytes(), functions=[fanout.host_reflect])
    inputs = [call.input[: 100 + i] for i in range(N)]
    expected = [compiled.instantiate().call(call.function, data) for data in inputs[:3]]
    assert expected == inputs[:3]  # reflect: the output is the input
    with SPAWN.Pool(2, initializer=fanout.init_worker, initargs=(compiled,)) as pool:
        got = pool.starmap(fanout.call_initialized, [(call.function, d) for d in inputs],
                           chunksize=25)
    assert [out for _, out in got] == inputs
