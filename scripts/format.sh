#!/usr/bin/env bash
# Checks (default) or fixes (--fix) the formatting of every C++ file with
# clang-format 14 and .clang-format. CI runs the check (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.h' '*.cc' | grep -v '^tests/fuzz/corpus/')
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  echo "formatted ${#files[@]} files"
else
  clang-format --dry-run --Werror "${files[@]}"
  echo "formatting ok (${#files[@]} files)"
fi
