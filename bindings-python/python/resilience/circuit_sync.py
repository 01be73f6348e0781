"""Synchronous circuit breaker.

`SyncCircuitBreaker` is native: its `call` acquires a permit from the core
breaker (one atomic load while closed), runs the function and reports the
outcome, all without a Python-level lock. It is thread-safe, and while
half-open it admits at most `half_open_max_calls` trial calls at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from resilience import _core
from resilience._core import SyncCircuitBreakerBase
from resilience.errors import CircuitBreakerOpenError


class CircuitState(Enum):
    """Represents the state of the circuit breaker."""

    # The original's auto() values.
    CLOSED = 1
    OPEN = 2
    HALF_OPEN = 3


class SyncCircuitBreaker(SyncCircuitBreakerBase):
    """Synchronous circuit breaker for resilience patterns.

    Thread-safe without a Python lock. For async code, use AsyncCircuitBreaker.
    Methods: `state()`, `failure_count()`, `call(func, *args, **kwargs)`
    (raises `CircuitBreakerOpenError`, a `RuntimeError("Circuit breaker is
    open")` with `retry_after`, when open), `reset()`.
    """

    __slots__ = ()

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        expected_exception: type[Exception] | tuple[type[Exception], ...] = Exception,
        time_source: Callable[[], float] | None = None,
        *,
        half_open_max_calls: int = 1,
    ) -> None:
        """Initialize the synchronous circuit breaker.

        Args:
            failure_threshold: Number of failures before opening circuit
            recovery_timeout: Seconds to wait before attempting recovery
            expected_exception: Exception type(s) to catch
            time_source: Optional callable that returns current time (for testing).
                        Defaults to a monotonic clock.
            half_open_max_calls: Trial calls admitted at a time while half-open
        """
        # Checked as given: `_configure` reads None as "the default", but
        # None is no exception filter (the async breaker rejects it too).
        _core.require_exception_types("expected_exception", expected_exception)
        self._configure(
            failure_threshold,
            recovery_timeout,
            expected_exception,
            time_source,
            half_open_max_calls=half_open_max_calls,
        )


__all__ = ["CircuitBreakerOpenError", "CircuitState", "SyncCircuitBreaker"]
