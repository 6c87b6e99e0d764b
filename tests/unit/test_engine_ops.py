"""wasm3's integer operation variants (patches 0060-0062: immediate operands, results to a slot
or straight to a local, fused compare-and-branch) against a model, on edge values.

tests/plugins/wat/engine_ops.wat evaluates every binary integer operation in each operand /
result / branch context the compiler has a variant for (tests/unit/engine_ops_gen.py lists
them); each context is checked on every pair of VALUES: 0, +-1, shift counts at and past the
width, the signed and unsigned limits of both widths (unsigned wrap, INT_MIN / INT_MAX compares),
so each branch is both taken and not taken.  Integer loads are checked the same way (their
variants writing a slot, patch 0063), and at the end of memory."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

import extism_native as extism
from conftest import wasm_path

sys.path.insert(0, str(Path(__file__).parent))
import engine_ops_gen as gen  # noqa: E402

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
VALUES = [0, 1, 2, -1, -2, 31, 32, 33, 63, 64, 97, I32_MIN, I32_MAX, (1 << 32) - 1, 1 << 32,
          I64_MIN, I64_MAX, I64_MIN + 1]


def test_wat_is_generated() -> None:
    source = Path(__file__).parent.parent / "plugins" / "wat" / "engine_ops.wat"
    assert source.read_text() == gen.wat(), "run tests/unit/engine_ops_gen.py > tests/plugins/wat/engine_ops.wat"


def test_every_variant_matches_the_model() -> None:
    data = struct.pack(f"<{len(VALUES)}q", *VALUES)
    # a wrong loop test or increment loops forever: a timeout makes it a failure
    manifest = {"wasm": [{"path": str(wasm_path("engine_ops"))}], "timeout_ms": 20000}
    with extism.Plugin(manifest) as plugin:
        out = plugin.call("run", data)
    got = list(struct.unpack(f"<{len(out) // 8}Q", out))
    want = gen.expected(VALUES)
    assert len(got) == len(want)
    if got != want:
        labels = gen.contexts()
        bad = []
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                pair, k = divmod(i, len(labels))
                a, b = VALUES[pair // len(VALUES)], VALUES[pair % len(VALUES)]
                name, label, _m = labels[k]
                bad.append(f"{name} [{label}] a={a} b={b}: got {g:#x}, want {w:#x}")
        raise AssertionError(f"{len(bad)} wrong results, first ones:\n" + "\n".join(bad[:20]))


@pytest.mark.parametrize("export, width", [("load_r_s", 4), ("load_s_s", 4), ("load_slot", 8)])
def test_load_to_slot_bounds(export: str, width: int) -> None:
    """A load writing a slot checks its bounds as the others: the last address that fits works,
    one byte further traps."""
    with extism.Plugin(wasm_path("engine_ops").read_bytes()) as plugin:
        plugin.call(export, bytes(65536 - width))
        with pytest.raises(extism.Trap, match="out of bounds memory access"):
            plugin.call(export, bytes(65536 - width + 1))
