# Python binding: `make test-python`, `make demo-python`, `make bench-python`.
# Included by the root Makefile (which defines ROOT, CARGO, DEMO_DIR).
# Everything lives in a project-local venv ($(ROOT)/.venv), created on demand.

PY_VENV      := $(ROOT)/.venv
PY           := $(PY_VENV)/bin/python
PY_DIR       := $(ROOT)/bindings-python
PY_WHEELS    := $(ROOT)/target/wheels-python
# Bump the suffix when the pinned tools change, so existing venvs pick them up.
PY_TOOLS     := $(PY_VENV)/.resilience-tools-1
PY_BENCH     := $(PY_VENV)/.resilience-bench-1
PY_INSTALLED := $(PY_VENV)/.resilience-installed
PY_SOURCES   := $(shell find $(PY_DIR)/src $(PY_DIR)/python $(ROOT)/core/src -type f 2>/dev/null) \
                $(PY_DIR)/Cargo.toml $(PY_DIR)/pyproject.toml $(ROOT)/core/Cargo.toml $(ROOT)/Cargo.lock

.PHONY: test-python demo-python bench-python python-install

$(PY_TOOLS):
	python3 -m venv $(PY_VENV)
	$(PY) -m pip install --quiet maturin==1.16.0 pytest==9.2.0 hypothesis==6.170.17 mypy==2.4.1 \
		provide-foundation==0.4.10
	touch $@

# Build the abi3 wheel (release profile) and install it into the venv;
# rebuilt only when a source changed.
$(PY_INSTALLED): $(PY_TOOLS) $(PY_SOURCES)
	rm -rf $(PY_WHEELS)
	cd $(PY_DIR) && $(PY_VENV)/bin/maturin build --quiet --release -j2 --out $(PY_WHEELS)
	$(PY) -m pip install --quiet --force-reinstall --no-deps $(PY_WHEELS)/resilience_rs-*.whl
	touch $@

python-install: $(PY_INSTALLED)

test-python: $(PY_INSTALLED)
	$(CARGO) clippy -p resilience-python -- -D warnings
	# Run from the repository root: the installed wheel is imported, not the sources.
	cd $(ROOT) && $(PY) -m pytest -q -p no:cacheprovider $(PY_DIR)/tests
	# The hand-written stubs match the runtime; the package and the demo type-check strictly.
	cd $(ROOT) && MYPY_CACHE_DIR=$(ROOT)/target/mypy-cache $(PY) -m mypy.stubtest resilience \
		--allowlist $(PY_DIR)/stubtest-allowlist.txt
	cd $(ROOT) && MYPY_CACHE_DIR=$(ROOT)/target/mypy-cache $(PY) -m mypy --strict -p resilience
	cd $(ROOT) && MYPY_CACHE_DIR=$(ROOT)/target/mypy-cache $(PY) -m mypy --strict examples/python/demo.py

demo-python: $(PY_INSTALLED)
	@mkdir -p $(DEMO_DIR)
	cd $(ROOT) && $(PY) examples/python/demo.py examples/scenario.json $(DEMO_DIR)/python.trace

$(PY_BENCH): $(PY_TOOLS)
	$(PY) -m pip install --quiet tenacity==9.1.2 circuitbreaker==2.1.3 pybreaker==1.4.1
	touch $@

bench-python: $(PY_INSTALLED) $(PY_BENCH)
	cd $(ROOT) && $(PY) bench/python/bench.py --out bench/python/RESULTS.md
