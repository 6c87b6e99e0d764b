"""Shared fixtures: the committed test plugins, and the official `extism` package for
side-by-side checks (those tests skip when it is not installed)."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import struct
from pathlib import Path
from typing import List

import pytest

# The native tier's cache: one of the test session's own unless the caller chose one (CI's
# native job does), so a run neither reads nor fills the user's cache and every run starts the
# same way: in the default (auto) tier every plugin starts on the interpreter and those that
# get hot compile in the background and move.
if not os.environ.get("EXTISM_NATIVE_CACHE_DIR"):
    import atexit
    import tempfile

    _cache = tempfile.mkdtemp(prefix="extism-native-test-cache-")
    os.environ["EXTISM_NATIVE_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)

# EXN_TEST_PLUGINS points the tests at another build of the plugins (tests/plugins/build.py)
PLUGINS = Path(os.environ.get("EXN_TEST_PLUGINS", Path(__file__).parent / "plugins" / "wasm"))

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("default", deadline=None)
    settings.register_profile("ci", deadline=None, max_examples=200,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("expensive", deadline=None, max_examples=5000)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass


def wasm_path(name: str) -> Path:
    """Path of a committed test plugin, e.g. wasm_path("edge")."""
    path = PLUGINS / f"{name}.wasm"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run python tests/plugins/build.py")
    return path


def wasm(name: str) -> bytes:
    """Bytes of a committed test plugin."""
    return wasm_path(name).read_bytes()


def gc_collect() -> None:
    """Collect garbage until finalizers have run: PyPy frees nothing when its last reference
    goes, and what an object with __del__ holds is freed one collection after it."""
    for _ in range(3):
        gc.collect()


def run_threads(target, args_list) -> None:
    """Run target(*args) on one thread per entry of args_list, all at once; wait for all."""
    import threading

    threads = [threading.Thread(target=target, args=tuple(args)) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def u64s(data: bytes) -> List[int]:
    """Decode the little-endian u64 results the WAT test plugins output (as signed)."""
    return [struct.unpack_from("<q", data, i)[0] for i in range(0, len(data), 8)]


@pytest.fixture(scope="session")
def official():
    """The official `extism` package (skips the test when it is not installed)."""
    return pytest.importorskip("extism")


ROOT = Path(__file__).resolve().parent.parent
HAVE_SOURCE = (ROOT / "CMakeLists.txt").is_file() and (ROOT / "csrc").is_dir()
needs_source = pytest.mark.skipif(
    not HAVE_SOURCE, reason="needs the source tree beside tests/ (this is a copy of tests/ run "
    "against an installed package)")
"""Marks tests that read or build the sources (csrc/, bench/, CMakeLists.txt)."""


@pytest.fixture(scope="session")
def c_build(tmp_path_factory):
    """The C core, its C tests and test tools (tests/c, tests/spec) built with cmake, once.
    Skips when there is no source tree beside tests/ (e.g. a copy of tests/ run against an
    installed wheel: .ci/jobs/40-wheel.sh, cibuildwheel)."""
    if not HAVE_SOURCE:
        pytest.skip("needs the source tree beside tests/ to build csrc/")
    cmake = shutil.which("cmake")
    if cmake is None:
        import cmake as cmake_module  # the PyPI package that scikit-build-core also uses
        cmake = os.path.join(cmake_module.CMAKE_BIN_DIR, "cmake")
    build = tmp_path_factory.mktemp("c-build")
    # under the sanitizer CI job (EXN_SANITIZE=address,undefined) the C tests are sanitized too,
    # and they are where leaks are checked
    sanitize = os.environ.get("EXN_SANITIZE", "")
    for args in ([cmake, "-S", str(ROOT), "-B", str(build), "-DEXN_TESTING=ON", "-DEXN_WERROR=ON",
                  "-DEXN_SHARED=OFF", "-DEXN_PYTHON=OFF", "-DCMAKE_BUILD_TYPE=Release",
                  f"-DEXN_SANITIZE={sanitize}"],
                 [cmake, "--build", str(build), "--parallel", "2"]):
        out = subprocess.run(args, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return build
