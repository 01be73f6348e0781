"""Shared test helpers: virtual time only, never real sleeps."""

from __future__ import annotations

import pytest


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
