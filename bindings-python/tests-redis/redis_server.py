"""A real, throwaway `redis-server` for the Redis tests (the Python twin of
`redis/src/testing.rs`): started on a free port in a temporary directory
(``redis-server --port P --bind 127.0.0.1 --dir TMP --save '' --daemonize
yes --pidfile TMP/r.pid``), stopped by that pid. It can be paused
(SIGSTOP), resumed, killed, and restarted empty on the same port.

Nothing is mocked and nothing is skipped: without `redis-server` on the
PATH, `RedisServer.start()` fails with how to install it.
"""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any, Callable

INSTALL_HINT = (
    "redis-server is not installed: run `make test-redis` (it installs Debian's package), "
    "or `apt-get install -y redis-server`"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(") ", 1)[-1][:1]
    return state not in ("Z", "X")


def _command(port: int, *args: str, timeout: float = 2.0) -> bytes:
    """One command in RESP over a plain socket (the harness needs no client)."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            data += chunk
            if not chunk or _complete(data):
                return data


def _complete(data: bytes) -> bool:
    if data[:1] in (b"+", b"-", b":"):
        return data.endswith(b"\r\n")
    if data[:1] == b"$":
        head, _, rest = data.partition(b"\r\n")
        n = int(head[1:])
        return n < 0 or len(rest) >= n + 2
    return data.endswith(b"\r\n")


class RedisServer:
    """A `redis-server` of this test run."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="resilience-redis-py-"))
        self.port = 0
        self.pid: int | None = None

    @classmethod
    def start(cls) -> RedisServer:
        if shutil.which("redis-server") is None:
            raise RuntimeError(INSTALL_HINT)
        server = cls()
        last = ""
        for _ in range(5):
            server.port = _free_port()
            try:
                server._launch()
                return server
            except RuntimeError as error:  # another process took the port: try another
                last = str(error)
        raise RuntimeError(last)

    def _launch(self) -> None:
        pidfile = self.dir / "r.pid"
        pidfile.unlink(missing_ok=True)
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pidfile)],
            check=True, stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.02)
                continue
            if not _alive(self.pid):
                raise RuntimeError(f"redis-server on port {self.port} exited at start")
            if self.ping():
                return
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within 10 s")

    def ping(self) -> bool:
        try:
            return _command(self.port, "PING", timeout=0.5).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *args: str) -> bytes:
        """One command's raw reply."""
        return _command(self.port, *args)

    def command_calls(self, command: str) -> int:
        """`calls` of `command` in INFO commandstats (commands run inside
        scripts count under their own names)."""
        info = self.command("INFO", "commandstats").decode()
        prefix = f"cmdstat_{command}:calls="
        for line in info.splitlines():
            if line.startswith(prefix):
                return int(line[len(prefix):].split(",")[0])
        return 0

    def pause(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        pid, self.pid = self.pid, None
        if pid is None:
            return
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def restart_empty(self) -> None:
        """Kills the server and starts an empty one on the same port."""
        self.kill()
        deadline = time.monotonic() + 10
        while True:
            try:
                self._launch()
                return
            except (RuntimeError, subprocess.CalledProcessError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(within: float, what: str, condition: Callable[[], Any]) -> float:
    """Polls `condition` until it holds; fails naming `what` after `within`
    seconds. Returns how long it took (never a fixed sleep that assumes a speed)."""
    start = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - start
        assert time.monotonic() - start < within, f"not within {within} s: {what}"
        time.sleep(0.002)
