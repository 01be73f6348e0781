"""Issue 10's Python faces: the attempt timeout and the deadline of a retry,
result predicates, `timeout`, `hedge`, `Pipeline` and typed events — on a
virtual-time event loop (never a real sleep). Cancellation tests check that a
timed-out attempt and a losing hedge are cancelled and leave no task pending
(`run_virtual` fails on any)."""

from __future__ import annotations

import asyncio
import logging
import pickle
from typing import Any

import pytest
from conftest import VirtualClock, run_virtual

from resilience import (
    AsyncCircuitBreaker,
    Bulkhead,
    BulkheadFullError,
    CircuitBreakerOpenError,
    FallbackChain,
    Hedging,
    Pipeline,
    RetryExecutor,
    RetryPolicy,
    SyncCircuitBreaker,
    Timeout,
    circuit_breaker,
    hedge,
    retry,
    timeout,
)
from resilience import _core, events
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool
from resilience.errors import ParameterTypeError, ParameterValueError


class Down(Exception):
    pass


# ---- attempt timeout, deadline, result predicates --------------------------------------


def test_a_timed_out_attempt_is_cancelled_and_retried() -> None:
    cancelled: list[int] = []
    seen: list[Any] = []

    async def scenario() -> str:
        calls = {"n": 0}

        async def slow_then_fast() -> str:
            calls["n"] += 1
            try:
                await asyncio.sleep(10 if calls["n"] == 1 else 0.1)
            except asyncio.CancelledError:
                cancelled.append(calls["n"])
                raise
            return "ok"

        policy = RetryPolicy(max_attempts=3, base_delay=1.0, jitter=False, attempt_timeout=2.0)
        return await RetryExecutor(policy, on_event=seen.append).execute_async(slow_then_fast)

    assert run_virtual(scenario()) == "ok"
    assert cancelled == [1]
    assert seen == [events.TimedOut("attempt_timeout", 2.0), events.RetryScheduled(1, 1.0, seen[1].error)]
    assert isinstance(seen[1].error, TimeoutError)


def test_the_last_timed_out_attempt_raises_the_builtin_timeout_error() -> None:
    async def scenario() -> None:
        async def never() -> None:
            await asyncio.sleep(100)

        policy = RetryPolicy(max_attempts=2, base_delay=0.5, jitter=False, attempt_timeout=1.0)
        await RetryExecutor(policy).execute_async(never)

    with pytest.raises(TimeoutError) as info:
        run_virtual(scenario())
    assert type(info.value) is TimeoutError
    assert info.value.strategy == "attempt_timeout" and info.value.timeout == 1.0  # type: ignore[attr-defined]


def test_an_injected_sleep_times_attempts_too() -> None:
    slept: list[float] = []

    async def scenario() -> Any:
        async def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            await asyncio.sleep(seconds)

        async def slow() -> str:
            await asyncio.sleep(5)
            return "late"

        policy = RetryPolicy(max_attempts=1, attempt_timeout=1.0)
        return await RetryExecutor(policy, async_sleep_func=fake_sleep).execute_async(slow)

    with pytest.raises(TimeoutError):
        run_virtual(scenario())
    assert slept == [1.0]


def test_the_users_own_timeout_error_is_not_the_librarys() -> None:
    async def scenario() -> None:
        async def fails() -> None:
            raise TimeoutError("mine")

        policy = RetryPolicy(max_attempts=2, jitter=False, base_delay=0.1, attempt_timeout=5.0, retryable_errors=(KeyError,))
        await RetryExecutor(policy).execute_async(fails)

    with pytest.raises(TimeoutError, match="mine"):
        run_virtual(scenario())


def test_the_deadline_applies_between_blocking_attempts(clock: VirtualClock) -> None:
    seen: list[Any] = []
    policy = RetryPolicy(max_attempts=10, backoff="fixed", base_delay=1.0, jitter=False, max_elapsed=2.5)
    executor = RetryExecutor(policy, time_source=clock.time, sleep_func=clock.sleep, on_event=seen.append)

    def fails() -> None:
        clock.advance(0.1)
        raise Down("x")

    with pytest.raises(Down):
        executor.execute_sync(fails)
    assert clock.sleeps == [1.0, 1.0]
    assert seen[-1] == events.GaveUp(3, "deadline")
    # The decorator honours it too (its clock is the time_source).
    decorated = retry(policy=policy, time_source=clock.time, sleep_func=clock.sleep, on_event=seen.append)(fails)
    with pytest.raises(Down):
        decorated()
    assert seen[-1] == events.GaveUp(3, "deadline")


def test_retry_on_result_returns_the_last_value_sync_and_async(clock: VirtualClock) -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, jitter=False, retry_on_result=lambda v: v is None)
    seen: list[Any] = []
    notified: list[Any] = []
    executor = RetryExecutor(
        policy,
        on_retry=lambda a, cause: notified.append((a, cause)),
        sleep_func=clock.sleep,
        async_sleep_func=clock.async_sleep,
        on_event=seen.append,
    )
    assert executor.execute_sync(lambda: None) is None
    assert seen == [events.RetryScheduled(1, 0.1, None, None), events.RetryScheduled(2, 0.2, None, None), events.GaveUp(3, "exhausted")]
    assert notified == [(1, None), (2, None)]

    async def value() -> int:
        return 7

    assert asyncio.run(executor.execute_async(value)) == 7
    decorated = retry(policy=policy, async_sleep_func=clock.async_sleep)(value)
    assert asyncio.run(decorated()) == 7


def test_a_failing_result_predicate_accepts_the_value(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[Any] = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    def broken(value: Any) -> bool:
        raise LookupError("predicate broke")

    policy = RetryPolicy(retry_on_result=broken)
    assert RetryExecutor(policy, sleep_func=clock.sleep).execute_sync(lambda: 5) == 5
    assert len(reported) == 1 and clock.sleeps == []


def test_policy_fields_are_values_and_checked() -> None:
    budget_less = RetryPolicy(max_elapsed=5.0, attempt_timeout=1.0)
    assert budget_less == RetryPolicy(max_elapsed=5.0, attempt_timeout=1.0)
    assert hash(budget_less) == hash(RetryPolicy(max_elapsed=5.0, attempt_timeout=1.0))
    assert budget_less != RetryPolicy(max_elapsed=6.0, attempt_timeout=1.0)
    assert "max_elapsed=5.0, attempt_timeout=1.0" in repr(budget_less)
    assert "max_elapsed" not in repr(RetryPolicy())
    assert pickle.loads(pickle.dumps(budget_less)) == budget_less
    with pytest.raises(ParameterValueError) as info:
        RetryPolicy(attempt_timeout=0)
    assert (info.value.parameter, info.value.kind) == ("attempt_timeout", "too_small")
    with pytest.raises(ParameterTypeError) as type_info:
        RetryPolicy(budget=object())  # type: ignore[arg-type]
    assert type_info.value.parameter == "budget"
    with pytest.raises(ParameterTypeError):
        RetryPolicy(retry_on_result=3)  # type: ignore[arg-type]


# ---- timeout ----------------------------------------------------------------------------


def test_timeout_as_a_decorator_and_an_async_context_manager() -> None:
    seen: list[Any] = []
    cancelled: list[str] = []

    @timeout(1.0, on_event=seen.append)
    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append("decorated")
            raise

    @timeout(1.0)
    async def fast() -> str:
        await asyncio.sleep(0.5)
        return "fast"

    async def scenario() -> None:
        assert await fast() == "fast"
        with pytest.raises(TimeoutError):
            await slow()
        scope = timeout(2.0, on_event=seen.append)
        with pytest.raises(TimeoutError):
            async with scope:
                try:
                    await asyncio.sleep(5)
                except asyncio.CancelledError:
                    cancelled.append("context")
                    raise
        async with scope:  # reusable once the first is over
            await asyncio.sleep(1)
        assert await Timeout(3.0).execute_async(asyncio.sleep, 1, "slept") == "slept"

    run_virtual(scenario())
    assert cancelled == ["decorated", "context"]
    assert seen == [events.TimedOut("total_timeout", 1.0), events.TimedOut("total_timeout", 2.0)]


def test_timeout_with_an_injected_sleep() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    async def scenario() -> None:
        scope = timeout(1.0, async_sleep_func=fake_sleep)
        with pytest.raises(TimeoutError):
            async with scope:
                await asyncio.sleep(5)
        async with scope:
            await asyncio.sleep(0.5)
        with pytest.raises(RuntimeError, match="already in use"):
            async with scope:
                async with scope:
                    pass

    run_virtual(scenario())
    # The third scope's timer is cancelled before it ever started.
    assert slept == [1.0, 1.0]


def test_timeout_misuse_fails_where_it_is_made() -> None:
    with pytest.raises(ParameterValueError) as info:
        timeout(0)
    assert (info.value.parameter, info.value.kind) == ("timeout", "too_small")
    with pytest.raises(TypeError, match="cannot be pre-empted"):
        timeout(1.0)(lambda: None)
    with pytest.raises(TypeError):
        timeout(1.0)(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        asyncio.run(timeout(1.0).execute_async(3))  # type: ignore[arg-type]
    assert repr(timeout(2.5)) == "Timeout(seconds=2.5)" and Timeout().seconds == _core.DEFAULT_TIMEOUT


# ---- hedging ----------------------------------------------------------------------------


def test_a_losing_hedge_is_cancelled_and_nothing_is_left_pending() -> None:
    cancelled: list[int] = []
    seen: list[Any] = []

    async def scenario() -> str:
        started: list[int] = []

        @hedge(0.1, 2, on_event=seen.append)
        async def read(key: str) -> str:
            started.append(len(started) + 1)
            number = len(started)
            try:
                await asyncio.sleep({1: 5.0, 2: 0.05, 3: 1.0}[number])
            except asyncio.CancelledError:
                cancelled.append(number)
                raise
            return f"{key}:{number}"

        return await read("k")

    assert run_virtual(scenario()) == "k:2"
    assert cancelled == [1]
    assert seen == [events.HedgeStarted(2)]


def test_hedging_surfaces_the_last_failure_and_reports_a_failing_predicate(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[Any] = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    async def scenario() -> None:
        async def fails() -> None:
            raise Down("down")

        with pytest.raises(Down):
            await Hedging(0.0, 2).execute(fails)

        def broken(value: Any) -> bool:
            raise LookupError("predicate broke")

        async def value() -> int:
            return 3

        assert await Hedging(failure_on_result=broken).execute(value) == 3

        class Stop(BaseException):
            pass

        async def interrupted() -> None:
            raise Stop

        with pytest.raises(Stop):
            await Hedging(0.0, 1).execute(interrupted)

    run_virtual(scenario())
    assert len(reported) == 1


def test_hedging_misuse() -> None:
    with pytest.raises(ParameterValueError) as info:
        Hedging(max_hedged_attempts=11)
    assert info.value.parameter == "max_hedged_attempts"
    with pytest.raises(TypeError, match="coroutine"):
        hedge()(lambda: None)
    with pytest.raises(TypeError):
        hedge()(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        asyncio.run(Hedging().execute(3))  # type: ignore[arg-type]
    h = Hedging(0.25, 3)
    assert (h.hedge_delay, h.max_hedged_attempts) == (0.25, 3)
    assert repr(h) == "Hedging(hedge_delay=0.25, max_hedged_attempts=3)"


# ---- pipeline ---------------------------------------------------------------------------


def test_a_pipeline_sync_and_as_a_decorator(clock: VirtualClock) -> None:
    seen: list[Any] = []
    breaker = SyncCircuitBreaker(failure_threshold=5, time_source=clock.time, on_event=seen.append)
    pipeline = (
        Pipeline.builder(time_source=clock.time, sleep_func=clock.sleep)
        .fallback(lambda name: f"cached {name}")
        .retry(RetryPolicy(max_attempts=2, base_delay=0.5, jitter=False))
        .breaker(breaker)
        .bulkhead(Bulkhead(name="db", pool=SyncResourcePool(max_concurrent=2)))
        .on_event(seen.append)
        .build()
    )
    assert pipeline.strategies == ("fallback", "retry", "breaker", "bulkhead")
    assert repr(pipeline) == "Pipeline(strategies=['fallback', 'retry', 'breaker', 'bulkhead'])"

    @pipeline
    def fetch(name: str) -> str:
        raise Down(name)

    assert fetch("ann") == "cached ann"
    assert [e.type for e in seen] == ["retry_scheduled", "gave_up", "fallback_used"]
    assert pipeline.execute_sync(lambda: "up") == "up"


def test_an_async_pipeline_with_every_strategy() -> None:
    seen: list[Any] = []

    async def scenario() -> Any:
        breaker = AsyncCircuitBreaker(failure_threshold=10)
        pipeline = (
            Pipeline.builder()
            .fallback(lambda: "fallback")
            .total_timeout(30.0)
            .retry(RetryPolicy(max_attempts=3, base_delay=0.1, jitter=False))
            .breaker(breaker)
            .attempt_timeout(1.0)
            .hedging(Hedging(0.2, 1))
            .bulkhead(Bulkhead(name="b", pool=AsyncResourcePool(max_concurrent=4)))
            .on_event(seen.append)
            .build()
        )
        calls = {"n": 0}

        @pipeline
        async def read() -> str:
            calls["n"] += 1
            await asyncio.sleep(5 if calls["n"] <= 2 else 0.05)
            return "read"

        return await read(), await breaker.failure_count()

    assert run_virtual(scenario()) == ("read", 0)
    types = [e.type for e in seen]
    assert types[:3] == ["hedge_started", "timeout", "retry_scheduled"]


def test_a_pipeline_total_timeout_and_an_async_fallback() -> None:
    async def scenario() -> Any:
        async def cached() -> str:
            return "cached"

        pipeline = Pipeline.builder().fallback(cached).total_timeout(1.0).build()

        async def slow() -> str:
            await asyncio.sleep(10)
            return "slow"

        async def broken() -> str:
            raise Down("x")

        async def broken_fallback() -> str:
            raise KeyError("fallback")

        first = await pipeline.execute_async(slow)
        failing = Pipeline.builder().fallback(broken_fallback).build()
        with pytest.raises(KeyError):
            await failing.execute_async(broken)
        unexpected = Pipeline.builder().fallback(cached, expected_exceptions=(KeyError,)).build()
        with pytest.raises(Down):
            await unexpected.execute_async(broken)
        return first

    assert run_virtual(scenario()) == "cached"


def test_pipeline_misuse_fails_where_it_is_made() -> None:
    builder = Pipeline.builder()
    with pytest.raises(ParameterTypeError):
        builder.retry(3)  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError):
        builder.breaker(3)  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError):
        builder.hedging(3)  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError):
        builder.bulkhead(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        builder.on_event(3)  # type: ignore[arg-type]
    with pytest.raises(ParameterValueError) as info:
        Pipeline.builder().breaker(SyncCircuitBreaker()).retry(RetryPolicy()).build()
    assert (info.value.parameter, info.value.kind) == ("strategies", "out_of_order")
    timed = Pipeline.builder().attempt_timeout(1.0).build()
    with pytest.raises(TypeError, match="execute_async"):
        timed.execute_sync(lambda: None)
    with pytest.raises(TypeError):
        timed.execute_sync(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        asyncio.run(timed.execute_async(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        timed(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SyncCircuitBreaker"):
        Pipeline.builder().breaker(AsyncCircuitBreaker()).build().execute_sync(lambda: None)

    async def call() -> None:
        return None

    with pytest.raises(TypeError, match="AsyncCircuitBreaker"):
        asyncio.run(Pipeline.builder().breaker(SyncCircuitBreaker()).build().execute_async(call))


def test_a_pipeline_retries_an_open_breaker_after_its_open_time(clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=5.0, time_source=clock.time)
    pipeline = (
        Pipeline.builder(time_source=clock.time, sleep_func=clock.sleep)
        .retry(RetryPolicy(max_attempts=3, base_delay=0.1, jitter=False, retryable_errors=(Down,)))
        .breaker(breaker)
        .build()
    )
    outcomes = iter([Down("x"), "ok"])

    def call() -> Any:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # The open breaker's rejection is retried (not by the user's filter) after 5 s.
    assert pipeline.execute_sync(call) == "ok"
    assert clock.sleeps == [0.1, 4.9]


# ---- events and listeners ----------------------------------------------------------------


def test_a_failing_listener_is_logged_and_ignored(clock: VirtualClock, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: Any) -> None:
        raise LookupError("listener broke")

    policy = RetryPolicy(max_attempts=2, base_delay=0.1, jitter=False)
    calls = iter([Down("x"), "ok"])

    def call() -> Any:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with caplog.at_level(logging.WARNING, logger="resilience"):
        assert RetryExecutor(policy, sleep_func=clock.sleep, on_event=broken).execute_sync(call) == "ok"
        events.deliver(broken, events.BulkheadRejected())
    assert [r.getMessage() for r in caplog.records].count("Event listener failed") == 2


def test_breakers_tell_transitions_and_rejections(clock: VirtualClock) -> None:
    seen: list[Any] = []
    decorated_seen: list[Any] = []
    breaker = SyncCircuitBreaker(
        failure_threshold=1, recovery_timeout=10.0, time_source=clock.time, on_event=seen.append,
        failure_on_result=lambda v: v == "bad",
    )
    assert breaker.on_event is not None and breaker.failure_on_result is not None
    assert breaker.call(lambda: "bad") == "bad"
    with pytest.raises(CircuitBreakerOpenError):
        breaker.call(lambda: "good")
    clock.advance(10)
    assert breaker.call(lambda: "good") == "good"
    assert seen == [
        events.BreakerTransition("closed", "open"),
        events.BreakerRejected(10.0, "open"),
        events.BreakerTransition("open", "half_open"),
        events.BreakerTransition("half_open", "closed"),
    ]

    @circuit_breaker(failure_threshold=1, on_event=decorated_seen.append, failure_on_result=lambda v: v < 0)
    async def value(v: int) -> int:
        return v

    assert asyncio.run(value(-1)) == -1
    assert decorated_seen == [events.BreakerTransition("closed", "open")]
    async_breaker = AsyncCircuitBreaker(on_event=seen.append, failure_on_result=bool)
    assert async_breaker.on_event == seen.append and async_breaker.failure_on_result is bool


def test_fallback_chains_tell_each_fallback_used() -> None:
    seen: list[Any] = []

    def fails() -> str:
        raise Down("x")

    chain = FallbackChain(fallbacks=[fails, lambda: "second"], on_event=seen.append)
    assert chain.execute(fails) == "second"
    with pytest.raises(TypeError):
        chain.execute(3)  # type: ignore[arg-type]

    async def fails_async() -> str:
        raise Down("y")

    assert asyncio.run(chain.execute_async(fails_async)) == "second"
    assert seen == [events.FallbackUsed(0), events.FallbackUsed(1)] * 2


def test_a_full_bulkhead_tells_its_rejection() -> None:
    seen: list[Any] = []
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=0)
    assert pool.acquire()
    bulkhead = Bulkhead(name="b", pool=pool, on_event=seen.append)
    with pytest.raises(BulkheadFullError):
        bulkhead.execute(lambda: None)
    assert seen == [events.BulkheadRejected()]


def test_event_types_are_the_cores_names() -> None:
    assert [c.type for c in events._CLASSES] == _core.event_types()


def test_an_answer_ready_before_the_injected_timer_wins() -> None:
    async def never_fires(seconds: float) -> None:
        await asyncio.Event().wait()

    async def scenario() -> str:
        async def fast() -> str:
            await asyncio.sleep(0.1)
            return "fast"

        return await Timeout(5.0, async_sleep_func=never_fires).execute_async(fast)

    assert run_virtual(scenario()) == "fast"


def test_a_hedge_cancelled_from_outside_releases_every_copy_and_its_timer() -> None:
    cancelled: list[int] = []

    async def scenario() -> None:
        started: list[int] = []

        async def slow() -> None:
            started.append(len(started) + 1)
            number = len(started)
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                cancelled.append(number)
                raise

        hedged = asyncio.ensure_future(Hedging(1.0, 3).execute(slow))
        await asyncio.sleep(1.5)  # two copies running, the third one's timer pending
        hedged.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hedged

    run_virtual(scenario())
    assert sorted(cancelled) == [1, 2]


def test_an_async_bulkhead_that_times_out_tells_its_rejection() -> None:
    seen: list[Any] = []

    async def scenario() -> None:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.5)
        assert await pool.acquire()
        bulkhead = Bulkhead(name="b", pool=pool, on_event=seen.append)

        async def call() -> None:
            return None

        with pytest.raises(BulkheadFullError):
            await bulkhead.execute_async(call)

    run_virtual(scenario())
    assert seen == [events.BulkheadRejected()]


def test_a_timed_call_cancelled_from_outside_is_cancelled_not_timed_out() -> None:
    async def scenario() -> None:
        async def slow() -> None:
            await asyncio.sleep(100)

        timed = asyncio.ensure_future(Timeout(5.0).execute_async(slow))
        await asyncio.sleep(1.0)
        timed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await timed

    run_virtual(scenario())


def test_every_composition_path_of_a_pipeline(clock: VirtualClock) -> None:
    # Sync: a breaker alone (native), a retry around a bulkhead (composed in Python).
    breaker_only = Pipeline.builder().breaker(SyncCircuitBreaker()).build()
    assert breaker_only.execute_sync(lambda x: x + 1, 1) == 2
    policy = RetryPolicy(max_attempts=2, base_delay=0.1, jitter=False)
    composed = (
        Pipeline.builder(sleep_func=clock.sleep)
        .retry(policy)
        .bulkhead(Bulkhead(name="b", pool=SyncResourcePool(max_concurrent=1)))
        .build()
    )
    replies = iter([Down("x"), "ok"])

    def flaky() -> Any:
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    assert composed.execute_sync(flaky) == "ok" and clock.sleeps == [0.1]

    async def scenario() -> Any:
        # Async: a retry around a bulkhead (plain and not), a retry with a
        # deadline around a breaker (the fused layer's general path).
        async def flaky_async(replies: Any) -> Any:
            return flaky_of(replies)

        def flaky_of(replies: Any) -> Any:
            reply = next(replies)
            if isinstance(reply, Exception):
                raise reply
            return reply

        bulkhead = Bulkhead(name="b", pool=AsyncResourcePool(max_concurrent=1))
        plain = Pipeline.builder(async_sleep_func=clock.async_sleep).retry(policy).bulkhead(bulkhead).build()
        assert await plain.execute_async(flaky_async, iter([Down("x"), "ok"])) == "ok"
        deadline = RetryPolicy(max_attempts=2, base_delay=0.1, jitter=False, max_elapsed=60.0)
        timed = Pipeline.builder(async_sleep_func=clock.async_sleep).retry(deadline).bulkhead(bulkhead).build()
        assert await timed.execute_async(flaky_async, iter([Down("x"), "ok"])) == "ok"
        fused = Pipeline.builder(async_sleep_func=clock.async_sleep).retry(deadline).breaker(AsyncCircuitBreaker()).build()
        assert await fused.execute_async(flaky_async, iter([Down("x"), "ok"])) == "ok"
        fallback = Pipeline.builder().fallback(lambda r: "fallback").retry(RetryPolicy(max_attempts=1)).build()
        return await fallback.execute_async(flaky_async, iter([Down("x")]))

    assert run_virtual(scenario()) == "fallback"
    with_fallback = Pipeline.builder().fallback(lambda: "fallback").breaker(SyncCircuitBreaker()).build()
    assert with_fallback.execute_sync(lambda: "up") == "up"

    def down() -> None:
        raise Down("x")

    assert with_fallback.execute_sync(down) == "fallback"


def test_an_attempt_timeout_alone_times_the_first_attempt_on_the_loop() -> None:
    async def scenario() -> Any:
        calls = {"n": 0}

        async def slow_once() -> str:
            calls["n"] += 1
            await asyncio.sleep(10 if calls["n"] == 1 else 0)
            return "ok"

        policy = RetryPolicy(max_attempts=2, base_delay=0.1, jitter=False, attempt_timeout=1.0)
        executor = RetryExecutor(policy)
        assert await executor.execute_async(slow_once) == "ok"
        executor.policy = RetryPolicy(max_attempts=2)  # a replaced policy is judged again
        assert await executor.execute_async(slow_once) == "ok"
        return calls["n"]

    assert run_virtual(scenario()) == 3


def test_a_plain_retry_around_a_breaker_tells_the_same_events_sync_and_async() -> None:
    def run(asynchronous: bool) -> tuple[Any, list[Any], list[float]]:
        clock = VirtualClock()
        seen: list[Any] = []
        kind = AsyncCircuitBreaker if asynchronous else SyncCircuitBreaker
        breaker = kind(failure_threshold=1, recovery_timeout=2.0, time_source=clock.time)
        pipeline = (
            Pipeline.builder(time_source=clock.time, sleep_func=clock.sleep, async_sleep_func=clock.async_sleep)
            .retry(RetryPolicy(max_attempts=3, base_delay=0.5, jitter=False))
            .breaker(breaker)
            .on_event(seen.append)
            .build()
        )
        replies = iter([Down("x"), "ok"])

        def call() -> Any:
            reply = next(replies)
            if isinstance(reply, Exception):
                raise reply
            return reply

        async def call_async() -> Any:
            return call()

        result = asyncio.run(pipeline.execute_async(call_async)) if asynchronous else pipeline.execute_sync(call)
        return result, [type(e).__name__ for e in seen], clock.sleeps

    assert run(asynchronous=True) == run(asynchronous=False) == (
        "ok",
        ["BreakerTransition", "RetryScheduled", "BreakerRejected", "RetryScheduled", "BreakerTransition", "BreakerTransition"],
        [0.5, 1.5],
    )


def test_a_plain_retry_around_a_breaker_succeeds_at_once() -> None:
    breaker = AsyncCircuitBreaker(failure_threshold=1, failure_on_result=lambda v: v == "bad")
    pipeline = Pipeline.builder().retry(RetryPolicy(max_attempts=1)).breaker(breaker).build()

    async def bad() -> str:
        return "bad"

    assert asyncio.run(pipeline.execute_async(bad)) == "bad"  # returned, and counted by the breaker
    assert asyncio.run(breaker.failure_count()) == 1
