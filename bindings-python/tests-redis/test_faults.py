"""Redis slow, restarted empty, or gone for good — against a real
`redis-server` paused with SIGSTOP, killed and restarted. Per-call times are
measured only to show they are far below the Redis stall (no tight timing
is asserted)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from redis_server import RedisServer, wait_until
from resilience import AsyncCircuitBreaker, CircuitState, SyncCircuitBreaker
from resilience.redis import AsyncRedisStore, RedisStore

WINDOW = {"failure_ratio": 0.5, "minimum_throughput": 100_000, "sampling_duration": 60}


def store(url: str, closing: list[Any]) -> RedisStore:
    # The default 50 ms sync timeout: the bound on a slow Redis.
    s = RedisStore.from_url(url, prefix="f", sync_interval=0.1)
    closing.append(s)
    return s


def test_redis_paused_calls_flow_locally_then_resync_counting_each_call_once(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    s = store(redis_server.url, closing)
    breaker = SyncCircuitBreaker(**WINDOW, store=s, name="paused")
    wait_until(10, "synced", lambda: s.fleet_status(breaker).live)
    pause = 1.5
    stop = threading.Event()
    calls = [0]
    slowest = [0.0]

    def work() -> None:
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                breaker.call(_fails if i % 5 == 0 else _works)
            except ConnectionError:
                pass
            slowest[0] = max(slowest[0], time.perf_counter() - started)
            calls[0] += 1
            i += 1
            if i % 64 == 0:
                time.sleep(0.0002)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        time.sleep(0.3)
        redis_server.pause()
        before, paused_at = calls[0], time.monotonic()
        wait_until(pause, "the store reports degraded while Redis is stopped", lambda: s.metrics().degraded)
        assert not s.fleet_status(breaker).live, "decisions are local while Redis is stopped"
        time.sleep(max(0.0, pause - (time.monotonic() - paused_at)))
        during = calls[0] - before
        redis_server.resume()
        time.sleep(0.2)
    finally:
        stop.set()
        redis_server.resume()
        worker.join()
    assert during > 1000, f"calls kept flowing: {during}"
    assert slowest[0] < pause / 4, f"a call took {slowest[0]:.3f} s while Redis was stopped for {pause} s"
    wait_until(20, "resynced after SIGCONT", lambda: (lambda m: m.connected and not m.degraded)(s.metrics())
               and s.fleet_status(breaker).live)
    local = breaker.metrics()
    assert local.window_calls == calls[0], "every call is in the local window"
    s.sync_now()
    # A sync that timed out while Redis was stopped is sent again: its
    # sequence number keeps it from counting twice.
    wait_until(10, "the fleet's window holds every call once", lambda: (
        (lambda st: (st.calls, st.failures) == (local.window_calls, local.window_failures))(s.fleet_status(breaker))))
    assert s.metrics().failed_syncs >= 1


def _works() -> int:
    return 1


def _fails() -> int:
    raise ConnectionError("down")


def test_redis_restarted_empty_is_reseeded_with_each_window_and_open_break(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    s1, s2 = store(redis_server.url, closing), store(redis_server.url, closing)
    counting = SyncCircuitBreaker(**WINDOW, store=s1, name="counts")
    peer = SyncCircuitBreaker(**WINDOW, store=s2, name="counts")
    for i in range(7):
        try:
            counting.call(_fails if i < 3 else _works)
        except ConnectionError:
            pass
        peer.call(_works)
    wait_until(10, "the fleet holds both windows", lambda: (s1.fleet_status(counting).calls, s1.fleet_status(counting).failures) == (14, 3))
    opened = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=60, store=s1, name="opened")
    try:
        opened.call(_fails)
    except ConnectionError:
        pass
    wait_until(10, "the open key is set", lambda: int(redis_server.command("PTTL", "f:cb:{opened}:open")[1:]) > 0)

    redis_server.restart_empty()
    assert redis_server.command("DBSIZE") == b":0\r\n"
    wait_until(20, "both processes re-seeded", lambda: s1.metrics().reseeds >= 1 and s2.metrics().reseeds >= 1)
    wait_until(10, "the fleet's window holds both windows again", lambda: (
        s1.fleet_status(counting).live and (s1.fleet_status(counting).calls, s1.fleet_status(counting).failures) == (14, 3)))
    wait_until(10, "the open break is re-seeded", lambda: int(redis_server.command("PTTL", "f:cb:{opened}:open")[1:]) > 50_000)
    # A process that joins after the restart opens from the re-seeded key.
    s3 = store(redis_server.url, closing)
    late = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=60, store=s3, name="opened")
    wait_until(10, "a late joiner opens", lambda: late.state() == CircuitState.OPEN)


def test_redis_killed_for_good_decisions_stay_local_and_close_does_not_hang(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    s = store(redis_server.url, closing)
    breaker = SyncCircuitBreaker(failure_threshold=2, recovery_timeout=60, store=s, name="gone")
    wait_until(10, "synced", lambda: s.fleet_status(breaker).live)
    redis_server.kill()
    wait_until(5, "degraded", lambda: s.metrics().degraded and not s.metrics().connected)
    for _ in range(2):
        try:
            breaker.call(_fails)
        except ConnectionError:
            pass
    assert breaker.state() == CircuitState.OPEN, "local decisions: the breaker still trips"
    time.sleep(0.3)  # a few reconnect attempts
    started = time.monotonic()
    s.close()
    took = time.monotonic() - started
    assert took < 2, f"close took {took:.3f} s"
    assert breaker.state() == CircuitState.OPEN, "after close, the breaker keeps working on its own"
    assert "Connection" in (s.metrics().last_error or ""), s.metrics()
    # A store whose Redis never answered closes as promptly.
    unreachable = RedisStore.from_url(redis_server.url if redis_server.pid else "redis://127.0.0.1:1/0")
    SyncCircuitBreaker(store=unreachable, name="gone")
    time.sleep(0.1)
    started = time.monotonic()
    unreachable.close()
    assert time.monotonic() - started < 2


def test_close_does_not_wait_for_a_stopped_redis(redis_server: RedisServer, closing: list[Any]) -> None:
    s = store(redis_server.url, closing)
    breaker = SyncCircuitBreaker(**WINDOW, store=s, name="stuck")
    wait_until(10, "synced", lambda: s.fleet_status(breaker).live)
    redis_server.pause()
    try:
        s.sync_now()
        time.sleep(0.02)  # the sync thread is now waiting on Redis
        started = time.monotonic()
        s.close()
        took = time.monotonic() - started
    finally:
        redis_server.resume()
    assert took < 1, f"close took {took:.3f} s with Redis stopped"


def test_a_flushed_script_cache_costs_one_eval(redis_server: RedisServer, closing: list[Any]) -> None:
    # A generous sync timeout: on a loaded machine a timed-out sync reconnects
    # and loads the script afresh, which would hide the EVAL this test is about.
    s = RedisStore.from_url(redis_server.url, prefix="f", sync_interval=0.1, sync_timeout=2.0)
    closing.append(s)
    breaker = SyncCircuitBreaker(**WINDOW, store=s, name="flushed")
    wait_until(10, "synced", lambda: s.fleet_status(breaker).live)
    assert redis_server.command("SCRIPT", "FLUSH") == b"+OK\r\n"
    syncs = s.metrics().syncs
    wait_until(10, "synced again", lambda: s.metrics().syncs >= syncs + 2)
    assert redis_server.command_calls("eval") == 1, "one EVAL with the text, then EVALSHA again"
    assert not s.metrics().degraded


def test_asyncio_store_survives_a_pause_a_restart_and_a_kill(redis_server: RedisServer) -> None:
    async def main() -> None:
        s = AsyncRedisStore.from_url(redis_server.url, prefix="a", sync_interval=0.1)
        breaker = AsyncCircuitBreaker(**WINDOW, store=s, name="aio")

        async def until(what: str, condition: Any, within: float = 10) -> None:
            start = time.monotonic()
            while not condition():
                assert time.monotonic() - start < within, f"not within {within} s: {what}"
                await asyncio.sleep(0.005)

        await until("synced", lambda: s.fleet_status(breaker).live)
        # Paused: calls keep flowing on the loop, none waits on Redis.
        redis_server.pause()
        slowest, n = 0.0, 0
        try:
            paused = time.monotonic()
            while time.monotonic() - paused < 1.0:
                started = time.perf_counter()
                await breaker.call(_async_works)
                slowest = max(slowest, time.perf_counter() - started)
                n += 1
                if n % 50 == 0:
                    await asyncio.sleep(0.001)  # the sync task runs between calls
            await until("degraded while stopped", lambda: s.metrics().degraded, within=3)
        finally:
            redis_server.resume()
        assert slowest < 0.25, f"a call took {slowest:.3f} s while Redis was stopped"
        await until("resynced", lambda: s.metrics().connected and not s.metrics().degraded, within=20)
        # Restarted empty: re-seeded.
        redis_server.restart_empty()
        await until("re-seeded", lambda: s.metrics().reseeds >= 1 and s.fleet_status(breaker).live, within=20)
        assert s.fleet_status(breaker).calls == (await breaker.metrics()).window_calls
        # Killed for good: close returns promptly, no task left behind.
        redis_server.kill()
        await until("degraded", lambda: not s.metrics().connected)
        started = time.monotonic()
        await s.close()
        assert time.monotonic() - started < 2
        assert await breaker.call(_async_works) == 1
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not left, f"tasks left: {left}"

    asyncio.run(main())


async def _async_works() -> int:
    return 1
