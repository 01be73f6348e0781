"""Python benchmarks: `resilience` against a bare call, provide-foundation
0.4.10, tenacity, circuitbreaker, pybreaker and limits — one process, interleaved
rounds, medians of paired differences. Failure-rate (window) breakers have
no Python peer: they are measured against our own consecutive breaker.

    .venv/bin/python bench/python/bench.py --out bench/python/RESULTS.md

Every contestant runs with its library's default logging configuration
(stderr is sent to /dev/null so terminal speed does not count). Overheads
are per call, over the bare call measured in the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import platform
import statistics
import sys
import threading
import time
from typing import Any, Callable

import circuitbreaker
import limits
import pybreaker
import tenacity
from provide.foundation import resilience as pf
from provide.foundation.resilience.decorators import fallback as pf_fallback  # pf.fallback is the submodule

import resilience as rs
from resilience.bulkhead import Bulkhead  # noqa: F401  (import cost only)

Op = Callable[[], Any]


def noop_sleep(_: float) -> None:
    return None


async def async_noop_sleep(_: float) -> None:
    return None


def target() -> int:
    return 1


class TwoFailures:
    """Fails twice, then succeeds; cyclic, so every operation is the same script."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        if self.n % 3:
            raise ConnectionError("flaky")
        return 1


class Boom(Exception):
    pass


def primary() -> int:
    raise Boom("primary down")


def backup() -> int:
    return 2


# --- scenarios: name -> (bare op, {contestant: op}) ------------------------------


def s1() -> tuple[Op, dict[str, Op]]:
    # Issue 13: the executor entry point beside the decorator, each library's
    # default policy (as `@retry` bare uses).
    rs_executor = rs.RetryExecutor(rs.RetryPolicy())
    pf_executor = pf.RetryExecutor(pf.RetryPolicy())
    return target, {
        "resilience @retry": rs.retry(target),
        "resilience RetryExecutor.execute_sync": functools.partial(rs_executor.execute_sync, target),
        "provide-foundation @retry": pf.retry(target),
        "provide-foundation RetryExecutor.execute_sync": functools.partial(pf_executor.execute_sync, target),
        "tenacity @retry": tenacity.retry(stop=tenacity.stop_after_attempt(3))(target),
    }


def s2() -> tuple[Op, dict[str, Op]]:
    bare_script = TwoFailures()

    def bare() -> int:
        for _ in range(3):
            try:
                return bare_script()
            except ConnectionError:
                pass
        raise AssertionError

    return bare, {
        "resilience @retry": rs.retry(max_attempts=3, sleep_func=noop_sleep)(TwoFailures()),
        "resilience RetryExecutor.execute_sync": functools.partial(
            rs.RetryExecutor(rs.RetryPolicy(max_attempts=3), sleep_func=noop_sleep).execute_sync, TwoFailures()
        ),
        "provide-foundation @retry": pf.retry(max_attempts=3, sleep_func=noop_sleep)(TwoFailures()),
        "provide-foundation RetryExecutor.execute_sync": functools.partial(
            pf.RetryExecutor(pf.RetryPolicy(max_attempts=3), sleep_func=noop_sleep).execute_sync, TwoFailures()
        ),
        "tenacity @retry": tenacity.retry(stop=tenacity.stop_after_attempt(3), sleep=noop_sleep)(TwoFailures()),
    }


def s3() -> tuple[Op, dict[str, Op]]:
    rs_breaker = rs.SyncCircuitBreaker()
    pf_breaker = pf.SyncCircuitBreaker()
    py_breaker = pybreaker.CircuitBreaker()
    return target, {
        "resilience breaker.call": functools.partial(rs_breaker.call, target),
        "resilience @circuit_breaker": rs.circuit_breaker()(target),
        "provide-foundation breaker.call": functools.partial(pf_breaker.call, target),
        "provide-foundation @circuit_breaker": pf.circuit_breaker()(target),
        "circuitbreaker @circuit": circuitbreaker.circuit()(target),
        "pybreaker breaker.call": functools.partial(py_breaker.call, target),
        "pybreaker @breaker": py_breaker(target),
    }


def _rejecting(call: Op, errors: tuple[type[BaseException], ...]) -> Op:
    def op() -> None:
        try:
            call()
        except errors:
            pass
        else:
            raise AssertionError("the breaker should be open")

    return op


def _trip(call: Op) -> None:
    for _ in range(3):
        try:
            call()
        except Exception:
            pass


def s4() -> tuple[Op, dict[str, Op]]:
    rs_breaker = rs.SyncCircuitBreaker(failure_threshold=1, recovery_timeout=3600.0)
    pf_breaker = pf.SyncCircuitBreaker(failure_threshold=1, recovery_timeout=3600.0)
    py_breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=3600)
    cb_state = {"fail": True}

    @circuitbreaker.circuit(failure_threshold=1, recovery_timeout=3600)
    def cb_target() -> int:
        if cb_state["fail"]:
            raise Boom
        return 1

    # Issue 13: the decorator forms too, tripped through their own calls.
    state = {"fail": True}

    def flipping() -> int:
        if state["fail"]:
            raise Boom
        return 1

    rs_decorated = rs.circuit_breaker(failure_threshold=1, recovery_timeout=3600.0)(flipping)
    pf_decorated = pf.circuit_breaker(failure_threshold=1, recovery_timeout=3600.0)(flipping)
    _trip(rs_decorated)
    _trip(pf_decorated)
    _trip(lambda: rs_breaker.call(primary))
    _trip(lambda: pf_breaker.call(primary))
    _trip(lambda: py_breaker.call(primary))
    _trip(cb_target)
    cb_state["fail"] = False
    state["fail"] = False

    def bare() -> None:
        raise RuntimeError("Circuit breaker is open")

    # The bare call here raises the same error itself, caught the same way:
    # the overhead is the cost of deciding to reject.
    return _rejecting(bare, (RuntimeError,)), {
        "resilience breaker.call": _rejecting(functools.partial(rs_breaker.call, target), (RuntimeError,)),
        "resilience @circuit_breaker": _rejecting(rs_decorated, (RuntimeError,)),
        "provide-foundation breaker.call": _rejecting(functools.partial(pf_breaker.call, target), (RuntimeError,)),
        "provide-foundation @circuit_breaker": _rejecting(pf_decorated, (RuntimeError,)),
        "circuitbreaker @circuit": _rejecting(cb_target, (circuitbreaker.CircuitBreakerError,)),
        "pybreaker breaker.call": _rejecting(
            functools.partial(py_breaker.call, target), (pybreaker.CircuitBreakerError,)
        ),
    }


def s5() -> tuple[Op, dict[str, Op]]:
    def bare() -> int:
        try:
            return primary()
        except Boom:
            return backup()

    rs_chain = rs.FallbackChain(fallbacks=[backup])
    pf_chain = pf.FallbackChain(fallbacks=[backup])
    quiet = rs.fallback(backup)(primary)
    return bare, {
        "resilience FallbackChain.execute": functools.partial(rs_chain.execute, primary),
        "resilience @fallback": rs.fallback(backup)(primary),
        "resilience @fallback (logger level ERROR)": _with_quiet_logger(quiet),
        "provide-foundation FallbackChain.execute": functools.partial(pf_chain.execute, primary),
        "provide-foundation @fallback": pf_fallback(backup)(primary),
    }


def _with_quiet_logger(op: Op) -> Op:
    op.quiet_logger = True  # type: ignore[attr-defined]
    return op


async def async_target() -> int:
    return 1


def s6() -> tuple[Op, dict[str, Op]]:
    rs_breaker = rs.AsyncCircuitBreaker()
    pf_breaker = pf.AsyncCircuitBreaker()
    rs_executor = rs.RetryExecutor(rs.RetryPolicy())
    pf_executor = pf.RetryExecutor(pf.RetryPolicy())
    return async_target, {
        "resilience @retry (async)": rs.retry(async_target),
        "resilience RetryExecutor.execute_async": functools.partial(rs_executor.execute_async, async_target),
        "provide-foundation RetryExecutor.execute_async": functools.partial(pf_executor.execute_async, async_target),
        "provide-foundation @retry (async)": pf.retry(async_target),
        "tenacity @retry (async)": tenacity.retry(stop=tenacity.stop_after_attempt(3))(async_target),
        "resilience AsyncCircuitBreaker.call": functools.partial(rs_breaker.call, async_target),
        "resilience @circuit_breaker (async)": rs.circuit_breaker()(async_target),
        "provide-foundation @circuit_breaker (async)": pf.circuit_breaker()(async_target),
        "provide-foundation AsyncCircuitBreaker.call": functools.partial(pf_breaker.call, async_target),
        "circuitbreaker @circuit (async)": circuitbreaker.circuit()(async_target),
    }


def _window_breakers(cls: Any) -> dict[str, Any]:
    """A consecutive breaker and window breakers of one class, each with the
    default clock (time.monotonic, read through Python when needed)."""
    return {
        "consecutive": cls(),
        "time window": cls(failure_ratio=0.5, sampling_duration=30.0, sampling_buckets=10),
        "count window": cls(failure_ratio=0.5, window_size=100),
    }


def s8() -> tuple[Op, dict[str, Op]]:
    breakers = _window_breakers(rs.SyncCircuitBreaker)
    rows: dict[str, Op] = {
        f"resilience breaker.call ({kind})": functools.partial(b.call, target) for kind, b in breakers.items()
    }
    rows["resilience @circuit_breaker (time window)"] = rs.circuit_breaker(failure_ratio=0.5)(target)
    return target, rows


def s9() -> tuple[Op, dict[str, Op]]:
    breakers = _window_breakers(rs.AsyncCircuitBreaker)
    rows: dict[str, Op] = {
        f"resilience AsyncCircuitBreaker.call ({kind})": functools.partial(b.call, async_target)
        for kind, b in breakers.items()
    }
    rows["resilience @circuit_breaker (async, time window)"] = rs.circuit_breaker(failure_ratio=0.5)(async_target)
    return async_target, rows


def s10() -> tuple[Op, dict[str, Op]]:
    consecutive = rs.SyncCircuitBreaker()
    window = rs.SyncCircuitBreaker(failure_ratio=0.5, sampling_duration=30.0, sampling_buckets=10)
    for _ in range(1000):
        window.call(target)
    return target, {
        "resilience breaker.metrics() (consecutive)": consecutive.metrics,
        "resilience breaker.metrics() (time window)": window.metrics,
        "resilience breaker.snapshot() (consecutive)": consecutive.snapshot,
        "resilience breaker.snapshot() (time window)": window.snapshot,
    }


def s11() -> tuple[Op, dict[str, Op]]:
    """Issue 10: an attempt timeout in the async retry loop vs the same loop
    with `asyncio.timeout` written by hand around the call."""
    timed = rs.RetryExecutor(rs.RetryPolicy(attempt_timeout=5.0))
    plain = rs.RetryExecutor(rs.RetryPolicy())

    async def by_hand() -> int:
        async with asyncio.timeout(5.0):
            return await async_target()

    return async_target, {
        "resilience execute_async (attempt_timeout)": functools.partial(timed.execute_async, async_target),
        "execute_async + asyncio.timeout by hand": functools.partial(plain.execute_async, by_hand),
    }


def _retry_and_breaker(breaker: Any) -> tuple[Any, Any]:
    pipeline = rs.Pipeline.builder().retry(rs.RetryPolicy()).breaker(breaker).build()
    return pipeline, rs.RetryExecutor(rs.RetryPolicy())


def s12() -> tuple[Op, dict[str, Op]]:
    """Issue 10: a pipeline of retry ∘ breaker vs the same strategies nested by hand."""
    breaker = rs.SyncCircuitBreaker()
    pipeline, executor = _retry_and_breaker(breaker)
    return target, {
        "resilience Pipeline(retry, breaker).execute_sync": functools.partial(pipeline.execute_sync, target),
        "nested by hand: execute_sync(breaker.call, f)": functools.partial(executor.execute_sync, breaker.call, target),
    }


def s13() -> tuple[Op, dict[str, Op]]:
    breaker = rs.AsyncCircuitBreaker()
    pipeline, executor = _retry_and_breaker(breaker)
    return async_target, {
        "resilience Pipeline(retry, breaker).execute_async": functools.partial(pipeline.execute_async, async_target),
        "nested by hand: execute_async(breaker.call, f)": functools.partial(executor.execute_async, breaker.call, async_target),
    }


def s14() -> tuple[Op, dict[str, Op]]:
    """Issue 11: a rate limiter's try-acquire (always granted: a rate no test reaches)."""
    limiter = rs.RateLimiter(rate=4_000_000_000, per=1.0, burst=4_000_000_000)
    item = limits.RateLimitItemPerSecond(4_000_000_000)
    moving = limits.strategies.MovingWindowRateLimiter(limits.storage.MemoryStorage())
    fixed = limits.strategies.FixedWindowRateLimiter(limits.storage.MemoryStorage())
    return target, {
        "resilience RateLimiter.try_acquire()": limiter.try_acquire,
        "limits FixedWindowRateLimiter.hit": functools.partial(fixed.hit, item),
        "limits MovingWindowRateLimiter.hit": functools.partial(moving.hit, item),
    }


def s15() -> tuple[Op, dict[str, Op]]:
    """Issue 11: a retry with a budget on the success path (a deposit per call) vs without."""
    budget = rs.RetryBudget()
    return target, {
        "resilience @retry (budget)": rs.retry(policy=rs.RetryPolicy(budget=budget))(target),
        "resilience @retry": rs.retry(target),
    }


SCENARIOS: dict[str, Callable[[], tuple[Op, dict[str, Op]]]] = {
    "S1 @retry, success": s1,
    "S2 two failures then success (no-op sleep)": s2,
    "S3 breaker closed": s3,
    "S4 breaker open (rejection raised and caught)": s4,
    "S5 fallback (primary fails, fallback answers)": s5,
    "S6 async (awaited)": s6,
    "S8 breaker closed: time window vs consecutive": s8,
    "S9 async breaker closed: time window vs consecutive": s9,
    "S10 breaker metrics and snapshot (no target)": s10,
    "S11 async attempt timeout vs asyncio.timeout by hand": s11,
    "S12 pipeline retry ∘ breaker vs nested by hand": s12,
    "S13 async pipeline retry ∘ breaker vs nested by hand": s13,
    "S14 rate limiter try-acquire (granted)": s14,
    "S15 retry success path with a budget vs without": s15,
}
ASYNC = {
    "S6 async (awaited)",
    "S9 async breaker closed: time window vs consecutive",
    "S11 async attempt timeout vs asyncio.timeout by hand",
    "S13 async pipeline retry ∘ breaker vs nested by hand",
}


# --- timing -------------------------------------------------------------------------


def time_sync(op: Op, n: int) -> float:
    quiet = getattr(op, "quiet_logger", False)
    logger = logging.getLogger("resilience")
    if quiet:
        logger.setLevel(logging.ERROR)
    try:
        start = time.perf_counter_ns()
        for _ in range(n):
            op()
        return (time.perf_counter_ns() - start) / n
    finally:
        if quiet:
            logger.setLevel(logging.NOTSET)


def time_async(loop: asyncio.AbstractEventLoop, op: Op, n: int) -> float:
    async def many() -> float:
        start = time.perf_counter_ns()
        for _ in range(n):
            await op()
        return (time.perf_counter_ns() - start) / n

    return loop.run_until_complete(many())


def calibrate(timer: Callable[[Op, int], float], op: Op, budget_ns: float) -> int:
    per_call = timer(op, 200)
    return max(200, int(budget_ns / max(per_call, 1.0)))


def run_scenarios(rounds: int, budget_ns: float) -> dict[str, list[tuple[str, float, float]]]:
    loop = asyncio.new_event_loop()
    results: dict[str, list[tuple[str, float, float]]] = {}
    for name, build in SCENARIOS.items():
        bare, contestants = build()
        timer: Callable[[Op, int], float]
        if name in ASYNC:
            timer = lambda op, n: time_async(loop, op, n)  # noqa: E731
        else:
            timer = time_sync
        entries = [("bare call", bare), *contestants.items()]
        sizes = {label: calibrate(timer, op, budget_ns) for label, op in entries}
        samples: dict[str, list[float]] = {label: [] for label, _ in entries}
        diffs: dict[str, list[float]] = {label: [] for label, _ in entries}
        for r in range(rounds):
            # Interleaved: every round measures every contestant, in a rotated order.
            order = entries[r % len(entries) :] + entries[: r % len(entries)]
            round_times = {label: timer(op, sizes[label]) for label, op in order}
            for label, t in round_times.items():
                samples[label].append(t)
                diffs[label].append(t - round_times["bare call"])
        results[name] = [
            (label, statistics.median(samples[label]), statistics.median(diffs[label])) for label, _ in entries
        ]
        print(f"done: {name}", file=sys.__stdout__, flush=True)
    loop.close()
    return results


def s7(threads_list: list[int], calls: int) -> list[tuple[str, list[float]]]:
    """ns per call, aggregate over all threads, one breaker shared by T threads."""
    contestants: dict[str, Op] = {}
    rs_breaker = rs.SyncCircuitBreaker()
    pf_breaker = pf.SyncCircuitBreaker()
    py_breaker = pybreaker.CircuitBreaker()
    contestants["bare call"] = target
    contestants["resilience breaker.call"] = functools.partial(rs_breaker.call, target)
    contestants["provide-foundation breaker.call"] = functools.partial(pf_breaker.call, target)
    contestants["pybreaker breaker.call"] = functools.partial(py_breaker.call, target)
    rows = []
    for label, op in contestants.items():
        per_thread_counts = []
        for t in threads_list:
            best = []
            for _ in range(3):
                barrier = threading.Barrier(t + 1)

                def work() -> None:
                    barrier.wait()
                    for _ in range(calls):
                        op()

                workers = [threading.Thread(target=work) for _ in range(t)]
                for w in workers:
                    w.start()
                barrier.wait()
                start = time.perf_counter_ns()
                for w in workers:
                    w.join()
                best.append((time.perf_counter_ns() - start) / (calls * t))
            per_thread_counts.append(statistics.median(best))
        rows.append((label, per_thread_counts))
    return rows


# The performance targets: overhead over the bare call, same run. Per scenario:
# (the row the ratio column divides by, the limit in ns, the rows judged).
TARGETS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "S1 @retry, success": ("resilience @retry", 100, ("resilience @retry", "resilience RetryExecutor.execute_sync")),
    "S2 two failures then success (no-op sleep)": (
        "resilience @retry",
        3000,
        ("resilience @retry", "resilience RetryExecutor.execute_sync"),
    ),
    "S3 breaker closed": (
        "resilience breaker.call",
        120,
        ("resilience breaker.call", "resilience @circuit_breaker"),
    ),
    "S4 breaker open (rejection raised and caught)": (
        "resilience breaker.call",
        500,
        ("resilience breaker.call", "resilience @circuit_breaker"),
    ),
    "S5 fallback (primary fails, fallback answers)": (
        "resilience @fallback (logger level ERROR)",
        1000,
        ("resilience FallbackChain.execute", "resilience @fallback", "resilience @fallback (logger level ERROR)"),
    ),
    "S6 async (awaited)": (
        "resilience @retry (async)",
        150,
        (
            "resilience @retry (async)",
            "resilience RetryExecutor.execute_async",
            "resilience AsyncCircuitBreaker.call",
            "resilience @circuit_breaker (async)",
        ),
    ),
}

# Issue 13: every entry point of S1–S6 against the best peer (the smallest
# overhead among the other libraries' rows, decorator or method, in the same
# scenario and run). The issue's table row (the executor in S1) ≤ 0.5×, the
# rest ≤ 0.7×.
PEER_PREFIXES = ("provide-foundation ", "tenacity ", "circuitbreaker ", "pybreaker ")
ISSUE_13_ROWS = {("S1", "resilience RetryExecutor.execute_sync")}

# Issue #9's target: the closed path with a time window costs at most this
# many times the overhead of our own consecutive breaker, same run. Per
# scenario: (the consecutive row, the limit, the rows judged).
RATIO_TARGETS: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "S8 breaker closed: time window vs consecutive": (
        "resilience breaker.call (consecutive)",
        2.0,
        ("resilience breaker.call (time window)",),
    ),
    "S9 async breaker closed: time window vs consecutive": (
        "resilience AsyncCircuitBreaker.call (consecutive)",
        2.0,
        ("resilience AsyncCircuitBreaker.call (time window)",),
    ),
    # Issue 10: at most 1.5× a hand-written asyncio.timeout; a pipeline at most
    # 1.1× the same strategies nested by hand.
    "S11 async attempt timeout vs asyncio.timeout by hand": (
        "execute_async + asyncio.timeout by hand",
        1.5,
        ("resilience execute_async (attempt_timeout)",),
    ),
    "S12 pipeline retry ∘ breaker vs nested by hand": (
        "nested by hand: execute_sync(breaker.call, f)",
        1.1,
        ("resilience Pipeline(retry, breaker).execute_sync",),
    ),
    "S13 async pipeline retry ∘ breaker vs nested by hand": (
        "nested by hand: execute_async(breaker.call, f)",
        1.1,
        ("resilience Pipeline(retry, breaker).execute_async",),
    ),
    # Issue 11: at most 0.5× the peer's overhead; a budget at most 1.2× no budget.
    "S14 rate limiter try-acquire (granted)": (
        "limits FixedWindowRateLimiter.hit",
        0.5,
        ("resilience RateLimiter.try_acquire()",),
    ),
    "S15 retry success path with a budget vs without": (
        "resilience @retry",
        1.2,
        ("resilience @retry (budget)",),
    ),
}
# Rows reported without a target (the "×" column divides by this row).
FOCUS = {"S10 breaker metrics and snapshot (no target)": "resilience breaker.metrics() (consecutive)"}

# S7's target is "flat in the thread count": 4 threads may cost at most this
# much more per call than 1 thread.
S7_FLAT_LIMIT = 1.5
S7_JUDGED = "resilience breaker.call"


# Why a judged row misses its target, printed under the targets table when
# it does: (scenario, row) -> note.
MISS_NOTES = {
    ("S3", "resilience breaker.call"): "S3 `breaker.call`: measured as `functools.partial(breaker.call, f)()`, so "
    "the partial's own call counts too; the rest is the native method packing `*args`/`**kwargs` (no Python frame "
    "is left to remove) and the permit token (taken and reported once per call, so a call still running at "
    "`reset()` is stale). The decorator form has no partial.",
    ("S3", "resilience @circuit_breaker"): "S3 `@circuit_breaker`: a native callable, over the limit by less than "
    "the run-to-run noise.",
    ("S6", "resilience AsyncCircuitBreaker.call"): "S6 `AsyncCircuitBreaker.call`: measured through "
    "`functools.partial`; it is an `async def` (one more coroutine frame around the awaited function, plus two "
    "native calls), and one coroutine frame alone costs about what the bare awaited call does (the bare call row).",
    ("S6", "resilience @circuit_breaker (async)"): "S6 async `@circuit_breaker`: a generated `async def` wrapper "
    "with the function's own signature; that extra coroutine frame is the floor for any async decorator.",
    ("S8", "resilience breaker.call (time window)"): "S8 time window: on top of the consecutive breaker's work, "
    "every call reads `time.monotonic` once through Python (looked up in the `time` module at each reading, so "
    "patching it moves breakers) and counts into its bucket with one compare-and-swap.",
    ("S9", "resilience AsyncCircuitBreaker.call (time window)"): "S9 time window: as S8, inside the async driver.",
    ("S15", "resilience @retry (budget)"): "S15 budget: every sequence deposits its first attempt in the shared "
    "budget before the call (core's rule `budget_in_retry`): one clock reading (the budget's clock, "
    "`time.monotonic`, read in Rust while it is the genuine builtin) and one atomic add into the current tenth "
    "of `ttl`. That is a fixed ~50–60 ns on top of a success path of ~55 ns, so 1.2× is out of reach without "
    "skipping the deposit; the Rust core misses its own 1.2× target for the same reason (bench/README.md).",
}


def strategy_of(label: str) -> str:
    """The strategy a row measures (S6 mixes retries and breakers): each
    entry point is judged against the peers of its own strategy."""
    lowered = label.lower()
    if "fallback" in lowered:
        return "fallback"
    if "breaker" in lowered or "circuit" in lowered:
        return "breaker"
    return "retry"


def issue_13_table(results: dict[str, list[tuple[str, float, float]]]) -> list[str]:
    """Each of our entry points in S1–S6 over the best peer's overhead."""
    lines = [
        "## Issue 13: every entry point against the best peer (same run)",
        "",
        "Overhead of each `resilience` entry point (decorator and method) over the smallest overhead of a peer "
        "row of the same strategy (retry, breaker, fallback) in the same scenario. Target ≤ 0.7×; the issue's "
        "table row (S1 `RetryExecutor.execute_sync`) ≤ 0.5×.",
        "",
        "| scenario | entry point | overhead | best peer | peer overhead | ratio | target | met? |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for name, rows in results.items():
        scenario = name.split()[0]
        if scenario not in ("S1", "S2", "S3", "S4", "S5", "S6"):
            continue
        for label, _, overhead in rows:
            if not label.startswith("resilience ") or "logger level" in label:
                continue
            peers = [
                (peer_label, peer_overhead)
                for peer_label, _, peer_overhead in rows
                if peer_label.startswith(PEER_PREFIXES) and strategy_of(peer_label) == strategy_of(label)
            ]
            if not peers:
                continue
            peer, peer_overhead = min(peers, key=lambda row: row[1])
            goal = 0.5 if (scenario, label) in ISSUE_13_ROWS else 0.7
            ratio = max(overhead, 0.0) / peer_overhead if peer_overhead > 0 else float("inf")
            lines.append(
                f"| {scenario} | {label} | {fmt_ns(overhead)} | {peer} | {fmt_ns(peer_overhead)} | "
                f"{ratio:.2f}× | ≤ {goal:g}× | {verdict(ratio <= goal)} |"
            )
    return [*lines, ""]


def fmt_ns(ns: float) -> str:
    return f"{ns / 1000:.2f} µs" if abs(ns) >= 10_000 else f"{ns:.0f} ns"


def verdict(met: bool) -> str:
    return "yes" if met else "**NO**"


def render(
    results: dict[str, list[tuple[str, float, float]]],
    threads: list[tuple[str, list[float]]],
    command: str,
    rounds: int,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> str:
    lines = [
        "# Python benchmarks",
        "",
        "Produced by (from the repository root, after `make python-install`):",
        "",
        "```",
        command,
        "```",
        "",
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs "
        f"(`{platform.platform()}`); {rounds} interleaved rounds per scenario, one process. "
        "Each cell: median time per call, and the median over rounds of (contestant − bare call) "
        "measured in the same round. The machine is shared, so absolute numbers are noisy; "
        "compare rows within a scenario. Default logging configuration for every library "
        "(stderr to /dev/null); one extra row shows `resilience` with its logger filtered out.",
        "",
        "Load average (1, 5, 15 min) when the run started: "
        + ", ".join(f"{x:.2f}" for x in load[0])
        + "; when it ended: "
        + ", ".join(f"{x:.2f}" for x in load[1])
        + (
            f". **The machine was loaded** (more runnable work than its {os.cpu_count()} CPUs), so absolute "
            "figures are inflated: read the ratios within a scenario."
            if max(load[0][0], load[1][0]) > (os.cpu_count() or 1)
            else "."
        ),
        "",
        "## Performance targets (overhead over the bare call, same run)",
        "",
        "| scenario | resilience row | overhead | target | met? |",
        "|---|---|---:|---:|---|",
    ]
    misses: list[str] = []
    notes: list[str] = []
    for name, rows in results.items():
        if name not in TARGETS:
            continue
        _, limit, judged = TARGETS[name]
        for label, _, overhead in rows:
            if label in judged:
                met = overhead <= limit
                if not met:
                    misses.append(f"{name.split()[0]} `{label}` ({fmt_ns(overhead)} > {fmt_ns(limit)})")
                    note = MISS_NOTES.get((name.split()[0], label))
                    if note:
                        notes.append(f"- {note}")
                lines.append(f"| {name.split()[0]} | {label} | {fmt_ns(overhead)} | ≤ {fmt_ns(limit)} | {verdict(met)} |")
    for name, rows in results.items():
        if name not in RATIO_TARGETS:
            continue
        base_label, factor, judged = RATIO_TARGETS[name]
        base = next(o for label, _, o in rows if label == base_label)
        for label, _, overhead in rows:
            if label in judged:
                ratio = overhead / base if base > 0 else float("inf")
                met = ratio <= factor
                if not met:
                    misses.append(f"{name.split()[0]} `{label}` ({ratio:.2f}× `{base_label}`'s overhead)")
                    note = MISS_NOTES.get((name.split()[0], label))
                    if note:
                        notes.append(f"- {note}")
                lines.append(
                    f"| {name.split()[0]} | {label} | {fmt_ns(overhead)} = {ratio:.2f}× {fmt_ns(base)} "
                    f"({base_label}) | ≤ {factor:g}× | {verdict(met)} |"
                )
    flat = next((values for label, values in threads if label == S7_JUDGED), None)
    if flat:
        growth = flat[-1] / flat[0]
        met = growth <= S7_FLAT_LIMIT
        if not met:
            misses.append(f"S7 `{S7_JUDGED}` ({growth:.2f}× from 1 to 4 threads)")
        lines.append(
            f"| S7 | {S7_JUDGED} | {growth:.2f}× from 1 to 4 threads | flat (≤ {S7_FLAT_LIMIT}×) | {verdict(met)} |"
        )
    lines += ["", "Missed: " + "; ".join(misses) + "." if misses else "Every target met.", ""]
    if notes:
        lines += [*notes, ""]
    lines += issue_13_table(results)
    for name, rows in results.items():
        lines += [f"## {name}", "", "| contestant | per call | overhead over bare call | × resilience overhead |", "|---|---:|---:|---:|"]
        focus = TARGETS[name][0] if name in TARGETS else RATIO_TARGETS[name][0] if name in RATIO_TARGETS else FOCUS.get(name)
        ours = next((o for label, _, o in rows if label == focus), None)
        for label, t, overhead in rows:
            ratio = "" if label == "bare call" or not ours or ours <= 0 else f"{overhead / ours:.1f}×"
            lines.append(f"| {label} | {fmt_ns(t)} | {'—' if label == 'bare call' else fmt_ns(overhead)} | {ratio} |")
        if name in TARGETS:
            _, limit, judged = TARGETS[name]
            rows_judged = ", ".join(f"`{label}`" for label in judged)
            lines += ["", f"Target: {rows_judged} overhead ≤ {fmt_ns(limit)} (see the table at the top)."]
        if name in RATIO_TARGETS:
            base_label, factor, judged = RATIO_TARGETS[name]
            rows_judged = ", ".join(f"`{label}`" for label in judged)
            lines += ["", f"Target: {rows_judged} overhead ≤ {factor:g}× `{base_label}` overhead (see the table at the top)."]
        lines.append("")
    lines += [
        "## S7 one sync breaker shared by 1/2/4 threads",
        "",
        "Aggregate time per call over all threads (the GIL serialises Python code; flat means no lock contention cost).",
        "",
        "| contestant | 1 thread | 2 threads | 4 threads |",
        "|---|---:|---:|---:|",
    ]
    for label, values in threads:
        lines.append(f"| {label} | " + " | ".join(fmt_ns(v) for v in values) + " |")
    lines += ["", f"Target: flat in the thread count (`{S7_JUDGED}` at 4 threads ≤ {S7_FLAT_LIMIT}× 1 thread).", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--budget-ms", type=float, default=8.0, help="time per contestant per round")
    parser.add_argument("--thread-calls", type=int, default=100_000)
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/python/bench.py", *sys.argv[1:]])
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)  # the libraries' log output goes nowhere, at full cost
    load_start = os.getloadavg()
    try:
        results = run_scenarios(args.rounds, args.budget_ms * 1e6)
        threads = s7([1, 2, 4], args.thread_calls)
    finally:
        os.dup2(saved, 2)
    text = render(results, threads, command, args.rounds, (load_start, os.getloadavg()))
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
