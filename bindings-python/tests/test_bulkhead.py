"""Bulkheads: admission, FIFO queueing, timeouts, hand-over, no leaks."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from resilience import Bulkhead, BulkheadManager, get_bulkhead_manager
from resilience.bulkhead import AsyncResourcePool, SyncResourcePool


def test_acquires_up_to_max_concurrent_then_times_out() -> None:
    pool = SyncResourcePool(max_concurrent=2, max_queue_size=5, timeout=0.0)
    assert pool.acquire() and pool.acquire()
    assert pool.active_count() == 2 and pool.available_capacity() == 0
    assert pool.acquire() is False, "timeout 0: gives up at once"
    assert pool.queue_size() == 0, "the waiter left the queue"
    pool.release()
    assert pool.acquire(timeout=0)


def test_full_queue_is_an_immediate_error() -> None:
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=0, timeout=5.0)
    assert pool.acquire()
    with pytest.raises(RuntimeError, match=r"^Queue is full \(max: 0\)$"):
        pool.acquire()


def test_release_hands_the_slot_to_waiters_in_fifo_order() -> None:
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=10, timeout=30.0)
    assert pool.acquire()
    order: list[int] = []
    done = threading.Semaphore(0)

    def waiter(i: int) -> None:
        assert pool.acquire()
        order.append(i)
        done.release()

    threads = []
    for i in range(3):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        while pool.queue_size() < i + 1:  # let it queue first (order of arrival)
            time.sleep(0)  # yields the GIL; no real waiting
    for i in range(3):
        pool.release()
        assert done.acquire(timeout=10)
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2]
    assert pool.active_count() == 1
    pool.release()
    assert pool.active_count() == 0


class HandOverDuringTimeout(threading.Event):
    """A waiter's event whose wait times out just as a release hands it the
    slot: the race that leaks a slot in the original."""

    pool: SyncResourcePool

    def wait(self, timeout: float | None = None) -> bool:
        self.pool.release()  # the holder releases: the slot goes to this waiter...
        return False  # ...but the waiter has already timed out


def test_no_slot_leaks_when_a_timeout_races_a_hand_over() -> None:
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=1.0)
    HandOverDuringTimeout.pool = pool
    pool._new_event = HandOverDuringTimeout  # type: ignore[method-assign]
    assert pool.acquire()
    assert pool.acquire() is True, "the slot handed over is the waiter's"
    assert (pool.active_count(), pool.queue_size()) == (1, 0)
    pool.release()
    assert pool.active_count() == 0, "nothing leaked"


def test_interrupted_waiter_passes_a_granted_slot_on() -> None:
    class Interrupted(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            pool.release()
            raise KeyboardInterrupt

    pool = SyncResourcePool(max_concurrent=1, max_queue_size=1)
    pool._new_event = Interrupted  # type: ignore[method-assign]
    assert pool.acquire()
    with pytest.raises(KeyboardInterrupt):
        pool.acquire()
    assert pool.active_count() == 0


def test_an_interrupted_waiter_wakes_the_next_waiter_with_its_slot() -> None:
    # A holds the slot; B, then C, wait. A's release hands the slot to B,
    # whose wait is interrupted at that moment: B passes the slot on to C.
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=2)
    c_result: list[bool] = []
    c_thread = threading.Thread(target=lambda: c_result.append(pool.acquire()))

    class BWaits(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            c_thread.start()  # C queues behind B (on a real event)
            while pool.queue_size() < 2:
                time.sleep(0)
            pool.release()  # A releases: the slot goes to B...
            raise KeyboardInterrupt  # ...as B is interrupted

    events: list[type[threading.Event]] = [BWaits]
    pool._new_event = lambda: (events.pop() if events else threading.Event)()  # type: ignore[method-assign]
    assert pool.acquire()  # A
    with pytest.raises(KeyboardInterrupt):
        pool.acquire()  # B
    c_thread.join(10)
    assert c_result == [True], "C got the slot B gave up"
    assert (pool.active_count(), pool.queue_size()) == (1, 0)
    pool.release()
    assert pool.active_count() == 0


@pytest.mark.parametrize("cls", [SyncResourcePool, AsyncResourcePool])
def test_a_release_with_no_slot_held_changes_nothing(cls: Any) -> None:
    # As in the original (it decremented only a positive count); the core's
    # checked slots make sure it frees nothing.
    pool = cls(max_concurrent=1, max_queue_size=0)

    async def run() -> None:
        for _ in range(3):
            result = pool.release()
            if asyncio.iscoroutine(result):
                await result
        acquired = pool.acquire()
        assert (await acquired) if asyncio.iscoroutine(acquired) else acquired
        stats = pool.get_stats()
        stats = (await stats) if asyncio.iscoroutine(stats) else stats
        assert stats["active_count"] == 1

    asyncio.run(run())


def test_stats_shape() -> None:
    pool = SyncResourcePool(max_concurrent=4, max_queue_size=7)
    pool.acquire()
    assert pool.get_stats() == {
        "max_concurrent": 4,
        "active_count": 1,
        "available_capacity": 3,
        "waiting_count": 0,
        "max_queue_size": 7,
        "utilization": 0.25,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_concurrent": 0}, r"^invalid max_concurrent: must be an integer in 1\.\.=4294967295, got 0$"),
        ({"max_queue_size": -1}, r"^invalid max_queue_size: must be an integer in 0\.\.=4294967295, got -1$"),
        ({"timeout": float("nan")}, "^invalid timeout: .*, got nan$"),
        ({"timeout": float("inf")}, "^invalid timeout: .*, got inf$"),
        ({"timeout": 10**400}, "^invalid timeout: .*, got an integer above 2\\^127$"),
    ],
)
@pytest.mark.parametrize("cls", [SyncResourcePool, AsyncResourcePool])
def test_bad_configuration(cls: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


BAD_TIMEOUTS = [float("nan"), float("inf"), -1.0, 1e300, pytest.param(10**400, id="10**400")]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS)
def test_bad_per_call_timeout_is_a_value_error_sync(timeout: float) -> None:
    pool = SyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.0)
    assert pool.acquire()
    # Before: NaN returned False, inf and 1e300 raised OverflowError.
    with pytest.raises(ValueError, match=r"^invalid timeout: must be a number of seconds in 0\.\.=18446744073\.709551615, got "):
        pool.acquire(timeout=timeout)
    assert (pool.active_count(), pool.queue_size()) == (1, 0), "nothing taken, nothing queued"
    pool.release()
    with pytest.raises(ValueError, match="invalid timeout"):
        pool.acquire(timeout=timeout)
    assert pool.active_count() == 0, "validated before a free slot is taken"


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS)
def test_bad_per_call_timeout_is_a_value_error_async(timeout: float) -> None:
    async def main() -> None:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.0)
        assert await pool.acquire()
        # Before: NaN and inf waited forever.
        with pytest.raises(ValueError, match=r"^invalid timeout: must be a number of seconds in 0\.\.=18446744073\.709551615, got "):
            await asyncio.wait_for(pool.acquire(timeout=timeout), 5)
        assert (await pool.active_count(), await pool.queue_size()) == (1, 0)

    asyncio.run(main())


def test_a_timeout_longer_than_the_platform_can_wait_still_waits() -> None:
    # 1.5e10 s (475 years) is a valid duration (at most 2**64 ns, about 584
    # years) but beyond threading.TIMEOUT_MAX (about 292 years): the wait is
    # clamped instead of raising OverflowError.
    assert threading.TIMEOUT_MAX < 1.5e10
    waited: list[float | None] = []

    class Event(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waited.append(timeout)
            return False

    pool = SyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=1.5e10)
    pool._new_event = Event  # type: ignore[method-assign]
    assert pool.acquire()
    assert pool.acquire() is False
    assert pool.acquire(timeout=1.5e10) is False
    assert waited == [threading.TIMEOUT_MAX, threading.TIMEOUT_MAX]


def test_async_pool_queues_times_out_and_hands_over() -> None:
    async def main() -> None:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=2, timeout=0.0)
        assert await pool.acquire()
        assert await pool.acquire() is False
        assert await pool.queue_size() == 0
        waiter = asyncio.ensure_future(pool.acquire(timeout=30))
        await asyncio.sleep(0)
        assert await pool.queue_size() == 1
        await pool.release()
        assert await waiter is True
        assert await pool.active_count() == 1
        await pool.release()
        assert await pool.active_count() == 0
        assert asyncio.iscoroutinefunction(pool.acquire)

    asyncio.run(main())


def test_async_cancelled_waiter_leaks_nothing() -> None:
    async def main() -> None:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=2)
        assert await pool.acquire()
        waiter = asyncio.ensure_future(pool.acquire(timeout=30))
        await asyncio.sleep(0)
        await pool.release()  # hands the slot to the waiter...
        waiter.cancel()  # ...which is cancelled before it resumes
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await pool.active_count() == 0
        assert await pool.queue_size() == 0

    asyncio.run(main())


def test_async_full_queue() -> None:
    async def main() -> None:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=0)
        assert await pool.acquire()
        with pytest.raises(RuntimeError, match="Queue is full"):
            await pool.acquire()

    asyncio.run(main())


def test_bulkhead_execute_sync_and_async() -> None:
    bulkhead = Bulkhead(name="db", pool=SyncResourcePool(max_concurrent=1, timeout=0.0))
    assert bulkhead.execute(lambda x: x + 1, 1) == 2
    with pytest.raises(KeyError):
        bulkhead.execute(lambda: {}["x"])
    assert bulkhead.get_status() == {"name": "db", "pool": bulkhead.pool.get_stats()}
    assert bulkhead.pool.active_count() == 0  # type: ignore[union-attr]

    def nested() -> None:
        bulkhead.execute(lambda: None)

    with pytest.raises(RuntimeError, match="^Bulkhead 'db' is at capacity$"):
        bulkhead.execute(nested)
    with pytest.raises(TypeError, match="Async execution requires AsyncResourcePool"):
        asyncio.run(bulkhead.execute_async(_async_one))

    async_bulkhead = Bulkhead(name="api", pool=AsyncResourcePool(max_concurrent=2))
    assert asyncio.run(async_bulkhead.execute_async(_async_one)) == 1
    with pytest.raises(TypeError, match="Sync execution requires SyncResourcePool"):
        async_bulkhead.execute(lambda: None)


async def _async_one() -> int:
    return 1


def test_manager() -> None:
    manager = BulkheadManager()
    a = manager.create_bulkhead("a", max_concurrent=3)
    assert manager.create_bulkhead("a") is a
    b = manager.create_bulkhead("b", use_async_pool=True)
    assert isinstance(b.pool, AsyncResourcePool) and isinstance(a.pool, SyncResourcePool)
    assert manager.list_bulkheads() == ["a", "b"]
    assert manager.get_all_status()["a"]["pool"]["max_concurrent"] == 3
    assert manager.remove_bulkhead("a") and not manager.remove_bulkhead("a")
    assert manager.get_bulkhead("a") is None
    assert get_bulkhead_manager() is get_bulkhead_manager()


def test_async_timeout_racing_a_hand_over_keeps_the_slot() -> None:
    async def main() -> None:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=1)
        assert await pool.acquire()
        loop = asyncio.get_running_loop()
        waiter = asyncio.ensure_future(pool.acquire(timeout=0))
        await asyncio.sleep(0)  # queued; its timeout timer is due on the next loop pass
        # Due in the same pass, after the timer: the holder releases and the
        # slot goes to the waiter whose timeout has just fired.
        loop.call_later(0, pool._release)  # the body of `await pool.release()`, run in that pass
        assert await waiter is True, "the handed-over slot is the waiter's"
        assert (await pool.active_count(), await pool.queue_size()) == (1, 0)
        await pool.release()
        assert await pool.active_count() == 0

    asyncio.run(main())
