"""Errors the library itself raises for bad configuration."""

from __future__ import annotations

from typing import Any


class ConfigurationError(ValueError):
    """Invalid or conflicting configuration.

    Shaped like provide.foundation's `ConfigurationError` (`message`, `code`,
    `context`, `cause`), and a `ValueError`, so code catching either keeps working.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        context: dict[str, Any] | None = None,
        cause: Exception | None = None,
        **extra_context: Any,
    ) -> None:
        self.message = message
        self.code = code or "CONFIG_ERROR"
        self.context = dict(context or {})
        self.context.update(extra_context)
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause
        super().__init__(message)


__all__ = ["ConfigurationError"]
