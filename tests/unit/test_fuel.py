"""Fuel: a deterministic budget per call (``Plugin(..., fuel=N)``, ``CompiledPlugin(...,
fuel=N)``), one unit per wasm function entry and per loop entry, the same on the interpreter
and on the compiled tier (tests/plugins/wat/fuel.wat documents the expected counts)."""

from __future__ import annotations

import pickle
import struct
import time

import pytest

import extism_native as ext
from extism_native import host_fn
from conftest import wasm

FUEL = wasm("fuel")
AVAILABLE, COMPILER = ext.native_available()
TIERS = ["interp", pytest.param("native", marks=pytest.mark.skipif(
    not AVAILABLE, reason=f"no compiled tier here: {COMPILER}"))]


@host_fn(name="ping")
def ping(i: int) -> int:
    return i + 1


def u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def work_fuel(n: int) -> int:
    """fuel.wat's `work`: work, N + 1 outer loop entries, N calls of $step, 3N inner loop
    entries, (N + 3) // 4 call_indirects, $out."""
    return 1 + (n + 1) + n + 3 * n + (n + 3) // 4 + 1


def fib_calls(n: int) -> int:
    return 1 if n < 2 else 1 + fib_calls(n - 1) + fib_calls(n - 2)


def fuel_plugin(tier: str, fuel: int) -> ext.Plugin:
    return ext.Plugin(FUEL, functions=[ping], tier=tier, fuel=fuel)


@pytest.mark.parametrize("tier", TIERS)
def test_endless_loop_runs_out_of_fuel(tier):
    """The issue's "done when": `(loop (br 0))` with fuel=100_000 stops with a fuel error."""
    plugin = fuel_plugin(tier, 100_000)
    assert plugin.tier == tier and plugin.fuel == 100_000
    start = time.monotonic()
    with pytest.raises(ext.Trap, match="ran out of fuel") as info:
        plugin.call("forever")
    assert time.monotonic() - start < 5
    assert "fuel" in str(info.value)
    assert plugin.fuel_used == 100_000
    # the plugin goes on, with a full budget at the next call
    assert plugin.call("work", u64(3), parse=lambda b: struct.unpack("<Q", b)[0]) == 18
    assert plugin.fuel_used == work_fuel(3)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 1000])
def test_units_are_function_and_loop_entries(tier, n):
    plugin = fuel_plugin(tier, 10**9)
    plugin.call("work", u64(n))
    assert plugin.fuel_used == work_fuel(n)
    plugin.call("fib", u64(min(n, 20)))
    assert plugin.fuel_used == 2 + fib_calls(min(n, 20))


@pytest.mark.parametrize("tier", TIERS)
def test_host_functions_cost_nothing(tier):
    calls = []

    @host_fn(name="ping")
    def counting_ping(i: int) -> int:
        calls.append(i)
        return i * 2

    plugin = ext.Plugin(FUEL, functions=[counting_ping], tier=tier, fuel=10**6)
    assert struct.unpack("<Q", plugin.call("ping", u64(50)))[0] == 2 * sum(range(50))
    assert len(calls) == 50
    assert plugin.fuel_used == 1 + 51 + 1  # ping, its loop entries, $out
    # the budget is the guest's: running out in the loop stops before the host sees more calls
    calls.clear()
    small = ext.Plugin(FUEL, functions=[counting_ping], tier=tier, fuel=11)
    with pytest.raises(ext.Trap, match="fuel"):
        small.call("ping", u64(50))
    assert len(calls) == 10  # the entry and 10 loop entries use the 11 units; the 11th fails


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("export, n", [("work", 37), ("fib", 15), ("ping", 9)])
def test_exact_budget_succeeds_one_less_fails(tier, export, n):
    need = fuel_plugin(tier, 10**9)
    expected = need.call(export, u64(n))
    used = need.fuel_used
    exact = fuel_plugin(tier, used)
    assert exact.call(export, u64(n)) == expected and exact.fuel_used == used
    short = fuel_plugin(tier, used - 1)
    with pytest.raises(ext.Trap, match="ran out of fuel"):
        short.call(export, u64(n))
    assert short.fuel_used == used - 1
    assert short.call(export, u64(0)) is not None  # a cheaper call fits in a fresh budget


def plugins_for_equality():
    """(name, wasm, functions, wasi, export, input) run on both tiers."""
    vowels = b"The quick brown fox jumps over the lazy dog " * 50
    return [
        ("fuel work", FUEL, [ping], False, "work", u64(321)),
        ("fuel fib", FUEL, [ping], False, "fib", u64(18)),
        ("fuel ping", FUEL, [ping], False, "ping", u64(40)),
        ("spin", wasm("spin"), [], False, "spin", u64(5000)),
        ("kitchen (C)", wasm("kitchen"), [], False, "count_vowels", vowels),
        ("kitchen reverse", wasm("kitchen"), [], False, "reverse", vowels),
        ("bench", wasm("bench"), [], False, "count_vowels", vowels),
        ("tail calls, self", wasm("wasm3_tail_call"), [], False, "self", b""),
        ("tail calls, mutual", wasm("wasm3_tail_call"), [], False, "mutual", b""),
        ("tail calls, indirect", wasm("wasm3_tail_call"), [], False, "indirect", b""),
        ("SIMD", wasm("simd_bench"), [], False, "count_simd", bytes(range(256)) * 256),
    ]


@pytest.mark.skipif(not AVAILABLE, reason=f"no compiled tier here: {COMPILER}")
@pytest.mark.parametrize("name, data, functions, wasi, export, data_in",
                         plugins_for_equality(), ids=lambda v: v if isinstance(v, str) else "")
def test_fuel_used_is_the_same_on_both_tiers(name, data, functions, wasi, export, data_in):
    used = {}
    out = {}
    for tier in ("interp", "native"):
        plugin = ext.Plugin(data, functions=functions, wasi=wasi, tier=tier, fuel=10**12)
        assert plugin.tier == tier
        if not plugin.function_exists(export):
            pytest.skip(f"{name}: no export {export}")
        out[tier] = [plugin.call(export, data_in) for _ in range(2)]
        used[tier] = plugin.fuel_used
    assert out["interp"] == out["native"]
    assert used["interp"] == used["native"] > 0, name


@pytest.mark.parametrize("tier", TIERS)
def test_fuel_and_timeouts(tier):
    # a budget too large to matter: the timeout stops the loop
    plugin = fuel_plugin(tier, 2**62)
    with pytest.raises(ext.CallTimeoutError):
        plugin.call("forever", timeout=0.2)
    assert 0 < plugin.fuel_used < 2**62
    # a small budget with a long timeout: fuel stops it, well before the timeout
    plugin = fuel_plugin(tier, 50_000)
    start = time.monotonic()
    with pytest.raises(ext.Trap, match="ran out of fuel"):
        plugin.call("forever", timeout=30)
    assert time.monotonic() - start < 5
    plugin.call("work", u64(10), timeout=30)
    assert plugin.fuel_used == work_fuel(10)
    # a timeout stops code without loops too (with a budget the compiled tier reads the
    # interrupt flag every 1024 units, function entries included): fib(60) takes hours
    plugin = fuel_plugin(tier, 2**62)
    start = time.monotonic()
    with pytest.raises(ext.CallTimeoutError):
        plugin.call("fib", u64(60), timeout=0.2)
    assert time.monotonic() - start < 5
    assert plugin.fuel_used > 1024


def test_without_fuel():
    plugin = ext.Plugin(FUEL, functions=[ping], tier="interp")
    assert plugin.fuel is None
    plugin.call("work", u64(10))
    assert plugin.fuel_used == 0


def test_fuel_option_is_checked():
    for bad in (0, -1, 2**63):
        with pytest.raises(ValueError, match="fuel must be"):
            ext.Plugin(FUEL, functions=[ping], fuel=bad)
    for bad in (1.5, "10", True):
        with pytest.raises(TypeError, match="fuel must be"):
            ext.CompiledPlugin(FUEL, functions=[ping], fuel=bad)
    compiled = ext.CompiledPlugin(FUEL, functions=[ping], tier="interp", fuel=1000)
    with pytest.raises(TypeError, match="belongs to the CompiledPlugin"):
        ext.Plugin(compiled, fuel=10)


@pytest.mark.parametrize("tier", TIERS)
def test_compiled_plugin_fuel_and_pickling(tier):
    compiled = ext.CompiledPlugin(FUEL, functions=[ping], tier=tier, fuel=work_fuel(20))
    assert compiled.fuel == work_fuel(20)
    a, b = ext.Plugin(compiled), ext.Plugin(compiled)
    assert a.fuel == b.fuel == work_fuel(20)
    a.call("work", u64(20))
    with pytest.raises(ext.Trap, match="fuel"):
        b.call("work", u64(21))
    assert (a.fuel_used, b.fuel_used) == (work_fuel(20), work_fuel(20))
    for thing in (compiled, a, ext.Plugin(FUEL, functions=[ping], tier=tier, fuel=777)):
        copy = pickle.loads(pickle.dumps(thing))
        plugin = copy if isinstance(copy, ext.Plugin) else ext.Plugin(copy)
        assert plugin.fuel == thing.fuel
        with pytest.raises(ext.Trap, match="fuel"):
            plugin.call("forever")
        assert plugin.fuel_used == thing.fuel


@pytest.mark.skipif(not AVAILABLE, reason=f"no compiled tier here: {COMPILER}")
def test_auto_tier_moves_with_its_fuel(tmp_path, monkeypatch):
    """A plugin with fuel in the auto tier starts on the interpreter and moves to the compiled
    tier's fuel translation: the same units, so its calls use the same fuel after the move."""
    monkeypatch.setenv("EXTISM_NATIVE_CACHE_DIR", str(tmp_path / "cache"))  # (nothing cached)
    compiled = ext.CompiledPlugin(FUEL, functions=[ping], tier="auto", fuel=10**6)
    plugin = ext.Plugin(compiled)
    plugin.call("work", u64(50))
    before = (plugin.tier, plugin.fuel_used)
    compiled.compile_native()
    plugin.call("work", u64(50))
    assert before == ("interp", work_fuel(50))
    assert (plugin.tier, plugin.fuel_used) == ("native", work_fuel(50))
    with pytest.raises(ext.Trap, match="fuel"):
        plugin.call("forever")
    # a plugin without fuel of the same module has its own compiled code (another cache entry)
    plain = ext.Plugin(FUEL, functions=[ping], tier="native")
    with pytest.raises(ext.CallTimeoutError):
        plain.call("forever", timeout=0.1)
    assert plain.fuel_used == 0


@pytest.mark.skipif(not AVAILABLE, reason=f"no compiled tier here: {COMPILER}")
@pytest.mark.parametrize("export, match", [
    ("trap_unreachable", "unreachable"),
    ("trap_oob", "out of bounds"),
    ("trap_fill", "out of bounds"),
])
@pytest.mark.parametrize("n", [0, 5, 1000])
def test_fuel_used_after_a_trap_is_the_same_on_both_tiers(export, match, n):
    """A trap that is not fuel's (in a function that calls nothing, after a loop: unreachable,
    a load past the end of memory - a signal under guard pages -, a memory.fill past it - the
    runtime's helper) leaves fuel_used at the units taken up to the trap, on both tiers."""
    used = {}
    for tier in ("interp", "native"):
        plugin = fuel_plugin(tier, 10**9)
        assert plugin.tier == tier
        with pytest.raises(ext.Trap, match=match):
            plugin.call(export, u64(n))
        used[tier] = plugin.fuel_used
        # and the next call starts from a full budget, counting from zero
        plugin.call("work", u64(4))
        assert plugin.fuel_used == work_fuel(4)
    assert used == {"interp": n + 3, "native": n + 3}, export


@pytest.mark.parametrize("tier", TIERS)
def test_fuel_used_after_a_host_function_raises(tier):
    @host_fn(name="ping")
    def failing_ping(i: int) -> int:
        if i == 7:
            raise RuntimeError("ping failed")
        return i

    plugin = ext.Plugin(FUEL, functions=[failing_ping], tier=tier, fuel=10**6)
    with pytest.raises(Exception, match="ping failed"):
        plugin.call("ping", u64(50))
    assert plugin.fuel_used == 1 + 8  # ping's entry and its 8 loop entries up to i == 7


@pytest.mark.parametrize("tier", TIERS)
def test_fuel_used_during_a_call(tier):
    """Read by a host function in the middle of a call, fuel_used is exact too (the compiled
    tier keeps part of what is left in a second word during a call: the sum is read)."""
    seen = []
    holder = []

    @host_fn(name="ping")
    def reading_ping(i: int) -> int:
        seen.append(holder[0].fuel_used)
        return i

    plugin = ext.Plugin(FUEL, functions=[reading_ping], tier=tier, fuel=10**6)
    holder.append(plugin)
    plugin.call("ping", u64(5))
    # ping's entry, then its loop's i-th entry before the i-th call
    assert seen == [1 + i for i in range(1, 6)]
    assert plugin.fuel_used == 1 + 6 + 1
