"""Fixtures of the Redis tests: a real `redis-server` per test (started on a
free port in a temp dir, stopped after), and stores that are closed at the
end of the test, with a check that no sync thread outlives its store."""

from __future__ import annotations

from collections.abc import Iterator
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redis_server import RedisServer  # noqa: E402


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()


def _driver_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("resilience-redis-")]


@pytest.fixture
def closing() -> Iterator[list[Any]]:
    """Stores to close after the test; then no driver thread may be left
    (a thread blocked in a connect to a dead server gets its connect timeout)."""
    stores: list[Any] = []
    yield stores
    for store in stores:
        store.close()
    deadline = time.monotonic() + 5
    while _driver_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _driver_threads(), f"threads left: {_driver_threads()}"
