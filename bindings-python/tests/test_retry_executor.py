"""RetryExecutor: sync (native loop) and async (Python driver) scenarios,
callbacks, exception filtering, logging, cancellation, identity."""

from __future__ import annotations

import asyncio
import io
import logging
import time
import traceback
from typing import Any, Callable

import pytest

from conftest import VirtualClock
from resilience import BackoffStrategy, RetryExecutor, RetryPolicy


class Flaky:
    """Fails `failures` times with `error_type`, then returns `value`."""

    def __init__(self, failures: int, error_type: type[BaseException] = ConnectionError, value: Any = "done") -> None:
        self.failures = failures
        self.error_type = error_type
        self.value = value
        self.calls = 0
        self.errors: list[BaseException] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.last_args = (args, kwargs)
        if self.calls <= self.failures:
            error = self.error_type(f"failure {self.calls}")
            self.errors.append(error)
            raise error
        return self.value


def make_async(flaky: Flaky) -> Callable[..., Any]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return flaky(*args, **kwargs)

    return run


def executor(clock: VirtualClock, **policy: Any) -> RetryExecutor:
    policy.setdefault("jitter", False)
    return RetryExecutor(RetryPolicy(**policy), sleep_func=clock.sleep, async_sleep_func=clock.async_sleep)


def run_sync(ex: RetryExecutor, func: Flaky, *args: Any, **kwargs: Any) -> Any:
    return ex.execute_sync(func, *args, **kwargs)


def run_async(ex: RetryExecutor, func: Flaky, *args: Any, **kwargs: Any) -> Any:
    return asyncio.run(ex.execute_async(make_async(func), *args, **kwargs))


BOTH = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])


@BOTH
def test_success_first_time_does_not_sleep(run: Any, clock: VirtualClock) -> None:
    flaky = Flaky(0, value=42)
    assert run(executor(clock), flaky, 1, key="v") == 42
    assert flaky.calls == 1 and flaky.last_args == ((1,), {"key": "v"})
    assert clock.sleeps == []


@BOTH
def test_recovers_after_failures_with_backoff(run: Any, clock: VirtualClock) -> None:
    flaky = Flaky(2)
    assert run(executor(clock, base_delay=0.5), flaky) == "done"
    assert flaky.calls == 3
    assert clock.sleeps == [0.5, 1.0]


@BOTH
def test_gives_up_after_max_attempts_with_the_last_error(run: Any, clock: VirtualClock) -> None:
    flaky = Flaky(10)
    with pytest.raises(ConnectionError) as info:
        run(executor(clock, max_attempts=4), flaky)
    assert info.value is flaky.errors[-1]
    assert flaky.calls == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


@BOTH
def test_non_retryable_error_is_raised_at_once(run: Any, clock: VirtualClock) -> None:
    flaky = Flaky(1, error_type=KeyError)
    with pytest.raises(KeyError) as info:
        run(executor(clock, retryable_errors=(ConnectionError,)), flaky)
    assert info.value is flaky.errors[0]
    assert flaky.calls == 1 and clock.sleeps == []


@BOTH
def test_retryable_errors_match_subclasses(run: Any, clock: VirtualClock) -> None:
    flaky = Flaky(2, error_type=ConnectionResetError)
    assert run(executor(clock, retryable_errors=(ConnectionError,)), flaky) == "done"


@BOTH
@pytest.mark.parametrize(
    ("backoff", "sleeps"),
    [
        (BackoffStrategy.FIXED, [0.1, 0.1, 0.1, 0.1]),
        (BackoffStrategy.LINEAR, [0.1, 0.2, 0.3, 0.4]),
        (BackoffStrategy.EXPONENTIAL, [0.1, 0.2, 0.4, 0.8]),
        (BackoffStrategy.FIBONACCI, [0.1, 0.1, 0.2, 0.3]),
    ],
)
def test_every_backoff_in_the_loop(run: Any, clock: VirtualClock, backoff: BackoffStrategy, sleeps: list[float]) -> None:
    run(executor(clock, max_attempts=5, backoff=backoff, base_delay=0.1), Flaky(4))
    assert [round(s, 9) for s in clock.sleeps] == sleeps


@BOTH
def test_jittered_sleeps_are_within_a_quarter(run: Any, clock: VirtualClock) -> None:
    run(executor(clock, max_attempts=6, base_delay=1.0, jitter=True), Flaky(5))
    raw = [1.0, 2.0, 4.0, 8.0, 16.0]
    assert all(0.75 * r <= s <= 1.25 * r for s, r in zip(clock.sleeps, raw))
    assert clock.sleeps != raw


@BOTH
def test_on_retry_gets_attempt_and_error(run: Any, clock: VirtualClock) -> None:
    seen: list[tuple[int, BaseException]] = []
    flaky = Flaky(2)
    ex = executor(clock)
    ex.on_retry = lambda attempt, error: seen.append((attempt, error))
    run(ex, flaky)
    assert seen == [(1, flaky.errors[0]), (2, flaky.errors[1])]


@BOTH
def test_failing_on_retry_is_logged_and_ignored(run: Any, clock: VirtualClock, caplog: Any) -> None:
    def broken(attempt: int, error: BaseException) -> None:
        raise RuntimeError("callback bug")

    ex = executor(clock)
    ex.on_retry = broken
    with caplog.at_level(logging.WARNING, logger="resilience"):
        assert run(ex, Flaky(2)) == "done"
    records = [r for r in caplog.records if r.getMessage() == "Retry callback failed"]
    assert len(records) == 2 and records[0].error == "callback bug"


def test_coroutine_on_retry_is_awaited(clock: VirtualClock) -> None:
    seen: list[int] = []

    async def on_retry(attempt: int, error: BaseException) -> None:
        await asyncio.sleep(0)
        seen.append(attempt)

    ex = executor(clock)
    ex.on_retry = on_retry  # type: ignore[assignment]
    assert run_async(ex, Flaky(2)) == "done"
    assert seen == [1, 2]


@BOTH
def test_logging_matches_the_original_messages(run: Any, clock: VirtualClock, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="resilience"):
        with pytest.raises(ConnectionError):
            run(executor(clock, base_delay=0.5), Flaky(5))
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "resilience"]
    assert messages == [
        ("INFO", "Retry 1/3 after 0.50s"),
        ("INFO", "Retry 2/3 after 1.00s"),
        ("ERROR", "All 3 retry attempts failed"),
    ]
    first = caplog.records[0]
    assert (first.attempt, first.max_attempts, first.delay) == (1, 3, 0.5)
    assert (first.error, first.error_type) == ("failure 1", "ConnectionError")


@BOTH
def test_nothing_is_formatted_when_logging_is_off(run: Any, clock: VirtualClock, caplog: Any) -> None:
    class Loud(Exception):
        def __str__(self) -> str:
            raise AssertionError("str(error) computed for a filtered-out record")

    with caplog.at_level(logging.CRITICAL, logger="resilience"):
        with pytest.raises(Loud):
            run(executor(clock), Flaky(5, error_type=Loud))
    assert caplog.records == []


@BOTH
@pytest.mark.parametrize("error_type", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_base_exceptions_are_never_retried(run: Any, clock: VirtualClock, error_type: type[BaseException]) -> None:
    flaky = Flaky(1, error_type=error_type)
    with pytest.raises(error_type):
        run(executor(clock), flaky)
    assert flaky.calls == 1 and clock.sleeps == []


def test_cancellation_is_never_retried(clock: VirtualClock) -> None:
    flaky = Flaky(1, error_type=asyncio.CancelledError)
    with pytest.raises(asyncio.CancelledError):
        run_async(executor(clock), flaky)
    assert flaky.calls == 1


def test_cancelling_the_task_during_backoff_stops_the_loop() -> None:
    calls = []

    async def failing() -> None:
        calls.append(1)
        raise ConnectionError

    async def main() -> None:
        never = asyncio.Event()

        async def sleep_forever(_: float) -> None:
            await never.wait()

        ex = RetryExecutor(RetryPolicy(jitter=False), async_sleep_func=sleep_forever)
        task = asyncio.ensure_future(ex.execute_async(failing))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert calls == [1]


def test_sync_error_keeps_its_traceback(clock: VirtualClock) -> None:
    def deep() -> None:
        raise ConnectionError("from deep")

    def outer() -> None:
        deep()

    with pytest.raises(ConnectionError) as info:
        executor(clock, max_attempts=2).execute_sync(outer)
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert frames[-2:] == ["outer", "deep"]


def test_default_sleep_is_native_but_a_patched_time_sleep_is_used(monkeypatch: Any) -> None:
    # The real time.sleep is replaced by a native sleep with the GIL released;
    # a test's monkeypatched time.sleep (seen when the executor is created) is honoured.
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    ex = RetryExecutor(RetryPolicy(base_delay=0.25, jitter=False))
    assert ex.execute_sync(Flaky(1)) == "done"
    assert slept == [0.25]


def test_native_default_sleep_waits_zero_delays() -> None:
    ex = RetryExecutor(RetryPolicy(base_delay=0.0, max_delay=0.0, jitter=False))
    assert ex.execute_sync(Flaky(2)) == "done"


def test_time_source_is_kept_like_the_original(clock: VirtualClock) -> None:
    ex = RetryExecutor(RetryPolicy(), time_source=clock.time)
    assert ex._time_source == clock.time
    assert RetryExecutor(RetryPolicy())._time_source is time.time


def test_max_attempts_one_never_retries(clock: VirtualClock) -> None:
    flaky = Flaky(1)
    with pytest.raises(ConnectionError):
        executor(clock, max_attempts=1).execute_sync(flaky)
    assert flaky.calls == 1 and clock.sleeps == []


def test_sleep_func_errors_propagate(clock: VirtualClock) -> None:
    def sleep(_: float) -> None:
        raise KeyboardInterrupt

    ex = RetryExecutor(RetryPolicy(), sleep_func=sleep)
    flaky = Flaky(3)
    with pytest.raises(KeyboardInterrupt):
        ex.execute_sync(flaky)
    assert flaky.calls == 1


@BOTH
def test_no_record_is_built_when_nobody_listens(run: Any, clock: VirtualClock, monkeypatch: Any) -> None:
    # With logging unconfigured only the package's NullHandler is in the
    # chain: the records would be dropped, so they are not even built.
    built: list[str] = []

    class Count(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            built.append(record.getMessage())
            return True

    logger = logging.getLogger("resilience")
    monkeypatch.setattr(logging.root, "handlers", [])
    old_level = logger.level
    logger.setLevel(logging.INFO)  # setLevel also clears isEnabledFor's cache
    counter = Count()
    logger.addFilter(counter)
    try:
        with pytest.raises(ConnectionError):
            run(executor(clock), Flaky(5))
        assert built == []
        handler = logging.StreamHandler(io.StringIO())  # a real listener: records are built again
        logger.addHandler(handler)
        try:
            with pytest.raises(ConnectionError):
                run(executor(clock), Flaky(5))
        finally:
            logger.removeHandler(handler)
        assert built == ["Retry 1/3 after 1.00s", "Retry 2/3 after 2.00s", "All 3 retry attempts failed"]
    finally:
        logger.removeFilter(counter)
        logger.setLevel(old_level)
