"""Small helpers that keep the package working on Python 3.9 to 3.13."""

from __future__ import annotations

import asyncio
import inspect
import sys
from enum import Enum
from typing import Any

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, Enum):
        """`enum.StrEnum` (3.11+) for older Pythons: members are strings and
        `str()`/`format()` give the value."""

        def __str__(self) -> str:
            return str.__str__(self)

        def __format__(self, format_spec: str) -> str:
            return str.__format__(str(self), format_spec)


def is_coroutine_function(func: Any) -> bool:
    """`asyncio.iscoroutinefunction` without its 3.14 deprecation warning.

    Also true for objects marked the asyncio way (e.g. `unittest.mock.AsyncMock`).
    """
    if inspect.iscoroutinefunction(func):
        return True
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    return marker is not None and getattr(func, "_is_coroutine", None) is marker


__all__ = ["StrEnum", "is_coroutine_function"]
