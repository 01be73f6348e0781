"""Asynchronous bulkhead resource pool.

The core bulkhead decides who holds a slot; waiting is an asyncio future
per queued ticket. Never blocks the event loop. The pool keeps the core's
handles of the slots its callers hold (its API has none).
"""

from __future__ import annotations

import asyncio
from typing import Any

from resilience._pool_config import PoolConfig
from resilience.defaults import (
    DEFAULT_BULKHEAD_MAX_CONCURRENT,
    DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
    DEFAULT_BULKHEAD_TIMEOUT,
)


class _Expired(Exception):
    """A queued waiter's timeout fired before a release handed it a slot."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_Expired())


class AsyncResourcePool(PoolConfig):
    """Asynchronous resource pool with limited capacity for isolation.

    A waiter that times out while a release hands it the slot keeps the slot
    (acquire returns True); a cancelled waiter passes such a slot on. No slot
    is ever leaked. `release()` when no slot is held changes nothing (as in
    the original). For sync contexts, use SyncResourcePool instead.
    """

    def __init__(
        self,
        *,
        max_concurrent: int = DEFAULT_BULKHEAD_MAX_CONCURRENT,
        max_queue_size: int = DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
        timeout: float = DEFAULT_BULKHEAD_TIMEOUT,
    ) -> None:
        super().__init__(max_concurrent=max_concurrent, max_queue_size=max_queue_size, timeout=timeout)
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._held: set[int] = set()

    async def active_count(self) -> int:
        """Number of currently active operations."""
        return self._core.stats()[0]

    async def available_capacity(self) -> int:
        """Number of available slots."""
        return max(0, self._max_concurrent - self._core.stats()[0])

    async def queue_size(self) -> int:
        """Current number of waiting operations."""
        return self._core.stats()[1]

    async def acquire(self, timeout: float | None = None) -> bool:
        """Acquire a resource slot (async).

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
        slot, ticket = self._core.try_acquire()
        if slot is not None:
            self._held.add(slot)
            return True
        assert ticket is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters[ticket] = waiter
        # A timer instead of asyncio.wait_for: wait_for may swallow a
        # cancellation that races the hand-over (3.11 and older).
        timer = loop.call_later(actual_timeout, _expire, waiter)
        try:
            await waiter
            return True
        except _Expired:
            return self._give_up(ticket, keep_slot=True)
        except BaseException:
            self._give_up(ticket, keep_slot=False)
            raise
        finally:
            timer.cancel()

    def _give_up(self, ticket: int, *, keep_slot: bool) -> bool:
        """Leaves the queue; True if a release had already handed us the slot."""
        self._waiters.pop(ticket, None)
        slot = self._core.cancel(ticket)
        if slot is None:
            return False
        if not keep_slot:
            self._release_slot(slot)
        return True

    def _release(self) -> None:
        if self._held:
            self._release_slot(self._held.pop())

    def _release_slot(self, slot: int) -> None:
        """Gives `slot` back to the core; wakes the waiter it hands it to."""
        self._held.discard(slot)
        granted = self._core.release(slot)
        if granted is not None:
            ticket, next_slot = granted
            self._held.add(next_slot)
            waiter = self._waiters.pop(ticket, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def release(self) -> None:
        """Release a resource slot (handing it to the first waiter, if any).

        With no slot held, nothing changes (as in the original)."""
        self._release()

    async def get_stats(self) -> dict[str, Any]:
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


__all__ = ["AsyncResourcePool"]
