"""Adaptive client-side throttling (Google SRE book, "Handling Overload"):
over a window (default 120 s, in tenths), a request is shed locally with
probability max(0, (requests − k·accepts) / (requests + 1)). What counts as
"accepted by the backend" is a predicate. The draws come from a seedable
generator, so a seeded run sheds the same requests in every language; every
rule is the core's. In a `Pipeline` (`.throttle(throttle)`) it sits right
around the operation, so it counts exactly the requests the backend sees."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import functools
from typing import Any, TypeVar

from resilience import _core
from resilience._compat import is_coroutine_function
from resilience.events import Event

__all__ = ["AdaptiveThrottle", "ThrottleStats"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass(frozen=True)
class ThrottleStats:
    """The window's counts and the rejection probability they give."""

    requests: int
    accepts: int
    probability: float


def _no_error(result: Any, error: BaseException | None) -> bool:
    return error is None


class AdaptiveThrottle:
    """Sheds requests locally while the backend rejects too many of them.

    Args:
        k: Requests beyond k × accepts are shed (a finite number above 0; default 2)
        window: Seconds of history (at least 1; default 120)
        accepted: `accepted(result, error)` says whether the backend accepted
            a request (default: it returned without raising). A predicate
            that raises counts the request as not accepted (reported to
            `sys.unraisablehook`); the caller's own outcome is unchanged
        seed: Seeds the generator for reproducible runs (default: from the OS)
        time_source: A monotonic clock in seconds (default `time.monotonic`)
        on_event: A listener told each shed request as a
            `resilience.events.Throttled`

    `call(func, ...)`, `await call_async(func, ...)` and the decorator form
    raise `ThrottledError` (with `retry_after` and `probability`) when a
    request is shed; `func` does not run then.
    """

    __slots__ = ("_core", "accepted")

    def __init__(
        self,
        k: float = _core.DEFAULT_THROTTLE_K,
        window: float = _core.DEFAULT_THROTTLE_WINDOW,
        *,
        accepted: Callable[[Any, BaseException | None], bool] | None = None,
        seed: int | None = None,
        time_source: Callable[[], float] | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        _core.require_optional_callable("accepted", accepted)
        self._core = _core.ThrottleCore(k, window, seed, time_source, on_event)
        self.accepted = _no_error if accepted is None else accepted

    @property
    def k(self) -> float:
        return self._core.k

    @property
    def window(self) -> float:
        return self._core.window

    def __repr__(self) -> str:
        return f"AdaptiveThrottle(k={self.k!r}, window={self.window!r})"

    def stats(self) -> ThrottleStats:
        """The window's counts and the current rejection probability."""
        return ThrottleStats(*self._core.stats())

    def admit(self) -> None:
        """Counts a request about to be sent; raises `ThrottledError` when it
        must be shed. Report the backend's answer with `record()`."""
        self._core.admit()

    def record(self, accepted: bool) -> None:
        """The backend answered an admitted request."""
        self._core.record(bool(accepted))

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs `func(*args, **kwargs)` unless the request is shed."""
        if not callable(func):
            raise _core.not_callable("func", func)
        core = self._core
        core.admit()
        try:
            result = func(*args, **kwargs)
        except Exception as error:
            core.report(self.accepted, None, error)
            raise
        core.report(self.accepted, result, None)
        return result

    async def call_async(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Awaits `func(*args, **kwargs)` unless the request is shed."""
        if not callable(func):
            raise _core.not_callable("func", func)
        core = self._core
        core.admit()
        try:
            result = await func(*args, **kwargs)
        except Exception as error:
            core.report(self.accepted, None, error)
            raise
        core.report(self.accepted, result, None)
        return result

    def __call__(self, func: F) -> F:
        """Decorates a sync or async function with this throttle."""
        if not callable(func):
            raise _core.not_callable("func", func)
        if is_coroutine_function(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(func, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(func, *args, **kwargs)

        return wrapper  # type: ignore[return-value]
