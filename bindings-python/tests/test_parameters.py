"""Every public parameter, fed hostile values: each value is either accepted
or rejected with a TypeError / ValueError whose message names the parameter
and stays short — never a bare `'float' object cannot be interpreted as an
integer`, an OverflowError, or a 350-character message.

Parameters left out, and why: `Bulkhead(name=...)` and
`create_bulkhead(name, ...)` take any label; `should_retry(error, ...)`,
`should_retry_response(response, ...)` and `execute_with_retry(...,
request)` take any object (an object without a matching type or `status`
is simply not retried); `use_async_pool` is a flag read for its truth.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any, Callable

import pytest

from resilience import (
    AdaptiveThrottle,
    AsyncCircuitBreaker,
    BackoffStrategy,
    FallbackChain,
    Hedging,
    Pipeline,
    RateLimiter,
    RetryBudget,
    RetryExecutor,
    RetryPolicy,
    SyncCircuitBreaker,
    Timeout,
    circuit_breaker,
    fallback,
    hedge,
    rate_limited,
    retry,
    timeout,
)
from resilience.bulkhead import Bulkhead, BulkheadManager
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool
from resilience.errors import ParameterTypeError, ParameterValueError, SnapshotError
from resilience.middleware import RetryMiddleware

HOSTILE: dict[str, Any] = {
    "None": None,
    "2.5": 2.5,
    "'3'": "3",
    "nan": math.nan,
    "inf": math.inf,
    "-1": -1,
    "2**64": 2**64,
    "1e300": 1e300,
    "[3]": [3],
}

ALL = frozenset(HOSTILE)


def ok() -> str:
    return "ok"


async def async_ok() -> str:
    return "ok"


def run(awaitable: Any) -> Any:
    return asyncio.run(awaitable)


_names = itertools.count()


def _manager_bulkhead(**kwargs: Any) -> Any:
    return BulkheadManager().create_bulkhead(f"b{next(_names)}", **kwargs)


# (where, parameter, build(value), values accepted). `build` passes the value
# as that parameter and lets the call do all it does with it.
Probe = tuple[str, str, Callable[[Any], Any], frozenset[str]]

RETRY_POLICY: list[Probe] = [
    ("RetryPolicy", "max_attempts", lambda v: RetryPolicy(max_attempts=v), frozenset()),
    ("RetryPolicy", "backoff", lambda v: RetryPolicy(backoff=v), frozenset()),
    ("RetryPolicy", "base_delay", lambda v: RetryPolicy(base_delay=v), frozenset({"2.5"})),
    ("RetryPolicy", "max_delay", lambda v: RetryPolicy(max_delay=v), frozenset({"2.5"})),
    ("RetryPolicy", "jitter", lambda v: RetryPolicy(jitter=v), frozenset()),
    ("RetryPolicy", "retryable_errors", lambda v: RetryPolicy(retryable_errors=v), frozenset({"None"})),
    ("RetryPolicy", "retryable_status_codes", lambda v: RetryPolicy(retryable_status_codes=v), frozenset({"None"})),
    ("RetryPolicy", "seed", lambda v: RetryPolicy(seed=v), frozenset({"None"})),
    # Attempt numbers saturate (attempt 2**64 is a very late attempt); a
    # float without a fraction counts.
    ("calculate_delay", "attempt", lambda v: RetryPolicy().calculate_delay(v), frozenset({"-1", "2**64", "1e300"})),
    ("should_retry", "attempt", lambda v: RetryPolicy().should_retry(KeyError(), v), frozenset({"-1", "2**64", "1e300"})),
    (
        "should_retry_response",
        "attempt",
        lambda v: RetryPolicy().should_retry_response(object(), attempt=v),
        frozenset({"-1", "2**64", "1e300"}),
    ),
]

EXECUTOR: list[Probe] = [
    ("RetryExecutor", "policy", lambda v: RetryExecutor(v), frozenset()),
    *(
        ("RetryExecutor", name, lambda v, name=name: RetryExecutor(RetryPolicy(), **{name: v}), frozenset({"None"}))
        for name in ("on_retry", "time_source", "sleep_func", "async_sleep_func")
    ),
    ("execute_sync", "func", lambda v: RetryExecutor(RetryPolicy()).execute_sync(v), frozenset()),
    ("execute_async", "func", lambda v: run(RetryExecutor(RetryPolicy()).execute_async(v)), frozenset()),
    ("@retry", "exceptions", lambda v: retry(KeyError, v), frozenset()),
    ("@retry", "policy", lambda v: retry(policy=v), frozenset({"None"})),
    # None is "not given" for the decorator's individual parameters (as in the original).
    ("@retry", "max_attempts", lambda v: retry(max_attempts=v), frozenset({"None"})),
    ("@retry", "base_delay", lambda v: retry(base_delay=v), frozenset({"None", "2.5"})),
    ("@retry", "backoff", lambda v: retry(backoff=v), frozenset({"None"})),
    ("@retry", "max_delay", lambda v: retry(max_delay=v), frozenset({"None", "2.5"})),
    ("@retry", "jitter", lambda v: retry(jitter=v), frozenset({"None"})),
    *(
        ("@retry", name, lambda v, name=name: retry(**{name: v}), frozenset({"None"}))
        for name in ("on_retry", "time_source", "sleep_func", "async_sleep_func")
    ),
    ("@retry(...)(func)", "func", lambda v: retry()(v), frozenset()),
    ("RetryMiddleware", "policy", lambda v: RetryMiddleware(policy=v), frozenset({"None"})),
    ("RetryMiddleware", "time_source", lambda v: RetryMiddleware(time_source=v), frozenset({"None"})),
    ("RetryMiddleware", "async_sleep_func", lambda v: RetryMiddleware(async_sleep_func=v), frozenset({"None"})),
    ("execute_with_retry", "execute_func", lambda v: run(RetryMiddleware().execute_with_retry(v, "GET /")), frozenset()),
]


def _breakers(name: str, base: dict[str, Any], accepted: frozenset[str]) -> list[Probe]:
    """The parameter on both breaker classes and the decorator, with the
    other keywords it only works with in `base`."""

    def decorated(**kwargs: Any) -> Any:
        return circuit_breaker(**kwargs)(ok)

    return [
        (where, name, lambda v, build=build: build(**base, **{name: v}), accepted)
        for where, build in (
            ("SyncCircuitBreaker", SyncCircuitBreaker),
            ("AsyncCircuitBreaker", AsyncCircuitBreaker),
            ("@circuit_breaker", decorated),
        )
    ]


RATE = {"failure_ratio": 0.5}
BREAKERS: list[Probe] = [
    *_breakers("failure_threshold", {}, frozenset()),
    *_breakers("recovery_timeout", {}, frozenset({"2.5"})),
    *_breakers("expected_exception", {}, frozenset()),
    *_breakers("time_source", {}, frozenset({"None"})),
    *_breakers("half_open_max_calls", {}, frozenset()),
    *_breakers("failure_ratio", {}, frozenset({"None"})),
    # Window keywords without a failure ratio are an error naming them...
    *_breakers("minimum_throughput", {}, frozenset({"None"})),
    *_breakers("window_size", {}, frozenset({"None"})),
    # ...and with one, their own values are judged.
    *_breakers("minimum_throughput", RATE, frozenset({"None"})),
    *_breakers("sampling_duration", RATE, frozenset({"None", "2.5"})),
    *_breakers("sampling_buckets", RATE, frozenset({"None"})),
    *_breakers("window_size", RATE, frozenset({"None"})),
    *_breakers("slow_call_duration", {**RATE, "slow_call_ratio": 0.5}, frozenset({"2.5"})),
    *_breakers("slow_call_ratio", {**RATE, "slow_call_duration": 1.0}, frozenset()),
    *_breakers("break_backoff", {"max_recovery_timeout": 60.0}, frozenset()),
    *_breakers("max_recovery_timeout", {"break_backoff": BackoffStrategy.LINEAR}, frozenset()),
    *_breakers("initial_state", {}, frozenset({"None"})),
    ("@circuit_breaker", "registry", lambda v: circuit_breaker(registry=v), frozenset({"None"})),
    ("@circuit_breaker(...)(func)", "func", lambda v: circuit_breaker()(v), frozenset()),
    ("SyncCircuitBreaker.call", "func", lambda v: SyncCircuitBreaker().call(v), frozenset()),
    ("AsyncCircuitBreaker.call", "func", lambda v: run(AsyncCircuitBreaker().call(v)), frozenset()),
]

FALLBACKS: list[Probe] = [
    ("FallbackChain", "fallbacks", lambda v: FallbackChain(fallbacks=v), frozenset({"None"})),
    ("FallbackChain", "expected_exceptions", lambda v: FallbackChain(expected_exceptions=v), frozenset()),
    ("add_fallback", "fallback_func", lambda v: FallbackChain().add_fallback(v), frozenset()),
    ("execute", "primary_func", lambda v: FallbackChain().execute(v), frozenset()),
    ("execute_async", "primary_func", lambda v: run(FallbackChain().execute_async(v)), frozenset()),
    ("@fallback", "fallback_funcs", lambda v: fallback(ok, v), frozenset()),
    ("@fallback(...)(func)", "primary_func", lambda v: fallback(ok)(v), frozenset()),
]


def _pools(name: str, accepted: frozenset[str]) -> list[Probe]:
    return [
        ("SyncResourcePool", name, lambda v: SyncResourcePool(**{name: v}), accepted),
        ("AsyncResourcePool", name, lambda v: AsyncResourcePool(**{name: v}), accepted),
        ("create_bulkhead", name, lambda v: _manager_bulkhead(**{name: v}), accepted),
    ]


def _acquire_sync(timeout: Any) -> None:
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.0)
    assert pool.acquire(timeout=timeout)


async def _acquire_async(timeout: Any) -> None:
    pool = AsyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.0)
    assert await pool.acquire(timeout=timeout)


BULKHEADS: list[Probe] = [
    *_pools("max_concurrent", frozenset()),
    *_pools("max_queue_size", frozenset()),
    *_pools("timeout", frozenset({"2.5"})),
    ("SyncResourcePool.acquire", "timeout", _acquire_sync, frozenset({"None", "2.5"})),
    ("AsyncResourcePool.acquire", "timeout", lambda v: run(_acquire_async(v)), frozenset({"None", "2.5"})),
    ("Bulkhead", "pool", lambda v: Bulkhead(name="db", pool=v), frozenset({"None"})),
]

NONE = frozenset({"None"})


def _callbacks(where: str, build: Callable[..., Any], names: tuple[str, ...]) -> list[Probe]:
    """Optional callables: None is "not given", anything else must be callable."""
    return [(where, name, lambda v, name=name: build(**{name: v}), NONE) for name in names]


# Issue 10: deadlines, timeouts, result predicates, hedging, the pipeline, events.
ISSUE_10: list[Probe] = [
    ("RetryPolicy", "max_elapsed", lambda v: RetryPolicy(max_elapsed=v), frozenset({"None", "2.5"})),
    ("RetryPolicy", "attempt_timeout", lambda v: RetryPolicy(attempt_timeout=v), frozenset({"None", "2.5"})),
    ("RetryPolicy", "retry_on_result", lambda v: RetryPolicy(retry_on_result=v), NONE),
    ("RetryPolicy", "budget", lambda v: RetryPolicy(budget=v), NONE),
    *_callbacks("RetryExecutor", lambda **kw: RetryExecutor(RetryPolicy(), **kw), ("on_event",)),
    *_callbacks("@retry", retry, ("on_event",)),
    *(probe for name in ("failure_on_result", "on_event") for probe in _breakers(name, {}, NONE)),
    *_callbacks("FallbackChain", FallbackChain, ("on_event",)),
    *_callbacks("Bulkhead", lambda **kw: Bulkhead(name="b", **kw), ("on_event",)),
    ("timeout", "timeout", lambda v: timeout(v), frozenset({"2.5"})),
    ("Timeout", "timeout", lambda v: Timeout(v), frozenset({"2.5"})),
    *_callbacks("Timeout", lambda **kw: Timeout(1.0, **kw), ("on_event", "async_sleep_func")),
    ("timeout(...)(func)", "func", lambda v: timeout(1.0)(v), frozenset()),
    ("Hedging", "hedge_delay", lambda v: Hedging(hedge_delay=v), frozenset({"2.5"})),
    ("Hedging", "max_hedged_attempts", lambda v: Hedging(max_hedged_attempts=v), frozenset()),
    ("hedge", "max_hedged_attempts", lambda v: hedge(max_hedged_attempts=v), frozenset()),
    *_callbacks("Hedging", Hedging, ("failure_on_result", "on_event", "time_source", "async_sleep_func")),
    ("hedge(...)(func)", "func", lambda v: hedge()(v), frozenset()),
    *_callbacks("Pipeline.builder", Pipeline.builder, ("time_source", "sleep_func", "async_sleep_func")),
    ("total_timeout", "total_timeout", lambda v: Pipeline.builder().total_timeout(v), frozenset({"2.5"})),
    ("attempt_timeout", "attempt_timeout", lambda v: Pipeline.builder().attempt_timeout(v), frozenset({"2.5"})),
    ("PipelineBuilder.retry", "policy", lambda v: Pipeline.builder().retry(v), frozenset()),
    ("PipelineBuilder.breaker", "breaker", lambda v: Pipeline.builder().breaker(v), frozenset()),
    ("PipelineBuilder.hedging", "hedging", lambda v: Pipeline.builder().hedging(v), frozenset()),
    ("PipelineBuilder.rate_limiter", "limiter", lambda v: Pipeline.builder().rate_limiter(v), frozenset()),
    ("PipelineBuilder.bulkhead", "bulkhead", lambda v: Pipeline.builder().bulkhead(v), frozenset()),
    ("PipelineBuilder.throttle", "throttle", lambda v: Pipeline.builder().throttle(v), frozenset()),
    ("PipelineBuilder.on_event", "listener", lambda v: Pipeline.builder().on_event(v), frozenset()),
    ("Pipeline.execute_sync", "func", lambda v: Pipeline.builder().build().execute_sync(v), frozenset()),
    ("Pipeline(...)(func)", "func", lambda v: Pipeline.builder().build()(v), frozenset()),
]

# Issue 11: load control.
ISSUE_11: list[Probe] = [
    ("RetryBudget", "ttl", lambda v: RetryBudget(ttl=v), frozenset({"2.5"})),
    ("RetryBudget", "min_retries_per_sec", lambda v: RetryBudget(min_retries_per_sec=v), frozenset()),
    ("RetryBudget", "retry_ratio", lambda v: RetryBudget(retry_ratio=v), frozenset()),
    *_callbacks("RetryBudget", RetryBudget, ("time_source",)),
    ("AdaptiveThrottle", "k", lambda v: AdaptiveThrottle(k=v), frozenset({"2.5", "2**64", "1e300"})),
    ("AdaptiveThrottle", "window", lambda v: AdaptiveThrottle(window=v), frozenset({"2.5"})),
    ("AdaptiveThrottle", "seed", lambda v: AdaptiveThrottle(seed=v), NONE),
    *_callbacks("AdaptiveThrottle", AdaptiveThrottle, ("accepted", "time_source", "on_event")),
    ("AdaptiveThrottle.call", "func", lambda v: AdaptiveThrottle().call(v), frozenset()),
    ("RateLimiter", "rate", lambda v: RateLimiter(rate=v), frozenset()),
    ("RateLimiter", "per", lambda v: RateLimiter(per=v), frozenset({"2.5"})),
    ("RateLimiter", "burst", lambda v: RateLimiter(burst=v), frozenset()),
    *_callbacks("RateLimiter", RateLimiter, ("time_source", "sleep_func", "async_sleep_func", "on_event")),
    ("RateLimiter.try_acquire", "n", lambda v: RateLimiter().try_acquire(v), frozenset()),
    ("RateLimiter.check", "n", lambda v: RateLimiter().check(v), frozenset()),
    ("RateLimiter.acquire", "n", lambda v: RateLimiter().acquire(v), frozenset()),
    ("RateLimiter.acquire_async", "n", lambda v: run(RateLimiter().acquire_async(v)), frozenset()),
    ("rate_limited", "limiter", lambda v: rate_limited(v), frozenset()),
]

PROBES = RETRY_POLICY + EXECUTOR + BREAKERS + FALLBACKS + BULKHEADS + ISSUE_10 + ISSUE_11
CASES = [
    pytest.param(where, parameter, build, label, label in accepted, id=f"{where}:{parameter}={label}")
    for where, parameter, build, accepted in PROBES
    for label in HOSTILE
]


@pytest.mark.parametrize(("where", "parameter", "build", "label", "accepted"), CASES)
def test_hostile_values_are_accepted_or_named(
    where: str, parameter: str, build: Callable[[Any], Any], label: str, accepted: bool
) -> None:
    if accepted:
        build(HOSTILE[label])
        return
    with pytest.raises((TypeError, ValueError)) as info:
        build(HOSTILE[label])
    error = info.value
    message = str(error)
    assert parameter in message, f"{where}({parameter}={label}): {type(error).__name__}: {message}"
    assert len(message) < 200, message
    assert isinstance(error, (ParameterTypeError, ParameterValueError, SnapshotError)), type(error)


def test_every_probed_value_is_hostile_somewhere() -> None:
    assert len(CASES) > 700
    rejected = {label for _, _, _, accepted in PROBES for label in HOSTILE if label not in accepted}
    assert rejected == ALL


def test_kind_and_parameter_are_attributes() -> None:
    with pytest.raises(TypeError) as info:
        SyncCircuitBreaker(failure_threshold=2.5)
    assert isinstance(info.value, ParameterTypeError)
    assert (info.value.kind, info.value.parameter) == ("not_an_integer", "failure_threshold")
    with pytest.raises(ValueError) as value_info:
        RetryPolicy(retryable_status_codes={70000})
    assert isinstance(value_info.value, ParameterValueError)
    assert (value_info.value.kind, value_info.value.parameter) == ("too_large", "retryable_status_codes")


def test_the_originals_messages_are_kept_by_parameter_and_kind() -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"max_attempts": 0}, ValueError, "max_attempts must be at least 1"),
        ({"base_delay": -1}, ValueError, "base_delay must be positive"),
        ({"max_delay": -1.0}, ValueError, "max_delay must be positive"),
        ({"base_delay": 5, "max_delay": 1}, ValueError, "max_delay must be >= base_delay"),
        ({"max_attempts": "3"}, TypeError, "'max_attempts' must be <class 'int'> (got '3' that is a <class 'str'>)."),
        ({"max_attempts": 2.5}, TypeError, "'max_attempts' must be <class 'int'> (got 2.5 that is a <class 'float'>)."),
        (
            {"base_delay": None},
            TypeError,
            "'base_delay' must be (<class 'int'>, <class 'float'>) (got None that is a <class 'NoneType'>).",
        ),
    ]
    for kwargs, cls, message in cases:
        with pytest.raises(cls) as info:
            RetryPolicy(**kwargs)
        assert str(info.value) == message


def test_a_huge_value_makes_a_short_message() -> None:
    for build in (
        lambda: RetryPolicy(max_attempts="x" * 100_000),
        lambda: RetryPolicy(backoff="x" * 100_000),
        lambda: SyncCircuitBreaker(failure_threshold="x" * 100_000),
        lambda: RetryPolicy(base_delay=10**1000),
        lambda: SyncCircuitBreaker(initial_state="x" * 100_000),
    ):
        with pytest.raises((TypeError, ValueError)) as info:
            build()
        assert len(str(info.value)) < 200, str(info.value)


def test_errors_pickle_with_their_attributes() -> None:
    import pickle

    for build in (
        lambda: SyncCircuitBreaker(failure_threshold=None),
        lambda: SyncCircuitBreaker(failure_threshold=0),
        lambda: SyncCircuitBreaker(initial_state="{"),
    ):
        with pytest.raises((TypeError, ValueError)) as info:
            build()
        clone = pickle.loads(pickle.dumps(info.value))
        assert type(clone) is type(info.value) and str(clone) == str(info.value)
        assert clone.kind == info.value.kind  # type: ignore[attr-defined]
        assert getattr(clone, "parameter", None) == getattr(info.value, "parameter", None)
