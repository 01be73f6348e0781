"""The default sleeper of synchronous retries: native, GIL released, Ctrl-C
still interrupts a backoff.

These are the only tests with real sleeps: what they test *is* the real
sleeper (every other test injects a virtual clock). Each test really
sleeps about one 50 ms slice.
"""

from __future__ import annotations

import _thread
from collections.abc import Iterator
import sys
import threading
import time

import pytest

from resilience import RetryExecutor, RetryPolicy
from resilience.retry import _SYSTEM_SLEEP


class Flaky:
    """Fails `failures` times with ConnectionError, then returns "done"."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"failure {self.calls}")
        return "done"


@pytest.fixture
def no_forced_gil_switches() -> Iterator[None]:
    # With a 10 s switch interval the interpreter never takes the GIL from a
    # thread running Python code within these tests: another thread runs only
    # when the GIL holder lets it go (a blocking call, or the native sleep).
    previous = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.usefixtures("no_forced_gil_switches")
def test_default_sleep_releases_the_gil_while_it_waits() -> None:
    assert time.sleep is _SYSTEM_SLEEP, "the real time.sleep: the executor sleeps natively"
    ticks = [0]
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0)  # hands the GIL back at once, so the retry resumes promptly

    during: list[int] = []

    def remember_ticks(attempt: int, error: Exception) -> None:
        during.append(ticks[0])  # just before the backoff sleep

    def operation() -> str:
        if flaky.calls == 1:
            during.append(ticks[0])  # just after it
        return flaky()

    flaky = Flaky(1)
    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        ex = RetryExecutor(RetryPolicy(max_attempts=2, base_delay=0.05, jitter=False), on_retry=remember_ticks)
        assert ex.execute_sync(operation) == "done"
    finally:
        stop.set()
        ticker.join()
    before, after = during
    # Held through the sleep, the GIL would have kept the ticker at `before`.
    assert after > before, "the other thread never ran during the 50 ms backoff"


@pytest.mark.usefixtures("no_forced_gil_switches")
def test_ctrl_c_interrupts_a_backoff_promptly_and_nothing_is_retried() -> None:
    sleeping = threading.Event()

    def interrupt_once_sleeping() -> None:
        sleeping.wait()
        # Runs only once the retry released the GIL, i.e. inside the sleep.
        _thread.interrupt_main()

    interrupter = threading.Thread(target=interrupt_once_sleeping)
    interrupter.start()
    flaky = Flaky(5)
    # A 2 s backoff, checked for signals every 50 ms.
    ex = RetryExecutor(
        RetryPolicy(max_attempts=3, base_delay=2.0, jitter=False),
        on_retry=lambda attempt, error: sleeping.set(),
    )
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            ex.execute_sync(flaky)
        elapsed = time.monotonic() - started
    finally:
        sleeping.set()
        interrupter.join()
    assert flaky.calls == 1, "interrupted during the first backoff: no second attempt"
    # Not a speed assertion: an uninterruptible sleep would take the whole 2 s.
    assert elapsed < 1.0
