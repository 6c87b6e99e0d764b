"""Side by side with the official `extism` package (PyPI): the same plugin, function and
input give the same output bytes, or both fail.  Where the official kernel has a bug, the
difference is pinned here and documented in the README."""

from __future__ import annotations

import pytest

import extism_native
from conftest import wasm

official = pytest.importorskip("extism")

# (plugin, function, input) run on both; stateful sequences run in order on one instance
SEQUENCES = {
    "kitchen": [("noop", b""), ("echo", b"hello"), ("echo", bytes(range(256)) * 9),
                ("reverse", b"abc"), ("count_vowels", b"hello world"),
                ("count_vowels", b"hello world"), ("greet", b"Bob"), ("fail", b"x"),
                ("fail_code", b"7"), ("fail_code", b"0"), ("trap", b""), ("log", b"hi"),
                ("set_var", b"k=v"), ("get_var", b"k"), ("set_var", b"k="), ("get_var", b"k"),
                ("config", b"nope"), ("ctors", b""), ("alloc_many", b"500"), ("missing", b"")],
    "rust_plugin": [("noop", b""), ("echo", b"x" * 1000), ("reverse", b"xyz"),
                    ("count_vowels", b"AEIOU"), ("fail", b"f"), ("panic", b""),
                    ("counter", b""), ("counter", b""), ("lengths", b"1,8,9,70000"),
                    ("sum_u64", b"\x01" + b"\0" * 15), ("input_offset_echo", b"abc")],
    "edge": [("noop", b""), ("rc7", b""), ("rc_neg", b""), ("trap", b""), ("div0", b""),
             ("oob", b""), ("takes_param", b""), ("two_results", b""), ("secret", b""),
             ("uses_secret", b""), ("alias_a", b""), ("a_global", b""), ("fail", b""),
             ("fail_rc0", b""), ("error_then_trap", b""), ("error_cleared", b""),
             ("error_not_a_block", b""), ("error_out_of_range", b""), ("output_twice", b""),
             ("output_interior", b""), ("input_info", b"hello world!"), ("free_input", b"a"),
             ("hostile_loads", b""), ("hostile_stores", b""), ("config_bad_handle", b""),
             ("var_bad_value", b""), ("count", b""), ("count_then_trap", b""), ("count", b""),
             ("grow_neg", b""), ("grow_huge", b""), ("grow_one", b""), ("mem_size", b""),
             ("log_level", b"")],
    "vars": [("set", b"\x01kv"), ("get", b"\x01k"), ("set", b"\x01k"), ("get", b"\x01k"),
             ("config", b"\x01k")],
    "command": [("count", b""), ("count", b""), ("_start", b""), ("count", b"")],
    "init_reactor": [("trace", b""), ("trace", b"")],
    "init_ctors": [("trace", b"")],
    "bench": [("echo", b"abc" * 999), ("count_vowels", b"the quick brown fox")],
}

# Deliberate differences: the official kernel wraps around on these hostile values
# (see README, "Differences from the official SDK").
KNOWN_DIFFERENCES = {
    ("edge", "input_info"): "input_load_u64(2**64-1) reads before the input in the official kernel",
    ("edge", "hostile_allocs"): "alloc(2**64-1) returns an 11-byte block in the official kernel",
    ("edge", "output_out_of_range"): "output_set(h, 2**64-1) is accepted by the official kernel",
}


def outcome(plugin, function, data, error_type):
    try:
        return ("ok", bytes(plugin.call(function, data)))
    except error_type as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_same_bytes_as_the_official_runtime(name):
    data = wasm(name)
    theirs = official.Plugin(data, functions=[])
    ours = extism_native.Plugin(data, log_level="off")
    for function, payload in SEQUENCES[name]:
        if (name, function) in KNOWN_DIFFERENCES:
            continue
        a = outcome(theirs, function, payload, official.Error)
        b = outcome(ours, function, payload, extism_native.Error)
        assert a[0] == b[0], f"{name}.{function}: official {a}, ours {b}"
        if a[0] == "ok":
            assert a[1] == b[1], f"{name}.{function}: official {a[1]!r}, ours {b[1]!r}"


def test_input_load_u64_past_the_end_reads_zero_here():
    data = wasm("edge")
    ours = extism_native.Plugin(data).call("input_info", b"hello world!")
    theirs = bytes(official.Plugin(data, functions=[]).call("input_info", b"hello world!"))
    assert ours[40:48] == bytes(8)  # input_load_u64(2**64-1)
    assert theirs[40:48] != bytes(8)  # the official kernel wraps around and reads the input
    assert ours[:40] == theirs[:40]


def test_impossible_allocations_fail_here():
    data = wasm("edge")
    ours = extism_native.Plugin(data).call("hostile_allocs")
    theirs = bytes(official.Plugin(data, functions=[]).call("hostile_allocs", b""))
    assert ours == bytes(32)
    assert theirs[:8] != bytes(8)  # the official kernel hands out a block for 2**64-1 bytes


def test_wrapped_output_range_is_refused_here():
    data = wasm("edge")
    assert extism_native.Plugin(data).call("output_out_of_range") == b""
    with pytest.raises(OverflowError):  # the official SDK cannot even read that output
        official.Plugin(data, functions=[]).call("output_out_of_range", b"")


@pytest.mark.parametrize("manifest_extra", [
    {"memory": {"max_var_bytes": 60}},
    {"memory": {"max_var_bytes": 0}},
    {"config": {"k": "from manifest"}},
])
def test_manifest_settings_match(manifest_extra):
    from conftest import wasm_path
    manifest = {"wasm": [{"path": str(wasm_path("vars"))}], **manifest_extra}
    theirs = official.Plugin(manifest, functions=[])
    ours = extism_native.Plugin(manifest)
    for function, payload in [("set", b"\x01kv"), ("set", b"\x02k2" + b"x" * 12),
                              ("get", b"\x01k"), ("config", b"\x01k")]:
        a = outcome(theirs, function, payload, official.Error)
        b = outcome(ours, function, payload, extism_native.Error)
        assert a[0] == b[0] and (a[0] == "error" or a[1] == b[1]), (function, a, b)
