"""Breakers, rate limiters and retry budgets shared across processes through
Redis, off the per-call path.

Install the extra: ``pip install 'resilience-rs[redis]'`` (redis-py 8).

    store = RedisStore.from_url("redis://127.0.0.1:6379/0", prefix="resilience", sync_interval=0.25)
    payments = SyncCircuitBreaker(failure_ratio=0.5, minimum_throughput=20, sampling_duration=30,
                                  store=store, name="payments")
    ...
    search = RateLimiter(rate=100, burst=20, store=store, name="search")
    payments_budget = RetryBudget(store=store, name="payments")
    ...
    store.close()

Every call is decided locally by the breaker, exactly as an unshared one
decides it; a shared limiter or budget takes from tokens leased from the
fleet in batches (`redis/scripts/limiter_lease.lua`, `budget_lease.lua`). A background sync — a daemon thread (`RedisStore`) or an
asyncio task (`AsyncRedisStore`) — runs one call of the Lua script
`redis/scripts/breaker_sync.lua` per shared breaker and sync interval
(sooner after a transition): it publishes this process's transitions and
counts, and reads the fleet's. The script text, its keys and arguments, and
every decision come from the native module (the same Rust sources as the
Rust driver `resilience-redis`); this module only does the I/O: timers, the
connection, ``EVALSHA`` (``EVAL`` on ``NOSCRIPT``), events, reconnects with
core's backoff. What is shared, the error bounds and the fault behaviour:
``redis/README.md``.

Both stores take both breaker kinds (`SyncCircuitBreaker`,
`AsyncCircuitBreaker`, `@circuit_breaker`), `RateLimiter` and `RetryBudget`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
import os
import secrets
import threading
import time
from typing import Any
import weakref

try:
    import redis as _redis
    import redis.asyncio as _aredis
    from redis.backoff import NoBackoff
    from redis.exceptions import NoScriptError, RedisError, ResponseError
    from redis.retry import Retry
except ImportError:  # redis-py is the optional extra `redis` (the cause stays chained)
    raise ImportError("resilience.redis needs redis-py: pip install 'resilience-rs[redis]' (or redis>=8)")

from resilience import _core

#: The breaker sync script, as every driver loads it (`redis/scripts/breaker_sync.lua`).
BREAKER_SYNC: str = _core.BREAKER_SYNC
#: The rate limiter lease script (`redis/scripts/limiter_lease.lua`).
LIMITER_LEASE: str = _core.LIMITER_LEASE
#: The retry budget lease script (`redis/scripts/budget_lease.lua`).
BUDGET_LEASE: str = _core.BUDGET_LEASE
#: The default key prefix.
DEFAULT_PREFIX = "resilience"
#: The default connect timeout, in seconds (connecting happens in the background).
DEFAULT_CONNECT_TIMEOUT = 1.0
#: How long one wait for an event lasts: the longest `close()` waits for the listener.
EVENT_POLL = 0.1

# `BreakerSync.answer` statuses.
_RESEED = 3


@dataclass(frozen=True)
class StoreMetrics:
    """What a store is doing (a copy; read `metrics()` again for a newer one).

    Attributes:
        connected: The sync connection is up
        degraded: Some shared breaker decides locally: not connected, or its
            last sync failed or timed out (also before the first sync)
        subscribed: The event subscription is up
        syncs: Script calls made (a re-seed makes two)
        failed_syncs: Syncs that failed or timed out
        commands: Every command sent: script calls, SCRIPT LOADs, EVAL fallbacks, SUBSCRIBEs
        connects: Connections made by the sync loop
        reseeds: Times a breaker re-seeded a store that lost its counts (a restart)
        published: Openings and closings this process published
        last_error: The last error seen, if any
    """

    connected: bool
    degraded: bool
    subscribed: bool
    syncs: int
    failed_syncs: int
    commands: int
    connects: int
    reseeds: int
    published: int
    last_error: str | None


@dataclass(frozen=True)
class FleetStatus:
    """A shared breaker's view of its fleet, as of its last sync.

    Attributes:
        live: Decisions use the fleet's view (a sync succeeded recently and none failed since)
        calls, failures, slow: The fleet window's totals (a time window; else 0)
        leases: Half-open trial leases this process holds
        remote_opens: Openings caused by another process's trip
        remote_closes: Closings caused by a trial that succeeded elsewhere
        since_sync: Seconds since the last successful sync (None before the first)
    """

    live: bool
    calls: int
    failures: int
    slow: int
    leases: int
    remote_opens: int
    remote_closes: int
    since_sync: float | None


@dataclass(frozen=True)
class LeaseStatus:
    """A shared rate limiter's or retry budget's view of its fleet, as of its last sync.

    Attributes:
        live: Decisions use the leased pool (a sync succeeded recently and none failed since)
        pool: Tokens (cells, retries) leased and not yet used
        lease_size: The pool's target
        fleet_size: Processes sharing this name that Redis saw recently (at least 1)
        available: What the fleet could still grant, as of the last sync
        leases: Syncs that granted at least one token
        granted: Tokens granted in total
        early_leases: Early leases asked for (a call found the pool short): each
            costs at most one script call beyond the one per interval
        since_sync: Seconds since the last successful sync (None before the first)
    """

    live: bool
    pool: int
    lease_size: int
    fleet_size: int
    available: int
    leases: int
    granted: int
    early_leases: int
    since_sync: float | None


class _AnswerError(Exception):
    """Redis answered, but not with a count (e.g. a window mismatch): the
    connection is fine, that breaker stays local."""


def _instance_id() -> str:
    """A random id for one registration of one breaker in one process."""
    return f"{os.getpid():08x}{secrets.randbits(64):016x}"


def _parse_event(payload: Any) -> tuple[str, str] | None:
    """``open:<instance>:<name>`` or ``close:<instance>:<name>`` → (instance, name)."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    for kind in ("open:", "close:"):
        if text.startswith(kind):
            instance, sep, name = text[len(kind) :].partition(":")
            return (instance, name) if sep else None
    return None


class _Entry:
    """One shared breaker of a store."""

    __slots__ = ("__weakref__", "attribute", "due_at", "due_now", "failing", "owner", "removed", "sync")
    #: A limiter or budget (`_LeaseEntry`), not a breaker.
    lease = False

    def __init__(self, owner: Any, attribute: str | None, sync: Any) -> None:
        self.owner = weakref.ref(owner)
        self.attribute = attribute
        self.sync = sync
        self.due_now = True
        self.due_at = time.monotonic()
        self.failing = True
        self.removed = False

    def native(self) -> Any:
        """The breaker's native core, or None once the breaker is gone."""
        owner = self.owner()
        if owner is None:
            self.removed = True
            return None
        return owner if self.attribute is None else getattr(owner, self.attribute)

    def due(self, now: float) -> bool:
        due, self.due_now = self.due_now or self.due_at <= now, False
        return due

    def lose(self) -> None:
        """Decisions are local (a failed sync, or the store closed)."""
        native = self.native()
        if native is not None:
            self.sync.lost(native)


class _LeaseEntry(_Entry):
    """One shared rate limiter or retry budget of a store: `sync` is its
    native `LeaseSync` (which holds the core), `owner` the Python object."""

    __slots__ = ()
    lease = True

    def lose(self) -> None:
        self.sync.lost()


class _Waker:
    """Called by the breaker when a local transition waits to be published:
    marks its entry due and wakes the sync. Holds weak references only (the
    breaker keeps it; it must not keep the store alive)."""

    __slots__ = ("entry", "store")

    def __init__(self, entry: _Entry, store: _Store) -> None:
        self.entry = weakref.ref(entry)
        self.store = weakref.ref(store)

    def __call__(self) -> None:
        entry = self.entry()
        if entry is not None:
            entry.due_now = True
        store = self.store()
        if store is not None:
            store._wake()


class _Store:
    """What the thread and the asyncio stores share: configuration, entries,
    counters, and the parts of a sync that do no I/O."""

    def __init__(
        self,
        url: str,
        prefix: str,
        sync_interval: float | None,
        sync_timeout: float | None,
        connect_timeout: float,
        subscribe: bool,
        client_options: dict[str, Any],
    ) -> None:
        self._prefix: str = _core.key_part("prefix", prefix)
        self._fleet = _core.FleetConfigCore(sync_interval, sync_timeout)
        self._connect_timeout: float = _core.connect_timeout(connect_timeout)
        self._url = url
        self._subscribe = subscribe
        self._channel = f"{self._prefix}:cb:events"
        # Timeouts and retries are the driver's own (redis-py's retry off).
        self._client_options: dict[str, Any] = {
            "socket_timeout": self._fleet.sync_timeout,
            "socket_connect_timeout": self._connect_timeout,
            "retry": Retry(NoBackoff(), 0),
            **client_options,
        }
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        self._stop = False
        self._connected = False
        self._degraded = True  # until the first sync, decisions are local
        self._subscribed = False
        self._syncs = 0
        self._failed_syncs = 0
        self._commands = 0
        self._connects = 0
        self._reseeds = 0
        self._published = 0
        self._last_error: str | None = None

    # -- what breakers and users see ---------------------------------------

    @property
    def prefix(self) -> str:
        """The key prefix: keys go under ``<prefix>:cb:{<name>}:…``."""
        return self._prefix

    @property
    def sync_interval(self) -> float:
        """Seconds between two syncs of a shared breaker."""
        return float(self._fleet.sync_interval)

    @property
    def sync_timeout(self) -> float:
        """The longest sync, in seconds."""
        return float(self._fleet.sync_timeout)

    @property
    def _fleet_config(self) -> Any:
        return self._fleet

    def _share(self, owner: Any, name: str, attribute: str | None) -> None:
        """Syncs `owner` (a breaker built with this store's fleet parameters) under `name`."""
        if self._stop:
            raise RuntimeError("the store is closed")
        native = owner if attribute is None else getattr(owner, attribute)
        sync = _core.BreakerSync(self._prefix, name, _instance_id(), native)
        entry = _Entry(owner, attribute, sync)
        if not _core.FleetHooks(native).set_waker(_Waker(entry, self)):
            raise RuntimeError("the breaker is already shared")  # coverage: unreachable — a breaker is shared when created, once
        with self._lock:
            self._entries.append(entry)
        self._wake()

    def _share_lease(self, owner: Any, core: Any, name: str) -> None:
        """Syncs a shared limiter's or budget's native `core` under `name`."""
        if self._stop:
            raise RuntimeError("the store is closed")
        make = _core.LeaseSync.for_limiter if isinstance(core, _core.LimiterCore) else _core.LeaseSync.for_budget
        sync = make(self._prefix, name, _instance_id(), core)
        entry = _LeaseEntry(owner, None, sync)
        sync.set_waker(_Waker(entry, self))
        with self._lock:
            self._entries.append(entry)
        self._wake()

    def lease_status(self, shared: Any) -> LeaseStatus:
        """The fleet as a `RateLimiter` or `RetryBudget` shared through this
        store last saw it (`ValueError` when this store does not share it)."""
        for entry in self._live_entries():
            if entry.lease and entry.owner() is shared:
                return LeaseStatus(**entry.sync.status())
        raise ValueError("this store does not share that object (create it with store= and name=)")

    def metrics(self) -> StoreMetrics:
        """What the store is doing now."""
        return StoreMetrics(
            connected=self._connected,
            degraded=self._degraded,
            subscribed=self._subscribed,
            syncs=self._syncs,
            failed_syncs=self._failed_syncs,
            commands=self._commands,
            connects=self._connects,
            reseeds=self._reseeds,
            published=self._published,
            last_error=self._last_error,
        )

    @staticmethod
    def fleet_status(breaker: Any) -> FleetStatus:
        """The fleet as a shared breaker (sync or async) last saw it."""
        native = getattr(breaker, "_core", breaker)
        return FleetStatus(**_core.FleetHooks(native).status())

    def sync_now(self) -> None:
        """Syncs every shared breaker now instead of at its next interval."""
        for entry in self._live_entries():
            entry.due_now = True
        self._wake()

    # -- the loop's parts without I/O -------------------------------------------

    def _wake(self) -> None:
        raise NotImplementedError  # coverage: unreachable — both stores define it

    def _live_entries(self) -> list[_Entry]:
        with self._lock:
            self._entries = [e for e in self._entries if not e.removed and e.owner() is not None]
            return list(self._entries)

    def _poke(self, payload: Any) -> None:
        """An event from another process: sync the breakers of that name now."""
        parsed = _parse_event(payload)
        if parsed is None:
            return
        instance, name = parsed
        hit = False
        for entry in self._live_entries():
            if not entry.lease and entry.sync.name == name and entry.sync.instance != instance:
                entry.due_now = True
                hit = True
        if hit:
            self._wake()

    def _note_error(self, error: BaseException | str) -> None:
        self._last_error = error if isinstance(error, str) else f"{type(error).__name__}: {error}"

    def _all_lost(self, entries: Iterable[_Entry], error: BaseException) -> None:
        """Every breaker decides locally until a sync succeeds again."""
        self._degraded = True
        self._note_error(error)
        for entry in entries:
            entry.failing = True
            entry.lose()

    def _script_done(self, commands: int) -> None:
        self._commands += commands
        self._syncs += 1

    def _answered(self, entry: _Entry, native: Any, reply: Any) -> bool:
        """Hands a reply to the breaker; True when the store restarted (seed now)."""
        try:
            status, published = entry.sync.answer(native, reply, not self._stop)
        except ValueError as error:
            entry.sync.failed(native)
            raise _AnswerError(str(error)) from None
        if status == _RESEED:
            self._reseeds += 1
            return True
        if published:
            self._published += 1
        return False

    def _failed(self, entry: _Entry, native: Any, error: BaseException) -> None:
        entry.sync.failed(native)
        if isinstance(error, ResponseError):
            raise _AnswerError(str(error)) from None

    def _lease_answered(self, entry: _Entry, reply: Any) -> None:
        """Hands a lease reply to the limiter or budget."""
        try:
            entry.sync.answer(reply, not self._stop)
        except ValueError as error:
            raise _AnswerError(str(error)) from None

    def _lease_failed(self, entry: _Entry, error: BaseException) -> None:
        entry.sync.failed()
        if isinstance(error, ResponseError):
            raise _AnswerError(str(error)) from None

    def _synced(self, entries: list[_Entry]) -> float:
        """After a pass without a broken link: the degraded flag and the next wake-up."""
        self._degraded = any(e.failing for e in entries)
        return min((e.due_at for e in entries), default=time.monotonic() + self.sync_interval)

    def _entry_failed(self, entry: _Entry, error: BaseException) -> None:
        entry.failing = True
        self._failed_syncs += 1
        self._note_error(error)

    def _lost_all_at_close(self) -> None:
        with self._lock:
            entries = list(self._entries)
        for entry in entries:
            entry.lose()
        self._connected = False
        self._degraded = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self._prefix!r}, sync_interval={self.sync_interval!r})"


# A sync connection: the client and the SHA of each script loaded on it.
_Link = tuple[Any, dict[str, str]]


def _text(sha: Any) -> str:
    return sha if isinstance(sha, str) else bytes(sha).decode()


# Errors after which the connection is dropped (a timeout leaves a reply
# in flight); a ResponseError is Redis answering, and keeps it. Any other
# exception out of redis-py too — it raises AttributeError connecting to a
# server that answers HELLO with +OK — so the sync thread or task never
# dies: it reports the error and reconnects with backoff.
_LINK_ERRORS = (Exception,)


class RedisStore(_Store):
    """Shares breakers across processes through one Redis, from a daemon
    thread (plus one listening for other processes' openings): nothing
    touches Redis on a call. Use it from sync or asyncio code alike.

    Create it with `RedisStore.from_url`; close it with `close()` (or use it
    as a context manager). A closed store leaves its breakers working
    locally.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        sync_interval: float | None = None,
        sync_timeout: float | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        subscribe: bool = True,
        **client_options: Any,
    ) -> None:
        super().__init__(url, prefix, sync_interval, sync_timeout, connect_timeout, subscribe, client_options)
        # The URL is checked now (a pool connects lazily).
        _redis.ConnectionPool.from_url(url, **self._client_options)
        self._event = threading.Event()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._run, name="resilience-redis-sync", daemon=True)]
        if subscribe:
            self._threads.append(threading.Thread(target=self._listen, name="resilience-redis-events", daemon=True))
        for thread in self._threads:
            thread.start()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        sync_interval: float | None = None,
        sync_timeout: float | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        subscribe: bool = True,
        **client_options: Any,
    ) -> RedisStore:
        """A store for the Redis at `url` (``redis://[user:password@]host[:port][/db]``,
        ``rediss://…``, ``unix:///path.sock``, as redis-py reads them).

        Args:
            prefix: Keys go under ``<prefix>:cb:{<name>}:…`` (1..=200 bytes, no control characters)
            sync_interval: Seconds between two syncs (default 0.25, at least 0.001)
            sync_timeout: The longest sync (default 0.05): a slower one is
                abandoned, the connection dropped, and decisions stay local
            connect_timeout: The longest connect (default 1 s; in the background)
            subscribe: Listen for other processes' openings (default on: they
                then open within milliseconds; off: within one interval)
            **client_options: Passed to `redis.Redis.from_url` (TLS, auth…)

        Never connects on the caller's thread: an unreachable Redis is not an
        error here (the store starts degraded and connects in the background).
        """
        return cls(
            url,
            prefix=prefix,
            sync_interval=sync_interval,
            sync_timeout=sync_timeout,
            connect_timeout=connect_timeout,
            subscribe=subscribe,
            **client_options,
        )

    def _client_factory(self, **extra: Any) -> Any:
        """A single-connection client: it connects when it is made, so only
        ever on the store's threads."""
        options = {**self._client_options, "single_connection_client": True, **extra}
        return _redis.Redis.from_url(self._url, **options)

    def _wake(self) -> None:
        self._event.set()

    def close(self) -> None:
        """Stops syncing: the breakers keep working, locally. Returns within
        about `sync_timeout` + 0.1 s even when Redis is gone (a thread still
        blocked in a connect is left to finish on its own; it is a daemon
        and touches nothing after). Idempotent."""
        self._stop = True
        self._stopped.set()
        self._event.set()
        deadline = time.monotonic() + self.sync_timeout + EVENT_POLL
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._lost_all_at_close()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the sync thread ------------------------------------------------------

    def _connect(self) -> _Link:
        client = self._client_factory()
        try:
            self._commands += 1
            sha = client.script_load(BREAKER_SYNC)
        except BaseException:
            client.close()
            raise
        return client, {"breaker_sync": _text(sha)}

    def _script(
        self, link: _Link, keys: list[str], args: list[str], name: str = "breaker_sync", text: str = BREAKER_SYNC
    ) -> Any:
        client, shas = link
        sha = shas.get(name)
        if sha is None:
            # First use of this script on this connection.
            self._commands += 1
            sha = shas[name] = _text(client.script_load(text))
        try:
            reply = client.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:
            # The server lost its script cache (a restart, SCRIPT FLUSH).
            self._commands += 1
            reply = client.eval(text, len(keys), *keys, *args)
        self._script_done(1)
        return reply

    def _sync_lease(self, link: _Link, entry: _Entry) -> None:
        sync = entry.sync
        args = sync.prepare()
        try:
            reply = self._script(link, sync.keys, args, sync.script_name, sync.script)
        except BaseException as error:
            self._lease_failed(entry, error)
            raise
        self._lease_answered(entry, reply)

    def _sync(self, link: _Link, entry: _Entry) -> None:
        entry.due_at = time.monotonic() + self.sync_interval
        if entry.lease:
            self._sync_lease(link, entry)
            return
        native = entry.native()
        if native is None:
            return  # coverage: race — the breaker was collected between _live_entries() and its sync
        sync = entry.sync
        for _ in range(2):  # a second call only to seed a store that restarted
            args = sync.prepare(native)
            try:
                reply = self._script(link, sync.keys, args)
            except BaseException as error:
                self._failed(entry, native, error)
                raise
            if not self._answered(entry, native, reply):
                return

    def _run(self) -> None:
        link: _Link | None = None
        failures = 0
        retry_at = time.monotonic()
        interval = self.sync_interval
        while not self._stop:
            self._event.clear()
            now = time.monotonic()
            entries = self._live_entries()
            if link is None and now >= retry_at:
                try:
                    link = self._connect()
                    failures = 0
                    self._connects += 1
                    self._connected = True
                except _LINK_ERRORS as error:
                    failures += 1
                    retry_at = time.monotonic() + self._fleet.reconnect_delay(failures)
                    self._all_lost(entries, error)
            wake_at = now + interval
            if link is not None:
                broken: BaseException | None = None
                for entry in entries:
                    if self._stop:
                        break  # coverage: race — close() set _stop while this pass synced an earlier entry
                    if not entry.due(time.monotonic()):
                        continue
                    try:
                        self._sync(link, entry)
                        entry.failing = False
                    except _AnswerError as error:
                        self._entry_failed(entry, error)
                    except _LINK_ERRORS as error:
                        self._failed_syncs += 1
                        broken = error
                        break
                if broken is not None:
                    link[0].close()
                    link = None
                    self._connected = False
                    failures = 1
                    retry_at = time.monotonic() + self._fleet.reconnect_delay(failures)
                    self._all_lost(entries, broken)
                    wake_at = retry_at
                else:
                    wake_at = self._synced(entries)
            else:
                self._connected = False
                wake_at = retry_at
            self._event.wait(max(0.0, wake_at - time.monotonic()))
        if link is not None:
            link[0].close()

    # -- the event listener ---------------------------------------------------

    def _listen(self) -> None:
        failures = 0
        while not self._stop:
            client: Any = None
            pubsub: Any = None
            try:
                client = self._client_factory(socket_timeout=self._connect_timeout)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self._channel)
                self._commands += 1
                self._subscribed = True
                failures = 0
                while not self._stop:
                    message = pubsub.get_message(timeout=EVENT_POLL)
                    if message is not None:
                        self._poke(message["data"])
            except _LINK_ERRORS as error:
                self._subscribed = False
                if self._stop:
                    break
                self._note_error(f"event subscription: {type(error).__name__}: {error}")
                failures += 1
                self._stopped.wait(self._fleet.reconnect_delay(failures))
            finally:
                if pubsub is not None:
                    pubsub.close()
                if client is not None:
                    client.close()
        self._subscribed = False


class AsyncRedisStore(_Store):
    """`RedisStore` for asyncio: the sync and the event listener are tasks
    on the event loop (redis-py's asyncio client), never awaited by a call.

    Create it with `AsyncRedisStore.from_url` inside a running loop (or
    `await store.start()` later); close it with `await store.close()` (or
    ``async with``). Its breakers may be `AsyncCircuitBreaker`s or
    `SyncCircuitBreaker`s used from the loop's thread.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        sync_interval: float | None = None,
        sync_timeout: float | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        subscribe: bool = True,
        **client_options: Any,
    ) -> None:
        super().__init__(url, prefix, sync_interval, sync_timeout, connect_timeout, subscribe, client_options)
        _aredis.ConnectionPool.from_url(url, **self._client_options)  # checks the URL (never connects)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # `await store.start()` in the loop
        self._start()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        sync_interval: float | None = None,
        sync_timeout: float | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        subscribe: bool = True,
        **client_options: Any,
    ) -> AsyncRedisStore:
        """As `RedisStore.from_url`; the tasks start at once in a running
        loop, else at `await store.start()`."""
        return cls(
            url,
            prefix=prefix,
            sync_interval=sync_interval,
            sync_timeout=sync_timeout,
            connect_timeout=connect_timeout,
            subscribe=subscribe,
            **client_options,
        )

    def _client_factory(self, **extra: Any) -> Any:
        """A single-connection client (it connects at its first command)."""
        options = {**self._client_options, "single_connection_client": True, **extra}
        return _aredis.Redis.from_url(self._url, **options)

    def _start(self) -> None:
        if self._loop is not None or self._stop:
            return
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._tasks.append(self._loop.create_task(self._run(), name="resilience-redis-sync"))
        if self._subscribe:
            self._tasks.append(self._loop.create_task(self._listen(), name="resilience-redis-events"))

    async def start(self) -> None:
        """Starts the tasks on the running loop (done by `from_url` when a loop runs). Idempotent."""
        self._start()

    def _wake(self) -> None:
        loop, event = self._loop, self._event
        if loop is None or event is None:
            return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the loop is closed: nothing left to wake
            pass

    async def close(self) -> None:
        """Stops syncing: the breakers keep working, locally. Returns within
        about `sync_timeout` + 0.1 s even when Redis is gone (the tasks are
        cancelled then). Idempotent."""
        self._stop = True
        if self._event is not None:
            self._event.set()
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.sync_timeout + EVENT_POLL)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        self._lost_all_at_close()

    async def __aenter__(self) -> AsyncRedisStore:
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the sync task -------------------------------------------------------------

    async def _connect(self) -> _Link:
        client = self._client_factory()
        try:
            self._commands += 1
            sha = await client.script_load(BREAKER_SYNC)
        except BaseException:
            await client.aclose()
            raise
        return client, {"breaker_sync": _text(sha)}

    async def _script(
        self, link: _Link, keys: list[str], args: list[str], name: str = "breaker_sync", text: str = BREAKER_SYNC
    ) -> Any:
        client, shas = link
        sha = shas.get(name)
        if sha is None:
            self._commands += 1
            sha = shas[name] = _text(await client.script_load(text))
        try:
            reply = await client.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:
            self._commands += 1
            reply = await client.eval(text, len(keys), *keys, *args)
        self._script_done(1)
        return reply

    async def _sync_lease(self, link: _Link, entry: _Entry) -> None:
        sync = entry.sync
        args = sync.prepare()
        try:
            reply = await self._script(link, sync.keys, args, sync.script_name, sync.script)
        except BaseException as error:
            self._lease_failed(entry, error)
            raise
        self._lease_answered(entry, reply)

    async def _sync(self, link: _Link, entry: _Entry) -> None:
        entry.due_at = time.monotonic() + self.sync_interval
        if entry.lease:
            await self._sync_lease(link, entry)
            return
        native = entry.native()
        if native is None:
            return  # coverage: race — the breaker was collected between _live_entries() and its sync
        sync = entry.sync
        for _ in range(2):  # a second call only to seed a store that restarted
            args = sync.prepare(native)
            try:
                reply = await self._script(link, sync.keys, args)
            except BaseException as error:
                self._failed(entry, native, error)
                raise
            if not self._answered(entry, native, reply):
                return

    async def _run(self) -> None:
        assert self._event is not None
        link: _Link | None = None
        failures = 0
        retry_at = time.monotonic()
        interval = self.sync_interval
        try:
            while not self._stop:
                self._event.clear()
                now = time.monotonic()
                entries = self._live_entries()
                if link is None and now >= retry_at:
                    try:
                        link = await self._connect()
                        failures = 0
                        self._connects += 1
                        self._connected = True
                    except _LINK_ERRORS as error:
                        failures += 1
                        retry_at = time.monotonic() + self._fleet.reconnect_delay(failures)
                        self._all_lost(entries, error)
                wake_at = now + interval
                if link is not None:
                    broken: BaseException | None = None
                    for entry in entries:
                        if self._stop:
                            break  # coverage: race — close() set _stop while this pass awaited an earlier entry
                        if not entry.due(time.monotonic()):
                            continue
                        try:
                            await self._sync(link, entry)
                            entry.failing = False
                        except _AnswerError as error:
                            self._entry_failed(entry, error)
                        except _LINK_ERRORS as error:
                            self._failed_syncs += 1
                            broken = error
                            break
                    if broken is not None:
                        await link[0].aclose()
                        link = None
                        self._connected = False
                        failures = 1
                        retry_at = time.monotonic() + self._fleet.reconnect_delay(failures)
                        self._all_lost(entries, broken)
                        wake_at = retry_at
                    else:
                        wake_at = self._synced(entries)
                else:
                    self._connected = False
                    wake_at = retry_at
                try:
                    await asyncio.wait_for(self._event.wait(), max(0.0, wake_at - time.monotonic()))
                except asyncio.TimeoutError:
                    pass
        finally:
            if link is not None:
                await link[0].aclose()

    # -- the event listener ---------------------------------------------------

    async def _listen(self) -> None:
        assert self._event is not None
        failures = 0
        while not self._stop:
            client = self._client_factory(socket_timeout=self._connect_timeout)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._commands += 1
                self._subscribed = True
                failures = 0
                while not self._stop:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=EVENT_POLL)
                    if message is not None:
                        self._poke(message["data"])
            except _LINK_ERRORS as error:
                self._subscribed = False
                if self._stop:
                    break  # coverage: race — the subscription failed after close() set _stop (else it is cancelled)
                self._note_error(f"event subscription: {type(error).__name__}: {error}")
                failures += 1
                delay = self._fleet.reconnect_delay(failures)
                deadline = time.monotonic() + delay
                while not self._stop and time.monotonic() < deadline:
                    await asyncio.sleep(min(EVENT_POLL, max(0.0, deadline - time.monotonic())))
            finally:
                await pubsub.aclose()
                await client.aclose()
        self._subscribed = False


__all__ = [
    "BREAKER_SYNC",
    "BUDGET_LEASE",
    "LIMITER_LEASE",
    "LeaseStatus",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_PREFIX",
    "AsyncRedisStore",
    "FleetStatus",
    "RedisStore",
    "StoreMetrics",
]
