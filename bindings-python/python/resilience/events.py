"""Typed events: what a strategy or a pipeline did, told to one listener.

Give `on_event=` a callable to any strategy (`RetryExecutor`, the
breakers, `FallbackChain`, `Bulkhead`, `timeout`, `hedge`, `RateLimiter`,
`AdaptiveThrottle`) or to a `Pipeline`; it receives one frozen dataclass per event, built from the core's
decisions, so every language reports the same sequence for the same run.
Without a listener nothing is built (no cost on the success path). A
listener that raises an `Exception` is logged (WARNING, logger
"resilience") and ignored, like a failing `on_retry`. Each class's `type`
is the core's stable event name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging
from typing import Any, ClassVar, Union

from resilience import _core, _logging

__all__ = [
    "BreakerRejected",
    "BreakerTransition",
    "BulkheadRejected",
    "Event",
    "FallbackUsed",
    "GaveUp",
    "HedgeStarted",
    "RateLimited",
    "RetryScheduled",
    "Throttled",
    "TimedOut",
]


@dataclass(frozen=True)
class RetryScheduled:
    """Attempt `attempt` failed; the next runs after `delay` seconds.

    `error` is the exception, or None when the attempt returned `result`
    and `retry_on_result` called it a failure."""

    type: ClassVar[str] = "retry_scheduled"
    attempt: int
    delay: float
    error: BaseException | None = None
    result: Any = None


@dataclass(frozen=True)
class GaveUp:
    """The retry sequence ended without success after `attempts` attempts.

    `reason`: "exhausted", "not_retryable", "deadline" or "budget". On a
    returned value judged a failure, the value is still returned."""

    type: ClassVar[str] = "gave_up"
    attempts: int
    reason: str


@dataclass(frozen=True)
class BreakerTransition:
    """A call through the breaker changed its state ("closed", "open",
    "half_open")."""

    type: ClassVar[str] = "breaker_transition"
    from_state: str
    to_state: str


@dataclass(frozen=True)
class BreakerRejected:
    """The breaker did not admit a call; it reopens for trials after
    `retry_after` seconds. `reason`: "open", "trials_taken", "isolated"."""

    type: ClassVar[str] = "breaker_rejected"
    retry_after: float
    reason: str = "open"


@dataclass(frozen=True)
class TimedOut:
    """A timeout of `after` seconds expired and its call was cancelled.

    `strategy`: "timeout" (the standalone strategy), "total_timeout" or
    "attempt_timeout"."""

    type: ClassVar[str] = "timeout"
    strategy: str
    after: float


@dataclass(frozen=True)
class HedgeStarted:
    """Hedged attempt `attempt` (2 or more) started."""

    type: ClassVar[str] = "hedge_started"
    attempt: int


@dataclass(frozen=True)
class FallbackUsed:
    """Fallback number `index` (0-based) is being called."""

    type: ClassVar[str] = "fallback_used"
    index: int


@dataclass(frozen=True)
class BulkheadRejected:
    """The bulkhead had no free slot."""

    type: ClassVar[str] = "bulkhead_rejected"


@dataclass(frozen=True)
class RateLimited:
    """The rate limiter had no cell to give now; one conforms after
    `retry_after` seconds."""

    type: ClassVar[str] = "rate_limited"
    retry_after: float


@dataclass(frozen=True)
class Throttled:
    """The adaptive throttle shed a request locally, drawn against
    `probability`; its history next changes after `retry_after` seconds."""

    type: ClassVar[str] = "throttled"
    retry_after: float
    probability: float


Event = Union[
    RetryScheduled,
    GaveUp,
    BreakerTransition,
    BreakerRejected,
    TimedOut,
    HedgeStarted,
    FallbackUsed,
    BulkheadRejected,
    RateLimited,
    Throttled,
]

# The names are the core's (checked at import: a renamed event fails loudly).
_CLASSES = (
    RetryScheduled,
    GaveUp,
    BreakerTransition,
    BreakerRejected,
    TimedOut,
    HedgeStarted,
    FallbackUsed,
    BulkheadRejected,
    RateLimited,
    Throttled,
)
if tuple(c.type for c in _CLASSES) != tuple(_core.event_types()):
    raise ImportError("resilience.events is out of step with the native module's event names")  # coverage: unreachable — a build of mismatched halves


def deliver(listener: Callable[[Event], None], event: Event) -> None:
    """Hands `event` to `listener`; an `Exception` it raises is logged and
    ignored (anything else propagates)."""
    try:
        listener(event)
    except Exception as error:
        if _logging.enabled(logging.WARNING):
            _logging.listener_failed(error)
