"""Asynchronous circuit breaker: an `async def` driver over the core breaker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from resilience import _core
from resilience.circuit_sync import CircuitState
from resilience.errors import CircuitBreakerOpenError


class AsyncCircuitBreaker:
    """Asynchronous circuit breaker for resilience patterns.

    Decisions come from the core breaker (no asyncio lock is needed: nothing
    awaits while deciding). While half-open it admits at most
    `half_open_max_calls` trial calls at a time; the others are rejected as
    if open. For synchronous code, use SyncCircuitBreaker instead.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        expected_exception: type[Exception] | tuple[type[Exception], ...] = Exception,
        time_source: Callable[[], float] | None = None,
        *,
        half_open_max_calls: int = 1,
    ) -> None:
        """Initialize the asynchronous circuit breaker.

        Args:
            failure_threshold: Number of failures before opening circuit
            recovery_timeout: Seconds to wait before attempting recovery
            expected_exception: Exception type(s) to catch
            time_source: Optional callable that returns current time (for testing).
                        Defaults to a monotonic clock.
            half_open_max_calls: Trial calls admitted at a time while half-open
        """
        self._core = _core.BreakerCore(
            failure_threshold,
            recovery_timeout,
            expected_exception,
            time_source,
            half_open_max_calls,
        )
        # Bound once: the hot path makes two native calls and no lookups.
        self._acquire = self._core.acquire
        self._success = self._core.success
        self._error = self._core.error
        self._failure_threshold = failure_threshold
        self._recovery_timeout = recovery_timeout
        self._expected_exception = expected_exception

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
    def half_open_max_calls(self) -> int:
        return self._core.half_open_max_calls

    @property
    def _time_source(self) -> Callable[[], float]:
        return self._core.time_source

    async def state(self) -> CircuitState:
        """Get the current state of the circuit breaker."""
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
        self._success(token)
        return result

    async def reset(self) -> None:
        """Reset the circuit breaker to its initial state."""
        self._core.reset()


__all__ = ["AsyncCircuitBreaker", "CircuitBreakerOpenError"]
