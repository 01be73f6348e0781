"""Bulkhead pattern for resource isolation and limiting.

The bulkhead pattern isolates resources to prevent failures in one part of
the system from cascading to other parts. It limits concurrent access to
resources and provides isolation boundaries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
import threading
import time
from typing import Any, TypeVar

from resilience import _core, _logging
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool
from resilience.defaults import (
    DEFAULT_BULKHEAD_MAX_CONCURRENT,
    DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
    DEFAULT_BULKHEAD_TIMEOUT,
)
from resilience.errors import BulkheadFullError, ParameterTypeError
from resilience.events import BulkheadRejected, Event, deliver

T = TypeVar("T")


class Bulkhead:
    """Bulkhead isolation pattern for protecting resources.

    Can use either SyncResourcePool or AsyncResourcePool depending on use case.
    Its events (acquired, completed, failed, released) are DEBUG records of
    the "resilience" logger; `on_event` is told each `BulkheadRejected`
    (`resilience.events`). A full bulkhead raises `BulkheadFullError`, a
    `RuntimeError` with the original's message.
    """

    __slots__ = ("name", "on_event", "pool")

    def __init__(
        self,
        *,
        name: str,
        pool: SyncResourcePool | AsyncResourcePool | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if pool is not None and not isinstance(pool, (SyncResourcePool, AsyncResourcePool)):
            raise ParameterTypeError(
                f"pool must be a SyncResourcePool or an AsyncResourcePool, got {type(pool).__name__}",
                kind="wrong_type",
                parameter="pool",
            )
        _core.require_optional_callable("on_event", on_event)
        self.name = name
        self.on_event = on_event
        self.pool: SyncResourcePool | AsyncResourcePool = SyncResourcePool() if pool is None else pool

    def __repr__(self) -> str:
        return f"Bulkhead(name={self.name!r}, pool={self.pool!r})"

    def execute(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Execute function with bulkhead protection (sync).

        Raises:
            BulkheadFullError: If resource cannot be acquired (a RuntimeError)
            Exception: Any exception from the protected function
        """
        return self._execute(None, func, args, kwargs)

    def _rejected(self, pipeline_event: Callable[[Event], None] | None) -> BulkheadFullError:
        for listener in (self.on_event, pipeline_event):
            if listener is not None:
                deliver(listener, BulkheadRejected())
        return BulkheadFullError(f"Bulkhead '{self.name}' is at capacity")

    def _execute(
        self,
        pipeline_event: Callable[[Event], None] | None,
        func: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        pool = self.pool
        if not isinstance(pool, SyncResourcePool):
            raise TypeError("Sync execution requires SyncResourcePool")
        try:
            acquired = pool.acquire()
        except BulkheadFullError:
            self._rejected(pipeline_event)
            raise
        if not acquired:
            raise self._rejected(pipeline_event)
        try:
            self._emit_event("acquired")
            start_time = time.time()
            try:
                result = func(*args, **kwargs)
            except Exception as e:
                self._emit_event("failed", error=str(e), execution_time=time.time() - start_time)
                raise
            self._emit_event("completed", execution_time=time.time() - start_time)
            return result
        finally:
            pool.release()
            self._emit_event("released")

    async def execute_async(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Execute async function with bulkhead protection.

        Raises:
            BulkheadFullError: If resource cannot be acquired (a RuntimeError)
            Exception: Any exception from the protected function
        """
        return await self._execute_async(None, func, args, kwargs)

    async def _execute_async(
        self,
        pipeline_event: Callable[[Event], None] | None,
        func: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        pool = self.pool
        if not isinstance(pool, AsyncResourcePool):
            raise TypeError("Async execution requires AsyncResourcePool")
        try:
            acquired = await pool.acquire()
        except BulkheadFullError:
            self._rejected(pipeline_event)
            raise
        if not acquired:
            raise self._rejected(pipeline_event)
        try:
            self._emit_event("acquired")
            start_time = time.time()
            try:
                result = await func(*args, **kwargs)
            except Exception as e:
                self._emit_event("failed", error=str(e), execution_time=time.time() - start_time)
                raise
            self._emit_event("completed", execution_time=time.time() - start_time)
            return result
        finally:
            await pool.release()
            self._emit_event("released")

    def _emit_event(self, operation: str, **data: Any) -> None:
        """Emit a bulkhead event as a DEBUG record (nothing when filtered out)."""
        logger = _logging.logger
        if _logging.enabled(logging.DEBUG):
            pool = self.pool
            stats = pool.get_stats() if isinstance(pool, SyncResourcePool) else {}
            logger.debug(
                f"bulkhead.{operation}",
                extra={"bulkhead_name": self.name, "pool_stats": stats, **data},
            )

    def get_status(self) -> dict[str, Any]:
        """Get bulkhead status (sync only)."""
        if isinstance(self.pool, SyncResourcePool):
            return {"name": self.name, "pool": self.pool.get_stats()}
        return {"name": self.name, "pool": {}}

    async def get_status_async(self) -> dict[str, Any]:
        """Get bulkhead status (async)."""
        if isinstance(self.pool, AsyncResourcePool):
            return {"name": self.name, "pool": await self.pool.get_stats()}
        return {"name": self.name, "pool": self.pool.get_stats()}


class BulkheadManager:
    """Manager for multiple bulkheads with different resource pools."""

    def __init__(self) -> None:
        """Initialize bulkhead manager."""
        self._bulkheads: dict[str, Bulkhead] = {}
        self._lock = threading.RLock()

    def create_bulkhead(
        self,
        name: str,
        max_concurrent: int = DEFAULT_BULKHEAD_MAX_CONCURRENT,
        max_queue_size: int = DEFAULT_BULKHEAD_MAX_QUEUE_SIZE,
        timeout: float = DEFAULT_BULKHEAD_TIMEOUT,
        use_async_pool: bool = False,
    ) -> Bulkhead:
        """Create or get a bulkhead."""
        with self._lock:
            if name not in self._bulkheads:
                pool: SyncResourcePool | AsyncResourcePool
                if use_async_pool:
                    pool = AsyncResourcePool(
                        max_concurrent=max_concurrent,
                        max_queue_size=max_queue_size,
                        timeout=timeout,
                    )
                else:
                    pool = SyncResourcePool(
                        max_concurrent=max_concurrent,
                        max_queue_size=max_queue_size,
                        timeout=timeout,
                    )
                self._bulkheads[name] = Bulkhead(name=name, pool=pool)
            return self._bulkheads[name]

    def get_bulkhead(self, name: str) -> Bulkhead | None:
        """Get a bulkhead by name."""
        with self._lock:
            return self._bulkheads.get(name)

    def list_bulkheads(self) -> list[str]:
        """List all bulkhead names."""
        with self._lock:
            return list(self._bulkheads.keys())

    def get_all_status(self) -> dict[str, dict[str, Any]]:
        """Get status of all bulkheads."""
        with self._lock:
            return {name: bulkhead.get_status() for name, bulkhead in self._bulkheads.items()}

    def remove_bulkhead(self, name: str) -> bool:
        """Remove a bulkhead; True if removed, False if not found."""
        with self._lock:
            if name in self._bulkheads:
                del self._bulkheads[name]
                return True
            return False


# Global bulkhead manager
_bulkhead_manager = BulkheadManager()


def get_bulkhead_manager() -> BulkheadManager:
    """Get the global bulkhead manager."""
    return _bulkhead_manager


__all__ = [
    "AsyncResourcePool",
    "Bulkhead",
    "BulkheadManager",
    "SyncResourcePool",
    "get_bulkhead_manager",
]
