"""Shared breakers against a real `redis-server`: several stores stand for
several processes (each has its own connections, sync thread or task and
instance id); `test_readme.py` and `redis/tests/cross` run separate
processes. No tight timing is asserted: only bounds far from the expected
values (propagation is milliseconds; the bound is two sync intervals)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from redis_server import RedisServer, wait_until
from resilience import AsyncCircuitBreaker, CircuitState, SyncCircuitBreaker, circuit_breaker
from resilience.redis import AsyncRedisStore, RedisStore

INTERVAL = 0.2
RATE = {"failure_ratio": 0.5, "minimum_throughput": 10, "sampling_duration": 20, "recovery_timeout": 30}


def store(url: str, closing: list[Any], **options: Any) -> RedisStore:
    # A generous sync timeout: this machine's cores are shared with builds,
    # and a sync that times out makes a process local for a while.
    s = RedisStore.from_url(url, prefix="t", sync_interval=INTERVAL, sync_timeout=0.25, **options)
    closing.append(s)
    return s


def live(s: Any, breaker: Any) -> bool:
    return bool(s.fleet_status(breaker).live)


def fail(breaker: SyncCircuitBreaker) -> None:
    def down() -> None:
        raise ConnectionError("down")

    try:
        breaker.call(down)
    except (ConnectionError, RuntimeError):
        pass


@pytest.mark.parametrize("subscribe", [True, False], ids=["events", "polling"])
def test_a_trip_opens_every_process_within_two_sync_intervals(
    redis_server: RedisServer, closing: list[Any], subscribe: bool
) -> None:
    stores = [store(redis_server.url, closing, subscribe=subscribe) for _ in range(3)]
    breakers = [SyncCircuitBreaker(**RATE, store=s, name="payments") for s in stores]
    wait_until(10, "every breaker synced", lambda: all(live(s, b) for s, b in zip(stores, breakers)))
    for _ in range(10):
        fail(breakers[0])
    assert breakers[0].state() == CircuitState.OPEN, "tripped on its own window"
    tripped = time.monotonic()
    for b in breakers[1:]:
        wait_until(10, "the others open", lambda b=b: b.state() == CircuitState.OPEN)
    took = time.monotonic() - tripped
    assert took <= 2 * INTERVAL, f"the fleet opened {took:.3f} s after the trip, more than two sync intervals"
    for s, b in zip(stores[1:], breakers[1:]):
        assert s.fleet_status(b).remote_opens == 1
        # A remote trip opens for what is left of the fleet's break.
        with pytest.raises(RuntimeError) as info:
            b.call(lambda: None)
        assert 25 < info.value.retry_after <= 30  # type: ignore[attr-defined]
    # One publish for one trip, whatever the fleet's size.
    assert sum(s.metrics().published for s in stores) == 1


def test_the_fleet_trips_on_totals_no_process_reaches_alone(redis_server: RedisServer, closing: list[Any]) -> None:
    sa, sb = store(redis_server.url, closing), store(redis_server.url, closing)
    a = SyncCircuitBreaker(**RATE, store=sa, name="search")
    b = SyncCircuitBreaker(**RATE, store=sb, name="search")
    wait_until(10, "both synced", lambda: live(sa, a) and live(sb, b))
    for _ in range(5):
        fail(a)
        fail(b)
    assert a.metrics().window_calls == 5  # below the minimum throughput of 10
    wait_until(10, "both open on the fleet's 10 of 10", lambda: a.state() == b.state() == CircuitState.OPEN)


class Dependency:
    """Counts the calls that reach it while it is down (every one a trial:
    the fleet is open or half-open until a trial succeeds), and how many of
    them run at once."""

    def __init__(self, healthy_after: int) -> None:
        self.lock = threading.Lock()
        self.healthy_after = healthy_after
        self.in_flight = 0
        self.most_at_once = 0
        self.trials = 0
        self.recovered = threading.Event()

    def __call__(self) -> str:
        with self.lock:
            if self.recovered.is_set():
                return "ok"
            self.trials += 1
            n = self.trials
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        time.sleep(0.1)
        with self.lock:
            self.in_flight -= 1
            if n > self.healthy_after:
                self.recovered.set()
                return "ok"
        raise ConnectionError("still down")


def test_the_fleet_sends_at_most_half_open_max_calls_trials(redis_server: RedisServer, closing: list[Any]) -> None:
    stores = [store(redis_server.url, closing) for _ in range(4)]
    # Real time: the fleet's break ends on Redis's clock, and the breakers must see it end too.
    breakers = [
        SyncCircuitBreaker(failure_threshold=1, recovery_timeout=0.4, half_open_max_calls=2, store=s, name="inventory")
        for s in stores
    ]
    wait_until(10, "every breaker synced", lambda: all(live(s, b) for s, b in zip(stores, breakers)))
    fail(breakers[0])
    wait_until(10, "the fleet is open", lambda: all(b.state() != CircuitState.CLOSED for b in breakers))
    dependency = Dependency(healthy_after=6)
    deadline = time.monotonic() + 20

    def caller(b: SyncCircuitBreaker) -> None:
        # Each "process" keeps calling until the dependency has recovered.
        while time.monotonic() < deadline and not dependency.recovered.is_set():
            try:
                b.call(dependency)
            except ConnectionError:
                pass
            except RuntimeError:  # rejected: open, or the fleet's trials are taken
                time.sleep(0.003)

    # Three callers per process: without fleet leases, 4 x 2 trials could run at once.
    threads = [threading.Thread(target=caller, args=(b,)) for b in breakers for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dependency.recovered.is_set(), f"the fleet probed until the dependency recovered ({dependency.trials} trials)"
    assert dependency.most_at_once <= 2, f"{dependency.most_at_once} trials ran at once; half_open_max_calls is 2"
    for b in breakers:
        wait_until(10, "every process closed", lambda b=b: b.state() == CircuitState.CLOSED)


def test_breakers_of_one_name_with_different_windows_stay_local_and_say_why(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    sa, sb = store(redis_server.url, closing), store(redis_server.url, closing)
    a = SyncCircuitBreaker(**RATE, store=sa, name="mixed")
    wait_until(10, "a synced", lambda: live(sa, a))
    b = SyncCircuitBreaker(**{**RATE, "sampling_duration": 5}, store=sb, name="mixed")
    wait_until(10, "b's sync refused", lambda: "window mismatch" in (sb.metrics().last_error or ""))
    assert sb.metrics().degraded and not live(sb, b)
    assert b.call(lambda: 1) == 1  # decisions stay local and keep working


def test_redis_commands_per_interval_stay_within_one_per_sync(redis_server: RedisServer, closing: list[Any]) -> None:
    s = store(redis_server.url, closing, subscribe=False)
    breakers = [SyncCircuitBreaker(**RATE, store=s, name=f"b{i}") for i in range(3)]
    wait_until(10, "synced", lambda: all(live(s, b) for b in breakers))
    before, started = redis_server.command_calls("evalsha"), time.monotonic()
    for _ in range(200):
        for b in breakers:
            b.call(lambda: None)  # calls never touch Redis
    time.sleep(1.0)
    calls = redis_server.command_calls("evalsha") - before
    elapsed = time.monotonic() - started
    # One script call per breaker per interval (plus one in flight at each end).
    assert calls <= len(breakers) * (elapsed / INTERVAL + 2), (calls, elapsed)
    m = s.metrics()
    assert m.connected and not m.degraded and m.syncs >= calls and m.connects == 1
    assert m.last_error is None


def test_the_store_checks_its_parameters(closing: list[Any]) -> None:
    from resilience.errors import ParameterValueError

    with pytest.raises(ParameterValueError) as info:
        RedisStore.from_url("redis://127.0.0.1:1/0", prefix="")
    assert (info.value.parameter, info.value.kind) == ("prefix", "too_small")
    with pytest.raises(ParameterValueError) as info:
        RedisStore.from_url("redis://127.0.0.1:1/0", sync_interval=0)
    assert info.value.parameter == "sync_interval"
    with pytest.raises(ParameterValueError) as info:
        RedisStore.from_url("redis://127.0.0.1:1/0", connect_timeout=0)
    assert info.value.parameter == "connect_timeout"
    with pytest.raises(ValueError):
        RedisStore.from_url("http://nowhere")
    # An unreachable Redis is not an error: the store starts degraded.
    unreachable = RedisStore.from_url("redis://127.0.0.1:1/0", connect_timeout=0.05)
    closing.append(unreachable)
    b = SyncCircuitBreaker(store=unreachable, name="x")
    assert unreachable.metrics().degraded and not live(unreachable, b)
    assert b.call(lambda: 2) == 2
    assert "prefix='resilience'" in repr(unreachable)
    unreachable.close()
    with pytest.raises(RuntimeError, match="closed"):
        SyncCircuitBreaker(store=unreachable, name="y")


def test_a_breaker_that_goes_away_stops_syncing(redis_server: RedisServer, closing: list[Any]) -> None:
    import gc

    s = store(redis_server.url, closing)
    b = SyncCircuitBreaker(**RATE, store=s, name="gone")
    wait_until(10, "synced", lambda: live(s, b))
    del b
    gc.collect()
    syncs = s.metrics().syncs
    time.sleep(3 * INTERVAL)
    assert s.metrics().syncs == syncs, "a collected breaker is not synced"


def test_the_decorator_and_both_store_kinds_share_one_breaker(redis_server: RedisServer, closing: list[Any]) -> None:
    """`@circuit_breaker(store=, name=)` on a sync and an async function, an
    `AsyncCircuitBreaker` on an `AsyncRedisStore` (a task on the loop), and
    a `SyncCircuitBreaker` on a thread store: one fleet."""
    thread_store = store(redis_server.url, closing)

    @circuit_breaker(failure_threshold=3, recovery_timeout=30, store=thread_store, name="orders")
    def sync_call() -> None:
        raise ConnectionError("down")

    async def main() -> float:
        async with AsyncRedisStore.from_url(redis_server.url, prefix="t", sync_interval=INTERVAL, sync_timeout=0.25) as s:
            assert s.sync_interval == INTERVAL and s.sync_timeout == 0.25 and s.prefix == "t"
            a = AsyncCircuitBreaker(failure_threshold=3, recovery_timeout=30, store=s, name="orders")

            @circuit_breaker(failure_threshold=3, recovery_timeout=30, store=s, name="orders")
            async def async_call() -> str:
                return "ok"

            breaker_of_decorated = async_call._breaker  # type: ignore[attr-defined]
            while not (s.fleet_status(a).live and s.fleet_status(breaker_of_decorated).live):
                await asyncio.sleep(0.01)
            assert await async_call() == "ok"
            wait_until(10, "the thread store synced", lambda: live(thread_store, sync_call._breaker))  # type: ignore[attr-defined]
            for _ in range(3):
                with pytest.raises(ConnectionError):
                    sync_call()
            tripped = time.monotonic()
            while await a.state() != CircuitState.OPEN or await breaker_of_decorated.state() != CircuitState.OPEN:
                assert time.monotonic() - tripped < 10, "the asyncio process never opened"
                await asyncio.sleep(0.002)
            took = time.monotonic() - tripped
            with pytest.raises(RuntimeError):
                await async_call()
            assert s.metrics().connected and s.metrics().subscribed
            return took

    took = asyncio.run(main())
    assert took <= 2 * INTERVAL, f"the asyncio store opened {took:.3f} s after the trip"


def test_without_redis_py_the_module_says_how_to_get_it() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "try:\n    import resilience.redis\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'resilience-rs[redis]'" in out
