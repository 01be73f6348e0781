"""Errors the library itself raises: `ConfigurationError` (bad
configuration) and `CircuitBreakerOpenError` (a call rejected by an open
breaker)."""

from __future__ import annotations

from typing import Any


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


class CircuitBreakerOpenError(RuntimeError):
    """An open circuit breaker rejected the call (the function did not run).

    A `RuntimeError` with the original's message, "Circuit breaker is open",
    so `except RuntimeError` and checks of the message keep working.
    `retry_after` is the time in seconds until the breaker's recovery
    timeout passes and it admits a trial call; 0.0 when it is half-open and
    its trial slots are taken (retry once a trial call finishes).
    """

    retry_after: float

    def __init__(self, message: str = "Circuit breaker is open", retry_after: float = 0.0) -> None:
        # The breakers build this error natively (`BaseException.__new__`
        # plus the attribute), without running this method: keep the two in step.
        super().__init__(message)
        self.retry_after = retry_after


__all__ = ["CircuitBreakerOpenError", "ConfigurationError"]
