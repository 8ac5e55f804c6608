#!/usr/bin/env bash
# Fails when a C++ file of the tree is not formatted as .clang-format says (Debian's
# clang-format, installed by scripts/setup.sh). Fix with: clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.cc' '*.h' | grep -v '^fuzz/seeds/')
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} files are not clang-format clean:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check_format: every C++ file is clang-format clean"
