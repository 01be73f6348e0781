#!/usr/bin/env python3
"""Line-coverage gate for `make coverage`: one table, one verdict.

Reads one lcov file per component (cargo-llvm-cov for core, coverage.py for
the Python package, c8 for the JS layer), keeps the source files matching
the component's glob (repository-relative), and fails when the share of
covered lines is below the component's threshold.

Stable Rust's llvm-cov has no way to exclude a line, so the gate honours
two markers, the same in every language, each a comment on the line itself
with a reason (an ASCII `-` works for the dash too):

- `coverage: unreachable — <reason>`: the line cannot run. The gate
  rejects such a line that did run.
- `coverage: race — <reason>`: the line runs only when threads race (a
  compare-and-swap that lost to another thread's), which no test can
  force without a hook inside the loop. Whether a run reaches it depends
  on scheduling, so the gate neither counts it nor checks that it ran:
  counting it would make the verdict depend on luck either way.

A marker without a reason is an error.

Usage: coverage_gate.py --root DIR --component NAME LCOV GLOB THRESHOLD ...
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

MARKER = re.compile(r"coverage:\s*(?P<kind>unreachable|race)\b(?P<rest>.*)")
REASON = re.compile(r"^\s*(?:—|–|-{1,2})\s*\S")


@dataclass
class Component:
    name: str
    threshold: Fraction
    lines: int = 0
    covered: int = 0
    excluded: int = 0
    missed: dict[str, list[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def passed(self) -> bool:
        return not self.errors and self.covered * 100 >= self.threshold * self.lines


def parse_lcov(path: Path, root: Path) -> dict[str, dict[int, int]]:
    """Repository-relative source path -> {line: hit count}; a line listed
    twice (generic code, several test binaries) counts as hit if any hit."""
    files: dict[str, dict[int, int]] = {}
    current: dict[int, int] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("SF:"):
            source = Path(raw[3:])
            source = source if source.is_absolute() else root / source
            try:
                name = source.resolve().relative_to(root).as_posix()
            except ValueError:  # outside the repository: a dependency
                current = None
                continue
            current = files.setdefault(name, {})
        elif raw.startswith("DA:") and current is not None:
            line, count = raw[3:].split(",")[:2]
            current[int(line)] = max(current.get(int(line), 0), int(float(count)))
        elif raw == "end_of_record":
            current = None
    return files


def measure(name: str, lcov: Path, pattern: str, threshold: str, root: Path) -> Component:
    component = Component(name, Fraction(threshold))
    report = parse_lcov(lcov, root)
    sources = sorted(p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file())
    if not sources:
        component.errors.append(f"no source file matches {pattern}")
    elif not any(source in report for source in sources):
        component.errors.append(f"{lcov} has no data for {pattern}")
    for source in sources:
        hits = report.get(source)
        if hits is None:
            # llvm-cov omits a file without functions (only `mod`/`use`);
            # c8 and coverage.py list every file, loaded or not.
            continue
        text = (root / source).read_text(encoding="utf-8").splitlines()
        for line, count in sorted(hits.items()):
            found = MARKER.search(text[line - 1]) if 0 < line <= len(text) else None
            if found:
                kind = found.group("kind")
                if not REASON.match(found.group("rest")):
                    component.errors.append(f"{source}:{line}: {kind} marker without a reason")
                elif kind == "unreachable" and count > 0:
                    component.errors.append(f"{source}:{line}: marked unreachable but ran {count} time(s)")
                component.excluded += 1
                continue
            component.lines += 1
            if count > 0:
                component.covered += 1
            else:
                component.missed.setdefault(source, []).append(line)
    return component


def ranges(lines: list[int]) -> str:
    spans: list[list[int]] = []
    for line in lines:
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def percent(component: Component) -> str:
    if component.lines == 0:
        return "-"
    # Truncated, so 99.999 % never prints as 100.00 %.
    hundredths = component.covered * 10000 // component.lines
    return f"{hundredths // 100}.{hundredths % 100:02d} %"


def report(components: list[Component]) -> str:
    rows = [("component", "lines", "covered", "percent", "threshold", "excluded", "")]
    for c in components:
        verdict = "ok" if c.passed() else "FAIL"
        rows.append((c.name, str(c.lines), str(c.covered), percent(c), f"{float(c.threshold):g} %", str(c.excluded), verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
           for row in rows]
    for c in components:
        for source, lines in sorted(c.missed.items()):
            out.append(f"{c.name}: not covered: {source}: {ranges(lines)}")
        out.extend(f"{c.name}: {error}" for error in c.errors)
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="repository root")
    parser.add_argument("--component", nargs=4, action="append", required=True,
                        metavar=("NAME", "LCOV", "GLOB", "THRESHOLD"))
    args = parser.parse_args(argv)
    root = args.root.resolve()
    components = [measure(name, Path(lcov), glob, threshold, root) for name, lcov, glob, threshold in args.component]
    print(report(components))
    failed = [c.name for c in components if not c.passed()]
    if failed:
        print(f"coverage gate: FAILED for {', '.join(failed)}", file=sys.stderr)
        return 1
    print("coverage gate: every component meets its threshold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
