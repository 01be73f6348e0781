"""Fallback chains for graceful degradation.

The core's fallback state decides which function runs next and whose error
surfaces; `execute` runs natively, `execute_async` is an `async def` driver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
import functools
import logging
from typing import Any, TypeVar

from resilience import _core, _logging
from resilience._compat import is_coroutine_function
from resilience.errors import ParameterTypeError
from resilience.events import Event, FallbackUsed, deliver

T = TypeVar("T")


class FallbackChain:
    """Chain of fallback strategies for graceful degradation.

    Executes fallback functions in order when primary function fails.
    """

    __slots__ = ("expected_exceptions", "fallbacks", "on_event")

    def __init__(
        self,
        *,
        fallbacks: list[Callable[..., Any]] | None = None,
        expected_exceptions: tuple[type[Exception], ...] = (Exception,),
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        # Misuse is rejected here, not when the primary first fails: a bad
        # filter would make `isinstance` raise in place of the primary's
        # error, and a non-callable fallback would "fail" like a real one.
        _core.require_exception_types("expected_exceptions", expected_exceptions)
        if fallbacks is not None and (not isinstance(fallbacks, Sequence) or isinstance(fallbacks, (str, bytes))):
            raise ParameterTypeError(
                f"fallbacks must be a list of callables, got {type(fallbacks).__name__}",
                kind="wrong_type",
                parameter="fallbacks",
            )
        for index, fallback_func in enumerate([] if fallbacks is None else fallbacks):
            if not callable(fallback_func):
                raise _core.not_callable(f"fallbacks[{index}]", fallback_func)
        self.fallbacks: list[Callable[..., Any]] = [] if fallbacks is None else fallbacks
        self.expected_exceptions = expected_exceptions
        _core.require_optional_callable("on_event", on_event)
        # Told a `FallbackUsed(index)` before each fallback runs.
        self.on_event = on_event

    def __repr__(self) -> str:
        return f"FallbackChain(fallbacks={self.fallbacks!r}, expected_exceptions={self.expected_exceptions!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.fallbacks, self.expected_exceptions) == (
            other.fallbacks,
            other.expected_exceptions,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the attrs original

    def add_fallback(self, fallback_func: Callable[..., Any]) -> None:
        """Add a fallback function to the chain."""
        if not callable(fallback_func):
            raise _core.not_callable("fallback_func", fallback_func)
        self.fallbacks.append(fallback_func)
        if _logging.enabled(logging.DEBUG):
            _logging.fallback_added(len(self.fallbacks), fallback_func)

    def execute(self, primary_func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Execute primary function with fallback chain (sync)."""
        if self.on_event is not None:
            if not callable(primary_func):
                raise _core.not_callable("primary_func", primary_func)
            return _chain_sync(  # type: ignore[no-any-return]
                self, None, functools.partial(primary_func, *args, **kwargs), args, kwargs, False
            )
        return _core.fallback_call(  # type: ignore[no-any-return]
            primary_func, self.fallbacks, self.expected_exceptions, args, kwargs
        )

    async def execute_async(self, primary_func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Execute primary function with fallback chain (async).

        Sync and async functions may be mixed in the chain.
        """
        if not callable(primary_func):
            # Its TypeError would otherwise send the chain to the fallbacks.
            raise _core.not_callable("primary_func", primary_func)
        try:
            if is_coroutine_function(primary_func):
                return await primary_func(*args, **kwargs)
            return primary_func(*args, **kwargs)
        except Exception as primary_error:
            error: Exception = primary_error
        fallbacks = self.fallbacks
        state = _core.FallbackStateCore(len(fallbacks))
        # A filter that raises means "not expected" (the core's rule).
        expected = _core.falls_back(error, self.expected_exceptions)
        index = state.on_primary_error(expected)
        if not expected:
            if _logging.enabled(logging.DEBUG):
                _logging.fallback_unexpected(error, self.expected_exceptions)
            raise error
        if _logging.enabled(logging.WARNING):
            _logging.fallback_primary_failed(primary_func, error, len(fallbacks))
        while index is not None:
            fallback_func = fallbacks[index]
            if self.on_event is not None:
                deliver(self.on_event, FallbackUsed(index))
            try:
                if is_coroutine_function(fallback_func):
                    result = await fallback_func(*args, **kwargs)
                else:
                    result = fallback_func(*args, **kwargs)
            except Exception as fallback_error:
                error = fallback_error
                if _logging.enabled(logging.WARNING):
                    _logging.fallback_failed(index, fallback_func, error)
                index = state.on_fallback_error()
                continue
            if _logging.enabled(logging.INFO):
                _logging.fallback_succeeded(index, fallback_func)
            return result
        if _logging.enabled(logging.ERROR):
            _logging.fallback_exhausted(primary_func, len(fallbacks))
        raise error


def _falls_back(chain: FallbackChain, error: Exception, library: bool) -> bool:
    """Rule `library_errors` for the library's own errors (inside a
    pipeline), the chain's filter (rule `failing_predicate`) otherwise."""
    if library:
        rules = _core.library_error(error)
        if rules is not None:
            return rules[3]
    return _core.falls_back(error, chain.expected_exceptions)


def _tell(chain: FallbackChain, listener: Callable[[Event], None] | None, index: int) -> None:
    for target in (chain.on_event, listener):
        if target is not None:
            deliver(target, FallbackUsed(index))


def _chain_sync(
    chain: FallbackChain,
    listener: Callable[[Event], None] | None,
    thunk: Callable[[], Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    library: bool,
) -> Any:
    """The chain around `thunk()` (the primary, or a pipeline's inside),
    telling `FallbackUsed` to the chain's and the pipeline's listeners."""
    try:
        return thunk()
    except Exception as primary_error:
        error: Exception = primary_error
    fallbacks = chain.fallbacks
    state = _core.FallbackStateCore(len(fallbacks))
    index = state.on_primary_error(_falls_back(chain, error, library))
    while index is not None:
        _tell(chain, listener, index)
        try:
            return fallbacks[index](*args, **kwargs)
        except Exception as fallback_error:
            error = fallback_error
            if _logging.enabled(logging.WARNING):
                _logging.fallback_failed(index, fallbacks[index], error)
            index = state.on_fallback_error()
    raise error


async def _chain_async(
    chain: FallbackChain,
    listener: Callable[[Event], None] | None,
    thunk: Callable[[], Awaitable[Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    library: bool,
) -> Any:
    """`_chain_sync` for a pipeline's async inside (fallbacks sync or async)."""
    try:
        return await thunk()
    except Exception as primary_error:
        error: Exception = primary_error
    fallbacks = chain.fallbacks
    state = _core.FallbackStateCore(len(fallbacks))
    index = state.on_primary_error(_falls_back(chain, error, library))
    while index is not None:
        _tell(chain, listener, index)
        fallback_func = fallbacks[index]
        try:
            if is_coroutine_function(fallback_func):
                return await fallback_func(*args, **kwargs)
            return fallback_func(*args, **kwargs)
        except Exception as fallback_error:
            error = fallback_error
            if _logging.enabled(logging.WARNING):
                _logging.fallback_failed(index, fallback_func, error)
            index = state.on_fallback_error()
    raise error


def fallback(*fallback_funcs: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator to add fallback functions to a primary function.

    Args:
        *fallback_funcs: Functions to use as fallbacks, in order of preference

    Returns:
        Decorated function that uses fallback chain
    """
    for index, fallback_func in enumerate(fallback_funcs):
        if not callable(fallback_func):
            raise _core.not_callable(f"fallback_funcs[{index}]", fallback_func)

    def decorator(primary_func: Callable[..., T]) -> Callable[..., T]:
        if not callable(primary_func):
            raise _core.not_callable("primary_func", primary_func)
        chain = FallbackChain()
        for fallback_func in fallback_funcs:
            chain.add_fallback(fallback_func)

        if is_coroutine_function(primary_func):

            @functools.wraps(primary_func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await chain.execute_async(primary_func, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        fallbacks = chain.fallbacks
        expected = chain.expected_exceptions
        call = _core.fallback_call

        @functools.wraps(primary_func)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return call(primary_func, fallbacks, expected, args, kwargs)

        return sync_wrapper

    return decorator


__all__ = ["FallbackChain", "fallback"]
