# C binding: make test-c | demo-c | install-c PREFIX=... | bench-c
# Included by the root Makefile (SHELL is bash with -eu -o pipefail; ROOT,
# CARGO and DEMO_DIR come from there).

.PHONY: test-c c-lib c-tools c-header-check c-clippy c-unit c-tests c-valgrind c-sanitize c-threads \
        c-fuzz c-readme c-install-test demo-c install-c bench-c

C_DIR      := $(ROOT)/bindings-c
C_TARGET   := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
C_LIBDIR   := $(C_TARGET)/release
C_OUT      := $(ROOT)/target/c
C_STATIC   := $(C_LIBDIR)/libresilience.a
# What the Rust static library needs from the system when linked statically
# (`cargo rustc -p resilience-c --release --lib -- --print native-static-libs`
# lists them): threads, dlopen, libm, clock_gettime, and the unwinder.
C_SYSLIBS  := -lpthread -ldl -lm -lrt -lgcc_s
C_WARN     := -std=c99 -Wall -Wextra -Werror -pedantic
C_INC      := -I$(C_DIR)/include -I$(C_DIR)/tests
C_SUPPORT  := $(C_DIR)/tests/support/json.c
C_TESTS    := test_api test_conformance test_retry test_misuse test_breaker_window test_breaker_threads \
              test_bulkhead_threads test_policy_threads
C_VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
              --show-leak-kinds=definite,indirect
C_FUZZ_SECONDS ?= 20
C_COMMA    := ,
C_SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PREFIX     ?= /usr/local

## test-c: header drift, clippy, Rust unit tests, C tests (plain, valgrind,
## ASan+UBSan), 8-thread breaker, bulkhead and policy stress, a short fuzz run, the
## install + pkg-config example, and the README's code.
test-c: c-tools c-lib c-header-check c-clippy c-unit c-tests c-valgrind c-sanitize c-threads c-fuzz c-install-test c-readme
	@echo "test-c: all C checks passed"

# valgrind and gcc are on the machine; clang (libFuzzer) and pkg-config may not be.
# libclang-rt-dev carries libFuzzer; apt only *recommends* it with clang.
c-tools:
	@missing=""; \
	for t in gcc g++ valgrind clang pkg-config; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	case "$$missing" in *clang*) missing="$$missing libclang-rt-dev";; esac; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(C_SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(C_SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

c-lib:
	$(CARGO) build --release -p resilience-c

c-header-check: c-lib
	git -C $(ROOT) diff --exit-code -- bindings-c/include/resilience.h
	@echo "resilience.h matches a fresh cbindgen run"

c-clippy:
	$(CARGO) clippy -p resilience-c --all-targets -- -D warnings

c-unit:
	$(CARGO) test -q -p resilience-c

$(C_OUT):
	@mkdir -p $@

# $(call c_build,NAME,EXTRA_FLAGS,OUT_SUFFIX)
c_build = gcc $(C_WARN) -g $(2) $(C_INC) $(C_DIR)/tests/$(1).c $(C_SUPPORT) -o $(C_OUT)/$(1)$(3) $(C_STATIC) $(C_SYSLIBS)

c-tests: c-lib | $(C_OUT)
	@# The header must also be valid C++ and survive a double include.
	printf '#include "resilience.h"\n#include "resilience.h"\nint main(void){resilience_circuit_breaker_config_t c = resilience_circuit_breaker_config_default(); return (int)c.failure_threshold - 5;}\n' \
	  > $(C_OUT)/header_cxx.cpp
	g++ -std=c++11 -Wall -Wextra -Werror -pedantic -I$(C_DIR)/include $(C_OUT)/header_cxx.cpp -o $(C_OUT)/header_cxx $(C_STATIC) $(C_SYSLIBS)
	$(C_OUT)/header_cxx
	$(foreach t,$(C_TESTS),$(call c_build,$(t),-O1,) &&) true
	$(C_OUT)/test_api
	$(C_OUT)/test_retry
	$(C_OUT)/test_misuse --exhaust
	$(C_OUT)/test_breaker_window
	$(C_OUT)/test_conformance $(ROOT)/tests/conformance
	@# The runner must refuse what it does not understand (a kind, an op, a
	@# value encoding) and a vector C disagrees with (a wrong kind).
	rm -rf $(C_OUT)/runner-refuses && mkdir -p $(C_OUT)/runner-refuses
	cd $(C_OUT)/runner-refuses && \
	  echo '{"kind":"teleport","cases":[{"name":"x"}]}' > unknown-kind.json && \
	  echo '{"kind":"breaker","cases":[{"name":"x","config":{},"steps":[{"op":"teleport"}]}]}' > unknown-op.json && \
	  echo '{"kind":"breaker","cases":[{"name":"x","config":{"teleport_ms":1},"steps":[]}]}' > unknown-key.json && \
	  echo '{"kind":"breaker","cases":[{"name":"x","config":{},"steps":[{"op":"metrics","expect":{"teleports":0}}]}]}' > unknown-metric.json && \
	  echo '{"kind":"config_errors","cases":[{"name":"x","component":"retry","config":{"max_attempts":{"fraction":"1/2"}},"parameter":"max_attempts","kind":"not_an_integer"}]}' > unknown-value.json && \
	  echo '{"kind":"config_errors","cases":[{"name":"x","component":"retry","config":{"max_attempts":0},"parameter":"max_attempts","kind":"too_large"}]}' > wrong-kind.json
	for f in $(C_OUT)/runner-refuses/*.json; do \
	  rm -rf $(C_OUT)/runner-one && mkdir -p $(C_OUT)/runner-one && cp $$f $(C_OUT)/runner-one/; \
	  if $(C_OUT)/test_conformance $(C_OUT)/runner-one >/dev/null 2>&1; then echo "runner accepted $$f" >&2; exit 1; fi; \
	done

c-valgrind: c-tests
	$(C_VALGRIND) $(C_OUT)/test_api
	$(C_VALGRIND) $(C_OUT)/test_retry
	$(C_VALGRIND) $(C_OUT)/test_misuse
	$(C_VALGRIND) $(C_OUT)/test_breaker_window
	$(C_VALGRIND) $(C_OUT)/test_conformance $(ROOT)/tests/conformance >/dev/null
	$(C_VALGRIND) $(C_OUT)/test_breaker_threads 2000
	$(C_VALGRIND) $(C_OUT)/test_bulkhead_threads 2000
	$(C_VALGRIND) $(C_OUT)/test_policy_threads 2000

c-sanitize: c-lib | $(C_OUT)
	$(foreach t,$(C_TESTS),$(call c_build,$(t),-O1 -fsanitize=address$(C_COMMA)undefined -fno-sanitize-recover=all -fno-omit-frame-pointer,_asan) &&) true
	$(C_OUT)/test_api_asan
	$(C_OUT)/test_retry_asan
	$(C_OUT)/test_misuse_asan
	$(C_OUT)/test_breaker_window_asan
	$(C_OUT)/test_conformance_asan $(ROOT)/tests/conformance >/dev/null
	$(C_OUT)/test_breaker_threads_asan
	$(C_OUT)/test_bulkhead_threads_asan
	$(C_OUT)/test_policy_threads_asan

c-threads: c-tests
	$(C_OUT)/test_breaker_threads
	$(C_OUT)/test_bulkhead_threads
	$(C_OUT)/test_policy_threads

c-fuzz: c-lib | $(C_OUT)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$(C_DIR)/include \
	  $(C_DIR)/tests/fuzz_c_abi.c -o $(C_OUT)/fuzz_c_abi $(C_STATIC) $(C_SYSLIBS)
	@mkdir -p $(C_OUT)/fuzz-corpus
	@# Seeds: snapshot documents (tests/fuzz_seeds, read only); the dictionary: their tokens.
	$(C_OUT)/fuzz_c_abi -max_total_time=$(C_FUZZ_SECONDS) -max_len=512 -dict=$(C_DIR)/tests/fuzz_snapshot.dict \
	  -artifact_prefix=$(C_OUT)/ $(C_OUT)/fuzz-corpus $(C_DIR)/tests/fuzz_seeds 2>&1 | tail -4

c-readme: c-lib | $(C_OUT)
	bash $(C_DIR)/tests/readme_examples.sh $(C_DIR)/README.md $(C_OUT)/readme "$(C_WARN) -I$(C_DIR)/include" "$(C_STATIC) $(C_SYSLIBS)"

## install-c PREFIX=...: lib/ (.so, .a), include/resilience.h, lib/pkgconfig/resilience.pc
install-c: c-lib
	install -d $(PREFIX)/lib/pkgconfig $(PREFIX)/include
	install -m 644 $(C_DIR)/include/resilience.h $(PREFIX)/include/
	install -m 644 $(C_STATIC) $(PREFIX)/lib/
	install -m 755 $(C_LIBDIR)/libresilience.so $(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -1)|g' \
	  -e 's|@SYSLIBS@|$(C_SYSLIBS)|g' $(C_DIR)/resilience.pc.in > $(PREFIX)/lib/pkgconfig/resilience.pc
	@echo "installed into $(PREFIX)"

c-install-test: | $(C_OUT)
	rm -rf $(C_OUT)/prefix $(C_OUT)/example
	$(MAKE) --no-print-directory install-c PREFIX=$(C_OUT)/prefix
	$(MAKE) --no-print-directory -C $(ROOT)/examples/c PKG_CONFIG_PATH=$(C_OUT)/prefix/lib/pkgconfig OUT=$(C_OUT)/example run

## demo-c: the C leg of `make demo`.
demo-c: c-lib | $(C_OUT)
	@mkdir -p $(DEMO_DIR)
	gcc $(C_WARN) -O1 $(C_INC) $(ROOT)/examples/c/demo.c $(C_SUPPORT) -o $(C_OUT)/demo $(C_STATIC) $(C_SYSLIBS)
	$(C_OUT)/demo $(ROOT)/examples/scenario.json $(DEMO_DIR)/c.trace

## bench-c: S1-S4, S7 against a bare call and hand-written C, S8-S9 (the failure-rate
## breaker) against our consecutive breaker, same run.
bench-c: c-lib | $(C_OUT)
	gcc -std=c99 -O2 -Wall -Wextra -Werror -I$(C_DIR)/include $(ROOT)/bench/c/bench.c -o $(C_OUT)/bench $(C_STATIC) $(C_SYSLIBS)
	$(C_OUT)/bench > $(C_OUT)/bench.md
	{ echo "# C benchmarks (libresilience vs a bare call and hand-written C)"; echo; \
	  echo "Command: \`make bench-c\` (bench/c/bench.c, gcc -O2, static libresilience.a from \`cargo build --release\`)."; \
	  echo "Measured $$(date -u '+%Y-%m-%d %H:%M UTC') on $$(nproc) cores ($$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"; \
	  echo "load average $$(cut -d' ' -f1-3 /proc/loadavg): a shared machine, so read ratios, not absolute times."; \
	  echo "Best of 21 runs of 500,000 calls each, the contenders of a row taking turns; S7: wall time per call seen by each thread."; echo; \
	  cat $(C_OUT)/bench.md; echo; cat $(ROOT)/bench/c/NOTES.md; } > $(ROOT)/bench/c/RESULTS.md
	cat $(ROOT)/bench/c/RESULTS.md
