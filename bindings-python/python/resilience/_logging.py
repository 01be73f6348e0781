"""Log records of the `resilience` logger, shaped like provide.foundation's.

Every message has the original's text; the original's structured fields
travel as `extra` attributes of the record. Callers check `enabled(level)`
first (the native loops do the same check), so nothing is formatted when the
level is filtered out or nobody listens.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("resilience")


def _has_listener() -> bool:
    """Whether a record would reach a handler other than a NullHandler."""
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if type(handler) is not logging.NullHandler:
                return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def enabled(level: int) -> bool:
    """Whether a record at `level` would be emitted and received by someone."""
    return logger.isEnabledFor(level) and _has_listener()


def _name(func: Any) -> str:
    return getattr(func, "__name__", "anonymous")


def retry_attempt(attempt: int, max_attempts: int, delay: float, error: BaseException) -> None:
    logger.info(
        f"Retry {attempt}/{max_attempts} after {delay:.2f}s",
        extra={
            "attempt": attempt,
            "max_attempts": max_attempts,
            "delay": delay,
            "error": str(error),
            "error_type": type(error).__name__,
        },
    )


def retry_exhausted(max_attempts: int, error: BaseException) -> None:
    logger.error(
        f"All {max_attempts} retry attempts failed",
        extra={"attempts": max_attempts, "error": str(error), "error_type": type(error).__name__},
    )


def retry_callback_failed(error: BaseException) -> None:
    logger.warning("Retry callback failed", extra={"error": str(error)})


def fallback_primary_failed(func: Any, error: BaseException, fallback_count: int) -> None:
    logger.warning(
        "Primary function failed, trying fallbacks",
        extra={"func": _name(func), "error": str(error), "fallback_count": fallback_count},
    )


def fallback_unexpected(error: BaseException, expected: Any) -> None:
    types = expected if isinstance(expected, tuple) else (expected,)
    logger.debug(
        "Primary function failed with unexpected exception type",
        extra={"exception_type": type(error).__name__, "expected_types": [_name(t) for t in types]},
    )


def fallback_succeeded(index: int, func: Any) -> None:
    logger.info("Fallback succeeded", extra={"fallback_index": index, "fallback_name": _name(func)})


def fallback_failed(index: int, func: Any, error: BaseException) -> None:
    logger.warning(
        "Fallback failed",
        extra={"fallback_index": index, "fallback_name": _name(func), "error": str(error)},
    )


def fallback_exhausted(primary: Any, fallback_count: int) -> None:
    logger.error(
        "All fallbacks exhausted",
        extra={"primary_func": _name(primary), "fallback_count": fallback_count},
    )


def fallback_added(fallback_count: int, func: Any) -> None:
    logger.debug(
        "Added fallback to chain",
        extra={"fallback_count": fallback_count, "fallback_name": _name(func)},
    )

# A library never configures logging; without a handler of the application's,
# records are dropped instead of going to logging's last-resort stderr handler.
logger.addHandler(logging.NullHandler())


def listener_failed(error: BaseException) -> None:
    logger.warning("Event listener failed", extra={"error": str(error)})
