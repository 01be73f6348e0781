"""The rate limiter and the adaptive throttle as pipeline strategies (core's
order: ... hedging → rate_limiter → bulkhead → throttle), their typed
events (`on_event=` on each, and the pipeline's listener), and what core's
rules `library_errors`, `rejection_hint` and `failing_predicate` make of
them — sync and async, on virtual time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import VirtualClock, run_virtual

from resilience import (
    AdaptiveThrottle,
    Bulkhead,
    Hedging,
    Pipeline,
    RateLimitedError,
    RateLimiter,
    RetryPolicy,
    SyncCircuitBreaker,
    AsyncCircuitBreaker,
    CircuitState,
    ThrottledError,
    rate_limited,
)
from resilience import events
from resilience.errors import ParameterTypeError, ParameterValueError

# rate 3 per second: one cell is worth 1/3 s rounded up to the nanosecond.
CELL = 0.333333334


class Down(Exception):
    pass


def spent_limiter(clock: VirtualClock, **kwargs: Any) -> RateLimiter:
    """A limiter of one cell per 1/3 s whose burst (one cell) is taken."""
    limiter = RateLimiter(rate=3, per=1.0, burst=1, time_source=clock.time, **kwargs)
    assert limiter.try_acquire()
    return limiter


# ---- the rate limiter in a pipeline ----------------------------------------------------


def test_a_limited_attempt_is_retried_after_the_exact_wait(clock: VirtualClock) -> None:
    own: list[Any] = []
    seen: list[Any] = []
    limiter = spent_limiter(clock, on_event=own.append)
    pipeline = (
        Pipeline.builder(time_source=clock.time, sleep_func=clock.sleep)
        .retry(RetryPolicy(max_attempts=3, base_delay=0.1, jitter=False))
        .rate_limiter(limiter)
        .on_event(seen.append)
        .build()
    )
    assert pipeline.strategies == ("retry", "rate_limiter")
    assert pipeline.execute_sync(lambda: "ok") == "ok"
    # Rule `rejection_hint`: the limiter's exact wait, not the 0.1 s backoff.
    assert [round(s * 1e9) for s in clock.sleeps] == [333_333_334]
    assert [type(e) for e in seen] == [events.RateLimited, events.RetryScheduled]
    assert round(seen[0].retry_after * 1e9) == 333_333_334
    assert isinstance(seen[1].error, RateLimitedError) and round(seen[1].delay * 1e9) == 333_333_334
    assert own == seen[:1], "the limiter's own listener hears its refusal too"


def test_an_async_pipeline_takes_one_cell_per_attempt(clock: VirtualClock) -> None:
    seen: list[Any] = []
    limiter = spent_limiter(clock)
    pipeline = (
        Pipeline.builder(time_source=clock.time, async_sleep_func=clock.async_sleep)
        .retry(RetryPolicy(max_attempts=2, base_delay=0.1, jitter=False))
        .rate_limiter(limiter)
        .on_event(seen.append)
        .build()
    )

    async def down() -> None:
        raise Down("down")

    with pytest.raises(Down):
        asyncio.run(pipeline.execute_async(down))
    assert [e.type for e in seen] == ["rate_limited", "retry_scheduled", "gave_up"]
    assert [round(s * 1e9) for s in clock.sleeps] == [333_333_334]
    # The last attempt took the cell: a pipeline without a retry fails fast.
    alone = Pipeline.builder().rate_limiter(limiter).build()
    with pytest.raises(RateLimitedError) as info:
        asyncio.run(alone.execute_async(down))
    assert round(info.value.retry_after * 1e9) == 333_333_334


def test_a_limited_call_is_not_the_breakers_failure_and_falls_back(clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=1, time_source=clock.time)
    limiter = spent_limiter(clock)
    pipeline = Pipeline.builder().breaker(breaker).rate_limiter(limiter).build()
    for _ in range(3):
        with pytest.raises(RateLimitedError):
            pipeline.execute_sync(lambda: "never")
    assert breaker.failure_count() == 0 and breaker.state() == CircuitState.CLOSED
    seen: list[Any] = []
    guarded = Pipeline.builder().fallback(lambda: "cached").rate_limiter(limiter).on_event(seen.append).build()
    assert guarded.execute_sync(lambda: "never") == "cached"
    assert [e.type for e in seen] == ["rate_limited", "fallback_used"]

    async def scenario() -> None:
        async_breaker = AsyncCircuitBreaker(failure_threshold=1, time_source=clock.time)
        async_pipeline = Pipeline.builder().breaker(async_breaker).rate_limiter(limiter).build()

        async def never() -> str:
            return "never"

        with pytest.raises(RateLimitedError):
            await async_pipeline.execute_async(never)
        assert await async_breaker.failure_count() == 0
        assert await guarded.execute_async(never) == "cached"

    asyncio.run(scenario())


def test_each_hedged_copy_asks_the_limiter_for_its_own_cell(clock: VirtualClock) -> None:
    seen: list[Any] = []
    limiter = RateLimiter(rate=3, per=1.0, burst=1, time_source=clock.time)
    pipeline = Pipeline.builder().hedging(Hedging(0.0, 1)).rate_limiter(limiter).on_event(seen.append).build()
    runs: list[int] = []

    async def slow() -> str:
        runs.append(1)
        await asyncio.sleep(1.0)
        return "answer"

    # Copy 1 takes the only cell; copy 2 is limited (a failed copy), so copy 1 answers.
    assert run_virtual(pipeline.execute_async(slow)) == "answer"
    assert runs == [1]
    assert [e.type for e in seen] == ["hedge_started", "rate_limited"]


# ---- the throttle in a pipeline --------------------------------------------------------


def test_a_throttle_sheds_and_records_what_its_predicate_says(clock: VirtualClock) -> None:
    judged: list[Any] = []

    def accepted(result: Any, error: BaseException | None) -> bool:
        judged.append((result, error))
        return error is None and result != 503

    own: list[Any] = []
    seen: list[Any] = []
    throttle = AdaptiveThrottle(seed=42, accepted=accepted, time_source=clock.time, on_event=own.append)
    pipeline = Pipeline.builder().throttle(throttle).on_event(seen.append).build()
    outcomes: list[Any] = []
    for _ in range(30):
        try:
            outcomes.append(pipeline.execute_sync(lambda: 503))
        except ThrottledError as error:
            outcomes.append(error)
    shed = [o for o in outcomes if isinstance(o, ThrottledError)]
    assert shed, "a backend that answers 503 gets shed requests"
    assert len(judged) == 30 - len(shed) and all(j == (503, None) for j in judged)
    stats = throttle.stats()
    assert (stats.requests, stats.accepts) == (30, 0)
    assert own == seen and [type(e) for e in seen] == [events.Throttled] * len(shed)
    assert (seen[0].retry_after, seen[0].probability) == (shed[0].retry_after, shed[0].probability)


def test_a_shed_request_is_retried_after_the_retrys_own_backoff(clock: VirtualClock) -> None:
    throttle = AdaptiveThrottle(seed=42, time_source=clock.time)
    # The conformance vector's history: eight requests, the first two accepted
    # (shed ones count as requests too), so (8 - 2·2) / 9 of the next are shed.
    for i in range(8):
        try:
            throttle.admit()
        except ThrottledError:
            continue
        if i < 2:
            throttle.record(True)
    seen: list[Any] = []
    pipeline = (
        Pipeline.builder(time_source=clock.time, sleep_func=clock.sleep)
        .retry(RetryPolicy(max_attempts=4, base_delay=0.1, jitter=False))
        .throttle(throttle)
        .on_event(seen.append)
        .build()
    )
    assert pipeline.execute_sync(lambda: "ok") == "ok"
    # The same draws as the conformance vector; the waits are the backoff's, not the 12 s suggested.
    assert [e.type for e in seen] == ["throttled", "retry_scheduled"] * 2
    assert clock.sleeps == [0.1, 0.2]
    assert seen[0].probability == 4 / 9 and seen[0].retry_after == 12.0


def test_a_failing_accept_predicate_counts_the_request_as_not_accepted(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    def broken(result: Any, error: BaseException | None) -> bool:
        raise LookupError("predicate broke")

    async def value() -> int:
        return 6

    def down() -> None:
        raise Down("down")

    # A fresh throttle per call: one request not accepted already sheds half the next.
    for call in (
        lambda p: p.execute_sync(lambda: 5) == 5,
        lambda p: pytest.raises(Down, p.execute_sync, down) is not None,
        lambda p: asyncio.run(p.execute_async(value)) == 6,
    ):
        throttle = AdaptiveThrottle(accepted=broken, time_source=clock.time)
        assert call(Pipeline.builder().throttle(throttle).build())
        assert (throttle.stats().requests, throttle.stats().accepts) == (1, 0)
    assert len(reported) == 3 and all(r.object is broken for r in reported)


def test_an_async_throttle_records_errors_and_values(clock: VirtualClock) -> None:
    throttle = AdaptiveThrottle(time_source=clock.time)
    pipeline = Pipeline.builder().retry(RetryPolicy(max_attempts=1)).throttle(throttle).build()

    async def fine() -> str:
        return "fine"

    async def down() -> None:
        raise Down("down")

    assert asyncio.run(pipeline.execute_async(fine)) == "fine"
    with pytest.raises(Down):
        asyncio.run(pipeline.execute_async(down))
    stats = throttle.stats()
    assert (stats.requests, stats.accepts) == (2, 1)


def test_every_load_strategy_in_one_pipeline(clock: VirtualClock) -> None:
    limiter = RateLimiter(rate=1000, burst=10, time_source=clock.time)
    throttle = AdaptiveThrottle(time_source=clock.time)
    pipeline = (
        Pipeline.builder()
        .retry(RetryPolicy(max_attempts=2))
        .rate_limiter(limiter)
        .bulkhead(Bulkhead(name="b"))
        .throttle(throttle)
        .build()
    )
    assert pipeline.strategies == ("retry", "rate_limiter", "bulkhead", "throttle")
    assert pipeline.execute_sync(lambda x: x + 1, 1) == 2
    assert repr(pipeline) == "Pipeline(strategies=['retry', 'rate_limiter', 'bulkhead', 'throttle'])"


def test_the_builder_checks_types_and_core_checks_the_order() -> None:
    with pytest.raises(ParameterTypeError) as info:
        Pipeline.builder().rate_limiter(3)  # type: ignore[arg-type]
    assert info.value.parameter == "limiter"
    with pytest.raises(ParameterTypeError) as info:
        Pipeline.builder().throttle(RateLimiter())  # type: ignore[arg-type]
    assert info.value.parameter == "throttle"
    with pytest.raises(ParameterValueError) as order:
        Pipeline.builder().throttle(AdaptiveThrottle()).bulkhead(Bulkhead(name="b")).build()
    assert (order.value.kind, order.value.parameter) == ("out_of_order", "strategies")
    with pytest.raises(ParameterValueError) as order:
        Pipeline.builder().rate_limiter(RateLimiter()).hedging(Hedging()).build()
    assert order.value.kind == "out_of_order"
    with pytest.raises(ParameterValueError) as twice:
        Pipeline.builder().rate_limiter(RateLimiter()).rate_limiter(RateLimiter()).build()
    assert twice.value.kind == "duplicate"


# ---- on_event on the strategies themselves ----------------------------------------------


def test_the_limiter_tells_each_refusal_it_does_not_wait_out(clock: VirtualClock) -> None:
    seen: list[Any] = []
    limiter = RateLimiter(
        rate=3,
        per=1.0,
        burst=2,
        time_source=clock.time,
        sleep_func=clock.sleep,
        async_sleep_func=clock.async_sleep,
        on_event=seen.append,
    )
    assert limiter.try_acquire(2)
    assert not limiter.try_acquire()
    assert not limiter.try_acquire(2)
    with pytest.raises(RateLimitedError):
        limiter.check()
    with pytest.raises(RateLimitedError):
        rate_limited(limiter)(lambda: None)()
    assert [type(e) for e in seen] == [events.RateLimited] * 4
    assert [round(e.retry_after * 1e9) for e in seen] == [333_333_334, 666_666_668, 333_333_334, 333_333_334]
    seen.clear()
    limiter.acquire()  # waits: a wait is not a refusal
    asyncio.run(limiter.acquire_async())
    assert seen == [] and len(clock.sleeps) == 2


def test_the_throttle_tells_each_shed_request(clock: VirtualClock) -> None:
    seen: list[Any] = []
    throttle = AdaptiveThrottle(seed=7, time_source=clock.time, on_event=seen.append)
    shed = 0
    for _ in range(40):
        try:
            throttle.call(lambda: (_ for _ in ()).throw(Down("down")))
        except ThrottledError:
            shed += 1
        except Down:
            pass
    assert shed > 0 and len(seen) == shed and all(isinstance(e, events.Throttled) for e in seen)


def test_a_listener_that_raises_is_ignored_and_on_event_is_checked(clock: VirtualClock) -> None:
    def broken(event: Any) -> None:
        raise LookupError("listener broke")

    limiter = spent_limiter(clock, on_event=broken)
    assert not limiter.try_acquire()
    with pytest.raises(RateLimitedError):
        limiter.check()
    with pytest.raises(ParameterTypeError) as info:
        RateLimiter(on_event=3)  # type: ignore[arg-type]
    assert info.value.parameter == "on_event"
    with pytest.raises(ParameterTypeError) as info:
        AdaptiveThrottle(on_event="x")  # type: ignore[arg-type]
    assert info.value.parameter == "on_event"
