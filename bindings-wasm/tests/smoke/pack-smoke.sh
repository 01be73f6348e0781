#!/usr/bin/env bash
# The published shape: `npm pack` the package, install the tarball into a
# fresh project, and use it by name with `require` and with `import`, at run
# time and through its TypeScript declarations (tsc --strict, both forms).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PKG="$(cd "$HERE/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$PKG"
TARBALL="$(npm pack --pack-destination "$WORK" --silent | tail -1)"
echo "tarball: $TARBALL $(stat -c %s "$WORK/$TARBALL") bytes; .wasm: $(stat -c %s dist/web/resilience_wasm_bg.wasm) bytes"
tar -tzf "$WORK/$TARBALL" | sort | sed 's/^/  /'

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
