"""The Redis driver's less travelled paths, each driven for real: a store
used as a context manager, a closed store, an asyncio store made outside a
loop or outliving its loop, a cancelled listener, a flushed script cache on
the asyncio store, a lease that fails (Redis paused, a key of the wrong
type), a script load the server refuses (ACL), events that are not the
driver's, a server that answers something other than the scripts' replies,
and the module imported without redis-py. Against a real `redis-server`
except where the point is a server that does not behave like one."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import socket
import sys
import threading
import time
from typing import Any

import pytest

from redis_server import RedisServer, wait_until
from resilience import RateLimiter, RetryBudget, SyncCircuitBreaker
from resilience.redis import AsyncRedisStore, RedisStore, _parse_event

WINDOW: dict[str, Any] = {"failure_ratio": 0.5, "minimum_throughput": 100_000, "sampling_duration": 60}


async def until(what: str, condition: Any, within: float = 10) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within, f"not within {within} s: {what}"
        await asyncio.sleep(0.005)


def _fails() -> None:
    raise ConnectionError("down")


# -- the module without redis-py ---------------------------------------------------


def test_without_redis_py_the_import_fails_saying_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process (the subprocess twin is in test_shared_breaker.py):
    the module is imported afresh with redis-py hidden."""
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.delitem(sys.modules, "resilience.redis")
    with pytest.raises(ImportError, match=r"pip install 'resilience-rs\[redis\]'") as info:
        importlib.import_module("resilience.redis")
    assert isinstance(info.value.__context__, ImportError), "redis-py's own ImportError stays chained"


# -- the thread store -------------------------------------------------------------------


def test_a_store_as_a_context_manager_is_closed_at_exit_and_then_refuses_to_share(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    with RedisStore.from_url(redis_server.url, prefix="w", sync_interval=0.1, sync_timeout=0.25) as s:
        closing.append(s)
        breaker = SyncCircuitBreaker(**WINDOW, store=s, name="ctx")
        wait_until(10, "synced", lambda: s.fleet_status(breaker).live)
        assert s.metrics().connected
    assert not s.metrics().connected and s.metrics().degraded
    assert not s.fleet_status(breaker).live, "a closed store leaves its breakers local"
    assert breaker.call(lambda: 1) == 1
    with pytest.raises(RuntimeError, match="closed"):
        RateLimiter(rate=10, burst=5, store=s, name="late")
    with pytest.raises(RuntimeError, match="closed"):
        RetryBudget(store=s, name="late")


def test_events_that_are_not_the_drivers_are_ignored_and_the_listener_keeps_listening(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    assert _parse_event(b"open:abc:search") == ("abc", "search")
    assert _parse_event("close:abc:a:b") == ("abc", "a:b")
    assert _parse_event(b"open:no-separator") is None
    assert _parse_event(b"reset:abc:search") is None
    assert _parse_event(12) is None
    # A long interval: a sync within the test's wait is one an event asked for.
    s = RedisStore.from_url(redis_server.url, prefix="ev", sync_interval=30, sync_timeout=0.5)
    closing.append(s)
    breaker = SyncCircuitBreaker(**WINDOW, store=s, name="search")
    wait_until(10, "synced and subscribed", lambda: s.fleet_status(breaker).live and s.metrics().subscribed)
    wait_until(10, "the server has the subscription", lambda: redis_server.command(
        "PUBSUB", "NUMSUB", "ev:cb:events").endswith(b":1\r\n"))
    syncs = s.metrics().syncs
    for junk in ("hello", "open:search", "reset:other:search", "close:"):
        redis_server.command("PUBLISH", "ev:cb:events", junk)
    # Delivered after the junk, on the same subscription.
    redis_server.command("PUBLISH", "ev:cb:events", "open:another-process:search")
    wait_until(10, "the real event made the breaker sync", lambda: s.metrics().syncs > syncs)
    metrics = s.metrics()
    assert metrics.subscribed and metrics.last_error is None, metrics


def test_a_script_load_the_server_refuses_is_a_failed_connect_retried_until_allowed(
    redis_server: RedisServer, closing: list[Any]
) -> None:
    assert redis_server.command("ACL", "SETUSER", "default", "-script") == b"+OK\r\n"
    s = RedisStore.from_url(redis_server.url, prefix="acl", sync_interval=0.1, sync_timeout=0.5, subscribe=False)
    closing.append(s)
    breaker = SyncCircuitBreaker(**WINDOW, store=s, name="acl")
    wait_until(10, "the refused SCRIPT LOAD reported", lambda: "permission" in (s.metrics().last_error or "").lower())
    metrics = s.metrics()
    assert not metrics.connected and metrics.connects == 0 and metrics.degraded
    assert breaker.call(lambda: 1) == 1
    assert redis_server.command("ACL", "SETUSER", "default", "+@all") == b"+OK\r\n"
    wait_until(20, "connected once allowed", lambda: s.fleet_status(breaker).live)
    assert s.metrics().connects == 1


class _NotRedis:
    """A server that speaks RESP and loads scripts, but answers every
    script call with `:7` (what a proxy or a look-alike might): no reply
    the scripts give."""

    def __init__(self, hello: bytes = b"%1\r\n$5\r\nproto\r\n:3\r\n") -> None:
        self.hello = hello
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.script_calls = 0
        self.connections = 0
        self._done = False
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def close(self) -> None:
        self._done = True
        self.sock.close()

    def _serve(self) -> None:
        while not self._done:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        with conn, reader:
            while True:
                head = reader.readline()
                if not head:
                    return
                assert head[:1] == b"*", head
                args = []
                for _ in range(int(head[1:])):
                    size = int(reader.readline()[1:])
                    args.append(reader.read(size + 2)[:-2])
                command = args[0].upper()
                if command == b"SCRIPT" and args[1].upper() == b"LOAD":
                    sha = hashlib.sha1(args[2]).hexdigest()
                    reply = f"${len(sha)}\r\n{sha}\r\n".encode()
                elif command == b"HELLO":  # redis-py speaks RESP3
                    reply = self.hello
                elif command in (b"EVALSHA", b"EVAL"):
                    self.script_calls += 1
                    reply = b":7\r\n"
                else:
                    reply = b"+OK\r\n"
                conn.sendall(reply)


def test_replies_that_are_not_the_scripts_fail_that_sync_and_keep_the_connection(closing: list[Any]) -> None:
    server = _NotRedis()
    try:
        s = RedisStore.from_url(server.url, prefix="nr", sync_interval=0.05, sync_timeout=1.0, subscribe=False)
        closing.append(s)
        breaker = SyncCircuitBreaker(**WINDOW, store=s, name="b")
        limiter = RateLimiter(rate=10, burst=5, store=s, name="l")
        wait_until(20, "several syncs of each answered", lambda: server.script_calls >= 6)
        metrics = s.metrics()
        assert metrics.connected and metrics.connects == 1 and server.connections == 1, "the connection is kept"
        assert metrics.failed_syncs >= 4 and metrics.degraded
        assert metrics.last_error is not None and metrics.last_error.startswith("_AnswerError: the "), metrics
        assert "script answered something other than a list" in metrics.last_error
        assert not s.fleet_status(breaker).live and not s.lease_status(limiter).live
        assert breaker.call(lambda: 1) == 1 and limiter.try_acquire()
        s.close()
    finally:
        server.close()


def test_a_server_redis_py_cannot_talk_to_is_a_failed_connect_retried_not_a_dead_thread(closing: list[Any]) -> None:
    # HELLO answered with +OK: redis-py raises AttributeError while connecting.
    server = _NotRedis(hello=b"+OK\r\n")
    try:
        s = RedisStore.from_url(server.url, prefix="nr", sync_interval=0.05, sync_timeout=1.0, subscribe=False)
        closing.append(s)
        breaker = SyncCircuitBreaker(**WINDOW, store=s, name="b")
        wait_until(20, "a second connect after the first failed", lambda: server.connections >= 2)
        metrics = s.metrics()
        assert not metrics.connected and metrics.degraded and metrics.connects == 0, metrics
        assert metrics.last_error is not None and metrics.last_error.startswith("AttributeError"), metrics
        assert breaker.call(lambda: 1) == 1, "decisions stay local"
        s.close()
    finally:
        server.close()


# -- the asyncio store -------------------------------------------------------------


def test_an_asyncio_store_made_outside_a_loop_shares_once_started(redis_server: RedisServer) -> None:
    s = AsyncRedisStore.from_url(redis_server.url, prefix="late", sync_interval=0.1, sync_timeout=0.25)
    # Shared before any loop runs: nothing to wake yet, decisions are local.
    breaker = SyncCircuitBreaker(**WINDOW, store=s, name="late")
    assert breaker.call(lambda: 1) == 1
    s.sync_now()
    assert not s.fleet_status(breaker).live and s.metrics().syncs == 0

    async def main() -> None:
        await s.start()
        await s.start()  # idempotent
        await until("synced once started", lambda: s.fleet_status(breaker).live)
        assert s.metrics().connects == 1
        await s.close()

    asyncio.run(main())


def test_an_asyncio_store_outliving_its_loop_wakes_nothing_and_raises_nothing(redis_server: RedisServer) -> None:
    async def main() -> tuple[AsyncRedisStore, SyncCircuitBreaker]:
        s = AsyncRedisStore.from_url(redis_server.url, prefix="gone", sync_interval=0.1, sync_timeout=0.25)
        breaker = SyncCircuitBreaker(failure_threshold=3, recovery_timeout=30, store=s, name="gone")
        await until("synced", lambda: s.fleet_status(breaker).live)
        return s, breaker  # never closed: asyncio.run cancels its tasks and closes the loop

    s, breaker = asyncio.run(main())
    s.sync_now()  # would call into the closed loop
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(_fails)  # the trip wakes the store, too
    with pytest.raises(RuntimeError):
        breaker.call(lambda: 1)  # open, locally
    asyncio.run(s.close())
    assert not s.metrics().connected


def test_asyncio_close_cancels_a_listener_stuck_connecting(redis_server: RedisServer) -> None:
    """Redis stopped before the store starts: the listener's connect waits
    up to its 10 s connect timeout; close() waits `sync_timeout` + 0.1 s,
    then cancels it."""

    async def main() -> float:
        redis_server.pause()
        try:
            s = AsyncRedisStore.from_url(
                redis_server.url, prefix="stuck", sync_interval=0.1, sync_timeout=0.25, connect_timeout=10
            )
            SyncCircuitBreaker(**WINDOW, store=s, name="stuck")
            await until("the sync task failed to connect", lambda: s.metrics().last_error is not None)
            started = time.monotonic()
            await s.close()
            took = time.monotonic() - started
        finally:
            redis_server.resume()
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not left, f"tasks left: {left}"
        assert not s.metrics().subscribed
        return took

    took = asyncio.run(main())
    assert took < 5, f"close took {took:.3f} s: the stuck listener was not cancelled"


def test_asyncio_store_a_flushed_script_cache_costs_one_eval(redis_server: RedisServer) -> None:
    async def main() -> None:
        # A generous sync timeout (see the thread store's twin in test_faults.py).
        async with AsyncRedisStore.from_url(redis_server.url, prefix="fl", sync_interval=0.1, sync_timeout=2.0) as s:
            breaker = SyncCircuitBreaker(**WINDOW, store=s, name="flushed")
            await until("synced", lambda: s.fleet_status(breaker).live)
            assert redis_server.command("SCRIPT", "FLUSH") == b"+OK\r\n"
            syncs = s.metrics().syncs
            await until("synced again", lambda: s.metrics().syncs >= syncs + 2)
            assert redis_server.command_calls("eval") == 1, "one EVAL with the text, then EVALSHA again"
            assert not s.metrics().degraded and s.metrics().connects == 1

    asyncio.run(main())


def test_asyncio_store_a_lease_through_a_paused_redis_fails_then_leases_again(redis_server: RedisServer) -> None:
    async def main() -> None:
        async with AsyncRedisStore.from_url(redis_server.url, prefix="lp", sync_interval=0.1, sync_timeout=0.25) as s:
            limiter = RateLimiter(rate=50, burst=10, store=s, name="paused")
            await until("leased", lambda: s.lease_status(limiter).live)
            failed = s.metrics().failed_syncs
            redis_server.pause()
            try:
                # The failed sync is counted, then reported, then the lease
                # is lost: wait for all three, not the first.
                await until(
                    "the lease timed out",
                    lambda: s.metrics().failed_syncs > failed
                    and "timeout" in (s.metrics().last_error or "").lower()
                    and not s.lease_status(limiter).live,
                    within=10,
                )
            finally:
                redis_server.resume()
            await until("leased again", lambda: s.lease_status(limiter).live, within=20)

    asyncio.run(main())


def test_asyncio_store_a_lease_redis_refuses_fails_that_limiter_only(redis_server: RedisServer) -> None:
    """The limiter's state key holds a string (WRONGTYPE): Redis answers
    with an error, the connection is kept, that limiter stays local until
    the key is gone."""
    assert redis_server.command("SET", "wt:rl:{search}:gcra", "not a hash") == b"+OK\r\n"

    async def main() -> None:
        async with AsyncRedisStore.from_url(redis_server.url, prefix="wt", sync_interval=0.1, sync_timeout=0.5) as s:
            limiter = RateLimiter(rate=50, burst=10, store=s, name="search")
            breaker = SyncCircuitBreaker(**WINDOW, store=s, name="search")
            await until("refused", lambda: "WRONGTYPE" in (s.metrics().last_error or ""))
            await until("the breaker synced", lambda: s.fleet_status(breaker).live)
            metrics = s.metrics()
            assert metrics.connected and metrics.connects == 1 and metrics.degraded
            assert "_AnswerError" in (metrics.last_error or "")
            assert not s.lease_status(limiter).live
            assert limiter.try_acquire(), "decisions stay local"
            assert redis_server.command("DEL", "wt:rl:{search}:gcra") == b":1\r\n"
            await until("leased once the key is gone", lambda: s.lease_status(limiter).live)
            assert s.metrics().connects == 1

    asyncio.run(main())
