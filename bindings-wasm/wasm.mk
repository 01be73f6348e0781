# JavaScript / WebAssembly binding: npm package `resilience-wasm`.
# Included by the root Makefile (ROOT, CARGO, DEMO_DIR come from there).
# Every target installs what it needs, idempotently.

WASM_PKG := $(ROOT)/bindings-wasm
# The CLI must be exactly the wasm-bindgen version Cargo.lock resolved.
WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' $(ROOT)/Cargo.lock)

.PHONY: wasm-tools wasm-build test-js test-browser demo-js bench-js coverage-js

## wasm-tools: the wasm32 target, the matching wasm-bindgen CLI, npm dev dependencies.
wasm-tools:
	rustup target add wasm32-unknown-unknown
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "wasm-bindgen $(WASM_BINDGEN_VERSION) already installed"; \
	else \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked -j2 \
	  || $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) -j2; \
	fi
	cd $(WASM_PKG) && npm ci --no-audit --no-fund --loglevel=error

## wasm-build: cargo -> wasm-bindgen (nodejs + web) -> wasm-opt -Oz -> dist/.
wasm-build: wasm-tools
	bash $(WASM_PKG)/build.sh

## test-js: clippy on wasm32, the node --test suites, the npm-pack tarball smoke test (with size budgets).
test-js: wasm-build
	$(CARGO) clippy -p resilience-wasm --target wasm32-unknown-unknown -- -D warnings
	cd $(WASM_PKG) && node --test tests/*.test.mjs
	bash $(WASM_PKG)/tests/smoke/pack-smoke.sh

## test-browser: headless Chromium (Debian's) driven by playwright-core.
test-browser: wasm-build
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; fi
	cd $(WASM_PKG) && node --test tests/browser/browser.spec.mjs

## demo-js: the demo's Node leg (trace compared by demo-compare).
demo-js: wasm-build
	@mkdir -p $(DEMO_DIR)
	node examples/node/demo.mjs examples/scenario.json $(DEMO_DIR)/js.trace

# Also measured: the all-in-Rust wasm-bindgen-futures variant the package does not ship.
## bench-js: one Node process against a bare call, cockatiel, p-retry and opossum.
bench-js: wasm-build
	$(CARGO) build -p resilience-wasm --target wasm32-unknown-unknown --release --features futures-bench
	wasm-bindgen --target nodejs --out-dir $(ROOT)/bench/js/.futures \
	  $${CARGO_TARGET_DIR:-$(ROOT)/target}/wasm32-unknown-unknown/release/resilience_wasm.wasm
	echo '{ "type": "commonjs" }' > $(ROOT)/bench/js/.futures/package.json
	node bench/js/bench.mjs > bench/js/RESULTS.md
	cat bench/js/RESULTS.md

## coverage-js: the node --test suites (the Redis driver's too, against a real redis-server) under c8, measuring js/*.js (lcov in target/coverage/js/).
coverage-js: wasm-build redis-server
	@# From the root, so the report names files by repository path.
	@# tests/coverage/register.mjs points `resilience-wasm` at the unbundled sources.
	rm -rf $(COV_DIR)/js
	cd $(ROOT) && bindings-wasm/node_modules/.bin/c8 --reporter=lcov --reports-dir=$(COV_DIR)/js \
	  --temp-directory=$(COV_DIR)/js/tmp --all --src=bindings-wasm/js --include='bindings-wasm/js/*.js' \
	  node --expose-gc --import ./bindings-wasm/tests/coverage/register.mjs --test bindings-wasm/tests/*.test.mjs bindings-wasm/tests/redis/*.test.mjs \
	  > $(COV_DIR)/js-tests.log || { tail -40 $(COV_DIR)/js-tests.log; exit 1; }
	@grep -E '^# (pass|fail)' $(COV_DIR)/js-tests.log
