"""What the sync and async resource pools share: their validated, read-only
configuration and the core bulkhead that decides who holds a slot."""

from __future__ import annotations

from resilience import _core
from resilience.defaults import (
    DEFAULT_BULKHEAD_MAX_CONCURRENT,
    DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
    DEFAULT_BULKHEAD_TIMEOUT,
)


class PoolConfig:
    """Base of SyncResourcePool and AsyncResourcePool (not public API)."""

    def __init__(
        self,
        *,
        max_concurrent: int = DEFAULT_BULKHEAD_MAX_CONCURRENT,
        max_queue_size: int = DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
        timeout: float = DEFAULT_BULKHEAD_TIMEOUT,
    ) -> None:
        # The core validates every value (ValueError naming the parameter).
        self._core = _core.BulkheadCore(max_concurrent, max_queue_size, timeout)
        self._max_concurrent = max_concurrent
        self._max_queue_size = max_queue_size
        self._timeout = timeout

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(max_concurrent={self._max_concurrent!r}, "
            f"max_queue_size={self._max_queue_size!r}, timeout={self._timeout!r})"
        )

    @property
    def max_concurrent(self) -> int:
        return self._max_concurrent

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    @property
    def timeout(self) -> float:
        return self._timeout
