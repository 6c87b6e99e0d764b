#!/usr/bin/env bash
# 50-api: the C API and the drop-in, required rather than skipped (EXN_API=1).
#  1. tests/api with Cython installed: a Cython extension, a C program and a ctypes script on
#     libextism_native, the CLI, the extism_sys shim under the official package.
#  2. As a new user would, in a fresh venv: pip install this tree, pip install --no-deps the
#     official extism 1.1.1, install the shim, run the official package's usage on it; then a
#     plain `pip install extism==1.1.1` must accept the shim (no Rust runtime fetched).
set -euo pipefail

python3 -m pip install -q cython setuptools
EXN_API=1 python3 -X dev -m pytest tests/api -q -p no:cacheprovider

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q . pytest
"$py" -m pip install -q --no-deps "extism==1.1.1"
"$py" -m extism_native install-extism-sys
"$py" -m pip check
"$py" -m pip install -q "extism==1.1.1"
"$py" -m pip list 2>/dev/null | grep -i '^extism[-_]sys .*extism.native' # still the shim
(cd "$work" && "$py" -c 'import extism_sys; assert extism_sys.EXTISM_NATIVE_SHIM')
EXN_API=1 EXN_SHIM_INSTALLED=1 "$py" -X dev -m pytest tests/api/test_extism_sys.py -q \
    -p no:cacheprovider
"$py" -m extism_native uninstall-extism-sys
(cd "$work" && ! "$py" -c 'import extism_sys' 2>/dev/null)
echo "fresh venv checks took $(( $(date +%s) - start )) s"
