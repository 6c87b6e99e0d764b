#!/usr/bin/env python3
"""Check the layering of csrc/ (csrc/README.md, docs/ARCHITECTURE.md):

  1. no cycle between folders: folder A depends on folder B when a file of A includes a header
     of B (`#include "..."`, resolved as the compiler does: next to the file, then from csrc/);
     the folder graph must have no cycle (so no two files of different folders include each
     other, directly or through others);
  2. wasm3's headers (third_party/wasm3/source/*.h) are included only under csrc/engine/wasm3/;
  3. every .c file opens with a comment saying what it may call ("May call: ...").

    python3 .ci/check_layers.py          # exit status 1 and one line per problem
    python3 .ci/check_layers.py --graph  # print the folder graph (what depends on what)

Cheap (a regex over a few hundred files): run early in .ci/run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
WASM3 = ROOT / "third_party" / "wasm3" / "source"
WASM3_FOLDER = "engine/wasm3"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path: Path) -> str:
    """The folder of a file under csrc/ ("." for csrc/ itself, "engine/wasm3", "kernel")."""
    rel = path.parent.relative_to(CSRC)
    return str(rel).replace("\\", "/") if str(rel) != "." else "."


def resolve(including: Path, name: str) -> Path | None:
    """The file an `#include "name"` of `including` reads, or None (outside csrc/)."""
    for base in (including.parent, CSRC):
        candidate = (base / name).resolve()
        if candidate.is_file() and CSRC in candidate.parents:
            return candidate
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def main(argv: list[str]) -> int:
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}  # (from folder, to folder) -> one include doing it
    wasm3_headers = {p.name for p in WASM3.glob("*.h")}
    files = sorted(p for p in CSRC.rglob("*") if p.suffix in (".c", ".h"))
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        folder = folder_of(path)
        graph.setdefault(folder, set())
        for name in INCLUDE.findall(text):
            target = resolve(path, name)
            if target is None:
                if Path(name).name in wasm3_headers and not folder.startswith(WASM3_FOLDER):
                    problems.append(f"{rel}: includes wasm3's {name} (only csrc/{WASM3_FOLDER}/ may)")
                continue
            to = folder_of(target)
            if to != folder:
                graph[folder].add(to)
                why.setdefault((folder, to), f"{rel} includes {target.relative_to(ROOT).as_posix()}")
        if path.suffix == ".c":
            opening = text.split("*/", 1)[0] if text.lstrip().startswith("/*") else ""
            if "May call" not in opening:
                problems.append(f"{rel}: its opening comment does not say what it may call "
                                f"(\"May call: ...\")")
    cycle = find_cycle(graph)
    if cycle:
        steps = "; ".join(why[(a, b)] for a, b in zip(cycle, cycle[1:]))
        problems.append(f"folder cycle {' -> '.join(cycle)}: {steps}")
    if "--graph" in argv:
        for folder in sorted(graph):
            print(f"{folder:14} -> {', '.join(sorted(graph[folder])) or '(nothing)'}")
    for p in problems:
        print(p)
    if not problems:
        print(f"ok: {len(files)} files in {len(graph)} folders, no folder cycle, wasm3's headers "
              f"only in csrc/{WASM3_FOLDER}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
