"""The WASI programs on Windows' API: the core is cross-compiled with mingw-w64 and the
programs run under Wine.  Opt-in (slow, needs gcc-mingw-w64-x86-64 and wine64):
EXN_WINE_TESTS=1.  Wine follows Unix symbolic links itself and its CreateSymbolicLinkW does
not create one, so the steps about links are expected to fail here (real Windows has reparse
points, which sys_win32.c refuses to follow); Windows file times have 100 ns resolution."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from wasi_helpers import PLUGINS

ROOT = Path(__file__).resolve().parents[2]
WINE = shutil.which("wine64") or ("/usr/lib/wine/wine64" if os.path.exists("/usr/lib/wine/wine64")
                                  else None)
CC = shutil.which("x86_64-w64-mingw32-gcc")

pytestmark = pytest.mark.skipif(
    not (os.environ.get("EXN_WINE_TESTS") and WINE and CC),
    reason="set EXN_WINE_TESTS=1 (and install gcc-mingw-w64-x86-64 and wine64)")

# steps that cannot pass under Wine (see the module docstring)
WINE_GAPS = {"futimens", "readlink", "through link", "lstat", "unlink", "read_link",
             "symlink_metadata", "remove_file link"}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    out = tmp_path_factory.mktemp("wine")
    objects = []
    sources = (sorted((ROOT / "third_party" / "wasm3" / "source").glob("*.c")) +
               sorted((ROOT / "csrc").glob("*/*.c")) + sorted((ROOT / "csrc").glob("*/*/*.c")))
    for i, src in enumerate(sources):
        obj = out / f"{i}.o"
        subprocess.run([CC, "-std=gnu11", "-O1", "-w", "-DEXN_VERSION=\"test\"",
                        "-Dd_m3MaxFunctionStackHeight=8000", "-Dd_m3VerboseErrorMessages=1",
                        "-I", str(ROOT / "csrc"), "-I", str(ROOT / "third_party/wasm3/source"),
                        "-c", str(src), "-o", str(obj)], check=True)
        objects.append(str(obj))
    exe = out / "wine_runner.exe"
    subprocess.run([CC, "-O1", "-I", str(ROOT / "csrc"), str(Path(__file__).parent /
                    "wine_runner.c"), *objects, "-lbcrypt", "-o", str(exe)], check=True)
    return exe


def run(runner, plugin, host, guest, *args):
    env = dict(os.environ, WINEDEBUG="-all")
    wasm_path = "Z:" + str(PLUGINS / f"{plugin}.wasm")
    out = subprocess.run([WINE, str(runner), wasm_path, "Z:" + str(host), guest, *args],
                         capture_output=True, text=True, env=env, timeout=600)
    return out.stdout.splitlines()


@pytest.mark.parametrize("plugin", ["wasi_cmd", "wasi_std"])
def test_files_under_wine(runner, tmp_path, plugin):
    lines = run(runner, plugin, tmp_path, "/work", "files", "/work")
    failed = {line.split(" FAILED")[0] for line in lines if " FAILED" in line}
    assert failed <= WINE_GAPS, lines
    assert sum(line.endswith(" ok") for line in lines) >= 20
    assert lines[-1].startswith("status")


@pytest.mark.parametrize("plugin", ["wasi_cmd", "wasi_std"])
def test_clock_random_exit_under_wine(runner, tmp_path, plugin):
    assert run(runner, plugin, tmp_path, "/work", "clock")[-1] == "status 0 exit 0 "
    assert run(runner, plugin, tmp_path, "/work", "random")[-1] == "status 0 exit 0 "
    assert run(runner, plugin, tmp_path, "/work", "exit", "500")[-1] == \
        "status 10 exit 500 exited with code 500"


def test_escapes_by_dotdot_under_wine(runner, tmp_path):
    (tmp_path / "mnt" / "sub").mkdir(parents=True)
    (tmp_path / "mnt" / "file").write_bytes(b"")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"secret")
    lines = dict(line.split(" ", 1) for line in run(runner, "wasi_cmd", tmp_path / "mnt", "/mnt",
                                                    "escape", "/mnt")[:-1])
    for name in ("dotdot", "dotdot_deep", "opendir_up", "mkdir_out", "rename_out",
                 "symlink_abs"):
        assert lines[name] == "63", (name, lines)
    assert lines["long_path"] == "37" and lines["long_name"] == "37"
    assert sorted(os.listdir(tmp_path / "outside")) == ["secret"]
