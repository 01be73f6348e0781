"""The Python peer of the cross-language test (see fleet_peer.rs for the
line protocol): two breakers shared through `resilience.redis`."""

from __future__ import annotations

import socket
import sys
import threading
import time

from resilience import CircuitState, SyncCircuitBreaker
from resilience.redis import RedisStore


def dependency(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"probe\n")
        answer = s.makefile().readline().strip()
    if answer != "ok":
        raise ConnectionError(answer)
    return answer


def main() -> None:
    store = RedisStore.from_url(sys.argv[1], prefix="cross", sync_interval=0.2, sync_timeout=0.25)
    breakers = {
        "payments": SyncCircuitBreaker(
            failure_ratio=0.5, minimum_throughput=10, sampling_duration=20, sampling_buckets=10,
            recovery_timeout=30, store=store, name="payments",
        ),
        "inventory": SyncCircuitBreaker(
            failure_threshold=1, recovery_timeout=0.4, half_open_max_calls=2, store=store, name="inventory",
        ),
    }
    started = time.monotonic()
    while not all(store.fleet_status(b).live for b in breakers.values()):
        if time.monotonic() - started > 10:
            raise SystemExit("never synced")
        time.sleep(0.005)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        breaker = breakers.get(words[1] if len(words) > 1 else "", breakers["payments"])
        if words[0] == "fail":
            for _ in range(int(words[2])):
                try:
                    breaker.call(dependency, 0)
                except (ConnectionError, OSError, RuntimeError):
                    pass
            print(f"state {breaker.state().name.lower()}", flush=True)
        elif words[0] == "await-open":
            told = time.monotonic()
            while breaker.state() != CircuitState.OPEN and time.monotonic() - told < 10:
                time.sleep(0.001)
            print(f"open {(time.monotonic() - told) * 1000:.1f}", flush=True)
        elif words[0] == "probe":
            port = int(words[2])
            deadline = time.monotonic() + 20
            calls = [0]

            def caller() -> None:
                while breaker.state() != CircuitState.CLOSED and time.monotonic() < deadline:
                    try:
                        breaker.call(dependency, port)
                        calls[0] += 1
                    except ConnectionError:
                        calls[0] += 1
                    except RuntimeError:  # rejected
                        time.sleep(0.003)

            threads = [threading.Thread(target=caller) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print(f"{breaker.state().name.lower()} {calls[0]}", flush=True)
        else:
            print(f"unknown {words[0]}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
