"""Shared rate limiters and retry budgets against a real `redis-server`:
the fleet bound across stores and across processes, the fleet's budget,
the asyncio store, Redis paused (SIGSTOP), restarted empty and killed,
commands per interval, and option errors. No tight timing is asserted:
only bounds far from the expected values."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest

from redis_server import RedisServer, wait_until
from resilience import RateLimiter, RetryBudget, RetryPolicy
from resilience.errors import ParameterTypeError, ParameterValueError
from resilience.redis import AsyncRedisStore, LeaseStatus, RedisStore


def store(url: str, closing: list[Any], **options: Any) -> RedisStore:
    options.setdefault("sync_timeout", 0.25)
    s = RedisStore.from_url(url, prefix="l", sync_interval=0.1, **options)
    closing.append(s)
    return s


def live(s: Any, shared: Any) -> bool:
    return bool(s.lease_status(shared).live)


def test_stores_share_one_limiter_within_the_bound(redis_server: RedisServer, closing: list[Any]) -> None:
    ss = [store(redis_server.url, closing) for _ in range(3)]
    limiters = [RateLimiter(rate=100, burst=10, store=s, name="search") for s in ss]
    wait_until(10, "every limiter synced", lambda: all(live(s, lim) for s, lim in zip(ss, limiters)))
    status = ss[0].lease_status(limiters[0])
    assert isinstance(status, LeaseStatus) and status.lease_size == 3, "a quarter of the burst, rounded up"
    admitted = 0
    started = time.monotonic()
    while time.monotonic() - started < 2:
        admitted += sum(lim.try_acquire() for lim in limiters)
        time.sleep(0.001)
    seconds = time.monotonic() - started
    bound = 10 + 100 * seconds + 3 * 3
    assert admitted <= bound, f"the fleet admitted {admitted} in {seconds:.3f} s (bound {bound:.0f})"
    assert admitted >= 0.5 * 100 * seconds, f"the fleet admitted only {admitted}"
    assert all(s.lease_status(lim).fleet_size == 3 for s, lim in zip(ss, limiters))


PEER = """
import sys, time
from resilience import RateLimiter
from resilience.redis import RedisStore
store = RedisStore.from_url(sys.argv[1], prefix="peers", sync_interval=0.1, sync_timeout=0.25)
search = RateLimiter(rate=100, burst=10, store=store, name="search")
while not store.lease_status(search).live:
    time.sleep(0.005)
print("ready", flush=True)
ms = int(sys.stdin.readline().split()[1])
until, admitted = time.monotonic() + ms / 1000, 0
while time.monotonic() < until:
    admitted += search.try_acquire()
    time.sleep(0.001)
print(f"admitted {admitted}", flush=True)
store.close()
"""


def test_two_processes_share_one_limiter_within_the_bound(redis_server: RedisServer) -> None:
    peers = [
        subprocess.Popen(
            [sys.executable, "-c", PEER, redis_server.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        assert [p.stdout.readline().strip() for p in peers if p.stdout] == ["ready", "ready"]
        for p in peers:
            assert p.stdin is not None
            p.stdin.write("go 2000\n")
            p.stdin.flush()
        answers = [p.stdout.readline() for p in peers if p.stdout]
    finally:
        for p in peers:
            p.wait(20)
    admitted = sum(int(a.split()[1]) for a in answers)
    bound = 10 + 100 * 2.1 + 2 * 3  # 0.1 s of slack for the two starts
    assert admitted <= bound, f"two processes admitted {admitted} (bound {bound})"
    assert admitted >= 100, f"two processes admitted only {admitted}"


def test_a_shared_budget_grants_only_what_the_fleet_earned(redis_server: RedisServer, closing: list[Any]) -> None:
    a, b = store(redis_server.url, closing), store(redis_server.url, closing)
    options: dict[str, Any] = {"min_retries_per_sec": 0, "retry_ratio": 0.5, "lease_size": 2, "name": "payments"}
    in_a, in_b = RetryBudget(store=a, **options), RetryBudget(store=b, **options)
    wait_until(10, "both synced", lambda: live(a, in_a) and live(b, in_b))
    for _ in range(10):
        in_a.deposit()

    def drain(budget: RetryBudget) -> int:
        granted, until = 0, time.monotonic() + 1
        while time.monotonic() < until:
            granted += budget.try_withdraw()
            time.sleep(0.005)
        return granted

    from_b = drain(in_b)
    from_a = drain(in_a)
    assert from_a + from_b == 5, f"ten first attempts earn five retries (A {from_a}, B {from_b})"
    assert from_b > 0, "B retries on what the fleet earned"
    assert RetryPolicy(max_attempts=3, budget=in_b).budget is in_b


def test_the_asyncio_store_leases_too(redis_server: RedisServer) -> None:
    async def main() -> None:
        async with AsyncRedisStore.from_url(redis_server.url, prefix="a", sync_interval=0.1, sync_timeout=0.25) as s:
            limiter = RateLimiter(rate=50, burst=10, store=s, name="search")
            budget = RetryBudget(store=s, name="payments")
            deadline = time.monotonic() + 10
            while not (live(s, limiter) and live(s, budget)):
                assert time.monotonic() < deadline, "never synced"
                await asyncio.sleep(0.01)
            admitted = 0
            started = time.monotonic()
            while time.monotonic() - started < 1:
                admitted += limiter.try_acquire()
                await asyncio.sleep(0.001)
            assert 10 <= admitted <= 10 + 50 * (time.monotonic() - started) + 3
            assert s.lease_status(limiter).granted >= admitted - 3

    asyncio.run(main())


def test_redis_paused_calls_flow_locally_then_lease_again(redis_server: RedisServer, closing: list[Any]) -> None:
    s = store(redis_server.url, closing, sync_timeout=0.05)
    limiter = RateLimiter(rate=2000, burst=100, store=s, name="search")
    budget = RetryBudget(store=s, name="payments")
    wait_until(10, "synced", lambda: live(s, limiter) and live(s, budget))
    redis_server.pause()
    try:
        admitted, slowest, degraded = 0, 0.0, False
        paused_at = time.monotonic()
        while time.monotonic() - paused_at < 1.5:
            started = time.perf_counter()
            admitted += limiter.try_acquire()
            budget.deposit()
            budget.try_withdraw()
            slowest = max(slowest, time.perf_counter() - started)
            degraded = degraded or s.metrics().degraded
            time.sleep(0.0005)
        assert degraded, "degraded while Redis is stopped"
        assert not live(s, limiter), "local while stopped"
    finally:
        redis_server.resume()
    assert admitted > 100, f"calls kept flowing ({admitted})"
    assert slowest < 1.5 / 4, f"a call took {slowest:.3f} s"
    wait_until(20, "leasing again after SIGCONT", lambda: (lambda m: m.connected and not m.degraded)(s.metrics())
               and live(s, limiter) and live(s, budget))


def test_redis_restarted_empty_then_killed(redis_server: RedisServer, closing: list[Any]) -> None:
    s = store(redis_server.url, closing)
    limiter = RateLimiter(rate=100, burst=10, store=s, name="search")
    budget = RetryBudget(store=s, name="payments")
    wait_until(10, "synced", lambda: live(s, limiter) and live(s, budget))
    redis_server.restart_empty()
    wait_until(20, "the keys recreated", lambda: b":1" in redis_server.command("EXISTS", "l:rl:{search}:gcra")
               and b":1" in redis_server.command("EXISTS", "l:rb:{payments}:meta"))
    wait_until(10, "live again", lambda: live(s, limiter) and live(s, budget))
    redis_server.kill()
    wait_until(10, "degraded", lambda: s.metrics().degraded)
    limiter.try_acquire()
    budget.try_withdraw()
    started = time.monotonic()
    s.close()
    assert time.monotonic() - started < s.sync_timeout + 0.5


def test_one_command_per_interval_plus_one_per_lease(redis_server: RedisServer, closing: list[Any]) -> None:
    s = store(redis_server.url, closing, subscribe=False)
    limiter = RateLimiter(rate=2000, burst=100, store=s, name="busy")
    wait_until(10, "synced", lambda: live(s, limiter))

    def calls() -> int:
        return sum(redis_server.command_calls(c) for c in ("evalsha", "eval", "script|load"))

    before, early_before = calls(), s.lease_status(limiter).early_leases
    started = time.monotonic()
    admitted = 0
    while time.monotonic() - started < 2:
        admitted += limiter.try_acquire()
        time.sleep(0.001)
    seconds = time.monotonic() - started
    commands = calls() - before
    status = s.lease_status(limiter)
    leases = status.early_leases - early_before
    by_interval = int(seconds / 0.1) + 2
    assert admitted > 500
    assert commands <= by_interval + leases, f"{commands} commands: more than {by_interval} + {leases} leases"


def test_options_store_and_name_go_together_and_lease_size_is_checked(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    s = store(redis_server.url, closing)
    cases: list[tuple[Any, str, str, type]] = [
        (lambda: RateLimiter(store=s), "store", "requires_other", ParameterValueError),
        (lambda: RateLimiter(name="search"), "name", "requires_other", ParameterValueError),
        (lambda: RateLimiter(lease_size=2), "lease_size", "requires_other", ParameterValueError),
        (lambda: RateLimiter(burst=10, lease_size=11, store=s, name="x"), "lease_size", "too_large", ParameterValueError),
        (lambda: RateLimiter(lease_size=0, store=s, name="x"), "lease_size", "too_small", ParameterValueError),
        (lambda: RateLimiter(lease_size=2.5, store=s, name="x"), "lease_size", "not_an_integer", ParameterTypeError),
        (lambda: RetryBudget(store=s), "store", "requires_other", ParameterValueError),
        (lambda: RetryBudget(name="payments"), "name", "requires_other", ParameterValueError),
        (lambda: RetryBudget(lease_size=2), "lease_size", "requires_other", ParameterValueError),
        (lambda: RetryBudget(lease_size="2", store=s, name="x"), "lease_size", "wrong_type", ParameterTypeError),
        (lambda: RetryBudget(store=s, name=""), "name", "too_small", ParameterValueError),
    ]
    for make, parameter, kind, error in cases:
        with pytest.raises(error) as info:
            make()
        assert (info.value.parameter, info.value.kind) == (parameter, kind)
    with pytest.raises(ValueError):
        s.lease_status(RateLimiter())


def test_a_shared_limiter_that_goes_away_stops_syncing(redis_server: RedisServer, closing: list[Any]) -> None:
    s = store(redis_server.url, closing)
    limiter = RateLimiter(rate=100, burst=10, store=s, name="gone")
    wait_until(10, "synced", lambda: live(s, limiter))
    del limiter
    import gc

    gc.collect()
    wait_until(5, "no entry left", lambda: not s._live_entries())


