"""The migration path: names that lived in the `errors` module before the
resilience module existed still resolve there, with a DeprecationWarning
that names the new import and points at the user's own line."""

from __future__ import annotations

import subprocess
import sys
from typing import Any
import warnings

import pytest

from conftest import VirtualClock
import resilience.decorators
import resilience.errors
from resilience.retry import RetryPolicy as MovedRetryPolicy  # the submodule (`resilience.retry` is the decorator)


def _line_below() -> int:
    """The line number after the caller's current line."""
    return sys._getframe(1).f_lineno + 1


def test_retry_policy_import_warns_at_the_importing_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line_below()
        from resilience.errors import RetryPolicy
    [warning] = caught
    assert warning.category is DeprecationWarning
    assert str(warning.message) == (
        "Importing RetryPolicy from resilience.errors is deprecated. Use resilience.retry instead "
        "(from resilience.retry import RetryPolicy)."
    )
    assert (warning.filename, warning.lineno) == (__file__, line)
    # The forwarded class is the real one, and it works.
    assert RetryPolicy is MovedRetryPolicy
    assert RetryPolicy(base_delay=0.5, jitter=False).calculate_delay(2) == 1.0


def test_retry_on_error_forwards_to_the_retry_decorator(clock: VirtualClock) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line_below()
        retry_on_error = resilience.errors.retry_on_error
    [warning] = caught
    assert warning.category is DeprecationWarning
    assert str(warning.message) == (
        "resilience.errors.retry_on_error is deprecated. Use the resilience.retry decorator instead "
        "(from resilience import retry)."
    )
    assert "resilience.retry" in str(warning.message)
    assert (warning.filename, warning.lineno) == (__file__, line)
    assert retry_on_error is resilience.decorators.retry

    calls: list[int] = []

    @retry_on_error(ConnectionError, max_attempts=3, base_delay=0.25, jitter=False, sleep_func=clock.sleep)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("flaky")
        return "ok"

    assert flaky() == "ok"
    assert clock.sleeps == [0.25, 0.5]


def test_every_access_warns_and_other_names_do_not() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from resilience.errors import CircuitBreakerOpenError, ConfigurationError  # noqa: F401

        assert caught == []
        resilience.errors.RetryPolicy  # noqa: B018
        resilience.errors.RetryPolicy  # noqa: B018
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="^module 'resilience.errors' has no attribute 'nope'$"):
        resilience.errors.nope  # noqa: B018
    with pytest.raises(ImportError):
        from resilience.errors import nope  # type: ignore[attr-defined]  # noqa: F401


def test_default_filters_show_it_for_the_users_own_code() -> None:
    # Python shows DeprecationWarnings by default only when they are
    # attributed to `__main__`: stacklevel=2 is what makes that happen.
    script = "from resilience.errors import RetryPolicy\nRetryPolicy()\n"
    run: Any = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "<string>:1: DeprecationWarning: Importing RetryPolicy from resilience.errors is deprecated" in run.stderr
