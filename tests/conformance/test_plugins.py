"""Our plugins - built with the C kit (clang + wasi-libc), with no-std Rust, and in WAT - give
their expected outputs, and the two kits agree with each other."""

from __future__ import annotations

import json
import struct

import pytest

import extism_native as extism
from conftest import wasm

KITS = ["kitchen", "rust_plugin"]


@pytest.fixture(params=KITS)
def kit(request):
    with extism.Plugin(wasm(request.param), log_level="off") as plugin:
        yield plugin


def test_echo_reverse_greet(kit):
    data = bytes(range(256)) * 3 + b"tail"
    assert kit.call("echo", data) == data
    assert kit.call("echo", b"") == b""
    assert kit.call("reverse", "abcdef") == b"fedcba"
    assert kit.call("greet", "Bob") == b"Hello, Bob!"


def test_count_vowels_accumulates_in_a_var(kit):
    assert json.loads(kit.call("count_vowels", "hello world")) == \
        {"count": 3, "total": 3, "vowels": "aeiouAEIOU"}
    assert json.loads(kit.call("count_vowels", "AEIOU")) == \
        {"count": 5, "total": 8, "vowels": "aeiouAEIOU"}


@pytest.mark.parametrize("name", KITS)
def test_config_reaches_the_guest(name):
    with extism.Plugin(wasm(name), config={"vowels": "xyz", "greeting": "Hi"}) as p:
        assert json.loads(p.call("count_vowels", "xylophone")) == \
            {"count": 2, "total": 2, "vowels": "xyz"}
        assert p.call("greet", "Ann") == b"Hi, Ann!"


def test_plugin_errors(kit):
    with pytest.raises(extism.PluginCallError) as info:
        kit.call("fail", "boom")
    assert info.value.code == 1
    assert info.value.message in ("something went wrong: boom", "rust failure: boom")


@pytest.mark.parametrize("name, expected", [("kitchen", 1), ("rust_plugin", 0)])
def test_logging_gates(name, expected):
    lines = []
    with extism.Plugin(wasm(name), logger=lambda lvl, m: lines.append((lvl, m)),
                       log_level="error") as p:
        assert p.call("log", "x") == b"1"
    assert lines == [("error", "error: x")]
    with extism.Plugin(wasm(name), log_level="off") as p:
        assert p.call("log", "x") == b"0"


def test_c_kit_specifics():
    with extism.Plugin(wasm("kitchen"), log_level="off") as p:
        assert p.call("ctors") == b"1"  # the constructor ran exactly once
        assert p.call("ctors") == b"1"
        with pytest.raises(extism.PluginCallError) as info:
            p.call("fail_code", "-3")
        assert info.value.code == -3 and info.value.message is None
        with pytest.raises(extism.Trap):
            p.call("trap")
        p.call("set_var", "k=v1")
        assert p.call("get_var", "k") == b"v1"
        p.call("set_var", "k=")
        assert p.call("get_var", "k") == b""
        with pytest.raises(extism.PluginCallError, match="missing config key: nope"):
            p.call("config", "nope")
        assert p.call("alloc_many", "10000") == b"ok"


def test_rust_specifics():
    with extism.Plugin(wasm("rust_plugin"), log_level="off") as p:
        assert p.call("counter") == b"1"
        assert p.call("counter") == b"2"
        with pytest.raises(extism.Trap):
            p.call("panic")
        assert p.call("counter") == b"3"  # vars survive a trap
        assert p.call("lengths", "1,7,8,9,100,4096,70000,200000") == b"ok"
        assert p.call("sum_u64", struct.pack("<3Q", 1, 2, 2**64 - 1)) == b"2"
        with pytest.raises(extism.PluginCallError, match="multiple of 8"):
            p.call("sum_u64", "abc")
        assert p.call("input_offset_echo", "via the input handle") == b"via the input handle"


def test_wat_bench_plugin():
    with extism.Plugin(wasm("bench")) as p:
        data = bytes(range(256)) * 5 + b"xyz"
        assert p.call("echo", data) == data
        assert struct.unpack("<Q", p.call("count_vowels", "hello world AEIOU"))[0] == 8
