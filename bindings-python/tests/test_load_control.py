"""Issue 11's Python faces: `RetryBudget` (shared by policies), the
`AdaptiveThrottle` and the GCRA `RateLimiter` with `@rate_limited`, on
injected clocks and sleeps; their typed errors; a thread stress check that
a shared budget never grants more than it allows."""

from __future__ import annotations

import asyncio
import pickle
import threading
from typing import Any

import pytest
from conftest import VirtualClock

from resilience import (
    AdaptiveThrottle,
    RateLimitedError,
    RateLimiter,
    RetryBudget,
    RetryExecutor,
    RetryPolicy,
    ThrottledError,
    ThrottleStats,
    rate_limited,
)
from resilience import events
from resilience.errors import ParameterTypeError, ParameterValueError


class Down(Exception):
    pass


def always_down() -> None:
    raise Down("down")


# ---- retry budget -----------------------------------------------------------------------


def test_a_shared_budget_denies_retries_with_reason_budget(clock: VirtualClock) -> None:
    budget = RetryBudget(min_retries_per_sec=0, retry_ratio=0.5, time_source=clock.time)
    seen: list[Any] = []
    first = RetryPolicy(max_attempts=5, base_delay=0.1, jitter=False, budget=budget)
    second = RetryPolicy(max_attempts=5, base_delay=0.1, jitter=False, budget=budget)
    assert first == second and first != RetryPolicy(max_attempts=5, base_delay=0.1, jitter=False)
    with pytest.raises(Down):
        RetryExecutor(first, sleep_func=clock.sleep, on_event=seen.append).execute_sync(always_down)
    assert seen == [events.GaveUp(1, "budget")]
    seen.clear()

    async def down() -> None:
        raise Down("down")

    with pytest.raises(Down):
        asyncio.run(RetryExecutor(second, async_sleep_func=clock.async_sleep, on_event=seen.append).execute_async(down))
    assert [e.type for e in seen] == ["retry_scheduled", "gave_up"] and seen[-1].reason == "budget"
    # Success paths deposit too: two more first attempts, one more retry.
    assert RetryExecutor(first).execute_sync(lambda: 1) == 1
    assert RetryExecutor(first).execute_sync(lambda: 1) == 1
    assert budget.available() == 1
    assert (budget.ttl, budget.min_retries_per_sec, budget.retry_ratio) == (10.0, 0, 0.5)
    assert repr(budget) == "RetryBudget(ttl=10.0, min_retries_per_sec=0, retry_ratio=0.5)"
    budget.deposit()
    assert budget.try_withdraw()


def test_the_budget_bound_holds_under_threads() -> None:
    budget = RetryBudget(min_retries_per_sec=0, retry_ratio=0.2)
    for _ in range(1000):
        budget.deposit()
    granted: list[int] = []

    def withdraw() -> None:
        granted.append(sum(budget.try_withdraw() for _ in range(200)))

    threads = [threading.Thread(target=withdraw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 200  # 0.2 × 1000 first attempts, exactly


def test_budget_values_are_judged_by_the_core() -> None:
    with pytest.raises(ParameterValueError) as info:
        RetryBudget(ttl=0.5)
    assert (info.value.parameter, info.value.kind) == ("ttl", "too_small")
    with pytest.raises(ParameterTypeError):
        RetryBudget(retry_ratio="0.2")  # type: ignore[arg-type]


# ---- adaptive throttle ------------------------------------------------------------------


def test_the_throttle_sheds_while_the_backend_rejects(clock: VirtualClock) -> None:
    throttle = AdaptiveThrottle(k=2.0, window=10.0, seed=42, time_source=clock.time)
    shed = 0
    for _ in range(100):
        try:
            throttle.call(always_down)
        except ThrottledError as error:
            shed += 1
            assert error.retry_after > 0 and 0 < error.probability <= 1
        except Down:
            pass
    assert shed > 80
    stats = throttle.stats()
    assert isinstance(stats, ThrottleStats) and stats.requests == 100 and stats.accepts == 0
    assert (throttle.k, throttle.window) == (2.0, 10.0)
    assert repr(throttle) == "AdaptiveThrottle(k=2.0, window=10.0)"


def test_the_accepted_predicate_and_the_decorator_forms(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 404 was answered by the backend: accepted, though it raised.
    throttle = AdaptiveThrottle(accepted=lambda result, error: not isinstance(error, Down), time_source=clock.time)

    @throttle
    def not_found() -> None:
        raise KeyError("404")

    @throttle
    async def fine() -> str:
        return "ok"

    for _ in range(20):
        with pytest.raises(KeyError):
            not_found()
    assert asyncio.run(fine()) == "ok"
    assert throttle.stats().accepts == 21

    async def down() -> None:
        raise Down("x")

    with pytest.raises(Down):
        asyncio.run(throttle.call_async(down))
    reported: list[Any] = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    def broken(result: Any, error: BaseException | None) -> bool:
        raise LookupError("predicate broke")

    counting = AdaptiveThrottle(accepted=broken, time_source=clock.time)
    assert counting.call(lambda: 5) == 5
    assert len(reported) == 1 and counting.stats().accepts == 0
    fresh = AdaptiveThrottle(time_source=clock.time)
    fresh.admit()
    fresh.record(True)
    assert fresh.stats() == ThrottleStats(1, 1, 0.0)


def test_throttle_misuse() -> None:
    with pytest.raises(ParameterValueError):
        AdaptiveThrottle(k=0)
    with pytest.raises(TypeError):
        AdaptiveThrottle().call(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        asyncio.run(AdaptiveThrottle().call_async(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AdaptiveThrottle()(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AdaptiveThrottle(accepted=3)  # type: ignore[arg-type]


# ---- rate limiter ------------------------------------------------------------------------


def test_the_limiter_answers_waits_and_decorates(clock: VirtualClock) -> None:
    limiter = RateLimiter(rate=10, per=1.0, burst=2, time_source=clock.time, sleep_func=clock.sleep,
                          async_sleep_func=clock.async_sleep)
    assert (limiter.rate, limiter.per, limiter.burst) == (10, 1.0, 2)
    assert repr(limiter) == "RateLimiter(rate=10, per=1.0, burst=2)"
    assert limiter.try_acquire() and limiter.try_acquire() and not limiter.try_acquire()
    with pytest.raises(RateLimitedError) as info:
        limiter.check()
    assert info.value.retry_after == pytest.approx(0.1)
    limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.1)]
    asyncio.run(limiter.acquire_async())
    assert len(clock.sleeps) == 2
    assert not limiter.try_acquire(2)

    @rate_limited(limiter)
    def call() -> str:
        return "called"

    @rate_limited(limiter, wait=True)
    def patient() -> str:
        return "waited"

    @rate_limited(limiter)
    async def call_async() -> str:
        return "called"

    @rate_limited(limiter, wait=True)
    async def patient_async() -> str:
        return "waited"

    with pytest.raises(RateLimitedError):
        call()
    assert patient() == "waited"
    with pytest.raises(RateLimitedError):
        asyncio.run(call_async())
    assert asyncio.run(patient_async()) == "waited"
    clock.advance(1.0)
    assert call() == "called" and asyncio.run(call_async()) == "called"


def test_limiter_misuse() -> None:
    with pytest.raises(ParameterValueError) as info:
        RateLimiter(rate=0)
    assert info.value.parameter == "rate"
    limiter = RateLimiter(burst=2)
    with pytest.raises(ParameterValueError) as burst:
        limiter.try_acquire(3)
    assert (burst.value.kind, burst.value.parameter) == ("exceeds_burst", "n")
    with pytest.raises(ParameterTypeError):
        rate_limited(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rate_limited(limiter)(3)  # type: ignore[arg-type]


def test_the_typed_errors_carry_the_wait_and_pickle() -> None:
    limited = pickle.loads(pickle.dumps(RateLimitedError("rate limited", retry_after=0.5)))
    assert isinstance(limited, RuntimeError) and limited.retry_after == 0.5
    throttled = pickle.loads(pickle.dumps(ThrottledError("shed", retry_after=1.5, probability=0.25)))
    assert (throttled.retry_after, throttled.probability) == (1.5, 0.25)
