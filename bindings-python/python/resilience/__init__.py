"""Resilience patterns on a Rust core: retry with backoff, circuit breaker,
fallback, bulkhead.

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
from resilience.errors import CircuitBreakerOpenError, SnapshotError
from resilience.fallback import FallbackChain
from resilience.retry import (
    BackoffStrategy,
    RetryExecutor,
    RetryPolicy,
)

# Imported last: `resilience.fallback` is the decorator, not the submodule
# (`from resilience.fallback import FallbackChain, fallback` still works).
from resilience.decorators import circuit_breaker, fallback, retry  # noqa: E402  # isort: skip

__all__ = [
    "AsyncCircuitBreaker",
    "BackoffStrategy",
    "BreakerMetrics",
    "Bulkhead",
    "BulkheadManager",
    "CircuitBreakerOpenError",
    "CircuitState",
    "FallbackChain",
    "RetryExecutor",
    "RetryPolicy",
    "SnapshotError",
    "SyncCircuitBreaker",
    "circuit_breaker",
    "fallback",
    "get_bulkhead_manager",
    "retry",
]
