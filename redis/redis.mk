# The Redis drivers (Rust resilience-redis, Python resilience.redis, Node
# resilience-wasm/redis). Their tests start Debian's redis-server on a free
# port in a temp dir and stop it after; nothing is mocked.

.PHONY: test-redis redis-server

## test-redis: the Redis drivers against a real redis-server (installed from Debian when missing): Rust (clippy, fleet, faults, two processes), Python and Node (shared breakers, SIGSTOP, restart, kill), and Rust + Python + Node processes sharing one breaker.
test-redis: redis-server $(PY_INSTALLED) wasm-build
	$(CARGO) clippy -p resilience-redis --all-targets -- -D warnings
	$(CARGO) test -p resilience-redis
	# Python (redis-py is in the venv's tools) and Node (ioredis is a dev dependency).
	cd $(ROOT) && $(PY) -m pytest -q -p no:cacheprovider bindings-python/tests-redis
	cd $(ROOT)/bindings-wasm && node --expose-gc --test tests/redis/*.test.mjs
	# The cross-language test: a Rust, a Python and a Node process share one breaker.
	$(CARGO) build -p resilience-redis --example fleet_peer
	cd $(ROOT) && RESILIENCE_PYTHON=$(PY) $(PY) -m pytest -q -p no:cacheprovider redis/tests/cross

redis-server:
	@if ! command -v redis-server >/dev/null; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; fi
