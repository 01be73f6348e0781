"""@retry in every form, on sync and async functions and methods."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

import pytest

from conftest import VirtualClock
from resilience import BackoffStrategy, RetryPolicy, retry
from resilience.decorators import ConfigurationError
from resilience.errors import ConfigurationError as ConfigurationErrorFromErrors


class Counter:
    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def hit(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")


def test_bare_decorator_uses_the_default_policy(monkeypatch: Any) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    counter = Counter(2)

    @retry
    def work(x: int) -> int:
        counter.hit()
        return x + 1

    assert work(1) == 2
    assert counter.calls == 3
    assert len(slept) == 2 and 0.75 <= slept[0] <= 1.25 and 1.5 <= slept[1] <= 2.5


def test_exception_types_as_positional_arguments(clock: VirtualClock) -> None:
    counter = Counter(1, error=TimeoutError)

    @retry(ConnectionError, TimeoutError, max_attempts=3, sleep_func=clock.sleep)
    def work() -> str:
        counter.hit()
        return "ok"

    assert work() == "ok"
    other = Counter(1, error=ValueError)

    @retry(ConnectionError, TimeoutError, sleep_func=clock.sleep)
    def fails() -> None:
        other.hit()

    with pytest.raises(ValueError):
        fails()
    assert other.calls == 1


def test_policy_keyword(clock: VirtualClock) -> None:
    counter = Counter(3)
    policy = RetryPolicy(max_attempts=4, backoff=BackoffStrategy.FIXED, base_delay=0.2, jitter=False)

    @retry(policy=policy, sleep_func=clock.sleep)
    def work() -> str:
        counter.hit()
        return "ok"

    assert work() == "ok"
    assert clock.sleeps == [0.2, 0.2, 0.2]


def test_inline_parameters(clock: VirtualClock) -> None:
    counter = Counter(5)

    @retry(max_attempts=3, base_delay=0.1, backoff=BackoffStrategy.LINEAR, max_delay=0.15, jitter=False, sleep_func=clock.sleep)
    def work() -> None:
        counter.hit()

    with pytest.raises(ConnectionError, match="failure 3"):
        work()
    assert clock.sleeps == [0.1, 0.15]


def test_on_retry_callback(clock: VirtualClock) -> None:
    seen: list[int] = []
    counter = Counter(2)

    @retry(jitter=False, on_retry=lambda a, e: seen.append(a), sleep_func=clock.sleep)
    def work() -> None:
        counter.hit()

    work()
    assert seen == [1, 2]


def test_conflicting_configuration_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        retry(policy=RetryPolicy(), max_attempts=5, jitter=False)
    error = info.value
    assert isinstance(error, ValueError)
    assert ConfigurationError is ConfigurationErrorFromErrors
    assert str(error) == "Cannot specify both policy and individual retry parameters"
    assert error.code == "CONFLICTING_RETRY_CONFIG"
    assert error.context == {"has_policy": True, "individual_params": ["max_attempts", "jitter"]}


def test_async_functions(clock: VirtualClock) -> None:
    counter = Counter(2)

    @retry(ConnectionError, base_delay=0.5, jitter=False, async_sleep_func=clock.async_sleep)
    async def work(x: int) -> int:
        await asyncio.sleep(0)
        counter.hit()
        return x * 3

    assert inspect.iscoroutinefunction(work)
    assert asyncio.run(work(2)) == 6
    assert clock.sleeps == [0.5, 1.0]


def test_bare_decorator_on_async_function() -> None:
    @retry
    async def work() -> str:
        return "ok"

    assert inspect.iscoroutinefunction(work)
    assert asyncio.run(work()) == "ok"


def test_wraps_metadata_like_functools() -> None:
    def original(a: int, b: str = "x") -> str:
        """Docstring."""
        return b * a

    original.custom = "kept"  # type: ignore[attr-defined]
    wrapped = retry(max_attempts=2)(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__doc__ == "Docstring."
    assert wrapped.__module__ == original.__module__
    assert wrapped.__wrapped__ is original
    assert wrapped.custom == "kept"
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert not inspect.iscoroutinefunction(wrapped)
    assert wrapped(2, "ab") == "abab"


def test_methods_bind_like_functions(clock: VirtualClock) -> None:
    class Service:
        def __init__(self) -> None:
            self.counter = Counter(1)

        @retry(sleep_func=clock.sleep, jitter=False)
        def fetch(self, key: str) -> tuple[Service, str]:
            self.counter.hit()
            return self, key

    service = Service()
    assert service.fetch("k") == (service, "k")
    assert service.counter.calls == 2
    assert Service.fetch(service, "j") == (service, "j")
    assert functools.partial(Service.fetch, service)("p")[1] == "p"


def test_errors_keep_identity_through_the_decorator(clock: VirtualClock) -> None:
    raised: list[BaseException] = []

    @retry(max_attempts=2, sleep_func=clock.sleep)
    def work() -> None:
        error = ConnectionError(len(raised))
        raised.append(error)
        raise error

    with pytest.raises(ConnectionError) as info:
        work()
    assert info.value is raised[-1] and len(raised) == 2


async def _all_kinds(x: Any, y: Any = 2, /, z: Any = 3, *rest: Any, k: Any, m: Any = 5, **more: Any) -> Any:
    return (x, y, z, rest, k, m, more)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((1,), {"k": 4}),
        ((1, 9, 8, 7, 6), {"k": 4, "m": 0, "extra": 1}),
        ((1,), {"z": 30, "k": 4}),
    ],
)
def test_async_wrapper_takes_exactly_the_functions_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    wrapped = retry(max_attempts=2)(_all_kinds)
    assert asyncio.run(wrapped(*args, **kwargs)) == asyncio.run(_all_kinds(*args, **kwargs))
    assert inspect.signature(wrapped) == inspect.signature(_all_kinds)
    with pytest.raises(TypeError):
        asyncio.run(wrapped(1))  # missing keyword-only k, as for the function itself


def test_async_retries_call_again_with_the_same_arguments(clock: VirtualClock) -> None:
    seen: list[tuple[Any, ...]] = []

    @retry(max_attempts=3, jitter=False, async_sleep_func=clock.async_sleep)
    async def fetch(url: str, /, timeout: float = 1.0, *, headers: Any = None, **extra: Any) -> str:
        seen.append((url, timeout, headers, extra))
        if len(seen) < 3:
            raise ConnectionError
        return "ok"

    assert asyncio.run(fetch("u", headers={"a": 1}, trace=True)) == "ok"
    assert seen == [("u", 1.0, {"a": 1}, {"trace": True})] * 3


def test_async_wrapper_for_callables_without_a_python_signature(clock: VirtualClock) -> None:
    class Service:
        def __init__(self) -> None:
            self.calls = 0

        async def __call__(self, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls < 2:
                raise ConnectionError
            return args, kwargs

    # A parameter named like the generated code's own names falls back to the generic wrapper.
    @retry(jitter=False, async_sleep_func=clock.async_sleep)
    async def reserved(_rs_func: int) -> int:
        return _rs_func

    assert asyncio.run(reserved(7)) == 7
    assert inspect.iscoroutinefunction(reserved)
    service = Service()
    method = retry(jitter=False, async_sleep_func=clock.async_sleep)(service.__call__)
    assert asyncio.run(method(1, k=2)) == ((1,), {"k": 2})
