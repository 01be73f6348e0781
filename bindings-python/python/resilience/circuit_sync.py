"""Synchronous circuit breaker.

`SyncCircuitBreaker` is native: its `call` acquires a permit from the core
breaker (one atomic load while closed with the consecutive rule), runs the
function and reports the outcome, all without a Python-level lock. It is
thread-safe, and while half-open it admits at most `half_open_max_calls`
trial calls at a time.

Beyond the original (keyword-only, all off by default): a failure-rate trip
rule over a time or count window, slow calls, a break that grows with a
backoff, manual `isolate()` / `close()`, `metrics()` and `snapshot()` /
`initial_state=`; a result predicate (`failure_on_result=`) and a typed
event listener (`on_event=`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
import json
from typing import Any

from resilience import _fleet
from resilience._core import SyncCircuitBreakerBase
from resilience.defaults import (
    DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT,
    DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
    DEFAULT_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS,
)
from resilience.errors import CircuitBreakerOpenError, SnapshotError
from resilience.events import Event
from resilience.types import BackoffStrategy


class CircuitState(Enum):
    """Represents the state of the circuit breaker."""

    # The original's auto() values.
    CLOSED = 1
    OPEN = 2
    HALF_OPEN = 3


@dataclass(frozen=True)
class BreakerMetrics:
    """What a breaker has seen, as `metrics()` read it (a copy; read again
    for a newer one). Durations are in seconds.

    Attributes:
        state: The three-valued view `state()` gives (an isolated breaker reads OPEN)
        isolated: Whether the breaker is isolated by hand
        consecutive_failures: Counted failures in a row
        window_calls: Calls in the failure-rate window (0 without one)
        window_failures: Failed calls in the window
        window_slow_calls: Slow calls in the window
        failure_ratio: window_failures / window_calls (0.0 when the window is empty)
        slow_call_ratio: window_slow_calls / window_calls (0.0 when the window is empty)
        rejections: Calls rejected since the breaker was created
        openings: Times it opened since it was created
        time_in_state: Seconds since the current state began (open → half-open
            by time alone counts from the opening)
        break_duration: The current (or next) break, in seconds
    """

    state: CircuitState
    isolated: bool
    consecutive_failures: int
    window_calls: int
    window_failures: int
    window_slow_calls: int
    failure_ratio: float
    slow_call_ratio: float
    rejections: int
    openings: int
    time_in_state: float
    break_duration: float


def snapshot_document(initial_state: Mapping[str, Any] | str | None) -> str | None:
    """`initial_state` as the document the core reads: a snapshot dict is
    serialised, text is passed as it is (the core judges both)."""
    if initial_state is None or isinstance(initial_state, str):
        return initial_state
    try:
        return json.dumps(initial_state)
    except (TypeError, ValueError) as error:
        raise SnapshotError(
            f"invalid initial_state: malformed circuit breaker snapshot: not JSON ({error})", kind="malformed"
        ) from None


class SyncCircuitBreaker(SyncCircuitBreakerBase):
    """Synchronous circuit breaker for resilience patterns.

    Thread-safe without a Python lock. For async code, use AsyncCircuitBreaker.
    Methods: `state()`, `failure_count()`, `call(func, *args, **kwargs)`
    (raises `CircuitBreakerOpenError`, a `RuntimeError("Circuit breaker is
    open")` with `retry_after`, when open), `reset()`, and beyond the
    original `isolate()`, `close()`, `metrics()`, `snapshot()` and the
    `isolated` property.
    """

    __slots__ = ()

    def __init__(
        self,
        failure_threshold: int = DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
        recovery_timeout: float = DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT,
        expected_exception: type[Exception] | tuple[type[Exception], ...] = Exception,
        time_source: Callable[[], float] | None = None,
        *,
        half_open_max_calls: int = DEFAULT_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS,
        failure_ratio: float | None = None,
        minimum_throughput: int | None = None,
        sampling_duration: float | None = None,
        sampling_buckets: int | None = None,
        window_size: int | None = None,
        slow_call_duration: float | None = None,
        slow_call_ratio: float | None = None,
        break_backoff: BackoffStrategy | None = None,
        max_recovery_timeout: float | None = None,
        initial_state: Mapping[str, Any] | str | None = None,
        store: _fleet.FleetStore | None = None,
        name: str | None = None,
        failure_on_result: Callable[[Any], bool] | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        """Initialize the synchronous circuit breaker.

        Args:
            failure_threshold: Number of failures before opening circuit
                (the consecutive rule, used unless `failure_ratio` is given)
            recovery_timeout: Seconds to wait before attempting recovery
                (the first break when `break_backoff` is given)
            expected_exception: Exception type(s) to catch
            time_source: Optional callable that returns current time (for testing).
                        Defaults to a monotonic clock.
            half_open_max_calls: Trial calls admitted at a time while half-open
            failure_ratio: Trip on a failure rate instead: the failed share
                of the window's calls, in (0, 1], that opens the breaker
            minimum_throughput: Calls the window needs before the rate can
                trip (default: the core's 100)
            sampling_duration: A time window of this many seconds (default
                30 s) — the default window
            sampling_buckets: ... split into this many buckets (default 10)
            window_size: A count window of the last N calls instead (not
                with sampling_duration/sampling_buckets: a ParameterValueError
                of kind conflicts_with)
            slow_call_duration: Calls slower than this many seconds are slow
                (with `slow_call_ratio`; needs `failure_ratio`)
            slow_call_ratio: The slow share of the window that opens the breaker
            break_backoff: Grow the break over consecutive openings with this
                backoff strategy (with `max_recovery_timeout`, its cap)
            max_recovery_timeout: The longest break (>= recovery_timeout)
            initial_state: Start from a `snapshot()` dict (or its JSON text):
                an open breaker stays open for the rest of its break; a bad
                document raises `SnapshotError`
            store: Share the breaker across processes through this store
                (`resilience.redis.RedisStore`); calls are still decided
                here, the store syncs in the background
            name: The name the breaker is shared under (with `store`)
            failure_on_result: A predicate on a returned value: a value it
                calls a failure counts as a breaker failure (and is still
                returned); a predicate that raises counts it too
            on_event: A listener told each `BreakerTransition` and
                `BreakerRejected` (`resilience.events`) of a call

        Raises:
            ParameterTypeError: A value of the wrong type (a TypeError naming it)
            ParameterValueError: A value out of range (a ValueError naming it)
            SnapshotError: `initial_state` is malformed or from a newer release
        """
        self._configure(
            failure_threshold,
            recovery_timeout,
            expected_exception,
            time_source,
            half_open_max_calls,
            failure_ratio=failure_ratio,
            minimum_throughput=minimum_throughput,
            sampling_duration=sampling_duration,
            sampling_buckets=sampling_buckets,
            window_size=window_size,
            slow_call_duration=slow_call_duration,
            slow_call_ratio=slow_call_ratio,
            break_backoff=break_backoff,
            max_recovery_timeout=max_recovery_timeout,
            initial_state=snapshot_document(initial_state),
            fleet=_fleet.fleet_config(store, name),
            failure_on_result=failure_on_result,
            on_event=on_event,
        )
        _fleet.join(store, name, self)

    def snapshot(self) -> dict[str, Any]:
        """The breaker's state as a JSON-serializable dict (a versioned
        document, times relative to now); `initial_state=` restores it in
        another process."""
        document: dict[str, Any] = json.loads(self._snapshot_document())
        return document


__all__ = ["BreakerMetrics", "CircuitBreakerOpenError", "CircuitState", "SyncCircuitBreaker"]
