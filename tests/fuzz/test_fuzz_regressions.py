"""Every input a fuzzer once crashed on (tests/fuzz/regressions/<harness>/) is run again through
its harness: the harness's own code (tests/fuzz/fuzz_<harness>.c) linked with tests/fuzz/replay.c
instead of libFuzzer, built by the c_build fixture.  Each input must end in a clean exit.  The
file name says what it found."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REGRESSIONS = Path(__file__).parent / "regressions"
HARNESSES = sorted(p.stem[len("fuzz_"):] for p in Path(__file__).parent.glob("fuzz_*.c"))


def cases() -> list:
    return [pytest.param(harness, path, id=f"{harness}/{path.stem}")
            for harness in HARNESSES
            for path in sorted((REGRESSIONS / harness).glob("*"), key=lambda p: p.name)]


def replay(c_build, harness: str, *inputs: Path) -> subprocess.CompletedProcess:
    exe = next(p for p in c_build.rglob("replay_" + harness + "*")
               if p.is_file() and os.access(p, os.X_OK))
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)  # a sanitized binary brings its own runtime
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    return subprocess.run([str(exe), *map(str, inputs)], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.mark.parametrize("harness,path", cases())
def test_regression_input_replays_cleanly(c_build, harness, path):
    out = replay(c_build, harness, path)
    assert out.returncode == 0, (f"{path.name} crashed the {harness} harness "
                                 f"(status {out.returncode}):\n{out.stdout[-2000:]}"
                                 f"{out.stderr[-4000:]}")
    assert "replayed 1 inputs" in out.stdout


def test_every_harness_has_regression_inputs():
    # a harness's inputs live in regressions/<name>/ (.ci/jobs/30-fuzz.sh seeds from there too)
    assert HARNESSES == ["kernel_ops", "plugin_new", "validate"]
    for harness in ("kernel_ops", "plugin_new"):
        assert any((REGRESSIONS / harness).iterdir()), harness


def test_replay_fails_on_an_unreadable_input(c_build, tmp_path):
    # a missing input is an error, never a clean run of nothing
    out = replay(c_build, "validate", tmp_path / "missing")
    assert out.returncode != 0
