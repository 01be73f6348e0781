# The two README commands: `make demo` and `make test`.
# Each part has its own target and installs what it needs, idempotently.
# Binding-specific rules live next to each binding (bindings-*/*.mk).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
CARGO ?= cargo
DEMO_DIR := $(ROOT)/target/demo

.PHONY: demo test lint test-core bench bench-rust demo-rust demo-compare sim

## make test: every suite — lint, core + conformance, Python, C, Node, browser, Redis.
test: lint test-core test-python test-c test-js test-browser test-redis
	@echo "make test: all suites passed"

## make demo: build every binding, run the same seeded scenario in each, compare.
demo: demo-rust demo-python demo-c demo-js
	@$(MAKE) --no-print-directory demo-compare

lint:
	rustup component add rustfmt clippy 2>/dev/null || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p resilience-core -p resilience-demo -p resilience-bench -p resilience-fleet-sim --all-targets -- -D warnings

test-core:
	$(CARGO) test -p resilience-core -p resilience-demo -p resilience-fleet-sim

demo-rust:
	@mkdir -p $(DEMO_DIR)
	$(CARGO) run -q -p resilience-demo -- examples/scenario.json $(DEMO_DIR)/rust.trace

demo-compare:
	@bash examples/compare-traces.sh $(DEMO_DIR)

## sim: the fleet simulator (strategies through an outage, and the AWS backoff study); writes target/sim/results.json and report.html.
sim:
	$(CARGO) run -q --release -p resilience-fleet-sim -- --out "$${CARGO_TARGET_DIR:-target}/sim"

bench: bench-rust bench-python bench-c bench-js

bench-rust:
	$(CARGO) bench -p resilience-bench
	python3 bench/rust/report.py "$${CARGO_TARGET_DIR:-target}"

-include bindings-python/python.mk
-include bindings-c/c.mk
-include bindings-wasm/wasm.mk
-include redis/redis.mk
