"""tests/spec/run_external.py: its conversion helpers (the runs themselves need a suite)."""
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_external  # noqa: E402

SCRIPT = """\
;; a comment with (parentheses
(module
  (func (export "v8x16.swizzle") (param v128 v128) (result v128)
    (v8x16.swizzle (local.get 0) (local.get 1))))
(assert_return (invoke "v8x16.swizzle" (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
                                       (v128.const i8x16 15 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0))
               (v128.const i8x16 16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1))
(module (func (result i32) (i8x16.extract_lane_s +0x0f (v128.const i64x2 0 0))))
(assert_invalid (module (func (result v128) (i8x16.add (i32.const 0) (i32.const 0))))
  "type mismatch")
"""


def test_top_level_forms_skip_strings_and_comments() -> None:
    forms = run_external.top_level_forms(SCRIPT)
    assert [f[0] for f in forms] == [2, 5, 8, 9]
    assert SCRIPT[forms[0][1]:forms[0][2]].startswith("(module")
    assert SCRIPT[forms[0][1]:forms[0][2]].endswith("(local.get 1))))")


@pytest.mark.skipif(not shutil.which("wast2json"), reason="wast2json is not installed")
def test_convert_renames_outside_strings_and_drops_unparsable(tmp_path: Path) -> None:
    src = tmp_path / "t.wast"
    src.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    err, dropped = run_external.convert(src, out)
    assert err and not dropped  # the old name and the "+0x0f" lane index
    err, dropped = run_external.convert(src, out, old_names=True)
    assert "+0x0f" in err and not dropped
    err, dropped = run_external.convert(src, out, old_names=True, drop=True)
    assert err == "" and dropped == [8]
    text = (out / "t" / "t.wast").read_text(encoding="utf-8")
    assert "(i8x16.swizzle (local.get 0)" in text  # the instruction is renamed ...
    assert '(export "v8x16.swizzle")' in text  # ... the names are not
    assert text.count("\n") == SCRIPT.count("\n")  # line numbers kept
    assert (out / "t" / "t.json").is_file()
