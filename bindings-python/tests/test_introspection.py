"""What objects tell about themselves: reprs, equality, read-back
properties and status reports, as the original's attrs classes do."""

from __future__ import annotations

import asyncio
from typing import Any

from resilience import AsyncCircuitBreaker, BackoffStrategy, Bulkhead, FallbackChain, RetryPolicy
from resilience.bulkhead import AsyncResourcePool, SyncResourcePool
from resilience.defaults import default_retry_backoff_strategy
from resilience.middleware import RetryMiddleware


def test_pools_report_their_configuration() -> None:
    for pool_class in (SyncResourcePool, AsyncResourcePool):
        pool: Any = pool_class(max_concurrent=3, max_queue_size=7, timeout=1.5)
        assert (pool.max_concurrent, pool.max_queue_size, pool.timeout) == (3, 7, 1.5)
        assert repr(pool) == f"{pool_class.__name__}(max_concurrent=3, max_queue_size=7, timeout=1.5)"


def test_a_bulkhead_repr_names_it_and_its_pool() -> None:
    bulkhead = Bulkhead(name="db", pool=SyncResourcePool(max_concurrent=1))
    assert repr(bulkhead) == "Bulkhead(name='db', pool=SyncResourcePool(max_concurrent=1, max_queue_size=100, timeout=30.0))"


def test_an_async_pool_reports_capacity_and_stats() -> None:
    async def scenario() -> tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]:
        pool = AsyncResourcePool(max_concurrent=2, max_queue_size=4, timeout=1.0)
        assert await pool.acquire()
        capacity = await pool.available_capacity()
        stats = await pool.get_stats()
        status = await Bulkhead(name="api", pool=pool).get_status_async()
        sync_status = await Bulkhead(name="cpu", pool=SyncResourcePool(max_concurrent=1)).get_status_async()
        await pool.release()
        return capacity, stats, status, sync_status

    capacity, stats, status, sync_status = asyncio.run(scenario())
    assert capacity == 1
    assert stats["max_concurrent"] == 2 and stats["active_count"] == 1
    assert status == {"name": "api", "pool": stats}
    assert sync_status["name"] == "cpu" and sync_status["pool"]["active_count"] == 0


def test_a_full_async_bulkhead_rejects_with_the_originals_message() -> None:
    async def scenario() -> str:
        pool = AsyncResourcePool(max_concurrent=1, max_queue_size=1, timeout=0.0)
        bulkhead = Bulkhead(name="db", pool=pool)
        assert await pool.acquire()
        try:
            await bulkhead.execute_async(asyncio.sleep, 0)
        except RuntimeError as error:
            return str(error)
        finally:
            await pool.release()
        return "admitted"

    assert asyncio.run(scenario()) == "Bulkhead 'db' is at capacity"


def test_an_async_breaker_reports_its_configuration() -> None:
    breaker = AsyncCircuitBreaker(3, 12.5, (KeyError, ValueError), half_open_max_calls=2)
    assert breaker.failure_threshold == 3
    assert breaker.recovery_timeout == 12.5
    assert breaker.expected_exception == (KeyError, ValueError)
    assert breaker.half_open_max_calls == 2


def test_fallback_chains_compare_and_show_by_value() -> None:
    def cache() -> str:
        return "cached"

    a = FallbackChain(fallbacks=[cache], expected_exceptions=(ConnectionError,))
    assert a == FallbackChain(fallbacks=[cache], expected_exceptions=(ConnectionError,))
    assert a != FallbackChain(fallbacks=[cache], expected_exceptions=(TimeoutError,))
    assert a != "not a chain"
    assert repr(a) == f"FallbackChain(fallbacks=[{cache!r}], expected_exceptions=(<class 'ConnectionError'>,))"


def test_an_async_fallback_chain_runs_a_sync_primary() -> None:
    chain = FallbackChain(fallbacks=[lambda: "fallback"])
    assert asyncio.run(chain.execute_async(lambda: "primary")) == "primary"


def test_middleware_repr_shows_its_parts_and_ignores_headers_that_are_not_a_mapping() -> None:
    policy = RetryPolicy(max_attempts=2, jitter=False, retryable_status_codes={503})
    middleware = RetryMiddleware(policy)
    assert repr(middleware) == f"RetryMiddleware(policy={policy!r}, time_source=None, async_sleep_func=None)"

    class Response:
        status = 503
        headers = [("Retry-After", "120")]  # not a Mapping: ignored, the policy's delay applies

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def send(request: Any) -> Response:
        return Response()

    middleware = RetryMiddleware(policy, async_sleep_func=sleep)
    assert asyncio.run(middleware.execute_with_retry(send, "GET /")).status == 503
    assert slept == [1.0]


def test_the_default_backoff_factory_is_exponential() -> None:
    assert default_retry_backoff_strategy() is BackoffStrategy.EXPONENTIAL
