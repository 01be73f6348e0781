"""RetryMiddleware over any response with a `status`."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import pytest

from conftest import VirtualClock
from resilience import RetryExecutor, RetryPolicy, _core
from resilience.middleware import RetryMiddleware, TransportError


class Response:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = headers or {}


class Server:
    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.requests: list[Any] = []

    async def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def middleware(clock: VirtualClock, **policy: Any) -> RetryMiddleware:
    policy.setdefault("jitter", False)
    policy.setdefault("retryable_status_codes", {500, 502, 503, 504})
    policy.setdefault("retryable_errors", (TransportError,))
    return RetryMiddleware(RetryPolicy(**policy), time_source=clock.time, async_sleep_func=clock.async_sleep)


def test_default_policy_is_the_originals() -> None:
    policy = RetryMiddleware().policy
    assert policy == RetryPolicy(
        max_attempts=3,
        base_delay=0.5,
        retryable_errors=(TransportError,),
        retryable_status_codes={500, 502, 503, 504},
    )
    assert inspect.iscoroutinefunction(RetryMiddleware.execute_with_retry)


def test_default_status_codes_come_from_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    # One list for every binding's HTTP helper: resilience_core::DEFAULT_RETRYABLE_STATUS_CODES.
    assert _core.DEFAULT_RETRYABLE_STATUS_CODES == (500, 502, 503, 504)
    monkeypatch.setattr(_core, "DEFAULT_RETRYABLE_STATUS_CODES", (418,))
    assert RetryMiddleware().policy.retryable_status_codes == {418}


def test_retries_retryable_statuses(clock: VirtualClock) -> None:
    server = Server(Response(503), Response(502), Response(200))
    response = asyncio.run(middleware(clock, base_delay=0.5).execute_with_retry(server, "GET /"))
    assert response.status == 200
    assert server.requests == ["GET /"] * 3
    assert clock.sleeps == [0.5, 1.0]


def test_returns_the_last_response_when_status_retries_run_out(clock: VirtualClock) -> None:
    # Improvement: the original raised a synthetic TransportError here.
    last = Response(503)
    server = Server(Response(500), Response(503), last)
    assert asyncio.run(middleware(clock).execute_with_retry(server, "req")) is last
    assert len(server.requests) == 3


def test_non_retryable_status_is_returned_at_once(clock: VirtualClock) -> None:
    server = Server(Response(404))
    assert asyncio.run(middleware(clock).execute_with_retry(server, "req")).status == 404
    assert clock.sleeps == []


def test_retry_after_is_honoured_and_capped(clock: VirtualClock) -> None:
    server = Server(
        Response(503, {"Retry-After": "7"}),
        Response(503, {"retry-after": "120"}),
        Response(200),
    )
    asyncio.run(middleware(clock, max_attempts=3, base_delay=0.1, max_delay=30.0).execute_with_retry(server, "r"))
    assert clock.sleeps == [7.0, 30.0]


def test_retry_after_http_date_uses_the_wall_clock() -> None:
    clock = VirtualClock(start_ns=784_111_777 * 10**9)  # Sun, 06 Nov 1994 08:49:37 GMT
    server = Server(Response(503, {"Retry-After": "Sun, 06 Nov 1994 08:49:47 GMT"}), Response(200))
    asyncio.run(middleware(clock, base_delay=0.5).execute_with_retry(server, "r"))
    assert clock.sleeps == [10.0]


def test_unparseable_retry_after_is_ignored(clock: VirtualClock) -> None:
    server = Server(Response(503, {"Retry-After": "soon"}), Response(200))
    asyncio.run(middleware(clock, base_delay=0.5).execute_with_retry(server, "r"))
    assert clock.sleeps == [0.5]


def test_retryable_errors_are_retried_then_raised(clock: VirtualClock) -> None:
    errors = [TransportError(f"e{i}") for i in range(3)]
    server = Server(*errors)
    with pytest.raises(TransportError) as info:
        asyncio.run(middleware(clock).execute_with_retry(server, "r"))
    assert info.value is errors[-1]
    assert len(server.requests) == 3


def test_other_errors_are_raised_at_once(clock: VirtualClock) -> None:
    server = Server(KeyError("bug"))
    with pytest.raises(KeyError):
        asyncio.run(middleware(clock).execute_with_retry(server, "r"))
    assert len(server.requests) == 1


def test_errors_and_statuses_share_one_attempt_budget(clock: VirtualClock) -> None:
    server = Server(TransportError("reset"), Response(503), Response(503))
    response = asyncio.run(middleware(clock).execute_with_retry(server, "r"))
    assert response.status == 503 and len(server.requests) == 3


def test_pass_through_hooks() -> None:
    mw = RetryMiddleware()
    error = TransportError("x")

    async def main() -> None:
        assert await mw.process_request("req") == "req"
        assert await mw.process_response("resp") == "resp"
        assert await mw.process_error(error, "req") is error

    asyncio.run(main())


def test_status_retries_log_the_originals_records(clock: VirtualClock, caplog: Any) -> None:
    # The original turned a retryable status into TransportError("Retryable
    # HTTP status: N") for its executor; the records keep that error's text.
    last = Response(503)
    server = Server(Response(503), Response(502), last)
    with caplog.at_level(logging.INFO, logger="resilience"):
        assert asyncio.run(middleware(clock, base_delay=0.5).execute_with_retry(server, "r")) is last
    assert [(r.levelname, r.getMessage(), r.error, r.error_type) for r in caplog.records] == [
        ("INFO", "Retry 1/3 after 0.50s", "Retryable HTTP status: 503", "TransportError"),
        ("INFO", "Retry 2/3 after 1.00s", "Retryable HTTP status: 502", "TransportError"),
        ("ERROR", "All 3 retry attempts failed", "Retryable HTTP status: 503", "TransportError"),
    ]


def test_statuses_are_retried_whatever_retryable_errors_says(clock: VirtualClock) -> None:
    # Difference: the original retried a status only if `retryable_errors`
    # admitted its synthetic TransportError (and then raised that error).
    server = Server(Response(503), Response(200))
    mw = middleware(clock, retryable_errors=(ConnectionError,))
    assert asyncio.run(mw.execute_with_retry(server, "r")).status == 200
    assert len(server.requests) == 2


def test_retry_after_is_never_shortened_by_jitter() -> None:
    # Backoff 6 s jittered into [4.5, 7.5] s against a 7 s hint: the wait is
    # the larger of the two, never less than the hint.
    slept = []
    for seed in range(40):
        clock = VirtualClock()
        server = Server(Response(503, {"Retry-After": "7"}), Response(200))
        policy = RetryPolicy(base_delay=6.0, max_delay=30.0, jitter=True, seed=seed, retryable_status_codes={503})
        mw = RetryMiddleware(policy, time_source=clock.time, async_sleep_func=clock.async_sleep)
        asyncio.run(mw.execute_with_retry(server, "r"))
        slept.extend(clock.sleeps)
    assert all(7.0 <= s <= 7.5 for s in slept)
    assert 7.0 in slept and any(s > 7.0 for s in slept)


def test_one_retry_loop_the_executors(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # No loop of its own: errors and statuses are retried by RetryExecutor's.
    loops: list[int] = []
    original = RetryExecutor._run_async

    async def spy(self: RetryExecutor, *args: Any, **kwargs: Any) -> Any:
        loops.append(1)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(RetryExecutor, "_run_async", spy)
    server = Server(TransportError("reset"), Response(503), Response(200))
    assert asyncio.run(middleware(clock).execute_with_retry(server, "r")).status == 200
    server = Server(Response(503), TransportError("reset"), Response(200))
    assert asyncio.run(middleware(clock).execute_with_retry(server, "r")).status == 200
    assert loops == [1, 1] and len(clock.sleeps) == 4


def test_a_non_callable_request_function_is_a_type_error_at_once(clock: VirtualClock) -> None:
    with pytest.raises(TypeError, match="^execute_func must be callable, got int$"):
        asyncio.run(middleware(clock).execute_with_retry(42, "r"))  # type: ignore[arg-type]
    assert clock.sleeps == []


def test_errors_of_earlier_attempts_are_not_chained_to_the_last(clock: VirtualClock) -> None:
    # Each attempt's error is handled and let go before the next attempt, so
    # the error raised at the end carries no __context__ of ours.
    errors = [TransportError(f"e{i}") for i in range(3)]
    with pytest.raises(TransportError) as info:
        asyncio.run(middleware(clock).execute_with_retry(Server(*errors), "r"))
    assert info.value is errors[-1]
    assert [e.__context__ for e in errors] == [None, None, None]
