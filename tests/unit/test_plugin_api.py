"""The Plugin class: construction from every kind of source, inputs, outputs, lifecycle."""

from __future__ import annotations

import array
import base64
import hashlib
import json
import threading
import uuid

import pytest

import extism_native as extism
from conftest import gc_collect, u64s, wasm, wasm_path


@pytest.fixture
def edge():
    with extism.Plugin(wasm("edge")) as plugin:
        yield plugin


def test_from_bytes_bytearray_memoryview():
    data = wasm("edge")
    for source in (data, bytearray(data), memoryview(data)):
        with extism.Plugin(source) as plugin:
            assert u64s(plugin.call("alias_a")) == [2]


def test_from_path_str_and_pathlib():
    for source in (str(wasm_path("edge")), wasm_path("edge")):
        with extism.Plugin(source) as plugin:
            assert plugin.call("output_interior") == b"op"
            assert plugin.name == "edge"


def test_from_manifest_dict_with_bytes_and_hash():
    data = wasm("edge")
    manifest = {"wasm": [{"data": data, "hash": hashlib.sha256(data).hexdigest()}]}
    with extism.Plugin(manifest) as plugin:
        assert plugin.call("output_interior") == b"op"


def test_from_manifest_dict_with_path_and_name():
    with extism.Plugin({"wasm": [{"path": str(wasm_path("edge")), "name": "main"}]}) as plugin:
        assert plugin.call("output_interior") == b"op"
        assert plugin.name == "main"


def test_from_manifest_json_text_and_bytes():
    text = json.dumps({"wasm": [{"data": base64.b64encode(wasm("edge")).decode()}]})
    for source in (text, text.encode()):
        with extism.Plugin(source) as plugin:
            assert plugin.call("output_interior") == b"op"


def test_input_kinds(edge):
    # input_info reports the input length first
    assert u64s(edge.call("input_info", "héllo"))[0] == len("héllo".encode())
    assert u64s(edge.call("input_info", b"abc"))[0] == 3
    assert u64s(edge.call("input_info", bytearray(b"abcd")))[0] == 4
    assert u64s(edge.call("input_info", memoryview(b"abcdefgh")[2:]))[0] == 6
    assert u64s(edge.call("input_info", array.array("I", [1, 2, 3])))[0] == 12
    assert u64s(edge.call("input_info"))[:3] == [0, 0, 0]  # no input: no block at all


def test_input_must_be_a_contiguous_buffer(edge):
    with pytest.raises((TypeError, BufferError, ValueError)):
        edge.call("input_info", memoryview(b"abcdef")[::2])
    with pytest.raises(TypeError):
        edge.call("input_info", 42)
    assert edge.call("output_interior") == b"op"  # still usable


def test_output_is_bytes_and_parse_is_applied(edge):
    out = edge.call("output_interior")
    assert type(out) is bytes and out == b"op"
    assert edge.call("output_interior", parse=lambda b: b.decode().upper()) == "OP"
    # the output is a copy: a later call does not change it
    first = edge.call("alias_a")
    edge.call("output_interior")
    assert u64s(first) == [2]


def test_function_exists(edge):
    assert edge.function_exists("noop")
    assert edge.function_exists("rc7")
    assert not edge.function_exists("nope")
    assert not edge.function_exists("takes_param")  # wrong type for a plugin function
    assert not edge.function_exists("i64_result")
    assert not edge.function_exists("a_global")  # an export, but not a function
    assert not edge.function_exists("secret")  # has a debug name, but is not exported


def test_id_is_a_stable_uuid4_per_plugin():
    a, b = extism.Plugin(wasm("edge")), extism.Plugin(wasm("edge"))
    assert isinstance(a.id, uuid.UUID) and a.id.version == 4
    assert a.id != b.id
    assert a.id == a.id
    a.close()
    b.close()


def test_close_is_idempotent_and_later_calls_fail():
    plugin = extism.Plugin(wasm("edge"))
    plugin.close()
    plugin.close()
    assert plugin.closed
    with pytest.raises(extism.UsageError, match="closed"):
        plugin.call("noop")
    assert not plugin.function_exists("noop")
    assert "closed" in repr(plugin)


def test_with_statement_closes():
    with extism.Plugin(wasm("edge")) as plugin:
        assert not plugin.closed
    assert plugin.closed


def test_collected_without_close():
    import weakref

    from extism_native._native import slab

    gc_collect()
    registered = len(slab)
    plugin = extism.Plugin(wasm("edge"))
    plugin.call("noop")
    handle = plugin.cancel_handle()
    python_object, c_object = weakref.ref(plugin), weakref.ref(plugin._ptr)
    del plugin
    gc_collect()
    assert python_object() is None
    assert c_object() is not None  # the cancel handle keeps the C plugin (it points into it)
    del handle
    gc_collect()
    assert c_object() is None  # extism_plugin_free ran
    assert len(slab) == registered


def test_a_finalizer_may_run_while_this_thread_registers_in_the_slab():
    # the garbage collector runs finalizers wherever it is triggered (on PyPy: at almost any
    # allocation), also inside the slab's locked sections on the same thread
    from extism_native._native import slab

    def body() -> None:
        plugin = extism.Plugin(wasm("edge"))
        with slab._lock:
            del plugin
            gc_collect()  # Plugin.__del__ removes its context from the slab

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "a finalizer deadlocked on the slab's lock"


def test_reset(edge):
    assert edge.reset()
    assert edge.call("output_interior") == b"op"
    edge.close()
    assert not edge.reset()


def test_bad_arguments():
    with pytest.raises(TypeError):
        extism.Plugin(12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extism.Plugin(wasm("edge"), config=["a"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config value"):
        extism.Plugin(wasm("edge"), config={"a": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        extism.Plugin(wasm("edge"), logger=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log level"):
        extism.Plugin(wasm("edge"), log_level="loud")
    with extism.Plugin(wasm("edge")) as plugin:
        with pytest.raises(TypeError):
            plugin.call(b"noop")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            plugin.call("no\0op")


def test_error_hierarchy():
    for cls in (extism.ManifestError, extism.PluginLoadError, extism.InvalidModuleError,
                extism.LinkError, extism.CallError, extism.FunctionNotFoundError,
                extism.PluginCallError, extism.Trap, extism.ExitError, extism.CallTimeoutError,
                extism.CancelledError, extism.HostFunctionError, extism.UsageError,
                extism.OutOfMemoryError, extism.UnsupportedError):
        assert issubclass(cls, extism.Error)
    assert extism.ExtismError is extism.Error
    assert issubclass(extism.ManifestError, ValueError)
    assert issubclass(extism.CallTimeoutError, TimeoutError)
    assert issubclass(extism.OutOfMemoryError, MemoryError)
    assert issubclass(extism.UnsupportedError, NotImplementedError)
    assert issubclass(extism.FunctionNotFoundError, LookupError)


def test_versions():
    assert extism.extism_version() == extism.__version__


def test_repr(edge):
    assert repr(edge).startswith("<extism_native.Plugin 'plugin' id=")


def test_repr_of_closed_and_half_made_plugins():
    plugin = extism.Plugin(wasm("kitchen"), wasi=True)
    ident = plugin.id
    plugin.close()
    assert repr(plugin) == f"<extism_native.Plugin 'plugin' id={ident} closed>"
    # a Plugin whose __init__ raised is shown (tracebacks, debuggers), not a second error
    half = extism.Plugin.__new__(extism.Plugin)
    with pytest.raises(extism.LinkError):
        half.__init__(wasm("host_calls"))  # its host functions are missing
    assert repr(half).endswith(" closed>")
