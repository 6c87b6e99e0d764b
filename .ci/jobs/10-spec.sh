#!/usr/bin/env bash
# The WebAssembly spec test suite (tests/spec): fetch Debian's binaryen source package (a
# deb-src line is added for the machine's mirror), convert with wast2json, run every script
# in its own process and check the thresholds.  EXN_SPEC=1: failing to fetch fails the job.
set -euo pipefail
SUDO=${SUDO:-}
start=$(date +%s)
$SUDO apt-get install -y -qq wabt cmake ninja-build >/dev/null
$SUDO python3 tests/spec/fetch.py --setup-apt
echo "fetched and converted in $(( $(date +%s) - start )) s"
start=$(date +%s)
EXN_SPEC=1 python3 -m pytest tests/spec -q -rxX -p no:cacheprovider
echo "spec suite ran in $(( $(date +%s) - start )) s"
