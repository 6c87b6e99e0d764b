#!/usr/bin/env bash
# The compiled tier (csrc/engine/native/, issue 16): its C test and the engine-interface test on
# an AddressSanitizer + UndefinedBehaviorSanitizer build, with the generated code built with
# UBSan too (EXTISM_NATIVE_SANITIZE); differential fuzzing of the two engines on that build; the
# whole Python suite with EXTISM_NATIVE_TIER=native; the spec suite on the compiled tier against
# wasm3's failures (tests/native/test_native_tier.py, EXN_SPEC=1).  The compiled modules are
# cached under build/ (EXTISM_NATIVE_CACHE_DIR), so a second run is mostly cache hits.
set -euo pipefail
SUDO=${SUDO:-}
$SUDO apt-get install -y -qq gcc wabt cmake ninja-build >/dev/null
export EXTISM_NATIVE_CACHE_DIR="$PWD/build/ci-native-cache"
start=$(date +%s)
cmake -S . -B build/ci-native-asan -G Ninja -DEXN_TESTING=ON -DEXN_WERROR=ON -DEXN_SHARED=OFF \
    -DEXN_SANITIZE=address,undefined >/dev/null
cmake --build build/ci-native-asan -j2 --target test_native test_engine diff_engines >/dev/null
echo "sanitizer build in $(( $(date +%s) - start )) s"
start=$(date +%s)
(
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export EXTISM_NATIVE_SANITIZE=undefined,float-cast-overflow
  build/ci-native-asan/tests/native/test_native
  build/ci-native-asan/tests/c/test_engine
  python3 tests/native/fuzz_diff.py --runner build/ci-native-asan/tests/native/diff_engines \
      --seconds 120 --crashes build/ci-native-diffs
)
echo "sanitized tests and fuzzing in $(( $(date +%s) - start )) s"
start=$(date +%s)
venv=build/ci-native-venv
rm -rf "$venv"
python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q '.[test]' -C cmake.define.EXN_WERROR=ON -C build-dir=build/ci-native
EXTISM_NATIVE_TIER=native "$venv/bin/python" -X dev -m pytest tests -q -p no:cacheprovider \
    --ignore=tests/spec --ignore=tests/native
echo "suite on the compiled tier in $(( $(date +%s) - start )) s"
start=$(date +%s)
$SUDO python3 tests/spec/fetch.py --setup-apt
EXN_SPEC=1 python3 -m pytest tests/native -q -p no:cacheprovider
echo "spec suite on the compiled tier in $(( $(date +%s) - start )) s"
