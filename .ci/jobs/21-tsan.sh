#!/usr/bin/env bash
# ThreadSanitizer on the C core: tests/c/test_hammer.c (threads x calls x close x cancel x host
# functions calling other plugins) for a few thousand rounds, and the other C tests.  wasm3
# itself is not instrumented (CMakeLists.txt).  Any report fails the run.
set -euo pipefail
start=$(date +%s)
build=build/ci-tsan
cmake -S . -B "$build" -G Ninja -DEXN_SANITIZE=thread -DEXN_TESTING=ON -DEXN_WERROR=ON \
      -DEXN_PYTHON=OFF -DEXN_SHARED=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --parallel 2 --target test_hammer test_core
echo "built in $(( $(date +%s) - start )) s"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
"$build/tests/c/test_hammer" 3000
"$build/tests/c/test_core"
echo "tsan: passed in $(( $(date +%s) - start )) s"
