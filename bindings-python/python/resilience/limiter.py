"""A GCRA rate limiter (governor, redis-cell): `rate` cells per `per`
seconds with bursts of up to `burst`, in one atomic word. `try_acquire()`
answers at once; `acquire()` waits (the GIL released while sleeping) and
`await acquire_async()` waits on the event loop; `@rate_limited(limiter)`
rejects with `RateLimitedError` (carrying the exact wait) or, with
`wait=True`, waits. In a `Pipeline` (`.rate_limiter(limiter)`) each attempt
takes one cell or fails fast; a retry outside waits the exact wait. Every
rule is the core's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import asyncio
import functools
import time
from typing import Any, TypeVar

from resilience import _core, _fleet
from resilience._compat import is_coroutine_function
from resilience.events import Event

__all__ = ["RateLimiter", "rate_limited"]

F = TypeVar("F", bound=Callable[..., Any])

# One cell: `n is _ONE` is the hot path (`True` is not this object).
_ONE = 1

# The real blocking sleep: when it would be used, the native loop sleeps
# itself with the GIL released.
_SYSTEM_SLEEP = time.sleep


class RateLimiter:
    """A GCRA rate limiter, thread-safe and lock-free.

    Args:
        rate: Cells per `per` (an integer from 1; default 100)
        per: The period in seconds (above 0; default 1.0)
        burst: Cells that may be taken at once (from 1; default 10)
        time_source: A monotonic clock in seconds (default `time.monotonic`)
        sleep_func: The blocking sleep of `acquire()` (default: a native
            sleep with the GIL released)
        async_sleep_func: The sleep of `acquire_async()` (default `asyncio.sleep`)
        store: Share it across processes through this store
            (`resilience.redis.RedisStore` or `AsyncRedisStore`), with `name`:
            every process's limiter of that name takes its cells from one
            GCRA in Redis, leased in batches; calls never wait on Redis
        name: The name it is shared under (with `store`; 1..=200 bytes)
        lease_size: Cells leased at a time (with `store`; 1..=burst; default
            a quarter of the burst, rounded up). The fleet admits at most
            `burst + rate × t / per + processes × lease_size` in any `t`
        on_event: A listener told each refusal that is not waited out
            (`try_acquire`, `check`, a pipeline's attempt) as a
            `resilience.events.RateLimited`

    `n` (cells, default 1) is an integer from 0; more than `burst` at once
    can never conform: a `ParameterValueError` of kind "exceeds_burst",
    never a wait.
    """

    __slots__ = ("__weakref__", "_async_sleep", "_core", "_sleep")

    def __init__(
        self,
        rate: int = _core.DEFAULT_RATE,
        per: float = _core.DEFAULT_PER,
        burst: int = _core.DEFAULT_BURST,
        *,
        time_source: Callable[[], float] | None = None,
        sleep_func: Callable[[float], None] | None = None,
        async_sleep_func: Callable[[float], Awaitable[None]] | None = None,
        store: _fleet.FleetStore | None = None,
        name: str | None = None,
        lease_size: int | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        _core.require_optional_callable("sleep_func", sleep_func)
        _core.require_optional_callable("async_sleep_func", async_sleep_func)
        fleet = _fleet.fleet_config(store, name)
        self._core = _core.LimiterCore(rate, per, burst, time_source, fleet, lease_size, on_event)
        _fleet.join_lease(store, name, self, self._core)
        self._sleep = None if sleep_func is None or sleep_func is _SYSTEM_SLEEP else sleep_func
        self._async_sleep = async_sleep_func or asyncio.sleep

    @property
    def rate(self) -> int:
        return self._core.rate

    @property
    def per(self) -> float:
        return self._core.per

    @property
    def burst(self) -> int:
        return self._core.burst

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate!r}, per={self.per!r}, burst={self.burst!r})"

    def try_acquire(self, n: int = _ONE) -> bool:
        """Takes `n` cells (default one) if they conform now."""
        if n is _ONE:
            return self._core.try_acquire()
        return self._core.try_acquire_n(n)

    def check(self, n: int = 1) -> None:
        """Takes `n` cells, or raises `RateLimitedError` with the exact wait."""
        self._core.check(n)

    def acquire(self, n: int = 1) -> None:
        """Takes `n` cells, sleeping until they conform."""
        self._core.acquire(n, self._sleep)

    async def acquire_async(self, n: int = 1) -> None:
        """Takes `n` cells, awaiting the sleep until they conform."""
        wait = self._core.wait_time(n)
        while wait is not None:
            await self._async_sleep(wait)
            wait = self._core.wait_time(n)


def rate_limited(limiter: RateLimiter, *, wait: bool = False, n: int = 1) -> Callable[[F], F]:
    """Decorates a sync or async function: each call takes `n` cells (default
    one) from `limiter` first. A call that does not conform raises
    `RateLimitedError` (with `retry_after`), or with `wait=True` waits."""
    if not isinstance(limiter, RateLimiter):
        from resilience.errors import ParameterTypeError

        raise ParameterTypeError(
            f"limiter must be a RateLimiter, got {type(limiter).__name__}", kind="wrong_type", parameter="limiter"
        )

    def decorator(func: F) -> F:
        if not callable(func):
            raise _core.not_callable("func", func)
        if is_coroutine_function(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if wait:
                    await limiter.acquire_async(n)
                else:
                    limiter.check(n)
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        take = limiter.acquire if wait else limiter.check

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            take(n)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
