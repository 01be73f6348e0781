"""The asyncio side of a timeout: run one awaitable, cancel it when its time
is up, raise the builtin `TimeoutError` (marked as the library's, so a
pipeline tells it from the user's own). The time comes from the event loop's
timer (`asyncio.timeout` on 3.11+), or from an injected `async_sleep_func`
raced against the call (tests, virtual time): an answer ready when the timer
fires wins (core's rule `timeout_expiry`). Either way the call is cancelled
and awaited, so nothing is left pending."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
import sys
from typing import Any

from resilience import _core
from resilience.events import Event, TimedOut, deliver

AsyncSleep = Callable[[float], Awaitable[Any]]


def expired(strategy: str, seconds: float, listeners: Iterable[Callable[[Event], None]]) -> BaseException:
    """The error of an expired timeout, after telling the listeners."""
    for listener in listeners:
        deliver(listener, TimedOut(strategy, seconds))
    error: BaseException = _core.timeout_error(strategy, seconds)
    return error


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancels what is still running and waits until it has stopped; the
    outcome of every task is retrieved (no "never retrieved" warning)."""
    tasks = list(tasks)
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if not task.cancelled():
            task.exception()


async def raced(
    awaitable: Awaitable[Any],
    seconds: float,
    strategy: str,
    sleep: AsyncSleep,
    listeners: Iterable[Callable[[Event], None]],
) -> Any:
    """Races `awaitable` against `sleep(seconds)`; the call is polled first."""
    call = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(sleep(seconds))
    try:
        await asyncio.wait((call, timer), return_when=asyncio.FIRST_COMPLETED)
        if call.done():
            return call.result()
        raise expired(strategy, seconds, listeners)
    finally:
        await cancel_and_wait((call, timer))


if sys.version_info >= (3, 11):

    async def on_loop_timer(
        awaitable: Awaitable[Any], seconds: float, strategy: str, listeners: Iterable[Callable[[Event], None]]
    ) -> Any:
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():
                raise expired(strategy, seconds, listeners) from None
            raise  # the user's own TimeoutError

else:

    async def on_loop_timer(
        awaitable: Awaitable[Any], seconds: float, strategy: str, listeners: Iterable[Callable[[Event], None]]
    ) -> Any:
        task = asyncio.current_task()
        fired = []

        def fire() -> None:
            fired.append(True)
            task.cancel()  # type: ignore[union-attr]

        handle = asyncio.get_running_loop().call_later(seconds, fire)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if fired:
                raise expired(strategy, seconds, listeners) from None
            raise
        finally:
            handle.cancel()


async def attempt_with_timeout(
    func: Callable[..., Awaitable[Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    seconds: float,
    strategy: str,
    sleep: AsyncSleep | None,
    listeners: Iterable[Callable[[Event], None]],
) -> Any:
    """`await func(*args, **kwargs)`, cancelled after `seconds`."""
    if sleep is None:
        return await on_loop_timer(func(*args, **kwargs), seconds, strategy, listeners)
    return await raced(func(*args, **kwargs), seconds, strategy, sleep, listeners)
