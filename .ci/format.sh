#!/usr/bin/env bash
# Format every .c and .h of csrc/ in place with .clang-format (what .ci/check_format.sh checks).
set -euo pipefail
cd "$(dirname "$0")/.."
find csrc -name '*.[ch]' -print0 | sort -z | xargs -0 "${CLANG_FORMAT:-clang-format}" -i --style=file
