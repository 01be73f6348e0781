"""Runs every conformance vector in tests/conformance/*.json (repository
root) through the Python package, in sync and async mode where the package
has both; an unknown kind, op, key or outcome fails the run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import json
import logging
from pathlib import Path
import sys
import threading
from typing import Any, Callable

import pytest

from resilience import (
    AdaptiveThrottle,
    AsyncCircuitBreaker,
    Bulkhead,
    BulkheadFullError,
    CircuitBreakerOpenError,
    CircuitState,
    FallbackChain,
    Hedging,
    Pipeline,
    RateLimitedError,
    RateLimiter,
    RetryBudget,
    RetryExecutor,
    RetryPolicy,
    SnapshotError,
    SyncCircuitBreaker,
    ThrottledError,
    Timeout,
    circuit_breaker,
    timeout,
)
from resilience import events as ev
from resilience import _core
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool
from resilience.errors import ParameterTypeError, ParameterValueError
from conftest import run_virtual

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "conformance"
FILES = sorted(VECTORS.glob("*.json"))


def test_vectors_are_present() -> None:
    assert len(FILES) >= 11, f"expected the conformance vectors in {VECTORS}"


def _cases() -> list[Any]:
    params = []
    for path in FILES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            params.append(pytest.param(doc["kind"], case, id=f"{path.stem}:{case['name']}"))
    return params


# --- values (tests/README.md, "Values") --------------------------------------------


def value(encoded: Any) -> Any:
    """A vector value as a Python user would pass it."""
    if isinstance(encoded, dict):
        if set(encoded) == {"int"}:
            return int(encoded["int"])
        if set(encoded) == {"float"}:
            return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[encoded["float"]]
        raise AssertionError(f"unknown encoded value {encoded!r}")
    if isinstance(encoded, list):
        return [value(v) for v in encoded]
    return encoded  # int, float, None, str, bool


def seconds(encoded_ms: Any) -> Any:
    """A `*_ms` value in seconds; a value that is no number passes as it is
    (the rules must see the user's text or None)."""
    ms = value(encoded_ms)
    if isinstance(ms, (int, float)) and not isinstance(ms, bool):
        return ms / 1000
    return ms


def _ns(secs: float) -> int:
    return round(secs * 1e9)


def policy_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, raw in spec.items():
        if key in ("max_attempts", "backoff", "jitter", "seed"):
            # `jitter` names ("none", "full"...) and booleans are the API's own.
            kwargs[key] = value(raw)
        elif key in ("base_delay_ms", "max_delay_ms", "max_elapsed_ms", "attempt_timeout_ms"):
            kwargs[key[: -len("_ms")]] = seconds(raw)
        elif key == "retryable_status_codes":
            kwargs[key] = set(value(raw))
        else:
            raise AssertionError(f"unknown policy key {key!r}")
    return kwargs


BREAKER_SECONDS = ("recovery_timeout_ms", "sampling_duration_ms", "slow_call_duration_ms", "max_recovery_timeout_ms")
BREAKER_PLAIN = (
    "failure_threshold",
    "half_open_max_calls",
    "failure_ratio",
    "minimum_throughput",
    "sampling_buckets",
    "window_size",
    "slow_call_ratio",
    "break_backoff",
)


def breaker_kwargs(config: dict[str, Any], clock: Callable[[], float] | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"expected_exception": Failure, "time_source": clock}
    for key, raw in config.items():
        if key in BREAKER_SECONDS:
            kwargs[key[: -len("_ms")]] = seconds(raw)
        elif key in BREAKER_PLAIN:
            kwargs[key] = value(raw)
        else:
            raise AssertionError(f"unknown breaker key {key!r}")
    return kwargs


def bulkhead_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, raw in config.items():
        if key == "timeout_ms":
            kwargs["timeout"] = seconds(raw)
        elif key in ("max_concurrent", "max_queue_size"):
            kwargs[key] = value(raw)
        else:
            raise AssertionError(f"unknown bulkhead key {key!r}")
    return kwargs


# --- errors: kind -> exception ---------------------------------------------------

# The exception a configuration error of each kind raises (its `kind` and
# `parameter` attributes carry the core's answer).
KIND_EXCEPTIONS: dict[str, type[Exception]] = {
    "wrong_type": ParameterTypeError,
    "not_an_integer": ParameterTypeError,
    "not_a_number": ParameterValueError,
    "too_small": ParameterValueError,
    "too_large": ParameterValueError,
    "unknown_name": ParameterValueError,
    "below_other": ParameterValueError,
    "requires_other": ParameterValueError,
    "conflicts_with": ParameterValueError,
    "out_of_order": ParameterValueError,
    "duplicate": ParameterValueError,
}


def check_config_error(error: BaseException, parameter: str, kind: str) -> None:
    assert kind in KIND_EXCEPTIONS, f"unknown kind {kind!r}"
    assert type(error) is KIND_EXCEPTIONS[kind], (kind, type(error), error)
    assert isinstance(error, TypeError if KIND_EXCEPTIONS[kind] is ParameterTypeError else ValueError)
    assert (error.parameter, error.kind) == (parameter, kind), str(error)  # type: ignore[attr-defined]
    message = str(error)
    assert parameter in message and len(message) < 200, message


@contextlib.contextmanager
def unraisable() -> Iterator[list[Any]]:
    """Collects what is reported to sys.unraisablehook (a failing filter)."""
    reported: list[Any] = []
    saved = sys.unraisablehook
    sys.unraisablehook = reported.append
    try:
        yield reported
    finally:
        sys.unraisablehook = saved


# --- exception filters that count their calls and can fail -------------------------


class Asked:
    calls = 0


class _FilterMeta(type):
    """`isinstance(e, Filter)` counts the question; it is True for the
    classes in `accepts`, and raises for `FilterBreaks`."""

    accepts: tuple[type, ...] = ()

    def __instancecheck__(cls, instance: Any) -> bool:
        Asked.calls += 1
        if isinstance(instance, FilterBreaks):
            raise LookupError("the filter itself failed")
        return isinstance(instance, cls.accepts)


class Retryable(Exception):
    pass


class Fatal(Exception):
    pass


class FilterBreaks(Exception):
    """An error on which the filter raises."""


class RetryFilter(Exception, metaclass=_FilterMeta):
    accepts = (Retryable,)


class Expected(Exception):
    pass


class Unexpected(Exception):
    pass


class ExpectedFilter(Exception, metaclass=_FilterMeta):
    accepts = (Expected,)


# --- delays / decisions / retry_after / retry_state ----------------------------------


def run_delays(case: dict[str, Any]) -> None:
    policy = RetryPolicy(**policy_kwargs(case["policy"]))
    got = [_ns(policy.calculate_delay(a)) for a in case["attempts"]]
    assert got == case["expected_ns"]


class Response:
    def __init__(self, status: Any) -> None:
        self.status = status


def run_decisions(case: dict[str, Any]) -> None:
    policy = RetryPolicy(retryable_errors=(Retryable,), **policy_kwargs(case["policy"]))
    for check in case["should_retry"]:
        error = Retryable() if check["retryable"] else Fatal()
        assert policy.should_retry(error, value(check["attempt"])) is check["expected"], check
    for check in case["should_retry_status"]:
        got = policy.should_retry_response(Response(value(check["status"])), attempt=value(check["attempt"]))
        assert got is check["expected"], check
    for check in case.get("attempt_errors", []):
        for ask in (
            lambda a: policy.calculate_delay(a),
            lambda a: policy.should_retry(Retryable(), a),
            lambda a: policy.should_retry_response(Response(503), attempt=a),
        ):
            with pytest.raises((TypeError, ValueError)) as info:
                ask(value(check["attempt"]))
            check_config_error(info.value, "attempt", check["kind"])


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
        hint = seconds(failure["retry_after_ms"])
        expect = failure["expect"]
        if "classify" in failure:
            error = {"yes": Retryable, "no": Fatal, "fails": FilterBreaks}[failure["classify"]]()
            Asked.calls = 0
            with unraisable() as reported:
                delay = state.on_error(error, RetryFilter, hint)
            assert (Asked.calls > 0) is expect["asked"], (number, failure)
            assert len(reported) == (1 if expect["asked"] and failure["classify"] == "fails" else 0)
        else:
            delay = state.on_failure(failure["retryable"], hint)
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

    ERRORS: dict[str, type[Exception]] = {"retryable": Retryable, "fatal": Fatal, "predicate_fails": FilterBreaks}

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
        assert outcome in self.ERRORS, f"unknown outcome {outcome!r}"
        error = self.ERRORS[outcome](f"attempt {self.calls}")
        self.last_error = error
        raise error


def check_retry(case: dict[str, Any], run: Callable[[RetryExecutor, Script], Any], caplog: Any) -> None:
    expected = case["expected"]
    policy = RetryPolicy(retryable_errors=(RetryFilter,), **policy_kwargs(case["policy"]))
    sleeps: list[float] = []
    notified: list[int] = []
    script = Script(case["outcomes"])

    async def async_sleep(secs: float) -> None:
        sleeps.append(secs)

    executor = RetryExecutor(
        policy,
        on_retry=lambda attempt, error: notified.append(attempt),
        sleep_func=sleeps.append,
        async_sleep_func=async_sleep,
    )
    caplog.clear()
    Asked.calls = 0
    with caplog.at_level(logging.ERROR, logger="resilience"), unraisable() as reported:
        try:
            result, error = run(executor, script), None
        except (Retryable, Fatal, FilterBreaks) as e:
            result, error = None, e
    assert script.calls == expected["attempts"]
    assert Asked.calls == expected["predicate_calls"], "how often the filter was asked"
    # A filter that failed was reported, never raised in place of the error.
    failed = [r for r in reported if isinstance(r.exc_value, LookupError)]
    assert len(failed) == len(reported) and all(r.object is policy.retryable_errors for r in reported)
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
    assert reason in (None, "exhausted", "not_retryable"), reason
    assert bool(exhausted) == (reason == "exhausted"), reason


def run_retry(case: dict[str, Any], caplog: Any) -> None:
    check_retry(case, lambda ex, script: ex.execute_sync(script.step), caplog)

    async def step_async(script: Script) -> str:
        return script.step()

    check_retry(case, lambda ex, script: asyncio.run(ex.execute_async(step_async, script)), caplog)


# --- breaker -------------------------------------------------------------------


class Failure(Exception):
    pass


class Ignored(Exception):
    pass


class VirtualClock:
    """Milliseconds as the vectors give them (may be NaN or negative);
    `time_source` reads seconds."""

    def __init__(self, ms: float = 0) -> None:
        self.ms: float = ms

    def __call__(self) -> float:
        return self.ms / 1000


def outcome_of(clock: VirtualClock, step: dict[str, Any]) -> Callable[[], str]:
    """The body of a `call` step: it takes `duration_ms` of virtual time."""
    outcome = step["outcome"]
    assert outcome in ("success", "failure", "ignored"), f"unknown outcome {outcome!r}"

    def body() -> str:
        clock.ms += step.get("duration_ms", 0)
        if outcome == "failure":
            raise Failure
        if outcome == "ignored":
            raise Ignored
        return "ok"

    return body


class HeldCall:
    """A `SyncCircuitBreaker.call` on its own thread, held inside the breaker
    until completed: how a permit looks through the sync public API (which
    cannot report a call twice, nor to another breaker)."""

    def __init__(self, breaker: SyncCircuitBreaker) -> None:
        self.breaker = breaker
        self.decided = threading.Event()
        self.go = threading.Event()
        self.admitted = False
        self.retry_after: float | None = None
        self.outcome = "success"
        self.completed = False
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
        except CircuitBreakerOpenError as e:
            self.retry_after = e.retry_after
        except (Failure, Ignored):
            pass
        finally:
            self.decided.set()

    def complete(self, outcome: str) -> None:
        assert outcome in ("success", "failure", "ignored"), f"unknown outcome {outcome!r}"
        self.outcome = outcome
        self.go.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.completed = True


def check_view(state: CircuitState, isolated: bool, count: int, step: dict[str, Any]) -> None:
    want = step["state"]
    assert want in ("closed", "open", "half_open", "isolated"), f"unknown state {want!r}"
    # The original's three-valued view: isolated reads OPEN, with `.isolated`.
    assert state.name.lower() == ("open" if want == "isolated" else want), step
    assert isolated is (want == "isolated"), step
    assert count == step["failure_count"], step


METRICS_MS = {"time_in_state_ms": "time_in_state", "break_ms": "break_duration"}
METRICS_PLAIN = (
    "window_calls",
    "window_failures",
    "window_slow_calls",
    "failure_ratio",
    "slow_call_ratio",
    "rejections",
    "openings",
    "consecutive_failures",
)


def check_metrics(metrics: Any, step: dict[str, Any]) -> None:
    for key, want in step["expect"].items():
        if key in METRICS_MS:
            assert _ns(getattr(metrics, METRICS_MS[key])) == round(want * 1_000_000), (key, metrics)
        elif key in METRICS_PLAIN:
            assert getattr(metrics, key) == want, (key, metrics)
        else:
            raise AssertionError(f"unknown metric {key!r}")


def check_snapshot(document: dict[str, Any], step: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document, "JSON-serializable"
    for key, want in step["expect"].items():
        assert document[key] == want, (key, document)


def restore_errors(build: Callable[[Any], Any], step: dict[str, Any]) -> None:
    """`initial_state=` with the document as text, and (when it parses) as a dict."""
    want = step["expect_error"]
    assert want in ("malformed", "unsupported_version"), f"unknown snapshot error {want!r}"
    forms: list[Any] = [step["document"]]
    with contextlib.suppress(ValueError):
        forms.append(json.loads(step["document"]))
    for form in forms:
        with pytest.raises(SnapshotError) as info:
            build(form)
        assert info.value.kind == want, str(info.value)
        assert isinstance(info.value, ValueError)


def run_breaker_sync(case: dict[str, Any]) -> None:
    config = case["config"]
    clock = VirtualClock()
    breaker = SyncCircuitBreaker(**breaker_kwargs(config, clock))
    other = SyncCircuitBreaker(**breaker_kwargs(config, clock))
    held: dict[str, HeldCall] = {}
    foreign: set[str] = set()
    snapshots: dict[str, dict[str, Any]] = {}
    for step in case["steps"]:
        op = step["op"]
        if op == "call":
            try:
                got = breaker.call(outcome_of(clock, step))
            except CircuitBreakerOpenError as e:
                assert str(e) == "Circuit breaker is open"
                got = "rejected"
            except (Failure, Ignored):
                got = "error"
            assert got == step["expect"], step
        elif op == "acquire":
            on = step.get("on")
            assert on in (None, "other"), f"unknown breaker {on!r}"
            call = HeldCall(other if on else breaker)
            assert ("admitted" if call.admitted else "rejected") == step["expect"], step
            if "retry_after_ms" in step:
                assert call.retry_after is not None and _ns(call.retry_after) == step["retry_after_ms"] * 1_000_000
            held[step["id"]] = call
            if on:
                foreign.add(step["id"])
        elif op == "complete":
            call = held[step["id"]]
            expect = step.get("expect", "ok")
            assert expect in ("ok", "misuse"), f"unknown expectation {expect!r}"
            if call.completed or step["id"] in foreign:
                # The public API cannot report a call twice, nor one of
                # another breaker to this one: the misuse cannot happen.
                assert expect == "misuse", step
                if not call.completed:
                    call.complete(step["outcome"])
            else:
                assert expect == "ok", step
                call.complete(step["outcome"])
        elif op == "advance":
            clock.ms += step["ms"]
        elif op == "set_clock":
            clock.ms = value(step["ms"])
        elif op == "reset":
            breaker.reset()
        elif op == "isolate":
            breaker.isolate()
        elif op == "close":
            breaker.close()
        elif op == "metrics":
            check_metrics(breaker.metrics(), step)
        elif op == "snapshot":
            snapshots[step["id"]] = breaker.snapshot()
            check_snapshot(snapshots[step["id"]], step)
        elif op == "restore":
            clock = VirtualClock(step["clock_ms"])
            breaker = SyncCircuitBreaker(**breaker_kwargs(config, clock), initial_state=snapshots[step["from"]])
        elif op == "restore_document":
            restore_errors(lambda doc: SyncCircuitBreaker(**breaker_kwargs(config, clock), initial_state=doc), step)
        elif op == "check":
            check_view(breaker.state(), breaker.isolated, breaker.failure_count(), step)
        else:
            raise AssertionError(f"unknown breaker op {op!r}")
    for call in held.values():
        if not call.completed:
            call.complete("success")


async def run_breaker_async(case: dict[str, Any]) -> None:
    config = case["config"]
    clock = VirtualClock()
    breaker = AsyncCircuitBreaker(**breaker_kwargs(config, clock))
    other = AsyncCircuitBreaker(**breaker_kwargs(config, clock))
    # Permits through the token API the async breaker runs on; ids stay
    # known after completing, so a step can report one twice.
    tokens: dict[str, int] = {}
    snapshots: dict[str, dict[str, Any]] = {}

    for step in case["steps"]:
        op = step["op"]
        core = breaker._core
        if op == "call":
            body = outcome_of(clock, step)

            async def run() -> str:
                return body()

            try:
                got = await breaker.call(run)
            except CircuitBreakerOpenError as e:
                assert str(e) == "Circuit breaker is open"
                got = "rejected"
            except (Failure, Ignored):
                got = "error"
            assert got == step["expect"], step
        elif op == "acquire":
            on = step.get("on")
            assert on in (None, "other"), f"unknown breaker {on!r}"
            token, retry_after = (other._core if on else core).try_acquire()
            assert ("admitted" if token is not None else "rejected") == step["expect"], step
            if "retry_after_ms" in step:
                assert _ns(retry_after) == step["retry_after_ms"] * 1_000_000, step
            if token is not None:
                tokens[step["id"]] = token
        elif op == "complete":
            token = tokens[step["id"]]
            outcome = step["outcome"]
            expect = step.get("expect", "ok")
            assert expect in ("ok", "misuse"), f"unknown expectation {expect!r}"
            try:
                if outcome == "success":
                    core.success(token)
                elif outcome in ("failure", "ignored"):
                    core.error(token, Failure() if outcome == "failure" else Ignored())
                else:
                    raise AssertionError(f"unknown outcome {outcome!r}")
                got = "ok"
            except _core.PermitMisuseError:
                got = "misuse"
            assert got == expect, step
        elif op == "advance":
            clock.ms += step["ms"]
        elif op == "set_clock":
            clock.ms = value(step["ms"])
        elif op == "reset":
            await breaker.reset()
        elif op == "isolate":
            await breaker.isolate()
        elif op == "close":
            await breaker.close()
        elif op == "metrics":
            check_metrics(await breaker.metrics(), step)
        elif op == "snapshot":
            snapshots[step["id"]] = await breaker.snapshot()
            check_snapshot(snapshots[step["id"]], step)
        elif op == "restore":
            clock = VirtualClock(step["clock_ms"])
            breaker = AsyncCircuitBreaker(**breaker_kwargs(config, clock), initial_state=snapshots[step["from"]])
        elif op == "restore_document":
            restore_errors(lambda doc: AsyncCircuitBreaker(**breaker_kwargs(config, clock), initial_state=doc), step)
        elif op == "check":
            check_view(await breaker.state(), breaker.isolated, await breaker.failure_count(), step)
        else:
            raise AssertionError(f"unknown breaker op {op!r}")


def run_breaker(case: dict[str, Any]) -> None:
    run_breaker_sync(case)
    asyncio.run(run_breaker_async(case))


# --- fallback ------------------------------------------------------------------

PRIMARY_ERRORS: dict[str, type[Exception]] = {
    "expected_error": Expected,
    "unexpected_error": Unexpected,
    "filter_fails": FilterBreaks,
}


def fallback_functions(case: dict[str, Any], calls: list[str], errors: dict[str, BaseException], asynchronous: bool):
    def make(name: str, outcome: str, kinds: dict[str, type[Exception]]) -> Callable[..., Any]:
        def body() -> str:
            calls.append(name)
            if outcome == "ok":
                return name
            assert outcome in kinds, f"unknown outcome {outcome!r}"
            error = kinds[outcome](name)
            errors[name] = error
            raise error

        if not asynchronous:
            return body

        async def async_body() -> str:
            return body()

        return async_body

    primary = make("primary", case["primary"], PRIMARY_ERRORS)
    names = [f"fallback:{i}" for i in range(case["fallbacks"])]
    fallbacks = [make(n, o, {"error": Expected}) for n, o in zip(names, case["fallback_outcomes"])]
    assert len(fallbacks) == case["fallbacks"]
    return primary, fallbacks


def run_fallback(case: dict[str, Any]) -> None:
    expected = case["expected"]
    for asynchronous in (False, True):
        calls: list[str] = []
        errors: dict[str, BaseException] = {}
        primary, fallbacks = fallback_functions(case, calls, errors, asynchronous)
        chain = FallbackChain(fallbacks=fallbacks, expected_exceptions=(ExpectedFilter,))
        answered, raised = None, None
        with unraisable() as reported:
            try:
                if asynchronous:
                    answered = asyncio.run(chain.execute_async(primary))
                else:
                    answered = chain.execute(primary)
            except (Expected, Unexpected, FilterBreaks) as e:
                raised = e
        assert answered == expected["answered_by"]
        if expected["raised"] is None:
            assert raised is None
        else:
            assert raised is errors[expected["raised"]], "the surfaced error object"
        assert calls == expected["calls"]
        # A failing filter is reported, never raised in place of the error.
        assert len(reported) == (1 if case["primary"] == "filter_fails" else 0)


# --- bulkhead ------------------------------------------------------------------


def run_bulkhead(case: dict[str, Any]) -> None:
    kwargs = bulkhead_kwargs(case["config"])
    # The decision engine both pools (SyncResourcePool, AsyncResourcePool) wait on.
    core = _core.BulkheadCore(kwargs["max_concurrent"], kwargs["max_queue_size"], kwargs["timeout"])
    other = _core.BulkheadCore(kwargs["max_concurrent"], kwargs["max_queue_size"], kwargs["timeout"])
    slots: dict[str, int] = {}  # id -> the slot it holds (once it holds one)
    tickets: dict[str, int] = {}  # id -> its ticket (once it queued)
    for step in case["steps"]:
        op = step["op"]
        if op == "acquire":
            on = step.get("on")
            assert on in (None, "other"), f"unknown bulkhead {on!r}"
            try:
                slot, ticket = (other if on else core).try_acquire()
                got = "acquired" if slot is not None else "queued"
            except RuntimeError as e:
                assert str(e) == f"Queue is full (max: {kwargs['max_queue_size']})"
                got, slot, ticket = "queue_full", None, None
            assert got == step["expect"], step
            if slot is not None:
                slots[step["id"]] = slot
            if ticket is not None:
                tickets[step["id"]] = ticket
        elif op == "release":
            assert step["id"] in slots, f"{step['id']} never held a slot"
            try:
                granted = core.release(slots[step["id"]])
            except _core.SlotMisuseError:
                assert step.get("expect") == "misuse", step
                continue
            assert step.get("expect") is None, step
            name = None
            if granted is not None:
                ticket, slot = granted
                name = next(i for i, t in tickets.items() if t == ticket)
                slots[name] = slot
            assert name == step["expect_granted"], step
        elif op == "cancel":
            try:
                slot = core.cancel(tickets[step["id"]])
                got = "withdrawn" if slot is None else "already_granted"
                if slot is not None:
                    assert slots[step["id"]] == slot, "it holds the slot it was handed"
            except _core.SlotMisuseError:
                got = "misuse"
            assert step["expect"] in ("withdrawn", "already_granted", "misuse"), step
            assert got == step["expect"], step
        elif op == "check":
            assert core.stats() == (step["active"], step["queued"]), step
        else:
            raise AssertionError(f"unknown bulkhead op {op!r}")


# --- config_errors / config_accepted ---------------------------------------------------


def _builders(component: str, config: dict[str, Any]) -> list[Callable[[], Any]]:
    if component == "retry":
        kwargs = policy_kwargs(config)
        return [lambda: RetryPolicy(**kwargs)]
    if component == "breaker":
        kwargs = breaker_kwargs(config, None)

        def decorated() -> Any:
            return circuit_breaker(**kwargs)(lambda: None)

        return [lambda: SyncCircuitBreaker(**kwargs), lambda: AsyncCircuitBreaker(**kwargs), decorated]
    if component == "bulkhead":
        kwargs = bulkhead_kwargs(config)
        return [lambda: SyncResourcePool(**kwargs), lambda: AsyncResourcePool(**kwargs)]
    if component == "timeout":
        kwargs = renamed(config, {"timeout_ms": "seconds"})
        return [lambda: Timeout(**kwargs), lambda: timeout(**kwargs)]
    if component == "hedging":
        kwargs = renamed(config, {"hedge_delay_ms": "hedge_delay", "max_hedged_attempts": "max_hedged_attempts"})
        return [lambda: Hedging(**kwargs)]
    if component == "pipeline":
        names = value(config["strategies"])
        return [lambda: _core.pipeline_order(names), lambda: pipeline_of(names)]
    if component == "budget":
        kwargs = renamed(config, {"ttl_ms": "ttl", "min_retries_per_sec": "min_retries_per_sec", "retry_ratio": "retry_ratio"})
        return [lambda: RetryBudget(**kwargs)]
    if component == "throttle":
        kwargs = renamed(config, {"k": "k", "window_ms": "window", "seed": "seed"})
        return [lambda: AdaptiveThrottle(**kwargs)]
    if component == "limiter":
        kwargs = renamed(config, {"rate": "rate", "per_ms": "per", "burst": "burst"})
        return [lambda: RateLimiter(**kwargs)]
    raise AssertionError(f"unknown component {component!r}")


def renamed(config: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A component's vector keys as the Python keywords (`*_ms` in seconds)."""
    kwargs: dict[str, Any] = {}
    for key, raw in config.items():
        assert key in names, f"unknown key {key!r}"
        kwargs[names[key]] = seconds(raw) if key.endswith("_ms") else value(raw)
    return kwargs


def pipeline_of(names: list[Any]) -> Pipeline:
    """A pipeline declared with these strategies (names the builder has no
    method for go through the rule alone, as the first builder does)."""
    builder = Pipeline.builder()
    adders: dict[str, Callable[[], Any]] = {
        "fallback": lambda: builder.fallback(lambda: None),
        "total_timeout": lambda: builder.total_timeout(1.0),
        "retry": lambda: builder.retry(RetryPolicy()),
        "breaker": lambda: builder.breaker(SyncCircuitBreaker()),
        "attempt_timeout": lambda: builder.attempt_timeout(1.0),
        "hedging": lambda: builder.hedging(Hedging()),
        "rate_limiter": lambda: builder.rate_limiter(RateLimiter()),
        "bulkhead": lambda: builder.bulkhead(Bulkhead(name="b")),
        "throttle": lambda: builder.throttle(AdaptiveThrottle()),
    }
    for name in names:
        if name not in adders:
            return _core.pipeline_order(names)  # type: ignore[return-value]
        adders[name]()
    return builder.build()


def run_config_errors(case: dict[str, Any]) -> None:
    for build in _builders(case["component"], case["config"]):
        with pytest.raises((TypeError, ValueError)) as info:
            build()
        check_config_error(info.value, case["parameter"], case["kind"])


def run_config_accepted(case: dict[str, Any]) -> None:
    for build in _builders(case["component"], case["config"]):
        build()


def ms_of(seconds: float) -> float:
    return round(seconds * 1000, 6)


# --- retry_timeline --------------------------------------------------------------------


def run_retry_timeline(case: dict[str, Any]) -> None:
    policy = RetryPolicy(**policy_kwargs(case["policy"]))
    start = case["start_ms"]
    state = policy._core.start(None if start is None else seconds(start))
    for number, step in enumerate(case["steps"], start=1):
        now = None if start is None else seconds(step["at_ms"])
        failure = step["failure"]
        expect = step["expect"]
        if failure == "error":
            delay = state.on_failure(step["retryable"], seconds(step["retry_after_ms"]), now)
        elif failure == "timeout":
            delay = state.on_timeout(now)
        elif failure == "value":
            judged = step["judged"]
            assert judged in ("failure", "success", "fails"), f"unknown judgement {judged!r}"

            def predicate(_value: Any, judged: str = judged) -> bool:
                if judged == "fails":
                    raise LookupError("the predicate itself failed")
                return judged == "failure"

            with unraisable() as reported:
                delay = state.on_result("value", predicate, seconds(step["retry_after_ms"]), now)
            assert len(reported) == (1 if judged == "fails" else 0)
        else:
            raise AssertionError(f"unknown failure {failure!r}")
        if "retry_ns" in expect:
            assert delay is not None and _ns(delay) == expect["retry_ns"], (number, step, delay)
        elif "accept" in expect:
            assert delay is None and state.reason is None, (number, step)
        else:
            assert delay is None and state.reason == expect["give_up"], (number, step, state.reason)


# --- timeout ---------------------------------------------------------------------------


def run_timeout(case: dict[str, Any]) -> None:
    deadline = _core.DeadlineCore(seconds(case["timeout_ms"]), seconds(case["start_ms"]))
    for check in case["checks"]:
        at = seconds(check["at_ms"])
        assert deadline.expired(at) is check["expired"], check
        assert deadline.remaining_ns(at) == check["remaining_ns"], check


# --- hedging ---------------------------------------------------------------------------


def run_hedging(case: dict[str, Any]) -> None:
    config = case["config"]
    expected = case["expected"]
    attempts = case["attempts"]
    kwargs = renamed(config, {"hedge_delay_ms": "hedge_delay", "max_hedged_attempts": "max_hedged_attempts"})
    # Checked up front: inside a copy, an assertion would only be a failed copy.
    for spec in attempts:
        assert spec["outcome"] in ("ok", "error", "bad_value"), f"unknown outcome {spec['outcome']!r}"

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        started: list[float] = []
        cancelled: list[int] = []
        ended: dict[int, float] = {}
        seen: list[Any] = []
        slept: list[float] = []

        async def injected_sleep(secs: float) -> None:
            slept.append(secs)
            await asyncio.sleep(secs)

        hedging = Hedging(
            failure_on_result=lambda v: v.startswith("bad_value"),
            on_event=seen.append,
            time_source=loop.time,
            async_sleep_func=injected_sleep,
            **kwargs,
        )

        async def attempt() -> str:
            number = len(started) + 1
            assert number <= len(attempts), "a copy beyond the script"
            started.append(loop.time())
            spec = attempts[number - 1]
            try:
                await asyncio.sleep(seconds(spec["takes_ms"]))
            except asyncio.CancelledError:
                cancelled.append(number)
                raise
            ended[number] = loop.time()
            outcome = spec["outcome"]
            assert outcome in ("ok", "error", "bad_value"), f"unknown outcome {outcome!r}"
            if outcome == "error":
                raise Failure(f"attempt {number}")
            return f"{outcome}:{number}"

        try:
            got = await hedging.execute(attempt)
        except Failure as error:
            got = f"error:{str(error).split()[-1]}"
        result, answered_by = got.split(":")
        assert result == expected["result"], got
        assert int(answered_by) == expected["answered_by"], got
        assert [ms_of(t) for t in started] == expected["started_ms"]
        assert ms_of(loop.time()) == expected["at_ms"]
        # Still running when the hedge ended: cancelled, or answered at that
        # very instant after the winner (judged in attempt order, so never judged).
        late = [n for n, t in ended.items() if t == loop.time() and n > int(answered_by) and result != "error"]
        assert sorted(cancelled + late) == expected["cancelled"]
        assert [event_record(e) for e in seen] == expected["events"]

    run_virtual(scenario())


# --- events ------------------------------------------------------------------------------


class OpError(Exception):
    """The operation's `error`."""


class FatalError(Exception):
    """The operation's `fatal`: the retry filter rejects it."""


class FallbackError(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(f"fallback:{index}")
        self.index = index


class NotFatal(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return not isinstance(instance, FatalError)


class RetryFilter2(Exception, metaclass=NotFatal):
    pass


def name_of(thing: Any) -> str:
    """What surfaced, named as the vectors name it."""
    if isinstance(thing, str):
        return thing
    if isinstance(thing, FallbackError):
        return f"fallback:{thing.index}"
    if isinstance(thing, OpError):
        return "error"
    if isinstance(thing, FatalError):
        return "fatal"
    if isinstance(thing, CircuitBreakerOpenError):
        return "breaker_open"
    if isinstance(thing, BulkheadFullError):
        return "bulkhead_full"
    if isinstance(thing, TimeoutError):
        return "timed_out"
    if isinstance(thing, RateLimitedError):
        return "rate_limited"
    if isinstance(thing, ThrottledError):
        return "throttled"
    raise AssertionError(f"unknown outcome {thing!r}")


def event_record(event: Any) -> dict[str, Any]:
    """An event as the vectors write it (`type` from the core's names)."""
    record: dict[str, Any] = {"type": getattr(event, "type", None)}
    if isinstance(event, ev.RetryScheduled):
        cause = event.error if event.error is not None else event.result
        record.update(attempt=event.attempt, delay_ns=_ns(event.delay), cause=name_of(cause))
    elif isinstance(event, ev.GaveUp):
        record.update(attempts=event.attempts, reason=event.reason)
    elif isinstance(event, ev.BreakerTransition):
        record.update({"from": event.from_state, "to": event.to_state})
    elif isinstance(event, ev.BreakerRejected):
        record.update(retry_after_ns=_ns(event.retry_after))
    elif isinstance(event, ev.TimedOut):
        record.update(strategy=event.strategy, after_ns=_ns(event.after))
    elif isinstance(event, ev.HedgeStarted):
        record.update(attempt=event.attempt)
    elif isinstance(event, ev.FallbackUsed):
        record.update(index=event.index)
    elif isinstance(event, ev.RateLimited):
        record.update(retry_after_ns=_ns(event.retry_after))
    elif isinstance(event, ev.Throttled):
        record.update(retry_after_ns=_ns(event.retry_after), probability=event.probability)
    else:
        assert isinstance(event, ev.BulkheadRejected), f"unknown event {event!r}"
    return record


STATE_NAMES = {CircuitState.CLOSED: "closed", CircuitState.OPEN: "open", CircuitState.HALF_OPEN: "half_open"}


# The keys a strategy of an `events` pipeline may have.
STRATEGY_KEYS = {"strategy", "policy", "config", "fallbacks", "occupied", "taken", "history"}


def throttle_history(throttle: AdaptiveThrottle, history: dict[str, int] | None) -> None:
    """`accepts` requests admitted and reported accepted, then the rest asked
    for and not reported (admitted or shed): the window holds exactly these."""
    if history is None:
        return
    requests, accepts = history["requests"], history["accepts"]
    for i in range(requests):
        try:
            throttle.admit()
        except ThrottledError:
            continue
        if i < accepts:
            throttle.record(True)
    stats = throttle.stats()
    assert (stats.requests, stats.accepts) == (requests, accepts), "history"


def run_events_mode(case: dict[str, Any], asynchronous: bool) -> None:
    clock = VirtualClock()
    attempt_s = seconds(case.get("attempt_ms", 0))
    seen: list[Any] = []
    sleeps: list[float] = []

    def sleep(secs: float) -> None:
        sleeps.append(secs)
        clock.ms += secs * 1000

    async def async_sleep(secs: float) -> None:
        sleep(secs)

    builder = Pipeline.builder(time_source=clock, sleep_func=sleep, async_sleep_func=async_sleep).on_event(seen.append)
    breaker: Any = None
    held: list[Any] = []
    for layer in case["pipeline"]:
        unknown = set(layer) - STRATEGY_KEYS
        assert not unknown, f"unknown strategy key {unknown}"
        strategy = layer["strategy"]
        if strategy == "fallback":
            outcomes = layer["fallbacks"]

            def make(index: int, outcome: str) -> Callable[..., Any]:
                assert outcome in ("ok", "error"), f"unknown fallback outcome {outcome!r}"

                def fallback_func() -> str:
                    if outcome == "error":
                        raise FallbackError(index)
                    return f"fallback:{index}"

                return fallback_func

            builder.fallback(*[make(i, o) for i, o in enumerate(outcomes)])
        elif strategy == "retry":
            policy = RetryPolicy(
                retryable_errors=(RetryFilter2,),
                retry_on_result=lambda v: v == "bad_value",
                **policy_kwargs(layer["policy"]),
            )
            builder.retry(policy)
        elif strategy == "breaker":
            kwargs = breaker_kwargs(layer["config"], clock)
            kwargs["expected_exception"] = Exception
            kwargs["failure_on_result"] = lambda v: v == "bad_value"
            breaker = (AsyncCircuitBreaker if asynchronous else SyncCircuitBreaker)(**kwargs)
            builder.breaker(breaker)
        elif strategy == "bulkhead":
            pool_kwargs = bulkhead_kwargs(layer["config"])
            pool: Any = (AsyncResourcePool if asynchronous else SyncResourcePool)(**pool_kwargs)
            for _ in range(layer.get("occupied", 0)):
                if asynchronous:
                    assert asyncio.run(pool.acquire())
                else:
                    assert pool.acquire()
                held.append(pool)
            builder.bulkhead(Bulkhead(name="b", pool=pool))
        elif strategy == "rate_limiter":
            kwargs = renamed(layer["config"], {"rate": "rate", "per_ms": "per", "burst": "burst"})
            limiter = RateLimiter(time_source=clock, **kwargs)
            assert limiter.try_acquire(layer.get("taken", 0)), "taken"
            builder.rate_limiter(limiter)
        elif strategy == "throttle":
            kwargs = renamed(layer["config"], {"k": "k", "window_ms": "window", "seed": "seed"})
            throttle = AdaptiveThrottle(time_source=clock, **kwargs)
            throttle_history(throttle, layer.get("history"))
            builder.throttle(throttle)
        else:
            raise AssertionError(f"unknown strategy {strategy!r}")
    pipeline = builder.build()

    for number, call in enumerate(case["calls"], start=1):
        outcomes = list(call["outcomes"])
        expected = call["expected"]
        seen.clear()

        def step() -> str:
            assert outcomes, "the operation ran beyond the script"
            outcome = outcomes.pop(0)
            clock.ms += attempt_s * 1000
            if outcome == "error":
                raise OpError("error")
            if outcome == "fatal":
                raise FatalError("fatal")
            assert outcome in ("ok", "bad_value"), f"unknown outcome {outcome!r}"
            return outcome

        async def step_async() -> str:
            return step()

        try:
            if asynchronous:
                got: Any = asyncio.run(pipeline.execute_async(step_async))
            else:
                got = pipeline.execute_sync(step)
        except Exception as error:  # the surfaced error is named below
            got = error
        assert not outcomes, f"call {number}: scripted runs left over: {outcomes}"
        assert name_of(got) == expected["result"], (number, got)
        assert [event_record(e) for e in seen] == expected["events"], number
        if "breaker" in expected:
            if asynchronous:
                state, count = asyncio.run(breaker.state()), asyncio.run(breaker.failure_count())
            else:
                state, count = breaker.state(), breaker.failure_count()
            assert STATE_NAMES[state] == expected["breaker"]["state"], number
            assert count == expected["breaker"]["failure_count"], number


def run_events(case: dict[str, Any]) -> None:
    run_events_mode(case, asynchronous=False)
    run_events_mode(case, asynchronous=True)


# --- load control ------------------------------------------------------------------------


def clock_step(clock: VirtualClock, step: dict[str, Any]) -> bool:
    """`advance` and `set_clock`, shared by the load-control kinds."""
    if step["op"] == "advance":
        clock.ms += step["ms"]
        return True
    if step["op"] == "set_clock":
        clock.ms = value(step["ms"])
        return True
    return False


def run_budget(case: dict[str, Any]) -> None:
    clock = VirtualClock()
    kwargs = renamed(case["config"], {"ttl_ms": "ttl", "min_retries_per_sec": "min_retries_per_sec", "retry_ratio": "retry_ratio"})
    budget = RetryBudget(time_source=clock, **kwargs)
    for step in case["steps"]:
        op = step["op"]
        if clock_step(clock, step):
            continue
        if op == "deposit":
            for _ in range(step.get("times", 1)):
                budget.deposit()
        elif op == "withdraw":
            if "expect" in step:
                assert [budget.try_withdraw() for _ in step["expect"]] == step["expect"], step
            else:
                granted = sum(budget.try_withdraw() for _ in range(step["times"]))
                assert granted == step["granted"], step
        elif op == "check":
            assert budget.available() == step["available"], step
        else:
            raise AssertionError(f"unknown budget op {op!r}")


def run_budget_retry(case: dict[str, Any]) -> None:
    clock = VirtualClock()
    kwargs = renamed(case["budget"], {"ttl_ms": "ttl", "min_retries_per_sec": "min_retries_per_sec", "retry_ratio": "retry_ratio"})
    budget = RetryBudget(time_source=clock, **kwargs)
    policy = RetryPolicy(budget=budget, **policy_kwargs(case["policy"]))
    sequences: dict[str, Any] = {}
    for step in case["steps"]:
        op = step["op"]
        if clock_step(clock, step):
            continue
        if op == "start":
            sequences[step["seq"]] = policy._core.start()
        elif op == "failure":
            state = sequences[step["seq"]]
            delay = state.on_failure(step["retryable"])
            expect = step["expect"]
            if "retry_ns" in expect:
                assert delay is not None and _ns(delay) == expect["retry_ns"], step
            else:
                assert delay is None and state.reason == expect["give_up"], (step, state.reason)
        elif op == "check":
            assert budget.available() == step["available"], step
        else:
            raise AssertionError(f"unknown budget_retry op {op!r}")


def run_throttle(case: dict[str, Any]) -> None:
    clock = VirtualClock()
    throttle = AdaptiveThrottle(time_source=clock, **renamed(case["config"], {"k": "k", "window_ms": "window", "seed": "seed"}))
    for step in case["steps"]:
        op = step["op"]
        if clock_step(clock, step):
            continue
        if op == "requests":
            got = ""
            for _ in step["expect"]:
                try:
                    throttle.admit()
                except ThrottledError:
                    got += "t"
                else:
                    got += "a"
                    throttle.record(step["accepted"])
            assert got == step["expect"], step
        elif op == "check":
            stats = throttle.stats()
            assert (stats.requests, stats.accepts, stats.probability) == (
                step["requests"],
                step["accepts"],
                step["probability"],
            ), step
        elif op == "throttled":
            with pytest.raises(ThrottledError) as info:
                throttle.admit()
            assert _ns(info.value.retry_after) == step["retry_after_ns"], step
        else:
            raise AssertionError(f"unknown throttle op {op!r}")


def run_limiter_mode(case: dict[str, Any], asynchronous: bool) -> None:
    clock = VirtualClock()
    sleeps: list[float] = []

    def sleep(secs: float) -> None:
        sleeps.append(secs)
        clock.ms += secs * 1000

    async def async_sleep(secs: float) -> None:
        sleep(secs)

    kwargs = renamed(case["config"], {"rate": "rate", "per_ms": "per", "burst": "burst"})
    limiter = RateLimiter(time_source=clock, sleep_func=sleep, async_sleep_func=async_sleep, **kwargs)
    for step in case["steps"]:
        op = step["op"]
        if clock_step(clock, step):
            continue
        n = value(step["n"])
        expect = step.get("expect")
        if expect == "exceeds_burst" or (isinstance(expect, dict) and "error" in expect):
            kind = "exceeds_burst" if expect == "exceeds_burst" else expect["error"]
            call: Callable[[], Any] = {
                "acquire": lambda: limiter.try_acquire(n),
                "acquire_blocking": (lambda: asyncio.run(limiter.acquire_async(n))) if asynchronous else (lambda: limiter.acquire(n)),
            }[op]
            with pytest.raises((TypeError, ValueError)) as info:
                call()
            if kind == "exceeds_burst":
                assert (info.value.kind, info.value.parameter) == ("exceeds_burst", "n")  # type: ignore[attr-defined]
            else:
                check_config_error(info.value, "n", kind)
        elif op == "acquire":
            wait = limiter._core.wait_time(n)
            if expect == "ok":
                assert wait is None, step
            else:
                assert wait is not None and _ns(wait) == expect["wait_ns"], (step, wait)
        elif op == "acquire_blocking":
            sleeps.clear()
            if asynchronous:
                asyncio.run(limiter.acquire_async(n))
            else:
                limiter.acquire(n)
            assert [_ns(s) for s in sleeps] == step["sleeps_ns"], step
        else:
            raise AssertionError(f"unknown limiter op {op!r}")


def run_limiter(case: dict[str, Any]) -> None:
    run_limiter_mode(case, asynchronous=False)
    run_limiter_mode(case, asynchronous=True)


RUNNERS: dict[str, Callable[..., None]] = {
    "delays": run_delays,
    "decisions": run_decisions,
    "retry_after": run_retry_after,
    "retry_state": run_retry_state,
    "breaker": run_breaker,
    "fallback": run_fallback,
    "bulkhead": run_bulkhead,
    "config_errors": run_config_errors,
    "config_accepted": run_config_accepted,
    "retry_timeline": run_retry_timeline,
    "timeout": run_timeout,
    "hedging": run_hedging,
    "events": run_events,
    "budget": run_budget,
    "budget_retry": run_budget_retry,
    "throttle": run_throttle,
    "limiter": run_limiter,
}


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_vector(kind: str, case: dict[str, Any], caplog: Any) -> None:
    if kind == "retry":
        run_retry(case, caplog)
        return
    runner = RUNNERS.get(kind)
    assert runner is not None, f"unknown conformance kind {kind!r}"
    runner(case)


def test_an_unknown_kind_op_or_outcome_fails_the_run() -> None:
    with pytest.raises(AssertionError, match="unknown breaker op"):
        run_breaker_sync({"config": {}, "steps": [{"op": "teleport"}]})
    with pytest.raises(AssertionError, match="unknown breaker op"):
        asyncio.run(run_breaker_async({"config": {}, "steps": [{"op": "teleport"}]}))
    with pytest.raises(AssertionError, match="unknown bulkhead op"):
        run_bulkhead({"config": {"max_concurrent": 1, "max_queue_size": 0, "timeout_ms": 1}, "steps": [{"op": "x"}]})
    with pytest.raises(AssertionError, match="unknown policy key"):
        run_delays({"policy": {"tempo": 1}, "attempts": [], "expected_ns": []})
    with pytest.raises(AssertionError, match="unknown kind"):
        check_config_error(ValueError("x"), "x", "too_weird")
    with pytest.raises(AssertionError, match="unknown metric"):
        check_metrics(object(), {"expect": {"vibes": 1}})
    with pytest.raises(AssertionError, match="unknown component"):
        _builders("teapot", {})


def test_an_unknown_op_key_or_outcome_of_the_new_kinds_fails_the_run() -> None:
    with pytest.raises(AssertionError, match="unknown budget op"):
        run_budget({"config": {}, "steps": [{"op": "x"}]})
    with pytest.raises(AssertionError, match="unknown budget_retry op"):
        run_budget_retry({"policy": {}, "budget": {}, "steps": [{"op": "x"}]})
    with pytest.raises(AssertionError, match="unknown throttle op"):
        run_throttle({"config": {}, "steps": [{"op": "x"}]})
    with pytest.raises(AssertionError, match="unknown limiter op"):
        run_limiter({"config": {}, "steps": [{"op": "x", "n": 1}]})
    with pytest.raises(AssertionError, match="unknown key"):
        renamed({"tempo_ms": 1}, {})
    with pytest.raises(AssertionError, match="unknown failure"):
        run_retry_timeline({"policy": {}, "start_ms": None, "steps": [{"failure": "x", "expect": {}}]})
    with pytest.raises(AssertionError, match="unknown judgement"):
        run_retry_timeline({"policy": {}, "start_ms": None, "steps": [{"failure": "value", "judged": "x", "expect": {}}]})
    with pytest.raises(AssertionError, match="unknown strategy"):
        run_events({"pipeline": [{"strategy": "cache"}], "calls": []})
    with pytest.raises(AssertionError, match="unknown strategy key"):
        run_events({"pipeline": [{"strategy": "rate_limiter", "config": {}, "borrowed": 1}], "calls": []})
    with pytest.raises(AssertionError, match="unknown outcome"):
        run_events({"pipeline": [], "calls": [{"outcomes": ["x"], "expected": {"result": "ok", "events": []}}]})
    with pytest.raises(AssertionError, match="unknown outcome"):
        run_hedging(
            {"config": {}, "attempts": [{"takes_ms": 0, "outcome": "x"}], "expected": {"result": "ok"}}
        )
    with pytest.raises(AssertionError, match="unknown event"):
        event_record(object())
