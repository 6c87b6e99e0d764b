#!/usr/bin/env python3
"""Fetch the WebAssembly spec test suite and convert it for tests/spec/spec_run.

    python tests/spec/fetch.py [--cache DIR] [--setup-apt]

Source: the .wast scripts in test/spec/ of Debian's `binaryen` source package (bookworm:
108-1), fetched with `apt-get source --download-only binaryen` (needs a deb-src line;
--setup-apt adds one for the mirror this machine uses and runs apt-get update, as root).
Each script is converted by wast2json (Debian's wabt) into DIR/json/<name>/<name>.json plus
its .wasm modules.  Nothing of the suite is committed; DIR defaults to $EXN_SPEC_CACHE or
build/spec (git-ignored).

Binaryen carries its own copy of the suite: the core scripts of its time, some in the text
syntax of before 2019, plus proposals outside WebAssembly 2.0 and tests of its own parser.
So each file is either
  - excluded, with the reason (a proposal outside 2.0, binaryen's own syntax or parser tests),
  - converted, after the purely syntactic rewrites listed in REWRITES (an old spelling of the
    same assertion; the module binaries are exactly what wast2json makes of the text), or
  - unconvertible: wast2json 1.0.32 rejects the text; listed with its first error.
DIR/manifest.json lists every file with its status, so nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PACKAGE = "binaryen"
SOURCES_FILE = Path("/etc/apt/sources.list.d/exn-spec-debsrc.sources")

# Files outside WebAssembly 2.0, or not spec scripts at all, in the order they are matched.
EXCLUDED: list[tuple[str, str]] = [
    ("*.fail.wast", "binaryen's own text-parser failure test, not a spec script"),
    ("old_*.wast", "pre-1.0 text syntax; the same tests in current syntax are in the suite"),
    *[(f"{n}64.wast", "proposal outside 2.0: memory64") for n in (
        "address", "align", "bulk-memory", "endianness", "float_memory", "load", "memory",
        "memory_grow", "memory_redundancy", "memory_trap", "resizing")],
    ("atomics.wast", "proposal outside 2.0: threads"),
    ("exception-handling.wast", "proposal outside 2.0: exception handling"),
    ("tags.wast", "proposal outside 2.0: exception handling"),
    ("unwind.wast", "proposal outside 2.0: exception handling"),
    ("array.wast", "proposal outside 2.0: gc"),
    ("struct.wast", "proposal outside 2.0: gc"),
    ("i31.wast", "proposal outside 2.0: gc"),
    ("ref_cast.wast", "proposal outside 2.0: gc"),
    ("ref_eq.wast", "proposal outside 2.0: gc"),
    ("br_on_null.wast", "proposal outside 2.0: function-references"),
    ("ref_as_non_null.wast", "proposal outside 2.0: function-references"),
    ("call_ref.wast", "proposal outside 2.0: function-references"),
    ("elem_reftypes.wast", "proposal outside 2.0: function-references (typed tables)"),
    ("tuples.wast", "binaryen's own tuple text syntax (tuple.make), not a spec script"),
    ("multivalue.wast", "binaryen's own tuple text syntax (tuple.make); multi-value is "
                        "covered by block.wast, call.wast, func.wast, ..."),
]

REWRITES = """\
- (assert_return_canonical_nan A) / (assert_return_arithmetic_nan A), the spelling before
  2019, become (assert_return A (T.const nan:canonical|arithmetic)); T is the action's result
  type as wast2json reports it when it type-checks the script.
- an assertion without its message string gets "" (binaryen's copies drop some); runners do
  not compare trap messages anyway.
- (ref null func) / (ref null extern) become funcref / externref (the same type, spelled as
  in function-references).
- elem.wast only (the MVP-era script): (elem X offset f*) with X a table index or name, the
  MVP spelling, becomes (elem (table X) offset func f*); in 2.0 text X would name the segment.
- simd.wast (binaryen's own SIMD script; the package has no simd_*.wast of the spec suite):
  a (v128.const SHAPE lane*) whose lane count does not fit SHAPE - 164 of them, e.g.
  (v128.const i32x4 1 1 1 1 1 1 1 1) for eight i16 lanes - gets the integer shape of its
  count, as binaryen's parser reads it; the float literal spelled infinity becomes inf.
- simd.wast: an expected float lane `nan` or `-nan` of f32x4/f64x2 add, sub, mul, div, sqrt,
  min, max, ceil, floor, trunc, nearest becomes nan:canonical: the spec leaves the sign of
  such a NaN result open (4.3.3, nans_N), binaryen's test expects its own interpreter's +nan
  (the other lanes and every other instruction are compared exactly, as written)."""

MESSAGE_COMMANDS = {"assert_trap", "assert_exhaustion", "assert_invalid", "assert_malformed",
                    "assert_unlinkable", "assert_uninstantiable"}


# ---- a small s-expression reader that keeps atoms and strings as written ------------------------

TOKEN = re.compile(r'''\(|\)|"(?:[^"\\]|\\.)*"|[^\s()";]+''', re.S)


def strip_comments(text: str) -> str:
    """Blank out ;; line comments and (; ;) block comments (which nest), keeping strings and
    every newline, so that positions keep their line numbers."""
    out = []
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        out.append("".join("\n" if ch == "\n" else " " for ch in text[a:b]))

    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith(";;", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("(;", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("(;", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith(";)", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


Node = "str | list[Node]"


def parse(text: str) -> tuple[list, list[int]]:
    """Top-level forms of a script as nested lists of token strings, and the line each
    form starts on."""
    stack: list[list] = [[]]
    lines: list[int] = []
    text = strip_comments(text)
    line, pos = 1, 0
    for m in TOKEN.finditer(text):
        tok = m.group(0)
        if tok == "(":
            if len(stack) == 1:
                line += text.count("\n", pos, m.start())
                pos = m.start()
                lines.append(line)
            stack.append([])
        elif tok == ")":
            if len(stack) == 1:
                raise ValueError("unbalanced ')'")
            node = stack.pop()
            stack[-1].append(node)
        else:
            stack[-1].append(tok)
    if len(stack) != 1:
        raise ValueError("unbalanced '('")
    if len(lines) != len(stack[0]):
        raise ValueError("an atom outside any form")
    return stack[0], lines


def show(node) -> str:
    if isinstance(node, str):
        return node
    return "(" + " ".join(show(x) for x in node) + ")"


def rewrite_types(node):
    """(ref null func) -> funcref, (ref null extern) -> externref, anywhere."""
    if isinstance(node, str):
        return node
    if node in (["ref", "null", "func"], ["ref", "null", "extern"]):
        return node[2] + "ref"
    return [rewrite_types(x) for x in node]


V128_SHAPES = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2}
V128_BY_COUNT = {n: shape for shape, n in V128_SHAPES.items()}


def rewrite_v128_const(node):
    """(v128.const i32x4 a b c d e f g h) -> (v128.const i16x8 ...): the shape of the count;
    infinity -> inf in float lanes."""
    if isinstance(node, str):
        return node
    if len(node) >= 2 and node[0] == "v128.const" and isinstance(node[1], str):
        lanes = [("inf" if x == "infinity" else "-inf" if x == "-infinity" else x)
                 if isinstance(x, str) else x for x in node[2:]]
        shape = node[1]
        if shape in V128_SHAPES and len(lanes) != V128_SHAPES[shape] and len(lanes) in V128_BY_COUNT:
            shape = V128_BY_COUNT[len(lanes)]
        return ["v128.const", shape, *lanes]
    return [rewrite_v128_const(x) for x in node]


NAN_RESULT_OPS = re.compile(r'^"f(32x4|64x2)\.(add|sub|mul|div|sqrt|min|max|ceil|floor|trunc|nearest)"$')


def rewrite_nan_lanes(form):
    """(assert_return (invoke "f32x4.add" ...) (v128.const f32x4 nan ...)): nan -> nan:canonical."""
    if not (len(form) >= 3 and form[0] == "assert_return" and isinstance(form[1], list)
            and len(form[1]) >= 2 and form[1][0] == "invoke" and isinstance(form[1][1], str)
            and NAN_RESULT_OPS.match(form[1][1])):
        return form
    out = form[:2]
    for e in form[2:]:
        if isinstance(e, list) and len(e) >= 2 and e[0] == "v128.const" and e[1] in ("f32x4", "f64x2"):
            e = e[:2] + ["nan:canonical" if x in ("nan", "-nan", "+nan") else x for x in e[2:]]
        out.append(e)
    return out


def is_offset(node) -> bool:
    return isinstance(node, list) and bool(node) and node[0] in (
        "offset", "i32.const", "global.get", "get_global")


def rewrite_mvp_elem(node):
    """(elem X offset f*) -> (elem (table X) offset func f*) inside modules."""
    if isinstance(node, str):
        return node
    if (len(node) >= 3 and node[0] == "elem" and isinstance(node[1], str)
            and is_offset(node[2])):
        return ["elem", ["table", node[1]], node[2], "func", *node[3:]]
    return [rewrite_mvp_elem(x) for x in node]


def rewrite_form(form, nan_types: dict[int, str], index: int,
                 mvp_elem: bool = False) -> tuple[object, bool]:
    """One top-level form; returns (form, is_nan_assertion)."""
    form = rewrite_types(form)
    form = rewrite_v128_const(form)
    if isinstance(form, list):
        form = rewrite_nan_lanes(form)
    if mvp_elem:
        form = rewrite_mvp_elem(form)
    if not isinstance(form, list) or not form or not isinstance(form[0], str):
        return form, False
    head = form[0]
    if head in ("assert_return_canonical_nan", "assert_return_arithmetic_nan"):
        kind = head.rsplit("_", 2)[1]
        t = nan_types.get(index, "f32")
        return ["assert_return", *form[1:], [f"{t}.const", f"nan:{kind}"]], True
    if head in MESSAGE_COMMANDS and not (isinstance(form[-1], str) and form[-1].startswith('"')):
        return [*form, '""'], False
    return form, False


# ---- fetching ------------------------------------------------------------------------------------

def setup_apt() -> None:
    """Add a deb-src line for the machine's Debian mirror and refresh the package lists."""
    uri, suite = "http://deb.debian.org/debian", "bookworm"
    for src in [Path("/etc/apt/sources.list.d/debian.sources")]:
        if src.exists():
            m = re.search(r"^URIs:\s*(\S+)", src.read_text(), re.M)
            if m:
                uri = m.group(1)
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    SOURCES_FILE.write_text(f"Types: deb-src\nURIs: {uri}\nSuites: {suite}\nComponents: main\n"
                            f"Signed-By: {keyring}\n")
    subprocess.run(["apt-get", "update", "-qq"], check=True)


def fetch_tarball(dl: Path) -> Path:
    """The binaryen .orig tarball, downloaded with apt-get source unless already in dl."""
    found = sorted(dl.glob(f"{PACKAGE}_*.orig.tar.*"))
    if not found:
        dl.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["apt-get", "source", "--download-only", PACKAGE], cwd=dl,
                           capture_output=True, text=True)
        found = sorted(dl.glob(f"{PACKAGE}_*.orig.tar.*"))
        if r.returncode or not found:
            raise RuntimeError(
                "apt-get source --download-only binaryen failed (a deb-src line is needed; "
                "run this script with --setup-apt as root):\n" + (r.stderr or r.stdout)[-2000:])
    return found[-1]


def extract_wast(tarball: Path, dest: Path) -> list[str]:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    names = []
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            # <top>/test/spec/<name>.wast only: no subdirectories in this package
            if (member.isfile() and len(parts) == 4 and parts[1:3] == ["test", "spec"]
                    and parts[3].endswith(".wast")):
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                (dest / parts[3]).write_bytes(data)
                names.append(parts[3])
    return sorted(names)


def excluded_reason(name: str) -> str | None:
    for pattern, reason in EXCLUDED:
        if fnmatch.fnmatch(name, pattern):
            return reason
    return None


MISMATCH = re.compile(r":(\d+):\d+: error: type mismatch for result 0 of action\. "
                      r"got f(?:32|64), expected (f32|f64)")


def convert(src: Path, out_dir: Path, wast2json: str) -> tuple[bool, str, bool]:
    """Rewrite and convert one script.  Returns (ok, first error, rewritten)."""
    try:
        forms, form_lines = parse(src.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        return False, f"cannot read the script: {e}", False
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    stem = src.name[:-len(".wast")]
    # every form is written on one line, the line it starts on in the original script, so the
    # line numbers wast2json puts in the JSON are those of binaryen's file
    nan_types: dict[int, str] = {}
    for _attempt in range(3):
        out, line, nan_lines, changed = [], 1, set(), False
        for i, form in enumerate(forms):
            new, is_nan = rewrite_form(form, nan_types, i, mvp_elem=stem == "elem")
            if is_nan:
                nan_lines.add(form_lines[i])
            changed |= new != form
            if form_lines[i] > line:
                out.append("\n" * (form_lines[i] - line))
                line = form_lines[i]
            out.append(show(new) + " ")
        script = out_dir / f"{stem}.wast"
        script.write_text("".join(out) + "\n", encoding="utf-8")
        r = subprocess.run([wast2json, script.name, "-o", f"{stem}.json"], cwd=out_dir,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return True, "", changed
        fixes = {int(m.group(1)): m.group(2) for m in MISMATCH.finditer(r.stderr)}
        fixes = {ln: t for ln, t in fixes.items() if ln in nan_lines}
        if not fixes:
            break
        for i, ln in enumerate(form_lines):
            if ln in fixes:
                nan_types[i] = fixes[ln]
    first = next((ln for ln in r.stderr.splitlines() if "error" in ln), r.stderr.strip())
    return False, first.split(": error: ", 1)[-1][:200], False


def build(cache: Path, wast2json: str) -> dict:
    tarball = fetch_tarball(cache / "dl")
    sha = hashlib.sha256(tarball.read_bytes()).hexdigest()
    version = subprocess.run([wast2json, "--version"], capture_output=True,
                             text=True).stdout.strip()
    # the conversion is rebuilt when the tarball, this script or wast2json changes
    key = hashlib.sha256(f"{sha} {version} ".encode() + Path(__file__).read_bytes()).hexdigest()
    manifest_path = cache / "manifest.json"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        if old.get("key") == key:
            return old
    names = extract_wast(tarball, cache / "wast")
    shutil.rmtree(cache / "json", ignore_errors=True)
    files = []
    for name in names:
        entry: dict = {"name": name[:-len(".wast")]}
        reason = excluded_reason(name)
        if reason:
            entry.update(status="excluded", reason=reason)
        else:
            ok, err, rewritten = convert(cache / "wast" / name, cache / "json" / entry["name"],
                                         wast2json)
            if ok:
                entry.update(status="ok", rewritten=rewritten,
                             json=f"json/{entry['name']}/{entry['name']}.json")
            else:
                entry.update(status="unconvertible", reason=f"wast2json: {err}")
        files.append(entry)
    manifest = {"key": key, "package": PACKAGE, "tarball": tarball.name, "sha256": sha,
                "wast2json": version, "rewrites": REWRITES, "files": files}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def default_cache() -> Path:
    return Path(os.environ.get("EXN_SPEC_CACHE") or ROOT / "build" / "spec")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=default_cache())
    ap.add_argument("--setup-apt", action="store_true",
                    help="add a deb-src line and run apt-get update (root) before fetching")
    args = ap.parse_args()
    wast2json = shutil.which("wast2json")
    if not wast2json:
        print("wast2json not found (apt-get install wabt)", file=sys.stderr)
        return 1
    if args.setup_apt:
        setup_apt()
    try:
        manifest = build(args.cache, wast2json)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    for f in manifest["files"]:
        counts[f["status"]] = counts.get(f["status"], 0) + 1
        if f["status"] != "ok":
            print(f"{f['status']:>13}  {f['name']}: {f['reason']}")
    print(f"{args.cache}/manifest.json: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
