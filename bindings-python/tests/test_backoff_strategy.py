"""`BackoffStrategy` reads as the original's does.

The original declares `class BackoffStrategy(StrEnum)` with `enum.StrEnum`
(provide-foundation requires Python 3.11+). `StrEnum.__str__` and
`__format__` give the member's value on every CPython that has it (3.11,
3.12, 3.13): `str(BackoffStrategy.FIXED) == "fixed"`, while the repr shows
the member. A plain `(str, Enum)` would read `"BackoffStrategy.FIXED"` from
3.11 on, which is what the original does *not* do. On 3.9 and 3.10, which
have no `enum.StrEnum`, `resilience._compat.StrEnum` gives the same answers.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest
from conftest import reference

from resilience import BackoffStrategy
import resilience._compat


def _readings(member: enum.Enum) -> tuple[str, str, str, str]:
    return (str(member), format(member), f"{member}", repr(member))


def test_backoff_strategy_is_a_str_enum() -> None:
    assert BackoffStrategy.LINEAR == "linear"
    assert str(BackoffStrategy.FIXED) == "fixed"
    assert str(BackoffStrategy.EXPONENTIAL) == "exponential"
    assert f"{BackoffStrategy.FIBONACCI}" == "fibonacci"
    assert repr(BackoffStrategy.FIXED) == "<BackoffStrategy.FIXED: 'fixed'>"
    assert isinstance(BackoffStrategy.FIXED, str)
    if sys.version_info >= (3, 11):
        assert issubclass(BackoffStrategy, enum.StrEnum)
    assert [m.value for m in BackoffStrategy] == ["fixed", "linear", "exponential", "fibonacci"]


def test_every_member_reads_exactly_as_the_originals() -> None:
    OriginalBackoffStrategy = reference("provide.foundation.resilience.types").BackoffStrategy
    assert issubclass(OriginalBackoffStrategy, enum.StrEnum)
    pairs = list(zip(BackoffStrategy, OriginalBackoffStrategy))
    assert len(pairs) == len(OriginalBackoffStrategy) == len(BackoffStrategy)
    for ours, theirs in pairs:
        assert _readings(ours) == _readings(theirs)


# Run the compatibility module itself (stdlib only) under each CPython found:
# on 3.9/3.10 its own StrEnum, from 3.11 the stdlib's.
PROBE = """
import sys
namespace = {"__name__": "compat_probe"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), namespace)
class BackoffStrategy(namespace["StrEnum"]):
    FIXED = "fixed"
m = BackoffStrategy.FIXED
print(repr((str(m), format(m), f"{m}", repr(m), isinstance(m, str))))
"""


def _find_python(version: str) -> str | None:
    """An interpreter of `version` (pyenv's builds, or PATH), checked by running it."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(str(p) for p in pyenv.glob(f"versions/{version}.*/bin/python{version}"))
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        try:
            run = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30,
            )
        except OSError:
            continue
        if run.returncode == 0 and run.stdout.strip() == version:
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_str_is_the_value_on_every_supported_python(version: str) -> None:
    python = _find_python(version)
    if python is None:
        # A developer's machine without pyenv's builds. This project's
        # machines (and CI) have all five, so there it runs; the wheel's own
        # oldest/newest runs (make test-python-versions) fail, never skip,
        # when an interpreter is missing.
        pytest.skip(f"no Python {version} on this machine")
    compat = Path(resilience._compat.__file__)
    run = subprocess.run(
        [python, "-c", PROBE, str(compat)], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == repr(("fixed", "fixed", "fixed", "<BackoffStrategy.FIXED: 'fixed'>", True))
