"""Synchronous bulkhead resource pool.

The core bulkhead decides who holds a slot (admission, the FIFO queue, the
hand-over on release); this class only makes threads wait for their turn.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from resilience._pool_config import PoolConfig
from resilience.defaults import (
    DEFAULT_BULKHEAD_MAX_CONCURRENT,
    DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
    DEFAULT_BULKHEAD_TIMEOUT,
)


class SyncResourcePool(PoolConfig):
    """Synchronous resource pool with limited capacity for isolation.

    Thread-safe. A waiter that times out while a release hands it the slot
    keeps the slot (acquire returns True), so no slot is ever leaked.
    For async contexts, use AsyncResourcePool instead.
    """

    # How a waiting thread waits; replaceable so tests can script the race
    # between a timeout and a hand-over without real time.
    _new_event: Callable[[], threading.Event] = threading.Event

    def __init__(
        self,
        *,
        max_concurrent: int = DEFAULT_BULKHEAD_MAX_CONCURRENT,
        max_queue_size: int = DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
        timeout: float = DEFAULT_BULKHEAD_TIMEOUT,
    ) -> None:
        super().__init__(max_concurrent=max_concurrent, max_queue_size=max_queue_size, timeout=timeout)
        # Guards the ticket -> event map together with the core calls that
        # create or hand over tickets, so a release never misses a waiter.
        self._lock = threading.Lock()
        self._waiters: dict[int, threading.Event] = {}

    def active_count(self) -> int:
        """Number of currently active operations."""
        return self._core.stats()[0]

    def available_capacity(self) -> int:
        """Number of available slots."""
        return max(0, self._max_concurrent - self._core.stats()[0])

    def queue_size(self) -> int:
        """Current number of waiting operations."""
        return self._core.stats()[1]

    def acquire(self, timeout: float | None = None) -> bool:
        """Acquire a resource slot (blocking).

        Args:
            timeout: Maximum time to wait (defaults to pool timeout)

        Returns:
            True if acquired, False if timeout

        Raises:
            RuntimeError: If queue is full
        """
        # Validated before a slot is taken: NaN, infinity or a negative
        # timeout is a ValueError naming `timeout`, never a hang.
        actual_timeout = self._core.wait_seconds(timeout)
        with self._lock:
            ticket = self._core.try_acquire()
            if ticket is None:
                return True
            waiter = self._new_event()
            self._waiters[ticket] = waiter
        try:
            # A wait beyond what the platform can express (about 292 years)
            # waits that long instead of raising OverflowError.
            if waiter.wait(timeout=min(actual_timeout, threading.TIMEOUT_MAX)):
                return True
        except BaseException:
            self._give_up(ticket, keep_slot=False)
            raise
        return self._give_up(ticket, keep_slot=True)

    def _give_up(self, ticket: int, *, keep_slot: bool) -> bool:
        """Leaves the queue; True if a release had already handed us the slot.

        With `keep_slot=False` (the wait was interrupted) such a slot is
        passed on at once instead of being leaked.
        """
        with self._lock:
            self._waiters.pop(ticket, None)
            withdrawn = self._core.cancel(ticket)
        if withdrawn:
            return False
        if not keep_slot:
            self.release()
        return True

    def release(self) -> None:
        """Release a resource slot (handing it to the first waiter, if any)."""
        with self._lock:
            ticket = self._core.release()
            waiter = None if ticket is None else self._waiters.pop(ticket, None)
        if waiter is not None:
            waiter.set()

    def get_stats(self) -> dict[str, Any]:
        """Get pool statistics."""
        active, waiting = self._core.stats()
        return {
            "max_concurrent": self._max_concurrent,
            "active_count": active,
            "available_capacity": self._max_concurrent - active,
            "waiting_count": waiting,
            "max_queue_size": self._max_queue_size,
            "utilization": active / self._max_concurrent if self._max_concurrent > 0 else 0.0,
        }


__all__ = ["SyncResourcePool"]
