"""The grown-up breaker (beyond the original): failure-rate windows, slow
calls, break backoff, isolate/close, metrics and snapshots — on both
breaker classes and the decorator, on an injected clock."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import sys
from typing import Any, Callable

import pytest

from conftest import VirtualClock
from resilience import (
    AsyncCircuitBreaker,
    BackoffStrategy,
    BreakerMetrics,
    CircuitBreakerOpenError,
    CircuitState,
    SnapshotError,
    SyncCircuitBreaker,
    circuit_breaker,
)
from resilience import _core
from resilience.errors import ParameterValueError


class Down(Exception):
    pass


class Other(Exception):
    pass


def fail() -> None:
    raise Down("down")


def ok() -> str:
    return "ok"


class Sync:
    """One API over both classes (the async one's coroutines run to the end)."""

    def __init__(self, **kwargs: Any) -> None:
        self.breaker = SyncCircuitBreaker(**kwargs)

    def call(self, func: Callable[[], Any]) -> Any:
        return self.breaker.call(func)

    def state(self) -> CircuitState:
        return self.breaker.state()

    def failure_count(self) -> int:
        return self.breaker.failure_count()

    def isolate(self) -> None:
        self.breaker.isolate()

    def close(self) -> None:
        self.breaker.close()

    def reset(self) -> None:
        self.breaker.reset()

    def metrics(self) -> BreakerMetrics:
        return self.breaker.metrics()

    def snapshot(self) -> dict[str, Any]:
        return self.breaker.snapshot()

    @property
    def isolated(self) -> bool:
        return self.breaker.isolated


class Async(Sync):
    def __init__(self, **kwargs: Any) -> None:
        self.breaker = AsyncCircuitBreaker(**kwargs)  # type: ignore[assignment]

    def call(self, func: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return func()

        return asyncio.run(self.breaker.call(run))

    def _run(self, name: str) -> Any:
        return asyncio.run(getattr(self.breaker, name)())

    def state(self) -> CircuitState:
        return self._run("state")  # type: ignore[no-any-return]

    def failure_count(self) -> int:
        return self._run("failure_count")  # type: ignore[no-any-return]

    def isolate(self) -> None:
        self._run("isolate")

    def close(self) -> None:
        self._run("close")

    def reset(self) -> None:
        self._run("reset")

    def metrics(self) -> BreakerMetrics:
        return self._run("metrics")  # type: ignore[no-any-return]

    def snapshot(self) -> dict[str, Any]:
        return self._run("snapshot")  # type: ignore[no-any-return]


class Decorated(Sync):
    """`@circuit_breaker(...)` on a sync function, through its `_breaker`."""

    def __init__(self, **kwargs: Any) -> None:
        self.behaviour: Callable[[], Any] = ok

        @circuit_breaker(**kwargs)
        def guarded() -> Any:
            return self.behaviour()

        self.guarded = guarded
        self.breaker = guarded._breaker

    def call(self, func: Callable[[], Any]) -> Any:
        self.behaviour = func
        return self.guarded()


EVERY = pytest.mark.parametrize("make", [Sync, Async, Decorated], ids=["sync", "async", "decorator"])


def outcomes(breaker: Sync, *results: str) -> list[str]:
    """Runs one call per result ('ok', 'fail', 'other'); what each gave."""
    seen = []
    for result in results:
        func = {"ok": ok, "fail": fail, "other": lambda: (_ for _ in ()).throw(Other())}[result]
        try:
            breaker.call(func)
            seen.append("ok")
        except CircuitBreakerOpenError:
            seen.append("rejected")
        except (Down, Other):
            seen.append("error")
    return seen


@EVERY
def test_a_failure_rate_over_a_count_window_trips_at_the_ratio(make: Any, clock: VirtualClock) -> None:
    breaker = make(
        failure_ratio=0.5, minimum_throughput=4, window_size=4, expected_exception=Down, time_source=clock.time
    )
    # Two failures among three calls: below the minimum throughput.
    assert outcomes(breaker, "fail", "ok", "fail") == ["error", "ok", "error"]
    assert breaker.state() is CircuitState.CLOSED
    # An error outside expected_exception is no call of the window.
    assert outcomes(breaker, "other") == ["error"]
    assert breaker.metrics().window_calls == 3
    # The fourth call: 2 failures of 4 is exactly the ratio.
    assert outcomes(breaker, "ok") == ["ok"]
    assert breaker.state() is CircuitState.CLOSED, "a success never trips"
    assert outcomes(breaker, "fail") == ["error"]  # window: ok fail ok fail... the oldest left
    m = breaker.metrics()
    assert (m.window_calls, m.window_failures, m.failure_ratio) == (4, 2, 0.5)
    assert breaker.state() is CircuitState.OPEN and m.openings == 1
    assert outcomes(breaker, "ok") == ["rejected"]


@EVERY
def test_a_time_window_forgets_old_buckets_and_reads_the_clock_per_call(make: Any) -> None:
    readings: list[float] = []
    now = [100.0]

    def time_source() -> float:
        readings.append(now[0])
        return now[0]

    breaker = make(
        failure_ratio=0.5, minimum_throughput=2, sampling_duration=10.0, sampling_buckets=10, time_source=time_source
    )
    assert outcomes(breaker, "fail") == ["error"]
    assert readings, "a time window needs the clock while closed"
    now[0] += 10.0  # the failure has left the window
    assert breaker.metrics().window_calls == 0
    assert outcomes(breaker, "ok", "fail") == ["ok", "error"]
    assert breaker.state() is CircuitState.OPEN  # 1 of 2 in the window


@EVERY
def test_the_default_window_is_the_cores_30_s_in_10_buckets(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_ratio=1.0, minimum_throughput=1, time_source=clock.time)
    assert _core.DEFAULT_SAMPLING_DURATION == 30.0 and _core.DEFAULT_SAMPLING_BUCKETS == 10
    assert outcomes(breaker, "ok") == ["ok"]
    clock.advance(29.0)
    assert breaker.metrics().window_calls == 1
    clock.advance(3.0)
    assert breaker.metrics().window_calls == 0


@EVERY
def test_slow_calls_trip_at_their_ratio(make: Any, clock: VirtualClock) -> None:
    breaker = make(
        failure_ratio=1.0,
        minimum_throughput=2,
        window_size=10,
        slow_call_duration=1.0,
        slow_call_ratio=0.5,
        time_source=clock.time,
    )

    def slow() -> str:
        clock.advance(1.5)
        return "slow but fine"

    def exactly() -> str:
        clock.advance(1.0)
        return "not slow"

    assert breaker.call(exactly) == "not slow"
    assert breaker.metrics().window_slow_calls == 0
    assert breaker.call(slow) == "slow but fine"
    m = breaker.metrics()
    assert (m.window_calls, m.window_slow_calls, m.slow_call_ratio) == (2, 1, 0.5)
    assert breaker.state() is CircuitState.OPEN


@EVERY
def test_break_backoff_grows_the_open_period_and_resets_on_close(make: Any, clock: VirtualClock) -> None:
    breaker = make(
        failure_threshold=1,
        recovery_timeout=1.0,
        break_backoff=BackoffStrategy.EXPONENTIAL,
        max_recovery_timeout=3.0,
        time_source=clock.time,
    )
    breaks = []
    for _ in range(4):
        outcomes(breaker, "fail")  # opens (or re-opens from half-open)
        m = breaker.metrics()
        breaks.append(m.break_duration)
        with pytest.raises(CircuitBreakerOpenError) as info:
            breaker.call(ok)
        assert info.value.retry_after == m.break_duration and info.value.reason == "open"
        clock.advance(m.break_duration)
    assert breaks == [1.0, 2.0, 3.0, 3.0]
    assert breaker.call(ok) == "ok"  # the trial closes it: the backoff starts over
    outcomes(breaker, "fail")
    assert breaker.metrics().break_duration == 1.0


@EVERY
def test_isolate_holds_it_open_until_close_and_reads_as_open(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=3, time_source=clock.time)
    assert breaker.isolated is False
    breaker.isolate()
    assert breaker.isolated is True
    assert breaker.state() is CircuitState.OPEN, "the original's three-valued view"
    clock.advance(10_000.0)
    with pytest.raises(CircuitBreakerOpenError) as info:
        breaker.call(ok)
    assert info.value.reason == "isolated" and str(info.value) == "Circuit breaker is open"
    assert info.value.retry_after > 500 * 365 * 86400, "until closed by hand"
    m = breaker.metrics()
    assert (m.state, m.isolated, m.rejections) == (CircuitState.OPEN, True, 1)
    breaker.close()
    assert (breaker.isolated, breaker.state()) == (False, CircuitState.CLOSED)
    breaker.isolate()
    breaker.reset()
    assert breaker.call(ok) == "ok" and breaker.isolated is False


@EVERY
def test_metrics_is_a_frozen_dataclass_with_the_cores_fields(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=2, recovery_timeout=5.0, time_source=clock.time)
    outcomes(breaker, "fail", "fail")
    clock.advance(2.0)
    m = breaker.metrics()
    assert isinstance(m, BreakerMetrics) and dataclasses.is_dataclass(m)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.openings = 9  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(m)] == [
        "state",
        "isolated",
        "consecutive_failures",
        "window_calls",
        "window_failures",
        "window_slow_calls",
        "failure_ratio",
        "slow_call_ratio",
        "rejections",
        "openings",
        "time_in_state",
        "break_duration",
    ]
    assert m == BreakerMetrics(
        state=CircuitState.OPEN,
        isolated=False,
        consecutive_failures=2,
        window_calls=0,
        window_failures=0,
        window_slow_calls=0,
        failure_ratio=0.0,
        slow_call_ratio=0.0,
        rejections=0,
        openings=1,
        time_in_state=2.0,
        break_duration=5.0,
    )


@EVERY
def test_a_snapshot_restores_an_open_breaker_in_a_new_process(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=1, recovery_timeout=30.0, time_source=clock.time)
    outcomes(breaker, "fail")
    clock.advance(10.0)
    document = breaker.snapshot()
    assert json.loads(json.dumps(document)) == document
    assert (document["state"], document["break_remaining_ms"], document["version"]) == ("open", 20000, 1)
    # A restarted worker: a new clock far from the old one, the same dict.
    later = VirtualClock(start_ns=7_000 * 10**9)
    restored = make(failure_threshold=1, recovery_timeout=30.0, time_source=later.time, initial_state=document)
    assert restored.state() is CircuitState.OPEN and restored.failure_count() == 1
    later.advance(19.999)
    assert restored.state() is CircuitState.OPEN
    later.advance(0.001)
    assert restored.state() is CircuitState.HALF_OPEN
    # The JSON text works as well as the dict.
    again = make(failure_threshold=1, time_source=later.time, initial_state=json.dumps(document))
    assert again.failure_count() == 1


BAD_DOCUMENTS = [
    ("not json", "malformed"),
    ('{"format":"resilience.circuit_breaker","version":1,"state":"open"', "malformed"),
    ({"format": "resilience.circuit_breaker", "version": 1, "state": "open"}, "malformed"),
    ({"format": "something.else", "version": 1}, "malformed"),
    ({}, "malformed"),
    ([], "malformed"),
    ({"format": "resilience.circuit_breaker", "version": 99}, "unsupported_version"),
    ({"x": object()}, "malformed"),
]


@pytest.mark.parametrize(("document", "kind"), BAD_DOCUMENTS, ids=[repr(d)[:40] for d, _ in BAD_DOCUMENTS])
@EVERY
def test_a_bad_snapshot_is_a_typed_error_never_a_closed_breaker(make: Any, document: Any, kind: str) -> None:
    with pytest.raises(SnapshotError) as info:
        make(initial_state=document)
    assert info.value.kind == kind and isinstance(info.value, ValueError)
    assert str(info.value).startswith("invalid initial_state: ")


def test_the_new_async_methods_are_coroutines_like_the_originals() -> None:
    # The original's state()/failure_count()/reset() are coroutines; the new
    # methods follow them. `isolated` is a property, as on the sync class.
    for name in ("state", "failure_count", "reset", "call", "isolate", "close", "metrics", "snapshot"):
        assert inspect.iscoroutinefunction(getattr(AsyncCircuitBreaker, name)), name
    assert isinstance(inspect.getattr_static(AsyncCircuitBreaker, "isolated"), property)
    for name in ("isolate", "close", "metrics", "snapshot"):
        assert not inspect.iscoroutinefunction(getattr(SyncCircuitBreaker, name)), name


def test_the_new_keywords_are_keyword_only() -> None:
    new = [
        "half_open_max_calls",
        "failure_ratio",
        "minimum_throughput",
        "sampling_duration",
        "sampling_buckets",
        "window_size",
        "slow_call_duration",
        "slow_call_ratio",
        "break_backoff",
        "max_recovery_timeout",
        "initial_state",
    ]
    for target in (SyncCircuitBreaker.__init__, AsyncCircuitBreaker.__init__, circuit_breaker):
        params = inspect.signature(target).parameters
        assert [p for p in new if params[p].kind is inspect.Parameter.KEYWORD_ONLY] == new, target
    # The decorator hands every keyword to the breaker it builds.
    guarded = circuit_breaker(half_open_max_calls=3, failure_ratio=0.5, window_size=7)(ok)
    assert guarded._breaker.half_open_max_calls == 3
    assert guarded._breaker.snapshot()["window"] == {"kind": "count", "size": 7, "calls": ""}

    async def async_ok() -> str:
        return "ok"

    async_guarded = circuit_breaker(half_open_max_calls=2, failure_ratio=0.5, window_size=3)(async_ok)
    assert async_guarded._breaker.half_open_max_calls == 2  # type: ignore[attr-defined]
    assert asyncio.run(async_guarded._breaker.snapshot())["window"]["size"] == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "parameter", "other"),
    [
        ({"window_size": 10}, "window_size", "failure_ratio"),
        ({"minimum_throughput": 10}, "minimum_throughput", "failure_ratio"),
        ({"sampling_duration": 10.0}, "sampling_duration", "failure_ratio"),
        ({"failure_ratio": 0.5, "slow_call_ratio": 0.5}, "slow_call_ratio", "slow_call_duration"),
        ({"failure_ratio": 0.5, "slow_call_duration": 1.0}, "slow_call_duration", "slow_call_ratio"),
        ({"slow_call_duration": 1.0, "slow_call_ratio": 0.5}, "slow_call_duration", "failure_ratio"),
        ({"break_backoff": BackoffStrategy.LINEAR}, "break_backoff", "max_recovery_timeout"),
        ({"max_recovery_timeout": 60.0}, "max_recovery_timeout", "break_backoff"),
    ],
)
def test_keywords_that_work_together_name_each_other(kwargs: dict[str, Any], parameter: str, other: str) -> None:
    for build in (SyncCircuitBreaker, AsyncCircuitBreaker):
        with pytest.raises(ParameterValueError) as info:
            build(**kwargs)
        assert (info.value.kind, info.value.parameter) == ("requires_other", parameter)
        assert str(info.value) == f"invalid {parameter}: must be set together with {other}"


def test_a_count_window_and_a_time_window_together_conflict(clock: VirtualClock) -> None:
    # Core's rule `conflicts_with`: one window, never both (the error names window_size).
    for other in ({"sampling_duration": 1.0}, {"sampling_buckets": 5}):
        with pytest.raises(ParameterValueError) as info:
            SyncCircuitBreaker(failure_ratio=1.0, minimum_throughput=1, window_size=5, time_source=clock.time, **other)
        assert (info.value.kind, info.value.parameter) == ("conflicts_with", "window_size")
        assert "window_size" in str(info.value) and len(str(info.value)) < 200


def test_a_failing_expected_exception_filter_counts_the_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    class Meta(type):
        def __instancecheck__(cls, instance: Any) -> bool:
            raise LookupError("filter broke")

    class Filter(Exception, metaclass=Meta):
        pass

    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    raised = Down("mine")

    def fail_with_it() -> None:
        raise raised

    for breaker in (Sync(failure_threshold=1, expected_exception=Filter), Async(failure_threshold=1, expected_exception=Filter)):
        with pytest.raises(Down) as info:
            breaker.call(fail_with_it)
        assert info.value is raised, "the user's error, unchanged"
        assert breaker.state() is CircuitState.OPEN, "counted (the core's failing_predicate rule)"
    assert [type(r.exc_value) for r in reported] == [LookupError, LookupError]


def test_the_default_clock_reads_what_time_monotonic_reads() -> None:
    # With the genuine time.monotonic in the time module, the binding reads
    # the same operating-system clock without a Python call (anchored to a
    # real time.monotonic() reading): readings agree with it to within a
    # microsecond. (Patched clocks are called: test_circuit_breaker.py.)
    import time

    slack = 1e-6
    breaker = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=30.0)
    before = time.monotonic()
    with pytest.raises(Down):
        breaker.call(fail)
    with pytest.raises(CircuitBreakerOpenError) as info:
        breaker.call(ok)
    elapsed = breaker.metrics().time_in_state
    bound = time.monotonic() - before
    assert -slack <= elapsed <= bound + slack
    assert 30.0 - bound - slack <= info.value.retry_after <= 30.0 + slack
