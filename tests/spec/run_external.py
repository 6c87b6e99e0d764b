"""Run a directory of .wast scripts you have (for instance test/core/simd of a checkout of the
WebAssembly spec repository) on both engine tiers and print the per-file counts.

    python3 tests/spec/run_external.py DIR [--build build/ext] [--tier wasm3|native|both]
        [--sanitize] [--old-names] [--drop-unparsable]

Each script is converted as it is by wast2json (Debian's wabt) into BUILD/json/, then run in
its own process by spec_run (the wasm3 interpreter) and spec_native (the compiled tier), built
here with -DEXN_TESTING=ON (--sanitize: AddressSanitizer + UndefinedBehaviorSanitizer).  The
failures of every script are printed after the table.  Nothing is compared with an expected
list: this is for suites that are not fetched by tests/spec/fetch.py.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import test_spec  # noqa: E402

ROOT = HERE.parent.parent


def build(build_dir: Path, sanitize: bool) -> dict:
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    config = [test_spec._cmake(), "-S", str(ROOT), "-B", str(build_dir), *gen,
              "-DEXN_TESTING=ON", "-DEXN_SHARED=OFF", "-DEXN_PYTHON=OFF"]
    if sanitize:
        config.append("-DEXN_SANITIZE=address,undefined")
    targets = ["spec_run", "spec_native"]
    steps = [[test_spec._cmake(), "--build", str(build_dir), "--parallel", "2", "--target",
              *targets]]
    if not (build_dir / "CMakeCache.txt").exists():  # (an existing build is used as it is)
        steps.insert(0, config)
    for args in steps:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return {t: next(p for p in build_dir.rglob(t + "*") if p.is_file() and os.access(p, os.X_OK))
            for t in targets}


# --old-names: the SIMD mnemonics renamed in 2020-2021, before the proposal was merged (older
# copies of the simd_*.wast scripts use them; wast2json 1.0.32 knows only the final names).
OLD_NAMES = {
    "v8x16.swizzle": "i8x16.swizzle", "v8x16.shuffle": "i8x16.shuffle",
    "v8x16.load_splat": "v128.load8_splat", "v16x8.load_splat": "v128.load16_splat",
    "v32x4.load_splat": "v128.load32_splat", "v64x2.load_splat": "v128.load64_splat",
    "i16x8.load8x8_s": "v128.load8x8_s", "i16x8.load8x8_u": "v128.load8x8_u",
    "i32x4.load16x4_s": "v128.load16x4_s", "i32x4.load16x4_u": "v128.load16x4_u",
    "i64x2.load32x2_s": "v128.load32x2_s", "i64x2.load32x2_u": "v128.load32x2_u",
    "i8x16.any_true": "v128.any_true", "i16x8.any_true": "v128.any_true",
    "i32x4.any_true": "v128.any_true",
}
for _shape in ("i8x16", "i16x8"):
    for _op in ("add", "sub"):
        for _sign in "su":
            OLD_NAMES[f"{_shape}.{_op}_saturate_{_sign}"] = f"{_shape}.{_op}_sat_{_sign}"
for _wide, _narrow in (("i16x8", "i8x16"), ("i32x4", "i16x8"), ("i64x2", "i32x4")):
    for _half in ("low", "high"):
        for _sign in "su":
            OLD_NAMES[f"{_wide}.widen_{_half}_{_narrow}_{_sign}"] = \
                f"{_wide}.extend_{_half}_{_narrow}_{_sign}"
STRING = re.compile(r'("(?:[^"\\\n]|\\.)*")')
OLD_NAME = re.compile(r"(?<![\w.$])(" + "|".join(map(re.escape, OLD_NAMES)) + r")(?![\w.])")


def top_level_forms(text: str) -> list:
    """(first line, start, end) of every top-level s-expression, skipping strings and
    comments."""
    forms, depth, i, line, start, first = [], 0, 0, 1, 0, 1
    while i < len(text):
        c = text[i]
        if c == "\n":
            line += 1
        elif c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
        elif text.startswith(";;", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("(;", i):
            end = text.find(";)", i)
            end = len(text) if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        elif c == "(":
            if depth == 0:
                start, first = i, line
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                forms.append((first, start, i + 1))
        i += 1
    return forms


ERROR_LINE = re.compile(r":(\d+):\d+: error: ")


def convert(src: Path, out: Path, old_names: bool = False, drop: bool = False):
    """wast2json into out/STEM/.  Returns (wast2json's first error or '', the first lines of
    the forms dropped); with drop, a top-level form wast2json rejects is blanked (the line
    numbers stay) and the conversion retried."""
    d = out / src.stem
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    text = src.read_text(encoding="utf-8")
    if old_names:  # (outside string literals: export and invoke names stay as written)
        text = "".join(part if part.startswith('"') else
                       OLD_NAME.sub(lambda m: OLD_NAMES[m.group(1)], part)
                       for part in STRING.split(text))
    script = (d / src.name).resolve()
    dropped: list = []
    while True:
        script.write_text(text, encoding="utf-8")
        r = subprocess.run(["wast2json", str(script), "-o", f"{src.stem}.json"], cwd=d,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return "", dropped
        err = next((ln for ln in r.stderr.splitlines() if "error" in ln), r.stderr.strip())
        m = ERROR_LINE.search(err)
        if not drop or not m or len(dropped) >= 200:
            return err[:300], dropped
        line = int(m.group(1))
        hit = [f for f in top_level_forms(text)
               if f[0] <= line <= f[0] + text.count("\n", f[1], f[2])]
        if not hit:
            return err[:300], dropped
        first, a, b = hit[0]
        text = text[:a] + "".join(ch if ch == "\n" else " " for ch in text[a:b]) + text[b:]
        dropped.append(first)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--build", type=Path, default=ROOT / "build" / "ext")
    ap.add_argument("--tier", choices=["wasm3", "native", "both"], default="both")
    ap.add_argument("--sanitize", action="store_true")
    ap.add_argument("--drop-unparsable", action="store_true",
                    help="blank each top-level form wast2json cannot parse (reported)")
    ap.add_argument("--old-names", action="store_true",
                    help="rename the SIMD mnemonics of before 2021 (OLD_NAMES) first")
    a = ap.parse_args()
    a.build = a.build.resolve()
    if not shutil.which("wast2json"):
        sys.exit("wast2json is not installed (apt-get install wabt)")
    exes = build(a.build, a.sanitize)
    tiers = {"wasm3": exes["spec_run"], "native": exes["spec_native"]}
    if a.tier != "both":
        tiers = {a.tier: tiers[a.tier]}
    os.environ.setdefault("EXTISM_NATIVE_CACHE_DIR", str(a.build / "native-cache"))
    scripts = sorted(a.dir.glob("*.wast"))
    if not scripts:
        sys.exit(f"no .wast in {a.dir}")
    rows = ["| file | tier | assertions passed | invalid/malformed rejected | skipped | text "
            "modules | note |", "|---|---|---:|---:|---:|---:|---|"]
    details, bad = [], 0
    for src in scripts:
        err, dropped = convert(src, a.build / "json", a.old_names, a.drop_unparsable)
        if dropped:
            details.append(f"{src.stem}: {len(dropped)} form(s) dropped, wast2json cannot "
                           f"parse them: lines {', '.join(map(str, dropped))}")
        if err:
            rows.append(f"| {src.stem} | - | - | - | - | - | wast2json: {err} |")
            bad += 1
            continue
        for tier, exe in tiers.items():
            r = test_spec.run_file(exe, a.build / "json" / src.stem / f"{src.stem}.json",
                                   src.stem)
            note = f"CRASH: {r.crash}" if r.crash else ""
            if dropped:
                note += f" {len(dropped)} form(s) dropped"
            rows.append(f"| {src.stem} | {tier} | {r.passed}/{r.passed + r.failed} | "
                        f"{r.rejected}/{r.rejected + r.accepted} | {r.skipped} | {r.text} | "
                        f"{note} |")
            bad += bool(r.crash or r.failed or r.accepted or r.skipped)
            details += [f"{src.stem} [{tier}]: {f}" for f in r.failures]
    print("\n".join(rows))
    if details:
        print("\n" + "\n".join(details))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
