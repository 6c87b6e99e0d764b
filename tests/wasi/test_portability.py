"""WASI's C sources build for Windows (cross-compiled with mingw-w64 when it is installed:
`apt-get install gcc-mingw-w64-x86-64`) and on the host with clang, warning-free; each OS file
compiles to nothing on the other platform; OS headers appear only in the sys_*.c files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import needs_source

pytestmark = needs_source  # compiles and reads csrc/

ROOT = Path(__file__).resolve().parents[2]
WASI = ROOT / "csrc" / "wasi"
WARNINGS = ["-Wall", "-Wextra", "-Wshadow", "-Wundef", "-Wstrict-prototypes",
            "-Wmissing-prototypes", "-Wwrite-strings", "-Werror"]
DEFINES = ["-Dd_m3MaxFunctionStackHeight=8000", "-Dd_m3VerboseErrorMessages=1"]
INCLUDES = ["-I", str(ROOT / "csrc"), "-isystem", str(ROOT / "third_party" / "wasm3" / "source")]


def compile_all(compiler, tmp_path):
    objects = {}
    for source in sorted(WASI.glob("*.c")):
        obj = tmp_path / (source.stem + ".o")
        out = subprocess.run([compiler, "-std=c11", "-O2", *WARNINGS, *DEFINES, *INCLUDES, "-c",
                              str(source), "-o", str(obj)], capture_output=True, text=True)
        assert out.returncode == 0, f"{source.name}:\n{out.stderr}"
        objects[source.stem] = obj
    return objects


def defined_symbols(nm, obj):
    out = subprocess.run([nm, "--defined-only", "-g", str(obj)], capture_output=True, text=True)
    return [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("x86_64-w64-mingw32-gcc") is None,
                    reason="mingw-w64 is not installed")
def test_compiles_for_windows_with_mingw(tmp_path):
    objects = compile_all("x86_64-w64-mingw32-gcc", tmp_path)
    nm = "x86_64-w64-mingw32-nm"
    assert defined_symbols(nm, objects["sys_posix"]) == []
    assert "exn_sys_openat" in defined_symbols(nm, objects["sys_win32"])


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_compiles_with_clang(tmp_path):
    objects = compile_all("clang", tmp_path)
    nm = shutil.which("llvm-nm") or shutil.which("nm")
    assert defined_symbols(nm, objects["sys_win32"]) == []
    assert "exn_sys_openat" in defined_symbols(nm, objects["sys_posix"])


def test_os_headers_only_in_the_sys_files():
    system = re.compile(r'^\s*#\s*include\s*<(?!stdarg|stdbool|stddef|stdint|string)[^>]+>', re.M)
    for source in WASI.glob("*.[ch]"):
        includes = system.findall(source.read_text())
        if source.name in ("sys_posix.c", "sys_win32.c"):
            assert includes, source.name
        else:
            assert includes == [], f"{source.name} includes {includes}"


def test_import_names_appear_only_in_the_link_table():
    names = re.findall(r'\{"(\w+)", "[iIv]\(', (WASI / "link.c").read_text())
    assert len(names) == len(set(names)) == 46
    for source in WASI.glob("*.[ch]"):
        if source.name == "link.c":
            continue
        text = re.sub(r"/\*.*?\*/", "", source.read_text(), flags=re.S)  # (code, not comments)
        for name in names:
            assert f'"{name}"' not in text, (source.name, name)
