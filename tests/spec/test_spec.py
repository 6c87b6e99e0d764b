"""The WebAssembly spec test suite on our engine (tests/spec/README.md).

fetch.py gets the scripts from Debian's binaryen source package and converts them with
wast2json; spec_run (spec_run.c, built here with CMake) runs each script in its own process, so
a crash of the engine fails that script only and names the line it was running.  The per-file
table is printed and written to build/spec/results.md (not committed).

Without the suite (no deb-src line, no wast2json, no network) the tests skip, unless
EXN_SPEC=1 (CI's .ci/jobs/10-spec.sh), where failing to fetch is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import fetch  # noqa: E402

REQUIRED = os.environ.get("EXN_SPEC") == "1"
if not (ROOT / "CMakeLists.txt").is_file():
    pytest.skip("the spec runner builds from the source tree, and there is none beside tests/",
                allow_module_level=True)
TIMEOUT_S = 300      # per script


@dataclass
class FileResult:
    """Counts of one script, as spec_run prints them (or the crash that stopped it)."""

    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    rejected: int = 0
    accepted: int = 0
    text: int = 0
    by_validator: int = 0
    crash: Optional[str] = None
    failures: List[str] = field(default_factory=list)


@dataclass
class SuiteResult:
    """All scripts, and the files the manifest lists as not run."""

    files: List[FileResult]
    not_run: List[Dict[str, str]]

    def total(self, key: str) -> int:
        return sum(getattr(f, key) for f in self.files)


def _skip_or_fail(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"EXN_SPEC=1 but {reason}")
    pytest.skip(reason)


def _cmake() -> str:
    cmake = shutil.which("cmake")
    if cmake is None:
        import cmake as cmake_module  # the PyPI package scikit-build-core also uses

        cmake = os.path.join(cmake_module.CMAKE_BIN_DIR, "cmake")
    return cmake


def build_runner(build: Path) -> Path:
    """Configure and build spec_run (with the whole core) into build/."""
    cmake = _cmake()
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    for args in ([cmake, "-S", str(ROOT), "-B", str(build), *gen, "-DEXN_TESTING=ON",
                  "-DEXN_WERROR=ON", "-DEXN_SHARED=OFF", "-DEXN_PYTHON=OFF",
                  "-DCMAKE_BUILD_TYPE=Release"],
                 [cmake, "--build", str(build), "--parallel", "2", "--target", "spec_run"]):
        out = subprocess.run(args, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    exe = next(p for p in build.rglob("spec_run*") if p.is_file() and os.access(p, os.X_OK))
    return exe


def run_file(exe: Path, script: Path, name: str) -> FileResult:
    """Run one converted script in its own process."""
    try:
        out = subprocess.run([str(exe), str(script)], capture_output=True, text=True,
                             timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        last = [ln for ln in err.splitlines() if ln.startswith("@")]
        return FileResult(name, crash=f"timed out after {TIMEOUT_S} s at line "
                                      f"{last[-1][1:] if last else '?'}")
    lines = out.stdout.strip().splitlines()
    fails = [ln for ln in out.stderr.splitlines() if ln.startswith(("FAIL", "ACCEPTED"))]
    if out.returncode != 0 or not lines:
        last = [ln for ln in out.stderr.splitlines() if ln.startswith("@")]
        where = last[-1][1:] if last else "?"
        return FileResult(name, crash=f"exit status {out.returncode} at {name}.wast line {where}",
                          failures=fails)
    counts = json.loads(lines[-1])
    counts.pop("file", None)
    return FileResult(name, failures=fails, **counts)


def format_table(suite: SuiteResult) -> str:
    """The per-file table (markdown) and the totals."""
    rows = ["| file | passed | failed | skipped | rejected | accepted | text | note |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    for f in suite.files:
        note = f"CRASH: {f.crash}" if f.crash else ""
        rows.append(f"| {f.name} | {f.passed} | {f.failed} | {f.skipped} | {f.rejected} | "
                    f"{f.accepted} | {f.text} | {note} |")
    t = {k: suite.total(k) for k in ("passed", "failed", "skipped", "rejected", "accepted",
                                     "text", "by_validator")}
    crashes = sum(1 for f in suite.files if f.crash)
    rows.append(f"| **total** | {t['passed']} | {t['failed']} | {t['skipped']} | "
                f"{t['rejected']} | {t['accepted']} | {t['text']} | {crashes} crashed |")
    executed = t["passed"] + t["failed"]
    judged = t["rejected"] + t["accepted"]
    rows.append("")
    rows.append(f"assertions passed: {t['passed']}/{executed} = "
                f"{100 * t['passed'] / max(executed, 1):.2f}% (skipped {t['skipped']}); "
                f"invalid+malformed binary modules rejected: {t['rejected']}/{judged} = "
                f"{100 * t['rejected'] / max(judged, 1):.2f}% ({t['by_validator']} by "
                f"exn_validate); text-form malformed modules not run: {t['text']}")
    rows.append("")
    rows.append("Not run:")
    for f in suite.not_run:
        rows.append(f"- {f['name']}.wast ({f['status']}): {f['reason']}")
    return "\n".join(rows)


@pytest.fixture(scope="module")
def suite(tmp_path_factory, request) -> SuiteResult:
    """Fetch, build, run every script; print and save the table."""
    if not shutil.which("wast2json"):
        _skip_or_fail("wast2json is not installed (apt-get install wabt)")
    if not shutil.which("apt-get") and not (fetch.default_cache() / "manifest.json").exists():
        _skip_or_fail("no apt-get to fetch Debian's binaryen source package")
    cache = fetch.default_cache()
    try:
        manifest = fetch.build(cache, shutil.which("wast2json") or "wast2json")
    except RuntimeError as e:
        _skip_or_fail(f"the spec suite cannot be fetched: {e}")
    exe = build_runner(tmp_path_factory.mktemp("spec-build"))
    results = []
    for entry in manifest["files"]:
        if entry["status"] == "ok":
            results.append(run_file(exe, cache / entry["json"], entry["name"]))
    suite = SuiteResult(results, [f for f in manifest["files"] if f["status"] != "ok"])
    table = format_table(suite)
    (cache / "results.md").write_text(table + "\n")
    details = "\n".join(f"{f.name}: {ln}" for f in results for ln in f.failures)
    (cache / "failures.txt").write_text(details + "\n")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # the table belongs in the CI log
        print("\n" + table + f"\n(table in {cache / 'results.md'}, failures in "
              f"{cache / 'failures.txt'})", flush=True)
    return suite


def test_spec_no_crash(suite: SuiteResult) -> None:
    """wasm3 must not crash or hang on any script (each runs in its own process)."""
    crashed = [f"{f.name}: {f.crash}" for f in suite.files if f.crash]
    assert not crashed, "\n".join(crashed)


EXPECTED_FAILURES = HERE / "expected_failures.txt"


def expected_failures() -> Dict[str, str]:
    """`script: KIND line N` -> why, from expected_failures.txt."""
    out = {}
    for line in EXPECTED_FAILURES.read_text().splitlines():
        entry, _, why = line.partition("#")
        if entry.strip():
            out[entry.strip()] = why.strip()
    return out


def actual_failures(suite: SuiteResult) -> Dict[str, str]:
    """`script: KIND line N` -> spec_run's message, for every failed assertion and every
    invalid or malformed module that was accepted."""
    out = {}
    for f in suite.files:
        for line in f.failures:
            m = re.match(r"(FAIL|ACCEPTED) line (\d+)", line)
            if m:
                out[f"{f.name}: {m.group(1)} line {m.group(2)}"] = line
    return out


def test_spec_failures_are_exactly_the_expected_ones(suite: SuiteResult) -> None:
    """Every assertion passes and every invalid or malformed module is rejected, except those
    listed in expected_failures.txt (with the reason of each): a single new failure fails, and
    so does a listed one that now passes (remove it from the list)."""
    assert suite.total("passed") > 10000, "the suite ran suspiciously few assertions"
    assert suite.total("rejected") > 1000, "the suite judged suspiciously few modules"
    expected, actual = expected_failures(), actual_failures(suite)
    new = sorted(set(actual) - set(expected))
    fixed = sorted(set(expected) - set(actual))
    assert not new and not fixed, (
        "\n".join([f"new failure: {actual[k]} ({k})" for k in new] +
                  [f"passes now, remove from {EXPECTED_FAILURES.name}: {k}" for k in fixed]))
