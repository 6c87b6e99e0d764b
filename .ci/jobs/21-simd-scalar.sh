#!/usr/bin/env bash
# wasm3's SIMD operations built as plain C only (EXN_WASM3_SIMD_SCALAR: the path of compilers
# without GCC/Clang vector extensions, e.g. MSVC, and of big-endian hosts), checked against the
# lane model of tests/unit/test_simd.py like the default build.
set -euo pipefail
start=$(date +%s)
venv=build/ci-simd-scalar-venv
rm -rf "$venv"
python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q '.[test]' -C cmake.define.EXN_WASM3_SIMD_SCALAR=ON \
    -C build-dir=build/ci-simd-scalar
echo "built in $(( $(date +%s) - start )) s"
# python/extism_native is not importable from the root: the scalar install is what runs
"$venv/bin/python" -X dev -m pytest tests/unit/test_simd.py -q -p no:cacheprovider
