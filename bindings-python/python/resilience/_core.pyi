# Hand-written stubs for the native module (bindings-python/src), checked by
# `python -m mypy.stubtest resilience` in `make test-python`.
from collections.abc import Callable, Sequence
from typing import Any, final

from typing_extensions import disjoint_base

from resilience.circuit_sync import BreakerMetrics, CircuitState

__all__ = [
    "BreakerCore",
    "BreakerFunction",
    "BulkheadCore",
    "DEFAULT_BASE_DELAY",
    "DEFAULT_BULKHEAD_TIMEOUT",
    "DEFAULT_FAILURE_THRESHOLD",
    "DEFAULT_HALF_OPEN_MAX_CALLS",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_MAX_QUEUE_SIZE",
    "DEFAULT_MINIMUM_THROUGHPUT",
    "DEFAULT_RECOVERY_TIMEOUT",
    "DEFAULT_RETRYABLE_STATUS_CODES",
    "DEFAULT_SAMPLING_BUCKETS",
    "DEFAULT_SAMPLING_DURATION",
    "FallbackStateCore",
    "PermitMisuseError",
    "RetryPolicyCore",
    "RetryStateCore",
    "RetryingFunction",
    "SNAPSHOT_VERSION",
    "SlotMisuseError",
    "SyncCircuitBreakerBase",
    "fallback_call",
    "falls_back",
    "not_callable",
    "require_exception_types",
    "require_optional_callable",
    "retry_call",
]

# The core's defaults (durations in seconds).
DEFAULT_MAX_ATTEMPTS: int
DEFAULT_BASE_DELAY: float
DEFAULT_MAX_DELAY: float
DEFAULT_FAILURE_THRESHOLD: int
DEFAULT_RECOVERY_TIMEOUT: float
DEFAULT_HALF_OPEN_MAX_CALLS: int
DEFAULT_MINIMUM_THROUGHPUT: int
DEFAULT_SAMPLING_DURATION: float
DEFAULT_SAMPLING_BUCKETS: int
DEFAULT_MAX_CONCURRENT: int
DEFAULT_MAX_QUEUE_SIZE: int
DEFAULT_BULKHEAD_TIMEOUT: float
DEFAULT_RETRYABLE_STATUS_CODES: tuple[int, ...]
SNAPSHOT_VERSION: int

class PermitMisuseError(RuntimeError): ...
class SlotMisuseError(RuntimeError): ...

@final
class RetryPolicyCore:
    # Raw user values: every one goes through the core's rules.
    def __new__(
        cls,
        max_attempts: object,
        backoff: object,
        base_delay: object,
        max_delay: object,
        jitter: object,
        retryable_status_codes: object = None,
        seed: object = None,
    ) -> RetryPolicyCore: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def backoff(self) -> str: ...
    @property
    def jitter(self) -> str: ...
    def calculate_delay(self, attempt: object) -> float: ...
    def should_retry(self, error: object, attempt: object, retryable_errors: object = None) -> bool: ...
    def should_retry_status(self, status: object, attempt: object) -> bool: ...
    def retry_after_hint(self, header: str, now_unix: float) -> float | None: ...
    def start(self) -> RetryStateCore: ...

@final
class RetryStateCore:
    @property
    def attempt(self) -> int: ...
    @property
    def reason(self) -> str | None: ...
    def on_failure(self, retryable: bool, retry_after: float | None = None) -> float | None: ...
    def on_error(self, error: BaseException, retryable_errors: object = None, retry_after: float | None = None) -> float | None: ...

@final
class RetryingFunction:
    def __new__(
        cls,
        func: Callable[..., Any],
        policy: RetryPolicyCore,
        retryable: Any = None,
        on_retry: Callable[[int, Exception], Any] | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> RetryingFunction: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, instance: Any, owner: Any = None, /) -> Any: ...

def retry_call(
    policy: RetryPolicyCore,
    retryable: Any,
    on_retry: Callable[[int, Exception], Any] | None,
    sleep: Callable[[float], Any] | None,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
) -> Any: ...

@disjoint_base
class SyncCircuitBreakerBase:
    def __new__(cls, *_args: Any, **_kwargs: Any) -> SyncCircuitBreakerBase: ...
    # Raw user values: every one goes through the core's rules; None is
    # "not given" for the keyword-only options only.
    def _configure(
        self,
        failure_threshold: object,
        recovery_timeout: object,
        expected_exception: object,
        time_source: object,
        half_open_max_calls: object,
        *,
        failure_ratio: object = None,
        minimum_throughput: object = None,
        sampling_duration: object = None,
        sampling_buckets: object = None,
        window_size: object = None,
        slow_call_duration: object = None,
        slow_call_ratio: object = None,
        break_backoff: object = None,
        max_recovery_timeout: object = None,
        initial_state: str | None = None,
    ) -> None: ...
    @property
    def failure_threshold(self) -> int: ...
    @property
    def recovery_timeout(self) -> float: ...
    @property
    def expected_exception(self) -> type[Exception] | tuple[type[Exception], ...]: ...
    @property
    def half_open_max_calls(self) -> int: ...
    @property
    def isolated(self) -> bool: ...
    @property
    def _time_source(self) -> Callable[[], float]: ...
    def state(self) -> CircuitState: ...
    def failure_count(self) -> int: ...
    def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def reset(self) -> None: ...
    def isolate(self) -> None: ...
    def close(self) -> None: ...
    def metrics(self) -> BreakerMetrics: ...
    def _snapshot_document(self) -> str: ...

@final
class BreakerFunction:
    def __new__(cls, breaker: SyncCircuitBreakerBase, func: Callable[..., Any]) -> BreakerFunction: ...
    @property
    def _breaker(self) -> SyncCircuitBreakerBase | None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, instance: Any, owner: Any = None, /) -> Any: ...

@final
class BreakerCore:
    def __new__(
        cls,
        failure_threshold: object,
        recovery_timeout: object,
        expected_exception: object,
        time_source: object,
        half_open_max_calls: object,
        *,
        failure_ratio: object = None,
        minimum_throughput: object = None,
        sampling_duration: object = None,
        sampling_buckets: object = None,
        window_size: object = None,
        slow_call_duration: object = None,
        slow_call_ratio: object = None,
        break_backoff: object = None,
        max_recovery_timeout: object = None,
        initial_state: str | None = None,
    ) -> BreakerCore: ...
    @property
    def half_open_max_calls(self) -> int: ...
    @property
    def isolated(self) -> bool: ...
    @property
    def time_source(self) -> Callable[[], float]: ...
    @property
    def tokens_outstanding(self) -> int: ...
    def try_acquire(self) -> tuple[int | None, float]: ...
    def acquire(self) -> int: ...
    def success(self, token: int) -> None: ...
    def error(self, token: int, error: BaseException) -> None: ...
    def state(self) -> CircuitState: ...
    def failure_count(self) -> int: ...
    def reset(self) -> None: ...
    def isolate(self) -> None: ...
    def close(self) -> None: ...
    def metrics(self) -> BreakerMetrics: ...
    def snapshot_document(self) -> str: ...

@final
class FallbackStateCore:
    def __new__(cls, fallbacks: int) -> FallbackStateCore: ...
    def on_primary_error(self, expected: bool) -> int | None: ...
    def on_fallback_error(self) -> int | None: ...

def fallback_call(
    primary: Callable[..., Any],
    fallbacks: Sequence[Callable[..., Any]],
    expected: type[BaseException] | tuple[type[BaseException], ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
) -> Any: ...
def falls_back(error: BaseException, filter: object) -> bool: ...

# Misuse checks (bindings-python/src/checks.rs): one wording for every entry point.
def not_callable(parameter: str, value: object) -> TypeError: ...
def require_optional_callable(parameter: str, value: object) -> None: ...
def require_exception_types(parameter: str, filter: object) -> None: ...

@final
class BulkheadCore:
    def __new__(cls, max_concurrent: object, max_queue_size: object, timeout: object) -> BulkheadCore: ...
    def wait_seconds(self, timeout: object = None) -> float: ...
    def try_acquire(self) -> tuple[int | None, int | None]: ...
    def release(self, slot: int) -> tuple[int, int] | None: ...
    def cancel(self, ticket: int) -> int | None: ...
    def stats(self) -> tuple[int, int]: ...
