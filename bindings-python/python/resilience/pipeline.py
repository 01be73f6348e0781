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
breaker → attempt_timeout → hedging → rate_limiter → bulkhead → throttle;
anything else is a `ParameterValueError` naming `strategies`. Each hedged
copy asks the rate limiter for its own cell (a limited call takes no
bulkhead slot); the throttle sits right around the operation, so it counts
exactly the requests the backend sees. Inside a pipeline the library's
own errors are judged by the core's rule `library_errors`, never by your
filters: a retry retries an open breaker (after its remaining open time),
a rate limiter's refusal (after its exact wait), a timeout, a full
bulkhead and a shed request (after its own backoff); a breaker counts a
timeout as a failure and the load-control rejections as nothing; a
fallback answers for all of them. One listener (`on_event`) hears every
strategy's events, as do the strategies' own listeners.

Timeouts and hedging need a runtime that can cancel a call: a pipeline
holding them runs only with `execute_async` (`execute_sync` raises
TypeError). The retry's deadline still applies between blocking attempts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import functools
import time
from typing import Any, TypeVar, cast

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
from resilience.limiter import RateLimiter
from resilience.retry import _SYSTEM_SLEEP, RetryExecutor, RetryPolicy, _plain
from resilience.throttle import AdaptiveThrottle

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

    def rate_limiter(self, limiter: RateLimiter) -> PipelineBuilder:
        """A rate limiter: each attempt (each hedged copy) takes one cell or
        fails fast with `RateLimitedError`; a retry outside waits its exact
        `retry_after`."""
        if not isinstance(limiter, RateLimiter):
            raise _wrong_type("limiter", "a RateLimiter", limiter)
        return self._add("rate_limiter", limiter)

    def bulkhead(self, bulkhead: Bulkhead) -> PipelineBuilder:
        """A bulkhead (its pool sync or async, as the pipeline is run)."""
        if not isinstance(bulkhead, Bulkhead):
            raise _wrong_type("bulkhead", "a Bulkhead", bulkhead)
        return self._add("bulkhead", bulkhead)

    def throttle(self, throttle: AdaptiveThrottle) -> PipelineBuilder:
        """An adaptive throttle around the operation: sheds requests with
        `ThrottledError` and records whether the backend accepted each one
        it let through (the throttle's `accepted` predicate)."""
        if not isinstance(throttle, AdaptiveThrottle):
            raise _wrong_type("throttle", "an AdaptiveThrottle", throttle)
        return self._add("throttle", throttle)

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
    **kwargs)`, or `@pipeline` on a sync or async function. The layers are
    composed once, when the pipeline is built: a blocking retry around a
    breaker runs natively in one call, and no layer adds a coroutine frame
    of its own beyond the strategy's.
    """

    __slots__ = (
        # Holds the native `execute_sync` only (see `__init__`).
        "__dict__",
        "_async",
        "_async_sleep",
        "_fallback",
        "_layers",
        "_needs_async",
        "_sync",
        "_sync_native",
        "on_event",
        "strategies",
    )

    def __init__(
        self,
        strategies: tuple[str, ...],
        layers: list[tuple[str, Any]],
        on_event: Callable[[Event], None] | None,
        async_sleep: Callable[[float], Awaitable[Any]] | None,
    ) -> None:
        self.strategies = strategies
        self.on_event = on_event
        self._async_sleep = async_sleep
        self._needs_async = any(_core.needs_cancellation(name) for name in strategies)
        # The fallback (always the outermost) calls its functions with the call's arguments.
        self._fallback: FallbackChain | None = layers[0][1] if strategies[:1] == ("fallback",) else None
        inner = layers[1:] if self._fallback is not None else layers
        self._layers = inner[::-1]  # inner to outer, the order they wrap in
        self._sync_native = self._native_sync(inner)
        self._sync = None if self._sync_native is not None else self._compose_sync()
        self._async = self._compose_async()
        if (
            self._sync_native is not None
            and self._fallback is None
            and type(self).execute_sync is Pipeline.execute_sync
        ):
            # A retry and/or a breaker alone: `execute_sync` is the native
            # call itself, bound as an instance attribute shadowing the method
            # (no Python frame, no repacking: issue 13), as the executor's is.
            self.__dict__["execute_sync"] = self._sync_native.execute_sync

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

    # ---- composition (once, when built) -------------------------------------------------

    def _native_sync(self, layers: list[tuple[str, Any]]) -> Any:
        """A retry and/or a sync breaker alone run natively, in one call."""
        names = [name for name, _ in layers]
        if not names or not set(names) <= {"retry", "breaker"}:
            return None
        kinds = dict(layers)
        breaker = kinds.get("breaker")
        if breaker is not None and not isinstance(breaker, SyncCircuitBreaker):
            return None
        executor: RetryExecutor | None = kinds.get("retry")
        if executor is None:
            return _core.SyncPipelineCore(self.on_event, breaker)
        sleep = executor._sleep
        return _core.SyncPipelineCore(
            self.on_event,
            breaker,
            executor.policy._core,
            executor.policy.retryable_errors,
            executor.on_retry,
            None if sleep is _SYSTEM_SLEEP else sleep,
            executor.on_event,
            executor._time_source if executor._time_source is not time.time else None,
        )

    def _compose_sync(self) -> Callable[[Callable[[], Any]], Any]:
        listener = self.on_event
        call: Callable[[Callable[[], Any]], Any] = _call_thunk
        for name, layer in self._layers:
            if name == "breaker":
                call = _sync_breaker(layer, listener, call)
            elif name == "retry":
                call = _sync_retry(layer, listener, call)
            elif name == "bulkhead":
                call = _sync_bulkhead(layer, listener, call)
            elif name == "rate_limiter":
                call = _sync_limiter(layer, listener, call)
            elif name == "throttle":
                call = _sync_throttle(layer, listener, call)
            else:  # timeouts and hedging: execute_sync refuses them first
                call = _call_thunk
        return call

    def _compose_async(self) -> Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]:
        listener = self.on_event
        listeners = [] if listener is None else [listener]
        call: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]] = _call_thunk
        for name, layer in self._layers:
            if name == "breaker":
                call = _async_breaker(layer, listener, call)
            elif name == "retry" and isinstance(getattr(call, "breaker", None), AsyncCircuitBreaker):
                # A retry right around the innermost breaker: one layer, the
                # breaker's permit taken inline (no coroutine frame of its own).
                call = _async_retry_breaker(layer, call.breaker, listener)  # type: ignore[attr-defined]
            elif name == "retry":
                call = _async_retry(layer, listener, call)
            elif name == "bulkhead":
                call = _async_bulkhead(layer, listener, call)
            elif name == "rate_limiter":
                call = _async_limiter(layer, listener, call)
            elif name == "throttle":
                call = _async_throttle(layer, listener, call)
            elif name == "hedging":
                call = _async_hedging(layer, listener, call)
            else:  # attempt_timeout, total_timeout
                call = _async_timeout(layer, name, self._async_sleep, listeners, call)
        return call

    # ---- calls ------------------------------------------------------------------------

    def execute_sync(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs `func(*args, **kwargs)` through every strategy (blocking)."""
        native = self._sync_native
        if native is not None and self._fallback is None:
            return native(func, *args, **kwargs)  # type: ignore[no-any-return]
        if not callable(func):
            raise _core.not_callable("func", func)
        if self._needs_async:
            raise TypeError(
                "a pipeline with total_timeout, attempt_timeout or hedging runs only with execute_async: "
                "a blocking call cannot be pre-empted"
            )
        thunk: Callable[[], Any] = _partial(func, *args, **kwargs) if args or kwargs else func
        inner: Callable[[], Any] = (
            _partial(native, thunk) if native is not None else _partial(cast(Any, self._sync), thunk)
        )
        chain = self._fallback
        if chain is None:
            return inner()  # type: ignore[no-any-return]
        return _chain_sync(chain, self.on_event, inner, args, kwargs, True)  # type: ignore[no-any-return]

    def execute_async(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> Awaitable[T]:
        """`await pipeline.execute_async(func, *args, **kwargs)` runs `func`
        through every strategy; `func` may be called several times, and
        concurrently by hedging."""
        if not callable(func):
            raise _core.not_callable("func", func)
        thunk: Callable[[], Awaitable[Any]] = _partial(func, *args, **kwargs) if args or kwargs else func
        chain = self._fallback
        if chain is None:
            return self._async(thunk)
        return _chain_async(chain, self.on_event, _partial(self._async, thunk), args, kwargs, True)

    def __call__(self, func: F) -> F:
        """Decorates a sync or async function with this pipeline."""
        if not callable(func):
            raise _core.not_callable("func", func)
        if is_coroutine_function(func):
            execute_async = self.execute_async

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await execute_async(func, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        execute_sync = self.execute_sync

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return execute_sync(func, *args, **kwargs)

        return wrapper  # type: ignore[return-value]


# ---- layers: each wraps `inner(thunk)`; the innermost calls the thunk itself --------------


def _call_thunk(thunk: Callable[[], Any]) -> Any:
    return thunk()


def _attempt(inner: Callable[[Callable[[], Any]], Any], thunk: Callable[[], Any]) -> Callable[[], Any]:
    """One attempt of what is inside a layer, as a thunk."""
    return thunk if inner is _call_thunk else _partial(inner, thunk)


def _sync_breaker(breaker: Any, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(breaker, SyncCircuitBreaker):

        def wrong(thunk: Callable[[], Any]) -> Any:
            raise TypeError("execute_sync needs a SyncCircuitBreaker")

        return wrong
    call_layer = breaker._call_layer
    return lambda thunk: call_layer(listener, _attempt(inner, thunk))


def _sync_retry(executor: RetryExecutor, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    sleep = executor._sleep
    clock = executor._time_source if executor._time_source is not time.time else None
    retry_call = _core.SyncPipelineCore(
        listener,
        None,
        executor.policy._core,
        executor.policy.retryable_errors,
        executor.on_retry,
        None if sleep is _SYSTEM_SLEEP else sleep,
        executor.on_event,
        clock,
    )
    return lambda thunk: retry_call(_attempt(inner, thunk))


def _sync_bulkhead(bulkhead: Bulkhead, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    execute = bulkhead._execute
    return lambda thunk: execute(listener, _attempt(inner, thunk), (), {})


def _sync_limiter(limiter: RateLimiter, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    admit = limiter._core.admit

    def limiter_layer(thunk: Callable[[], Any]) -> Any:
        admit(listener)
        return inner(thunk)

    return limiter_layer


def _sync_throttle(throttle: AdaptiveThrottle, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    core = throttle._core
    admit, report = core.admit, core.report

    def throttle_layer(thunk: Callable[[], Any]) -> Any:
        admit(listener)
        try:
            result = inner(thunk)
        except Exception as error:
            report(throttle.accepted, None, error)
            raise
        report(throttle.accepted, result, None)
        return result

    return throttle_layer


def _async_breaker(breaker: Any, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(breaker, AsyncCircuitBreaker):

        async def wrong(thunk: Callable[[], Any]) -> Any:
            raise TypeError("execute_async needs an AsyncCircuitBreaker")

        return wrong
    call_layer = breaker._call_layer

    def breaker_layer(thunk: Callable[[], Any]) -> Any:
        return call_layer(listener, _attempt(inner, thunk))

    if inner is _call_thunk:
        breaker_layer.breaker = breaker  # type: ignore[attr-defined]
    return breaker_layer


def _async_retry_breaker(executor: RetryExecutor, breaker: AsyncCircuitBreaker, listener: Any) -> Callable[..., Any]:
    """`retry ∘ breaker` fused: the first attempt takes the breaker's permit
    inline; retries run the general loop over the breaker layer."""
    run_async = executor._run_async
    plain = _plain(executor.policy)
    core = breaker._core
    acquire, success, error_of = core.acquire, core.success, core.error
    call_layer = breaker._call_layer

    async def retry_breaker_layer(thunk: Callable[[], Awaitable[Any]]) -> Any:
        if not plain:
            return await run_async(_partial(call_layer, listener, thunk), (), {}, pipeline_event=listener, library=True)
        try:
            token = acquire(listener)
            try:
                result = await thunk()
            except BaseException as error:
                error_of(token, error, listener, True)
                raise
            success(token, result, listener)
            return result
        except Exception as error:
            first = error
        return await run_async(
            _partial(call_layer, listener, thunk), (), {}, first=first, pipeline_event=listener, library=True
        )

    return retry_breaker_layer


def _async_retry(executor: RetryExecutor, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    run_async = executor._run_async
    plain = _plain(executor.policy)

    async def retry_layer(thunk: Callable[[], Awaitable[Any]]) -> Any:
        attempt = _attempt(inner, thunk)
        if not plain:
            return await run_async(attempt, (), {}, pipeline_event=listener, library=True)
        try:
            return await attempt()
        except Exception as error:
            first = error
        return await run_async(attempt, (), {}, first=first, pipeline_event=listener, library=True)

    return retry_layer


def _async_bulkhead(bulkhead: Bulkhead, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    execute = bulkhead._execute_async
    return lambda thunk: execute(listener, _attempt(inner, thunk), (), {})


def _async_limiter(limiter: RateLimiter, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    admit = limiter._core.admit

    async def limiter_layer(thunk: Callable[[], Awaitable[Any]]) -> Any:
        admit(listener)
        return await inner(thunk)

    return limiter_layer


def _async_throttle(throttle: AdaptiveThrottle, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    core = throttle._core
    admit, report = core.admit, core.report

    async def throttle_layer(thunk: Callable[[], Awaitable[Any]]) -> Any:
        admit(listener)
        try:
            result = await inner(thunk)
        except Exception as error:
            # A cancelled call (not an Exception) records nothing: its answer never came.
            report(throttle.accepted, None, error)
            raise
        report(throttle.accepted, result, None)
        return result

    return throttle_layer


def _async_hedging(hedging: Hedging, listener: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    run = hedging._run
    return lambda thunk: run(_attempt(inner, thunk), listener, True)


def _async_timeout(
    seconds: float, name: str, sleep: Any, listeners: list[Callable[[Event], None]], inner: Callable[..., Any]
) -> Callable[..., Any]:
    return lambda thunk: attempt_with_timeout(_attempt(inner, thunk), (), {}, seconds, name, sleep, listeners)
