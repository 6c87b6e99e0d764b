#!/usr/bin/env bash
# PyPy: Debian's pypy3 (PyPy 7.3, Python 3.9, its own built-in cffi) builds a wheel of this
# tree (tagged for PyPy, not abi3), installs it into a PyPy venv, and the test suite passes
# there, the side-by-side tests with the official `extism` package included.  It runs from a
# copy of tests/ (the C tests skip: they do not involve Python).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
step() { echo "-- $1 ($(( $(date +%s) - t0 )) s)"; }

step "Debian's pypy3"
$SUDO apt-get install -y -qq --no-install-recommends pypy3 pypy3-dev pypy3-venv >/dev/null
pypy3 --version

step "build a PyPy wheel (its own tags, not abi3) and install it into a PyPy venv"
pypy3 -m venv "$work/venv"
# pip 23.0 of Debian's pypy3-venv: --config-settings, not -C
"$work/venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$work/dist" \
    --config-settings=build-dir="$work/build" .
wheel=$(ls "$work"/dist/extism_native-*.whl)
echo "built $(basename "$wheel")"
case "$(basename "$wheel")" in
  *-pp39-pypy39_pp73-*) ;;
  *) echo "FAIL: expected a pp39-pypy39_pp73 wheel"; exit 1 ;;
esac
"$work/venv/bin/pip" install -q --disable-pip-version-check "$wheel" pytest hypothesis \
    "extism==1.1.1"
mkdir "$work/suite"
cp -r tests "$work/suite/tests"
cd "$work/suite"
"$work/venv/bin/python" - "$work/venv" <<'EOF'
import os, sys
import extism_native
assert sys.implementation.name == "pypy", sys.implementation
venv = os.path.realpath(sys.argv[1])
here = os.path.realpath(extism_native.__file__)
assert here.startswith(venv + os.sep), f"extism_native imported from {here}, not the venv"
print("extism_native from", here)
EOF

step "test suite on PyPy"
"$work/venv/bin/python" -X dev -m pytest tests -q -p no:cacheprovider -ra \
    -o faulthandler_timeout=300
step "done"
