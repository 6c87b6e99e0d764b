"""The compiled tier without Python: its C test and the spec suite, compared with wasm3.

- test_native (tests/native/test_native.c): traps, bounds, stack, interrupts, nested instances,
  cache tampering; skipped where the tier has no C compiler.
- The WebAssembly spec suite (tests/spec/README.md) run by spec_native (the compiled tier through
  engine.h) and by spec_run (wasm3): every script must give the same failures on both, line by
  line - the scripts that fail on wasm3 (sharing of imported globals, memories and tables, which
  neither tier's runner emulates) and nothing else.  Both bounds modes (guard pages, explicit
  checks), and guard pages with every memory made from its copy-on-write image (normally only
  for 32 KiB of data and more).  The compiled modules are cached in build/spec/native-cache (EXTISM_NATIVE_CACHE_DIR),
  so only the first run pays for the C compiler (about 2000 small modules).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "spec"))

if not (ROOT / "CMakeLists.txt").is_file():
    pytest.skip("the runners build from the source tree, and there is none beside tests/",
                allow_module_level=True)
if sys.platform == "win32":
    pytest.skip("the compiled tier is not available on Windows yet", allow_module_level=True)

import fetch  # noqa: E402
import test_spec  # noqa: E402


# Scripts the compiled tier does not run yet, and why.
NOT_ON_NATIVE: Dict[str, str] = {}


def _build(build: Path, targets: List[str]) -> Dict[str, Path]:
    cmake = test_spec._cmake()
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    for args in ([cmake, "-S", str(ROOT), "-B", str(build), *gen, "-DEXN_TESTING=ON",
                  "-DEXN_WERROR=ON", "-DEXN_SHARED=OFF", "-DEXN_PYTHON=OFF",
                  "-DCMAKE_BUILD_TYPE=Release"],
                 [cmake, "--build", str(build), "--parallel", "2", "--target", *targets]):
        out = subprocess.run(args, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    found = {}
    for t in targets:
        found[t] = next(p for p in build.rglob(t + "*") if p.is_file() and os.access(p, os.X_OK))
    return found


@pytest.fixture(scope="module")
def runners(tmp_path_factory) -> Dict[str, Path]:
    return _build(tmp_path_factory.mktemp("native-build"),
                  ["test_native", "spec_native", "spec_run"])


def test_native_c(runners: Dict[str, Path], tmp_path: Path) -> None:
    """The C test of the tier (exit 77: no C compiler here)."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    # the test runs shell tools (dd, head, chmod): a sanitizer runtime preloaded into Python
    # (the sanitizer job's LD_PRELOAD) must not reach them - dd's aligned_alloc(4096, 1) aborts
    # under ASan; a sanitized build of the test brings its own runtime
    env.pop("LD_PRELOAD", None)
    out = subprocess.run([str(runners["test_native"])], capture_output=True, text=True,
                         timeout=600, env=env)
    if out.returncode == 77:
        pytest.skip(out.stderr.strip().splitlines()[-1])
    assert out.returncode == 0, out.stderr[-4000:]


def _failures(exe: Path, env: Dict[str, str]) -> Dict[str, List[str]]:
    cache = fetch.default_cache()
    manifest = fetch.build(cache, shutil.which("wast2json") or "wast2json")
    results: Dict[str, List[str]] = {}
    old = dict(os.environ)
    os.environ.update(env)
    try:
        for entry in manifest["files"]:
            if entry["status"] != "ok" or entry["name"].split(".")[0] in NOT_ON_NATIVE:
                continue
            r = test_spec.run_file(exe, cache / entry["json"], entry["name"])
            lines = list(r.failures)
            if r.crash:
                lines.append(f"CRASH {r.crash}")
            if r.skipped:  # (an assertion a runner cannot run must not pass unseen)
                lines.append(f"SKIPPED {r.skipped}")
            results[entry["name"]] = lines
    finally:
        os.environ.clear()
        os.environ.update(old)
    return results


@pytest.mark.parametrize("bounds", ["guard", "checks", "image"])
def test_spec_same_as_wasm3(runners: Dict[str, Path], bounds: str) -> None:
    """Every script fails on the compiled tier exactly where it fails on wasm3."""
    if not shutil.which("wast2json"):
        pytest.skip("wast2json is not installed (apt-get install wabt)")
    if not (fetch.default_cache() / "manifest.json").exists() and not shutil.which("apt-get"):
        pytest.skip("the spec suite cannot be fetched here")
    probe = subprocess.run([str(runners["test_native"]), "--probe"], capture_output=True,
                           text=True)
    if probe.returncode == 77:
        pytest.skip(probe.stderr.strip())
    cache_dir = fetch.default_cache() / "native-cache"
    env = {"EXTISM_NATIVE_CACHE_DIR": str(cache_dir)}
    if bounds == "checks":
        env["EXTISM_NATIVE_BOUNDS"] = "checks"
    elif bounds == "image":  # every memory with constant data offsets mapped from its image
        env["EXTISM_NATIVE_IMAGE_MIN"] = "0"
    native = _failures(runners["spec_native"], env)
    wasm3 = _failures(runners["spec_run"], {})
    assert sum(len(v) for v in wasm3.values()) < 100, "wasm3's own run looks broken"
    differ = {name: (wasm3.get(name), native[name]) for name in native
              if sorted(native[name]) != sorted(wasm3.get(name, []))}
    report = "\n".join(f"{n}:\n  wasm3:  {w}\n  native: {v}" for n, (w, v) in differ.items())
    assert not differ, report
    # and so exactly the expected failures of tests/spec/expected_failures.txt (but those of
    # the scripts the tier does not run)
    listed = {k for k in test_spec.expected_failures() if k.split(":")[0] not in NOT_ON_NATIVE}
    got = {f"{name}: {m.group(1)} line {m.group(2)}" for name, lines in native.items()
           for m in (re.match(r"(FAIL|ACCEPTED) line (\d+)", line) for line in lines) if m}
    assert got == listed, (f"new: {sorted(got - listed)}\n"
                           f"listed but passing: {sorted(listed - got)}")
