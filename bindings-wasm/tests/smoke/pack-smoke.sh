#!/usr/bin/env bash
# The published shape: `npm pack` the package, install the tarball into a
# fresh project, and use it by name with `require` and with `import`, at run
# time and through its TypeScript declarations (tsc --strict, both forms).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PKG="$(cd "$HERE/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Size budgets the README states (bytes): the optimised .wasm, each copy,
# and the packed tarball. Raise them only together with the README.
# Measured with issues 10, 11, the Redis fleet hooks of issue 12 (breakers,
# then the leases of shared limiters and budgets) and the limiter and
# throttle as pipeline strategies: .wasm 335,228 bytes, tarball 420,207
# bytes; the budgets leave ~2-4 % headroom.
WASM_BUDGET=$((336 * 1024))
TARBALL_BUDGET=$((424 * 1024))

cd "$PKG"
TARBALL="$(npm pack --pack-destination "$WORK" --silent | tail -1)"
TARBALL_BYTES="$(stat -c %s "$WORK/$TARBALL")"
echo "tarball: $TARBALL $TARBALL_BYTES bytes (budget $TARBALL_BUDGET)"
tar -tzf "$WORK/$TARBALL" | sort | sed 's/^/  /'
over=0
for wasm in dist/web/resilience_wasm_bg.wasm dist/node/resilience_wasm_bg.wasm; do
  bytes="$(stat -c %s "$wasm")"
  echo "$wasm: $bytes bytes (budget $WASM_BUDGET)"
  if [ "$bytes" -gt "$WASM_BUDGET" ]; then echo "over budget: $wasm" >&2; over=1; fi
done
if [ "$TARBALL_BYTES" -gt "$TARBALL_BUDGET" ]; then echo "over budget: the npm tarball" >&2; over=1; fi
if [ "$over" -ne 0 ]; then
  echo "the package outgrew the size budget the README states (bindings-wasm/README.md, 'Size and speed')" >&2
  exit 1
fi

cd "$WORK"
echo '{ "name": "smoke", "version": "1.0.0", "private": true }' > package.json
npm install --no-audit --no-fund --loglevel=error "./$TARBALL"
cp "$HERE/smoke.cjs" "$HERE/smoke.mjs" .
node smoke.cjs
node smoke.mjs
cp "$HERE/smoke-types.cts" "$HERE/smoke-types.mts" .
cp "$HERE/smoke-tsconfig.json" tsconfig.json
node "$PKG/node_modules/typescript/bin/tsc" -p tsconfig.json
echo 'types: require (index.d.cts) and import (index.d.ts) ok'
