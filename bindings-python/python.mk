# Python binding: `make test-python`, `make test-python-versions`,
# `make demo-python`, `make bench-python`, `make coverage-python`.
# Included by the root Makefile (which defines ROOT, CARGO, DEMO_DIR, COV_DIR).
# Everything lives in a project-local venv ($(ROOT)/.venv), created on demand;
# the other CPython versions get theirs under target/python-versions/.

PY_VENV      := $(ROOT)/.venv
PY           := $(PY_VENV)/bin/python
PY_DIR       := $(ROOT)/bindings-python
PY_WHEELS    := $(ROOT)/target/wheels-python
# Bump the suffix when the pinned tools change, so existing venvs pick them up.
PY_TOOLS     := $(PY_VENV)/.resilience-tools-2
PY_BENCH     := $(PY_VENV)/.resilience-bench-2
PY_INSTALLED := $(PY_VENV)/.resilience-installed
PY_COVERAGE  := $(PY_VENV)/.resilience-coverage-1
PY_SOURCES   := $(shell find $(PY_DIR)/src $(PY_DIR)/python $(ROOT)/core/src -type f 2>/dev/null) \
                $(PY_DIR)/Cargo.toml $(PY_DIR)/pyproject.toml $(ROOT)/core/Cargo.toml $(ROOT)/Cargo.lock \
                $(ROOT)/redis/src/script.rs $(ROOT)/redis/src/breaker_sync.rs $(ROOT)/redis/src/lease_script.rs \
                $(wildcard $(ROOT)/redis/scripts/*.lua)

.PHONY: test-python test-python-versions demo-python bench-python python-install coverage-python

$(PY_TOOLS):
	python3 -m venv $(PY_VENV)
	$(PY) -m pip install --quiet maturin==1.16.0 pytest==9.2.0 hypothesis==6.170.17 mypy==2.4.1 \
		provide-foundation==0.4.10 redis==8.1.0
	touch $@

# Build the abi3 wheel (release profile) and install it into the venv;
# rebuilt only when a source changed.
$(PY_INSTALLED): $(PY_TOOLS) $(PY_SOURCES)
	rm -rf $(PY_WHEELS)
	cd $(PY_DIR) && $(PY_VENV)/bin/maturin build --quiet --release -j2 --out $(PY_WHEELS)
	$(PY) -m pip install --quiet --force-reinstall --no-deps $(PY_WHEELS)/resilience_rs-*.whl
	touch $@

## python-install: build the abi3 wheel and install it into .venv (only when a source changed).
python-install: $(PY_INSTALLED)

## test-python: clippy on the pyo3 crate, pytest on CPython 3.11, stubtest, mypy --strict.
test-python: $(PY_INSTALLED)
	$(CARGO) clippy -p resilience-python -- -D warnings
	# Run from the repository root: the installed wheel is imported, not the sources.
	cd $(ROOT) && $(PY) -m pytest -q -p no:cacheprovider $(PY_DIR)/tests
	# The hand-written stubs match the runtime; the package and the demo type-check strictly.
	cd $(ROOT) && MYPY_CACHE_DIR=$(ROOT)/target/mypy-cache $(PY) -m mypy.stubtest resilience \
		--allowlist $(PY_DIR)/stubtest-allowlist.txt
	cd $(ROOT) && MYPY_CACHE_DIR=$(ROOT)/target/mypy-cache $(PY) -m mypy --strict -p resilience
	cd $(ROOT) && MYPY_CACHE_DIR=$(ROOT)/target/mypy-cache $(PY) -m mypy --strict examples/python/demo.py

## demo-python: the demo's Python leg (trace compared by demo-compare).
demo-python: $(PY_INSTALLED)
	@mkdir -p $(DEMO_DIR)
	cd $(ROOT) && $(PY) examples/python/demo.py examples/scenario.json $(DEMO_DIR)/python.trace

$(PY_BENCH): $(PY_TOOLS)
	$(PY) -m pip install --quiet tenacity==9.1.2 circuitbreaker==2.1.3 pybreaker==1.4.1 limits==5.8.0
	touch $@

## bench-python: against provide-foundation, tenacity, circuitbreaker and pybreaker.
bench-python: $(PY_INSTALLED) $(PY_BENCH)
	cd $(ROOT) && $(PY) bench/python/bench.py --out bench/python/RESULTS.md

# The README promises one abi3 wheel for CPython 3.9-3.13: the same wheel runs
# the suite on the oldest and the newest too (3.11 is test-python's). The
# interpreters are pyenv's builds; a missing one fails, it is never skipped.
PY_VERSIONS     := 3.9 3.13
PY_VERSIONS_DIR := $(ROOT)/target/python-versions
PYENV_ROOT      ?= $(HOME)/.pyenv
# Test tools per version: pytest 9, hypothesis 6.142+ and coverage 7.11+ need
# Python >= 3.10; provide-foundation (the reference some tests compare with)
# needs >= 3.11.
PY_TEST_DEPS_3.9  := pytest==8.4.2 hypothesis==6.141.1 coverage==7.10.7
PY_TEST_DEPS_3.13 := pytest==9.2.0 hypothesis==6.170.17 provide-foundation==0.4.10

# Stamps, not intermediate files: make must not delete them after a run.
.PRECIOUS: $(PY_VERSIONS_DIR)/%/.tools-1 $(PY_VERSIONS_DIR)/%/.installed

$(PY_VERSIONS_DIR)/%/.tools-1:
	@py="$$(ls -d $(PYENV_ROOT)/versions/$*.*/bin/python3 2>/dev/null | sort -V | tail -1 || true)"; \
	if [ -z "$$py" ]; then \
	  echo "CPython $* not found under $(PYENV_ROOT)/versions: the README promises 3.9-3.13, so this suite" \
	       "cannot be skipped (install it: pyenv install $*)" >&2; \
	  exit 1; \
	fi; \
	rm -rf $(PY_VERSIONS_DIR)/$*; \
	echo "venv for $$("$$py" --version) at $(PY_VERSIONS_DIR)/$*"; \
	"$$py" -m venv $(PY_VERSIONS_DIR)/$*
	$(PY_VERSIONS_DIR)/$*/bin/python -m pip install --quiet $(PY_TEST_DEPS_$*)
	touch $@

# The wheel test-python built, reinstalled whenever it was rebuilt.
$(PY_VERSIONS_DIR)/%/.installed: $(PY_VERSIONS_DIR)/%/.tools-1 $(PY_INSTALLED)
	$(PY_VERSIONS_DIR)/$*/bin/python -m pip install --quiet --force-reinstall --no-deps $(PY_WHEELS)/resilience_rs-*.whl
	touch $@

## test-python-versions: the pytest suite on CPython 3.9 and 3.13 (pyenv), with the same abi3 wheel.
test-python-versions: $(foreach v,$(PY_VERSIONS),$(PY_VERSIONS_DIR)/$(v)/.installed)
	$(foreach v,$(PY_VERSIONS),cd $(ROOT) && $(PY_VERSIONS_DIR)/$(v)/bin/python -m pytest -q -p no:cacheprovider -rs $(PY_DIR)/tests &&) true

$(PY_COVERAGE): $(PY_TOOLS)
	$(PY) -m pip install --quiet coverage==7.17.3
	touch $@

# Lines for Pythons older than 3.11 (resilience/_compat.py) run only there:
# the suite also runs under coverage on 3.9, and the two runs are combined.
PY_COVERAGE_OLD := 3.9

## coverage-python: the pytest suite under coverage.py on 3.11 and 3.9 (and the Redis driver's against a real redis-server), measuring the installed package, reported on its sources.
coverage-python: $(PY_INSTALLED) $(PY_COVERAGE) $(PY_VERSIONS_DIR)/$(PY_COVERAGE_OLD)/.installed redis-server
	@mkdir -p $(COV_DIR)/python && rm -f $(COV_DIR)/python/.coverage*
	cd $(ROOT) && $(PY) -m coverage run --rcfile=$(PY_DIR)/coverage.ini -m pytest -q -p no:cacheprovider $(PY_DIR)/tests
	cd $(ROOT) && $(PY) -m coverage run --rcfile=$(PY_DIR)/coverage.ini -m pytest -q -p no:cacheprovider $(PY_DIR)/tests-redis
	cd $(ROOT) && $(PY_VERSIONS_DIR)/$(PY_COVERAGE_OLD)/bin/python -m coverage run --rcfile=$(PY_DIR)/coverage.ini \
	  -m pytest -q -p no:cacheprovider $(PY_DIR)/tests
	@# combine maps the installed files back to bindings-python/python ([paths] in coverage.ini).
	cd $(ROOT) && $(PY) -m coverage combine --quiet --rcfile=$(PY_DIR)/coverage.ini
	cd $(ROOT) && $(PY) -m coverage lcov --quiet --rcfile=$(PY_DIR)/coverage.ini -o $(COV_DIR)/python.lcov
