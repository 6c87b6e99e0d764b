"""Build and run the C tests of csrc/ (tests/c, no Python) as part of the pytest run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if not (ROOT / "CMakeLists.txt").is_file() or not (ROOT / "csrc").is_dir():
    # e.g. a copy of tests/ run against an installed wheel (.ci/jobs/40-wheel.sh, cibuildwheel)
    pytest.skip("the C tests build csrc/ from the source tree, and there is none beside tests/",
                allow_module_level=True)


@pytest.fixture(scope="module")
def c_build(tmp_path_factory):
    cmake = shutil.which("cmake")
    if cmake is None:
        import cmake as cmake_module  # the PyPI package that scikit-build-core also uses
        cmake = os.path.join(cmake_module.CMAKE_BIN_DIR, "cmake")
    build = tmp_path_factory.mktemp("c-build")
    for args in ([cmake, "-S", str(ROOT), "-B", str(build), "-DEXN_TESTING=ON", "-DEXN_WERROR=ON",
                  "-DEXN_SHARED=OFF", "-DEXN_PYTHON=OFF", "-DCMAKE_BUILD_TYPE=Release"],
                 [cmake, "--build", str(build), "--parallel", "2"]):
        out = subprocess.run(args, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return build


def test_core_c_unit_tests(c_build):
    exe = next(p for p in c_build.rglob("test_core*") if p.is_file() and os.access(p, os.X_OK))
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failures" in out.stdout


def test_public_headers_compile_alone(c_build):
    # the header_check targets are part of the build; reaching here means they compiled
    assert any(c_build.rglob("header_check.c.o*"))
