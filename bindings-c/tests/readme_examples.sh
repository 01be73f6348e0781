#!/usr/bin/env bash
# Compiles and runs every ```c block of a README as its own program, so the
# documentation can never drift from the library.
# Usage: readme_examples.sh README.md OUT_DIR "CFLAGS" "LIBS"
set -euo pipefail
readme=$1 out=$2 cflags=$3 libs=$4
rm -rf "$out" && mkdir -p "$out"
awk -v out="$out" '
  /^```c$/ { n++; file = sprintf("%s/example_%d.c", out, n); inside = 1; next }
  /^```/   { inside = 0; next }
  inside   { print > file }
' "$readme"
shopt -s nullglob
examples=("$out"/example_*.c)
[ ${#examples[@]} -gt 0 ] || { echo "no C examples in $readme" >&2; exit 1; }
for src in "${examples[@]}"; do
  # shellcheck disable=SC2086  # flags are word lists on purpose
  gcc $cflags "$src" -o "${src%.c}" $libs
  "${src%.c}" >/dev/null
  echo "README example ran: $(basename "$src")"
done
