"""Retry policy and executor.

`RetryPolicy` keeps the user's values (for `repr`, equality, hashing) and a
native core policy that takes every decision: delays, jitter, retry or give
up, the deadline (`max_elapsed`), the retry budget. `RetryExecutor.execute_sync`
runs its whole loop natively; `execute_async` is an `async def` driver over
the same decisions, which also cancels an attempt after `attempt_timeout`.
Both retry returned values `retry_on_result` calls failures; that is also how
`RetryMiddleware` retries statuses (no second loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import logging
import time
from typing import Any, TypeVar, cast

from resilience import _core, _logging
from resilience._compat import is_coroutine_function
from resilience._timeouts import attempt_with_timeout, on_loop_timer
from resilience.budget import RetryBudget
from resilience.events import Event, GaveUp, RetryScheduled, deliver
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

# Beyond the original's fields (keyword-only, None by default).
_EXTRA = ("seed", "max_elapsed", "attempt_timeout", "retry_on_result", "budget")


def _budget_core(budget: object) -> _core.RetryBudgetCore | None:
    """The native budget of a `RetryBudget`; anything else is a TypeError naming `budget`."""
    if budget is None:
        return None
    if not isinstance(budget, RetryBudget):
        raise ParameterTypeError(
            f"budget must be a RetryBudget, got {type(budget).__name__}", kind="wrong_type", parameter="budget"
        )
    return budget._core


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
        max_elapsed: A deadline in seconds for the whole sequence, counted from
            the start of the first attempt: a wait is never slept past it, and a
            failure once it is reached gives up (reason "deadline"). None: none
        attempt_timeout: Seconds one attempt may take where Python can cancel
            it (`execute_async`: the attempt is cancelled and counts as a
            retryable failure, raising the builtin TimeoutError if it was the
            last). A blocking call cannot be pre-empted: `execute_sync` does
            not apply it (the deadline still applies between its attempts)
        retry_on_result: A predicate on a returned value: a value it calls a
            failure is retried like an error, and when retries run out the last
            value is returned (a predicate that raises accepts the value)
        budget: A `RetryBudget` shared with other policies: each sequence
            deposits, each retry withdraws, a denied retry gives up (reason
            "budget")
    """

    __slots__ = (*_FIELDS, "seed", "max_elapsed", "attempt_timeout", "retry_on_result", "budget", "_core")

    max_attempts: int
    backoff: BackoffStrategy
    base_delay: float
    max_delay: float
    jitter: bool
    retryable_errors: tuple[type[Exception], ...] | None
    retryable_status_codes: set[int] | None
    seed: int | None
    max_elapsed: float | None
    attempt_timeout: float | None
    retry_on_result: Callable[[Any], bool] | None
    budget: RetryBudget | None
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
        max_elapsed: float | None = None,
        attempt_timeout: float | None = None,
        retry_on_result: Callable[[Any], bool] | None = None,
        budget: RetryBudget | None = None,
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
            max_elapsed=max_elapsed,
            attempt_timeout=attempt_timeout,
            budget=_budget_core(budget),
            retry_on_result=retry_on_result,
        )
        _core.require_optional_callable("retry_on_result", retry_on_result)
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
        setattr_(self, "max_elapsed", max_elapsed)
        setattr_(self, "attempt_timeout", attempt_timeout)
        setattr_(self, "retry_on_result", retry_on_result)
        setattr_(self, "budget", budget)
        setattr_(self, "_core", core)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in (*_FIELDS, *_EXTRA))

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
                self.max_elapsed,
                self.attempt_timeout,
                self.retry_on_result,
                self.budget,
            ),
        )

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in _FIELDS)
        # Beyond the original's fields: shown only when set.
        extra = "".join(f", {f}={getattr(self, f)!r}" for f in _EXTRA if getattr(self, f) is not None)
        return f"RetryPolicy({fields}{extra})"

    def __str__(self) -> str:
        """Human-readable string representation."""
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, "
            f"backoff={self.backoff.value}, base_delay={self.base_delay}s)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {f: getattr(self, f) for f in (*_FIELDS, *_EXTRA)}
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


def _plain(policy: RetryPolicy) -> bool:
    """Whether a sequence needs nothing before its first attempt fails (no
    deadline, budget, result predicate or attempt timeout)."""
    core = policy._core
    return (
        core.max_elapsed is None
        and core.attempt_timeout is None
        and policy.retry_on_result is None
        and not core.has_budget
    )


def _plain_but_timeout(policy: RetryPolicy) -> bool:
    """No deadline, budget or result predicate (an attempt timeout may be set)."""
    core = policy._core
    return core.max_elapsed is None and policy.retry_on_result is None and not core.has_budget


# What an executor's bound fast paths are built from (`_bind_fast_paths`).
_FAST_PATH_INPUTS = frozenset({"policy", "on_retry", "on_event", "_sleep", "_time_source"})
# Set in an executor's `__dict__` once its fast paths are bound.
_BOUND = "_fast_paths_bound"


def _plain_execute_async(
    retry_async: Callable[[Exception, Callable[..., Awaitable[Any]], tuple[Any, ...], dict[str, Any]], Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    """`execute_async` of an executor whose policy is plain: the `@retry`
    wrapper's body for any function. A `func` that is not callable fails
    its call at once and nothing has run yet, so it is rejected then
    (TypeError, never retried), as the method rejects it up front."""

    async def execute_async(func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except Exception as error:
            first = error
        # Outside the except block: neither error is chained to the other.
        if not callable(func):
            raise _core.not_callable("func", func)
        return await retry_async(first, func, args, kwargs)

    return execute_async


def _no_hint(value: Any) -> float | None:
    return None


def _same(value: Any) -> Any:
    return value


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
        *,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        """Initialize retry executor.

        Args:
            policy: Retry policy configuration
            on_retry: Optional callback for retry events (attempt, error); for a
                value `retry_on_result` rejected, the value stands for the error
            time_source: Optional callable that returns current time (for testing).
                        The policy's deadline (`max_elapsed`) is read from it;
                        without one, from `time.monotonic`.
            sleep_func: Optional synchronous sleep function (for testing).
                       Defaults to time.sleep() for production use.
            async_sleep_func: Optional asynchronous sleep function (for testing).
                             Defaults to asyncio.sleep() for production use; the
                             attempt timeout waits on it too when given.
            on_event: Optional listener told each `RetryScheduled` and `GaveUp`
                (and each attempt's `TimedOut`), see `resilience.events`.
        """
        _require_policy(policy)
        for name, value in (
            ("on_retry", on_retry),
            ("time_source", time_source),
            ("sleep_func", sleep_func),
            ("async_sleep_func", async_sleep_func),
            ("on_event", on_event),
        ):
            _core.require_optional_callable(name, value)
        self.policy = policy
        self.on_retry = on_retry
        self.on_event = on_event
        self._time_source = time_source or time.time
        # The deadline needs a clock that never jumps: the user's, else monotonic.
        self._clock = time_source or time.monotonic
        self._sleep = sleep_func or time.sleep
        self._async_sleep = async_sleep_func or asyncio.sleep
        # The attempt timeout races the injected sleep; else the loop's own timer.
        self._timer_sleep = async_sleep_func
        self._plain_cache: tuple[RetryPolicy, bool] = (policy, _plain(policy))
        self._bind_fast_paths()

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        # The fast paths are built from these: assigning one rebuilds them.
        if name in _FAST_PATH_INPUTS and _BOUND in self.__dict__:
            self._bind_fast_paths()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in (_BOUND, "execute_sync", "execute_async"):
            state.pop(name, None)  # rebuilt from the rest
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bind_fast_paths()

    def _bind_fast_paths(self) -> None:
        """Binds this executor's `execute_sync` (and, for a plain policy,
        `execute_async`) to its settings, as instance attributes shadowing
        the methods below (issue 13: the method forms cost 2–5× the
        overhead of `@retry` for the same decision).

        `execute_sync` becomes one native call, as a `@retry` function is:
        no Python frame, no argument repacking, no attribute read per call.
        `execute_async` becomes a closure doing what the `@retry` wrapper
        does: await the first attempt, and only after a failure look at
        anything else. A subclass that overrides a method keeps its override.
        """
        policy = self.policy
        _require_policy(policy)
        bound = self.__dict__
        bound[_BOUND] = True
        if type(self).execute_sync is RetryExecutor.execute_sync:
            sleep = self._sleep
            time_source = self._time_source
            bound["execute_sync"] = _core.RetryRunner(
                policy._core,
                policy.retryable_errors,
                self.on_retry,
                None if sleep is _SYSTEM_SLEEP else sleep,
                on_event=self.on_event,
                time_source=None if time_source is time.time else time_source,
            ).execute_sync
        if type(self).execute_async is RetryExecutor.execute_async and _plain(policy):
            bound["execute_async"] = _plain_execute_async(self._retry_async)
        else:
            bound.pop("execute_async", None)

    def execute_sync(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Execute synchronous function with retry logic.

        (An executor's own calls go to its native twin, bound in
        `_bind_execute_sync`; this body runs for a subclass's `super()` call.)

        The policy's deadline applies between attempts; its attempt timeout
        does not (a blocking call cannot be pre-empted).

        Returns:
            Result from successful execution (or, when retries on a value run
            out, that value)

        Raises:
            TypeError: At once, if func is not callable (never retried).
            Exception: The last exception raised by func (the same object,
                traceback intact), once the policy gives up.
        """
        policy = self.policy
        sleep = self._sleep
        time_source = self._time_source
        if self.on_event is None and time_source is time.time:
            # Positional only: keyword parsing would cost the success path.
            return _core.retry_call(  # type: ignore[no-any-return]
                policy._core, policy.retryable_errors, self.on_retry, None if sleep is _SYSTEM_SLEEP else sleep,
                func, args, kwargs,
            )
        return _core.retry_call(  # type: ignore[no-any-return]
            policy._core,
            policy.retryable_errors,
            self.on_retry,
            None if sleep is _SYSTEM_SLEEP else sleep,
            func,
            args,
            kwargs,
            on_event=self.on_event,
            time_source=None if time_source is time.time else time_source,
        )

    async def execute_async(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Execute asynchronous function with retry logic.

        Returns:
            Result from successful execution (or, when retries on a value run
            out, that value)

        Raises:
            TypeError: At once, if func is not callable (never retried).
            TimeoutError: The last attempt timed out (`attempt_timeout`).
            Exception: The last exception raised by func, once the policy gives up.
        """
        if not callable(func):
            raise _core.not_callable("func", func)
        policy = self.policy
        cache = self._plain_cache
        if cache[0] is not policy:
            # `policy` is a public attribute: judged again when it is replaced.
            cache = self._plain_cache = (policy, _plain(policy))
        if cache[1]:
            try:
                return await func(*args, **kwargs)
            except Exception as error:
                first = error
            return await self._retry_async(first, func, args, kwargs)
        timeout = policy._core.attempt_timeout
        if timeout is None or not _plain_but_timeout(policy) or self._timer_sleep is not None or self.on_event:
            return cast(T, await self._run_async(func, args, kwargs))
        # Only an attempt timeout: the first attempt on the loop's timer, inline.
        try:
            return cast(T, await on_loop_timer(func(*args, **kwargs), timeout, "attempt_timeout", ()))
        except Exception as error:
            timed_out = error
        return cast(T, await self._run_async(func, args, kwargs, first=timed_out))

    async def _retry_async(
        self,
        failure: Exception,
        func: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        """The retry loop of a plain policy after a first failed attempt (the
        success path never gets here)."""
        return cast(T, await self._run_async(func, args, kwargs, first=failure))

    async def _run_async(
        self,
        func: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        first: Exception | None = None,
        pipeline_event: Callable[[Event], None] | None = None,
        library: bool = False,
        predicate: Callable[[Any], bool] | None = None,
        hint: Callable[[Any], float | None] = _no_hint,
        cause_of: Callable[[Any], Any] = _same,
    ) -> Any:
        """The one async retry loop. `first`: the first attempt already failed
        with it (a plain policy's fast path). Inside a pipeline, `library`
        judges the library's own errors by core's rule and `pipeline_event`
        hears the events too. `predicate` (default: the policy's
        `retry_on_result`) judges returned values, `hint` gives a value's
        Retry-After in seconds, `cause_of` what stands for a rejected value
        in the log records and `on_retry` (RetryMiddleware's synthetic error)."""
        policy = self.policy
        core = policy._core
        errors = policy.retryable_errors
        if predicate is None:
            predicate = policy.retry_on_result
        clock = self._clock if core.max_elapsed is not None else None
        timeout = core.attempt_timeout
        listeners = [listener for listener in (self.on_event, pipeline_event) if listener is not None]
        state = core.start(None if clock is None else clock())
        failed_value = False
        result: Any = None
        error: BaseException | None = first
        while True:
            if error is None:
                try:
                    if timeout is None:
                        result = await func(*args, **kwargs)
                    else:
                        result = await attempt_with_timeout(
                            func, args, kwargs, timeout, "attempt_timeout", self._timer_sleep, listeners
                        )
                except Exception as raised:
                    error = raised
            now = None if clock is None else clock()
            if error is not None:
                failed_value = False
                cause: Any = error
                if timeout is not None and getattr(error, "strategy", None) == "attempt_timeout":
                    # Rule `attempt_timeout_retryable`: the filter is not asked.
                    delay = state.on_timeout(now)
                else:
                    delay = state.on_error(error, errors, None, now, library)
            else:
                if predicate is None:
                    return result
                delay = state.on_result(result, predicate, hint(result), now)
                if delay is None and state.reason is None:
                    return result  # accepted
                failed_value = True
                cause = cause_of(result)
            reason = state.reason
            if delay is None:
                if reason == "exhausted" and _logging.enabled(logging.ERROR):
                    _logging.retry_exhausted(policy.max_attempts, cause)
                if listeners:
                    gave_up = GaveUp(state.failed_attempt, cast(str, reason))
                    for listener in listeners:
                        deliver(listener, gave_up)
                if failed_value:
                    # Out of retries on a value: the last one is the answer.
                    return result
                raise cast(BaseException, error)
            attempt = state.failed_attempt
            if _logging.enabled(logging.INFO):
                _logging.retry_attempt(attempt, policy.max_attempts, delay, cause)
            if listeners:
                scheduled = (
                    RetryScheduled(attempt, delay, None, result) if failed_value else RetryScheduled(attempt, delay, error)
                )
                for listener in listeners:
                    deliver(listener, scheduled)
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
            # Retried outside the except block, so errors are not chained.
            error = None
