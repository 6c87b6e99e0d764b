#!/usr/bin/env python3
"""Build the test plugins into tests/plugins/wasm/ from their committed sources.

    python tests/plugins/build.py          # rebuild everything, rewrite SOURCES.md
    python tests/plugins/build.py --check  # rebuild into a temp dir; fail if any committed
                                           # .wasm differs byte for byte

Toolchains (Debian bookworm): clang lld wasi-libc libclang-rt-14-dev-wasm32 (C, with our kit
c/extism_pdk.h), rustc libstd-rust-dev-wasm32 (/usr/bin/rustc: no-std Rust with rust/pdk.rs,
and Rust std for wasm32-wasi), wabt (wat2wasm).  Builds run in this directory with relative paths and no debug information,
so the bytes do not depend on where the repository is.
"""

from __future__ import annotations

import argparse
import os
import filecmp
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Tuple

HERE = Path(__file__).resolve().parent
OUT = HERE / "wasm"
APT = "apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32 wabt"

CLANG = ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-O2",
         "-Wall", "-Wextra", "-Werror", "-Wl,--strip-all"]
RUSTC = ["/usr/bin/rustc", "--edition", "2021", "--target", "wasm32-unknown-unknown",
         "--crate-type", "cdylib", "-C", "opt-level=s", "-C", "panic=abort", "-C", "strip=symbols",
         "-C", "debuginfo=0"]
# no_std Rust that keeps its "name" section (symbols for wasm backtraces) and "producers" section
RUSTC_NAMED = [a if a != "strip=symbols" else "strip=debuginfo" for a in RUSTC]
# WASI programs: a C command (main through _start) and Rust std for wasm32-wasi
CLANG_COMMAND = [a for a in CLANG if a != "-mexec-model=reactor"]
RUSTC_WASI = ["/usr/bin/rustc", "--edition", "2021", "--target", "wasm32-wasi", "-C", "opt-level=s",
              "-C", "strip=symbols", "-C", "debuginfo=0"]
WAT2WASM = ["wat2wasm", "--debug-names"]


def wat_flags(wat: Path) -> List[str]:
    """Extra wat2wasm options a WAT source asks for on its first line, e.g.
    `;; wat2wasm: --enable-tail-call` (proposals wabt does not enable by default)."""
    first = wat.read_text().split("\n", 1)[0]
    prefix = ";; wat2wasm:"
    if not first.startswith(prefix):
        return []
    flags = first[len(prefix):].split()
    bad = [f for f in flags if not f.startswith("--enable-") and f != "--no-check"]
    if bad:
        sys.exit(f"{wat.name}: only --enable-* and --no-check may be given, not {bad}")
    return flags


def targets() -> Dict[str, Tuple[List[str], Callable[[Path], List[str]], str]]:
    """output name -> (sources, command building it at the given path, toolchain)."""
    out: Dict[str, Tuple[List[str], Callable[[Path], List[str]], str]] = {
        "kitchen.wasm": (["c/kitchen.c", "c/extism_pdk.h"],
                         lambda o: CLANG + ["-o", str(o), "c/kitchen.c"], "clang"),
        "rust_plugin.wasm": (["rust/plugin.rs", "rust/pdk.rs"],
                             lambda o: RUSTC + ["rust/plugin.rs", "-o", str(o)], "rustc"),
        "backtrace_rust.wasm": (["rust/backtrace.rs", "rust/pdk.rs"],
                                lambda o: RUSTC_NAMED + ["rust/backtrace.rs", "-o", str(o)],
                                "rustc"),
        "backtrace_rust_v0.wasm": (["rust/backtrace.rs", "rust/pdk.rs"],
                                   lambda o: RUSTC_NAMED + ["-C", "symbol-mangling-version=v0",
                                                            "rust/backtrace.rs", "-o", str(o)],
                                   "rustc"),
        "wasi_cmd.wasm": (["c/wasi_cmd.c"],
                          lambda o: CLANG_COMMAND + ["-o", str(o), "c/wasi_cmd.c"], "clang"),
        "wasi_reactor.wasm": (["c/wasi_reactor.c", "c/extism_pdk.h"],
                              lambda o: CLANG + ["-o", str(o), "c/wasi_reactor.c"], "clang"),
        "simd_bench.wasm": (["c/simd_bench.c", "c/extism_pdk.h"],
                            lambda o: CLANG + ["-msimd128", "-o", str(o), "c/simd_bench.c"], "clang"),
        "wasi_std.wasm": (["rust/wasi_std.rs"],
                          lambda o: RUSTC_WASI + ["rust/wasi_std.rs", "-o", str(o)], "rustc"),
    }
    for wat in sorted((HERE / "wat").glob("*.wat")):
        rel = f"wat/{wat.name}"
        flags = wat_flags(wat)
        out[wat.stem + ".wasm"] = ([rel], lambda o, rel=rel, flags=flags:
                                   WAT2WASM + flags + [rel, "-o", str(o)], "wat2wasm")
    return out


def version(tool: str) -> str:
    cmd = {"clang": ["clang", "--version"], "rustc": ["/usr/bin/rustc", "--version"],
           "wat2wasm": ["wat2wasm", "--version"]}[tool]
    return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()


def build_env(tools_dir: Path) -> Dict[str, str]:
    """The environment of the builds: a PATH on which binaryen's wasm-opt cannot be found
    (clang runs it on its output when it finds one, and the bytes would depend on it).  The
    tools we need from directories that also hold wasm-opt are linked into `tools_dir`."""
    env = dict(os.environ)
    dirs = env.get("PATH", "").split(os.pathsep)
    tainted = [d for d in dirs if (Path(d) / "wasm-opt").exists()]
    if not tainted:
        return env
    for tool in ("clang", "wasm-ld", "wat2wasm"):
        found = shutil.which(tool)
        if found:
            (tools_dir / tool).symlink_to(found)
    kept = [d for d in dirs if d not in tainted]
    env["PATH"] = os.pathsep.join([str(tools_dir)] + kept)
    return env


def check_tools() -> None:
    missing = [t for t in ("clang", "/usr/bin/rustc", "wat2wasm", "wasm-ld")
               if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: {APT}")


def build_all(out_dir: Path) -> Dict[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    commands = {}
    tools = Path(tempfile.mkdtemp(prefix="exn-tools-"))
    env = build_env(tools)
    for name, (sources, command, _) in targets().items():
        cmd = command(out_dir / name)
        result = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            sys.exit(f"building {name} failed:\n$ {' '.join(cmd)}\n{result.stdout}{result.stderr}")
        commands[name] = " ".join(command(Path("wasm") / name))
    shutil.rmtree(tools, ignore_errors=True)
    return commands


def write_sources(commands: Dict[str, str]) -> None:
    lines = ["# Test plugins", "",
             "Built by `python tests/plugins/build.py` from the sources below (all written for "
             "this project).", "", "| wasm | sources | toolchain | command | sha256 |",
             "|---|---|---|---|---|"]
    versions = {t: version(t) for t in ("clang", "rustc", "wat2wasm")}
    for name, (sources, _, tool) in targets().items():
        digest = hashlib.sha256((OUT / name).read_bytes()).hexdigest()
        lines.append(f"| {name} | {', '.join(sources)} | {versions[tool]} | `{commands[name]}` "
                     f"| `{digest}` |")
    (OUT / "SOURCES.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare a fresh build with the "
                                                          "committed files")
    args = ap.parse_args()
    check_tools()
    if not args.check:
        commands = build_all(OUT)
        write_sources(commands)
        print(f"built {len(commands)} plugins into {OUT}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        build_all(fresh)
        stale = [name for name in targets()
                 if not (OUT / name).exists() or not filecmp.cmp(fresh / name, OUT / name,
                                                                 shallow=False)]
    if stale:
        sys.exit("committed test plugins differ from a fresh build: " + ", ".join(stale) +
                 " (run python tests/plugins/build.py and commit)")
    print(f"ok: {len(targets())} committed test plugins rebuild byte for byte")


if __name__ == "__main__":
    main()
