"""Misuse is rejected where it is made — when wrapping, executing or
configuring — with a `TypeError` naming the parameter; never at call time,
where it would be retried, slept on, counted as a breaker failure, or raised
in place of the user's own error."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from conftest import require_reference

require_reference()  # before importing the reference, which needs Python >= 3.11

from provide.foundation.resilience.circuit_async import AsyncCircuitBreaker as PfAsyncCircuitBreaker
from provide.foundation.resilience.circuit_sync import SyncCircuitBreaker as PfSyncCircuitBreaker
from provide.foundation.resilience.fallback import FallbackChain as PfFallbackChain
from provide.foundation.resilience.retry import RetryExecutor as PfRetryExecutor
from provide.foundation.resilience.retry import RetryPolicy as PfRetryPolicy
import pytest

from conftest import VirtualClock
from resilience import (
    AsyncCircuitBreaker,
    CircuitState,
    FallbackChain,
    RetryExecutor,
    RetryPolicy,
    SyncCircuitBreaker,
    circuit_breaker,
    fallback,
    retry,
)

NOT_CALLABLE = "must be callable, got int"


class Down(Exception):
    pass


def fail() -> None:
    raise Down("down")


def ok() -> str:
    return "ok"


# --- non-callable operations ------------------------------------------------------


def test_retry_decorator_rejects_a_non_callable_when_decorating(clock: VirtualClock) -> None:
    for decorate in (retry(), retry(max_attempts=5, sleep_func=clock.sleep, async_sleep_func=clock.async_sleep)):
        with pytest.raises(TypeError, match=f"^func {NOT_CALLABLE}$"):
            decorate(42)  # type: ignore[type-var]
    assert clock.sleeps == []


@pytest.mark.parametrize("use_async", [False, True], ids=["execute_sync", "execute_async"])
def test_executor_rejects_a_non_callable_before_any_attempt(
    use_async: bool, clock: VirtualClock, caplog: Any
) -> None:
    executor = RetryExecutor(
        RetryPolicy(max_attempts=5, base_delay=1.0),
        on_retry=lambda attempt, error: pytest.fail("retried"),
        sleep_func=clock.sleep,
        async_sleep_func=clock.async_sleep,
    )
    with caplog.at_level(logging.DEBUG, logger="resilience"), pytest.raises(TypeError, match=f"^func {NOT_CALLABLE}$"):
        if use_async:
            asyncio.run(executor.execute_async(42))  # type: ignore[arg-type]
        else:
            executor.execute_sync(42)  # type: ignore[arg-type]
    assert clock.sleeps == [] and caplog.records == []


def test_sync_breaker_call_rejects_a_non_callable_without_counting_it(clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=1, time_source=clock.time)
    for _ in range(3):
        with pytest.raises(TypeError, match=f"^func {NOT_CALLABLE}$"):
            breaker.call(42)  # type: ignore[arg-type]
    assert (breaker.failure_count(), breaker.state()) == (0, CircuitState.CLOSED)
    assert breaker.call(ok) == "ok"


def test_async_breaker_call_rejects_a_non_callable_without_counting_it(clock: VirtualClock) -> None:
    async def main() -> None:
        breaker = AsyncCircuitBreaker(failure_threshold=1, time_source=clock.time)
        for _ in range(3):
            with pytest.raises(TypeError, match=f"^func {NOT_CALLABLE}$"):
                await breaker.call(42)  # type: ignore[arg-type]
        assert (await breaker.failure_count(), await breaker.state()) == (0, CircuitState.CLOSED)

    asyncio.run(main())


def test_breaker_decorator_rejects_a_non_callable_when_decorating() -> None:
    with pytest.raises(TypeError, match=f"^func {NOT_CALLABLE}$"):
        circuit_breaker(failure_threshold=1)(42)  # type: ignore[type-var]


def test_fallback_rejects_non_callables_when_configured_or_executed() -> None:
    used: list[str] = []

    def backup() -> str:
        used.append("backup")
        return "backup"

    with pytest.raises(TypeError, match=f"^fallback_funcs\\[1\\] {NOT_CALLABLE}$"):
        fallback(backup, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"^primary_func {NOT_CALLABLE}$"):
        fallback(backup)(42)
    with pytest.raises(TypeError, match=f"^fallbacks\\[0\\] {NOT_CALLABLE}$"):
        FallbackChain(fallbacks=[42])  # type: ignore[list-item]
    chain = FallbackChain(fallbacks=[backup])
    with pytest.raises(TypeError, match=f"^fallback_func {NOT_CALLABLE}$"):
        chain.add_fallback(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"^primary_func {NOT_CALLABLE}$"):
        chain.execute(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"^primary_func {NOT_CALLABLE}$"):
        asyncio.run(chain.execute_async(42))
    assert used == [] and chain.fallbacks == [backup]


def test_the_message_names_a_class_as_a_class() -> None:
    with pytest.raises(TypeError, match="^func must be callable, got int$"):
        SyncCircuitBreaker().call(7)  # type: ignore[arg-type]
    # A huge value never makes a huge message: only its type is named.
    with pytest.raises(TypeError, match="^func must be callable, got str$"):
        SyncCircuitBreaker().call("x" * 10_000)  # type: ignore[arg-type]


# --- exception filters ----------------------------------------------------------


FILTER = "must be an exception class or a tuple of exception classes, got "

# A value and the end of the message it gets.
BAD_FILTERS: list[tuple[Any, str]] = [
    (42, "int"),
    ("ValueError", "str"),
    ([ValueError], "list"),
    (int, "the class int"),
    ((ValueError, "KeyError"), "a tuple holding str"),
    ((ValueError, (KeyError, object)), "a tuple holding the class object"),
]
BAD_IDS = [repr(value) for value, _ in BAD_FILTERS]

# Every constructor that takes a filter, as (parameter, build(filter)).
CONSTRUCTORS: list[tuple[str, Callable[[Any], Any]]] = [
    ("expected_exception", lambda f: SyncCircuitBreaker(expected_exception=f)),
    ("expected_exception", lambda f: AsyncCircuitBreaker(expected_exception=f)),
    ("expected_exception", lambda f: circuit_breaker(expected_exception=f)),
    ("retryable_errors", lambda f: RetryPolicy(retryable_errors=f)),
    ("expected_exceptions", lambda f: FallbackChain(expected_exceptions=f)),
]
CONSTRUCTOR_IDS = ["SyncCircuitBreaker", "AsyncCircuitBreaker", "circuit_breaker", "RetryPolicy", "FallbackChain"]


@pytest.mark.parametrize(("value", "got"), BAD_FILTERS, ids=BAD_IDS)
@pytest.mark.parametrize(("parameter", "build"), CONSTRUCTORS, ids=CONSTRUCTOR_IDS)
def test_bad_exception_filters_are_type_errors_at_construction(
    parameter: str, build: Callable[[Any], Any], value: Any, got: str
) -> None:
    with pytest.raises(TypeError) as info:
        build(value)
    assert str(info.value) == f"{parameter} {FILTER}{got}"


@pytest.mark.parametrize(
    ("parameter", "build"),
    [c for c in CONSTRUCTORS if c[0] != "retryable_errors"],
    ids=[i for i in CONSTRUCTOR_IDS if i != "RetryPolicy"],
)
def test_none_is_no_exception_filter(parameter: str, build: Callable[[Any], Any]) -> None:
    # (`RetryPolicy(retryable_errors=None)` is the original's "retry every error".)
    with pytest.raises(TypeError, match=f"^{parameter} {FILTER}NoneType$"):
        build(None)


def test_a_union_is_rejected_use_a_tuple() -> None:
    # `isinstance` takes `A | B` (3.10+), `except` does not: one rule, tuples.
    for build in (lambda: RetryPolicy(retryable_errors=KeyError | Down), lambda: SyncCircuitBreaker(expected_exception=KeyError | Down)):
        with pytest.raises(TypeError, match=f"{FILTER}UnionType$"):
            build()


@pytest.mark.parametrize(("value", "got"), BAD_FILTERS, ids=BAD_IDS)
def test_retry_decorator_checks_its_exception_types(value: Any, got: str) -> None:
    with pytest.raises(TypeError, match=f"^exceptions {FILTER}a tuple holding "):
        retry(ValueError, value)


GOOD_FILTERS: list[Any] = [
    Down,
    (Down,),
    (KeyError, (Down,)),  # nested, as `isinstance` and `except` allow
    (),  # matches nothing
    Exception,
    BaseException,
]


@pytest.mark.parametrize("value", GOOD_FILTERS, ids=repr)
def test_exception_classes_and_tuples_of_them_are_accepted_and_work(value: Any, clock: VirtualClock) -> None:
    matches = isinstance(Down(), value)
    breaker = SyncCircuitBreaker(failure_threshold=1, expected_exception=value, time_source=clock.time)
    with pytest.raises(Down):
        breaker.call(fail)
    assert breaker.failure_count() == (1 if matches else 0)
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        fail()

    policy = RetryPolicy(max_attempts=2, retryable_errors=value, jitter=False)
    with pytest.raises(Down):
        RetryExecutor(policy, sleep_func=clock.sleep).execute_sync(flaky)
    assert len(calls) == (2 if matches else 1)
    chain = FallbackChain(fallbacks=[ok], expected_exceptions=value)
    if matches:
        assert chain.execute(fail) == "ok"
    else:
        with pytest.raises(Down):
            chain.execute(fail)


# --- what the original does with the values rejected above ----------------------


def _original_call_with(filter_: Any) -> BaseException:
    """What the original raises for a failing call under `filter_`."""
    try:
        PfSyncCircuitBreaker(expected_exception=filter_).call(fail)
    except BaseException as error:  # noqa: BLE001
        return error
    raise AssertionError("the call failed")


@pytest.mark.parametrize(("value", "got"), BAD_FILTERS, ids=BAD_IDS)
def test_the_original_replaced_the_users_error_at_call_time(value: Any, got: str) -> None:
    # Why rejecting at construction takes nothing away: every filter rejected
    # above made the original's breaker raise a TypeError of its own in place
    # of the user's error, on the first failure.
    error = _original_call_with(value)
    assert isinstance(error, TypeError) and not isinstance(error, Down)
    assert isinstance(error.__context__, Down)

    async def main() -> BaseException:
        try:
            await PfAsyncCircuitBreaker(expected_exception=value).call(_async_fail)
        except BaseException as e:  # noqa: BLE001
            return e
        raise AssertionError

    assert isinstance(asyncio.run(main()), TypeError)


async def _async_fail() -> None:
    raise Down("down")


@pytest.mark.parametrize("value", [42, "ValueError", [ValueError], (ValueError, "KeyError")], ids=repr)
def test_the_originals_isinstance_filters_broke_the_same_way(value: Any) -> None:
    # retryable_errors and expected_exceptions are `isinstance` filters in the
    # original: a value that is neither a class nor a tuple of classes raised
    # there too. (A class that is no exception, `int` or `object`, passed
    # `isinstance` there — never matching, or matching everything; it is
    # rejected here as `except` rejects it, and listed in MIGRATION.md.)
    policy = PfRetryPolicy(retryable_errors=value, max_attempts=2)
    with pytest.raises(TypeError):
        PfRetryExecutor(policy, sleep_func=lambda s: None).execute_sync(fail)
    chain = PfFallbackChain(fallbacks=[ok], expected_exceptions=value)
    with pytest.raises(TypeError):
        chain.execute(fail)
