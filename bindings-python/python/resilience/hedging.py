"""Hedging (Polly's hedging strategy, gRPC A6) for asyncio: when an attempt
is slow, start another copy and take the first acceptable answer; the
others are cancelled and awaited, so no task is left pending.

Every decision is the core's `HedgingState`: attempt 1 starts at once;
attempt n+1 `hedge_delay` seconds after attempt n started, up to 1 +
`max_hedged_attempts`; a failed copy starts the next at once; answers
arriving together are judged in attempt order; when every copy failed, the
last failure surfaces.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import functools
from typing import Any, TypeVar

from resilience import _core
from resilience._compat import is_coroutine_function
from resilience._timeouts import cancel_and_wait
from resilience.events import Event, HedgeStarted, deliver

__all__ = ["Hedging", "hedge"]

F = TypeVar("F", bound=Callable[..., Any])


class Hedging:
    """Hedged calls of a coroutine function.

    Args:
        hedge_delay: Seconds an attempt may go unanswered before the next copy
            starts (0: every copy at once; default 2)
        max_hedged_attempts: Copies beyond the first, 1 to 10 (default 1)
        failure_on_result: A predicate on a returned value: a value it calls a
            failure is no answer (the next copy starts at once); a predicate
            that raises accepts the value
        on_event: A listener told each `HedgeStarted`
        time_source: The clock the delays are measured on (default: the
            event loop's, which its timers run on)
        async_sleep_func: The timer's sleep (default `asyncio.sleep`)
    """

    __slots__ = ("_config", "async_sleep_func", "failure_on_result", "on_event", "time_source")

    def __init__(
        self,
        hedge_delay: float = _core.DEFAULT_HEDGE_DELAY,
        max_hedged_attempts: int = _core.DEFAULT_MAX_HEDGED_ATTEMPTS,
        *,
        failure_on_result: Callable[[Any], bool] | None = None,
        on_event: Callable[[Event], None] | None = None,
        time_source: Callable[[], float] | None = None,
        async_sleep_func: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self._config = _core.HedgingCore(hedge_delay, max_hedged_attempts)
        for name, value in (
            ("failure_on_result", failure_on_result),
            ("on_event", on_event),
            ("time_source", time_source),
            ("async_sleep_func", async_sleep_func),
        ):
            _core.require_optional_callable(name, value)
        self.failure_on_result = failure_on_result
        self.on_event = on_event
        self.time_source = time_source
        self.async_sleep_func = async_sleep_func

    @property
    def hedge_delay(self) -> float:
        return self._config.hedge_delay

    @property
    def max_hedged_attempts(self) -> int:
        return self._config.max_hedged_attempts

    def __repr__(self) -> str:
        return f"Hedging(hedge_delay={self.hedge_delay!r}, max_hedged_attempts={self.max_hedged_attempts!r})"

    async def execute(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Runs `func(*args, **kwargs)` hedged; returns the first acceptable
        answer, or surfaces the last failure."""
        if not callable(func):
            raise _core.not_callable("func", func)
        return await self._run(functools.partial(func, *args, **kwargs), None, None)

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise _core.not_callable("func", func)
        if not is_coroutine_function(func):
            raise TypeError("hedge() decorates coroutine functions: only tasks can run side by side and be cancelled")

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await self._run(functools.partial(func, *args, **kwargs), None, None)

        return wrapper  # type: ignore[return-value]

    def _accepted(self, task: asyncio.Future[Any], library: bool) -> bool:
        """Whether a finished copy's answer is acceptable."""
        error = task.exception()
        if error is not None:
            if not isinstance(error, Exception):
                raise error  # KeyboardInterrupt and friends end the hedge at once
            # Every error is a failure (rule `library_errors`: the library's too).
            return False
        predicate = self.failure_on_result
        if predicate is None:
            return True
        # What a predicate that raises means is core's rule `failing_predicate`.
        return _core.hedge_accepts(predicate, task.result())

    async def _run(
        self,
        attempt: Callable[[], Awaitable[Any]],
        pipeline_event: Callable[[Event], None] | None,
        library: bool | None,
    ) -> Any:
        # The event loop's clock by default: the one its timers run on.
        clock = self.time_source or asyncio.get_running_loop().time
        sleep = self.async_sleep_func or asyncio.sleep
        listeners = [listener for listener in (self.on_event, pipeline_event) if listener is not None]
        state = self._config.start()
        running: dict[asyncio.Future[Any], int] = {}
        timer: asyncio.Future[Any] | None = None
        last: asyncio.Future[Any] | None = None
        try:
            while True:
                now = clock()
                step = state.next(now)
                while step > 0:
                    if step > 1:
                        for listener in listeners:
                            deliver(listener, HedgeStarted(step))
                    running[asyncio.ensure_future(attempt())] = step
                    step = state.next(now)
                if step < 0:
                    break  # coverage: unreachable — the loop returns or raises when the hedge ends
                until = state.until
                waiting: set[asyncio.Future[Any]] = set(running)
                if until is not None:
                    timer = asyncio.ensure_future(sleep(max(0.0, until - now)))
                    waiting.add(timer)
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if timer is not None:
                    if timer.done():
                        # A copy is due: answers arriving at this instant are
                        # judged first (rule `hedge_timing`).
                        await asyncio.sleep(0)
                    await cancel_and_wait((timer,))
                    timer = None
                now = clock()
                done = [task for task in running if task.done()]
                for task in sorted(done, key=running.__getitem__):
                    number = running.pop(task)
                    last = task
                    outcome = state.on_outcome(number, self._accepted(task, bool(library)), now)
                    if outcome == "won" or outcome == "all_failed":
                        # The answer (or the last failure): its value, or its error raised.
                        return task.result()
        finally:
            pending = list(running)
            if timer is not None:
                pending.append(timer)
            await cancel_and_wait(pending)
        return last.result() if last is not None else None  # coverage: unreachable — as the break above


def hedge(
    hedge_delay: float = _core.DEFAULT_HEDGE_DELAY,
    max_hedged_attempts: int = _core.DEFAULT_MAX_HEDGED_ATTEMPTS,
    *,
    failure_on_result: Callable[[Any], bool] | None = None,
    on_event: Callable[[Event], None] | None = None,
    time_source: Callable[[], float] | None = None,
    async_sleep_func: Callable[[float], Awaitable[Any]] | None = None,
) -> Hedging:
    """Hedging for a coroutine function: `@hedge(0.1, 2)` decorates one, and
    `await hedge(...).execute(func, *args)` runs one call."""
    return Hedging(
        hedge_delay,
        max_hedged_attempts,
        failure_on_result=failure_on_result,
        on_event=on_event,
        time_source=time_source,
        async_sleep_func=async_sleep_func,
    )
