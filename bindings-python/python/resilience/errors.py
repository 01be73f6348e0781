"""Errors the library itself raises, and the names that used to live here.

`ConfigurationError` (conflicting configuration), `ParameterTypeError` /
`ParameterValueError` (a value the core's rules reject), `SnapshotError` (a
breaker snapshot that cannot be restored) and `CircuitBreakerOpenError` (a
call rejected by an open breaker), `BulkheadFullError`, `RateLimitedError`
and `ThrottledError` are the library's own errors (a timeout raises the
builtin `TimeoutError`).
`RetryPolicy` and `retry_on_error` still resolve here for code written
before the resilience module existed, with a `DeprecationWarning` naming
the new import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any
import warnings

if TYPE_CHECKING:
    # What the deprecated names below resolve to, for type checkers.
    from resilience.decorators import retry
    from resilience.retry import RetryPolicy as RetryPolicy

    retry_on_error = retry


class ConfigurationError(ValueError):
    """Invalid or conflicting configuration.

    Shaped like provide.foundation's `ConfigurationError` (`message`, `code`,
    `context`, `cause`, `config_key`/`config_source` stored as the context
    keys `"config.key"`/`"config.source"`, `add_context`, `to_dict`), and a
    `ValueError`, so code catching either keeps working.
    """

    def __init__(
        self,
        message: str,
        *,
        config_key: str | None = None,
        config_source: str | None = None,
        code: str | None = None,
        context: dict[str, Any] | None = None,
        cause: Exception | None = None,
        **extra_context: Any,
    ) -> None:
        self.message = message
        self.code = code or "CONFIG_ERROR"
        self.context = dict(context or {})
        # The original's dotted keys, so structured logs match.
        if config_key:
            self.context["config.key"] = config_key
        if config_source:
            self.context["config.source"] = config_source
        self.context.update(extra_context)
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause
        super().__init__(message)

    def add_context(self, key: str, value: Any) -> ConfigurationError:
        """Adds `key: value` to the context; returns self for chaining."""
        self.context[key] = value
        return self

    def to_dict(self) -> dict[str, Any]:
        """The error as flat fields for structured logging (as the original)."""
        result: dict[str, Any] = {
            "error.type": type(self).__name__,
            "error.message": self.message,
            "error.code": self.code,
        }
        for key, value in self.context.items():
            # A dotted key keeps its own prefix; others get "error.".
            result[key if "." in key else f"error.{key}"] = value
        if self.cause is not None:
            result["error.cause"] = str(self.cause)
            result["error.cause_type"] = type(self.cause).__name__
        return result


class ParameterTypeError(TypeError):
    """A parameter got a value of the wrong type (a `TypeError`).

    `parameter` names it (`"max_attempts"`, `"attempt"`, `"func"`...);
    `kind` is the core's machine-readable reason: `"wrong_type"` (text,
    `None`, a list... where a number belongs, or something that cannot be
    called) or `"not_an_integer"` (a float where an integer belongs).
    """

    def __init__(self, message: str, *, kind: str, parameter: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.parameter = parameter

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, str(self), self.kind, self.parameter))


class ParameterValueError(ValueError):
    """A parameter got a value outside its range (a `ValueError`).

    `parameter` names it; `kind` is the core's machine-readable reason:
    `"not_a_number"` (NaN), `"too_small"`, `"too_large"` (infinity
    included), `"unknown_name"` (a backoff or jitter name), `"below_other"`
    (`max_delay` below `base_delay`) or `"requires_other"` (a keyword that
    only works together with another one).
    """

    def __init__(self, message: str, *, kind: str, parameter: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.parameter = parameter

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, str(self), self.kind, self.parameter))


def _rebuild(cls: type[ParameterTypeError | ParameterValueError], message: str, kind: str, parameter: str) -> Any:
    return cls(message, kind=kind, parameter=parameter)


class SnapshotError(ValueError):
    """A circuit breaker snapshot (`initial_state=`) could not be restored.

    `kind` is `"malformed"` (not JSON, truncated, another format, a field
    missing or out of range) or `"unsupported_version"` (written by a newer
    release). No breaker was built: a bad snapshot never silently gives a
    closed breaker.
    """

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_snapshot_error, (str(self), self.kind))


def _rebuild_snapshot_error(message: str, kind: str) -> SnapshotError:
    return SnapshotError(message, kind=kind)


class CircuitBreakerOpenError(RuntimeError):
    """An open circuit breaker rejected the call (the function did not run).

    A `RuntimeError` with the original's message, "Circuit breaker is open",
    so `except RuntimeError` and checks of the message keep working.
    `retry_after` is the time in seconds until the breaker's break passes
    and it admits a trial call; 0.0 when it is half-open and its trial
    slots are taken (retry once a trial call finishes); the core's longest
    duration (about 584 years) when it is isolated by hand. `reason` says
    which: `"open"`, `"trials_taken"`, `"isolated"` (or
    `"permits_exhausted"`, when 65 536 permits are out at once).
    """

    # Slots, not an instance dict: the breakers build this error natively
    # (`BaseException.__new__` plus these slots, without running `__init__`),
    # and a rejection should cost little more than a plain RuntimeError.
    __slots__ = ("reason", "retry_after")
    retry_after: float
    reason: str

    def __init__(self, message: str = "Circuit breaker is open", retry_after: float = 0.0, reason: str = "open") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles `args` and `__dict__`; the slots go along too.
        return (self.__class__, (*self.args, self.retry_after, self.reason), self.__dict__ or None)


# Names that lived in provide.foundation's `errors` module before its
# resilience module existed: name -> (module, attribute, warning).
_MOVED: dict[str, tuple[str, str, str]] = {
    "RetryPolicy": (
        "resilience.retry",
        "RetryPolicy",
        "Importing RetryPolicy from resilience.errors is deprecated. Use resilience.retry instead "
        "(from resilience.retry import RetryPolicy).",
    ),
    "retry_on_error": (
        "resilience.decorators",
        "retry",
        "resilience.errors.retry_on_error is deprecated. Use the resilience.retry decorator instead "
        "(from resilience import retry).",
    ),
}


class BulkheadFullError(RuntimeError):
    """A bulkhead had no free slot (and no room in its queue): the
    original's `RuntimeError("Bulkhead '<name>' is at capacity")`, as a
    subclass so a pipeline can tell it from the user's own errors."""


class RateLimitedError(RuntimeError):
    """A rate limiter refused a call: its cells conform only after
    `retry_after` seconds (exactly, if nobody else takes them first)."""

    def __init__(self, message: str = "rate limited", retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (*self.args, self.retry_after), self.__dict__ or None)


class ThrottledError(RuntimeError):
    """An adaptive throttle shed the request locally (it was not sent).

    `retry_after` is a suggested wait in seconds (until the window's oldest
    tenth leaves it); `probability` the rejection probability it was drawn
    against."""

    def __init__(self, message: str = "request throttled locally", retry_after: float = 0.0, probability: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.probability = probability

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (*self.args, self.retry_after, self.probability), self.__dict__ or None)


def __getattr__(name: str) -> Any:
    """Resolves a moved name with a DeprecationWarning (PEP 562)."""
    moved = _MOVED.get(name)
    if moved is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute, message = moved
    # stacklevel=2: the warning names the user's line (the import or the
    # attribute access), and the default filters judge the user's module.
    warnings.warn(message, DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(module), attribute)


__all__ = [
    "BulkheadFullError",
    "CircuitBreakerOpenError",
    "ConfigurationError",
    "ParameterTypeError",
    "ParameterValueError",
    "RateLimitedError",
    "SnapshotError",
    "ThrottledError",
]
