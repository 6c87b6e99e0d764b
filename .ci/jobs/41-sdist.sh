#!/usr/bin/env bash
# The sdist builds from its own contents: build the sdist, check it holds every tracked file it
# should (and no benchmarks, CI files or build output), unpack it outside the repository (no
# git), build a wheel there offline (no index, no build isolation, in a network namespace of its
# own when `unshare -n` works) with the build requirements preinstalled, then install that wheel
# into a fresh venv and run the unpacked sdist's tests that need its source tree against it (the
# C tests included: the sdist is a source tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
step() { echo "-- $1 ($(( $(date +%s) - t0 )) s)"; }

step "build the sdist"
"$PY" -m venv "$work/tools"
"$work/tools/bin/pip" install -q --disable-pip-version-check build
"$work/tools/bin/python" -m build --sdist -o "$work/sdist" . >"$work/sdist.log" ||
  { cat "$work/sdist.log"; exit 1; }
sdist=$(ls "$work"/sdist/extism_native-*.tar.gz)
echo "built $(basename "$sdist"): $(stat -c %s "$sdist") bytes"

step "the sdist holds the sources, tests and vendored wasm3, not bench/ or CI files"
git ls-files >"$work/tracked"
"$PY" - "$sdist" "$work/tracked" <<'EOF'
import sys, tarfile
sdist, tracked = sys.argv[1], open(sys.argv[2]).read().split()
names = tarfile.open(sdist).getnames()
top = names[0].split("/")[0]
have = {n[len(top) + 1:] for n in names if n.startswith(top + "/")}
excluded = ("bench/", ".ci/", ".github/", ".gitignore")
want = [f for f in tracked if not f.startswith(excluded)]
missing = [f for f in want if f not in have]
assert not missing, f"tracked files missing from the sdist: {missing}"
stray = sorted(f for f in have if f.startswith(excluded + ("build/", "dist/", "wheelhouse/"))
               or "__pycache__" in f)
assert not stray, f"should not be in the sdist: {stray}"
extra = sorted(have - set(tracked) - {"PKG-INFO"})
assert not extra, f"untracked files in the sdist: {extra}"
print(f"{len(have)} files: every tracked file but {', '.join(excluded)}")
EOF

step "build requirements, preinstalled (the offline build may not fetch them)"
"$PY" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check scikit-build-core "cffi>=1.17" \
    cmake ninja pytest hypothesis "extism==1.1.1"

step "wheel from the unpacked sdist: offline, no build isolation, no git"
mkdir "$work/src"
tar -xzf "$sdist" -C "$work/src"
src=$(ls -d "$work"/src/extism_native-*)
[ ! -e "$src/.git" ]
offline=()
if unshare -n true 2>/dev/null; then
  offline=(unshare -n)
  echo "building in a network namespace without network (unshare -n)"
else
  echo "unshare -n is not available: offline only by --no-index"
fi
(cd "$src" && GIT_CEILING_DIRECTORIES="$work" PIP_NO_INDEX=1 "${offline[@]}" \
    "$work/venv/bin/pip" wheel -q --disable-pip-version-check --no-index --no-build-isolation \
    --no-deps -w "$work/dist" .)
wheel=$(ls "$work"/dist/extism_native-*.whl)
echo "built $(basename "$wheel") from the sdist"

step "install it into the venv, run the sdist's test suite against it"
"$work/venv/bin/pip" install -q --disable-pip-version-check --no-index --no-deps "$wheel"
cd "$src"
"$work/venv/bin/python" - "$work/venv" <<'EOF'
import os, sys
import extism_native
venv = os.path.realpath(sys.argv[1])
here = os.path.realpath(extism_native.__file__)
assert here.startswith(venv + os.sep), f"extism_native imported from {here}, not the venv"
EOF
# the tests that need a source tree beside tests/ (C core and C API built from it, the fuzz
# regressions, the README's examples, the engine's C checks): the rest of the suite already runs
# against an installed wheel in 40-wheel, and on the tree in the README's test command
"$work/venv/bin/python" -X dev -m pytest -q -p no:cacheprovider -ra tests/test_c_core.py \
    tests/test_readme.py tests/api tests/unit/test_engine.py tests/wasi/test_portability.py \
    tests/fuzz/test_fuzz_regressions.py
cd "$root"
step "done"
