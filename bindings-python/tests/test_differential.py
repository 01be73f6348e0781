"""Differential tests against provide-foundation 0.4.10 (the reference):
random policies, failure scripts and breaker scripts must give the same
un-jittered delays, retry decisions and breaker states.

Kept out of the comparison, as documented in the README: jitter (a different
generator), overflow (the original raises OverflowError near attempt 1024),
and concurrent half-open trials (never exercised by a sequential script).
Times are whole seconds so float rounding at a boundary (0.1 + 0.2 > 0.3)
cannot tell the original's float clock from the core's nanoseconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import require_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from resilience import AsyncCircuitBreaker, BackoffStrategy, RetryExecutor, RetryPolicy, SyncCircuitBreaker

require_reference()  # before importing the reference, which needs Python >= 3.11

from provide.foundation.resilience import AsyncCircuitBreaker as RefAsyncBreaker  # noqa: E402
from provide.foundation.resilience import BackoffStrategy as RefBackoff  # noqa: E402
from provide.foundation.resilience import RetryExecutor as RefExecutor  # noqa: E402
from provide.foundation.resilience import RetryPolicy as RefPolicy  # noqa: E402
from provide.foundation.resilience import SyncCircuitBreaker as RefBreaker  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, database=None)  # no .hypothesis dir in the checkout


class Retryable(Exception):
    pass


class Fatal(Exception):
    pass


class Counted(Exception):
    pass


class Ignored(Exception):
    pass


@st.composite
def policies(draw: Any) -> dict[str, Any]:
    base_ms = draw(st.integers(min_value=0, max_value=5000))
    max_ms = draw(st.integers(min_value=base_ms, max_value=120_000))
    return {
        "max_attempts": draw(st.integers(min_value=1, max_value=8)),
        "backoff": draw(st.sampled_from([b.value for b in BackoffStrategy])),
        "base_delay": base_ms / 1000,
        "max_delay": max_ms / 1000,
        "jitter": False,
        "retryable_errors": draw(st.sampled_from([None, (Retryable,)])),
        "retryable_status_codes": draw(st.sampled_from([None, {500, 503}, {429}])),
    }


def both(spec: dict[str, Any]) -> tuple[RefPolicy, RetryPolicy]:
    ref = RefPolicy(**{**spec, "backoff": RefBackoff(spec["backoff"])})
    return ref, RetryPolicy(**spec)


@SETTINGS
@given(policies(), st.lists(st.integers(min_value=-3, max_value=60), max_size=20))
def test_same_delays(spec: dict[str, Any], attempts: list[int]) -> None:
    ref, ours = both(spec)
    for attempt in attempts:
        expected = ref.calculate_delay(attempt)
        assert abs(ours.calculate_delay(attempt) - expected) <= 1e-9 * max(1.0, expected), attempt


@SETTINGS
@given(
    policies(),
    st.integers(min_value=-2, max_value=10),
    st.sampled_from([Retryable, Fatal]),
    st.sampled_from([200, 429, 500, 503, 504]),
)
def test_same_decisions(spec: dict[str, Any], attempt: int, error: type[Exception], status: int) -> None:
    ref, ours = both(spec)
    assert ours.should_retry(error(), attempt) == ref.should_retry(error(), attempt)

    class Response:
        pass

    response = Response()
    response.status = status  # type: ignore[attr-defined]
    assert ours.should_retry_response(response, attempt=attempt) == ref.should_retry_response(response, attempt=attempt)


def _script_runner(outcomes: list[str]) -> Any:
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        outcome = outcomes[len(calls) - 1] if len(calls) <= len(outcomes) else "ok"
        if outcome == "ok":
            return "ok"
        raise (Retryable if outcome == "retryable" else Fatal)(len(calls))

    return step, calls


def _run_executor(executor_cls: Any, policy: Any, outcomes: list[str], asynchronous: bool) -> tuple[Any, ...]:
    step, calls = _script_runner(outcomes)
    sleeps: list[float] = []
    notified: list[int] = []

    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    executor = executor_cls(
        policy,
        on_retry=lambda attempt, error: notified.append(attempt),
        sleep_func=sleeps.append,
        async_sleep_func=async_sleep,
    )
    try:
        if asynchronous:

            async def step_async() -> str:
                return step()

            result: Any = asyncio.run(executor.execute_async(step_async))
        else:
            result = executor.execute_sync(step)
    except (Retryable, Fatal) as e:
        result = (type(e).__name__, e.args)
    return result, len(calls), [round(s, 9) for s in sleeps], notified


@SETTINGS
@given(
    policies(),
    st.lists(st.sampled_from(["ok", "retryable", "fatal"]), min_size=1, max_size=8),
    st.booleans(),
)
def test_same_retry_runs(spec: dict[str, Any], outcomes: list[str], asynchronous: bool) -> None:
    ref, ours = both(spec)
    assert _run_executor(RetryExecutor, ours, outcomes, asynchronous) == _run_executor(
        RefExecutor, ref, outcomes, asynchronous
    )


breaker_steps = st.lists(
    st.one_of(
        st.tuples(st.just("call"), st.sampled_from(["success", "failure", "ignored"])),
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=40)),
        st.tuples(st.just("reset"), st.none()),
    ),
    max_size=40,
)


def _breaker_call(breaker: Any, outcome: str, asynchronous: bool) -> str:
    def body() -> str:
        if outcome == "failure":
            raise Counted
        if outcome == "ignored":
            raise Ignored
        return "ok"

    try:
        if asynchronous:

            async def body_async() -> str:
                return body()

            asyncio.run(breaker.call(body_async))
        else:
            breaker.call(body)
        return "ok"
    except RuntimeError as e:
        return f"rejected: {e}"
    except (Counted, Ignored) as e:
        return type(e).__name__


def _view(breaker: Any, asynchronous: bool) -> tuple[str, int]:
    if asynchronous:
        return asyncio.run(breaker.state()).name, asyncio.run(breaker.failure_count())
    return breaker.state().name, breaker.failure_count()


@SETTINGS
@given(
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=0, max_value=60),
    breaker_steps,
    st.booleans(),
)
def test_same_breaker_states(threshold: int, timeout: int, steps: list[tuple[str, Any]], asynchronous: bool) -> None:
    now = [0]
    kwargs = {
        "failure_threshold": threshold,
        "recovery_timeout": float(timeout),
        "expected_exception": Counted,
        "time_source": lambda: float(now[0]),
    }
    if asynchronous:
        ref, ours = RefAsyncBreaker(**kwargs), AsyncCircuitBreaker(**kwargs)
    else:
        ref, ours = RefBreaker(**kwargs), SyncCircuitBreaker(**kwargs)
    for op, arg in steps:
        if op == "call":
            assert _breaker_call(ours, arg, asynchronous) == _breaker_call(ref, arg, asynchronous), (op, arg)
        elif op == "advance":
            now[0] += arg
        elif asynchronous:
            asyncio.run(ours.reset())
            asyncio.run(ref.reset())
        else:
            ours.reset()
            ref.reset()
        assert _view(ours, asynchronous) == _view(ref, asynchronous), (op, arg)
