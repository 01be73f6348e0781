"""The coverage gate's rules, on tiny made-up sources and lcov files."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage_gate import main

SOURCE = """fn a() {
    work();
    other(); // coverage: unreachable — the caller checked it
}
"""


def lcov(path: str, hits: dict[int, int]) -> str:
    lines = "".join(f"DA:{line},{count}\n" for line, count in hits.items())
    return f"TN:\nSF:{path}\n{lines}end_of_record\n"


def run(tmp_path: Path, hits: dict[int, int], source: str = SOURCE, threshold: str = "100") -> int:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "a.rs").write_text(source)
    (tmp_path / "a.lcov").write_text(lcov(str(tmp_path / "src" / "a.rs"), hits))
    return main(["--root", str(tmp_path), "--component", "core", str(tmp_path / "a.lcov"), "src/*.rs", threshold])


def test_every_line_covered_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, {1: 1, 2: 3, 3: 0}) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[:6] == ["core", "2", "2", "100.00", "%", "100"]


def test_an_uncovered_line_fails_and_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, {1: 1, 2: 0, 3: 0}) == 1
    out = capsys.readouterr().out
    assert "50.00 %" in out
    assert "not covered: src/a.rs: 2" in out


def test_a_lower_threshold_accepts_the_same_run(tmp_path: Path) -> None:
    assert run(tmp_path, {1: 1, 2: 0, 3: 0}, threshold="50") == 0


def test_percent_is_truncated_never_rounded_up_to_the_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = "x\n" * 10000
    hits = {n: 1 for n in range(1, 10001)}
    hits[5] = 0
    assert run(tmp_path, hits, source=source) == 1
    assert "99.99 %" in capsys.readouterr().out


def test_a_marked_line_that_ran_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, {1: 1, 2: 1, 3: 2}) == 1
    assert "src/a.rs:3: marked unreachable but ran 2 time(s)" in capsys.readouterr().out


def test_a_marker_needs_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = SOURCE.replace(" — the caller checked it", "")
    assert run(tmp_path, {1: 1, 2: 1, 3: 0}, source=source) == 1
    assert "src/a.rs:3: unreachable marker without a reason" in capsys.readouterr().out


def test_files_outside_the_glob_and_the_root_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.rs").write_text(SOURCE)
    (tmp_path / "b.py").write_text("x = 1\n")
    report = lcov(str(tmp_path / "src" / "a.rs"), {1: 1, 2: 1}) + lcov(str(tmp_path / "b.py"), {1: 0})
    report += lcov("/elsewhere/dep.rs", {1: 0})
    (tmp_path / "a.lcov").write_text(report)
    assert main(["--root", str(tmp_path), "--component", "core", str(tmp_path / "a.lcov"), "src/*.rs", "100"]) == 0


def test_relative_paths_resolve_against_the_root(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.rs").write_text(SOURCE)
    (tmp_path / "a.lcov").write_text(lcov("src/a.rs", {1: 0}))
    assert main(["--root", str(tmp_path), "--component", "core", str(tmp_path / "a.lcov"), "src/*.rs", "100"]) == 1


def test_a_glob_matching_nothing_fails(tmp_path: Path) -> None:
    (tmp_path / "a.lcov").write_text("")
    assert main(["--root", str(tmp_path), "--component", "js", str(tmp_path / "a.lcov"), "js/*.js", "98"]) == 1


def test_a_report_without_data_for_the_sources_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.rs").write_text(SOURCE)
    (tmp_path / "a.lcov").write_text(lcov("elsewhere/a.rs", {1: 1}))
    assert main(["--root", str(tmp_path), "--component", "core", str(tmp_path / "a.lcov"), "src/*.rs", "100"]) == 1
    assert "has no data for src/*.rs" in capsys.readouterr().out


RACY = """fn claim() {
    loop {
        match cas() {
            Ok(_) => return,
            Err(seen) => retry(seen), // coverage: race — another thread won the CAS
        }
    }
}
"""


@pytest.mark.parametrize("count", [0, 7])
def test_a_race_marked_line_is_excluded_whether_or_not_it_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int
) -> None:
    assert run(tmp_path, {1: 1, 3: 1, 4: 1, 5: count}, source=RACY) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[:7] == ["core", "3", "3", "100.00", "%", "100", "%"]
    assert table[1].split()[7] == "1", "the raced line is listed as excluded"


def test_a_race_marker_needs_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = RACY.replace(" — another thread won the CAS", "")
    assert run(tmp_path, {1: 1, 3: 1, 4: 1, 5: 0}, source=source) == 1
    assert "src/a.rs:5: race marker without a reason" in capsys.readouterr().out
