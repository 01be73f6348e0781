"""MIGRATION.md: every difference it lists names tests that exist, and its
code examples run."""

from __future__ import annotations

import ast
from pathlib import Path
import re

MIGRATION = Path(__file__).resolve().parents[1] / "MIGRATION.md"
README = Path(__file__).resolve().parents[1] / "README.md"
TESTS = Path(__file__).resolve().parent
PIN = re.compile(r"`(test_\w+\.py)::(test_\w+)`")


def _text() -> str:
    return MIGRATION.read_text(encoding="utf-8")


def _differences() -> list[str]:
    """The bullets of the "Differences" section, each with its continuation lines."""
    section = _text().split("## 3. Differences", 1)[1]
    bullets: list[str] = []
    for line in section.splitlines():
        if line.startswith("- "):
            bullets.append(line)
        elif line.startswith("  ") and bullets:
            bullets[-1] += "\n" + line
    return bullets


def _test_names(filename: str) -> set[str]:
    tree = ast.parse((TESTS / filename).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_difference_names_a_test() -> None:
    bullets = _differences()
    assert len(bullets) >= 25
    for bullet in bullets:
        assert PIN.search(bullet), f"no test is named for: {bullet.splitlines()[0]}"


def test_every_named_test_exists() -> None:
    pins = PIN.findall(_text())
    assert len(pins) >= 50
    for filename, name in pins:
        assert (TESTS / filename).is_file(), f"{filename} (cited in MIGRATION.md) does not exist"
        assert name in _test_names(filename), f"{filename}::{name} is cited in MIGRATION.md but does not exist"


def test_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", _text(), flags=re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, str(MIGRATION), "exec"), {"__name__": "migration_example"})


def test_the_readme_links_the_guide_and_keeps_no_list_of_its_own() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "(MIGRATION.md)" in readme
    assert not PIN.search(readme), "differences are listed (and pinned) in MIGRATION.md only"
