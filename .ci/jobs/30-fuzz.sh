#!/usr/bin/env bash
# A short libFuzzer run of every harness in tests/fuzz/ (clang, ASan + UBSan, coverage over the
# whole core incl. wasm3).  Seeds: the committed plugins and regression inputs.  A crash fails
# the job and prints the input (base64) to add under tests/fuzz/regressions/<harness>/.
# FUZZ_SECONDS sets the time per harness (default 60).
set -euo pipefail
seconds=${FUZZ_SECONDS:-60}
start=$(date +%s)
$SUDO apt-get install -y -qq clang >/dev/null
build="$PWD/build/ci-fuzz"
rm -rf "$build"
CC=clang cmake -S . -B "$build" -G Ninja -DEXN_FUZZ=ON -DEXN_PYTHON=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --parallel 2 >/dev/null
echo "built in $(( $(date +%s) - start )) s"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for exe in "$build"/tests/fuzz/fuzz_*; do
  name=$(basename "$exe")
  corpus="$work/$name"
  mkdir -p "$corpus"
  case "$name" in
    fuzz_kernel_ops) cp tests/fuzz/regressions/kernel_ops/* "$corpus"/ ;;
    *) cp tests/plugins/wasm/*.wasm tests/fuzz/regressions/plugin_new/* "$corpus"/ ;;
  esac
  echo "-- $name for $seconds s"
  if ! (cd "$work" && "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
          -max_len=65536 -print_final_stats=1 "$corpus" > "$work/$name.log" 2>&1); then
    tail -n 60 "$work/$name.log"
    for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$crash" ] && { echo "input $crash:"; base64 -w0 "$crash"; echo; }
    done
    exit 1
  fi
  grep -E "stat::number_of_executed_units|cov:" "$work/$name.log" | tail -n 2
done
