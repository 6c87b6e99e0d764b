"""Real programs, unchanged: a C command built against wasi-libc (main through `_start`), a
C reactor with Extism exports, and a Rust std program (wasm32-wasi) read, write, seek, stat,
list, rename and delete files, read clocks and random bytes, sleep, print to stdout/stderr,
read stdin and exit with codes."""

from __future__ import annotations

import os

import pytest

import extism_native
from wasi_helpers import run_command, steps, wasm

COMMANDS = ["wasi_cmd", "wasi_std"]


@pytest.mark.parametrize("name", COMMANDS)
def test_files(name, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    code, out, err = run_command(name, ["files", "/work"], {str(work): "/work"})
    lines = out.decode().splitlines()
    failed = [line for line in lines if "FAILED" in line]
    assert code == 0 and not failed, out.decode() + err.decode()
    assert len([line for line in lines if line.endswith(" ok")]) >= 25
    listings = [line for line in lines if line.startswith("list")]
    assert listings[0] == "list hard ln sub"
    assert listings[1] == "list b.txt"
    assert listings[-1].strip() == "list"
    assert os.listdir(work) == []  # everything it made, it removed


@pytest.mark.parametrize("name", COMMANDS)
def test_files_leave_what_they_wrote(name, tmp_path):
    # the program's files are real host files
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep").write_bytes(b"kept")
    run_command(name, ["files", "/work"], {str(work): "/work"})
    assert (work / "keep").read_bytes() == b"kept"
    assert sorted(os.listdir(work)) == ["keep"]


@pytest.mark.parametrize("name", COMMANDS)
def test_clock_and_sleep(name):
    code, out, err = run_command(name, ["clock"])
    assert code == 0, out + err
    assert steps(out) == {"realtime": "ok", "slept 30 ms": "ok", "monotonic": "ok",
                          **({"resolution": "ok", "nanosleep": "ok"} if name == "wasi_cmd"
                             else {})}


@pytest.mark.parametrize("name", COMMANDS)
def test_random(name):
    code, out, err = run_command(name, ["random"])
    assert code == 0, out + err
    assert "FAILED" not in out.decode() and out.count(b" ok") == 2


@pytest.mark.parametrize("name", COMMANDS)
def test_args_and_environment(name):
    code, out, _ = run_command(name, ["env", "two words", "ünïcode"], env={"FOO": "bar", "E": ""})
    assert code == 0
    lines = out.decode().splitlines()
    assert lines[:5] == ["argc 4", f"argv[0] {name}", "argv[1] env", "argv[2] two words",
                         "argv[3] ünïcode"]
    assert sorted(line for line in lines if line.startswith("env ")) == ["env E=", "env FOO=bar"]
    assert lines[-1] == "FOO bar"


@pytest.mark.parametrize("name", COMMANDS)
def test_environment_is_empty_by_default(name, monkeypatch):
    monkeypatch.setenv("FOO", "from the host")
    code, out, _ = run_command(name, ["env"])
    assert code == 0
    assert b"env " not in out and out.decode().splitlines()[-1] == "FOO (unset)"


@pytest.mark.parametrize("name", COMMANDS)
def test_stdin(name):
    code, out, _ = run_command(name, ["stdin"], stdin=b"hello, stdin\n" * 1000)
    assert code == 0
    assert out == b"HELLO, STDIN\n" * 1000 + b"\n13000 bytes\n"


@pytest.mark.parametrize("name", COMMANDS)
def test_stdin_is_empty_by_default(name):
    assert run_command(name, ["stdin"])[1] == b"\n0 bytes\n"


@pytest.mark.parametrize("name", COMMANDS)
def test_stdout_and_stderr(name):
    code, out, err = run_command(name, ["stdio"])
    assert (code, out, err) == (0, b"to stdout\n", b"to stderr\n")


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("status", [0, 1, 3, 255, 500, 2**31 - 1, -1])
def test_exit_codes(name, status):
    # the whole i32 reaches the host (no "& 0xff" as a POSIX shell would see), 500 stays 500
    code, out, _ = run_command(name, ["exit", str(status)])
    assert code == status
    assert out == f"exiting with {status}\n".encode()


@pytest.mark.parametrize("name", COMMANDS)
def test_usage_error_exits_2(name):
    code, out, err = run_command(name, [])
    assert code == 2 and b"usage" in err


def test_command_runs_again_on_a_fresh_instance(tmp_path):
    # `_start` may be called again: the next call re-instantiates (spec 3.4), WASI included
    work = tmp_path / "work"
    work.mkdir()
    manifest = {"wasm": [{"data": wasm("wasi_cmd")}], "allowed_paths": {str(work): "/work"}}
    options = extism_native.WASI(args=["wasi_cmd", "files", "/work"], stdout="capture")
    with extism_native.Plugin(manifest, wasi=options) as plugin:
        for _ in range(3):
            plugin.call("_start")
            assert b"FAILED" not in plugin.read_stdout()


# ---- the reactor: Extism exports over one instance ------------------------------------------

@pytest.fixture
def reactor(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello.txt").write_bytes(b"hello from the host")
    said = []
    manifest = {"wasm": [{"data": wasm("wasi_reactor")}], "allowed_paths": {str(data): "/data"}}
    plugin = extism_native.Plugin(manifest, wasi=extism_native.WASI(stdout=said.append,
                                                                    stderr="capture"))
    yield plugin, data, said
    plugin.close()


def test_reactor_reads_writes_and_lists(reactor):
    plugin, data, _ = reactor
    assert plugin.call("cat", b"/data/hello.txt") == b"hello from the host"
    assert plugin.call("write", b"/data/new.txt\n" + bytes(range(256)) * 40) == b"10240"
    assert (data / "new.txt").read_bytes() == bytes(range(256)) * 40
    assert plugin.call("cat", b"/data/new.txt") == bytes(range(256)) * 40
    assert plugin.call("ls", b"/data") == b".\n..\nhello.txt\nnew.txt\n"
    for _ in range(200):  # descriptors are closed again: no leak across calls
        assert plugin.call("cat", b"/data/hello.txt") == b"hello from the host"


def test_reactor_errors_are_errnos(reactor):
    plugin = reactor[0]
    with pytest.raises(extism_native.PluginCallError, match="errno 44"):
        plugin.call("cat", b"/data/missing")
    assert plugin.call("open_errno", b"/data/../outside") == b"63"
    assert plugin.call("open_errno", b"/data/hello.txt") == b"0"


def test_reactor_stdout_arrives_line_by_line(reactor):
    plugin, _, said = reactor
    plugin.call("say", b"one")
    assert said == [b"one\n"]  # before the call returned: line-buffered
    plugin.call("say", b"two")
    assert said == [b"one\n", b"two\n"]
    assert plugin.read_stderr() == b"one\ntwo\n"


def test_nothing_is_visible_without_allowed_paths():
    plugin = extism_native.Plugin(wasm("wasi_reactor"), wasi=True)
    for path in (b"/", b".", b"/tmp", b"/etc/passwd"):
        assert plugin.call("open_errno", path) != b"0"
    with pytest.raises(extism_native.PluginCallError, match="errno"):
        plugin.call("ls", b"/")
