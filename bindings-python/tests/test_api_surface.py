"""The drop-in contract, checked against the installed provide-foundation
0.4.10: every exported name exists in the same submodule, with the same
parameters, defaults and coroutine-ness."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Any, TypeVar

import pytest
from conftest import require_reference

import resilience

require_reference()

SUBMODULES = [
    "retry",
    "types",
    "defaults",
    "circuit_sync",
    "circuit_async",
    "fallback",
    "decorators",
    "bulkhead",
    "bulkhead_sync",
    "bulkhead_async",
]

# Defaults the original spells as attrs factories (shown as NOTHING).
FACTORY = "NOTHING"


def _public_names(module: Any) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    prefix = "provide.foundation.resilience"
    return [
        n
        for n in dir(module)
        if not n.startswith("_") and getattr(getattr(module, n), "__module__", "").startswith(prefix)
    ]


def _params(obj: Any) -> list[tuple[str, Any, Any]]:
    params = []
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self":
            continue  # positional-only on native methods; callers never name it
        default = p.default
        if repr(default) == FACTORY:
            default = FACTORY
        params.append((p.name, p.kind, default))
    return params


def _same_prefix(original: Any, ours: Any) -> None:
    theirs, mine = _params(original), _params(ours)
    # Ours may add trailing keyword-only extensions (seed, half_open_max_calls).
    assert len(mine) >= len(theirs), (theirs, mine)
    for (name, kind, default), (name2, kind2, default2) in zip(theirs, mine):
        assert (name, kind) == (name2, kind2), (theirs, mine)
        if default is not FACTORY and default is not inspect.Parameter.empty:
            assert default == default2, (name, default, default2)
    for name, kind, default in mine[len(theirs) :]:
        assert kind is inspect.Parameter.KEYWORD_ONLY and default is not inspect.Parameter.empty, name


@pytest.mark.parametrize("submodule", SUBMODULES)
def test_submodule_exports_match(submodule: str) -> None:
    original = importlib.import_module(f"provide.foundation.resilience.{submodule}")
    ours = importlib.import_module(f"resilience.{submodule}")
    for name in _public_names(original):
        assert hasattr(ours, name), f"resilience.{submodule}.{name} is missing"
        a, b = getattr(original, name), getattr(ours, name)
        if inspect.isclass(a) and not issubclass(a, BaseException):
            if issubclass(a, __import__("enum").Enum):
                assert [(m.name, m.value) for m in a] == [(m.name, m.value) for m in b]
                continue
            _same_prefix(a, b)
            for attr, member in vars(a).items():
                if attr.startswith("_") or not inspect.isfunction(member):
                    continue
                mine = getattr(b, attr)
                assert asyncio.iscoroutinefunction(member) == asyncio.iscoroutinefunction(mine), f"{name}.{attr}"
                _same_prefix(member, mine)
        elif inspect.isfunction(a):
            assert asyncio.iscoroutinefunction(a) == asyncio.iscoroutinefunction(b), name
            _same_prefix(a, b)
        elif not callable(a) and not isinstance(a, TypeVar):
            assert a == b, name


# Names ours exports beyond the original's (each one listed in MIGRATION.md).
ADDED_EXPORTS = {
    "AdaptiveThrottle",
    "BreakerMetrics",
    "BulkheadFullError",
    "CircuitBreakerOpenError",
    "Hedging",
    "Pipeline",
    "PipelineBuilder",
    "RateLimitedError",
    "RateLimiter",
    "RetryBudget",
    "SnapshotError",
    "ThrottleStats",
    "ThrottledError",
    "Timeout",
    "hedge",
    "rate_limited",
    "timeout",
}


def test_package_exports_match() -> None:
    import provide.foundation.resilience as original

    assert sorted(original.__all__) == sorted(set(resilience.__all__) - ADDED_EXPORTS)
    for name in ADDED_EXPORTS:
        assert name in resilience.__all__ and hasattr(resilience, name)


def test_middleware_retry_middleware_matches() -> None:
    from provide.foundation.transport.middleware import RetryMiddleware as Original

    from resilience.middleware import RetryMiddleware

    assert asyncio.iscoroutinefunction(RetryMiddleware.execute_with_retry)
    for name in ("execute_with_retry", "process_request", "process_response", "process_error"):
        _same_prefix(getattr(Original, name), getattr(RetryMiddleware, name))
    assert [p for p in inspect.signature(Original).parameters] == [
        p for p in inspect.signature(RetryMiddleware).parameters
    ]


def test_sync_classes_have_no_async_twins() -> None:
    from resilience.bulkhead_sync import SyncResourcePool

    for cls in (resilience.SyncCircuitBreaker, SyncResourcePool):
        for attr in dir(cls):
            if not attr.startswith("__"):
                assert not asyncio.iscoroutinefunction(getattr(cls, attr)), f"{cls.__name__}.{attr}"
