"""A standalone timeout (Polly's, cockatiel's): `timeout(seconds)` is a
decorator for coroutine functions and an async context manager. When the
time is up the call is cancelled and the builtin `TimeoutError` is raised
(its `strategy` is "total_timeout", its `timeout` the seconds; a
`TimedOut` event is told to `on_event`).

Only what asyncio can cancel can be timed out: a blocking call cannot be
pre-empted, so decorating a plain function is a `TypeError`. (A retry's
deadline, `RetryPolicy(max_elapsed=...)`, applies between the attempts of
blocking calls too.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import functools
import sys
from types import TracebackType
from typing import Any, TypeVar

from resilience import _core
from resilience._compat import is_coroutine_function
from resilience._timeouts import attempt_with_timeout, expired
from resilience.events import Event

__all__ = ["Timeout", "timeout"]

F = TypeVar("F", bound=Callable[..., Any])

STRATEGY = "total_timeout"


class Timeout:
    """A timeout of `seconds` (validated by the core: above 0).

    Use it as `@timeout(2.0)` on an `async def`, as `async with timeout(2.0):`,
    or `await Timeout(2.0).execute_async(func, *args)`. One `async with` at a
    time per object (a second concurrent one raises RuntimeError), as with
    `asyncio.timeout`.

    Args:
        seconds: How long the call may take
        on_event: A listener told each `TimedOut`
        async_sleep_func: Wait on this instead of the event loop's timer
            (tests, virtual time): the call is raced against it
    """

    __slots__ = ("_entered", "_fired", "_handle", "_task", "async_sleep_func", "on_event", "seconds")

    def __init__(
        self,
        seconds: float = _core.DEFAULT_TIMEOUT,
        *,
        on_event: Callable[[Event], None] | None = None,
        async_sleep_func: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.seconds: float = _core.timeout_seconds("timeout", seconds)
        _core.require_optional_callable("on_event", on_event)
        _core.require_optional_callable("async_sleep_func", async_sleep_func)
        self.on_event = on_event
        self.async_sleep_func = async_sleep_func
        self._entered = False
        self._fired = False
        self._handle: Any = None
        self._task: asyncio.Task[Any] | None = None

    def __repr__(self) -> str:
        return f"Timeout(seconds={self.seconds!r})"

    def _listeners(self) -> list[Callable[[Event], None]]:
        return [] if self.on_event is None else [self.on_event]

    async def execute_async(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """`await func(*args, **kwargs)`, cancelled after `seconds`."""
        if not callable(func):
            raise _core.not_callable("func", func)
        return await attempt_with_timeout(
            func, args, kwargs, self.seconds, STRATEGY, self.async_sleep_func, self._listeners()
        )

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise _core.not_callable("func", func)
        if not is_coroutine_function(func):
            raise TypeError(
                "timeout() decorates coroutine functions: a blocking call cannot be pre-empted "
                "(use RetryPolicy(max_elapsed=...) for a deadline between attempts)"
            )

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await attempt_with_timeout(
                func, args, kwargs, self.seconds, STRATEGY, self.async_sleep_func, self._listeners()
            )

        return wrapper  # type: ignore[return-value]

    # ---- async with -------------------------------------------------------

    def _fire(self, *_: Any) -> None:
        task = self._task
        if task is not None and not task.done():
            self._fired = True
            task.cancel()

    def _on_timer(self, timer: asyncio.Future[Any]) -> None:
        if not timer.cancelled() and timer.exception() is None:
            self._fire()

    async def __aenter__(self) -> Timeout:
        if self._entered:
            raise RuntimeError("this Timeout is already in use by another `async with`")
        self._entered, self._fired = True, False
        self._task = asyncio.current_task()
        if self.async_sleep_func is None:
            self._handle = asyncio.get_running_loop().call_later(self.seconds, self._fire)
        else:
            timer = asyncio.ensure_future(self.async_sleep_func(self.seconds))
            timer.add_done_callback(self._on_timer)
            self._handle = timer
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        handle, fired, task = self._handle, self._fired, self._task
        self._handle, self._task, self._entered = None, None, False
        handle.cancel()
        if isinstance(handle, asyncio.Future) and not handle.done():
            await asyncio.wait((handle,))
        if fired and exc_type is asyncio.CancelledError:
            if sys.version_info >= (3, 11) and task is not None:
                task.uncancel()
            raise expired(STRATEGY, self.seconds, self._listeners()) from None
        return False


def timeout(
    seconds: float = _core.DEFAULT_TIMEOUT,
    *,
    on_event: Callable[[Event], None] | None = None,
    async_sleep_func: Callable[[float], Awaitable[Any]] | None = None,
) -> Timeout:
    """A timeout of `seconds`: `@timeout(2.0)` on a coroutine function, or
    `async with timeout(2.0):`. Raises the builtin `TimeoutError`."""
    return Timeout(seconds, on_event=on_event, async_sleep_func=async_sleep_func)
