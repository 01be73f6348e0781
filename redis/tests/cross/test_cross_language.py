"""Processes in Rust, Python and Node share ONE breaker through one real
`redis-server` (started on a free port in a temp dir, stopped after).

The peers (`redis/examples/fleet_peer.rs`, `redis/tests/cross/peer.py`,
`bindings-wasm/tests/redis/cross-peer.mjs`) speak one line protocol on
stdin/stdout. A failure burst in any one of them opens the other two within
two sync intervals; after the break, the three together send at most
`half_open_max_calls` probes at once to a dependency this test serves (it
counts them centrally). Run by `make test-redis`; the paths of the Rust peer
and the Python interpreter come from the environment (RESILIENCE_RUST_PEER,
RESILIENCE_PYTHON), defaulting to the repository's build and venv.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import socketserver
import subprocess
import sys
import threading
import time

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bindings-python" / "tests-redis"))

from redis_server import RedisServer  # noqa: E402

INTERVAL_MS = 200
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RUST_PEER = os.environ.get("RESILIENCE_RUST_PEER", str(TARGET / "debug" / "examples" / "fleet_peer"))
PYTHON = os.environ.get("RESILIENCE_PYTHON", sys.executable)


class Peer:
    def __init__(self, language: str, argv: list[str], cwd: Path) -> None:
        self.language = language
        self.process = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.expect("ready") == "ready", f"the {language} peer did not start"

    def expect(self, word: str, within: float = 30) -> str:
        assert self.process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline().strip()))  # type: ignore[union-attr]
        reader.start()
        reader.join(within)
        line = result[0] if result else "<nothing>"
        assert line.startswith(word), f"the {self.language} peer said {line!r}, not {word}"
        return line

    def ask(self, line: str, word: str, within: float = 30) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.expect(word, within)

    def quit(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise AssertionError(f"the {self.language} peer did not exit") from None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def peers(redis_server: RedisServer) -> Iterator[list[Peer]]:
    url = redis_server.url
    started = [
        Peer("Rust", [RUST_PEER, url], ROOT),
        Peer("Python", [PYTHON, str(ROOT / "redis" / "tests" / "cross" / "peer.py"), url], ROOT),
        Peer("Node", ["node", "tests/redis/cross-peer.mjs", url], ROOT / "bindings-wasm"),
    ]
    try:
        yield started
    finally:
        for peer in started:
            peer.quit()
        assert all(p.process.returncode == 0 for p in started), [p.process.returncode for p in started]


@pytest.mark.parametrize("tripper", [0, 1, 2], ids=["Rust trips", "Python trips", "Node trips"])
def test_a_failure_burst_in_one_language_opens_the_others_within_two_intervals(
    peers: list[Peer], tripper: int
) -> None:
    assert peers[tripper].ask("fail payments 10", "state") == "state open"
    for i, peer in enumerate(peers):
        if i == tripper:
            continue
        took_ms = float(peer.ask("await-open payments", "open").split()[1])
        assert took_ms <= 2 * INTERVAL_MS, (
            f"the {peer.language} peer opened {took_ms} ms after the {peers[tripper].language} trip"
        )


class Dependency(socketserver.ThreadingTCPServer):
    """The dependency the peers probe: down for the first `healthy_after`
    probes, then up. Every call it gets while down is a trial (the fleet is
    open or half-open until one succeeds); it counts how many run at once."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, healthy_after: int) -> None:
        super().__init__(("127.0.0.1", 0), _Probe)
        self.lock = threading.Lock()
        self.healthy_after = healthy_after
        self.trials = 0
        self.in_flight = 0
        self.most_at_once = 0
        self.recovered = False


class _Probe(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        d: Dependency = self.server  # type: ignore[assignment]
        self.rfile.readline()
        with d.lock:
            if d.recovered:
                self.wfile.write(b"ok\n")
                return
            d.trials += 1
            n = d.trials
            d.in_flight += 1
            d.most_at_once = max(d.most_at_once, d.in_flight)
        time.sleep(0.1)
        with d.lock:
            d.in_flight -= 1
            ok = n > d.healthy_after
            d.recovered = d.recovered or ok
        self.wfile.write(b"ok\n" if ok else b"down\n")


def test_the_three_languages_send_at_most_half_open_max_calls_probes(peers: list[Peer]) -> None:
    dependency = Dependency(healthy_after=6)
    server = threading.Thread(target=dependency.serve_forever, daemon=True)
    server.start()
    try:
        port = dependency.server_address[1]
        assert peers[0].ask("fail inventory 1", "state") == "state open"
        for peer in peers[1:]:
            peer.ask("await-open inventory", "open")
        # Two callers in each process: without fleet leases, 3 x 2 trials could run at once.
        for peer in peers:
            assert peer.process.stdin is not None
            peer.process.stdin.write(f"probe inventory {port}\n")
            peer.process.stdin.flush()
        answers = [peer.expect("closed", within=40) for peer in peers]
    finally:
        dependency.shutdown()
        dependency.server_close()
    assert dependency.recovered, f"the fleet probed until the dependency recovered ({dependency.trials} trials)"
    assert dependency.most_at_once <= 2, (
        f"{dependency.most_at_once} probes ran at once across Rust, Python and Node; half_open_max_calls is 2"
    )
    print(f"{dependency.trials} trials, at most {dependency.most_at_once} at once; {answers}")
