"""The bound fast paths of issue 13: a RetryExecutor's `execute_sync` is a
native call bound to the executor's settings and a plain policy's
`execute_async` a closure; a Pipeline of a retry and/or a breaker binds its
native `execute_sync` likewise. They must behave exactly as the methods did:
settings assigned after construction apply, subclasses keep their
overrides, copies and pickles work, misuse is still rejected at once and
never retried, and the user's error comes back as the same object."""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any

import pytest

from resilience import Pipeline, RetryExecutor, RetryPolicy, SyncCircuitBreaker
from resilience.events import Event, RetryScheduled


def no_sleep(_: float) -> None:
    return None


async def no_async_sleep(_: float) -> None:
    return None


class Failing:
    """Raises a fresh ConnectionError on every call; counts them."""

    def __init__(self) -> None:
        self.calls = 0
        self.errors: list[BaseException] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        error = ConnectionError(f"failure {self.calls}")
        self.errors.append(error)
        raise error


def executor(max_attempts: int = 3, **options: Any) -> RetryExecutor:
    return RetryExecutor(
        RetryPolicy(max_attempts=max_attempts, base_delay=0.0),
        sleep_func=no_sleep,
        async_sleep_func=no_async_sleep,
        **options,
    )


def test_a_policy_assigned_after_construction_is_the_one_used() -> None:
    ex = executor(max_attempts=3)
    ex.policy = RetryPolicy(max_attempts=1, base_delay=0.0)
    op = Failing()
    with pytest.raises(ConnectionError):
        ex.execute_sync(op)
    assert op.calls == 1

    async_op = Failing()

    async def run() -> None:
        async def attempt() -> None:
            async_op()

        with pytest.raises(ConnectionError):
            await ex.execute_async(attempt)

    asyncio.run(run())
    assert async_op.calls == 1


def test_callbacks_assigned_after_construction_are_called() -> None:
    ex = executor(max_attempts=2)
    retried: list[int] = []
    events: list[Event] = []
    ex.on_retry = lambda attempt, error: retried.append(attempt)
    ex.on_event = events.append
    with pytest.raises(ConnectionError):
        ex.execute_sync(Failing())
    assert retried == [1]
    assert [type(e) for e in events][:1] == [RetryScheduled]


def test_a_plain_policy_replaced_by_one_with_an_attempt_timeout_times_out() -> None:
    ex = executor(max_attempts=1)
    ex.policy = RetryPolicy(max_attempts=1, attempt_timeout=0.01)

    async def slow() -> None:
        await asyncio.sleep(10)

    async def run() -> None:
        with pytest.raises(TimeoutError):
            await ex.execute_async(slow)

    asyncio.run(run())


def test_the_last_error_is_the_same_object_through_both_paths() -> None:
    ex = executor(max_attempts=3)
    op = Failing()
    with pytest.raises(ConnectionError) as raised:
        ex.execute_sync(op, 1, key="value")
    assert raised.value is op.errors[-1]
    assert op.calls == 3

    async_op = Failing()

    async def attempt(*args: Any, **kwargs: Any) -> None:
        async_op(*args, **kwargs)

    async def run() -> BaseException:
        try:
            await ex.execute_async(attempt, 1, key="value")
        except ConnectionError as error:
            return error
        raise AssertionError("should have raised")

    assert asyncio.run(run()) is async_op.errors[-1]
    assert async_op.calls == 3


def test_a_function_that_is_not_callable_is_rejected_at_once_unchained() -> None:
    ex = executor(max_attempts=3)
    with pytest.raises(TypeError, match="func must be callable"):
        ex.execute_sync(42)  # type: ignore[arg-type]

    async def run() -> BaseException:
        try:
            await ex.execute_async(42)  # type: ignore[arg-type]
        except TypeError as error:
            return error
        raise AssertionError("should have raised")

    error = asyncio.run(run())
    assert "func must be callable" in str(error)
    assert error.__context__ is None
    assert error.__cause__ is None


def test_subclass_overrides_are_kept_and_super_still_runs_the_loop() -> None:
    class Counting(RetryExecutor):
        calls = 0

        def execute_sync(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 1
            return super().execute_sync(func, *args, **kwargs)

        async def execute_async(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 10
            return await super().execute_async(func, *args, **kwargs)

    ex = Counting(RetryPolicy(max_attempts=2, base_delay=0.0), sleep_func=no_sleep, async_sleep_func=no_async_sleep)
    op = Failing()
    with pytest.raises(ConnectionError):
        ex.execute_sync(op)
    assert op.calls == 2

    async def value() -> int:
        return 7

    assert asyncio.run(ex.execute_async(value)) == 7
    assert Counting.calls == 11


@pytest.mark.parametrize("clone", [copy.copy, copy.deepcopy, lambda ex: pickle.loads(pickle.dumps(ex))])
def test_copies_and_pickles_run_with_their_own_settings(clone: Any) -> None:
    ex = RetryExecutor(RetryPolicy(max_attempts=2, base_delay=0.0))
    twin = clone(ex)
    twin.policy = RetryPolicy(max_attempts=1, base_delay=0.0)
    op = Failing()
    with pytest.raises(ConnectionError):
        twin.execute_sync(op)
    assert op.calls == 1
    # The original is untouched by the copy's new policy.
    other = Failing()
    with pytest.raises(ConnectionError):
        ex.execute_sync(other)
    assert other.calls == 2


def pipeline_of(*, fallback: bool = False) -> Pipeline:
    builder = Pipeline.builder(sleep_func=no_sleep)
    if fallback:
        builder = builder.fallback(lambda *a, **k: "fell back")
    return builder.retry(RetryPolicy(max_attempts=2, base_delay=0.0)).breaker(SyncCircuitBreaker()).build()


def test_a_native_pipeline_retries_counts_and_rejects_misuse_as_before() -> None:
    pipeline = pipeline_of()
    op = Failing()
    with pytest.raises(ConnectionError) as raised:
        pipeline.execute_sync(op, 1, key="value")
    assert op.calls == 2
    assert raised.value is op.errors[-1]
    with pytest.raises(TypeError, match="func must be callable"):
        pipeline.execute_sync(42)  # type: ignore[arg-type]
    assert pipeline_of(fallback=True).execute_sync(Failing(), 1) == "fell back"


def test_a_pipeline_subclass_keeps_its_execute_sync() -> None:
    class Counting(Pipeline):
        calls = 0

        def execute_sync(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 1
            return super().execute_sync(func, *args, **kwargs)

    plain = pipeline_of()
    # The builder's own layers (kept inner to outer), outer to inner again.
    counting = Counting(plain.strategies, plain._layers[::-1], None, None)
    assert counting.execute_sync(lambda: 5) == 5
    assert Counting.calls == 1


def test_super_reaches_each_branch_of_the_class_bodies_the_fast_paths_shadow() -> None:
    """A subclass's `super()` runs `RetryExecutor`'s own bodies: with a
    listener (the native loop told of it), a plain policy whose first async
    attempt fails, and a func that is not callable."""
    events: list[Any] = []

    class Sub(RetryExecutor):
        def execute_sync(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            return super().execute_sync(func, *args, **kwargs)

        async def execute_async(self, func: Any, *args: Any, **kwargs: Any) -> Any:
            return await super().execute_async(func, *args, **kwargs)

    ex = Sub(RetryPolicy(max_attempts=2, base_delay=0.0), sleep_func=no_sleep, async_sleep_func=no_async_sleep,
             on_event=events.append)
    op = Failing()
    with pytest.raises(ConnectionError):
        ex.execute_sync(op)
    assert op.calls == 2
    assert [type(e).__name__ for e in events] == ["RetryScheduled", "GaveUp"]

    attempts = [0]

    async def flaky() -> str:
        attempts[0] += 1
        if attempts[0] == 1:
            raise ConnectionError("once")
        return "ok"

    events.clear()
    assert asyncio.run(ex.execute_async(flaky)) == "ok"
    assert attempts[0] == 2
    assert [type(e).__name__ for e in events] == ["RetryScheduled"]
    with pytest.raises(TypeError, match="func must be callable"):
        asyncio.run(ex.execute_async(42))
