"""``python -m extism_native``: call (output bytes, input sources, config, manifests, logs,
timeouts, exit statuses, error lines), info, and the manifest the options build."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import extism_native
from extism_native import cli
from conftest import wasm, wasm_path


def run(*args, stdin=b"", timeout=60, cwd=None):
    return subprocess.run([sys.executable, "-m", "extism_native", *map(str, args)],
                          input=stdin, capture_output=True, timeout=timeout, cwd=cwd)


def call(plugin, func, *args, **kwargs):
    return run("call", wasm_path(plugin), func, *args, **kwargs)


def error_line(out) -> str:
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("extism_native: error: ")
    return lines[0]


def test_output_is_the_exact_bytes(tmp_path):
    data = bytes(range(256)) * 3
    (tmp_path / "in.bin").write_bytes(data)
    out = call("kitchen", "echo", "--input-file", tmp_path / "in.bin")
    assert out.returncode == 0 and out.stdout == data and out.stderr == b""
    out = call("kitchen", "reverse", "--input-file", "-", stdin=data)
    assert out.stdout == data[::-1]
    out = call("kitchen", "reverse", "--stdin", stdin=b"abc")
    assert out.stdout == b"cba"
    out = call("kitchen", "echo", "-i", "héllo")
    assert out.stdout == "héllo".encode()
    out = call("kitchen", "noop")
    assert out.returncode == 0 and out.stdout == b""


def test_config_options():
    out = call("kitchen", "count_vowels", "--input", "hello world", "--config", "vowels=lo")
    assert json.loads(out.stdout) == {"count": 5, "total": 5, "vowels": "lo"}
    out = call("kitchen", "greet", "-i", "you", "--set-config", '{"greeting": "Hi"}')
    assert out.stdout == b"Hi, you!"
    # --config wins over --set-config; a value may contain '='
    out = call("kitchen", "greet", "-i", "you", "--set-config", '{"greeting": "Hi"}',
               "--config", "greeting=a=b")
    assert out.stdout == b"a=b, you!"
    out = call("kitchen", "greet", "-i", "x", "--set-config", '["not an object"]')
    assert out.returncode == cli.EXIT_USAGE and "--set-config" in error_line(out)


def test_loop_reuses_the_plugin():
    out = call("kitchen", "count_vowels", "--input", "aa", "--loop", "3", "--time")
    assert out.returncode == 0
    totals = [json.loads(line)["total"] for line in out.stdout.split(b"\n")]
    assert totals == [2, 4, 6]  # vars persist across the calls of one plugin
    timings = out.stderr.decode().splitlines()
    assert [t.split(":")[0] for t in timings] == ["call 1", "call 2", "call 3"]
    assert all(t.endswith(" ms") for t in timings)


@pytest.mark.parametrize("func,data,status", [
    ("fail", "boom", 1),            # error text, code 1
    ("fail_code", "7", 7),          # the plugin's own code
    ("fail_code", "300", 255),      # clamped to 255
    ("fail_code", "-3", 1),         # clamped to 1
    ("trap", "", cli.EXIT_TRAP),
    ("nope", "", cli.EXIT_USAGE),   # not an export
])
def test_exit_status_mirrors_the_plugin(func, data, status):
    out = call("kitchen", func, "--input", data)
    assert out.returncode == status
    assert out.stdout == b""
    if func == "trap":  # the error line, then the wasm backtrace (tests/unit/test_backtrace.py)
        lines = out.stderr.decode().splitlines()
        assert lines[1] == "error while executing at wasm backtrace:", lines
        assert len(lines) > 2 and all(re.match(r" {2,4}\d+: ", x) for x in lines[2:]), lines
        out.stderr = "\n".join(lines[:1]).encode()
    line = error_line(out)
    assert f"calling {func!r}" in line
    assert "Traceback" not in out.stderr.decode()


def test_exit_status_of_load_and_usage_errors(tmp_path):
    out = run("call", tmp_path / "missing.wasm", "f")
    assert out.returncode == cli.EXIT_NOINPUT and "no such file" in error_line(out)
    (tmp_path / "junk.wasm").write_bytes(b"\0asX not wasm")
    out = run("call", tmp_path / "junk.wasm", "f")
    assert out.returncode == cli.EXIT_LOAD and "cannot load plugin" in error_line(out)
    out = call("link_missing", "run")
    assert out.returncode == cli.EXIT_LOAD
    out = call("kitchen", "echo", "--input-file", tmp_path / "nothing")
    assert out.returncode == cli.EXIT_NOINPUT
    for bad in (["--bogus"], ["--loop", "0"], ["--timeout", "-1"], ["--log-level", "loud"],
                ["--input", "a", "--stdin"], ["--config", "=v"], ["--allow-path", "ro:"]):
        out = call("kitchen", "echo", *bad)
        assert out.returncode == cli.EXIT_USAGE, bad
    out = run("call", wasm_path("kitchen"))
    assert out.returncode == cli.EXIT_USAGE and b"FUNC" in out.stderr


def test_verbose_adds_a_traceback():
    out = call("kitchen", "fail", "--input", "x", "--verbose")
    assert out.returncode == 1
    err = out.stderr.decode()
    assert "Traceback" in err and "PluginCallError" in err
    assert err.strip().splitlines()[-1] == \
        "extism_native: error: calling 'fail': something went wrong: x"


def test_timeout():
    start = time.monotonic()
    out = call("spin", "forever", "--timeout", "200")
    assert out.returncode == cli.EXIT_TIMEOUT
    assert "timeout" in error_line(out)
    assert time.monotonic() - start < 10
    out = call("spin", "spin", "--timeout", "0", "--input-file", "-",
               stdin=(1000).to_bytes(8, "little"))
    assert out.returncode == 0 and out.stdout == (1000).to_bytes(8, "little")


@pytest.mark.parametrize("tier", ["interp", pytest.param("native", marks=pytest.mark.skipif(
    not extism_native.native_available()[0], reason="no compiled tier here"))])
def test_fuel(tier):
    n = (1000).to_bytes(8, "little")
    plugin = extism_native.Plugin(wasm("spin"), tier=tier, fuel=10**9)
    plugin.call("spin", n)
    used = plugin.fuel_used
    assert used > 1000  # (at least one unit per iteration)
    # the exact budget: the output, and the fuel used after it on stderr, each call
    out = call("spin", "spin", "--fuel", used, "--tier", tier, "--loop", "2",
               "--input-file", "-", stdin=n)
    assert out.returncode == 0 and out.stdout == n + b"\n" + n
    assert out.stderr.decode().splitlines() == [f"call {i}: fuel used {used} of {used}"
                                                for i in (1, 2)]
    # one unit less: the fuel trap, its exit status and a clear error line
    out = call("spin", "spin", "--fuel", used - 1, "--tier", tier, "--input-file", "-", stdin=n)
    assert out.returncode == cli.EXIT_TRAP and out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert lines[0] == f"call 1: fuel used {used - 1} of {used - 1}"
    assert lines[1].startswith("extism_native: error: ") and "ran out of fuel" in lines[1]
    start = time.monotonic()
    out = call("spin", "forever", "--fuel", "100000", "--tier", tier)
    assert out.returncode == cli.EXIT_TRAP and "ran out of fuel" in out.stderr.decode()
    assert time.monotonic() - start < 10
    # no budget, no fuel line
    out = call("spin", "spin", "--tier", tier, "--input-file", "-", stdin=n)
    assert out.returncode == 0 and out.stderr == b""
    for bad in ("0", "-5", "x", str(2**63)):
        out = call("spin", "spin", "--fuel", bad)
        assert out.returncode == cli.EXIT_USAGE and b"--fuel" in out.stderr, bad


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_cancels_the_call():
    # (a shell without job control starts background commands with SIGINT ignored, and the
    # child would inherit that: give it the default disposition, as a terminal would)
    proc = subprocess.Popen([sys.executable, "-m", "extism_native", "call",
                             str(wasm_path("spin")), "forever", "--verbose"],
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # --verbose says "input: ..." once main() runs (from then on SIGINT is handled)
    while not proc.stderr.readline().startswith(b"input:"):
        assert proc.poll() is None
    time.sleep(0.3)  # inside the guest's endless loop by now
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == cli.EXIT_INTERRUPTED
    assert err.decode().strip().splitlines()[-1] == "extism_native: error: interrupted"
    assert time.monotonic() - start < 10


def test_closed_stdout():
    proc = subprocess.Popen([sys.executable, "-m", "extism_native", "call",
                             str(wasm_path("kitchen")), "echo", "--input", "x" * 100_000],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head -c 0`: the write fails
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == cli.EXIT_OUTPUT
    assert err == "extism_native: error: cannot write the output: Broken pipe\n"


def test_log_level():
    out = call("kitchen", "log", "--input", "hi", "--log-level", "warn")
    assert out.returncode == 0 and out.stdout == b"2"  # the guest sent warn and error only
    assert out.stderr.decode().splitlines() == ["[warn] warn: hi", "[error] error: hi"]
    out = call("kitchen", "log", "--input", "hi")  # default: off
    assert out.stdout == b"0" and out.stderr == b""


def test_manifest_file(tmp_path):
    manifest = {"wasm": [{"path": str(wasm_path("kitchen"))}], "config": {"greeting": "Yo"}}
    (tmp_path / "plugin.json").write_text(json.dumps(manifest))
    out = run("call", tmp_path / "plugin.json", "greet", "-i", "me")  # detected by its '{'
    assert out.returncode == 0 and out.stdout == b"Yo, me!"
    out = run("call", tmp_path / "plugin.json", "greet", "-i", "me", "--config", "greeting=Hey")
    assert out.stdout == b"Hey, me!"  # the options are merged into the manifest
    (tmp_path / "list.json").write_text("[1, 2]")
    out = run("call", "--manifest", tmp_path / "list.json", "greet")
    assert out.returncode == cli.EXIT_LOAD and "JSON object" in error_line(out)
    (tmp_path / "bad.json").write_text("{nope")
    out = run("call", "-m", tmp_path / "bad.json", "greet")
    assert out.returncode == cli.EXIT_LOAD and "not valid JSON" in error_line(out)
    out = run("call", "-m", tmp_path / "missing.json", "greet")
    assert out.returncode == cli.EXIT_NOINPUT
    (tmp_path / "unknown.json").write_text('{"wasm": [], "bogus": 1}')
    out = run("call", tmp_path / "unknown.json", "greet")
    assert out.returncode == cli.EXIT_LOAD and "bogus" in error_line(out)


def options(*argv):
    return cli.build_parser().parse_args(["call", *argv])


def test_built_manifest(tmp_path):
    plugin = str(wasm_path("kitchen"))
    args = options(plugin, "f", "--allow-host", "*.example.com", "--allow-host", "api.test",
                   "--allow-path", "ro:/data:/mnt/data", "--allow-path", "/srv",
                   "--allow-path", "C:\\Users\\me:/home", "--allow-path", "ro:/etc",
                   "--timeout", "1500", "--memory-max", "4", "--var-max", "100",
                   "--http-response-max", "2048", "--config", "k=v", "--config", "empty")
    assert cli.build_manifest(args) == {
        "wasm": [{"path": plugin}],
        "allowed_hosts": ["*.example.com", "api.test"],
        "allowed_paths": {"ro:/data": "/mnt/data", "/srv": "/srv", "C:\\Users\\me": "/home",
                          "ro:/etc": "/etc"},
        "config": {"k": "v", "empty": ""},
        "memory": {"max_pages": 4, "max_var_bytes": 100, "max_http_response_bytes": 2048},
        "timeout_ms": 1500,
    }
    args = options("https://example.com/p.wasm", "f")
    assert cli.build_manifest(args) == {"wasm": [{"url": "https://example.com/p.wasm"}]}
    # options extend a manifest file's own lists
    (tmp_path / "m.json").write_text(json.dumps({"wasm": [{"path": plugin}],
                                                 "allowed_hosts": ["a"],
                                                 "allowed_paths": {"/x": "/y"}}))
    built = cli.build_manifest(options(str(tmp_path / "m.json"), "f", "--allow-host", "b",
                                       "--allow-path", "/z"))
    assert built["allowed_hosts"] == ["a", "b"]
    assert built["allowed_paths"] == {"/x": "/y", "/z": "/z"}


def test_print_manifest():
    out = call("kitchen", "echo", "--allow-path", "/tmp:/t", "--print-manifest")
    assert out.returncode == 0
    assert json.loads(out.stdout)["allowed_paths"] == {"/tmp": "/t"}


def test_exit_status_table():
    assert cli.exit_status(extism_native.PluginCallError("x", code=0)) == 1
    assert cli.exit_status(extism_native.ExitError("x", code=3)) == 3
    assert cli.exit_status(extism_native.ExitError("x", code=1000)) == 255
    assert cli.exit_status(extism_native.CallTimeoutError("x")) == cli.EXIT_TIMEOUT
    assert cli.exit_status(extism_native.Trap("x")) == cli.EXIT_TRAP
    assert cli.exit_status(extism_native.HttpError("x")) == 1
    assert cli.exit_status(extism_native.LinkError("x")) == cli.EXIT_LOAD
    assert cli.exit_status(extism_native.OutOfMemoryError("x")) == cli.EXIT_INTERNAL
    assert cli.exit_status(ValueError("bug")) == cli.EXIT_INTERNAL
    assert cli.exit_status(cli._OutputError("closed")) == cli.EXIT_OUTPUT


def test_info_and_version():
    out = run("info")
    text = out.stdout.decode()
    assert out.returncode == 0 and f"extism_native {extism_native.__version__}" in text
    assert f"include:    {extism_native.get_include()}" in text
    assert f"library:    {extism_native.library_path()}" in text
    assert run("info", "--include").stdout.decode().strip() == extism_native.get_include()
    assert run("info", "--library").stdout.decode().strip() == extism_native.library_path()
    assert run("info", "--cflags").stdout.decode().split() == [
        "-I" + extism_native.get_include()]
    out = run("--version")
    assert out.stdout.decode().strip() == f"extism_native {extism_native.__version__}"
    assert run().returncode == cli.EXIT_USAGE  # no command


def wasi_available() -> bool:
    try:
        extism_native.Plugin(wasm("cli_wasi"), wasi=True).close()
        return True
    except extism_native.LinkError:
        return False


needs_wasi = pytest.mark.skipif(not wasi_available(),
                                reason="WASI is not implemented in this build yet")


@needs_wasi
def test_wasi_exit_code_is_the_exit_status():
    out = call("cli_wasi", "exit_len", "--wasi", "--input", "abc")
    assert out.returncode == 3
    out = call("cli_wasi", "exit_len", "--wasi")
    assert out.returncode == 0


@needs_wasi
def test_allow_path_mounts_a_directory(tmp_path):
    (tmp_path / "hello.txt").write_bytes(b"file contents\n")
    out = call("cli_wasi", "read_file", "--wasi", "--allow-path", f"{tmp_path}:/data",
               "--input", "hello.txt")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"file contents\n"
    out = call("cli_wasi", "read_file", "--wasi", "--allow-path", f"{tmp_path}:/data",
               "--input", "missing.txt")
    assert out.returncode == 44  # WASI ENOENT, the plugin's return code


def test_without_wasi_flag_a_wasi_plugin_does_not_load():
    out = call("cli_wasi", "exit_len")
    assert out.returncode == cli.EXIT_LOAD and "WASI" in error_line(out)



def test_the_wasi_hint_names_the_option():
    out = call("cli_wasi", "exit_len")
    assert out.returncode == cli.EXIT_LOAD
    line = error_line(out)
    assert "enable it with --wasi" in line and "wasi=True" not in line
