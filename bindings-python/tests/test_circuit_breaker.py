"""Circuit breakers: transitions, threshold, recovery timeout, success reset,
expected-exception filtering, bounded half-open trials, thread safety."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any, Callable

import pytest

from conftest import VirtualClock
from resilience import AsyncCircuitBreaker, CircuitState, SyncCircuitBreaker, circuit_breaker
from resilience import circuit_sync, types
from resilience.decorators import CIRCUIT_BREAKER_TEST_DIMENSION, _registry


class Down(Exception):
    pass


def fail() -> None:
    raise Down("down")


def ok() -> str:
    return "ok"


class SyncAdapter:
    """One breaker API over both classes, so every test runs on both."""

    def __init__(self, **kwargs: Any) -> None:
        self.breaker = SyncCircuitBreaker(**kwargs)

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        return self.breaker.call(func, *args)

    def state(self) -> CircuitState:
        return self.breaker.state()

    def failure_count(self) -> int:
        return self.breaker.failure_count()

    def reset(self) -> None:
        self.breaker.reset()


class AsyncAdapter:
    def __init__(self, **kwargs: Any) -> None:
        self.breaker = AsyncCircuitBreaker(**kwargs)

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        async def run() -> Any:
            return func(*args)

        return asyncio.run(self.breaker.call(run))

    def state(self) -> CircuitState:
        return asyncio.run(self.breaker.state())

    def failure_count(self) -> int:
        return asyncio.run(self.breaker.failure_count())

    def reset(self) -> None:
        asyncio.run(self.breaker.reset())


BOTH = pytest.mark.parametrize("make", [SyncAdapter, AsyncAdapter], ids=["sync", "async"])


def trip(breaker: Any, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Down):
            breaker.call(fail)


@BOTH
def test_closed_to_open_at_the_threshold(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=3, recovery_timeout=10.0, time_source=clock.time)
    assert breaker.state() is CircuitState.CLOSED
    trip(breaker, 2)
    assert (breaker.state(), breaker.failure_count()) == (CircuitState.CLOSED, 2)
    trip(breaker, 1)
    assert (breaker.state(), breaker.failure_count()) == (CircuitState.OPEN, 3)


@BOTH
def test_open_rejects_with_the_originals_error(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=1, time_source=clock.time)
    trip(breaker, 1)
    calls = []
    with pytest.raises(RuntimeError, match="^Circuit breaker is open$"):
        breaker.call(lambda: calls.append(1))
    assert calls == []


@BOTH
def test_half_open_after_timeout_then_success_closes(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=2, recovery_timeout=30.0, time_source=clock.time)
    trip(breaker, 2)
    clock.advance(29.999)
    assert breaker.state() is CircuitState.OPEN
    clock.advance(0.001)
    assert breaker.state() is CircuitState.HALF_OPEN
    assert breaker.call(ok) == "ok"
    assert (breaker.state(), breaker.failure_count()) == (CircuitState.CLOSED, 0)


@BOTH
def test_failed_trial_reopens_with_a_fresh_timestamp(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=2, recovery_timeout=30.0, time_source=clock.time)
    trip(breaker, 2)
    clock.advance(30.0)
    trip(breaker, 1)
    assert breaker.state() is CircuitState.OPEN
    clock.advance(29.0)
    assert breaker.state() is CircuitState.OPEN
    clock.advance(1.0)
    assert breaker.state() is CircuitState.HALF_OPEN


@BOTH
def test_success_resets_the_failure_count(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=3, time_source=clock.time)
    trip(breaker, 2)
    assert breaker.call(ok) == "ok"
    assert breaker.failure_count() == 0
    trip(breaker, 2)
    assert breaker.state() is CircuitState.CLOSED


@BOTH
def test_unexpected_exceptions_pass_through_uncounted(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=1, expected_exception=Down, time_source=clock.time)
    for _ in range(3):
        with pytest.raises(KeyError):
            breaker.call(lambda: {}["missing"])
    assert (breaker.state(), breaker.failure_count()) == (CircuitState.CLOSED, 0)
    trip(breaker, 1)
    assert breaker.state() is CircuitState.OPEN


@BOTH
def test_expected_exception_tuple(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=2, expected_exception=(Down, KeyError), time_source=clock.time)
    trip(breaker, 1)
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"])
    assert breaker.state() is CircuitState.OPEN


@BOTH
def test_reset(make: Any, clock: VirtualClock) -> None:
    breaker = make(failure_threshold=1, time_source=clock.time)
    trip(breaker, 1)
    breaker.reset()
    assert (breaker.state(), breaker.failure_count()) == (CircuitState.CLOSED, 0)
    assert breaker.call(ok) == "ok"


@BOTH
def test_user_error_is_raised_unchanged(make: Any, clock: VirtualClock) -> None:
    error = Down("mine")

    def raise_it() -> None:
        raise error

    breaker = make(time_source=clock.time)
    with pytest.raises(Down) as info:
        breaker.call(raise_it)
    assert info.value is error


@pytest.mark.parametrize("error_type", [KeyboardInterrupt, SystemExit])
def test_base_exceptions_are_not_counted(error_type: type[BaseException], clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=1, expected_exception=BaseException, time_source=clock.time)

    def interrupt() -> None:
        raise error_type

    with pytest.raises(error_type):
        breaker.call(interrupt)
    assert breaker.failure_count() == 0 and breaker.state() is CircuitState.CLOSED


def test_cancellation_is_not_counted_and_frees_the_trial(clock: VirtualClock) -> None:
    async def main() -> None:
        breaker = AsyncCircuitBreaker(failure_threshold=1, recovery_timeout=5.0, time_source=clock.time)
        with pytest.raises(Down):
            await breaker.call(_async_fail)
        clock.advance(5.0)
        gate = asyncio.Event()

        async def hang() -> None:
            await gate.wait()

        trial = asyncio.ensure_future(breaker.call(hang))
        await asyncio.sleep(0)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        assert await breaker.failure_count() == 1
        assert await breaker.call(_async_ok) == "ok", "the cancelled trial gave its slot back"
        assert await breaker.state() is CircuitState.CLOSED

    asyncio.run(main())


async def _async_fail() -> None:
    raise Down


async def _async_ok() -> str:
    return "ok"


def test_half_open_admits_one_trial_at_a_time_sync(clock: VirtualClock) -> None:
    # Improvement: the original lets every concurrent caller through while half-open.
    breaker = SyncCircuitBreaker(failure_threshold=1, recovery_timeout=1.0, time_source=clock.time)
    trip(breaker, 1)
    clock.advance(1.0)
    inside, release = threading.Event(), threading.Event()

    def slow_trial() -> str:
        inside.set()
        release.wait(10)
        return "trial"

    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(breaker.call(slow_trial)))
    worker.start()
    assert inside.wait(10)
    with pytest.raises(RuntimeError, match="Circuit breaker is open"):
        breaker.call(ok)
    release.set()
    worker.join(10)
    assert results == ["trial"] and breaker.state() is CircuitState.CLOSED
    assert breaker.call(ok) == "ok"


def test_half_open_max_calls_bounds_async_trials(clock: VirtualClock) -> None:
    async def main() -> None:
        breaker = AsyncCircuitBreaker(failure_threshold=1, recovery_timeout=1.0, time_source=clock.time, half_open_max_calls=2)
        with pytest.raises(Down):
            await breaker.call(_async_fail)
        clock.advance(1.0)
        gate = asyncio.Event()

        async def trial() -> str:
            await gate.wait()
            return "trial"

        first = asyncio.ensure_future(breaker.call(trial))
        second = asyncio.ensure_future(breaker.call(trial))
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="Circuit breaker is open"):
            await breaker.call(_async_ok)
        gate.set()
        assert await asyncio.gather(first, second) == ["trial", "trial"]
        assert await breaker.state() is CircuitState.CLOSED

    asyncio.run(main())


def test_sync_breaker_is_thread_safe(clock: VirtualClock) -> None:
    threshold = 1_000_000
    breaker = SyncCircuitBreaker(failure_threshold=threshold, time_source=clock.time)
    threads, per_thread = 8, 2_000
    start = threading.Barrier(threads)

    def hammer() -> None:
        start.wait()
        for _ in range(per_thread):
            try:
                breaker.call(fail)
            except Down:
                pass

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert breaker.failure_count() == threads * per_thread, "no lost updates"


def test_sync_breaker_opens_exactly_once_under_contention(clock: VirtualClock) -> None:
    breaker = SyncCircuitBreaker(failure_threshold=50, recovery_timeout=60.0, time_source=clock.time)
    start = threading.Barrier(4)
    rejected = []

    def hammer() -> None:
        start.wait()
        for _ in range(100):
            try:
                breaker.call(fail)
            except Down:
                pass
            except RuntimeError:
                rejected.append(1)

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert breaker.state() is CircuitState.OPEN
    assert 50 <= breaker.failure_count() < 50 + 4
    assert len(rejected) + breaker.failure_count() == 400


class PatchedMonotonic:
    """Stands in for `time.monotonic` (as freezegun or time-machine would)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


@BOTH
def test_default_clock_is_time_monotonic_looked_up_at_call_time(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Built before the patch: the breaker must not have captured the original.
    breaker = make(failure_threshold=1, recovery_timeout=30.0)
    clock = PatchedMonotonic(1_000.0)
    monkeypatch.setattr(time, "monotonic", clock)
    trip(breaker, 1)
    assert breaker.state() is CircuitState.OPEN
    clock.now += 29.999
    assert breaker.state() is CircuitState.OPEN
    clock.now += 0.001
    assert breaker.state() is CircuitState.HALF_OPEN
    assert breaker.call(ok) == "ok"
    assert breaker.state() is CircuitState.CLOSED
    assert breaker.breaker._time_source is clock


def test_default_clock_is_not_read_on_the_closed_success_path_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = PatchedMonotonic(5.0)
    monkeypatch.setattr(time, "monotonic", clock)
    breaker = SyncCircuitBreaker(failure_threshold=2)
    for _ in range(5):
        breaker.call(ok)
    breaker.state()
    assert clock.readings == 0


def test_default_clock_is_not_read_on_the_closed_success_path_async(monkeypatch: pytest.MonkeyPatch) -> None:
    breaker = AsyncCircuitBreaker(failure_threshold=2)

    async def ok_async() -> str:
        return "ok"

    async def main() -> int:
        # Patched inside the loop and counted before returning: the event
        # loop itself reads time.monotonic between iterations.
        clock = PatchedMonotonic(5.0)
        monkeypatch.setattr(time, "monotonic", clock)
        for _ in range(5):
            assert await breaker.call(ok_async) == "ok"
        await breaker.state()
        return clock.readings

    assert asyncio.run(main()) == 0


def test_time_source_is_not_called_while_closed() -> None:
    readings = []

    def time_source() -> float:
        readings.append(1)
        return 0.0

    breaker = SyncCircuitBreaker(failure_threshold=2, time_source=time_source)
    for _ in range(5):
        breaker.call(ok)
    breaker.state()
    assert readings == []


class FlakyClock:
    """A time source that raises while `broken` is set."""

    def __init__(self) -> None:
        self.now = 0.0
        self.broken = False

    def __call__(self) -> float:
        if self.broken:
            raise OSError("clock unavailable")
        return self.now


@BOTH
def test_a_clock_failing_while_a_failure_is_recorded_leaves_the_users_error_unchanged(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caller gets its own exception (same object): a library error never
    # replaces the user's; the clock's error goes to sys.unraisablehook.
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    clock = FlakyClock()
    breaker = make(failure_threshold=1, recovery_timeout=10.0, time_source=clock)
    clock.broken = True
    raised = Down("the user's error")

    def fail_with_it() -> None:
        raise raised

    with pytest.raises(Down) as info:
        breaker.call(fail_with_it)
    assert info.value is raised
    assert [type(r.exc_value) for r in reported] == [OSError]
    assert str(reported[0].exc_value) == "clock unavailable"
    assert reported[0].object is clock
    assert breaker.failure_count() == 1, "the failure still counts"
    # Open now; the next call has no user error to hide, so the clock's own
    # error surfaces from acquiring a permit.
    with pytest.raises(OSError, match="clock unavailable"):
        breaker.call(ok)
    clock.broken = False
    assert breaker.state() is CircuitState.OPEN
    clock.now = 10.0
    assert breaker.state() is CircuitState.HALF_OPEN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"failure_threshold": 0}, r"^invalid failure_threshold: must be an integer in 1\.\.=4294967295, got 0$"),
        ({"recovery_timeout": -1.0}, r"^invalid recovery_timeout: must be a number of seconds in 0\.\.=18446744073\.709551615, got -1\.0$"),
        ({"recovery_timeout": float("nan")}, "^invalid recovery_timeout: .*, got nan$"),
        ({"recovery_timeout": 10**400}, "^invalid recovery_timeout: .*, got an integer above 2\\^127$"),
        ({"half_open_max_calls": 0}, r"^invalid half_open_max_calls: must be an integer in 1\.\.=4294967295, got 0$"),
    ],
)
@pytest.mark.parametrize("cls", [SyncCircuitBreaker, AsyncCircuitBreaker])
def test_bad_configuration_is_a_clear_value_error(cls: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_attributes_and_state_enums() -> None:
    breaker = SyncCircuitBreaker(failure_threshold=4, recovery_timeout=12.5, expected_exception=Down)
    assert (breaker.failure_threshold, breaker.recovery_timeout, breaker.expected_exception) == (4, 12.5, Down)
    defaults = SyncCircuitBreaker()
    assert (defaults.failure_threshold, defaults.recovery_timeout, defaults.expected_exception) == (5, 30.0, Exception)
    assert defaults.half_open_max_calls == 1
    assert circuit_sync.CircuitState is CircuitState
    assert [m.name for m in CircuitState] == ["CLOSED", "OPEN", "HALF_OPEN"]
    assert types.CircuitState.HALF_OPEN.value == "half_open"
    assert SyncCircuitBreaker.__module__ == "resilience.circuit_sync"

    class Custom(SyncCircuitBreaker):
        pass

    assert Custom(failure_threshold=2).failure_threshold == 2


def test_async_methods_are_coroutines() -> None:
    for name in ("state", "failure_count", "reset", "call"):
        assert asyncio.iscoroutinefunction(getattr(AsyncCircuitBreaker, name)), name
    for name in ("state", "failure_count", "reset", "call"):
        assert not asyncio.iscoroutinefunction(getattr(SyncCircuitBreaker, name)), name


def test_decorator_sync_with_its_own_60s_default(clock: VirtualClock) -> None:
    @circuit_breaker(failure_threshold=2, time_source=clock.time)
    def service(succeed: bool) -> str:
        if not succeed:
            raise Down
        return "up"

    for _ in range(2):
        with pytest.raises(Down):
            service(False)
    with pytest.raises(RuntimeError):
        service(True)
    clock.advance(59.0)
    with pytest.raises(RuntimeError):
        service(True)
    clock.advance(1.0)
    assert service(True) == "up"
    assert service.__name__ == "service"


def test_decorator_async(clock: VirtualClock) -> None:
    @circuit_breaker(failure_threshold=1, recovery_timeout=5, expected_exception=Down, time_source=clock.time)
    async def service(succeed: bool) -> str:
        if not succeed:
            raise Down
        return "up"

    assert asyncio.iscoroutinefunction(service)

    async def main() -> None:
        with pytest.raises(Down):
            await service(False)
        with pytest.raises(RuntimeError):
            await service(True)
        clock.advance(5)
        assert await service(True) == "up"

    asyncio.run(main())


def test_decorator_registers_with_a_given_registry() -> None:
    registered: list[tuple[str, Any, str]] = []

    class Registry:
        def register(self, name: str, value: Any, dimension: str = "") -> None:
            registered.append((name, value, dimension))

    @circuit_breaker(registry=Registry())
    def service() -> None:
        pass

    (name, breaker, dimension), = registered
    assert name.startswith("cb_") and isinstance(breaker, SyncCircuitBreaker)
    assert dimension == CIRCUIT_BREAKER_TEST_DIMENSION  # created from a test file


def test_reset_test_circuit_breakers(clock: VirtualClock) -> None:
    from resilience.decorators import reset_test_circuit_breakers

    @circuit_breaker(failure_threshold=1, time_source=clock.time)
    def service() -> None:
        raise Down

    with pytest.raises(Down):
        service()
    breakers = _registry.list_dimension(CIRCUIT_BREAKER_TEST_DIMENSION)
    assert any(b.state() is CircuitState.OPEN for b in breakers if isinstance(b, SyncCircuitBreaker))
    asyncio.run(reset_test_circuit_breakers())
    with pytest.raises(Down):
        service()


def test_decorated_methods_bind_and_share_one_breaker(clock: VirtualClock) -> None:
    class Client:
        def __init__(self, fail: bool) -> None:
            self.fail = fail

        @circuit_breaker(failure_threshold=2, time_source=clock.time)
        def get(self, key: str) -> str:
            if self.fail:
                raise Down(key)
            return f"{key} from {id(self)}"

    good, bad = Client(False), Client(True)
    assert good.get("a") == f"a from {id(good)}"
    for _ in range(2):
        with pytest.raises(Down):
            bad.get("x")
    with pytest.raises(RuntimeError, match="Circuit breaker is open"):
        good.get("a")  # one breaker per decorated function, as in the original
    assert Client.get.__name__ == "get" and Client.get._breaker.state() is CircuitState.OPEN


def test_subclasses_may_have_their_own_init(clock: VirtualClock) -> None:
    class Named(SyncCircuitBreaker):
        def __init__(self, name: str) -> None:
            super().__init__(failure_threshold=1, time_source=clock.time)
            self.name = name

    breaker = Named("payments")
    assert breaker.name == "payments" and breaker.failure_threshold == 1
    trip(breaker, 1)
    assert breaker.state() is CircuitState.OPEN

    class Forgetful(SyncCircuitBreaker):
        def __init__(self) -> None:
            pass

    with pytest.raises(RuntimeError, match="__init__ was not called"):
        Forgetful().call(ok)
    with pytest.raises(RuntimeError, match="already initialised"):
        breaker.__init__("again")  # type: ignore[misc]


def test_async_decorator_passes_arguments_and_never_counts_cancellation(clock: VirtualClock) -> None:
    gate: list[asyncio.Event] = []

    @circuit_breaker(failure_threshold=1, expected_exception=Down, time_source=clock.time)
    async def service(x: int, /, y: int = 2, *, z: int = 3, **extra: Any) -> tuple[Any, ...]:
        if x < 0:
            raise Down
        if x == 0:
            await gate[0].wait()
        return x, y, z, extra

    import inspect

    assert inspect.signature(service) == inspect.signature(service.__wrapped__)

    async def main() -> None:
        assert await service(1, z=9, w=0) == (1, 2, 9, {"w": 0})
        with pytest.raises(KeyError):
            await service(1, **{"y": {}["missing"]})  # raised before the call: nothing counted
        gate.append(asyncio.Event())
        hanging = asyncio.ensure_future(service(0))
        await asyncio.sleep(0)
        hanging.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging
        breaker = service._breaker  # type: ignore[attr-defined]
        assert await breaker.failure_count() == 0 and await breaker.state() is CircuitState.CLOSED
        with pytest.raises(Down):
            await service(-1)
        assert await breaker.state() is CircuitState.OPEN

    asyncio.run(main())
