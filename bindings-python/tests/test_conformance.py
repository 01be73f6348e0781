"""Runs every conformance vector in tests/conformance/*.json (repository
root) through the Python package; an unknown kind or op fails the run."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
import threading
from typing import Any, Callable

import pytest

from resilience import (
    AsyncCircuitBreaker,
    FallbackChain,
    RetryExecutor,
    RetryPolicy,
    SyncCircuitBreaker,
)
from resilience import _core
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "conformance"
FILES = sorted(VECTORS.glob("*.json"))


def test_vectors_are_present() -> None:
    assert len(FILES) >= 9, f"expected the conformance vectors in {VECTORS}"


def _cases() -> list[Any]:
    params = []
    for path in FILES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            params.append(pytest.param(doc["kind"], case, id=f"{path.stem}:{case['name']}"))
    return params


def _num(value: Any) -> float:
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    return special[value] if isinstance(value, str) else value


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def policy_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, value in spec.items():
        if key in ("max_attempts", "backoff", "jitter", "seed"):
            kwargs[key] = value
        elif key in ("base_delay_ms", "max_delay_ms"):
            kwargs[key[: -len("_ms")]] = _num(value) / 1000
        elif key == "retryable_status_codes":
            kwargs[key] = set(value)
        else:
            raise AssertionError(f"unknown policy key {key!r}")
    return kwargs


class Retryable(Exception):
    pass


class Fatal(Exception):
    pass


class Failure(Exception):
    pass


class Ignored(Exception):
    pass


# --- delays / decisions / retry_after ---------------------------------------


def run_delays(case: dict[str, Any]) -> None:
    policy = RetryPolicy(**policy_kwargs(case["policy"]))
    got = [_ns(policy.calculate_delay(a)) for a in case["attempts"]]
    assert got == case["expected_ns"]


def run_decisions(case: dict[str, Any]) -> None:
    policy = RetryPolicy(retryable_errors=(Retryable,), **policy_kwargs(case["policy"]))
    for check in case.get("should_retry", []):
        error = Retryable() if check["retryable"] else Fatal()
        assert policy.should_retry(error, check["attempt"]) is check["expected"], check

    class Response:
        def __init__(self, status: int) -> None:
            self.status = status

    for check in case.get("should_retry_status", []):
        got = policy.should_retry_response(Response(check["status"]), attempt=check["attempt"])
        assert got is check["expected"], check


def run_retry_after(case: dict[str, Any]) -> None:
    policy = RetryPolicy(base_delay=0, max_delay=case["max_delay_ms"] / 1000)
    got = policy._core.retry_after_hint(case["header"], float(case["now_unix_s"]))
    expected = case["expected_ns"]
    assert (None if got is None else _ns(got)) == expected


def run_retry_state(case: dict[str, Any]) -> None:
    # The native retry state the async drivers use, fed each failure with its
    # Retry-After hint (seconds here; the vectors say milliseconds).
    state = RetryPolicy(**policy_kwargs(case["policy"]))._core.start()
    for number, failure in enumerate(case["failures"], start=1):
        hint_ms = failure["retry_after_ms"]
        delay = state.on_failure(failure["retryable"], None if hint_ms is None else hint_ms / 1000)
        expect = failure["expect"]
        if "retry_ns" in expect:
            assert delay is not None, (number, failure)
            assert _ns(delay) == expect["retry_ns"], (number, failure)
            # The attempt in progress is the next one.
            assert state.attempt == number + 1, (number, failure)
        else:
            assert delay is None, (number, failure)
            assert state.reason == expect["give_up"], (number, failure)


# --- retry -------------------------------------------------------------------


class Script:
    """The operation of a retry vector: call k behaves as outcomes[k-1]."""

    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes
        self.calls = 0
        self.last_error: BaseException | None = None

    def step(self) -> str:
        assert self.calls < len(self.outcomes), "called beyond the script"
        outcome = self.outcomes[self.calls]
        self.calls += 1
        if outcome == "ok":
            return "ok"
        error = {"retryable": Retryable, "fatal": Fatal}[outcome](f"attempt {self.calls}")
        self.last_error = error
        raise error


def check_retry(case: dict[str, Any], run: Callable[[RetryExecutor, Script], Any], caplog: Any) -> None:
    expected = case["expected"]
    policy = RetryPolicy(retryable_errors=(Retryable,), **policy_kwargs(case["policy"]))
    sleeps: list[float] = []
    notified: list[int] = []
    script = Script(case["outcomes"])

    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    executor = RetryExecutor(
        policy,
        on_retry=lambda attempt, error: notified.append(attempt),
        sleep_func=sleeps.append,
        async_sleep_func=async_sleep,
    )
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="resilience"):
        try:
            result, error = run(executor, script), None
        except (Retryable, Fatal) as e:
            result, error = None, e
    assert script.calls == expected["attempts"]
    if expected["result"] == "ok":
        assert result == "ok" and error is None
    else:
        assert error is not None and error is script.last_error, "the last error, unchanged"
    assert [_ns(s) for s in sleeps] == expected["sleeps_ns"]
    # The original's on_retry(attempt, error) has no delay: each callback is
    # paired with the sleep that follows it.
    assert len(notified) == len(sleeps)
    assert [[a, _ns(s)] for a, s in zip(notified, sleeps)] == expected["on_retry"]
    # The reason is observable: only an exhausted sequence logs the error record.
    exhausted = [r for r in caplog.records if r.getMessage().startswith("All ")]
    reason = expected["reason"]
    assert bool(exhausted) == (reason == "exhausted"), reason
    assert reason in (None, "exhausted", "not_retryable")


def run_retry(case: dict[str, Any], caplog: Any) -> None:
    check_retry(case, lambda ex, script: ex.execute_sync(script.step), caplog)

    async def step_async(script: Script) -> str:
        return script.step()

    check_retry(case, lambda ex, script: asyncio.run(ex.execute_async(step_async, script)), caplog)


# --- breaker -------------------------------------------------------------------


class HeldCall:
    """A `SyncCircuitBreaker.call` on its own thread, held inside the breaker
    until completed: how permits look through the sync public API."""

    def __init__(self, breaker: SyncCircuitBreaker) -> None:
        self.breaker = breaker
        self.decided = threading.Event()
        self.go = threading.Event()
        self.admitted = False
        self.outcome = "success"
        self.result: str | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.decided.wait(10), "the held call neither entered nor was rejected"

    def _body(self) -> None:
        self.admitted = True
        self.decided.set()
        self.go.wait(10)
        if self.outcome == "failure":
            raise Failure
        if self.outcome == "ignored":
            raise Ignored

    def _run(self) -> None:
        try:
            self.breaker.call(self._body)
            self.result = "ok"
        except RuntimeError:
            self.result = "rejected"
        except (Failure, Ignored):
            self.result = "error"
        finally:
            self.decided.set()

    def complete(self, outcome: str) -> None:
        self.outcome = outcome
        self.go.set()
        self.thread.join(10)


def _call_outcome(outcome: str) -> str:
    if outcome == "failure":
        raise Failure
    if outcome == "ignored":
        raise Ignored
    return "ok"


def _check_view(state: Any, count: int, step: dict[str, Any]) -> None:
    assert state.name.lower() == step["state"], step
    assert count == step["failure_count"], step


def _breaker_args(config: dict[str, Any], clock: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"expected_exception": Failure, "time_source": clock}
    for key, value in config.items():
        if key == "recovery_timeout_ms":
            kwargs["recovery_timeout"] = _num(value) / 1000
        elif key in ("failure_threshold", "half_open_max_calls"):
            kwargs[key] = value
        else:
            raise AssertionError(f"unknown breaker key {key!r}")
    return kwargs


def run_breaker_sync(case: dict[str, Any]) -> None:
    now_ms = [0]
    breaker = SyncCircuitBreaker(**_breaker_args(case["config"], lambda: now_ms[0] / 1000))
    held: dict[str, HeldCall] = {}
    for step in case["steps"]:
        op = step["op"]
        if op == "call":
            try:
                breaker.call(_call_outcome, step["outcome"])
                got = "ok"
            except RuntimeError as e:
                assert str(e) == "Circuit breaker is open"
                got = "rejected"
            except (Failure, Ignored):
                got = "error"
            assert got == step["expect"], step
        elif op == "acquire":
            call = HeldCall(breaker)
            assert ("admitted" if call.admitted else "rejected") == step["expect"], step
            held[step["id"]] = call
        elif op == "complete":
            held.pop(step["id"]).complete(step["outcome"])
        elif op == "advance":
            now_ms[0] += step["ms"]
        elif op == "reset":
            breaker.reset()
        elif op == "check":
            _check_view(breaker.state(), breaker.failure_count(), step)
        else:
            raise AssertionError(f"unknown breaker op {op!r}")
    for call in held.values():
        call.complete("success")


async def run_breaker_async(case: dict[str, Any]) -> None:
    now_ms = [0]
    breaker = AsyncCircuitBreaker(**_breaker_args(case["config"], lambda: now_ms[0] / 1000))
    core = breaker._core  # the permit API the async breaker runs on
    tokens: dict[str, int] = {}

    async def call(outcome: str) -> str:
        return _call_outcome(outcome)

    for step in case["steps"]:
        op = step["op"]
        if op == "call":
            try:
                await breaker.call(call, step["outcome"])
                got = "ok"
            except RuntimeError as e:
                assert str(e) == "Circuit breaker is open"
                got = "rejected"
            except (Failure, Ignored):
                got = "error"
            assert got == step["expect"], step
        elif op == "acquire":
            token, retry_after = core.try_acquire()
            assert ("admitted" if token is not None else "rejected") == step["expect"], step
            if "retry_after_ms" in step:
                assert _ns(retry_after) == step["retry_after_ms"] * 1_000_000, step
            if token is not None:
                tokens[step["id"]] = token
        elif op == "complete":
            token = tokens.pop(step["id"])
            outcome = step["outcome"]
            if outcome == "success":
                core.success(token)
            else:
                core.error(token, Failure() if outcome == "failure" else Ignored())
        elif op == "advance":
            now_ms[0] += step["ms"]
        elif op == "reset":
            await breaker.reset()
        elif op == "check":
            _check_view(await breaker.state(), await breaker.failure_count(), step)
        else:
            raise AssertionError(f"unknown breaker op {op!r}")


def run_breaker(case: dict[str, Any]) -> None:
    run_breaker_sync(case)
    asyncio.run(run_breaker_async(case))


# --- fallback ------------------------------------------------------------------


class Expected(Exception):
    pass


class Unexpected(Exception):
    pass


def fallback_functions(case: dict[str, Any], calls: list[str], errors: dict[str, BaseException], asynchronous: bool):
    def make(name: str, outcome: str) -> Callable[..., Any]:
        def body() -> str:
            calls.append(name)
            if outcome == "ok":
                return name
            error = Unexpected(name) if outcome == "unexpected_error" else Expected(name)
            errors[name] = error
            raise error

        if not asynchronous:
            return body

        async def async_body() -> str:
            return body()

        return async_body

    primary = make("primary", case["primary"])
    names = [f"fallback:{i}" for i in range(case["fallbacks"])]
    fallbacks = [make(n, o) for n, o in zip(names, case["fallback_outcomes"])]
    assert len(fallbacks) == case["fallbacks"]
    return primary, fallbacks


def run_fallback(case: dict[str, Any]) -> None:
    expected = case["expected"]
    for asynchronous in (False, True):
        calls: list[str] = []
        errors: dict[str, BaseException] = {}
        primary, fallbacks = fallback_functions(case, calls, errors, asynchronous)
        chain = FallbackChain(fallbacks=fallbacks, expected_exceptions=(Expected,))
        answered, raised = None, None
        try:
            if asynchronous:
                answered = asyncio.run(chain.execute_async(primary))
            else:
                answered = chain.execute(primary)
        except (Expected, Unexpected) as e:
            raised = e
        assert answered == expected["answered_by"]
        if expected["raised"] is None:
            assert raised is None
        else:
            assert raised is errors[expected["raised"]], "the surfaced error object"
        assert calls == expected["calls"]


# --- bulkhead ------------------------------------------------------------------


def run_bulkhead(case: dict[str, Any]) -> None:
    config = case["config"]
    # The decision engine both pools (SyncResourcePool, AsyncResourcePool) wait on.
    core = _core.BulkheadCore(config["max_concurrent"], config["max_queue_size"], config["timeout_ms"] / 1000)
    tickets: dict[int, str] = {}
    ids: dict[str, int] = {}
    for step in case["steps"]:
        op = step["op"]
        if op == "acquire":
            try:
                ticket = core.try_acquire()
                got = "acquired" if ticket is None else "queued"
            except RuntimeError as e:
                assert str(e) == f"Queue is full (max: {config['max_queue_size']})"
                got, ticket = "queue_full", None
            assert got == step["expect"], step
            if ticket is not None:
                tickets[ticket] = step["id"]
                ids[step["id"]] = ticket
        elif op == "release":
            granted = core.release()
            assert (None if granted is None else tickets[granted]) == step["expect_granted"], step
        elif op == "cancel":
            withdrawn = core.cancel(ids[step["id"]])
            assert ("withdrawn" if withdrawn else "already_granted") == step["expect"], step
        elif op == "check":
            assert core.stats() == (step["active"], step["queued"]), step
        else:
            raise AssertionError(f"unknown bulkhead op {op!r}")


# --- config_errors ---------------------------------------------------------------


def run_config_errors(case: dict[str, Any]) -> None:
    component, config, parameter = case["component"], case["config"], case["parameter"]
    builders: list[Callable[[], Any]]
    if component == "retry":
        builders = [lambda: RetryPolicy(**policy_kwargs(config))]
    elif component == "breaker":
        kwargs = _breaker_args(config, None)
        builders = [lambda: SyncCircuitBreaker(**kwargs), lambda: AsyncCircuitBreaker(**kwargs)]
    elif component == "bulkhead":
        kwargs = {}
        for key, value in config.items():
            if key == "timeout_ms":
                kwargs["timeout"] = _num(value) / 1000
            elif key in ("max_concurrent", "max_queue_size"):
                kwargs[key] = value
            else:
                raise AssertionError(f"unknown bulkhead key {key!r}")
        builders = [lambda: SyncResourcePool(**kwargs), lambda: AsyncResourcePool(**kwargs)]
    else:
        raise AssertionError(f"unknown component {component!r}")
    for build in builders:
        with pytest.raises(ValueError) as info:
            build()
        assert parameter in str(info.value), str(info.value)


RUNNERS: dict[str, Callable[..., None]] = {
    "delays": run_delays,
    "decisions": run_decisions,
    "retry_after": run_retry_after,
    "retry_state": run_retry_state,
    "breaker": run_breaker,
    "fallback": run_fallback,
    "bulkhead": run_bulkhead,
    "config_errors": run_config_errors,
}


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_vector(kind: str, case: dict[str, Any], caplog: Any) -> None:
    if kind == "retry":
        run_retry(case, caplog)
        return
    runner = RUNNERS.get(kind)
    assert runner is not None, f"unknown conformance kind {kind!r}"
    runner(case)
