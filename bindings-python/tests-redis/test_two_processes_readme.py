"""The README's Redis examples (the ```py block after each `<!-- name -->`
marker in bindings-python/README.md, and redis/README.md's ```python
block) run against a real redis-server: in
the two-process example the second process opens within two sync
intervals of the first's trip; two limiters sharing one name admit the
fleet's burst, not one each."""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys

from redis_server import RedisServer

README = Path(__file__).resolve().parents[1] / "README.md"
# redis/README.md shows the Python driver in one ```python block.
REDIS_README = Path(__file__).resolve().parents[2] / "redis" / "README.md"


def run_example(name: str, redis_server: RedisServer, tmp_path: Path) -> str:
    """Runs the README's block after `<!-- name -->` with the server's URL; its output."""
    found = re.search(rf"<!-- {re.escape(name)} -->\n```py\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert found, f"the example {name} is in the README"
    script = tmp_path / name
    script.write_text(found.group(1))
    return subprocess.run(
        [sys.executable, str(script), redis_server.url], capture_output=True, text=True, timeout=60, check=True
    ).stdout


def test_the_two_process_example_runs(redis_server: RedisServer, tmp_path: Path) -> None:
    out = run_example("two_processes.py", redis_server, tmp_path)
    lines = out.splitlines()
    assert lines[0] == "first: CircuitState.OPEN", out
    ms = float(re.fullmatch(r"second: opened by the fleet ([0-9.]+) ms later", lines[1]).group(1))  # type: ignore[union-attr]
    assert ms <= 500, f"the second process opened {ms} ms after the trip (two intervals: 500 ms)"


def test_the_shared_limiter_example_runs(redis_server: RedisServer, tmp_path: Path) -> None:
    out = run_example("shared_limiter.py", redis_server, tmp_path)
    admitted = int(re.fullmatch(r"the fleet admitted (\d+) of 40 calls \(two unshared limiters: 20\)\n", out).group(1))  # type: ignore[union-attr]
    # The burst, leased 5 + 5; the loop takes far less than the 100 ms one more cell needs.
    assert 10 <= admitted <= 11, out


def test_the_redis_readmes_python_example_runs(redis_server: RedisServer, tmp_path: Path) -> None:
    found = re.search(r"```python\n(.*?)```", REDIS_README.read_text(encoding="utf-8"), flags=re.S)
    assert found, "redis/README.md shows the Python driver"
    script = tmp_path / "redis_readme.py"
    script.write_text(found.group(1).replace("redis://127.0.0.1:6379/0", redis_server.url))
    subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True)
