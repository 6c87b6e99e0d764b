#!/usr/bin/env bash
# The C format of csrc/ (.clang-format): `clang-format --dry-run --Werror` on every .c and .h
# of csrc/ (third_party/ is not ours and not checked).  Fails on the first file that would
# change, printing what (.ci/format.sh formats them).  `--report` only counts the files that
# would change and never fails.  Tables laid out by hand sit between `clang-format off/on`.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null; then
  echo "check_format: $CLANG_FORMAT is not installed (apt-get install clang-format)" >&2
  exit 1
fi
mapfile -t files < <(find csrc -name '*.[ch]' | sort)
if [ "${1:-}" = "--report" ]; then
  changed=0
  for f in "${files[@]}"; do
    "$CLANG_FORMAT" --dry-run --Werror --style=file "$f" 2>/dev/null || changed=$((changed + 1))
  done
  echo "check_format: $changed of ${#files[@]} files of csrc/ differ from .clang-format" \
       "(not enforced until the tree is formatted: .ci/format.sh)"
  exit 0
fi
"$CLANG_FORMAT" --dry-run --Werror --style=file "${files[@]}"
echo "check_format: ${#files[@]} files of csrc/ match .clang-format"
