"""Resilience defaults (the same values as provide.foundation's).

Read from the core (`resilience._core`), so every language uses the same
defaults; only the decorator's 60 s recovery timeout is the original
Python module's own (the class default is the core's 30 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resilience import _core

if TYPE_CHECKING:
    from resilience.types import BackoffStrategy

# =================================
# Circuit Breaker Defaults
# =================================
# The `@circuit_breaker` decorator's default (the original's); the breaker
# classes default to the core's `DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT`.
DEFAULT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT = 60.0
DEFAULT_CIRCUIT_BREAKER_STATE = "closed"
DEFAULT_CIRCUIT_BREAKER_FAILURE_COUNT = 0
DEFAULT_CIRCUIT_BREAKER_LAST_FAILURE_TIME = None
DEFAULT_CIRCUIT_BREAKER_NEXT_ATTEMPT_TIME = 0.0
DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD: int = _core.DEFAULT_FAILURE_THRESHOLD
DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT: float = _core.DEFAULT_RECOVERY_TIMEOUT
DEFAULT_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: int = _core.DEFAULT_HALF_OPEN_MAX_CALLS

# =================================
# Retry Policy Defaults
# =================================
DEFAULT_RETRY_MAX_ATTEMPTS: int = _core.DEFAULT_MAX_ATTEMPTS
DEFAULT_RETRY_BASE_DELAY: float = _core.DEFAULT_BASE_DELAY
DEFAULT_RETRY_MAX_DELAY: float = _core.DEFAULT_MAX_DELAY
# The API's switch: True is the core's default jitter (rule `jitter_switch`).
DEFAULT_RETRY_JITTER = True
DEFAULT_RETRY_RETRYABLE_ERRORS = None
DEFAULT_RETRY_RETRYABLE_STATUS_CODES = None

# =================================
# Bulkhead Defaults
# =================================
DEFAULT_BULKHEAD_MAX_CONCURRENT: int = _core.DEFAULT_MAX_CONCURRENT
DEFAULT_BULKHEAD_MAX_QUEUE_SIZE: int = _core.DEFAULT_MAX_QUEUE_SIZE
DEFAULT_BULKHEAD_TIMEOUT: float = _core.DEFAULT_BULKHEAD_TIMEOUT


def default_retry_backoff_strategy() -> BackoffStrategy:
    """Factory for default retry backoff strategy."""
    from resilience.types import BackoffStrategy

    return BackoffStrategy.EXPONENTIAL


__all__ = [
    "DEFAULT_BULKHEAD_MAX_CONCURRENT",
    "DEFAULT_BULKHEAD_MAX_QUEUE_SIZE",
    "DEFAULT_BULKHEAD_TIMEOUT",
    "DEFAULT_CIRCUIT_BREAKER_CLASS_RECOVERY_TIMEOUT",
    "DEFAULT_CIRCUIT_BREAKER_FAILURE_COUNT",
    "DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD",
    "DEFAULT_CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS",
    "DEFAULT_CIRCUIT_BREAKER_LAST_FAILURE_TIME",
    "DEFAULT_CIRCUIT_BREAKER_NEXT_ATTEMPT_TIME",
    "DEFAULT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT",
    "DEFAULT_CIRCUIT_BREAKER_STATE",
    "DEFAULT_RETRY_BASE_DELAY",
    "DEFAULT_RETRY_JITTER",
    "DEFAULT_RETRY_MAX_ATTEMPTS",
    "DEFAULT_RETRY_MAX_DELAY",
    "DEFAULT_RETRY_RETRYABLE_ERRORS",
    "DEFAULT_RETRY_RETRYABLE_STATUS_CODES",
    "default_retry_backoff_strategy",
]
