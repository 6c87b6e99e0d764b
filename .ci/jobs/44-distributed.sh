#!/usr/bin/env bash
# A real distributed engine: Dask (`distributed` from PyPI) in a venv of its own with this
# package built from the checkout; tests/dask_cluster starts a LocalCluster with 2 worker
# processes, maps plugin calls over 1,000 inputs with the plugins shipped by pickling, and runs
# README's "Many processes and machines" recipe.  The pickling and spawn process-pool tests
# (tests/unit/test_pickle.py) run here too, and in the regular suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
step() { echo "-- $1 ($(( $(date +%s) - t0 )) s)"; }

step "venv with distributed, pytest and this package"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "distributed" pytest hypothesis
"$work/venv/bin/pip" install -q --disable-pip-version-check -C build-dir=build/ci-distributed .
"$work/venv/bin/python" -c 'import distributed, extism_native; print("distributed",
distributed.__version__, "| extism_native from", extism_native.__file__)'

step "tests/dask_cluster and tests/unit/test_pickle.py (from outside the checkout)"
cd "$work"
EXN_REQUIRE_DISTRIBUTED=1 "$work/venv/bin/python" -m pytest "$repo/tests/dask_cluster" "$repo/tests/unit/test_pickle.py" \
    -q -ra -p no:cacheprovider -o faulthandler_timeout=600
step "done"
