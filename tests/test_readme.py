"""Every Python example of README.md runs, from the repository root, and prints what its
`# -> ...` comments say (text after two spaces and a parenthesis is a remark).  A block
marked `doctest: skip` is not run (e.g. a setup.py)."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
import warnings
from pathlib import Path

import pytest

from conftest import ROOT, needs_source

README = ROOT / "README.md"
BLOCKS = (re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
          if README.is_file() else [])  # a copy of tests/ has no README beside it


def expected_lines(code: str):
    out = []
    for line in code.splitlines():
        m = re.search(r"#\s*->\s*(.*?)(\s{2,}\(.*\))?\s*$", line)
        if m:
            out.append(m.group(1))
    return out


@needs_source
@pytest.mark.skipif(not BLOCKS, reason="no README.md beside tests/")
@pytest.mark.parametrize("code", BLOCKS or [""], ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example(code, monkeypatch):
    if "doctest: skip" in code:
        pytest.skip("not meant to run here")
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    namespace = {"__name__": "__readme__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), namespace)
        namespace.clear()  # what the example left open is collected now
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == [], "the example leaves files or sockets open"
    printed = out.getvalue().splitlines()
    for want in expected_lines(code):
        assert want in printed, f"README says {want!r}; the example printed {printed}"
