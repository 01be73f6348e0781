"""Smaller differences from provide.foundation that MIGRATION.md lists, each
checked against the installed original where it can run."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from conftest import require_reference

require_reference()  # before importing the reference (and attrs), which need Python >= 3.11

import attrs
from provide.foundation.resilience.bulkhead import Bulkhead as OriginalBulkhead
from provide.foundation.resilience.bulkhead_sync import SyncResourcePool as OriginalSyncResourcePool
from provide.foundation.resilience.circuit_sync import CircuitState as OriginalCircuitState
from provide.foundation.resilience.circuit_sync import SyncCircuitBreaker as OriginalSyncCircuitBreaker
from provide.foundation.resilience.retry import RetryPolicy as OriginalRetryPolicy
import pytest

from resilience import AsyncCircuitBreaker, BackoffStrategy, CircuitState, FallbackChain, RetryPolicy, SyncCircuitBreaker, retry
from resilience.bulkhead import Bulkhead
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool


def test_delays_are_whole_nanoseconds() -> None:
    ours = RetryPolicy(backoff=BackoffStrategy.LINEAR, base_delay=0.1, jitter=False)
    original = OriginalRetryPolicy(backoff=BackoffStrategy.LINEAR, base_delay=0.1, jitter=False)
    assert (ours.calculate_delay(3), original.calculate_delay(3)) == (0.3, 0.30000000000000004)


def test_breakers_compare_the_recovery_timeout_in_nanoseconds() -> None:
    now = [0.1]
    ours = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=0.2, time_source=lambda: now[0])
    original = OriginalSyncCircuitBreaker(failure_threshold=1, recovery_timeout=0.2, time_source=lambda: now[0])
    for breaker in (ours, original):
        with pytest.raises(KeyError):
            breaker.call(lambda: {}["x"])
    now[0] = 0.3  # opened at 0.1, timeout 0.2: 0.1 + 0.2 > 0.3 in floats
    assert (ours.state(), original.state()) == (CircuitState.HALF_OPEN, OriginalCircuitState.OPEN)


def test_retry_policy_is_a_plain_frozen_class_not_attrs() -> None:
    assert attrs.has(OriginalRetryPolicy) and not attrs.has(RetryPolicy)
    with pytest.raises(attrs.exceptions.NotAnAttrsClassError):
        attrs.evolve(RetryPolicy(), max_attempts=5)
    assert RetryPolicy(backoff="linear").backoff is BackoffStrategy.LINEAR  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "attribute", "value"),
    [
        (SyncCircuitBreaker, "failure_threshold", 3),
        (SyncCircuitBreaker, "recovery_timeout", 1.0),
        (SyncCircuitBreaker, "expected_exception", KeyError),
        (AsyncCircuitBreaker, "failure_threshold", 3),
        (AsyncCircuitBreaker, "recovery_timeout", 1.0),
        (AsyncCircuitBreaker, "expected_exception", KeyError),
        (SyncResourcePool, "max_concurrent", 3),
        (SyncResourcePool, "max_queue_size", 3),
        (SyncResourcePool, "timeout", 1.0),
        (AsyncResourcePool, "max_concurrent", 3),
    ],
)
def test_configuration_attributes_are_read_only(make: Any, attribute: str, value: Any) -> None:
    # The original's were plain attributes; here the core validated them once.
    target = make()
    before = getattr(target, attribute)
    with pytest.raises(AttributeError):
        setattr(target, attribute, value)
    assert getattr(target, attribute) == before
    original = OriginalSyncCircuitBreaker()
    original.failure_threshold = 3  # what the original allowed
    assert original.failure_threshold == 3


def test_a_fallback_success_emits_no_record(caplog: Any) -> None:
    # The original logged a TRACE record for every primary success.
    chain = FallbackChain(fallbacks=[lambda: "backup"])
    with caplog.at_level(1, logger="resilience"):
        assert chain.execute(lambda: "primary") == "primary"
        assert asyncio.run(chain.execute_async(lambda: "primary")) == "primary"
    assert caplog.records == []


def test_bulkhead_events_are_debug_records(caplog: Any) -> None:
    # The original emitted hub events; here they are DEBUG records of the
    # "resilience" logger, named like the original's events.
    assert OriginalBulkhead(name="db", pool=OriginalSyncResourcePool()).execute(lambda: 1) == 1
    bulkhead = Bulkhead(name="db", pool=SyncResourcePool())
    with caplog.at_level(logging.DEBUG, logger="resilience"):
        assert bulkhead.execute(lambda: 1) == 1
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "bulkhead.acquired"),
        ("DEBUG", "bulkhead.completed"),
        ("DEBUG", "bulkhead.released"),
    ]
    assert {r.bulkhead_name for r in caplog.records} == {"db"}


def test_a_sync_retry_function_is_a_native_callable() -> None:
    def fetch(url: str, *, timeout: float = 1.0) -> str:
        """Fetches."""
        return url

    wrapped = retry(fetch)
    assert not inspect.isfunction(wrapped)
    assert (wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__) == ("fetch", "Fetches.", fetch)  # type: ignore[attr-defined]
    assert inspect.signature(wrapped) == inspect.signature(fetch)
    assert wrapped("u") == "u"
