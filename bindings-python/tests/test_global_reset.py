"""Breakers made by `@circuit_breaker` in application code (not in test
files) are registered for `reset_circuit_breakers_for_testing`, as in the
original; those made in test files are kept apart."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from resilience.decorators import reset_circuit_breakers_for_testing

# Compiled under an application file name and run on a fresh thread, so no
# test file is on the stack when the decorator registers the breaker.
APP_SOURCE = """
from resilience import circuit_breaker

@circuit_breaker(failure_threshold=1)
def fetch():
    raise ConnectionError("down")
"""


def make_app_function() -> Any:
    namespace: dict[str, Any] = {}
    code = compile(APP_SOURCE, "/srv/app/service.py", "exec")
    thread = threading.Thread(target=exec, args=(code, namespace))
    thread.start()
    thread.join(10)
    return namespace["fetch"]


def test_an_application_breaker_is_reset_by_the_global_reset() -> None:
    fetch = make_app_function()
    with pytest.raises(ConnectionError):
        fetch()
    with pytest.raises(RuntimeError, match="Circuit breaker is open"):
        fetch()
    asyncio.run(reset_circuit_breakers_for_testing())
    with pytest.raises(ConnectionError):
        fetch()  # closed again: the function runs


def test_a_breaker_made_in_a_test_file_is_left_alone() -> None:
    from resilience import circuit_breaker

    @circuit_breaker(failure_threshold=1)
    def fetch() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        fetch()
    asyncio.run(reset_circuit_breakers_for_testing())
    with pytest.raises(RuntimeError, match="Circuit breaker is open"):
        fetch()
