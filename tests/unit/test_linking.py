"""Several modules in one manifest (spec 6.4): naming rules, calls between modules through
native trampolines, each module with its own memory and state, sharing the one kernel."""

from __future__ import annotations

import pytest

import extism_native as extism
from conftest import u64s, wasm_path

LIB = str(wasm_path("link_lib"))
MAIN = str(wasm_path("link_main"))


def linked(*modules):
    return extism.Plugin({"wasm": list(modules)})


def test_main_calls_into_a_library_module():
    with linked({"path": LIB, "name": "lib"}, {"path": MAIN}) as plugin:
        # add1(41), lib's call counter, lib's init count, input length seen by lib, two()
        assert u64s(plugin.call("run", "hello")) == [42, 1, 1, 5, 7, -9]
        assert u64s(plugin.call("run", "hi")) == [42, 2, 1, 2, 7, -9]  # lib keeps its state
        with pytest.raises(extism.Trap, match="unreachable"):
            plugin.call("boom")  # a trap in the library stops the call
        assert u64s(plugin.call("run")) == [42, 3, 1, 0, 7, -9]


def test_only_the_main_modules_exports_are_callable():
    with linked({"path": LIB, "name": "lib"}, {"path": MAIN}) as plugin:
        assert not plugin.function_exists("add1")
        with pytest.raises(extism.FunctionNotFoundError):
            plugin.call("calls")


def test_naming_rules():
    # the last module is main when none is called main
    with linked({"path": MAIN, "name": "main"}, {"path": LIB, "name": "lib"}) as plugin:
        assert u64s(plugin.call("run"))[0] == 42
    # two unnamed modules would both be main
    with pytest.raises(extism.ManifestError, match='duplicate module name "main"'):
        linked({"path": LIB}, {"path": MAIN})
    with pytest.raises(extism.ManifestError, match='duplicate module name "lib"'):
        linked({"path": LIB, "name": "lib"}, {"path": LIB, "name": "lib"}, {"path": MAIN})
    with pytest.raises(extism.ManifestError, match="reserved"):
        linked({"path": LIB, "name": "extism:host/env"}, {"path": MAIN})
    # imports name modules exactly
    with pytest.raises(extism.LinkError) as info:
        linked({"path": LIB, "name": "x"}, {"path": MAIN})
    assert ("lib", "add1") in info.value.missing


def test_a_single_module_is_main_whatever_its_name():
    with extism.Plugin({"wasm": [{"path": str(wasm_path("edge")), "name": "whatever"}]}) as p:
        assert p.call("output_interior") == b"op"


def test_max_pages_caps_each_linear_memory():
    edge = str(wasm_path("edge"))  # one page of memory
    with extism.Plugin({"wasm": [{"path": edge}], "memory": {"max_pages": 3}}) as plugin:
        assert u64s(plugin.call("grow_one")) == [1]
        assert u64s(plugin.call("grow_one")) == [2]
        assert u64s(plugin.call("grow_one")) == [-1]  # a fourth page is refused
        assert u64s(plugin.call("mem_size")) == [3]
    with extism.Plugin({"wasm": [{"path": edge}], "memory": {"max_pages": 1}}) as plugin:
        assert u64s(plugin.call("grow_one")) == [-1]


def test_max_pages_below_the_initial_memory_fails_to_load():
    with pytest.raises(extism.InvalidModuleError,
                       match="needs 256 pages of memory at start but memory.max_pages is 10"):
        extism.Plugin({"wasm": [{"path": str(wasm_path("spin"))}], "memory": {"max_pages": 10}})


def test_max_pages_also_bounds_kernel_memory():
    edge = str(wasm_path("edge"))
    with extism.Plugin({"wasm": [{"path": edge}], "memory": {"max_pages": 1}}) as plugin:
        assert u64s(plugin.call("input_info", bytes(100_000)))[0] == 100_000
        with pytest.raises(extism.OutOfMemoryError, match="failed to allocate extism memory"):
            plugin.call("input_info", bytes(300_000))
        assert u64s(plugin.call("input_info", b"abc"))[0] == 3
