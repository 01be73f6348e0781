# The Redis driver (resilience-redis). Its tests start Debian's redis-server
# on a free port in a temp dir and stop it after; nothing is mocked.

.PHONY: test-redis redis-server

## test-redis: the Redis driver against a real redis-server (installed from
## Debian when missing): clippy, fleet, fault (SIGSTOP, restart, kill) and
## two-process tests.
test-redis: redis-server
	$(CARGO) clippy -p resilience-redis --all-targets -- -D warnings
	$(CARGO) test -p resilience-redis

redis-server:
	@if ! command -v redis-server >/dev/null; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; fi
