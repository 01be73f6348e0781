"""Per-call overhead of a breaker, a rate limiter and a retry budget shared
through Redis (`resilience.redis`) against the same unshared, in one
process, side by side.

Interleaved: R rounds, each N calls through the local breaker then N
through the shared one (its store's sync thread running at the default
250 ms), the ratio per round, then the median ratio — a load spike hits
both sides alike. Starts its own redis-server (the test harness's).

    .venv/bin/python bench/python/redis_overhead.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings-python" / "tests-redis"))

from redis_server import RedisServer  # noqa: E402
from resilience import AsyncCircuitBreaker, RateLimiter, RetryBudget, SyncCircuitBreaker  # noqa: E402
from resilience.redis import RedisStore  # noqa: E402

ROUNDS, N = 31, 20_000
WINDOW = {"failure_ratio": 0.5, "minimum_throughput": 100, "sampling_duration": 30, "sampling_buckets": 10}


def ok() -> int:
    return 1


async def aok() -> int:
    return 1


def per_call_sync(breaker: SyncCircuitBreaker) -> float:
    call = breaker.call
    start = time.perf_counter_ns()
    for _ in range(N):
        call(ok)
    return (time.perf_counter_ns() - start) / N


async def per_call_async(breaker: AsyncCircuitBreaker) -> float:
    call = breaker.call
    start = time.perf_counter_ns()
    for _ in range(N):
        await call(aok)
    return (time.perf_counter_ns() - start) / N


def per_call(fn: object) -> float:
    call = fn
    start = time.perf_counter_ns()
    for _ in range(N):
        call()  # type: ignore[operator]
    return (time.perf_counter_ns() - start) / N


def load_rows(store: RedisStore) -> None:
    """A limiter no caller reaches (a lease of a whole burst: one early lease
    per 250,000 cells) and a budget with a floor no caller spends."""
    big = {"rate": 2**32 - 1, "burst": 1_000_000}
    local_l = RateLimiter(**big)
    shared_l = RateLimiter(**big, store=store, name="bench-limiter", lease_size=1_000_000)
    floor = {"min_retries_per_sec": 2**32 - 1}
    local_b = RetryBudget(**floor)
    shared_b = RetryBudget(**floor, store=store, name="bench-budget", lease_size=1_000_000)
    while not (store.lease_status(shared_l).live and store.lease_status(shared_b).live):
        time.sleep(0.01)
    for name, local, shared in (
        ("RateLimiter.try_acquire", local_l.try_acquire, shared_l.try_acquire),
        ("RetryBudget.deposit", local_b.deposit, shared_b.deposit),
        ("RetryBudget.try_withdraw", local_b.try_withdraw, shared_b.try_withdraw),
    ):
        l_ns, s_ns = [], []
        for _ in range(ROUNDS):
            l_ns.append(per_call(local))
            s_ns.append(per_call(shared))
        print(row(name, l_ns, s_ns))


def row(name: str, local: list[float], shared: list[float]) -> str:
    ratios = [s / l for l, s in zip(local, shared)]
    return (f"| {name} | {statistics.median(local):.0f} ns | {statistics.median(shared):.0f} ns "
            f"| **{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f}) |")


def main() -> None:
    server = RedisServer.start()
    store = RedisStore.from_url(server.url, prefix="bench")
    try:
        print("| scenario (closed success) | local | shared | shared / local, median of rounds (range) |")
        print("|---|---:|---:|---:|")
        for label, options in (("time window (30 s, 10 buckets)", WINDOW), ("consecutive rule", {})):
            local = SyncCircuitBreaker(**options)
            shared = SyncCircuitBreaker(**options, store=store, name=f"sync-{len(options)}")
            while not store.fleet_status(shared).live:
                time.sleep(0.01)
            l_ns, s_ns = [], []
            for _ in range(ROUNDS):
                l_ns.append(per_call_sync(local))
                s_ns.append(per_call_sync(shared))
            print(row(f"SyncCircuitBreaker.call, {label}", l_ns, s_ns))

            async def run_async() -> tuple[list[float], list[float]]:
                a_local = AsyncCircuitBreaker(**options)
                a_shared = AsyncCircuitBreaker(**options, store=store, name=f"async-{len(options)}")
                while not store.fleet_status(a_shared).live:
                    await asyncio.sleep(0.01)
                al, ash = [], []
                for _ in range(ROUNDS):
                    al.append(await per_call_async(a_local))
                    ash.append(await per_call_async(a_shared))
                return al, ash

            al, ash = asyncio.run(run_async())
            print(row(f"AsyncCircuitBreaker.call, {label}", al, ash))
        load_rows(store)
        m = store.metrics()
        print(f"\nstore: {m.syncs} syncs, {m.failed_syncs} failed, degraded={m.degraded}")
    finally:
        store.close()
        server.stop()


if __name__ == "__main__":
    main()
