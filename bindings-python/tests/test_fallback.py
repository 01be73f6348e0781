"""Fallback chains alone and combined with retry and the circuit breaker."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import pytest

import resilience
from conftest import VirtualClock
from resilience import FallbackChain, RetryPolicy, SyncCircuitBreaker, circuit_breaker, retry
from resilience.fallback import FallbackChain as FallbackChainFromModule
from resilience.fallback import fallback as fallback_from_module


class Down(Exception):
    pass


def test_primary_success_skips_fallbacks() -> None:
    calls: list[str] = []
    chain = FallbackChain(fallbacks=[lambda: calls.append("fb")])
    assert chain.execute(lambda x: x * 2, 21) == 42
    assert calls == []


def test_fallbacks_run_in_order_with_the_same_arguments() -> None:
    calls: list[tuple[str, Any]] = []

    def primary(*args: Any, **kwargs: Any) -> None:
        calls.append(("primary", (args, kwargs)))
        raise Down

    def first(*args: Any, **kwargs: Any) -> None:
        calls.append(("first", (args, kwargs)))
        raise Down

    def second(*args: Any, **kwargs: Any) -> str:
        calls.append(("second", (args, kwargs)))
        return "second"

    chain = FallbackChain()
    chain.add_fallback(first)
    chain.add_fallback(second)
    assert chain.execute(primary, 1, k=2) == "second"
    assert calls == [(name, ((1,), {"k": 2})) for name in ("primary", "first", "second")]


def test_last_fallback_error_surfaces() -> None:
    errors = [Down("primary"), Down("fb0"), Down("fb1")]

    def raiser(i: int) -> Any:
        def run() -> None:
            raise errors[i]

        return run

    with pytest.raises(Down) as info:
        FallbackChain(fallbacks=[raiser(1), raiser(2)]).execute(raiser(0))
    assert info.value is errors[2]


def test_no_fallbacks_raises_the_primary_error() -> None:
    error = Down()

    def primary() -> None:
        raise error

    with pytest.raises(Down) as info:
        FallbackChain().execute(primary)
    assert info.value is error


def test_unexpected_errors_skip_the_fallbacks() -> None:
    calls: list[int] = []
    chain = FallbackChain(fallbacks=[lambda: calls.append(1)], expected_exceptions=(Down,))
    with pytest.raises(KeyError):
        chain.execute(lambda: {}["x"])
    assert calls == []


def test_keyboard_interrupt_is_never_swallowed() -> None:
    def primary() -> None:
        raise KeyboardInterrupt

    calls: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        FallbackChain(fallbacks=[lambda: calls.append(1)], expected_exceptions=(BaseException,)).execute(primary)
    assert calls == []


def test_async_chain_mixes_sync_and_async_functions() -> None:
    async def primary() -> None:
        raise Down

    async def async_fallback() -> str:
        raise Down

    chain = FallbackChain(fallbacks=[async_fallback, lambda: "sync fallback"])
    assert asyncio.run(chain.execute_async(primary)) == "sync fallback"
    assert inspect.iscoroutinefunction(FallbackChain.execute_async)


def test_logging(caplog: Any) -> None:
    def primary() -> None:
        raise Down("primary down")

    def broken() -> None:
        raise Down("fb down")

    with caplog.at_level(logging.DEBUG, logger="resilience"):
        with pytest.raises(Down):
            FallbackChain(fallbacks=[broken]).execute(primary)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Primary function failed, trying fallbacks"),
        ("WARNING", "Fallback failed"),
        ("ERROR", "All fallbacks exhausted"),
    ]
    assert caplog.records[0].func == "primary" and caplog.records[1].fallback_name == "broken"


def test_decorator_sync_and_async() -> None:
    def cached(user: str) -> str:
        return f"cached {user}"

    @resilience.fallback(cached)
    def fetch(user: str) -> str:
        raise Down

    @resilience.fallback(cached)
    async def fetch_async(user: str) -> str:
        raise Down

    assert fetch("ann") == "cached ann"
    assert fetch.__name__ == "fetch"
    assert inspect.iscoroutinefunction(fetch_async)
    assert asyncio.run(fetch_async("bob")) == "cached bob"
    assert fallback_from_module(cached)(fetch.__wrapped__)("cy") == "cached cy"


def test_package_attribute_is_the_decorator_and_submodule_still_imports() -> None:
    assert callable(resilience.fallback) and not inspect.ismodule(resilience.fallback)
    assert FallbackChainFromModule is FallbackChain


def test_fallback_with_retry(clock: VirtualClock) -> None:
    attempts: list[int] = []

    @resilience.fallback(lambda: "fallback")
    @retry(max_attempts=3, jitter=False, sleep_func=clock.sleep)
    def flaky() -> str:
        attempts.append(1)
        raise Down

    assert flaky() == "fallback"
    assert len(attempts) == 3 and clock.sleeps == [1.0, 2.0]


def test_fallback_with_circuit_breaker(clock: VirtualClock) -> None:
    calls: list[int] = []

    @resilience.fallback(lambda: "cached")
    @circuit_breaker(failure_threshold=2, time_source=clock.time)
    def remote() -> str:
        calls.append(1)
        raise Down

    assert [remote() for _ in range(4)] == ["cached"] * 4
    assert len(calls) == 2, "once open, the breaker rejects and the fallback answers"


def test_retry_with_circuit_breaker(clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=2, recovery_timeout=10.0, time_source=clock.time)
    calls: list[int] = []

    def service() -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise Down
        return "up"

    policy = RetryPolicy(max_attempts=5, base_delay=4.0, jitter=False, retryable_errors=(Down, RuntimeError))

    @retry(policy=policy, sleep_func=clock.sleep)
    def call() -> str:
        return breaker.call(service)

    # two failures open the breaker; the retry waits 4 s, 8 s (rejected
    # meanwhile? no: 4 s < 10 s, so attempt 3 is rejected), then 16 s passes
    # the recovery timeout and the half-open trial succeeds.
    assert call() == "up"
    assert clock.sleeps == [4.0, 8.0, 16.0]
    assert len(calls) == 3


def test_a_tuple_of_fallbacks_works_like_a_list() -> None:
    # The original's loop iterated whatever `fallbacks` was; a tuple used to
    # make the native chain raise its own TypeError once the primary failed.
    chain = FallbackChain(fallbacks=(lambda: "backup",))  # type: ignore[arg-type]
    assert chain.execute(_boom) == "backup"
    assert asyncio.run(chain.execute_async(_boom)) == "backup"


def _boom() -> str:
    raise ConnectionError("primary down")
