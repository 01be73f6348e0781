"""No reference or memory leaks over 100 000 calls through every native path."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import tracemalloc
from typing import Any, Callable

import pytest

from resilience import FallbackChain, RetryExecutor, RetryPolicy, SyncCircuitBreaker, retry
from resilience.bulkhead_sync import SyncResourcePool

CALLS = 100_000
# Python-heap growth allowed over CALLS calls: far below one object per call.
SLACK_BYTES = 64 * 1024


class Payload:
    pass


@pytest.fixture(autouse=True)
def quiet_logger() -> Any:
    """Records kept by pytest's log capture would look like a leak."""
    logger = logging.getLogger("resilience")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def measure(run: Callable[[], None], *objects: Any) -> None:
    run()  # warm caches (interned strings, logger, enum members)
    gc.collect()
    refs = [sys.getrefcount(o) for o in objects]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(CALLS // 1000):
            for _ in range(1000):
                run()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert growth < SLACK_BYTES, f"Python heap grew by {growth} bytes over {CALLS} calls"
    assert [sys.getrefcount(o) for o in objects] == refs, "reference counts changed"


def test_retry_decorator_success_path() -> None:
    arg, kwarg, result = Payload(), Payload(), Payload()

    def work(a: Any, *, k: Any) -> Any:
        return result

    wrapped = retry(max_attempts=3)(work)
    measure(lambda: wrapped(arg, k=kwarg), arg, kwarg, result, work, wrapped)


def test_retry_failure_path_with_retries() -> None:
    arg = Payload()
    policy = RetryPolicy(max_attempts=3, jitter=False)
    seen = []

    def on_retry(attempt: int, error: BaseException) -> None:
        seen.append(attempt)
        seen.clear()

    def failing(a: Any) -> None:
        raise ConnectionError

    executor = RetryExecutor(policy, on_retry=on_retry, sleep_func=lambda s: None)

    def run() -> None:
        try:
            executor.execute_sync(failing, arg)
        except ConnectionError:
            pass

    measure(run, arg, failing, policy, on_retry)


def test_breaker_paths() -> None:
    arg = Payload()
    closed = SyncCircuitBreaker()
    opened = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=3600.0)
    with pytest.raises(ZeroDivisionError):
        opened.call(lambda: 1 / 0)

    def ok(a: Any) -> Any:
        return a

    def run() -> None:
        closed.call(ok, arg)
        try:
            opened.call(ok, arg)
        except RuntimeError:
            pass

    measure(run, arg, ok, closed, opened)


def test_window_breaker_metrics_and_snapshot_paths() -> None:
    arg = Payload()
    now = [0.0]

    def clock() -> float:
        now[0] += 0.001
        return now[0]

    breaker = SyncCircuitBreaker(
        failure_ratio=0.9, minimum_throughput=10, sampling_duration=1.0, slow_call_duration=5.0, slow_call_ratio=1.0,
        time_source=clock,
    )

    def ok(a: Any) -> Any:
        return a

    def run() -> None:
        breaker.call(ok, arg)
        try:
            breaker.call(lambda: 1 / 0)
        except ZeroDivisionError:
            pass
        breaker.metrics()
        breaker.snapshot()

    measure(run, arg, ok, breaker, clock)
    assert breaker.state().name == "CLOSED"


def test_async_breaker_token_path() -> None:
    arg = Payload()
    breaker = __import__("resilience").AsyncCircuitBreaker(failure_ratio=0.9, minimum_throughput=5, window_size=10)

    async def ok(a: Any) -> Any:
        return a

    async def boom() -> None:
        raise KeyError

    async def many() -> None:
        for _ in range(1000):
            await breaker.call(ok, arg)
            try:
                await breaker.call(boom)
            except KeyError:
                pass

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(many())
        gc.collect()
        refs = sys.getrefcount(arg)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for _ in range(CALLS // 2000):
            loop.run_until_complete(many())
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    finally:
        loop.close()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert growth < SLACK_BYTES, growth
    assert sys.getrefcount(arg) == refs
    assert breaker._core.tokens_outstanding == 0, "every permit token was reported"


def test_fallback_path() -> None:
    arg = Payload()

    def primary(a: Any) -> None:
        raise KeyError

    def backup(a: Any) -> Any:
        return a

    chain = FallbackChain(fallbacks=[backup])
    measure(lambda: chain.execute(primary, arg), arg, primary, backup)


def test_bulkhead_path() -> None:
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.0)

    def run() -> None:
        assert pool.acquire()
        assert pool.acquire() is False  # queue, time out, withdraw
        pool.release()

    measure(run, pool)
    assert pool.active_count() == 0 and pool.queue_size() == 0


def test_async_retry_path() -> None:
    arg = Payload()
    executor = RetryExecutor(RetryPolicy(max_attempts=2, jitter=False), async_sleep_func=_no_sleep)
    state = {"n": 0}

    async def sometimes(a: Any) -> Any:
        state["n"] += 1
        if state["n"] % 2:
            raise ConnectionError
        return a

    async def many() -> None:
        for _ in range(1000):
            await executor.execute_async(sometimes, arg)

    loop = asyncio.new_event_loop()
    try:
        measure_async = lambda: loop.run_until_complete(many())  # noqa: E731
        measure_async()
        gc.collect()
        refs = sys.getrefcount(arg)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for _ in range(CALLS // 1000):
            measure_async()
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    finally:
        loop.close()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert growth < SLACK_BYTES, growth
    assert sys.getrefcount(arg) == refs


async def _no_sleep(_: float) -> None:
    return None


@pytest.mark.parametrize("decorate", [lambda f: retry(f), lambda f: __import__("resilience").circuit_breaker()(f)])
def test_reference_cycles_through_native_wrappers_are_collected(decorate: Any) -> None:
    import weakref

    def make() -> Any:
        @decorate
        def recursive(n: int) -> int:
            return 0 if n == 0 else recursive(n - 1)  # the closure refers to the wrapper

        assert recursive(3) == 0
        return weakref.ref(recursive)

    ref = make()
    gc.collect()
    assert ref() is None, "the wrapper <-> function cycle was not collected"


def test_issue_10_and_11_native_paths() -> None:
    """A retry with a budget, a deadline and a result predicate, a breaker
    with a listener and a result predicate inside a native pipeline, and the
    limiter and throttle: nothing leaks on the success or the failure path."""
    from resilience import AdaptiveThrottle, Pipeline, RateLimiter, RetryBudget

    arg, result = Payload(), Payload()
    now = [0.0]

    def clock() -> float:
        now[0] += 0.001
        return now[0]

    seen: list[Any] = []

    def listen(event: Any) -> None:
        seen.append(event)
        seen.clear()

    budget = RetryBudget(retry_ratio=1.0, time_source=clock)  # every first attempt earns a retry
    policy = RetryPolicy(
        max_attempts=2, jitter=False, base_delay=0.0, max_elapsed=1e9, budget=budget, retry_on_result=lambda v: v is arg
    )
    breaker = SyncCircuitBreaker(failure_threshold=10**9, on_event=listen, failure_on_result=lambda v: v is arg)
    pipeline = (
        Pipeline.builder(time_source=clock, sleep_func=lambda s: None).retry(policy).breaker(breaker).on_event(listen).build()
    )
    limiter = RateLimiter(rate=10**9, burst=10**9, time_source=clock)
    throttle = AdaptiveThrottle(time_source=clock, seed=1)
    flip = [False]

    def work(a: Any) -> Any:
        flip[0] = not flip[0]
        if flip[0]:
            raise ConnectionError
        return result

    def run() -> None:
        assert pipeline.execute_sync(work, arg) is result
        assert pipeline.execute_sync(lambda: arg) is arg  # a value judged a failure, returned
        assert limiter.try_acquire()
        throttle.admit()
        throttle.record(True)

    measure(run, arg, result, work, pipeline, breaker, policy, budget, limiter, throttle)


def test_load_control_in_a_pipeline() -> None:
    """A retry around a rate limiter and a throttle, with listeners: each
    call is limited once (its event, its error, the retry's exact wait),
    then admitted by the throttle and recorded; and a throttle that sheds
    (its event, its error). Nothing leaks on either path."""
    from resilience import AdaptiveThrottle, Pipeline, RateLimiter, ThrottledError

    arg, result = Payload(), Payload()
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    seen: list[Any] = []

    def listen(event: Any) -> None:
        seen.append(event)
        seen.clear()

    limiter = RateLimiter(rate=1000, per=1.0, burst=1, time_source=clock, on_event=listen)
    throttle = AdaptiveThrottle(time_source=clock, seed=1, on_event=listen, accepted=lambda r, e: r is result)
    policy = RetryPolicy(max_attempts=2, jitter=False, base_delay=0.0)
    pipeline = (
        Pipeline.builder(time_source=clock, sleep_func=sleep)
        .retry(policy)
        .rate_limiter(limiter)
        .throttle(throttle)
        .on_event(listen)
        .build()
    )
    shedding = AdaptiveThrottle(time_source=clock, seed=2, on_event=listen)

    def work(a: Any) -> Any:
        return result

    def down() -> None:
        raise ConnectionError

    def run() -> None:
        sleep(0.001)
        assert limiter.try_acquire()  # the cell the pipeline's first attempt wanted
        assert pipeline.execute_sync(work, arg) is result
        try:
            shedding.call(down)
        except (ConnectionError, ThrottledError):
            pass

    measure(run, arg, result, work, pipeline, policy, limiter, throttle, shedding)
