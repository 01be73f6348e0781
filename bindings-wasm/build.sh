#!/usr/bin/env bash
# Builds the npm package into dist/:
#   cargo (wasm32) -> wasm-bindgen (nodejs + web) -> wasm-opt -Oz -> JS entries.
# Needs: the wasm32-unknown-unknown target, wasm-bindgen-cli at the crate's
# version, and `npm ci` (binaryen, esbuild). `make -f ../Makefile test-js`
# installs all three; see wasm.mk.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/resilience_wasm.wasm"
DIST="$HERE/dist"
BIN="$HERE/node_modules/.bin"

cd "$ROOT"
cargo build -p resilience-wasm --target wasm32-unknown-unknown --release

rm -rf "$DIST"
mkdir -p "$DIST/lib"
for target in nodejs web; do
  out="$DIST/${target/nodejs/node}"
  wasm-bindgen --target "$target" --out-dir "$out" "$WASM"
  "$BIN/wasm-opt" -Oz "$out/resilience_wasm_bg.wasm" -o "$out/resilience_wasm_bg.wasm"
  # The .d.ts of the raw module is internal; the package ships its own.
  rm -f "$out"/*.d.ts
done
# Entry points resolve the nodejs build as CommonJS whatever "type" says.
echo '{ "type": "commonjs" }' > "$DIST/node/package.json"

cp "$HERE"/js/*.js "$DIST/lib/"
cp "$HERE/js/entries/browser.js" "$DIST/browser.js"
cp "$HERE/js/entries/node.mjs" "$DIST/node.mjs"
"$BIN/esbuild" "$HERE/js/entries/node.js" --bundle --format=cjs --platform=node --target=node18 \
  --external:./node/resilience_wasm.js --outfile="$DIST/node.cjs" --log-level=warning
# resilience-wasm/redis (Node only): drives the nodejs build the main entry loaded.
"$BIN/esbuild" "$HERE/js/entries/redis.js" --bundle --format=cjs --platform=node --target=node18 \
  --external:./node.cjs --external:./node/resilience_wasm.js --external:ioredis \
  --outfile="$DIST/redis.cjs" --log-level=warning
cp "$HERE/js/entries/redis.mjs" "$DIST/redis.mjs"

echo "built $DIST: .wasm $(stat -c %s "$DIST/web/resilience_wasm_bg.wasm") bytes (web), $(stat -c %s "$DIST/node/resilience_wasm_bg.wasm") bytes (node)"
