"""The records the package logs through the "resilience" logger, as the
original's messages, and the rule that nothing is built when no handler
would receive a record."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from conftest import VirtualClock

from resilience import Bulkhead, FallbackChain, RetryPolicy, _logging
from resilience.bulkhead import AsyncResourcePool
from resilience.middleware import RetryMiddleware


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "resilience" and r.levelno == level]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_fallback_chain_logs_additions_unexpected_errors_and_the_winning_fallback(
    caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    def cache(x: int) -> int:
        return x + 100

    def down(x: int) -> int:
        raise ConnectionError("down")

    def buggy(x: int) -> int:
        raise KeyError("bug")

    chain = FallbackChain(expected_exceptions=(ConnectionError,))

    def run(primary: Any) -> Any:
        if mode == "sync":
            return chain.execute(primary, 1)
        return asyncio.run(chain.execute_async(primary, 1))

    with caplog.at_level(logging.DEBUG, logger="resilience"):
        chain.add_fallback(cache)
        assert run(down) == 101
        with pytest.raises(KeyError):
            run(buggy)
    assert "Added fallback to chain" in messages(caplog, logging.DEBUG)
    assert "Primary function failed with unexpected exception type" in messages(caplog, logging.DEBUG)
    assert "Fallback succeeded" in messages(caplog, logging.INFO)
    added = next(r for r in caplog.records if r.getMessage() == "Added fallback to chain")
    assert (added.fallback_count, added.fallback_name) == (1, "cache")  # type: ignore[attr-defined]
    unexpected = next(r for r in caplog.records if r.getMessage().startswith("Primary function failed with"))
    assert unexpected.expected_types == ["ConnectionError"]  # type: ignore[attr-defined]
    succeeded = next(r for r in caplog.records if r.getMessage() == "Fallback succeeded")
    assert (succeeded.fallback_index, succeeded.fallback_name) == (0, "cache")  # type: ignore[attr-defined]


def test_async_bulkhead_logs_each_event_of_a_failed_call(caplog: pytest.LogCaptureFixture) -> None:
    bulkhead = Bulkhead(name="db", pool=AsyncResourcePool(max_concurrent=1, max_queue_size=0, timeout=1.0))

    async def broken() -> None:
        raise ValueError("bad row")

    with caplog.at_level(logging.DEBUG, logger="resilience"), pytest.raises(ValueError, match="bad row"):
        asyncio.run(bulkhead.execute_async(broken))
    assert messages(caplog, logging.DEBUG) == ["bulkhead.acquired", "bulkhead.failed", "bulkhead.released"]
    failed = caplog.records[1]
    assert (failed.bulkhead_name, failed.error) == ("db", "bad row")  # type: ignore[attr-defined]
    assert failed.pool_stats == {}  # type: ignore[attr-defined]  # async pools report stats asynchronously


def test_middleware_logs_each_status_retry(caplog: pytest.LogCaptureFixture, clock: VirtualClock) -> None:
    class Response:
        def __init__(self, status: int) -> None:
            self.status = status

    replies = [Response(503), Response(200)]

    async def send(request: Any) -> Response:
        return replies.pop(0)

    policy = RetryPolicy(max_attempts=2, base_delay=0.5, jitter=False, retryable_status_codes={503})
    middleware = RetryMiddleware(policy, time_source=clock.time, async_sleep_func=clock.async_sleep)
    with caplog.at_level(logging.INFO, logger="resilience"):
        assert asyncio.run(middleware.execute_with_retry(send, "GET /")).status == 200
    assert messages(caplog, logging.INFO) == ["Retry 1/2 after 0.50s"]
    assert caplog.records[0].error == "Retryable HTTP status: 503"  # type: ignore[attr-defined]


def test_a_logger_that_does_not_propagate_and_has_no_handler_has_no_listener(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_logging.logger, "propagate", False)
    monkeypatch.setattr(_logging.logger, "handlers", [])
    monkeypatch.setattr(_logging.logger, "level", logging.DEBUG)
    assert not _logging.enabled(logging.ERROR)
    monkeypatch.setattr(_logging.logger, "handlers", [logging.NullHandler()])
    assert not _logging.enabled(logging.ERROR), "a NullHandler receives nothing"
    monkeypatch.setattr(_logging.logger, "handlers", [logging.StreamHandler()])
    assert _logging.enabled(logging.ERROR)
