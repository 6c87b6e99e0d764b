"""stdio per plugin: stdout/stderr to the process (the default), discarded, captured or given
to a Python callable; stdin from bytes; and WASI off by default."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap

import pytest

import extism_native
from wasi_helpers import PLUGINS, Raw, wasm


def command(args, **options):
    plugin = extism_native.Plugin(wasm("wasi_cmd"),
                                  wasi=extism_native.WASI(args=["wasi_cmd"] + args, **options))
    return plugin


def run_in_subprocess(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EXN_TEST_PLUGINS=str(PLUGINS))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         env=env, timeout=120)
    # (a sanitizer build reports wasm3's unaligned accesses on stderr: not the guest's output)
    out.stderr = b"".join(line for line in out.stderr.splitlines(keepends=True)
                          if b": runtime error: " not in line)
    return out


def test_default_is_the_process_streams():
    out = run_in_subprocess(f"""
        import sys, extism_native
        plugin = extism_native.Plugin(open({str(PLUGINS / 'wasi_cmd.wasm')!r}, 'rb').read(),
                                      wasi=extism_native.WASI(args=['wasi_cmd', 'stdio']))
        print('before', flush=True)
        plugin.call('_start')
        print('after', flush=True)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"before\nto stdout\nafter\n"
    assert out.stderr == b"to stderr\n"


def test_wasi_true_means_the_defaults():
    out = run_in_subprocess(f"""
        import extism_native
        plugin = extism_native.Plugin(open({str(PLUGINS / 'wasi_reactor.wasm')!r}, 'rb').read(),
                                      wasi=True)
        plugin.call('say', b'hi')
    """)
    assert (out.returncode, out.stdout, out.stderr) == (0, b"hi\n", b"hi\n")


def test_discard():
    out = run_in_subprocess(f"""
        import extism_native
        plugin = extism_native.Plugin(open({str(PLUGINS / 'wasi_cmd.wasm')!r}, 'rb').read(),
            wasi=extism_native.WASI(args=['wasi_cmd', 'stdio'], stdout='discard',
                                    stderr='discard'))
        plugin.call('_start')
    """)
    assert (out.returncode, out.stdout, out.stderr) == (0, b"", b"")


def test_capture_each_stream():
    plugin = command(["stdio"], stdout="capture", stderr="capture")
    plugin.call("_start")
    assert plugin.read_stdout() == b"to stdout\n"
    assert plugin.read_stderr() == b"to stderr\n"
    assert plugin.read_stdout() == b""  # read clears
    plugin = command(["stdio"], stdout="capture")
    with pytest.raises(extism_native.UsageError, match="not captured"):
        plugin.read_stderr()


def test_callable():
    got = []
    plugin = command(["stdio"], stdout=lambda b: got.append(("out", b)),
                     stderr=lambda b: got.append(("err", b)))
    plugin.call("_start")
    assert got == [("out", b"to stdout\n"), ("err", b"to stderr\n")]


def test_a_raising_callable_stops_the_guest_and_is_raised_again():
    class Boom(Exception):
        pass

    def sink(chunk):
        raise Boom(chunk)

    plugin = extism_native.Plugin(wasm("wasi_reactor"), wasi=extism_native.WASI(stdout=sink))
    with pytest.raises(Boom) as info:
        plugin.call("say", b"hello")
    assert info.value.args == (b"hello\n",)
    assert isinstance(info.value.__cause__, extism_native.HostFunctionError)
    assert "stdout callback failed" in str(info.value.__cause__)
    # the plugin is still usable (here its output is still broken, so the call fails again)
    with pytest.raises(Boom):
        plugin.call("say", b"again")


def test_big_writes_reach_a_callable_in_chunks():
    chunks = []
    raw = Raw(extism_native.Plugin(wasm("wasi_raw"), wasi=extism_native.WASI(stdout=chunks.append)))
    image = bytearray(struct.pack("<IIII", 1024, 60000, 1024, 60000))
    image += bytes(1024 - len(image)) + bytes(range(256)) * 235
    err, mem = raw.call("fd_write", 1, 0, 2, 64, image=bytes(image), nout=72)
    assert err == 0 and struct.unpack_from("<I", mem, 64)[0] == 120000
    data = bytes(image[1024:61024])
    assert b"".join(chunks) == data + data
    assert [len(c) for c in chunks] == [65536, 120000 - 65536]  # gathered, 64 KiB at most


def test_stdin_bytes():
    plugin = command(["stdin"], stdin=b"abc", stdout="capture")
    plugin.call("_start")
    assert plugin.read_stdout() == b"ABC\n3 bytes\n"
    plugin.call("_start")  # a fresh instance reads stdin from the start again
    assert plugin.read_stdout() == b"ABC\n3 bytes\n"


def test_stdin_is_consumed_across_calls_of_one_instance():
    raw = Raw(extism_native.Plugin(wasm("wasi_raw"), wasi=extism_native.WASI(stdin=b"12345")))
    assert raw.read(0, 3) == (0, b"123")
    assert raw.read(0, 3) == (0, b"45")
    assert raw.read(0, 3) == (0, b"")


def test_output_settings_in_the_c_api():
    from extism_native._native import ffi, lib
    plugin = extism_native.Plugin(wasm("wasi_raw"), wasi=True)
    assert lib.exn_plugin_wasi_output(plugin._ptr, 3, 0, ffi.NULL, ffi.NULL) == 1  # MISUSE
    assert lib.exn_plugin_wasi_output(plugin._ptr, 1, 2, ffi.NULL, ffi.NULL) == 1  # no callback
    assert lib.exn_plugin_wasi_output(plugin._ptr, 1, 7, ffi.NULL, ffi.NULL) == 1
    assert lib.exn_plugin_wasi_output(plugin._ptr, 2, 1, ffi.NULL, ffi.NULL) == 0
    no_wasi = extism_native.Plugin(wasm("kitchen"))
    assert lib.exn_plugin_wasi_output(no_wasi._ptr, 1, 1, ffi.NULL, ffi.NULL) == 1


@pytest.mark.parametrize("name", ["wasi_cmd", "wasi_std", "wasi_reactor", "wasi_raw"])
def test_wasi_is_off_by_default(name):
    with pytest.raises(extism_native.LinkError,
                       match=r"the module uses WASI, which is disabled: enable it with "
                             r"wasi=True in Python or with_wasi in C"):
        extism_native.Plugin(wasm(name))


def test_instances_of_a_compiled_plugin_have_their_own_wasi(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    compiled = extism_native.CompiledPlugin(
        {"wasm": [{"data": wasm("wasi_raw")}], "allowed_paths": {str(tmp_path): "/d"}},
        wasi=extism_native.WASI(stdout="capture", stdin=b"in"))
    a, b = Raw(extism_native.Plugin(compiled)), Raw(extism_native.Plugin(compiled))
    assert a.open(b"f")[1] == 4 and a.open(b"f")[1] == 5
    assert b.open(b"f")[1] == 4  # its own descriptor table
    assert a.read(0, 5) == (0, b"in") and b.read(0, 5) == (0, b"in")  # its own stdin
    a.write(1, b"from a")
    b.write(1, b"from b")
    assert a.plugin.read_stdout() == b"from a" and b.plugin.read_stdout() == b"from b"
