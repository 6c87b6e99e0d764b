"""Build and run the C tests of csrc/ (tests/c, no Python) as part of the pytest run."""

from __future__ import annotations

import os
import subprocess

import pytest

# c_build (tests/conftest.py): the core and its C tests built once per session with cmake; the
# tests skip when there is no source tree beside tests/ (a copy run against an installed wheel)

@pytest.mark.parametrize("name", ["test_core", "test_validate"])
def test_core_c_unit_tests(c_build, name):
    exe = next(p for p in c_build.rglob(name + "*") if p.is_file() and os.access(p, os.X_OK))
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)  # a sanitized test binary brings its own runtime
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failures" in out.stdout


def test_public_headers_compile_alone(c_build):
    # the header_check targets are part of the build; reaching here means they compiled
    assert any(c_build.rglob("header_check.c.o*"))


def test_wasi_c_tests(c_build):
    # tests/c/test_wasi.c: WASI creation, setters and out-of-memory paths, without Python
    exe = next(p for p in c_build.rglob("test_wasi*") if p.is_file() and os.access(p, os.X_OK))
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failures" in out.stdout


def test_wasm3_embedding_api_checks(c_build):
    # tests/spec/engine_check.c: immutable globals, references through m3_Call
    exe = next(p for p in c_build.rglob("engine_check*") if p.is_file() and os.access(p, os.X_OK))
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failures" in out.stdout
