"""Synchronous bulkhead resource pool.

The core bulkhead decides who holds a slot (admission, the FIFO queue, the
hand-over on release); this class only makes threads wait for their turn.
The pool's API has no handles (`release()` gives back "a" slot), so it
keeps the core's slot handles of the slots its callers hold.
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
    `release()` when no slot is held changes nothing (as in the original).
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
        # Guards the ticket -> event map and the held slots together with the
        # core calls that change them, so a release never misses a waiter.
        self._lock = threading.Lock()
        self._waiters: dict[int, threading.Event] = {}
        self._held: set[int] = set()

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
            slot, ticket = self._core.try_acquire()
            if slot is not None:
                self._held.add(slot)
                return True
            assert ticket is not None
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
        waiter = None
        with self._lock:
            self._waiters.pop(ticket, None)
            slot = self._core.cancel(ticket)
            if slot is not None and not keep_slot:
                self._held.discard(slot)
                waiter = self._hand_back(slot)
        if waiter is not None:
            waiter.set()
        return slot is not None

    def release(self) -> None:
        """Release a resource slot (handing it to the first waiter, if any).

        With no slot held, nothing changes (as in the original)."""
        with self._lock:
            if not self._held:
                return
            waiter = self._hand_back(self._held.pop())
        if waiter is not None:
            waiter.set()

    def _hand_back(self, slot: int) -> threading.Event | None:
        """Gives `slot` back to the core (under the lock); returns the event
        of the waiter it was handed to, which now holds the next slot."""
        granted = self._core.release(slot)
        if granted is None:
            return None
        ticket, next_slot = granted
        self._held.add(next_slot)
        return self._waiters.pop(ticket, None)

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
