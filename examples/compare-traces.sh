#!/usr/bin/env bash
# Checks that every leg of the demo printed the same trace as the Rust leg.
set -euo pipefail
dir=${1:?usage: compare-traces.sh DIR}
reference="$dir/rust.trace"
[ -s "$reference" ] || { echo "missing $reference (run the Rust leg first)" >&2; exit 1; }
status=0
for lang in python c js; do
  trace="$dir/$lang.trace"
  if [ ! -s "$trace" ]; then
    echo "MISSING the $lang leg's trace ($trace)" >&2
    status=1
    continue
  fi
  if diff -u "$reference" "$trace" >/dev/null; then
    echo "same decisions: rust == $lang ($(wc -l <"$trace") lines)"
  else
    echo "DIFFERENT decisions: rust != $lang" >&2
    diff -u "$reference" "$trace" >&2 || true
    status=1
  fi
done
exit $status
