"""The README's two-process example (the ```py block after the
`<!-- two_processes.py -->` marker in bindings-python/README.md) runs
against a real redis-server: the second process opens within two sync
intervals of the first's trip."""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys

from redis_server import RedisServer

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_two_process_example_runs(redis_server: RedisServer, tmp_path: Path) -> None:
    found = re.search(r"<!-- two_processes.py -->\n```py\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert found, "the two-process example is in the README"
    script = tmp_path / "two_processes.py"
    script.write_text(found.group(1))
    out = subprocess.run(
        [sys.executable, str(script), redis_server.url], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    lines = out.splitlines()
    assert lines[0] == "first: CircuitState.OPEN", out
    ms = float(re.fullmatch(r"second: opened by the fleet ([0-9.]+) ms later", lines[1]).group(1))  # type: ignore[union-attr]
    assert ms <= 500, f"the second process opened {ms} ms after the trip (two intervals: 500 ms)"
