#!/usr/bin/env bash
# Linters on python/ as configured in pyproject.toml: ruff (errors, likely bugs, import order)
# and mypy (strict, except the cffi layer), and the binding's own C compiled alone with the
# core's warnings as errors (the wheel build compiles it the same way with EXN_WERROR=ON).
set -euo pipefail
venv=build/ci-lint-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "ruff==0.17.6" "mypy==2.4.1" cffi
"$venv/bin/ruff" check python/
"$venv/bin/mypy"
inc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
for std in c11; do
  gcc -std=$std -fsyntax-only -Wall -Wextra -Wshadow -Wundef -Wstrict-prototypes \
      -Wmissing-prototypes -Wwrite-strings -Werror -Icsrc -I"$inc" \
      -DPy_LIMITED_API=0x03090000 python/extism_native/_binding.c
done
echo "lint: ruff, mypy and _binding.c clean"
