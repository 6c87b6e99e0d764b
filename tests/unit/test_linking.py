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



SHARED = {"wasm": [{"path": str(wasm_path("link_shared_lib")), "name": "lib"},
                   {"path": str(wasm_path("link_shared_main"))}]}
# run() (link_shared_main.wat): main's write read by lib, lib's read by main; lib grows (its old
# size), main's memory.size; main grows, lib's memory.size; the last word of the last page
# written by main, read by lib; the counter set to 10 by main, bumped by lib, read by main; a
# growth past lib's maximum of 4 pages; lib's call_indirect of main's function in lib's table
# (element 1: it reads the word at 200), main's of lib's (element 0: 7)
FIRST = [1234, 5678, 1, 2, 2, 3, 99, 11, 11, -1, 5678, 7]
SECOND = [1234, 5678, 3, 4, -1, 4, 99, 11, 11, -1, 5678, 7]  # 4 pages: no more growth
AVAILABLE, COMPILER = extism.native_available()


@pytest.mark.parametrize("tier", ["interp", "native"])
def test_a_memory_and_globals_imported_from_another_module_are_shared(tier):
    """Issue 17: main imports lib's memory, globals and table - the very same objects."""
    if tier == "native" and not AVAILABLE:
        pytest.skip(f"no compiled tier here: {COMPILER}")
    with extism.Plugin(SHARED, tier=tier) as plugin:
        assert plugin.tier == tier
        assert u64s(plugin.call("run")) == FIRST
        assert u64s(plugin.call("run")) == SECOND


def test_modules_sharing_state_stay_on_their_tier(tmp_path, monkeypatch):
    """Live instances that share a memory (or globals, a table) are not moved to compiled code (their state cannot be
    copied without breaking the sharing): they go on, correctly, on the interpreter."""
    if not AVAILABLE:
        pytest.skip(f"no compiled tier here: {COMPILER}")
    monkeypatch.setenv("EXTISM_NATIVE_CACHE_DIR", str(tmp_path / "cache"))
    compiled = extism.CompiledPlugin(SHARED, tier="auto")
    plugin = extism.Plugin(compiled)
    assert u64s(plugin.call("run")) == FIRST
    assert compiled.compile_native(timeout=300) is True
    assert u64s(plugin.call("run")) == SECOND
    assert plugin.tier == "interp"
    fresh = extism.Plugin(compiled)  # new instances share on compiled code
    assert fresh.tier == "native"
    assert u64s(fresh.call("run")) == FIRST


def test_shared_imports_are_type_checked_at_link_time():
    with pytest.raises(extism.LinkError) as info:
        linked({"path": str(wasm_path("link_shared_lib")), "name": "lib"},
               {"path": str(wasm_path("link_shared_bad"))})
    text = str(info.value)
    assert "incompatible memory: imported with limits 2.. pages, the export's are 1..4" in text
    assert "incompatible global: imported as immutable i32, the export is mutable i32" in text
    assert "incompatible table: imported as funcref 3.., the export is funcref 2.." in text


def tiers():
    """Both tiers; the compiled one is skipped where no C compiler is found."""
    return [pytest.param("interp"),
            pytest.param("native", marks=pytest.mark.skipif(
                not AVAILABLE, reason=f"no compiled tier here: {COMPILER}"))]


def cycle(lib: str, lib_first: bool):
    """link_cycle_main (main) with `lib` as "cyc": main imports cyc's memory and its function peek,
    cyc imports main's function triple."""
    mods = [{"path": str(wasm_path(lib)), "name": "cyc"},
            {"path": str(wasm_path("link_cycle_main")), "name": "main"}]
    return {"wasm": mods if lib_first else mods[::-1]}


@pytest.mark.parametrize("tier", tiers())
@pytest.mark.parametrize("lib_first", [True, False])
def test_a_function_import_does_not_order_instantiation(tier, lib_first):
    """Issue 17: a cycle through a function import loads whatever the manifest's order (the
    function binds lazily); the memory import puts cyc first, so main's start function can call
    into cyc (word 4 = 1), and each sees the other's writes."""
    with extism.Plugin(cycle("link_cycle_lib", lib_first), tier=tier) as plugin:
        assert plugin.tier == tier
        assert u64s(plugin.call("run")) == [1, 63, 22]
        assert u64s(plugin.call("run")) == [1, 63, 22]


@pytest.mark.parametrize("tier", tiers())
@pytest.mark.parametrize("lib_first", [True, False])
def test_a_start_function_calling_a_module_not_instantiated_yet_fails_clearly(tier, lib_first):
    with pytest.raises(extism.PluginLoadError,
                       match="the start function of module cyc failed: module main is not "
                             r"instantiated yet \(an import cycle used by a start function\)"):
        extism.Plugin(cycle("link_cycle_start", lib_first), tier=tier)


@pytest.mark.parametrize("tier", tiers())
@pytest.mark.parametrize("lib_first", [True, False])
def test_an_import_cycle_through_memories_globals_or_tables_is_a_link_error(tier, lib_first):
    with pytest.raises(extism.LinkError, match="import cycle through memories, globals or tables"
                       ) as info:
        extism.Plugin(cycle("link_cycle_bad", lib_first), tier=tier)
    text = str(info.value)
    assert 'module main imports the memory "memory" of module cyc' in text
    assert 'module cyc imports the global "g" of module main' in text


@pytest.mark.parametrize("tier", tiers())
def test_a_function_in_a_shared_table_uses_its_own_modules_memory(tier):
    """Issue 17: tab exports its table, not its memory (one page, word 0 = 7); main has two
    pages (word 0 = 1000).  tab's element 0 called by main's call_indirect adds to tab's word 0;
    main's element 1 called by tab's call_indirect adds to main's word 0 and writes at 70000,
    past the end of tab's memory (it would trap there)."""
    manifest = {"wasm": [{"path": str(wasm_path("link_table_owner")), "name": "tab"},
                         {"path": str(wasm_path("link_table_user"))}]}
    with extism.Plugin(manifest, tier=tier) as plugin:
        assert plugin.tier == tier
        # element 0 (5), main's word 0, tab's word 0, tab calling element 1 (3), main's word 0,
        # main's word at 70000, tab's word 0
        assert u64s(plugin.call("run")) == [12, 1000, 12, 1003, 1003, 1003, 12]
        assert u64s(plugin.call("run")) == [17, 1003, 17, 1006, 1006, 1006, 17]


TAIL = {"wasm": [{"path": str(wasm_path("link_tail_lib")), "name": "tl"},
                 {"path": str(wasm_path("link_tail_main"))}]}


def n64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def ping_pong(n: int, here: int) -> int:
    """link_tail_main's ping (here = 0) or tl's pong (here = 1): each step adds the word 0 of the
    module it runs in (main 2, tl 1) and tail-calls the other."""
    words, acc = (2, 1), 0
    while n:
        acc += words[here]
        n, here = n - 1, 1 - here
    return acc


@pytest.mark.parametrize("tier", tiers())
def test_tail_calls_into_another_module(tier):
    """Issue 17: return_call of a function imported from another module, and
    return_call_indirect through a shared table into another module's function (wasm3 patch
    0077): each callee runs with its own module's memory."""
    with extism.Plugin(TAIL, tier=tier) as plugin:
        assert plugin.tier == tier
        assert u64s(plugin.call("add_mem", n64(40))) == [41]  # 40 + tl's word 0
        for n in (0, 1, 2, 10, 11, 1000):
            assert u64s(plugin.call("ping", n64(n))) == [ping_pong(n, 0)]
            assert u64s(plugin.call("pong", n64(n))) == [ping_pong(n, 1)]
        assert u64s(plugin.call("word")) == [2]
        with pytest.raises(extism.Trap, match="unreachable"):
            plugin.call("trap")  # a tail call of tl's function that traps
        assert u64s(plugin.call("ping", n64(11))) == [ping_pong(11, 0)]
        assert u64s(plugin.call("word")) == [2]


@pytest.mark.parametrize("tier", tiers())
def test_a_tail_call_chain_alternating_between_modules_is_bounded(tier):
    """A chain of tail calls that switches module at every step nests one native call per switch
    on both tiers (a tail call within a module does not): a million switches is a stack overflow
    trap, never a crash, and the plugin goes on."""
    with extism.Plugin(TAIL, tier=tier) as plugin:
        with pytest.raises(extism.Trap, match="stack overflow"):
            plugin.call("ping", n64(1_000_000))
        assert u64s(plugin.call("ping", n64(10))) == [ping_pong(10, 0)]
