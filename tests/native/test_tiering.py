"""Tiers from Python: ``tier="interp" | "native" | "auto"``, the auto tier's background
compilation, cache hits at creation and the move of live instances to compiled code with their
state (memory grown at run time, globals, tables the code only reads).  Each test has a cache
directory of its own (EXTISM_NATIVE_CACHE_DIR), so nothing comes from an earlier run."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import extism_native as ext

WASM = Path(__file__).resolve().parent.parent / "plugins" / "wasm"
STATE = (WASM / "tier_state.wasm").read_bytes()
TABLE = (WASM / "tier_table.wasm").read_bytes()

AVAILABLE, COMPILER = ext.native_available()
needs_compiler = pytest.mark.skipif(not AVAILABLE, reason=f"no compiled tier here: {COMPILER}")


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EXTISM_NATIVE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXTISM_NATIVE_TIER", raising=False)


def count(plugin):
    """(global, memory counter, memory pages, last byte of memory, table[1]())."""
    return struct.unpack("<5Q", plugin.call("count"))


def test_tier_option_is_checked():
    with pytest.raises(ValueError, match="tier must be"):
        ext.CompiledPlugin(STATE, tier="fast")
    with pytest.raises(ValueError, match="tier must be"):
        ext.Plugin(STATE, tier="jit")
    with pytest.raises(TypeError, match="belongs to the CompiledPlugin"):
        ext.Plugin(ext.CompiledPlugin(STATE, tier="interp"), tier="interp")


def test_interp_stays_interpreted():
    compiled = ext.CompiledPlugin(STATE, tier="interp")
    assert (compiled.tier, compiled.tier_reason) == ("interp", "tier interp")
    plugin = ext.Plugin(compiled)
    assert [count(plugin)[0] for _ in range(3)] == [1, 2, 3]
    assert plugin.tier == "interp"
    with pytest.raises(ext.UnsupportedError, match="tier interp"):
        compiled.compile_native()
    assert ext.Plugin(STATE, tier="interp").tier == "interp"


@needs_compiler
def test_native_runs_compiled_code_with_the_same_results():
    native = ext.Plugin(STATE, tier="native")
    interp = ext.Plugin(STATE, tier="interp")
    assert native.tier == "native"
    assert [count(native) for _ in range(3)] == [count(interp) for _ in range(3)]
    assert count(native) == (4, 4, 4, 0x5A, 42)


@needs_compiler
def test_auto_moves_a_live_instance_with_its_state():
    compiled = ext.CompiledPlugin(STATE, tier="auto")
    assert compiled.tier == "watching"  # not in the (empty) cache, not hot yet
    plugin = ext.Plugin(compiled)
    assert [count(plugin) for _ in range(2)] == [(1, 1, 4, 0x5A, 42), (2, 2, 4, 0x5A, 42)]
    assert plugin.tier == "interp"
    assert compiled.compile_native(timeout=300) is True
    assert compiled.tier == "native"
    assert plugin.tier == "interp"  # moves at its next call
    # the global, the memory counter, the grown memory and its contents came along
    assert count(plugin) == (3, 3, 4, 0x5A, 42)
    assert plugin.tier == "native"
    assert count(plugin) == (4, 4, 4, 0x5A, 42)
    fresh = ext.Plugin(compiled)  # new instances start on compiled code, from scratch
    assert fresh.tier == "native"
    assert count(fresh) == (1, 1, 4, 0x5A, 42)
    # a second compiled plugin of the same module starts native, from the cache
    again = ext.CompiledPlugin(STATE)
    assert again.tier == "native"
    assert "cache" in again.tier_reason
    assert count(ext.Plugin(again)) == (1, 1, 4, 0x5A, 42)


@needs_compiler
def test_calls_from_threads_while_the_instances_move():
    compiled = ext.CompiledPlugin(STATE, tier="auto")
    plugin = ext.Plugin(compiled)
    count(plugin)
    seen = []
    errors = []
    ready = threading.Event()

    def worker():
        try:
            after = 0
            while after < 50:  # calls until the code is ready, and 50 after
                seen.append(count(plugin)[0])
                after += ready.is_set()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    assert compiled.compile_native(timeout=300)
    ready.set()
    for t in threads:
        t.join()
    assert not errors
    # every call counted once, none lost or repeated, across the move
    assert sorted(seen) == list(range(2, 2 + len(seen)))
    assert plugin.tier == "native"


@needs_compiler
def test_a_module_that_changes_its_tables_keeps_its_instances_interpreted():
    compiled = ext.CompiledPlugin(TABLE)
    plugin = ext.Plugin(compiled)

    def swap(p):
        return struct.unpack("<Q", p.call("swap"))[0]

    assert [swap(plugin) for _ in range(3)] == [42, 7, 42]
    assert compiled.compile_native(timeout=300)
    assert [swap(plugin) for _ in range(3)] == [7, 42, 7]  # table state intact
    assert plugin.tier == "interp"
    fresh = ext.Plugin(compiled)
    assert fresh.tier == "native"
    assert [swap(fresh) for _ in range(3)] == [42, 7, 42]


def test_pickled_compiled_plugin_keeps_its_tier():
    compiled = ext.CompiledPlugin(STATE, tier="interp")
    again = pickle.loads(pickle.dumps(compiled))
    assert again.tier == "interp"
    plugin = pickle.loads(pickle.dumps(ext.Plugin(STATE, tier="interp")))
    assert plugin.tier == "interp"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=600, env=full)


@needs_compiler
def test_a_hot_plugin_compiles_in_the_background(tmp_path):
    out = run_python(f"""
        import struct, time, extism_native as ext
        compiled = ext.CompiledPlugin(open({str(WASM / 'tier_state.wasm')!r}, 'rb').read())
        plugin = ext.Plugin(compiled)
        assert compiled.tier == "watching", compiled.tier
        calls = 0
        t0 = time.monotonic()
        while compiled.tier == "watching" and time.monotonic() - t0 < 60:
            plugin.call("spin", struct.pack("<Q", 200_000))
            calls += 1
        assert compiled.tier in ("compiling", "native"), compiled.tier
        assert compiled.compile_native(timeout=300)
        plugin.call("spin", struct.pack("<Q", 10))
        print(calls, plugin.tier)
        """, EXTISM_NATIVE_HOT_MS="30", EXTISM_NATIVE_CACHE_DIR=str(tmp_path / "c"))
    assert out.returncode == 0, out.stderr
    calls, tier = out.stdout.split()
    assert tier == "native"
    assert int(calls) >= 2  # it ran interpreted until hot: 30 ms is several of these calls


def test_without_a_compiler_everything_runs_interpreted(tmp_path):
    out = run_python(f"""
        import struct, extism_native as ext
        lines = []
        sink = ext.set_log_custom(lines.append, "info")
        compiled = ext.CompiledPlugin(open({str(WASM / 'tier_state.wasm')!r}, 'rb').read())
        plugin = ext.Plugin(compiled)
        try:
            compiled.compile_native()
        except ext.UnsupportedError as e:
            print("refused:", e)
        assert compiled.tier == "interp", compiled.tier
        assert struct.unpack("<5Q", plugin.call("count"))[0] == 1
        assert plugin.tier == "interp"
        try:
            ext.CompiledPlugin(open({str(WASM / 'tier_state.wasm')!r}, 'rb').read(),
                               tier="native")
        except ext.UnsupportedError as e:
            print("native:", e)
        sink.drain()
        print("log:", [line for line in lines if "compiled tier is not available" in line])
        """, EXTISM_NATIVE_CC="/nonexistent/cc", EXTISM_NATIVE_CACHE_DIR=str(tmp_path / "c"))
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "EXTISM_NATIVE_CC=/nonexistent/cc" in out.stdout
    assert "native:" in out.stdout
    log = out.stdout.split("log:", 1)[1]
    assert log.count("EXTISM_NATIVE_CC") == 1, out.stdout  # one INFO line says why


@needs_compiler
def test_compile_command_fills_the_cache(tmp_path):
    env = {"EXTISM_NATIVE_CACHE_DIR": str(tmp_path / "c")}
    cmd = [sys.executable, "-m", "extism_native", "compile", str(WASM / "tier_state.wasm")]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, **env))
    assert first.returncode == 0, first.stderr
    assert "compiled in" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, **env))
    assert second.returncode == 0 and "already in the cache" in second.stdout
    out = run_python(f"""
        import extism_native as ext
        print(ext.CompiledPlugin(open({str(WASM / 'tier_state.wasm')!r}, 'rb').read()).tier)
        """, **env)
    assert out.stdout.strip() == "native", out.stderr


def test_compile_command_refuses_what_it_cannot_compile(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\1\0\0\0\x99")
    env = dict(os.environ, EXTISM_NATIVE_CACHE_DIR=str(tmp_path / "c"))
    out = subprocess.run([sys.executable, "-m", "extism_native", "compile", str(bad)],
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 65 and "bad.wasm" in out.stderr
    out = subprocess.run([sys.executable, "-m", "extism_native", "compile",
                          str(WASM / "wasm3_multi_memory.wasm")],
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 69 and "multi-memory" in out.stderr, out.stderr


@needs_compiler
def test_a_moved_instance_keeps_its_trap_frames():
    compiled = ext.CompiledPlugin((WASM / "backtrace.wasm").read_bytes(), tier="auto")
    plugin = ext.Plugin(compiled)
    assert plugin.call("ok", b"") == b""
    assert compiled.compile_native(timeout=300)
    with pytest.raises(ext.Trap) as info:
        plugin.call("trap", b"")  # moves, then traps on compiled code
    assert plugin.tier == "native"
    assert [f.func_index for f in info.value.frames] == [1, 4, 5, 6, 8]
    assert info.value.frames[0].func_name == "leaf_unreachable"


@needs_compiler
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
@pytest.mark.skipif(
    bool(os.environ.get("EXN_SANITIZE")),
    reason="ASan's allocator is not fork-safe: a child forked while the compiling thread holds "
    "one of its locks deadlocks in malloc (gdb: SizeClassAllocator64::GetFromAllocator)",
)
def test_a_child_forked_during_a_compilation_compiles_again(tmp_path):
    out = run_python(f"""
        import os, struct, extism_native as ext
        compiled = ext.CompiledPlugin(open({str(WASM / 'tier_state.wasm')!r}, 'rb').read())
        plugin = ext.Plugin(compiled)
        plugin.call("count")
        assert compiled.compile_native(timeout=0) is False   # started, not done
        pid = os.fork()
        if pid == 0:  # the compiling thread is not here: it must not wait for it for ever
            ok = compiled.compile_native(timeout=120)
            counts = struct.unpack("<5Q", plugin.call("count"))
            os._exit(0 if ok and plugin.tier == "native" and counts[0] == 2 else 3)
        _, status = os.waitpid(pid, 0)
        assert compiled.compile_native(timeout=120)
        print(os.waitstatus_to_exitcode(status), plugin.call("count") and plugin.tier)
        """, EXTISM_NATIVE_CACHE_DIR=str(tmp_path / "c"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "native"]


@needs_compiler
@pytest.mark.parametrize("damage", ["none", "changed", "truncated", "no record", "group-writable",
                                    "symlink"])
def test_the_memory_image_comes_from_the_cache_and_a_damaged_one_is_not_used(
        tmp_path, monkeypatch, damage):
    """Memory 0's initial image (its data segments) is stored beside the compiled code and
    mapped by later loads; one that was changed, truncated, lost its record, is writable by
    others or is a symlink is never mapped but rebuilt."""
    monkeypatch.setenv("EXTISM_NATIVE_IMAGE_MIN", "0")  # (kitchen's data is small)
    wasm = (WASM / "kitchen.wasm").read_bytes()
    assert ext.Plugin(wasm, tier="native", wasi=True).call("greet", b"x") == b"Hello, x!"
    cache = tmp_path / "cache"
    [img] = cache.glob("*.img")
    assert (cache / (img.stem + ".isum")).exists()
    data = img.read_bytes()
    assert data.count(b"Hello") == 1  # the greeting's bytes come from the image
    inode = img.stat().st_ino
    if damage == "changed":  # same size, so only the checksum can tell
        img.write_bytes(data.replace(b"Hello", b"Jello"))
        inode = img.stat().st_ino
    elif damage == "truncated":
        img.write_bytes(data[: len(data) // 2])
    elif damage == "no record":
        (cache / (img.stem + ".isum")).unlink()
    elif damage == "group-writable":
        img.chmod(0o620)
    elif damage == "symlink":
        real = tmp_path / "elsewhere.img"
        real.write_bytes(data.replace(b"Hello", b"Jello"))
        real.chmod(0o600)
        img.unlink()
        img.symlink_to(real)
    again = ext.Plugin(wasm, tier="native", wasi=True)
    assert again.tier == "native"
    assert again.call("greet", b"y") == b"Hello, y!"
    if damage == "none":
        assert img.stat().st_ino == inode  # mapped, not written again
    else:
        assert not img.is_symlink() and img.stat().st_ino != inode  # rebuilt and stored anew
        assert img.read_bytes() == data


@needs_compiler
@pytest.mark.parametrize("damage", ["none", "changed", "truncated", "missing", "group-writable",
                                    "symlink", "garbage"])
def test_the_line_table_comes_from_the_cache_and_a_damaged_one_gives_no_offsets(
        tmp_path, damage):
    """A trap's code offsets on the compiled tier come from the line table stored beside the
    compiled code (`<key>.lines`, read on the first trap of a later load); one that was
    changed, truncated, removed, is writable by others, is a symlink or is not a table at all
    is not used: the frames are the same, their offsets unknown - never wrong ones."""
    wasm = (WASM / "backtrace.wasm").read_bytes()

    def frames():
        with pytest.raises(ext.Trap) as info:
            ext.Plugin(wasm, tier="native").call("trap", b"")
        return [(f.func_index, f.module_offset) for f in info.value.frames]

    built = frames()  # (the table made by the build itself)
    assert [f for f, _ in built] == [1, 4, 5, 6, 8]
    assert all(isinstance(at, int) and 0 < at < len(wasm) for _, at in built)
    cache = tmp_path / "cache"
    [lines] = cache.glob("*.lines")
    assert (cache / (lines.stem + ".so")).exists()
    data = lines.read_bytes()
    if damage == "changed":  # same size: only the checksum can tell
        at = len(data) - 3
        lines.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    elif damage == "truncated":
        lines.write_bytes(data[:-8])
    elif damage == "missing":
        lines.unlink()
    elif damage == "group-writable":
        lines.chmod(0o620)
    elif damage == "symlink":
        real = tmp_path / "elsewhere.lines"
        real.write_bytes(data)
        real.chmod(0o600)
        lines.unlink()
        lines.symlink_to(real)
    elif damage == "garbage":
        lines.write_bytes(bytes(range(256)) * 4)
    # a new process: the library from the cache, the table read at its first trap
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import extism_native as ext
        plugin = ext.Plugin(open({str(WASM / 'backtrace.wasm')!r}, 'rb').read(), tier="native")
        try:
            plugin.call("trap", b"")
        except ext.Trap as e:
            print([(f.func_index, f.module_offset) for f in e.frames])
        """)], capture_output=True, text=True, env={**os.environ,
                                                    "EXTISM_NATIVE_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr
    got = eval(out.stdout)  # (a list of pairs of ints or None, printed above)
    assert got == (built if damage == "none" else [(f, None) for f, _ in built])
