"""Resilience patterns on a Rust core: retry with backoff, circuit breaker,
fallback, bulkhead; timeouts, hedging and one pipeline with typed events;
a retry budget, adaptive throttling and a rate limiter.

A drop-in for `provide.foundation.resilience`: the same names, signatures,
defaults, exceptions and submodules; every decision is taken by the shared
Rust core (`resilience._core`).
"""

from __future__ import annotations

from resilience.bulkhead import (
    Bulkhead,
    BulkheadManager,
    get_bulkhead_manager,
)
from resilience.circuit_async import AsyncCircuitBreaker
from resilience.circuit_sync import (
    BreakerMetrics,
    CircuitState,
    SyncCircuitBreaker,
)
from resilience.budget import RetryBudget
from resilience.errors import (
    BulkheadFullError,
    CircuitBreakerOpenError,
    RateLimitedError,
    SnapshotError,
    ThrottledError,
)
from resilience.fallback import FallbackChain
from resilience.hedging import Hedging, hedge
from resilience.limiter import RateLimiter, rate_limited
from resilience.pipeline import Pipeline, PipelineBuilder
from resilience.retry import (
    BackoffStrategy,
    RetryExecutor,
    RetryPolicy,
)
from resilience.throttle import AdaptiveThrottle, ThrottleStats
from resilience.timeouts import Timeout, timeout

# Imported last: `resilience.fallback` is the decorator, not the submodule
# (`from resilience.fallback import FallbackChain, fallback` still works).
from resilience.decorators import circuit_breaker, fallback, retry  # noqa: E402  # isort: skip

__all__ = [
    "AdaptiveThrottle",
    "AsyncCircuitBreaker",
    "BackoffStrategy",
    "BreakerMetrics",
    "Bulkhead",
    "BulkheadFullError",
    "BulkheadManager",
    "CircuitBreakerOpenError",
    "CircuitState",
    "FallbackChain",
    "Hedging",
    "Pipeline",
    "PipelineBuilder",
    "RateLimitedError",
    "RateLimiter",
    "RetryBudget",
    "RetryExecutor",
    "RetryPolicy",
    "SnapshotError",
    "SyncCircuitBreaker",
    "ThrottleStats",
    "ThrottledError",
    "Timeout",
    "circuit_breaker",
    "fallback",
    "get_bulkhead_manager",
    "hedge",
    "rate_limited",
    "retry",
    "timeout",
]
