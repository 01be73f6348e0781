"""Shared test helpers: virtual time only, never real sleeps."""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any
from types import ModuleType

import pytest

# provide-foundation 0.4.10, the library this package is a drop-in for, is the
# reference some tests compare with; it requires Python >= 3.11, while the
# wheel supports 3.9. Below 3.11 those comparisons are skipped with this
# reason; from 3.11 on a missing reference is an import error, never a skip.
REFERENCE_MIN_PYTHON = (3, 11)
REFERENCE_SKIP = "provide-foundation 0.4.10 (the reference) requires Python >= 3.11"


def require_reference() -> None:
    """Skips the calling test module below Python 3.11 (call it before
    importing the reference)."""
    if sys.version_info < REFERENCE_MIN_PYTHON:
        # The reference library does not install below 3.11 (REFERENCE_SKIP).
        pytest.skip(REFERENCE_SKIP, allow_module_level=True)


def reference(module: str) -> ModuleType:
    """Imports a module of the reference library, or skips the calling test
    below Python 3.11."""
    if sys.version_info < REFERENCE_MIN_PYTHON:
        # As above: no reference to compare with below 3.11.
        pytest.skip(REFERENCE_SKIP)
    return importlib.import_module(module)


class VirtualClock:
    """A clock in integer nanoseconds whose sleeps advance it at once and
    are recorded (the test twin of the core's ManualClock)."""

    def __init__(self, start_ns: int = 0) -> None:
        self.ns = start_ns
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.ns / 1e9

    def advance(self, seconds: float) -> None:
        self.ns += round(seconds * 1e9)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is virtual: when nothing is ready, it jumps
    to the next timer instead of waiting (asyncio.sleep, asyncio.timeout and
    call_later all run on it). Never a real sleep; a loop with nothing left
    to wake is a deadlock and fails the test."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        select = self._selector.select  # type: ignore[attr-defined]

        def virtual_select(timeout: float | None = None) -> Any:
            events = select(0)
            if not events:
                assert timeout is not None, "deadlock: nothing scheduled on the virtual loop"
                self.now += max(timeout, 0.0)
            return events

        self._selector.select = virtual_select  # type: ignore[attr-defined]

    def time(self) -> float:
        return self.now


def run_virtual(coro: Any) -> Any:
    """Runs `coro` on a fresh virtual-time loop and checks that nothing it
    started is still pending (cancelled losers and timers included)."""
    loop = VirtualTimeLoop()
    try:
        result = loop.run_until_complete(coro)
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        assert not left, f"tasks left pending: {left}"
        return result
    finally:
        loop.close()


