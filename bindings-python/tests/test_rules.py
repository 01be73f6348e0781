"""The core's rules as Python users meet them (each one listed in
MIGRATION.md): one rule per kind of value, the same answer in every
breaker, pool and policy, and never a decision taken in Python."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any, Callable

import pytest

from conftest import VirtualClock, reference
from resilience import (
    AsyncCircuitBreaker,
    CircuitState,
    FallbackChain,
    RetryExecutor,
    RetryPolicy,
    SyncCircuitBreaker,
    retry,
)
from resilience import _core, defaults
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool
from resilience.errors import ParameterTypeError, ParameterValueError

COUNTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("max_attempts", lambda v: RetryPolicy(max_attempts=v)),
    ("failure_threshold", lambda v: SyncCircuitBreaker(failure_threshold=v)),
    ("failure_threshold", lambda v: AsyncCircuitBreaker(failure_threshold=v)),
    ("half_open_max_calls", lambda v: SyncCircuitBreaker(half_open_max_calls=v)),
    ("half_open_max_calls", lambda v: AsyncCircuitBreaker(half_open_max_calls=v)),
    ("max_concurrent", lambda v: SyncResourcePool(max_concurrent=v)),
    ("max_concurrent", lambda v: AsyncResourcePool(max_concurrent=v)),
    ("max_queue_size", lambda v: SyncResourcePool(max_queue_size=v)),
    ("max_queue_size", lambda v: AsyncResourcePool(max_queue_size=v)),
]
COUNT_IDS = [f"{p}-{i}" for i, (p, _) in enumerate(COUNTS)]


@pytest.mark.parametrize(("parameter", "build"), COUNTS, ids=COUNT_IDS)
def test_none_is_never_a_count(parameter: str, build: Callable[[Any], Any]) -> None:
    # One rule for every breaker, pool and policy (the sync breaker used to
    # read None as its default, the async one raised; the original accepted
    # it and failed at the first failure).
    with pytest.raises(ParameterTypeError) as info:
        build(None)
    assert (info.value.kind, info.value.parameter) == ("wrong_type", parameter)


@pytest.mark.parametrize(("parameter", "build"), COUNTS, ids=COUNT_IDS)
@pytest.mark.parametrize("value", [2.5, 3.0, True], ids=["2.5", "3.0", "True"])
def test_floats_and_booleans_are_not_counts(parameter: str, build: Callable[[Any], Any], value: Any) -> None:
    with pytest.raises(ParameterTypeError) as info:
        build(value)
    assert info.value.parameter == parameter
    assert info.value.kind == ("wrong_type" if value is True else "not_an_integer")


@pytest.mark.parametrize(("parameter", "build"), COUNTS, ids=COUNT_IDS)
@pytest.mark.parametrize("value", [2**32, 2**64], ids=["2**32", "2**64"])
def test_counts_beyond_32_bits_are_errors_never_saturated(parameter: str, build: Callable[[Any], Any], value: int) -> None:
    with pytest.raises(ParameterValueError) as info:
        build(value)
    assert (info.value.kind, info.value.parameter) == ("too_large", parameter)
    assert "4294967295" in str(info.value)


@pytest.mark.parametrize(
    ("codes", "kind"),
    [
        ({70000}, "too_large"),
        ({-1}, "too_small"),
        ({99}, "too_small"),
        ({2**64}, "too_large"),
        ({"503"}, "wrong_type"),
        ({float("nan")}, "not_a_number"),
        ({503.5}, "not_an_integer"),
        ({503.0}, "not_an_integer"),
        (503, "wrong_type"),
        ("503", "wrong_type"),
    ],
    ids=repr,
)
def test_status_codes_are_integers_in_100_to_599(codes: Any, kind: str) -> None:
    # The original accepted these and never matched a response with them.
    with pytest.raises((ParameterTypeError, ParameterValueError)) as info:
        RetryPolicy(retryable_status_codes=codes)
    assert (info.value.kind, info.value.parameter) == (kind, "retryable_status_codes")
    assert RetryPolicy(retryable_status_codes={100, 599}).retryable_status_codes == {100, 599}


@pytest.mark.parametrize("jitter", [None, 1, 0, 0.5, "lots"], ids=repr)
def test_jitter_is_a_boolean_or_a_mode_name(jitter: Any) -> None:
    # The original used any value's truth; the core's `jitter_switch` rule
    # takes True, False or a mode name.
    with pytest.raises((ParameterTypeError, ParameterValueError)) as info:
        RetryPolicy(jitter=jitter)
    assert info.value.parameter == "jitter"
    assert info.value.kind == ("unknown_name" if jitter == "lots" else "wrong_type")


DURATIONS: list[tuple[str, Callable[[Any], Any]]] = [
    ("base_delay", lambda v: RetryPolicy(base_delay=v, max_delay=v)),
    ("recovery_timeout", lambda v: SyncCircuitBreaker(recovery_timeout=v)),
    ("recovery_timeout", lambda v: AsyncCircuitBreaker(recovery_timeout=v)),
    ("timeout", lambda v: SyncResourcePool(timeout=v)),
    ("timeout", lambda v: AsyncResourcePool(timeout=v)),
    ("timeout", lambda v: SyncResourcePool().acquire(timeout=v)),
]


@pytest.mark.parametrize(("parameter", "build"), DURATIONS, ids=[p for p, _ in DURATIONS])
def test_one_bound_for_every_duration(parameter: str, build: Callable[[Any], Any]) -> None:
    # At most 2**64 - 1 nanoseconds (about 584 years), the same for delays,
    # recovery timeouts and pool timeouts, in every language.
    build(18446744073.0)
    for too_long in (18446744074.0, 1e15, 2**64, float("inf")):
        with pytest.raises(ParameterValueError) as info:
            build(too_long)
        assert (info.value.kind, info.value.parameter) == ("too_large", parameter)


@pytest.mark.parametrize(("parameter", "build"), DURATIONS, ids=[p for p, _ in DURATIONS])
def test_durations_are_int_or_float(parameter: str, build: Callable[[Any], Any]) -> None:
    from decimal import Decimal

    # (None is "the pool's timeout" for a per-call `acquire(timeout=None)`.)
    values = [Decimal("1.5"), "1.5"] if "acquire" in repr(build.__code__.co_names) else [Decimal("1.5"), "1.5", None]
    for value in values:
        with pytest.raises(ParameterTypeError) as info:
            build(value)
        assert info.value.parameter == parameter


def test_defaults_come_from_the_core() -> None:
    assert (defaults.DEFAULT_RETRY_MAX_ATTEMPTS, defaults.DEFAULT_RETRY_BASE_DELAY, defaults.DEFAULT_RETRY_MAX_DELAY) == (
        _core.DEFAULT_MAX_ATTEMPTS,
        _core.DEFAULT_BASE_DELAY,
        _core.DEFAULT_MAX_DELAY,
    )
    assert defaults.DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD == _core.DEFAULT_FAILURE_THRESHOLD
    assert defaults.DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT == _core.DEFAULT_RECOVERY_TIMEOUT
    assert (defaults.DEFAULT_BULKHEAD_MAX_CONCURRENT, defaults.DEFAULT_BULKHEAD_MAX_QUEUE_SIZE) == (
        _core.DEFAULT_MAX_CONCURRENT,
        _core.DEFAULT_MAX_QUEUE_SIZE,
    )
    assert defaults.DEFAULT_BULKHEAD_TIMEOUT == _core.DEFAULT_BULKHEAD_TIMEOUT
    # ...and they are the original's values.
    assert (_core.DEFAULT_MAX_ATTEMPTS, _core.DEFAULT_FAILURE_THRESHOLD, _core.DEFAULT_RECOVERY_TIMEOUT) == (3, 5, 30.0)
    assert SyncCircuitBreaker().failure_threshold == 5 and SyncResourcePool().max_queue_size == 100


class _Meta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        raise LookupError("the filter broke")


class BrokenFilter(Exception, metaclass=_Meta):
    """An exception filter whose isinstance raises (a metaclass bug)."""


class Down(Exception):
    pass


def test_a_retry_filter_that_raises_means_not_retryable(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    raised = Down("mine")
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        raise raised

    async def flaky_async() -> None:
        flaky()

    executor = RetryExecutor(RetryPolicy(max_attempts=3, retryable_errors=BrokenFilter), sleep_func=clock.sleep)
    with pytest.raises(Down) as info:
        executor.execute_sync(flaky)
    assert info.value is raised and calls == [1]
    with pytest.raises(Down) as info:
        asyncio.run(executor.execute_async(flaky_async))
    assert info.value is raised and calls == [1, 1]
    assert RetryPolicy(retryable_errors=BrokenFilter).should_retry(raised, 1) is False
    assert [type(r.exc_value) for r in reported] == [LookupError] * 3
    assert clock.sleeps == []


def test_a_fallback_filter_that_raises_means_not_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    raised = Down("mine")

    def primary() -> None:
        raise raised

    async def primary_async() -> None:
        primary()

    chain = FallbackChain(fallbacks=[lambda: "fallback"], expected_exceptions=(BrokenFilter,))
    with pytest.raises(Down) as info:
        chain.execute(primary)
    assert info.value is raised
    with pytest.raises(Down) as info:
        asyncio.run(chain.execute_async(primary_async))
    assert info.value is raised
    assert [type(r.exc_value) for r in reported] == [LookupError, LookupError]


def test_the_original_let_a_failing_filter_replace_the_users_error() -> None:
    pf = reference("provide.foundation.resilience")  # below 3.11: skipped, the reference needs 3.11
    PfExecutor, PfPolicy = pf.RetryExecutor, pf.RetryPolicy

    raised = Down("mine")

    def flaky() -> None:
        raise raised

    with pytest.raises(LookupError):
        PfExecutor(PfPolicy(max_attempts=3, retryable_errors=(BrokenFilter,)), sleep_func=lambda s: None).execute_sync(
            flaky
        )


def test_a_call_in_flight_at_reset_is_stale(clock: VirtualClock) -> None:
    # Rule `permit_stale_after_reset`: the call's outcome no longer counts
    # (the original counted a failure that ended after the reset).
    breaker = SyncCircuitBreaker(failure_threshold=1, time_source=clock.time)
    entered, go = threading.Event(), threading.Event()

    def slow_failure() -> None:
        entered.set()
        go.wait(10)
        raise Down("after the reset")

    worker = threading.Thread(target=lambda: pytest.raises(Down, breaker.call, slow_failure))
    worker.start()
    assert entered.wait(10)
    breaker.reset()
    go.set()
    worker.join(10)
    assert (breaker.state(), breaker.failure_count()) == (CircuitState.CLOSED, 0)

    async def main() -> None:
        async_breaker = AsyncCircuitBreaker(failure_threshold=1, time_source=clock.time)
        release = asyncio.Event()

        async def held() -> None:
            await release.wait()
            raise Down("after the reset")

        task = asyncio.ensure_future(async_breaker.call(held))
        await asyncio.sleep(0)
        await async_breaker.reset()
        release.set()
        with pytest.raises(Down):
            await task
        assert (await async_breaker.state(), await async_breaker.failure_count()) == (CircuitState.CLOSED, 0)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("parameter", "build"),
    [
        ("time_source", lambda v: SyncCircuitBreaker(time_source=v)),
        ("time_source", lambda v: AsyncCircuitBreaker(time_source=v)),
        ("on_retry", lambda v: RetryExecutor(RetryPolicy(), on_retry=v)),
        ("sleep_func", lambda v: RetryExecutor(RetryPolicy(), sleep_func=v)),
        ("async_sleep_func", lambda v: retry(async_sleep_func=v)),
        ("policy", lambda v: RetryExecutor(v)),
        ("pool", lambda v: __import__("resilience").Bulkhead(name="x", pool=v)),
        ("fallbacks", lambda v: FallbackChain(fallbacks=v)),
    ],
)
def test_callbacks_and_collaborators_are_checked_when_configured(parameter: str, build: Callable[[Any], Any]) -> None:
    # The original stored them and failed at first use (a `'float' object is
    # not callable` from inside a call, or an AttributeError).
    with pytest.raises(ParameterTypeError) as info:
        build(2.5)
    assert (info.value.kind, info.value.parameter) == ("wrong_type", parameter)
    assert str(info.value).endswith("got float")


def test_max_attempts_nan_and_inf_are_value_errors() -> None:
    # The original's attrs check raised its TypeError for any float; here a
    # fraction (2.5, 3.0) keeps that TypeError and message, while NaN and the
    # infinities are values out of range (the core's kinds).
    for value, kind in ((float("nan"), "not_a_number"), (float("inf"), "too_large"), (float("-inf"), "too_small")):
        with pytest.raises(ParameterValueError) as info:
            RetryPolicy(max_attempts=value)
        assert (info.value.kind, info.value.parameter) == (kind, "max_attempts")
    with pytest.raises(ValueError, match="^max_attempts must be at least 1$"):
        RetryPolicy(max_attempts=float("-inf"))
    with pytest.raises(TypeError, match="^'max_attempts' must be <class 'int'>"):
        RetryPolicy(max_attempts=3.0)


@pytest.mark.parametrize("cls", [SyncCircuitBreaker, AsyncCircuitBreaker])
def test_a_clock_reading_of_1e300_delays_recovery_by_one_timeout_at_most(cls: Any) -> None:
    # Rules `clock_reading` (huge readings saturate, NaN and negative ones
    # are 0) and `clock_jump` (a clock reading earlier than the opening
    # restarts the break from now): one wild reading cannot hold a breaker
    # open for 584 years.
    now = [1e300]
    breaker = cls(failure_threshold=1, recovery_timeout=30.0, time_source=lambda: now[0])

    async def fail_async() -> None:
        raise Down

    def state() -> CircuitState:
        result = breaker.state()
        return asyncio.run(result) if asyncio.iscoroutine(result) else result  # type: ignore[no-any-return]

    with pytest.raises(Down):
        if cls is SyncCircuitBreaker:
            breaker.call(lambda: (_ for _ in ()).throw(Down()))
        else:
            asyncio.run(breaker.call(fail_async))
    for reading in (5.0, float("nan"), -1.0):
        now[0] = reading
        assert state() is CircuitState.OPEN
    now[0] = 29.999
    assert state() is CircuitState.OPEN
    now[0] = 30.0
    assert state() is CircuitState.HALF_OPEN
