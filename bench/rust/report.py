#!/usr/bin/env python3
"""Turns the estimates criterion saved under target/criterion into the
markdown table of bench/README.md: median time per call, overhead over the
bare call of the same group, and ratio to the peer library in the same run."""

import json
import os
import sys
from pathlib import Path

PEERS = ("backon", "failsafe", "governor")


def median_ns(bench_dir: Path) -> float:
    estimates = json.loads((bench_dir / "new" / "estimates.json").read_text())
    return estimates["median"]["point_estimate"]


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
    groups = sorted(p for p in root.iterdir() if p.is_dir() and p.name[:1] in ("S", "L", "W"))
    if not groups:
        print(f"no criterion results under {root}", file=sys.stderr)
        return 1
    print("| scenario | implementation | median | over bare call | vs peer |")
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
                suffix = name[len("resilience"):]
                for p in PEERS:
                    if p + suffix in rows:
                        peer = f"{ns / rows[p + suffix]:.2f}x {p}"
            elif name.startswith("pipeline"):
                # S8: the composed pipeline against the same strategies nested by hand.
                hand = "nested by hand" + name[len("pipeline"):]
                if hand in rows:
                    peer = f"{ns / rows[hand]:.2f}x by hand"
            print(f"| {title} | {name} | {ns:.1f} ns | {over} | {peer} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
