"""Every code example in README.md runs, and every difference the README
claims is pinned by a test that exists."""

from __future__ import annotations

import ast
from pathlib import Path
import re

README = Path(__file__).resolve().parents[1] / "README.md"
TESTS = Path(__file__).resolve().parent


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples() -> None:
    assert len(_python_blocks()) >= 3


def test_readme_examples_run() -> None:
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), {"__name__": "readme_example"})


def test_every_pinned_difference_names_an_existing_test() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Differences from provide.foundation", 1)[1].split("Other differences:", 1)[0]
    pins = re.findall(r"`(test_\w+\.py)::(test_\w+)`", section)
    assert len(pins) >= 10
    for filename, name in pins:
        tree = ast.parse((TESTS / filename).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in names, f"{filename}::{name} is cited in the README but does not exist"
