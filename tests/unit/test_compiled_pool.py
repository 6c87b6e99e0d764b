"""CompiledPlugin (compile once, cheap instances), PluginPool (bounded, thread-safe checkout)
and asyncio (call_async keeps the event loop free; cancelling the task cancels the call)."""

from __future__ import annotations

import asyncio
import struct
import threading
import time

import pytest

import extism_native as extism
from extism_native import CompiledPlugin, PluginPool, host_fn
from conftest import gc_collect, run_threads, u64s, wasm


def test_instances_are_independent_and_outlive_the_compiled_plugin():
    compiled = CompiledPlugin(wasm("edge"))
    a, b = extism.Plugin(compiled), compiled.instantiate()
    assert u64s(a.call("count")) == [1]
    assert u64s(a.call("count")) == [2]
    assert u64s(b.call("count")) == [1]  # own globals
    assert a.id != b.id
    del compiled
    gc_collect()
    assert u64s(b.call("count")) == [2]
    c = extism.Plugin(CompiledPlugin(wasm("edge")))
    assert u64s(c.call("count")) == [1]


def test_instances_have_their_own_tables_and_segments():
    # instances clone one parsed module (wasm3 patch 0050): what the guest changes - tables,
    # the drop state of element and data segments, globals - must stay with one instance
    compiled = CompiledPlugin(wasm("engine_features"))
    a, b = extism.Plugin(compiled), extism.Plugin(compiled)
    a.call("tables")  # sets a slot and grows the table: a second run fails its first check
    with pytest.raises(extism.PluginCallError):
        a.call("tables")
    b.call("tables")
    with pytest.raises(extism.Trap, match="out of bounds memory access"):
        a.call("dropped_data")
    with pytest.raises(extism.Trap, match="out of bounds table access"):
        a.call("dropped_elem")
    b.call("bulk_memory")  # memory.init and table.init from the segments a dropped
    with pytest.raises(extism.Trap, match="out of bounds memory access"):
        extism.Plugin(compiled).call("dropped_data")


def test_instances_of_one_compiled_plugin_on_two_threads():
    compiled = CompiledPlugin(wasm("engine_features"))
    edge = CompiledPlugin(wasm("edge"))
    errors = []

    def worker():
        try:
            for _ in range(40):
                p = extism.Plugin(compiled)
                p.call("tables")
                p.call("bulk_memory")
                e = extism.Plugin(edge)
                if [u64s(e.call("count")) for _ in range(2)] != [[1], [2]]:
                    errors.append("globals shared")
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    run_threads(worker, [()] * 2)
    assert errors == []


def test_compile_errors_are_load_errors():
    with pytest.raises(extism.InvalidModuleError):
        CompiledPlugin(b"\0asm\x01\0\0\0\x01")
    with pytest.raises(extism.LinkError):
        CompiledPlugin(wasm("host_vowels"))


def test_host_functions_belong_to_the_compiled_plugin():
    @host_fn()
    def hello_world(text: str) -> str:
        return text.upper()

    compiled = CompiledPlugin(wasm("host_vowels"), functions=[hello_world])
    plugins = [extism.Plugin(compiled) for _ in range(3)]
    assert {p.call("count_vowels", "aa") for p in plugins} == {b'{"COUNT": 2}'}
    with pytest.raises(TypeError):
        extism.Plugin(compiled, functions=[hello_world])


def test_instance_options():
    compiled = CompiledPlugin(wasm("vars"))
    p = extism.Plugin(compiled, config={"k": "v"}, name="named")
    assert p.name == "named"
    assert p.call("config", b"\x01k") == b"v"
    assert extism.Plugin(compiled).call("config", b"\x01k") == b""  # config is per instance
    with pytest.raises(extism.UsageError, match="without WASI"):
        extism.Plugin(compiled, wasi=True)


def test_pool_bounds_reuses_and_resets():
    pool = PluginPool(wasm("edge"), max_instances=2)
    with pool.get() as a:
        with pool.get() as b:
            assert a is not b
            with pytest.raises(TimeoutError):
                with pool.get(timeout=0.05):
                    pass
        assert pool.count == 2
    with pool.get() as again:
        assert again in (a, b)  # reused
        assert u64s(again.call("count"))[0] >= 1
    assert u64s(pool.call("alias_a")) == [2]
    pool.close()
    with pytest.raises(extism.UsageError):
        pool.call("noop")


def test_pool_across_threads():
    pool = PluginPool(CompiledPlugin(wasm("spin")), max_instances=3)
    results, errors = [], []

    def worker(k):
        try:
            for i in range(50):
                results.append(u64s(pool.call("spin", struct.pack("<Q", k * 100 + i)))[0])
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == sorted(k * 100 + i for k in range(6) for i in range(50))
    assert pool.count <= 3
    pool.close()


def test_call_async_keeps_the_loop_free():
    plugin = extism.Plugin(wasm("spin"))

    async def main():
        ticks = 0
        task = asyncio.ensure_future(plugin.call_async("spin", struct.pack("<Q", 200_000_000)))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        return ticks, await task

    ticks, out = asyncio.run(main())
    assert u64s(out) == [200_000_000]
    assert ticks > 10


def test_cancelling_the_task_cancels_the_guest():
    plugin = extism.Plugin(wasm("spin"))

    async def main():
        task = asyncio.ensure_future(plugin.call_async("forever"))
        await asyncio.sleep(0.1)
        start = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.perf_counter() - start

    assert asyncio.run(main()) < 1.0
    assert u64s(plugin.call("spin", struct.pack("<Q", 3))) == [3]


def test_pool_call_async():
    pool = PluginPool(wasm("spin"), max_instances=2)

    async def main():
        return await asyncio.gather(*[pool.call_async("spin", struct.pack("<Q", n))
                                      for n in range(6)])

    assert [u64s(x)[0] for x in asyncio.run(main())] == list(range(6))


def _element_segments_module() -> bytes:
    # element segments in three encodings: function indices, expressions (ref.func, ref.null),
    # passive; `run` returns the number of the first check that fails, else 0
    from test_validate import FUNCREF, I32, MEM1, END, body, build, exp, functype, limits, u

    def expr_items(*items):
        return u(len(items)) + b"".join(items)

    ref_func = lambda i: b"\xd2" + u(i) + END  # noqa: E731
    ref_null = b"\xd0" + bytes([FUNCREF]) + END
    at = lambda n: b"\x41" + u(n) + END  # noqa: E731  (an i32.const offset)

    def check(n, code):  # code leaves an i32 that must be non-zero
        return code + b"\x45\x04\x40\x41" + u(n) + b"\x0f\x0b"  # i32.eqz if i32.const n return end

    def calls(slot, value):
        return b"\x41" + u(slot) + b"\x11\x00\x00\x41" + u(value) + b"\x46"  # call_indirect, i32.eq

    def is_null(slot):
        return b"\x41" + u(slot) + b"\x25\x00\xd1"  # table.get 0, ref.is_null

    run = (check(1, calls(0, 11)) + check(2, calls(1, 22)) + check(3, calls(2, 22))
           + check(4, is_null(3))
           + b"\x41\x00\x41\x00\x41\x00\xfc\x0c\x00\x00"  # table.init of dropped segment 0, 0 items
           + b"\x41\x05\x41\x00\x41\x02\xfc\x0c\x02\x00"  # table.init 5 <- segment 2 [0, 2)
           + check(5, calls(5, 11)) + check(6, is_null(6))
           + b"\xfc\x0d\x02"  # elem.drop 2
           + b"\x41\x00" + END)
    return build(
        types=[functype((), (I32,))], funcs=[u(0), u(0), u(0)],
        tables=[bytes([FUNCREF]) + limits(8)], mems=MEM1,
        exports=[exp("run", 0, 0), exp("memory", 2, 0)],
        elems=[u(0) + at(0) + u(2) + u(1) + u(2),
               u(4) + at(2) + expr_items(ref_func(2), ref_null),
               u(5) + bytes([FUNCREF]) + expr_items(ref_func(1), ref_null)],
        datacount=0,
        codes=[body(run), body(b"\x41" + u(11) + END), body(b"\x41" + u(22) + END)])


def test_element_segments_are_decoded_once_and_resolved_per_instance():
    # the parsed template keeps each element segment's items as function indices (wasm3 patch
    # 0056); every instance resolves them to its own functions and has its own drop state
    module = _element_segments_module()
    extism.Plugin(module).call("run")  # (not compiled: parsed and loaded once)
    compiled = CompiledPlugin(module)
    a, b = extism.Plugin(compiled), extism.Plugin(compiled)
    a.call("run")
    with pytest.raises(extism.Trap, match="out of bounds table access"):
        a.call("run")  # segment 2 dropped
    del a
    gc_collect()
    b.call("run")
    del compiled
    gc_collect()
    with pytest.raises(extism.Trap, match="out of bounds table access"):
        b.call("run")


def _poke_peek_module() -> bytes:
    # `poke` writes a word on several pages of a 16-page memory; `peek` returns 1 + the index of
    # the first of those words that is not zero, else 0
    from test_validate import I32, END, body, build, exp, functype, limits, s, u

    addresses = (0, 3 * 4096, 2 * 65536 + 8, 15 * 65536)
    poke = b"".join(b"\x41" + s(a) + b"\x42" + s(-0x5455AA55) + b"\x37\x03\x00" for a in addresses)
    peek = b"".join(b"\x41" + s(a) + b"\x29\x03\x00\x50\x45\x04\x40\x41" + u(k + 1) + b"\x0f\x0b"
                    for k, a in enumerate(addresses))
    return build(
        types=[functype((), (I32,))], funcs=[u(0), u(0)], mems=[limits(16)],
        exports=[exp("poke", 0, 0), exp("peek", 0, 1), exp("memory", 2, 0)],
        codes=[body(poke + b"\x41\x00" + END), body(peek + b"\x41\x00" + END)])


def test_a_new_instance_never_sees_the_memory_of_a_freed_one():
    # released memory regions are kept for reuse (csrc/support/vmem.c), zeroed: on two threads, every
    # fresh instance - from bytes or from a compiled plugin - reads zero where the last wrote
    module = _poke_peek_module()
    compiled = CompiledPlugin(module)
    errors = []

    def cycles():
        _peek_poke_cycles(lambda i: extism.Plugin(compiled) if i % 2 else extism.Plugin(module),
                          40, errors)

    threads = [threading.Thread(target=cycles) for _ in range(2)]
    for t in threads:
        t.start()
    cycles()
    for t in threads:
        t.join()
    assert not errors, errors


def _peek_poke_cycles(make, n, errors):
    """n times: a new plugin make(i) must `peek` as fresh (returns 0), then `poke` and see it
    (`peek` fails with code 1); failures go to errors (for a test's main thread)."""
    try:
        for i in range(n):
            plugin = make(i)
            plugin.call("peek")
            plugin.call("poke")
            with pytest.raises(extism.PluginCallError, match="code 1"):
                plugin.call("peek")
            plugin.close()
    except BaseException as e:  # noqa: BLE001  (reported by the main thread)
        errors.append(e)


def _data_pages_module(segments, probes) -> bytes:
    # a 4-page memory with active data segments [(offset, bytes)]; `poke` writes a non-zero word
    # at each probe address; `peek` returns 1 + the index of the first probe whose word is not
    # what a fresh instance has there (the segments' bytes, zero elsewhere), else 0
    from test_validate import I32, END, body, build, exp, functype, limits, s, u

    image = bytearray(4 * 65536)
    for offset, data in segments:
        image[offset:offset + len(data)] = data
    poke = b"".join(b"\x41" + s(a) + b"\x42" + s(-0x0123456789ABCDF) + b"\x37\x03\x00"
                    for a in probes)
    peek = b""
    for k, a in enumerate(probes):
        want = struct.unpack_from("<q", image, a)[0]
        # i64.load; i64.const want; i64.ne; if: return k+1
        peek += (b"\x41" + s(a) + b"\x29\x03\x00\x42" + s(want) + b"\x52\x04\x40\x41" + u(k + 1)
                 + b"\x0f\x0b")
    datas = [b"\x00\x41" + s(offset) + END + u(len(data)) + data for offset, data in segments]
    return build(
        types=[functype((), (I32,))], funcs=[u(0), u(0)], mems=[limits(4)],
        exports=[exp("poke", 0, 0), exp("peek", 0, 1), exp("memory", 2, 0)],
        codes=[body(poke + b"\x41\x00" + END), body(peek + b"\x41\x00" + END)], datas=datas)


def test_data_segment_pages_of_a_freed_instance_are_not_seen():
    # the pages an instance's data segments are copied to (and wasm3's memory header page) stay
    # resident when its memory is released to the cache, to be zeroed by memset when the region
    # is taken again (csrc/support/vmem.c exn_vmem_keep): every byte the last owner wrote there - in a
    # segment, beside one on the same page, in a page between two - must read as a fresh
    # instance has it, for an instance of the same module and of one with other segments
    a = _data_pages_module(
        [(65536 + 100, bytes(range(1, 201))), (2 * 65536 + 4000, b"\xab" * 300)],
        [0, 65536 + 96, 65536 + 104, 65536 + 296, 65536 + 304, 65536 + 20000, 2 * 65536 + 3992,
         2 * 65536 + 4096, 2 * 65536 + 4296, 2 * 65536 + 4304, 3 * 65536 + 8])
    b = _data_pages_module(
        [(65536 + 30000, b"\x5a" * 5000)],
        [0, 65536 + 96, 65536 + 104, 65536 + 20000, 65536 + 30000, 65536 + 34992,
         65536 + 35000, 2 * 65536 + 4000, 2 * 65536 + 4096])
    compiled = [CompiledPlugin(a), CompiledPlugin(b)]
    errors = []

    def cycles(first):
        _peek_poke_cycles(lambda i: extism.Plugin(compiled[(first + i) % 2]), 30, errors)

    cycles(0)
    run_threads(cycles, [(0,), (1,)])
    assert not errors, errors


def _many_functions_module(n: int) -> bytes:
    # n functions () -> i64, each returning its own 64-bit constant (a constant slot when
    # compiled), all in a table; `run` calls the even ones directly and the odd ones through the
    # table and returns 1 + the index of the first wrong result, else 0
    from test_validate import FUNCREF, I32, I64, END, body, build, exp, functype, limits, s, u

    def value(i):
        return (i + 1) * 0x0101010101 + (i << 40)

    run = b""
    for i in range(n):
        call = b"\x10" + u(i + 1) if i % 2 == 0 else b"\x41" + u(i) + b"\x11\x01\x00"
        run += call + b"\x42" + s(value(i)) + b"\x52\x04\x40\x41" + u(i + 1) + b"\x0f\x0b"
    return build(
        types=[functype((), (I32,)), functype((), (I64,))],
        funcs=[u(0)] + [u(1)] * n, tables=[bytes([FUNCREF]) + limits(n)],
        exports=[exp("run", 0, 0)],
        elems=[u(0) + b"\x41\x00" + END + u(n) + b"".join(u(i + 1) for i in range(n))],
        codes=[body(run + b"\x41\x00" + END)]
        + [body(b"\x42" + s(value(i)) + END) for i in range(n)])


def test_many_live_instances_of_one_compiled_plugin():
    # every instance has its own functions (compiled code, constants) over the parsed module's
    # shared function facts (wasm3 patch 0057); many at once, compiled lazily in each, on
    # several threads, outliving the compiled plugin, freed in any order
    compiled = CompiledPlugin(_many_functions_module(60))
    live = [extism.Plugin(compiled) for _ in range(40)]
    for p in live[::2]:
        assert p.call("run") == b""
    errors = []

    def worker(k):
        try:
            mine = [compiled.instantiate() for _ in range(10)]
            for p in mine + live[k::4]:
                p.call("run")
            del mine[::3]
        except BaseException as e:  # noqa: BLE001  (reported by the main thread)
            errors.append(e)

    run_threads(worker, [(k,) for k in range(3)])
    assert not errors, errors
    del compiled
    gc_collect()
    del live[::3]
    gc_collect()
    for p in live:
        assert p.call("run") == b""
        p.close()
