"""Resilience decorators for retry, circuit breaker, and fallback patterns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import functools
import inspect
import threading
import time
from typing import Any, Protocol, TypeVar
import weakref

from resilience import _core, _fleet
from resilience._compat import is_coroutine_function
from resilience.circuit_async import AsyncCircuitBreaker
from resilience.circuit_sync import SyncCircuitBreaker
from resilience.defaults import (
    DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
    DEFAULT_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS,
    DEFAULT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT,
)
from resilience.errors import ConfigurationError, ParameterTypeError
from resilience._specialize import async_breaker_wrapper, async_retry_wrapper
from resilience.events import Event
from resilience.retry import _SYSTEM_SLEEP, BackoffStrategy, RetryExecutor, RetryPolicy, _plain, _require_policy

# Circuit breaker registry dimensions (as in the original)
CIRCUIT_BREAKER_DIMENSION = "circuit_breaker"
CIRCUIT_BREAKER_TEST_DIMENSION = "circuit_breaker_test"

# Counter for generating unique circuit breaker names (protected by lock)
_circuit_breaker_counter = 0
_circuit_breaker_counter_lock = threading.Lock()

F = TypeVar("F", bound=Callable[..., Any])


class Registry(Protocol):
    """What `circuit_breaker(registry=...)` needs: provide.foundation's hub
    `Registry` fits, and so does any object with this method."""

    def register(self, name: str, value: Any, dimension: str = ...) -> Any: ...


class _BreakerRegistry:
    """The default registry: weak references by dimension, so decorated
    functions that go away take their breakers with them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dimensions: dict[str, weakref.WeakValueDictionary[str, Any]] = {}

    def register(self, name: str, value: Any, dimension: str = CIRCUIT_BREAKER_DIMENSION) -> None:
        with self._lock:
            self._dimensions.setdefault(dimension, weakref.WeakValueDictionary())[name] = value

    def list_dimension(self, dimension: str) -> list[Any]:
        with self._lock:
            return list(self._dimensions.get(dimension, {}).values())


_registry = _BreakerRegistry()


def _should_register_for_global_reset() -> bool:
    """Breakers created from test files are kept apart (as in the original)."""
    try:
        frame = inspect.currentframe()
        while frame is not None:
            frame = frame.f_back
            if frame is None:
                break
            filename = frame.f_code.co_filename
            if "/tests/" in filename or "test_" in filename or "conftest" in filename:
                return False
        return True
    except Exception:  # coverage: unreachable — a CPython frame walk never raises
        return True  # coverage: unreachable — as above


def _sleep_or_native(sleep_func: Callable[[float], None] | None) -> Callable[[float], None] | None:
    """`None` lets the native loop sleep with the GIL released."""
    sleep = sleep_func or time.sleep
    return None if sleep is _SYSTEM_SLEEP else sleep


def _handle_no_parentheses_retry(func: F) -> F:
    """Handle @retry decorator used without parentheses."""
    return _create_retry_wrapper(func, RetryPolicy(), None)


def _validate_retry_parameters(
    policy: RetryPolicy | None,
    max_attempts: int | None,
    base_delay: float | None,
    backoff: BackoffStrategy | None,
    max_delay: float | None,
    jitter: bool | None,
) -> None:
    """Validate that policy and individual parameters are not both specified."""
    if policy is not None and any(p is not None for p in [max_attempts, base_delay, backoff, max_delay, jitter]):
        raise ConfigurationError(
            "Cannot specify both policy and individual retry parameters",
            code="CONFLICTING_RETRY_CONFIG",
            has_policy=policy is not None,
            individual_params=[
                name
                for name, value in [
                    ("max_attempts", max_attempts),
                    ("base_delay", base_delay),
                    ("backoff", backoff),
                    ("max_delay", max_delay),
                    ("jitter", jitter),
                ]
                if value is not None
            ],
        )


def _build_retry_policy(
    exceptions: tuple[type[Exception], ...],
    max_attempts: int | None,
    base_delay: float | None,
    backoff: BackoffStrategy | None,
    max_delay: float | None,
    jitter: bool | None,
) -> RetryPolicy:
    """Build a retry policy from individual parameters."""
    policy_kwargs: dict[str, Any] = {}
    if max_attempts is not None:
        policy_kwargs["max_attempts"] = max_attempts
    if base_delay is not None:
        policy_kwargs["base_delay"] = base_delay
    if backoff is not None:
        policy_kwargs["backoff"] = backoff
    if max_delay is not None:
        policy_kwargs["max_delay"] = max_delay
    if jitter is not None:
        policy_kwargs["jitter"] = jitter
    if exceptions:
        policy_kwargs["retryable_errors"] = exceptions
    return RetryPolicy(**policy_kwargs)


def _create_retry_wrapper(
    func: F,
    policy: RetryPolicy,
    on_retry: Callable[[int, Exception], None] | None,
    time_source: Callable[[], float] | None = None,
    sleep_func: Callable[[float], None] | None = None,
    async_sleep_func: Callable[[float], Any] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> F:
    """Create the retry wrapper for a function."""
    if not callable(func):
        # Now, not at the first call, where its TypeError would be retried.
        raise _core.not_callable("func", func)
    if is_coroutine_function(func):
        executor = RetryExecutor(
            policy,
            on_retry=on_retry,
            time_source=time_source,
            sleep_func=sleep_func,
            async_sleep_func=async_sleep_func,
            on_event=on_event,
        )
        if not _plain(policy):
            # A deadline, a budget, a result predicate or an attempt timeout
            # act before or around the first attempt: the whole loop runs.
            run_async = executor._run_async

            @functools.wraps(func)
            async def full_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await run_async(func, args, kwargs)

            return full_wrapper  # type: ignore[return-value]
        retry_async = executor._retry_async
        specialized = async_retry_wrapper(func, retry_async)
        if specialized is not None:
            return functools.wraps(func)(specialized)  # type: ignore[return-value]

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await func(*args, **kwargs)
            except Exception as error:
                first = error
            return await retry_async(first, func, args, kwargs)

        return async_wrapper  # type: ignore[return-value]

    # The sync wrapper is native: calling it runs the retry loop in Rust.
    wrapper = _core.RetryingFunction(
        func,
        policy._core,
        policy.retryable_errors,
        on_retry,
        _sleep_or_native(sleep_func),
        on_event=on_event,
        time_source=time_source,
    )
    functools.update_wrapper(wrapper, func)
    return wrapper  # type: ignore[return-value]


def retry(
    *exceptions: type[Exception],
    policy: RetryPolicy | None = None,
    max_attempts: int | None = None,
    base_delay: float | None = None,
    backoff: BackoffStrategy | None = None,
    max_delay: float | None = None,
    jitter: bool | None = None,
    on_retry: Callable[[int, Exception], None] | None = None,
    time_source: Callable[[], float] | None = None,
    sleep_func: Callable[[float], None] | None = None,
    async_sleep_func: Callable[[float], Any] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Callable[[F], F]:
    """Decorator for retrying operations on errors.

    Forms: `@retry`, `@retry(ConnectionError, TimeoutError, max_attempts=5)`,
    `@retry(policy=RetryPolicy(...))`, `@retry(max_attempts=3, base_delay=1.0)`;
    on sync and async functions. Giving both `policy` and individual
    parameters raises `ConfigurationError` (code "CONFLICTING_RETRY_CONFIG").
    """
    if len(exceptions) == 1 and callable(exceptions[0]) and not isinstance(exceptions[0], type):
        # Called as @retry without parentheses
        return _handle_no_parentheses_retry(exceptions[0])

    _core.require_exception_types("exceptions", exceptions)
    if policy is not None:
        _require_policy(policy)
    for name, value in (
        ("on_retry", on_retry),
        ("time_source", time_source),
        ("sleep_func", sleep_func),
        ("async_sleep_func", async_sleep_func),
        ("on_event", on_event),
    ):
        _core.require_optional_callable(name, value)
    _validate_retry_parameters(policy, max_attempts, base_delay, backoff, max_delay, jitter)

    if policy is None:
        policy = _build_retry_policy(exceptions, max_attempts, base_delay, backoff, max_delay, jitter)

    def decorator(func: F) -> F:
        return _create_retry_wrapper(
            func,
            policy,
            on_retry,
            time_source=time_source,
            sleep_func=sleep_func,
            async_sleep_func=async_sleep_func,
            on_event=on_event,
        )

    return decorator


def _register(reg: Registry | None, breaker: Any) -> None:
    global _circuit_breaker_counter
    with _circuit_breaker_counter_lock:
        _circuit_breaker_counter += 1
        name = f"cb_{_circuit_breaker_counter}"
    dimension = CIRCUIT_BREAKER_DIMENSION if _should_register_for_global_reset() else CIRCUIT_BREAKER_TEST_DIMENSION
    (reg or _registry).register(name, breaker, dimension=dimension)


def circuit_breaker(
    failure_threshold: int = DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
    recovery_timeout: float = DEFAULT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT,
    expected_exception: type[Exception] | tuple[type[Exception], ...] = Exception,
    time_source: Callable[[], float] | None = None,
    registry: Registry | None = None,
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
) -> Callable[[F], F]:
    """Create a circuit breaker decorator (60 s recovery timeout by default).

    Creates a SyncCircuitBreaker for synchronous functions and an
    AsyncCircuitBreaker for asynchronous functions, each with the keyword
    options given here (see `SyncCircuitBreaker`); the decorated function
    keeps its breaker as `_breaker`.
    """
    # Checked as given (before it is wrapped in a tuple), so the message is about the user's value.
    _core.require_exception_types("expected_exception", expected_exception)
    if registry is not None and not callable(getattr(registry, "register", None)):
        raise ParameterTypeError(
            f"registry must have a register(name, value, dimension=...) method, got {type(registry).__name__}",
            kind="wrong_type",
            parameter="registry",
        )
    options: dict[str, Any] = {
        "failure_threshold": failure_threshold,
        "recovery_timeout": recovery_timeout,
        "time_source": time_source,
        "half_open_max_calls": half_open_max_calls,
        "failure_ratio": failure_ratio,
        "minimum_throughput": minimum_throughput,
        "sampling_duration": sampling_duration,
        "sampling_buckets": sampling_buckets,
        "window_size": window_size,
        "slow_call_duration": slow_call_duration,
        "slow_call_ratio": slow_call_ratio,
        "break_backoff": break_backoff,
        "max_recovery_timeout": max_recovery_timeout,
        "initial_state": initial_state,
        "store": store,
        "name": name,
        "failure_on_result": failure_on_result,
        "on_event": on_event,
    }
    expected_exception_tuple: tuple[type[Exception], ...]
    if not isinstance(expected_exception, tuple):
        expected_exception_tuple = (expected_exception,)
    else:
        expected_exception_tuple = expected_exception

    def decorator(func: F) -> F:
        if not callable(func):
            # Now, not at call time, where its TypeError would count as a failure.
            raise _core.not_callable("func", func)
        if is_coroutine_function(func):
            async_breaker = AsyncCircuitBreaker(expected_exception=expected_exception_tuple, **options)
            call_async = async_breaker.call
            core = async_breaker._core
            async_wrapper = async_breaker_wrapper(func, core.acquire, core.success, core.error)
            if async_wrapper is None:

                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    return await call_async(func, *args, **kwargs)

            functools.update_wrapper(async_wrapper, func)
            async_wrapper.__dict__["_breaker"] = async_breaker
            _register(registry, async_breaker)
            return async_wrapper  # type: ignore[return-value]

        sync_breaker = SyncCircuitBreaker(expected_exception=expected_exception_tuple, **options)
        # Native wrapper: the call goes through the breaker without a Python frame.
        sync_wrapper = _core.BreakerFunction(sync_breaker, func)
        functools.update_wrapper(sync_wrapper, func)
        _register(registry, sync_breaker)
        return sync_wrapper  # type: ignore[return-value]

    return decorator


async def _reset_dimension(dimension: str) -> None:
    for breaker in _registry.list_dimension(dimension):
        if isinstance(breaker, AsyncCircuitBreaker):
            await breaker.reset()
        else:
            breaker.reset()


async def reset_circuit_breakers_for_testing() -> None:
    """Reset all circuit breakers created by `@circuit_breaker` outside test files."""
    await _reset_dimension(CIRCUIT_BREAKER_DIMENSION)


async def reset_test_circuit_breakers() -> None:
    """Reset circuit breakers created by `@circuit_breaker` within test files."""
    await _reset_dimension(CIRCUIT_BREAKER_TEST_DIMENSION)


def fallback(*fallback_funcs: Callable[..., Any]) -> Callable[[F], F]:
    """Fallback decorator using FallbackChain.

    Args:
        *fallback_funcs: Functions to use as fallbacks, in order of preference
    """
    from resilience.fallback import fallback as _fallback

    return _fallback(*fallback_funcs)


__all__ = [
    "CIRCUIT_BREAKER_DIMENSION",
    "CIRCUIT_BREAKER_TEST_DIMENSION",
    "ConfigurationError",
    "circuit_breaker",
    "fallback",
    "reset_circuit_breakers_for_testing",
    "reset_test_circuit_breakers",
    "retry",
]
