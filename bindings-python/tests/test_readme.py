"""Every code example in README.md runs (its differences from
provide.foundation are listed, and pinned, in MIGRATION.md)."""

from __future__ import annotations

from pathlib import Path
import re

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples() -> None:
    assert len(_python_blocks()) >= 3


def test_readme_examples_run() -> None:
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), {"__name__": "readme_example"})
