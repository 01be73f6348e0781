# Hand-written stubs for the native module (bindings-python/src), checked by
# `python -m mypy.stubtest resilience` in `make test-python`.
from collections.abc import Callable, Sequence
from typing import Any, final

from typing_extensions import disjoint_base

from resilience.circuit_sync import BreakerMetrics, CircuitState

__all__ = [
    "DEFAULT_BUDGET_TTL",
    "DEFAULT_BURST",
    "DEFAULT_HEDGE_DELAY",
    "DEFAULT_MAX_HEDGED_ATTEMPTS",
    "DEFAULT_MIN_RETRIES_PER_SEC",
    "DEFAULT_PER",
    "DEFAULT_RATE",
    "DEFAULT_RETRY_RATIO",
    "DEFAULT_THROTTLE_K",
    "DEFAULT_THROTTLE_WINDOW",
    "DEFAULT_TIMEOUT",
    "DeadlineCore",
    "HedgingCore",
    "HedgingStateCore",
    "LimiterCore",
    "RetryBudgetCore",
    "SyncPipelineCore",
    "ThrottleCore",
    "event_types",
    "library_error",
    "needs_cancellation",
    "pipeline_order",
    "timeout_error",
    "timeout_seconds",
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
DEFAULT_TIMEOUT: float
DEFAULT_HEDGE_DELAY: float
DEFAULT_MAX_HEDGED_ATTEMPTS: int
DEFAULT_BUDGET_TTL: float
DEFAULT_MIN_RETRIES_PER_SEC: int
DEFAULT_RETRY_RATIO: float
DEFAULT_THROTTLE_K: float
DEFAULT_THROTTLE_WINDOW: float
DEFAULT_RATE: int
DEFAULT_PER: float
DEFAULT_BURST: int

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
        *,
        max_elapsed: object = None,
        attempt_timeout: object = None,
        budget: RetryBudgetCore | None = None,
        retry_on_result: Callable[[Any], Any] | None = None,
    ) -> RetryPolicyCore: ...
    @property
    def max_elapsed(self) -> float | None: ...
    @property
    def attempt_timeout(self) -> float | None: ...
    @property
    def has_budget(self) -> bool: ...
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
    def start(self, now: float | None = None) -> RetryStateCore: ...

@final
class RetryStateCore:
    @property
    def attempt(self) -> int: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def failed_attempt(self) -> int: ...
    @property
    def deadline(self) -> float | None: ...
    def on_failure(
        self, retryable: bool, retry_after: float | None = None, now: float | None = None
    ) -> float | None: ...
    def on_error(
        self,
        error: BaseException,
        retryable_errors: object = None,
        retry_after: float | None = None,
        now: float | None = None,
        library: bool = False,
    ) -> float | None: ...
    def on_timeout(self, now: float | None = None) -> float | None: ...
    def on_result(
        self, value: Any, predicate: Callable[[Any], Any], retry_after: float | None = None, now: float | None = None
    ) -> float | None: ...

@final
class RetryingFunction:
    def __new__(
        cls,
        func: Callable[..., Any],
        policy: RetryPolicyCore,
        retryable: Any = None,
        on_retry: Callable[[int, Exception], Any] | None = None,
        sleep: Callable[[float], Any] | None = None,
        *,
        on_event: Callable[[Any], Any] | None = None,
        time_source: Callable[[], float] | None = None,
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
    *,
    on_event: Callable[[Any], Any] | None = None,
    pipeline_event: Callable[[Any], Any] | None = None,
    time_source: Callable[[], float] | None = None,
    library: bool = False,
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
        failure_on_result: object = None,
        on_event: object = None,
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
    def _call_layer(
        self, pipeline_event: Callable[[Any], Any] | None, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any: ...
    @property
    def on_event(self) -> Callable[[Any], Any] | None: ...
    @property
    def failure_on_result(self) -> Callable[[Any], Any] | None: ...
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
        failure_on_result: object = None,
        on_event: object = None,
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
    @property
    def plain(self) -> bool: ...
    def acquire(self, pipeline_event: Callable[[Any], Any] | None = None) -> int: ...
    def success(self, token: int, value: Any = None, pipeline_event: Callable[[Any], Any] | None = None) -> None: ...
    def error(
        self,
        token: int,
        error: BaseException,
        pipeline_event: Callable[[Any], Any] | None = None,
        library: bool = False,
    ) -> None: ...
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

# ---- Issue 10: timeouts, hedging, the pipeline's rules, events ----

def timeout_seconds(parameter: str, seconds: object) -> float: ...
def timeout_error(strategy: str, seconds: float) -> TimeoutError: ...
def pipeline_order(names: object) -> list[str]: ...
def needs_cancellation(name: str) -> bool: ...
def library_error(error: BaseException) -> tuple[str, bool, bool, bool, bool] | None: ...
def event_types() -> list[str]: ...

@final
class DeadlineCore:
    def __new__(cls, seconds: object, start: float) -> DeadlineCore: ...
    def expired(self, now: float) -> bool: ...
    def remaining(self, now: float) -> float: ...
    def remaining_ns(self, now: float) -> int: ...

@final
class HedgingCore:
    def __new__(cls, hedge_delay: object, max_hedged_attempts: object) -> HedgingCore: ...
    @property
    def hedge_delay(self) -> float: ...
    @property
    def max_hedged_attempts(self) -> int: ...
    def start(self) -> HedgingStateCore: ...

@final
class HedgingStateCore:
    @property
    def until(self) -> float | None: ...
    @property
    def launched(self) -> int: ...
    def next(self, now: float) -> int: ...
    def on_outcome(self, attempt: int, accepted: bool, now: float) -> str: ...

# ---- Issue 11: load control ----

@final
class RetryBudgetCore:
    def __new__(
        cls, ttl: object, min_retries_per_sec: object, retry_ratio: object, time_source: object = None
    ) -> RetryBudgetCore: ...
    @property
    def ttl(self) -> float: ...
    @property
    def min_retries_per_sec(self) -> int: ...
    @property
    def retry_ratio(self) -> float: ...
    def deposit(self) -> None: ...
    def try_withdraw(self) -> bool: ...
    def available(self) -> int: ...

@final
class ThrottleCore:
    def __new__(cls, k: object, window: object, seed: object = None, time_source: object = None) -> ThrottleCore: ...
    @property
    def k(self) -> float: ...
    @property
    def window(self) -> float: ...
    @property
    def seed(self) -> int | None: ...
    def admit(self) -> None: ...
    def record(self, accepted: bool) -> None: ...
    def stats(self) -> tuple[int, int, float]: ...

@final
class LimiterCore:
    def __new__(cls, rate: object, per: object, burst: object, time_source: object = None) -> LimiterCore: ...
    @property
    def rate(self) -> int: ...
    @property
    def per(self) -> float: ...
    @property
    def burst(self) -> int: ...
    def try_acquire(self) -> bool: ...
    def check(self, n: object) -> None: ...
    def wait_time(self, n: object) -> float | None: ...
    def acquire(self, n: object, sleep: Callable[[float], Any] | None = None) -> None: ...

@final
class SyncPipelineCore:
    def __new__(
        cls,
        listener: Callable[[Any], Any] | None,
        breaker: SyncCircuitBreakerBase | None = None,
        policy: RetryPolicyCore | None = None,
        retryable: Any = None,
        on_retry: Callable[[int, Exception], Any] | None = None,
        sleep: Callable[[float], Any] | None = None,
        on_event: Callable[[Any], Any] | None = None,
        time_source: Callable[[], float] | None = None,
    ) -> SyncPipelineCore: ...
    def __call__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
