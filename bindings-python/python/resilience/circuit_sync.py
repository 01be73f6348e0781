"""Synchronous circuit breaker.

`SyncCircuitBreaker` is native: its `call` acquires a permit from the core
breaker (one atomic load while closed), runs the function and reports the
outcome, all without a Python-level lock. It is thread-safe, and while
half-open it admits at most `half_open_max_calls` trial calls at a time.
"""

from __future__ import annotations

from enum import Enum, auto

from resilience._core import SyncCircuitBreaker


class CircuitState(Enum):
    """Represents the state of the circuit breaker."""

    CLOSED = auto()
    OPEN = auto()
    HALF_OPEN = auto()


__all__ = ["CircuitState", "SyncCircuitBreaker"]
