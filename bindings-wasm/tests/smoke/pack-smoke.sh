#!/usr/bin/env bash
# The published shape: `npm pack` the package, install the tarball into a
# fresh project, and use it by name with `require` and with `import`.
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
