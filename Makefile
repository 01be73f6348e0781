# The two README commands: `make demo` and `make test`.
# Each part has its own target and installs what it needs, idempotently.
# Binding-specific rules live next to each binding (bindings-*/*.mk).
# `make help` lists the targets: a `## target: description` line directly
# above a rule documents it (tools/make_help.awk checks the placement).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
CARGO ?= cargo
DEMO_DIR := $(ROOT)/target/demo
COV_DIR := $(ROOT)/target/coverage
.DEFAULT_GOAL := help

# Included before the rules below, which name their variables (PY, PY_TOOLS).
# A missing fragment is an error, not a silently smaller build.
include bindings-python/python.mk
include bindings-c/c.mk
include bindings-wasm/wasm.mk
include redis/redis.mk

.PHONY: help demo test lint test-core bench bench-rust demo-rust demo-compare sim coverage coverage-core llvm-cov-tools

## help: list the targets with what each does.
help:
	@echo "make <target>, where <target> is one of:"
	@awk -f $(ROOT)/tools/make_help.awk $(MAKEFILE_LIST)

## test: every suite: lint, core + conformance, Python (3.9, 3.11, 3.13), C, Node, browser, Redis.
test: lint test-core test-python test-python-versions test-c test-js test-browser test-redis
	@echo "make test: all suites passed"

## demo: build every binding, run the same seeded scenario in each, compare the traces.
demo: demo-rust demo-python demo-c demo-js
	@$(MAKE) --no-print-directory demo-compare

## lint: rustfmt check, clippy on core, demo and bench, and the `make help` comments.
lint:
	rustup component add rustfmt clippy 2>/dev/null || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p resilience-core -p resilience-demo -p resilience-bench -p resilience-fleet-sim -p resilience-c-header --all-targets -- -D warnings
	@awk -f $(ROOT)/tools/make_help.awk $(MAKEFILE_LIST) >/dev/null

## test-core: the core's unit, property, stress and conformance tests, and the Rust demo's.
test-core:
	$(CARGO) test -p resilience-core -p resilience-demo -p resilience-fleet-sim

## demo-rust: the demo's Rust leg (trace compared by demo-compare).
demo-rust:
	@mkdir -p $(DEMO_DIR)
	$(CARGO) run -q -p resilience-demo -- examples/scenario.json $(DEMO_DIR)/rust.trace

## demo-compare: check that every leg of the demo wrote the same trace.
demo-compare:
	@bash examples/compare-traces.sh $(DEMO_DIR)

## sim: the fleet simulator (strategies through an outage, and the AWS backoff study); writes target/sim/results.json and report.html.
sim:
	$(CARGO) run -q --release -p resilience-fleet-sim -- --out "$${CARGO_TARGET_DIR:-target}/sim"

## bench: every runtime's benchmarks, side by side with its peers.
bench: bench-rust bench-python bench-c bench-js

## bench-rust: criterion against backon and failsafe; prints the table.
bench-rust:
	$(CARGO) bench -p resilience-bench
	python3 bench/rust/report.py "$${CARGO_TARGET_DIR:-target}"

# Coverage. Stable Rust's llvm-cov cannot exclude a line, so one gate script
# reads the three lcov reports and honours a `coverage: unreachable — <reason>`
# marker, and `coverage: race — <reason>` on a line only a race between
# threads runs (tools/coverage_gate.py).
COV_CORE_MIN := 100
COV_PYTHON_MIN := 100
COV_JS_MIN := 98
LLVM_COV_VERSION := 0.9.1

## coverage: line coverage of core, the Python package and the JS layer in one table; fails below the gates.
coverage: coverage-core coverage-python coverage-js $(PY_TOOLS)
	cd $(ROOT)/tools && $(PY) -m pytest -q -p no:cacheprovider test_coverage_gate.py
	python3 $(ROOT)/tools/coverage_gate.py --root $(ROOT) \
	  --component core $(COV_DIR)/core.lcov 'core/src/**/*.rs' $(COV_CORE_MIN) \
	  --component python $(COV_DIR)/python.lcov 'bindings-python/python/resilience/*.py' $(COV_PYTHON_MIN) \
	  --component js $(COV_DIR)/js/lcov.info 'bindings-wasm/js/*.js' $(COV_JS_MIN)

# llvm-tools and cargo-llvm-cov at the pinned version; a no-op once installed.
llvm-cov-tools:
	rustup component add llvm-tools-preview
	@if [ "$$($(CARGO) llvm-cov --version 2>/dev/null)" = "cargo-llvm-cov $(LLVM_COV_VERSION)" ]; then \
	  echo "cargo-llvm-cov $(LLVM_COV_VERSION) already installed"; \
	else \
	  $(CARGO) install cargo-llvm-cov --version $(LLVM_COV_VERSION) --locked -j2 \
	  || $(CARGO) install cargo-llvm-cov --version $(LLVM_COV_VERSION) -j2; \
	fi

## coverage-core: the core's own tests under cargo-llvm-cov (lcov in target/coverage/).
coverage-core: llvm-cov-tools
	@mkdir -p $(COV_DIR)
	$(CARGO) llvm-cov -p resilience-core --lcov --output-path $(COV_DIR)/core.lcov
