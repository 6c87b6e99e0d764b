#!/usr/bin/env python3
"""Re-extract the vendored wasm3 from the PyPI sdist `pywasm3==0.5.0` and apply our patches.

    python third_party/wasm3/vendor.py extract   # rewrite source/ from the sdist + patches/
    python third_party/wasm3/vendor.py check     # verify source/ == sdist + patches/ (CI)
    python third_party/wasm3/vendor.py save NAME # write the diff between (sdist + existing
                                                 # patches) and source/ as patches/NAME.patch

The sdist is fetched with `pip download` (or taken from --sdist PATH) and verified against
the sha256 recorded below before anything is extracted.  Only the `wasm3/` folder of the
sdist is used; the MIT licence comes from the sdist's LICENSE file.  Each file in patches/
is one local change, applied in name order with `patch -p1`; its header says why.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST_NAME = "pywasm3-0.5.0.tar.gz"
SDIST_SHA256 = "5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc"
SDIST_PREFIX = "pywasm3-0.5.0/"

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
PATCHES = HERE / "patches"


def fetch_sdist(dest: Path, given: str | None) -> Path:
    """Download the sdist from PyPI (or use a local copy) and verify its sha256."""
    if given:
        path = Path(given)
    else:
        # pip knows the machine's index configuration (mirrors, certificates); PyPI's JSON
        # API is not always reachable where the simple index is.
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "-d", str(dest), "pywasm3==0.5.0"],
            check=True, stdout=subprocess.DEVNULL,
        )
        path = dest / SDIST_NAME
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        sys.exit(f"sha256 mismatch for {path}: got {digest}, expected {SDIST_SHA256}")
    return path


def extract_pristine(sdist: Path, dest: Path) -> None:
    """Unpack wasm3/*.c|h and LICENSE from the sdist into dest (no patches)."""
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name
            if name == SDIST_PREFIX + "LICENSE":
                out = dest / "LICENSE"
            elif name.startswith(SDIST_PREFIX + "wasm3/") and "/" not in name[len(SDIST_PREFIX + "wasm3/"):]:
                out = dest / name[len(SDIST_PREFIX + "wasm3/"):]
            else:
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            out.write_bytes(data)


def apply_patches(tree: Path, upto: list[Path]) -> None:
    for patch in upto:
        subprocess.run(["patch", "-s", "-p1", "--no-backup-if-mismatch", "-d", str(tree),
                        "-i", str(patch)], check=True)


def patch_list() -> list[Path]:
    return sorted(PATCHES.glob("*.patch"))


def build_tree(work: Path, sdist_arg: str | None, patches: list[Path]) -> Path:
    sdist = fetch_sdist(work, sdist_arg)
    tree = work / "tree"
    extract_pristine(sdist, tree)
    apply_patches(tree, patches)
    return tree


def same_tree(a: Path, b: Path) -> list[str]:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    return [n for n in names
            if not (a / n).is_file() or not (b / n).is_file()
            or not filecmp.cmp(a / n, b / n, shallow=False)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["extract", "check", "save"])
    ap.add_argument("name", nargs="?", help="patch name for 'save', e.g. 0007-foo")
    ap.add_argument("--sdist", help="use this local copy of pywasm3-0.5.0.tar.gz")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.command == "extract":
            tree = build_tree(work, args.sdist, patch_list())
            if SOURCE.exists():
                shutil.rmtree(SOURCE)
            shutil.copytree(tree, SOURCE)
            print(f"wrote {SOURCE} ({len(patch_list())} patches applied)")
        elif args.command == "check":
            tree = build_tree(work, args.sdist, patch_list())
            diff = same_tree(tree, SOURCE)
            if diff:
                sys.exit("third_party/wasm3/source differs from sdist + patches: " + ", ".join(diff))
            print(f"ok: source/ == pywasm3 0.5.0 sdist + {len(patch_list())} patches")
        else:
            if not args.name:
                sys.exit("save needs a patch name")
            target = PATCHES / f"{args.name}.patch"
            tree = build_tree(work, args.sdist, [p for p in patch_list() if p != target])
            (work / "a").symlink_to(tree)
            (work / "b").symlink_to(SOURCE)
            out = subprocess.run(["diff", "-ruN", "a/", "b/"], cwd=work, capture_output=True, text=True)
            if out.returncode not in (0, 1):
                sys.exit(out.stderr)
            if not out.stdout:
                sys.exit("no difference: nothing to save")
            body = re.sub(r"^((?:---|\+\+\+) [^\t\n]*)\t[^\n]*$", r"\1", out.stdout, flags=re.M)
            header = target.read_text().split("\ndiff -ruN ")[0] if target.exists() else \
                f"{args.name}: <why this change is needed>\n"
            target.write_text(header.rstrip("\n") + "\n\n" + body)
            print(f"wrote {target}; edit its header to give the reason")


if __name__ == "__main__":
    main()
