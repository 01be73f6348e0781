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
    AsyncCircuitBreaker,
    CircuitBreakerOpenError,
    CircuitState,
    FallbackChain,
    RetryExecutor,
    RetryPolicy,
    SnapshotError,
    SyncCircuitBreaker,
    circuit_breaker,
)
from resilience import _core
from resilience.bulkhead_async import AsyncResourcePool
from resilience.bulkhead_sync import SyncResourcePool
from resilience.errors import ParameterTypeError, ParameterValueError

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
        elif key in ("base_delay_ms", "max_delay_ms"):
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
    raise AssertionError(f"unknown component {component!r}")


def run_config_errors(case: dict[str, Any]) -> None:
    for build in _builders(case["component"], case["config"]):
        with pytest.raises((TypeError, ValueError)) as info:
            build()
        check_config_error(info.value, case["parameter"], case["kind"])


def run_config_accepted(case: dict[str, Any]) -> None:
    for build in _builders(case["component"], case["config"]):
        build()


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
