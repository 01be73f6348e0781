#!/usr/bin/env python3
"""Turns the estimates criterion saved under target/criterion into the
markdown table of bench/README.md: median time per call, overhead over the
bare call of the same group, and our overhead divided by each peer
library's in the same run (issue 13's measure: < 1 is less overhead)."""

import json
import os
import sys
from pathlib import Path

PEERS = ("backon", "tokio-retry", "failsafe", "governor")


def median_ns(bench_dir: Path) -> float:
    estimates = json.loads((bench_dir / "new" / "estimates.json").read_text())
    return estimates["median"]["point_estimate"]


def overhead_ratio(ours: float, theirs: float, bare: float | None, peer: str) -> str:
    """Our overhead over the bare call divided by the peer's (time ratio without a bare call)."""
    if bare is None or theirs - bare <= 0:
        return f"{ours / theirs:.2f}x {peer} (time)"
    return f"{max(ours - bare, 0.0) / (theirs - bare):.2f}x {peer}"


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
    groups = sorted(p for p in root.iterdir() if p.is_dir() and p.name[:1] in ("S", "L", "W"))
    if not groups:
        print(f"no criterion results under {root}", file=sys.stderr)
        return 1
    print("| scenario | implementation | median | over bare call | overhead vs peer |")
    print("|---|---|---:|---:|---:|")
    for group in groups:
        rows = {}
        for bench in sorted(group.iterdir()):
            benchmark = bench / "new" / "benchmark.json"
            if benchmark.exists():
                name = json.loads(benchmark.read_text())["function_id"]
                rows[name] = median_ns(bench)
        bare = next((v for k, v in rows.items() if k.startswith("bare call")), None)
        title = json.loads(next(group.glob("*/new/benchmark.json")).read_text())["group_id"]
        for name, ns in rows.items():
            over = f"{ns - bare:+.1f} ns" if bare is not None and not name.startswith("bare") else ""
            peer = ""
            if name.startswith("resilience"):
                # "resilience retry" against "backon retry" and "tokio-retry retry";
                # a variant ("resilience (cached clock)") against the peer's plain row.
                suffix = name[len("resilience"):]
                plain = suffix.split(" (")[0]
                ratios = [
                    overhead_ratio(ns, rows[p + s], bare, p)
                    for p in PEERS
                    for s in dict.fromkeys((suffix, plain))
                    if p + s in rows
                ]
                if title.startswith("W1") and "window" in name:
                    # Issue 9: a window against failsafe's window and against our consecutive breaker.
                    ratios += [
                        overhead_ratio(ns, theirs, bare, other.split(" ")[0] if other.startswith("failsafe") else "ours consecutive")
                        for other, theirs in rows.items()
                        if other.startswith("failsafe") or other == "resilience consecutive"
                    ]
                peer = ", ".join(dict.fromkeys(ratios))
            elif name.startswith("pipeline"):
                # S8: the composed pipeline against the same strategies nested by hand.
                hand = "nested by hand" + name[len("pipeline"):]
                if hand in rows:
                    peer = f"{ns / rows[hand]:.2f}x by hand"
            print(f"| {title} | {name} | {ns:.1f} ns | {over} | {peer} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
