"""Async decorators keep the wrapped function's signature when they can,
and fall back to a generic wrapper when they cannot; either way the call
behaves as the function's own."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from conftest import VirtualClock

from resilience import circuit_breaker, retry


def flaky(failures: int) -> Any:
    """An async function failing `failures` times, then returning its arguments."""
    calls = {"n": 0}

    async def fetch(a: int, b: int = 2, /) -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionError("flaky")
        return a, b

    return fetch


def test_positional_only_parameters_stay_positional_only(clock: VirtualClock) -> None:
    fetch = flaky(1)
    wrapped = retry(max_attempts=2, async_sleep_func=clock.async_sleep)(fetch)
    assert inspect.signature(wrapped) == inspect.signature(fetch)
    assert asyncio.run(wrapped(1)) == (1, 2)
    with pytest.raises(TypeError):
        asyncio.run(wrapped(a=1))
    breaker_wrapped = circuit_breaker()(flaky(0))
    assert asyncio.run(breaker_wrapped(5, 6)) == (5, 6)


def test_a_parameter_named_like_the_wrappers_own_uses_the_generic_wrapper(clock: VirtualClock) -> None:
    calls = []

    async def handler(_rs_request: str) -> str:
        calls.append(_rs_request)
        if len(calls) == 1:
            raise ConnectionError("flaky")
        return _rs_request.upper()

    wrapped = retry(max_attempts=2, jitter=False, async_sleep_func=clock.async_sleep)(handler)
    assert asyncio.run(wrapped("ping")) == "PING"
    assert calls == ["ping", "ping"]
    assert clock.sleeps == [1.0]

    breaker_wrapped = circuit_breaker(failure_threshold=1)(handler)
    assert asyncio.run(breaker_wrapped(_rs_request="pong")) == "PONG"
    assert breaker_wrapped.__name__ == "handler"


def test_an_unreadable_signature_uses_the_generic_wrapper() -> None:
    async def probe(x: int) -> int:
        return x * 2

    probe.__signature__ = "not a signature"  # type: ignore[attr-defined]
    with pytest.raises((TypeError, ValueError)):  # TypeError up to 3.12, ValueError from 3.13
        inspect.signature(probe)
    assert asyncio.run(retry(max_attempts=1)(probe)(21)) == 42
    assert asyncio.run(circuit_breaker()(probe)(4)) == 8


def test_a_function_renamed_to_a_non_identifier_keeps_its_name() -> None:
    async def fetch(x: int) -> int:
        return x + 1

    fetch.__name__ = "fetch-user"
    wrapped = retry(max_attempts=1)(fetch)
    assert wrapped.__name__ == "fetch-user"
    assert asyncio.run(wrapped(1)) == 2


def test_a_tuple_of_expected_exceptions_counts_each_and_passes_others_through() -> None:
    class Timeout(Exception):
        pass

    class Refused(Exception):
        pass

    calls = []
    errors = iter([Timeout(), KeyError("not counted"), Refused()])

    def call() -> None:
        calls.append(1)
        raise next(errors)

    wrapped = circuit_breaker(failure_threshold=2, expected_exception=(Timeout, Refused))(call)
    for raised in (Timeout, KeyError, Refused):
        with pytest.raises(raised):
            wrapped()
    with pytest.raises(RuntimeError, match="Circuit breaker is open"):
        wrapped()
    assert len(calls) == 3, "the open breaker did not call the function"
