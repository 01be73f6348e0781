"""Retry policy and executor.

`RetryPolicy` keeps the user's values (for `repr`, equality, hashing) and a
native core policy that takes every decision: delays, jitter, retry or give
up. `RetryExecutor.execute_sync` runs its whole loop natively;
`execute_async` is an `async def` driver over the same decisions. That one
async loop also retries returned values a private judge rejects, which is
how `RetryMiddleware` retries statuses (no second loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import logging
import time
from typing import Any, TypeVar, cast

from resilience import _core, _logging
from resilience._compat import is_coroutine_function
from resilience.defaults import (
    DEFAULT_RETRY_BASE_DELAY,
    DEFAULT_RETRY_JITTER,
    DEFAULT_RETRY_MAX_ATTEMPTS,
    DEFAULT_RETRY_MAX_DELAY,
    DEFAULT_RETRY_RETRYABLE_ERRORS,
    DEFAULT_RETRY_RETRYABLE_STATUS_CODES,
)
from resilience.errors import ParameterTypeError
from resilience.types import BackoffStrategy

__all__ = [
    "BackoffStrategy",
    "RetryExecutor",
    "RetryPolicy",
]

T = TypeVar("T")

# The real blocking sleep, captured at import: when an executor would use it,
# the native loop sleeps itself with the GIL released. A replacement (a test's
# monkeypatched `time.sleep`, a `sleep_func`) is called instead.
_SYSTEM_SLEEP = time.sleep

_FIELDS = (
    "max_attempts",
    "backoff",
    "base_delay",
    "max_delay",
    "jitter",
    "retryable_errors",
    "retryable_status_codes",
)

class FrozenInstanceError(AttributeError):
    """Raised when assigning to a field of a frozen `RetryPolicy` (as attrs does)."""

    def __init__(self) -> None:
        super().__init__("can't set attribute")


class RetryPolicy:
    """Configuration for retry behavior (frozen, compared and hashed by value).

    Attributes:
        max_attempts: Maximum number of attempts, the first included (>= 1)
        backoff: Backoff strategy to use for delays
        base_delay: Base delay in seconds between retries
        max_delay: Maximum delay in seconds (caps the backoff)
        jitter: Whether to add random jitter to delays (±25%); a core jitter
            mode name ("none", "proportional", "full", "equal",
            "decorrelated") is accepted too
        retryable_errors: Tuple of exception types to retry (None = all)
        retryable_status_codes: Set of HTTP status codes to retry (for middleware);
            integers in 100..=599
        seed: Seeds the jitter generator for reproducible delays (None: from the OS)
    """

    __slots__ = (*_FIELDS, "seed", "_core")

    max_attempts: int
    backoff: BackoffStrategy
    base_delay: float
    max_delay: float
    jitter: bool
    retryable_errors: tuple[type[Exception], ...] | None
    retryable_status_codes: set[int] | None
    seed: int | None
    _core: _core.RetryPolicyCore

    def __init__(
        self,
        *,
        max_attempts: int = DEFAULT_RETRY_MAX_ATTEMPTS,
        backoff: BackoffStrategy = BackoffStrategy.EXPONENTIAL,
        base_delay: float = DEFAULT_RETRY_BASE_DELAY,
        max_delay: float = DEFAULT_RETRY_MAX_DELAY,
        jitter: bool = DEFAULT_RETRY_JITTER,
        retryable_errors: tuple[type[Exception], ...] | None = DEFAULT_RETRY_RETRYABLE_ERRORS,
        retryable_status_codes: set[int] | None = DEFAULT_RETRY_RETRYABLE_STATUS_CODES,
        seed: int | None = None,
    ) -> None:
        # Every value is judged by the core's rules (in the original's order:
        # max_attempts, base_delay, max_delay, then the rest), which raise
        # ParameterTypeError / ParameterValueError naming the parameter.
        core = _core.RetryPolicyCore(
            max_attempts,
            backoff,
            base_delay,
            max_delay,
            jitter,
            retryable_status_codes,
            seed,
        )
        if retryable_errors is not None:
            # Here, not at the first failure, where `isinstance` would raise
            # a TypeError in place of the user's error.
            _core.require_exception_types("retryable_errors", retryable_errors)
        setattr_ = object.__setattr__
        setattr_(self, "max_attempts", max_attempts)
        setattr_(self, "backoff", BackoffStrategy(core.backoff))
        setattr_(self, "base_delay", base_delay)
        setattr_(self, "max_delay", max_delay)
        setattr_(self, "jitter", jitter)
        setattr_(self, "retryable_errors", retryable_errors)
        setattr_(self, "retryable_status_codes", retryable_status_codes)
        setattr_(self, "seed", seed)
        setattr_(self, "_core", core)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in _FIELDS) + (self.seed,)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        errors = self.retryable_errors
        codes = self.retryable_status_codes
        return hash(
            (
                self.__class__,
                self.max_attempts,
                self.backoff,
                self.base_delay,
                self.max_delay,
                self.jitter,
                tuple(errors) if errors is not None else None,
                frozenset(codes) if codes is not None else None,
                self.seed,
            ),
        )

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in _FIELDS)
        seed = "" if self.seed is None else f", seed={self.seed!r}"
        return f"RetryPolicy({fields}{seed})"

    def __str__(self) -> str:
        """Human-readable string representation."""
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, "
            f"backoff={self.backoff.value}, base_delay={self.base_delay}s)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {f: getattr(self, f) for f in _FIELDS}
        kwargs["seed"] = self.seed
        return (_rebuild_policy, (kwargs,))

    def calculate_delay(self, attempt: int) -> float:
        """Calculate delay for a given attempt number.

        Args:
            attempt: Attempt number (1-based)

        Returns:
            Delay in seconds (0 for attempts <= 0)
        """
        return self._core.calculate_delay(attempt)

    def should_retry(self, error: Exception, attempt: int) -> bool:
        """Determine if an error should be retried.

        Args:
            error: The exception that occurred
            attempt: Current attempt number (1-based)

        Returns:
            True if should retry, False otherwise
        """
        return self._core.should_retry(error, attempt, self.retryable_errors)

    def should_retry_response(self, response: Any, attempt: int) -> bool:
        """Check if HTTP response should be retried.

        Args:
            response: Response object with status attribute
            attempt: Current attempt number (1-based)

        Returns:
            True if should retry, False otherwise
        """
        # A status that is not an integer is never retried (core's rule).
        return self._core.should_retry_status(getattr(response, "status", None), attempt)


def _require_policy(policy: object) -> None:
    """Rejects anything but a RetryPolicy, naming the parameter `policy`."""
    if not isinstance(policy, RetryPolicy):
        raise ParameterTypeError(
            f"policy must be a RetryPolicy, got {type(policy).__name__}", kind="wrong_type", parameter="policy"
        )


def _rebuild_policy(kwargs: dict[str, Any]) -> RetryPolicy:
    return RetryPolicy(**kwargs)


class _RetriedResult:
    """A value an attempt returned that the executor is asked to retry.

    Returned by a result judge (see `RetryExecutor._execute_async_judging`)
    instead of `None` ("accept it"). `cause` stands where an error would:
    it is what the retry and give-up log records (and `on_retry`) report.
    `retry_after` is a server's hint in seconds; the core honours it, capped
    at `max_delay` (jitter never shortens it). When retries run out, the
    last such value is returned, not raised.
    """

    __slots__ = ("cause", "result", "retry_after")

    def __init__(self, result: Any, cause: Exception, retry_after: float | None = None) -> None:
        self.result = result
        self.cause = cause
        self.retry_after = retry_after


# Judges a returned value: None accepts it, a _RetriedResult retries it.
# Private for now; a public `retry_on_result=` predicate will wrap into one.
_ResultJudge = Callable[[Any], "_RetriedResult | None"]


class RetryExecutor:
    """Unified retry execution engine.

    Runs the retry loop for sync functions (natively) and async functions
    (an `async def` driver), using a RetryPolicy for every decision.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        on_retry: Callable[[int, Exception], None] | None = None,
        time_source: Callable[[], float] | None = None,
        sleep_func: Callable[[float], None] | None = None,
        async_sleep_func: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """Initialize retry executor.

        Args:
            policy: Retry policy configuration
            on_retry: Optional callback for retry events (attempt, error)
            time_source: Optional callable that returns current time (for testing).
                        Defaults to time.time() for production use.
            sleep_func: Optional synchronous sleep function (for testing).
                       Defaults to time.sleep() for production use.
            async_sleep_func: Optional asynchronous sleep function (for testing).
                             Defaults to asyncio.sleep() for production use.
        """
        _require_policy(policy)
        for name, value in (
            ("on_retry", on_retry),
            ("time_source", time_source),
            ("sleep_func", sleep_func),
            ("async_sleep_func", async_sleep_func),
        ):
            _core.require_optional_callable(name, value)
        self.policy = policy
        self.on_retry = on_retry
        self._time_source = time_source or time.time
        self._sleep = sleep_func or time.sleep
        self._async_sleep = async_sleep_func or asyncio.sleep

    def execute_sync(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Execute synchronous function with retry logic.

        Returns:
            Result from successful execution

        Raises:
            TypeError: At once, if func is not callable (never retried).
            Exception: The last exception raised by func (the same object,
                traceback intact), once the policy gives up.
        """
        policy = self.policy
        sleep = self._sleep
        return _core.retry_call(  # type: ignore[no-any-return]
            policy._core,
            policy.retryable_errors,
            self.on_retry,
            None if sleep is _SYSTEM_SLEEP else sleep,
            func,
            args,
            kwargs,
        )

    async def execute_async(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Execute asynchronous function with retry logic.

        Returns:
            Result from successful execution

        Raises:
            TypeError: At once, if func is not callable (never retried).
            Exception: The last exception raised by func, once the policy gives up.
        """
        if not callable(func):
            raise _core.not_callable("func", func)
        try:
            return await func(*args, **kwargs)
        except Exception as error:
            first = error
        return await self._retry_async(first, func, args, kwargs)

    async def _execute_async_judging(
        self,
        judge: _ResultJudge,
        func: Callable[..., Awaitable[T]],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """`execute_async` that also retries returned values `judge` rejects.

        Errors are handled as by `execute_async`; a value for which
        `judge(value)` answers a `_RetriedResult` counts as a failed attempt
        that passes the filter (with its `retry_after` hint). When retries
        run out on a value, that value is returned. (RetryMiddleware's
        retryable statuses go through here: one loop for errors and results;
        the middleware has checked that `func` is callable.)
        """
        failure: Exception | _RetriedResult
        try:
            result = await func(*args, **kwargs)
        except Exception as error:
            # Retried outside this block, so later errors are not chained to it.
            failure = error
        else:
            verdict = judge(result)
            if verdict is None:
                return result
            failure = verdict
        return await self._retry_async(failure, func, args, kwargs, judge)

    async def _retry_async(
        self,
        failure: Exception | _RetriedResult,
        func: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        judge: _ResultJudge | None = None,
    ) -> T:
        """The retry loop after a first failed attempt (the success path never
        gets here): an error it raised, or a value `judge` asked to retry."""
        policy = self.policy
        errors = policy.retryable_errors
        state = policy._core.start()
        while True:
            retried: _RetriedResult | None
            if isinstance(failure, _RetriedResult):
                retried, cause = failure, failure.cause
                delay = state.on_failure(True, failure.retry_after)
            else:
                retried, cause = None, failure
                # The filter is asked only if an attempt is left; one that
                # raises means "not retryable" (the core's rules).
                delay = state.on_error(failure, errors)
            if delay is None:
                if state.reason == "exhausted" and _logging.enabled(logging.ERROR):
                    _logging.retry_exhausted(policy.max_attempts, cause)
                if retried is None:
                    raise cause
                # Out of retries on a value: the last one is the answer.
                return cast(T, retried.result)
            attempt = state.attempt - 1
            if _logging.enabled(logging.INFO):
                _logging.retry_attempt(attempt, policy.max_attempts, delay, cause)
            on_retry = self.on_retry
            if on_retry:
                try:
                    if is_coroutine_function(on_retry):
                        await on_retry(attempt, cause)  # type: ignore[misc]
                    else:
                        on_retry(attempt, cause)
                except Exception as callback_error:
                    if _logging.enabled(logging.WARNING):
                        _logging.retry_callback_failed(callback_error)
            await self._async_sleep(delay)
            try:
                result = await func(*args, **kwargs)
            except Exception as next_error:
                failure = next_error
                continue
            verdict = None if judge is None else judge(result)
            if verdict is None:
                return result
            failure = verdict
