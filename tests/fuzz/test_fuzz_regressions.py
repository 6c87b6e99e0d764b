"""Every input a fuzzer once crashed on (tests/fuzz/regressions/<harness>/) is run again the way
its harness runs it; each must end in a clean outcome.  The file name says what it found."""

from __future__ import annotations

from pathlib import Path

import pytest

import extism_native as extism

REGRESSIONS = Path(__file__).parent / "regressions"


def cases(harness: str):
    return sorted((REGRESSIONS / harness).glob("*"), key=lambda p: p.name)


@pytest.mark.parametrize("path", cases("plugin_new"), ids=lambda p: p.stem)
def test_plugin_new_regressions(path):
    data = path.read_bytes()
    for wasi in (False, True):
        try:
            plugin = extism.Plugin(data, wasi=wasi)
        except extism.Error:
            continue  # refused cleanly
        with plugin:
            for name in ("run", "_start", "count_vowels"):
                if plugin.function_exists(name):
                    try:
                        plugin.call(name, data[:64], timeout=0.02)
                    except extism.Error:
                        pass


@pytest.mark.parametrize("path", cases("kernel_ops"), ids=lambda p: p.stem)
def test_kernel_ops_regressions(path):
    from conftest import wasm

    with extism.Plugin({"wasm": [{"data": wasm("kernel_ops")}],
                        "memory": {"max_pages": 64}}) as plugin:
        try:
            plugin.call("run", path.read_bytes())
        except extism.Error:
            pass
