#!/usr/bin/env python3
"""Build the benchmark plugins (needs Debian's rustc and libstd-rust-dev-wasm32).

    python bench/plugins/build.py           # writes bench/plugins/big_gen.wasm
    python bench/plugins/build.py --check   # rebuilds in a temp dir and compares

big_gen.wasm: gen_big.py writes big_gen.rs (not committed), compiled for
wasm32-unknown-unknown at opt-level 1: about 1.9 MB of code and data.
"""

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUSTC = "/usr/bin/rustc"


def build(out_dir: Path) -> Path:
    if not Path(RUSTC).exists():
        sys.exit("needs /usr/bin/rustc: apt-get install rustc libstd-rust-dev-wasm32")
    subprocess.run([sys.executable, str(HERE / "gen_big.py")], check=True)
    out = out_dir / "big_gen.wasm"
    subprocess.run([RUSTC, "--edition", "2021", "--target", "wasm32-unknown-unknown",
                    "-C", "opt-level=1", "-C", "debuginfo=0", "-C", "strip=symbols",
                    "-C", "panic=abort", "--crate-type", "cdylib", "big_gen.rs", "-o", str(out)],
                   cwd=HERE, check=True)
    (HERE / "big_gen.rs").unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp))
            if not filecmp.cmp(fresh, HERE / "big_gen.wasm", shallow=False):
                sys.exit("bench/plugins/big_gen.wasm differs from a fresh build")
        print("ok: big_gen.wasm rebuilds byte for byte")
    else:
        out = build(HERE)
        print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
