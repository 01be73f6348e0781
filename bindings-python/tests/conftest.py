"""Shared test helpers: virtual time only, never real sleeps."""

from __future__ import annotations

import importlib
import sys
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
        pytest.skip(REFERENCE_SKIP, allow_module_level=True)


def reference(module: str) -> ModuleType:
    """Imports a module of the reference library, or skips the calling test
    below Python 3.11."""
    if sys.version_info < REFERENCE_MIN_PYTHON:
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
