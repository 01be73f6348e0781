"""Asynchronous circuit breaker: an `async def` driver over the core breaker's
permit tokens (the same tokens and checks as the C API's permits)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import json
from typing import Any

from resilience import _core, _fleet
from resilience.circuit_sync import BreakerMetrics, CircuitState, snapshot_document
from resilience.defaults import (
    DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT,
    DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
    DEFAULT_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS,
)
from resilience.errors import CircuitBreakerOpenError
from resilience.events import Event
from resilience.types import BackoffStrategy


class AsyncCircuitBreaker:
    """Asynchronous circuit breaker for resilience patterns.

    Decisions come from the core breaker (no asyncio lock is needed: nothing
    awaits while deciding). While half-open it admits at most
    `half_open_max_calls` trial calls at a time; the others are rejected as
    if open. For synchronous code, use SyncCircuitBreaker instead.

    As in the original, the methods that read or change the breaker are
    coroutines (`state()`, `failure_count()`, `reset()`, and the new
    `isolate()`, `close()`, `metrics()`, `snapshot()`); the `isolated`
    property and the configuration attributes are plain reads.
    """

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
        """Initialize the asynchronous circuit breaker.

        Args:
            failure_threshold: Number of failures before opening circuit
            recovery_timeout: Seconds to wait before attempting recovery
            expected_exception: Exception type(s) to catch
            time_source: Optional callable that returns current time (for testing).
                        Defaults to a monotonic clock.
            half_open_max_calls: Trial calls admitted at a time while half-open

        The keyword-only failure-rate, slow-call, break-backoff,
        `initial_state`, `failure_on_result` and `on_event` options are those
        of `SyncCircuitBreaker`, and so are `store` and `name` (shared across
        processes).
        """
        self._core = _core.BreakerCore(
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
        _fleet.join(store, name, self, "_core")
        # Bound once: the hot path makes two native calls and no lookups.
        self._acquire = self._core.acquire
        self._success = self._core.success
        self._error = self._core.error
        self._failure_threshold = failure_threshold
        self._recovery_timeout = recovery_timeout
        self._expected_exception = expected_exception
        self._failure_on_result = failure_on_result
        self._on_event = on_event

    @property
    def failure_threshold(self) -> int:
        return self._failure_threshold

    @property
    def recovery_timeout(self) -> float:
        return self._recovery_timeout

    @property
    def expected_exception(self) -> type[Exception] | tuple[type[Exception], ...]:
        return self._expected_exception

    @property
    def failure_on_result(self) -> Callable[[Any], bool] | None:
        return self._failure_on_result

    @property
    def on_event(self) -> Callable[[Event], None] | None:
        return self._on_event

    @property
    def half_open_max_calls(self) -> int:
        return self._core.half_open_max_calls

    @property
    def isolated(self) -> bool:
        """Whether the breaker is isolated by hand (`state()` reads OPEN then)."""
        return self._core.isolated

    @property
    def _time_source(self) -> Callable[[], float]:
        return self._core.time_source

    async def state(self) -> CircuitState:
        """Get the current state of the circuit breaker (isolated reads OPEN)."""
        return self._core.state()

    async def failure_count(self) -> int:
        """Get the current failure count."""
        return self._core.failure_count()

    async def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Execute an asynchronous function through the circuit breaker.

        Raises:
            CircuitBreakerOpenError: If circuit is open (a RuntimeError, with
                `retry_after` in seconds)
            TypeError: If func is not callable (before any permit is taken)
            Exception: Whatever exception func raises
        """
        if not callable(func):
            # Otherwise its TypeError would count as a failure of the service.
            raise _core.not_callable("func", func)
        token = self._acquire()
        try:
            result = await func(*args, **kwargs)
        except BaseException as error:
            # Counted only if it is an Exception matching expected_exception;
            # a cancellation just gives the permit back.
            self._error(token, error)
            raise
        # A value failure_on_result calls a failure counts, and is returned.
        self._success(token, result)
        return result

    async def _call_layer(self, pipeline_event: Any, func: Callable[[], Awaitable[Any]]) -> Any:
        """`call` as a pipeline's breaker: the library's own errors are
        judged by rule `library_errors`; `pipeline_event` hears the events."""
        token = self._acquire(pipeline_event)
        try:
            result = await func()
        except BaseException as error:
            self._error(token, error, pipeline_event, True)
            raise
        self._success(token, result, pipeline_event)
        return result

    async def reset(self) -> None:
        """Reset the circuit breaker to its initial state."""
        self._core.reset()

    async def isolate(self) -> None:
        """Hold the breaker open (every call rejected, `reason` "isolated")
        until `close()` or `reset()`. A coroutine, like `reset()`."""
        self._core.isolate()

    async def close(self) -> None:
        """Close the breaker, isolated or not (the same as `reset()`). A coroutine."""
        self._core.close()

    async def metrics(self) -> BreakerMetrics:
        """The breaker's metrics now. A coroutine, like `state()`."""
        return self._core.metrics()

    async def snapshot(self) -> dict[str, Any]:
        """The breaker's state as a JSON-serializable dict; `initial_state=`
        restores it. A coroutine, like `state()`."""
        document: dict[str, Any] = json.loads(self._core.snapshot_document())
        return document


__all__ = ["AsyncCircuitBreaker", "BreakerMetrics", "CircuitBreakerOpenError"]
