"""Retry budget (Finagle's RetryBudget, tower's TpsBudget): over the last
`ttl` seconds, retries may be at most `retry_ratio` × first attempts plus
`min_retries_per_sec` × `ttl`. One budget is shared by any number of
policies (one per downstream): `RetryPolicy(..., budget=budget)`. A retry the
budget denies gives up with reason "budget" (a `GaveUp` event). Every rule
and every count is the core's; it is lock-free and thread-safe."""

from __future__ import annotations

from collections.abc import Callable

from resilience import _core, _fleet

__all__ = ["RetryBudget"]


class RetryBudget:
    """A retry budget shared by the policies built with it.

    Args:
        ttl: Seconds a first attempt or a retry counts (1 to 60; default 10)
        min_retries_per_sec: Retries allowed per second whatever the traffic
            (default 10; 0: only the ratio)
        retry_ratio: Retries allowed per first attempt, in (0, 1] (default 0.2)
        time_source: A monotonic clock in seconds (default `time.monotonic`)
        store: Share it across processes through this store
            (`resilience.redis.RedisStore` or `AsyncRedisStore`), with `name`:
            every process's budget of that name counts its first attempts
            into one budget in Redis and draws its retries from it, leased in
            batches; a retry never waits on Redis
        name: The name it is shared under (with `store`; 1..=200 bytes)
        lease_size: Retries leased at a time (with `store`; from 1; default a
            quarter of `min_retries_per_sec`, rounded up, at least 1)
    """

    __slots__ = ("__weakref__", "_core")

    def __init__(
        self,
        ttl: float = _core.DEFAULT_BUDGET_TTL,
        min_retries_per_sec: int = _core.DEFAULT_MIN_RETRIES_PER_SEC,
        retry_ratio: float = _core.DEFAULT_RETRY_RATIO,
        *,
        time_source: Callable[[], float] | None = None,
        store: _fleet.FleetStore | None = None,
        name: str | None = None,
        lease_size: int | None = None,
    ) -> None:
        fleet = _fleet.fleet_config(store, name)
        self._core = _core.RetryBudgetCore(ttl, min_retries_per_sec, retry_ratio, time_source, fleet, lease_size)
        _fleet.join_lease(store, name, self, self._core)

    @property
    def ttl(self) -> float:
        return self._core.ttl

    @property
    def min_retries_per_sec(self) -> int:
        return self._core.min_retries_per_sec

    @property
    def retry_ratio(self) -> float:
        return self._core.retry_ratio

    def available(self) -> int:
        """Retries the budget would grant now."""
        return self._core.available()

    def deposit(self) -> None:
        """Counts a first attempt (a policy's sequences do this themselves)."""
        self._core.deposit()

    def try_withdraw(self) -> bool:
        """Claims one retry if the budget allows it (policies do this themselves)."""
        return self._core.try_withdraw()

    def __repr__(self) -> str:
        return (
            f"RetryBudget(ttl={self.ttl!r}, min_retries_per_sec={self.min_retries_per_sec!r}, "
            f"retry_ratio={self.retry_ratio!r})"
        )
