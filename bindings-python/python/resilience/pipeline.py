"""One object composing strategies in a declared order (Polly's
`ResiliencePipelineBuilder`, cockatiel's `wrap`, tower's layers).

    pipeline = (Pipeline.builder()
                .fallback(lambda *a: "cached")
                .retry(RetryPolicy(max_attempts=3))
                .breaker(breaker)
                .build())
    pipeline.execute_sync(fetch, url)          # or: await pipeline.execute_async(fetch_async, url)

Strategies are declared outer to inner, each at most once, in the core's
one order (rule `pipeline_order`): fallback → total_timeout → retry →
breaker → attempt_timeout → hedging → bulkhead; anything else is a
`ParameterValueError` naming `strategies`. Inside a pipeline the library's
own errors are judged by the core's rule `library_errors`, never by your
filters: a retry retries an open breaker (after its remaining open time),
a timeout and a full bulkhead; a breaker counts a timeout as a failure and
a full bulkhead as nothing; a fallback answers for all of them. One
listener (`on_event`) hears every strategy's events, as do the strategies'
own listeners.

Timeouts and hedging need a runtime that can cancel a call: a pipeline
holding them runs only with `execute_async` (`execute_sync` raises
TypeError). The retry's deadline still applies between blocking attempts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import functools
from typing import Any, TypeVar

from resilience import _core
from resilience._compat import is_coroutine_function
from resilience._timeouts import attempt_with_timeout
from resilience.bulkhead import Bulkhead
from resilience.circuit_async import AsyncCircuitBreaker
from resilience.circuit_sync import SyncCircuitBreaker
from resilience.errors import ParameterTypeError
from resilience.events import Event
from resilience.fallback import FallbackChain, _chain_async, _chain_sync
from resilience.hedging import Hedging
from resilience.retry import _SYSTEM_SLEEP, RetryExecutor, RetryPolicy

__all__ = ["Pipeline", "PipelineBuilder"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_partial = functools.partial


def _wrong_type(parameter: str, expected: str, value: object) -> ParameterTypeError:
    return ParameterTypeError(
        f"{parameter} must be {expected}, got {type(value).__name__}", kind="wrong_type", parameter=parameter
    )


class PipelineBuilder:
    """Declares a pipeline's strategies, outer to inner; `build()` checks the order."""

    def __init__(
        self,
        *,
        time_source: Callable[[], float] | None = None,
        sleep_func: Callable[[float], None] | None = None,
        async_sleep_func: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        for name, value in (
            ("time_source", time_source),
            ("sleep_func", sleep_func),
            ("async_sleep_func", async_sleep_func),
        ):
            _core.require_optional_callable(name, value)
        self._time_source = time_source
        self._sleep_func = sleep_func
        self._async_sleep_func = async_sleep_func
        self._layers: list[tuple[str, Any]] = []
        self._on_event: Callable[[Event], None] | None = None

    def _add(self, name: str, layer: Any) -> PipelineBuilder:
        self._layers.append((name, layer))
        return self

    def fallback(
        self, *fallbacks: Callable[..., Any], expected_exceptions: tuple[type[Exception], ...] = (Exception,)
    ) -> PipelineBuilder:
        """Fallbacks, tried in order with the call's own arguments when
        everything inside failed (library errors always fall back)."""
        return self._add("fallback", FallbackChain(fallbacks=list(fallbacks), expected_exceptions=expected_exceptions))

    def total_timeout(self, seconds: float) -> PipelineBuilder:
        """A timeout on the whole call, retries included (async only)."""
        return self._add("total_timeout", _core.timeout_seconds("total_timeout", seconds))

    def retry(
        self, policy: RetryPolicy, *, on_retry: Callable[[int, Exception], None] | None = None
    ) -> PipelineBuilder:
        """A retry under `policy` (its deadline, budget, result predicate and
        attempt timeout included)."""
        if not isinstance(policy, RetryPolicy):
            raise _wrong_type("policy", "a RetryPolicy", policy)
        executor = RetryExecutor(
            policy,
            on_retry=on_retry,
            time_source=self._time_source,
            sleep_func=self._sleep_func,
            async_sleep_func=self._async_sleep_func,
        )
        return self._add("retry", executor)

    def breaker(self, breaker: SyncCircuitBreaker | AsyncCircuitBreaker) -> PipelineBuilder:
        """A circuit breaker (a SyncCircuitBreaker for `execute_sync`, an
        AsyncCircuitBreaker for `execute_async`)."""
        if not isinstance(breaker, (SyncCircuitBreaker, AsyncCircuitBreaker)):
            raise _wrong_type("breaker", "a SyncCircuitBreaker or an AsyncCircuitBreaker", breaker)
        return self._add("breaker", breaker)

    def attempt_timeout(self, seconds: float) -> PipelineBuilder:
        """A timeout on each attempt, hedged copies included (async only)."""
        return self._add("attempt_timeout", _core.timeout_seconds("attempt_timeout", seconds))

    def hedging(self, hedging: Hedging) -> PipelineBuilder:
        """Hedged copies of each attempt (async only)."""
        if not isinstance(hedging, Hedging):
            raise _wrong_type("hedging", "a Hedging (resilience.hedge(...))", hedging)
        return self._add("hedging", hedging)

    def bulkhead(self, bulkhead: Bulkhead) -> PipelineBuilder:
        """A bulkhead (its pool sync or async, as the pipeline is run)."""
        if not isinstance(bulkhead, Bulkhead):
            raise _wrong_type("bulkhead", "a Bulkhead", bulkhead)
        return self._add("bulkhead", bulkhead)

    def on_event(self, listener: Callable[[Event], None]) -> PipelineBuilder:
        """One listener for every strategy's events (`resilience.events`)."""
        if not callable(listener):
            raise _core.not_callable("listener", listener)
        self._on_event = listener
        return self

    def build(self) -> Pipeline:
        """Checks the order (rule `pipeline_order`) and builds."""
        names = tuple(_core.pipeline_order([name for name, _ in self._layers]))
        return Pipeline(names, list(self._layers), self._on_event, self._async_sleep_func)


class Pipeline:
    """Strategies composed in the core's order; see the module's doc.

    `execute_sync(func, *args, **kwargs)`, `await execute_async(func, *args,
    **kwargs)`, or `@pipeline` on a sync or async function.
    """

    __slots__ = ("_async_sleep", "_layers", "_needs_async", "on_event", "strategies")

    def __init__(
        self,
        strategies: tuple[str, ...],
        layers: list[tuple[str, Any]],
        on_event: Callable[[Event], None] | None,
        async_sleep: Callable[[float], Awaitable[Any]] | None,
    ) -> None:
        self.strategies = strategies
        self.on_event = on_event
        self._layers = layers[::-1]  # inner to outer, the order they wrap in
        self._async_sleep = async_sleep
        self._needs_async = any(_core.needs_cancellation(name) for name in strategies)

    @staticmethod
    def builder(
        *,
        time_source: Callable[[], float] | None = None,
        sleep_func: Callable[[float], None] | None = None,
        async_sleep_func: Callable[[float], Awaitable[Any]] | None = None,
    ) -> PipelineBuilder:
        """A builder; the clock and sleeps serve every strategy it adds."""
        return PipelineBuilder(time_source=time_source, sleep_func=sleep_func, async_sleep_func=async_sleep_func)

    def __repr__(self) -> str:
        return f"Pipeline(strategies={list(self.strategies)!r})"

    def execute_sync(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs `func(*args, **kwargs)` through every strategy (blocking)."""
        if not callable(func):
            raise _core.not_callable("func", func)
        if self._needs_async:
            raise TypeError(
                "a pipeline with total_timeout, attempt_timeout or hedging runs only with execute_async: "
                "a blocking call cannot be pre-empted"
            )
        listener = self.on_event
        thunk: Callable[[], Any] = _partial(func, *args, **kwargs) if args or kwargs else func
        for name, layer in self._layers:
            if name == "breaker":
                if not isinstance(layer, SyncCircuitBreaker):
                    raise TypeError("execute_sync needs a SyncCircuitBreaker")
                thunk = _partial(layer._call_layer, listener, thunk)
            elif name == "retry":
                sleep = layer._sleep
                thunk = _partial(
                    _core.retry_call,
                    layer.policy._core,
                    layer.policy.retryable_errors,
                    layer.on_retry,
                    None if sleep is _SYSTEM_SLEEP else sleep,
                    thunk,
                    (),
                    None,
                    on_event=layer.on_event,
                    pipeline_event=listener,
                    time_source=layer._clock,
                    library=True,
                )
            elif name == "bulkhead":
                thunk = _partial(layer._execute, listener, thunk, (), {})
            else:  # fallback: the outermost
                thunk = _partial(_chain_sync, layer, listener, thunk, args, kwargs, True)
        return thunk()  # type: ignore[no-any-return]

    async def execute_async(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Awaits `func(*args, **kwargs)` through every strategy; `func` may be
        called several times, and concurrently by hedging."""
        if not callable(func):
            raise _core.not_callable("func", func)
        listener = self.on_event
        listeners = [] if listener is None else [listener]
        thunk: Callable[[], Awaitable[Any]] = _partial(func, *args, **kwargs) if args or kwargs else func
        for name, layer in self._layers:
            if name == "breaker":
                if not isinstance(layer, AsyncCircuitBreaker):
                    raise TypeError("execute_async needs an AsyncCircuitBreaker")
                thunk = _partial(layer._call_layer, listener, thunk)
            elif name == "retry":
                thunk = _partial(layer._run_async, thunk, (), {}, pipeline_event=listener, library=True)
            elif name == "bulkhead":
                thunk = _partial(layer._execute_async, listener, thunk, (), {})
            elif name == "hedging":
                thunk = _partial(layer._run, thunk, listener, True)
            elif name in ("attempt_timeout", "total_timeout"):
                thunk = _partial(attempt_with_timeout, thunk, (), {}, layer, name, self._async_sleep, listeners)
            else:  # fallback: the outermost
                thunk = _partial(_chain_async, layer, listener, thunk, args, kwargs, True)
        return await thunk()  # type: ignore[no-any-return]

    def __call__(self, func: F) -> F:
        """Decorates a sync or async function with this pipeline."""
        if not callable(func):
            raise _core.not_callable("func", func)
        if is_coroutine_function(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.execute_async(func, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.execute_sync(func, *args, **kwargs)

        return wrapper  # type: ignore[return-value]
