"""An open breaker's rejection: `CircuitBreakerOpenError`, a `RuntimeError`
with the original's message that also says when to come back (`retry_after`),
raised the same way by every breaker entry point."""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any, Callable

import pytest

from conftest import VirtualClock
import resilience
from resilience import AsyncCircuitBreaker, CircuitBreakerOpenError, SyncCircuitBreaker, circuit_breaker
from resilience import circuit_async, circuit_sync, errors


class Down(Exception):
    pass


def fail() -> None:
    raise Down("down")


async def async_fail() -> None:
    raise Down("down")


def ok() -> str:
    return "ok"


async def async_ok() -> str:
    return "ok"


def _sync_call(clock: VirtualClock) -> tuple[Callable[[], Any], Callable[[], Any]]:
    breaker = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=30.0, time_source=clock.time)
    return (lambda: breaker.call(fail)), (lambda: breaker.call(ok))


def _async_call(clock: VirtualClock) -> tuple[Callable[[], Any], Callable[[], Any]]:
    breaker = AsyncCircuitBreaker(failure_threshold=1, recovery_timeout=30.0, time_source=clock.time)
    return (lambda: asyncio.run(breaker.call(async_fail))), (lambda: asyncio.run(breaker.call(async_ok)))


def _sync_decorator(clock: VirtualClock) -> tuple[Callable[[], Any], Callable[[], Any]]:
    @circuit_breaker(failure_threshold=1, recovery_timeout=30.0, time_source=clock.time)
    def service(succeed: bool) -> str:
        return ok() if succeed else fail()  # type: ignore[func-returns-value]

    return (lambda: service(False)), (lambda: service(True))


def _async_decorator(clock: VirtualClock) -> tuple[Callable[[], Any], Callable[[], Any]]:
    @circuit_breaker(failure_threshold=1, recovery_timeout=30.0, time_source=clock.time)
    async def service(succeed: bool) -> str:
        return await async_ok() if succeed else await async_fail()  # type: ignore[func-returns-value]

    return (lambda: asyncio.run(service(False))), (lambda: asyncio.run(service(True)))


def _async_decorator_generic(clock: VirtualClock) -> tuple[Callable[[], Any], Callable[[], Any]]:
    # A parameter named like the generated wrapper's own names gets the generic wrapper.
    @circuit_breaker(failure_threshold=1, recovery_timeout=30.0, time_source=clock.time)
    async def service(_rs_token: bool) -> str:
        return await async_ok() if _rs_token else await async_fail()  # type: ignore[func-returns-value]

    assert service.__code__.co_varnames[:2] == ("args", "kwargs")
    return (lambda: asyncio.run(service(False))), (lambda: asyncio.run(service(True)))


ENTRY_POINTS = pytest.mark.parametrize(
    "entry",
    [_sync_call, _async_call, _sync_decorator, _async_decorator, _async_decorator_generic],
    ids=["SyncCircuitBreaker.call", "AsyncCircuitBreaker.call", "@circuit_breaker", "@circuit_breaker async", "@circuit_breaker async generic"],
)


@ENTRY_POINTS
def test_rejection_is_a_runtime_error_with_the_originals_message_and_retry_after(
    entry: Any, clock: VirtualClock
) -> None:
    failing, succeeding = entry(clock)
    with pytest.raises(Down):
        failing()
    clock.advance(12.25)
    with pytest.raises(CircuitBreakerOpenError) as info:
        succeeding()
    error = info.value
    assert isinstance(error, RuntimeError)
    assert str(error) == "Circuit breaker is open"
    assert error.args == ("Circuit breaker is open",)
    assert type(error.retry_after) is float
    assert error.retry_after == pytest.approx(17.75, abs=1e-9)
    clock.advance(17.0)
    with pytest.raises(CircuitBreakerOpenError) as later:
        succeeding()
    assert later.value.retry_after == pytest.approx(0.75, abs=1e-9)
    clock.advance(0.75)
    assert succeeding() == "ok"


def test_retry_after_is_zero_while_the_trial_slots_are_taken_sync(clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=5.0, time_source=clock.time)
    with pytest.raises(Down):
        breaker.call(fail)
    clock.advance(5.0)
    seen: list[float] = []

    def trial() -> str:
        # The one trial slot is this call's: a second caller is rejected
        # with nothing to wait for but this trial.
        with pytest.raises(CircuitBreakerOpenError) as info:
            breaker.call(ok)
        seen.append(info.value.retry_after)
        return "trial"

    assert breaker.call(trial) == "trial"
    assert seen == [0.0]


def test_retry_after_is_zero_while_the_trial_slots_are_taken_async(clock: VirtualClock) -> None:
    async def main() -> float:
        breaker = AsyncCircuitBreaker(failure_threshold=1, recovery_timeout=5.0, time_source=clock.time)
        with pytest.raises(Down):
            await breaker.call(async_fail)
        clock.advance(5.0)
        gate = asyncio.Event()

        async def trial() -> str:
            await gate.wait()
            return "trial"

        first = asyncio.ensure_future(breaker.call(trial))
        await asyncio.sleep(0)
        with pytest.raises(CircuitBreakerOpenError) as info:
            await breaker.call(async_ok)
        gate.set()
        assert await first == "trial"
        return info.value.retry_after

    assert asyncio.run(main()) == 0.0


def test_one_class_exported_where_the_breakers_are() -> None:
    assert resilience.CircuitBreakerOpenError is CircuitBreakerOpenError
    assert circuit_sync.CircuitBreakerOpenError is CircuitBreakerOpenError
    assert circuit_async.CircuitBreakerOpenError is CircuitBreakerOpenError
    assert errors.CircuitBreakerOpenError is CircuitBreakerOpenError
    for module in (resilience, circuit_sync, circuit_async, errors):
        assert "CircuitBreakerOpenError" in module.__all__
    assert issubclass(CircuitBreakerOpenError, RuntimeError)


def test_natively_raised_error_matches_one_built_in_python(clock: VirtualClock) -> None:
    # The breakers build the error without running its __init__ (no Python
    # frame on the rejection path): it must look exactly like a constructed one.
    breaker = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=2.0, time_source=clock.time)
    with pytest.raises(Down):
        breaker.call(fail)
    with pytest.raises(CircuitBreakerOpenError) as info:
        breaker.call(ok)
    built = CircuitBreakerOpenError("Circuit breaker is open", 2.0)
    native = info.value
    assert (native.args, str(native), native.retry_after) == (built.args, str(built), built.retry_after)
    assert vars(native) == vars(built) == {}  # retry_after is a slot: no dict per rejection


def test_users_can_build_pickle_and_catch_it() -> None:
    default = CircuitBreakerOpenError()
    assert (str(default), default.retry_after) == ("Circuit breaker is open", 0.0)
    error = CircuitBreakerOpenError(retry_after=4.5)
    error.note = "kept"  # type: ignore[attr-defined]
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert (type(clone), clone.args, clone.retry_after) == (CircuitBreakerOpenError, error.args, 4.5)
        assert clone.note == "kept"  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="^Circuit breaker is open$"):
        raise error
