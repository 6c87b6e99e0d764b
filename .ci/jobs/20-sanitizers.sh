#!/usr/bin/env bash
# The whole test suite on an AddressSanitizer + UndefinedBehaviorSanitizer build of the core
# (STYLE.md section 7).  The sanitizer runtimes are preloaded into Python; leak checking is left
# to the C-only tests (Python itself "leaks" by design at exit).  Any report fails the run.
set -euo pipefail
start=$(date +%s)
venv=build/ci-sanitize-venv
rm -rf "$venv"
python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q '.[test]' -C cmake.define.EXN_SANITIZE="address,undefined" \
    -C cmake.define.EXN_WERROR=ON -C cmake.build-type=RelWithDebInfo -C build-dir=build/ci-sanitize
echo "built in $(( $(date +%s) - start )) s"
export EXN_SANITIZE=address,undefined
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# the stress test of issue 14 (threads x calls x close x cancel x host functions keeping views)
# runs a few thousand rounds here (tests/regression/test_stress.py; the C hammer runs among the
# C tests)
export EXN_STRESS_ROUNDS=2000
# python/extism_native is not importable from the root: the sanitized install is what runs
"$venv/bin/python" -X dev -m pytest tests -q -p no:cacheprovider
