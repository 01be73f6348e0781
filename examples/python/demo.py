"""The demo's Python leg: one flaky service driven through
fallback(retry(breaker(service))) on virtual time, with the public
`resilience` API (the provide.foundation-compatible one).

Usage: python demo.py SCENARIO.json OUT.trace   (see examples/README.md)
"""

from __future__ import annotations

import json
import sys
from typing import Any

from resilience import CircuitBreakerOpenError, FallbackChain, RetryExecutor, RetryPolicy, SyncCircuitBreaker


class ServiceError(Exception):
    """The simulated service failed (the only error the retry retries)."""


class VirtualClock:
    """Integer nanoseconds; `time()` is the breaker's `time_source`, `sleep()`
    the executor's `sleep_func` (it advances time at once)."""

    def __init__(self) -> None:
        self.ns = 0
        self.slept_ns = 0

    def time(self) -> float:
        return self.ns / 1e9

    def advance_ms(self, ms: int) -> None:
        self.ns += ms * 1_000_000

    def sleep(self, seconds: float) -> None:
        delay = round(seconds * 1e9)
        self.slept_ns += delay
        self.ns += delay


def ms(ns: int) -> str:
    """`{ms}.{micros:03}` from integer nanoseconds, as every leg prints it."""
    return f"{ns // 1_000_000}.{(ns // 1000) % 1000:03}"


def run(scenario: dict[str, Any]) -> list[str]:
    retry_cfg = scenario["retry"]
    breaker_cfg = scenario["breaker"]
    service_cfg = scenario["service"]
    outages = [(a * 1_000_000, b * 1_000_000) for a, b in service_cfg["outages_ms"]]
    fail_every = max(1, service_cfg["fail_every"])

    clock = VirtualClock()
    policy = RetryPolicy(
        max_attempts=retry_cfg["max_attempts"],
        backoff=retry_cfg["backoff"],
        base_delay=retry_cfg["base_delay_ms"] / 1000,
        max_delay=retry_cfg["max_delay_ms"] / 1000,
        jitter=retry_cfg.get("jitter", "proportional"),
        retryable_errors=(ServiceError,),
        seed=scenario["seed"],
    )
    breaker = SyncCircuitBreaker(
        failure_threshold=breaker_cfg["failure_threshold"],
        recovery_timeout=breaker_cfg["recovery_timeout_ms"] / 1000,
        time_source=clock.time,
        half_open_max_calls=breaker_cfg["half_open_max_calls"],
    )
    lines: list[str] = []
    counts = {"service_calls": 0, "rejected": 0, "primary": 0, "fallback": 0}

    def service() -> None:
        counts["service_calls"] += 1
        in_outage = any(a <= clock.ns < b for a, b in outages)
        if in_outage or counts["service_calls"] % fail_every == 0:
            raise ServiceError("service unavailable")

    for req in range(1, scenario["requests"] + 1):
        attempt = 0

        def one_attempt() -> str:
            nonlocal attempt
            attempt += 1
            started = clock.ns
            state = breaker.state().name.lower()
            word = "ok"
            try:
                breaker.call(service)
            except ServiceError:
                word = "fail"
                raise
            except CircuitBreakerOpenError:  # the breaker rejected the call
                word = "rejected"
                counts["rejected"] += 1
                raise
            finally:
                lines.append(f"t={ms(started)} req={req} attempt={attempt} breaker={state} -> {word}")
            return "primary"

        def sleep(seconds: float) -> None:
            lines.append(f"t={ms(clock.ns)} req={req} retry in {ms(round(seconds * 1e9))}")
            clock.sleep(seconds)

        executor = RetryExecutor(policy, sleep_func=sleep)
        chain = FallbackChain(fallbacks=[lambda: "fallback"])
        answered_by = chain.execute(lambda: executor.execute_sync(one_attempt))
        counts[answered_by] += 1
        lines.append(f"t={ms(clock.ns)} req={req} answered by {answered_by}")
        clock.advance_ms(scenario["request_interval_ms"])

    lines.append(
        f"summary primary={counts['primary']} fallback={counts['fallback']} "
        f"service_calls={counts['service_calls']} rejected={counts['rejected']} slept={ms(clock.slept_ns)}"
    )
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: demo.py SCENARIO.json OUT.trace", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        scenario = json.load(f)
    text = "\n".join(run(scenario)) + "\n"
    sys.stdout.write(text)
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
