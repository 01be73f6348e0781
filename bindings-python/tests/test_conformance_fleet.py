"""Runs the shared-state vectors in tests/conformance/fleet/*.json (repository
root) through the fleet hooks the Python Redis driver uses
(`resilience._core.FleetHooks`, `FleetConfigCore`, `key_part`), on breakers
built as `resilience.redis` builds them: `SyncCircuitBreaker(store=…)` and
the `BreakerCore` of `AsyncCircuitBreaker(store=…)` (its permit tokens run
the `acquire` / `complete` steps). An unknown kind, op or key fails the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from resilience import CircuitBreakerOpenError, RateLimiter, RetryBudget, SyncCircuitBreaker, _core
from resilience.errors import ParameterTypeError, ParameterValueError

FLEET = Path(__file__).resolve().parents[2] / "tests" / "conformance" / "fleet"
FILES = sorted(FLEET.glob("*.json"))


def test_fleet_vectors_are_present() -> None:
    assert len(FILES) >= 3, f"expected the fleet vectors in {FLEET}"


def _cases() -> list[Any]:
    params = []
    for path in FILES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            params.append(pytest.param(doc["kind"], case, id=f"fleet/{path.stem}:{case['name']}"))
    return params


class Failure(Exception):
    pass


class Ignored(Exception):
    pass


class VirtualClock:
    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self) -> float:
        return self.ms / 1000


SECONDS = ("recovery_timeout_ms", "sampling_duration_ms", "slow_call_duration_ms", "max_recovery_timeout_ms")
PLAIN = (
    "failure_threshold",
    "half_open_max_calls",
    "failure_ratio",
    "minimum_throughput",
    "sampling_buckets",
    "window_size",
    "slow_call_ratio",
    "break_backoff",
)


def breaker_args(config: dict[str, Any], clock: VirtualClock) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, raw in config.items():
        if key in SECONDS:
            kwargs[key[: -len("_ms")]] = raw / 1000
        elif key in PLAIN:
            kwargs[key] = raw
        else:
            raise AssertionError(f"unknown breaker key {key!r}")
    return kwargs


def value(encoded: Any) -> Any:
    """A vector value as a Python user would pass it (tests/README.md, "Values")."""
    if isinstance(encoded, dict):
        assert set(encoded) == {"float"}, f"unknown encoded value {encoded!r}"
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[encoded["float"]]
    return encoded


def fleet_config(config: dict[str, Any]) -> Any:
    for key in config:
        assert key in ("sync_interval_ms", "sync_timeout_ms"), f"unknown fleet key {key!r}"

    def secs(key: str) -> Any:
        raw = value(config.get(key))
        return raw / 1000 if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw

    return _core.FleetConfigCore(secs("sync_interval_ms"), secs("sync_timeout_ms"))


def _ms(ns: int) -> int:
    return ns // 1_000_000


class TokenBreaker:
    """The `BreakerCore` an `AsyncCircuitBreaker` runs on, driven directly."""

    def __init__(self, config: dict[str, Any], fleet: Any, clock: VirtualClock) -> None:
        args = breaker_args(config, clock)
        positional = [args.pop(k, d) for k, d in (
            ("failure_threshold", 5), ("recovery_timeout", 30.0))]
        self.core = _core.BreakerCore(
            positional[0], positional[1], Failure, clock, args.pop("half_open_max_calls", 1), **args, fleet=fleet
        )
        self.clock = clock

    def call(self, step: dict[str, Any]) -> str:
        token, _ = self.core.try_acquire()
        if token is None:
            return "rejected"
        self.clock.ms += step.get("duration_ms", 0)
        outcome = step["outcome"]
        if outcome == "success":
            self.core.success(token)
            return "ok"
        assert outcome in ("failure", "ignored"), f"unknown outcome {outcome!r}"
        self.core.error(token, Failure() if outcome == "failure" else Ignored())
        return "error"


class SyncBreaker:
    """A `SyncCircuitBreaker` (its `call` runs natively)."""

    def __init__(self, config: dict[str, Any], fleet: Any, clock: VirtualClock) -> None:
        # Built the way `store=` builds it: the same native fleet parameters.
        self.core = SyncCircuitBreaker(
            expected_exception=Failure, time_source=clock, **breaker_args(config, clock), store=_Store(fleet), name="v"
        )
        self.clock = clock

    def call(self, step: dict[str, Any]) -> str:
        def body() -> str:
            self.clock.ms += step.get("duration_ms", 0)
            if step["outcome"] == "failure":
                raise Failure
            if step["outcome"] == "ignored":
                raise Ignored
            return "ok"

        try:
            return str(self.core.call(body))
        except CircuitBreakerOpenError:
            return "rejected"
        except (Failure, Ignored):
            return "error"


class _Store:
    """The store shape a breaker's `store=` takes, without a Redis: the
    breaker is shared (its fleet hooks are live), nothing syncs it."""

    def __init__(self, fleet: Any) -> None:
        self._fleet_config = fleet

    def _share(self, owner: Any, name: str, attribute: str | None) -> None:
        pass


def run_fleet(case: dict[str, Any], make: type[TokenBreaker] | type[SyncBreaker]) -> None:
    clock = VirtualClock()
    fleet = fleet_config(case["fleet"])
    breaker = make(case["config"], fleet, clock)
    hooks = _core.FleetHooks(breaker.core)
    reports: dict[str, Any] = {}
    tokens: dict[str, int] = {}
    for i, step in enumerate(case["steps"]):
        op = step["op"]
        at = f"step {i}: {step}"
        if op == "call":
            assert breaker.call(step) == step["expect"], at
        elif op == "acquire":
            assert isinstance(breaker, TokenBreaker), "acquire needs the token API"
            token, retry_after = breaker.core.try_acquire()
            assert ("admitted" if token is not None else "rejected") == step["expect"], at
            if "retry_after_ms" in step:
                assert round(retry_after * 1e9) == step["retry_after_ms"] * 1_000_000, at
            if token is not None:
                tokens[step["id"]] = token
        elif op == "complete":
            token = tokens[step["id"]]
            if step["outcome"] == "success":
                breaker.core.success(token)
            else:
                breaker.core.error(token, Failure() if step["outcome"] == "failure" else Ignored())
        elif op == "advance":
            clock.ms += step["ms"]
        elif op in ("reset", "isolate", "close"):
            getattr(breaker.core, op)()
        elif op == "metrics":
            m = breaker.core.metrics()
            for key, want in step["expect"].items():
                got = {"break_ms": round(m.break_duration * 1000)}.get(key, getattr(m, key, None))
                assert got == want, (at, key, m)
        elif op == "check":
            want = step["state"]
            state = breaker.core.state().name.lower()
            assert state == ("open" if want == "isolated" else want), (at, state)
            assert breaker.core.isolated is (want == "isolated"), at
            assert breaker.core.failure_count() == step["failure_count"], at
        elif op == "take_delta":
            e = step["expect"]
            assert hooks.take_delta() == (e["calls"], e["failures"], e["slow"]), at
        elif op == "seed":
            got = [[_ms(age), c, f, s] for age, c, f, s in hooks.seed()]
            assert got == step["expect"], (at, got)
        elif op == "report":
            report = hooks.report()
            got = {
                "opened_ms": None if report.opened_ns is None else _ms(report.opened_ns),
                "closed": report.closed,
                "open_remaining_ms": _ms(report.open_remaining_ns),
                "leases_wanted": report.leases_wanted,
            }
            for key, want in step["expect"].items():
                assert got[key] == want, (at, key, got)
            if "id" in step:
                reports[step["id"]] = report
        elif op == "apply_fleet":
            v = step["view"]
            for key in v:
                assert key in ("calls", "failures", "slow", "open_ms", "closes", "leases"), f"unknown view key {key!r}"
            sent = reports[step["sent"]] if "sent" in step else None
            got = hooks.apply(
                v.get("calls", 0), v.get("failures", 0), v.get("slow", 0), v.get("open_ms", 0) * 1_000_000,
                v.get("closes", 0), v.get("leases", 0), sent,
            )
            if "expect_transition" in step:
                assert got == step["expect_transition"], (at, got)
        elif op == "fleet_lost":
            hooks.lost()
        elif op == "fleet_status":
            status = hooks.status()
            for key, want in step["expect"].items():
                assert status[key] == want, (at, key, status)
        else:
            raise AssertionError(f"unknown fleet op {op!r}")


class LeaseStore:
    """A store-shaped object: the limiter or budget built with it is shared
    (its native core is captured for the hooks a driver uses)."""

    def __init__(self, fleet: Any) -> None:
        self._fleet_config = fleet
        self.core: Any = None

    def _share(self, owner: Any, name: str, attribute: str | None) -> None:
        raise AssertionError("not a breaker")

    def _share_lease(self, owner: Any, core: Any, name: str) -> None:
        self.core = core


def lease_object(component: str, config: dict[str, Any], store: Any, clock: Any, **shared: Any) -> Any:
    """The Python face of a vector's limiter or budget (`store=`, `name=`, `lease_size=`)."""
    if component == "limiter":
        for key in config:
            assert key in ("rate", "per_ms", "burst"), f"unknown limiter key {key!r}"
        kwargs = {k: value(v) for k, v in config.items() if k != "per_ms"}
        if "per_ms" in config:
            kwargs["per"] = value(config["per_ms"]) / 1000
        return RateLimiter(**kwargs, time_source=clock, store=store, **shared)
    assert component == "budget", f"unknown component {component!r}"
    for key in config:
        assert key in ("ttl_ms", "min_retries_per_sec", "retry_ratio"), f"unknown budget key {key!r}"
    kwargs = {k: value(v) for k, v in config.items() if k != "ttl_ms"}
    if "ttl_ms" in config:
        kwargs["ttl"] = value(config["ttl_ms"]) / 1000
    return RetryBudget(**kwargs, time_source=clock, store=store, **shared)


def lease_sync(component: str, core: Any) -> Any:
    make = _core.LeaseSync.for_limiter if component == "limiter" else _core.LeaseSync.for_budget
    return make("v", "v", "i", core)


def run_lease(case: dict[str, Any]) -> None:
    clock = VirtualClock()
    component = "limiter" if "limiter" in case else "budget"
    store = LeaseStore(fleet_config(case["fleet"]))
    shared = {"name": "v"}
    if "lease_size" in case:
        shared["lease_size"] = case["lease_size"]
    obj = lease_object(component, case[component], store, clock, **shared)
    sync = lease_sync(component, store.core)
    wakes = [0]

    def wake() -> None:
        wakes[0] += 1

    assert sync.set_waker(wake)
    sent: dict[str, int] = {}
    for step in case["steps"]:
        at = f"{case['name']}: {step}"
        op = step["op"]
        if op == "advance":
            clock.ms += step["ms"]
        elif op == "acquire":
            try:
                wait = obj._core.wait_time(step["n"])
                got: Any = "ok" if wait is None else {"wait_ns": round(wait * 1e9)}
            except ParameterValueError as error:
                assert error.kind == "exceeds_burst", at
                got = "exceeds_burst"
            assert got == step["expect"], at
        elif op == "deposit":
            for _ in range(step.get("times", 1)):
                obj.deposit()
        elif op == "withdraw":
            assert [obj.try_withdraw() for _ in step["expect"]] == step["expect"], at
        elif op == "check":
            assert obj.available() == step["available"], at
        elif op == "request":
            want, deposits = sync.request()
            for key, w in step.get("expect", {}).items():
                assert {"want": want, "deposits": deposits}[key] == w, (at, key)
            if "id" in step:
                sent[step["id"]] = want
        elif op == "apply":
            g = step["grant"]
            wait_ms = g.get("wait_ms")
            sync.apply(
                g.get("granted", 0),
                None if wait_ms is None else wait_ms / 1000,
                g.get("available", 0),
                g.get("fleet_size", 0),
                sent[step["sent"]],
            )
        elif op == "lost":
            sync.lost()
        elif op == "wakes":
            assert wakes[0] == step["expect"], at
        elif op == "status":
            status = sync.status()
            for key, w in step["expect"].items():
                if key == "since_sync_ms":
                    assert round(status["since_sync"] * 1000) == w, at
                else:
                    assert status[key] == w, (at, key, status)
        else:
            raise AssertionError(f"unknown lease op {op!r}")


def run_fleet_rules(case: dict[str, Any]) -> None:
    try:
        if case["rule"] == "lease_size":
            store = None if case.get("store") is False else LeaseStore(_core.FleetConfigCore(None, None))
            shared: dict[str, Any] = {} if store is None else {"name": "v"}
            if "value" in case:
                shared["lease_size"] = value(case["value"])
            obj = lease_object(case["component"], case["config"], store, VirtualClock(), **shared)
            got: Any = lease_sync(case["component"], obj._core).status()["lease_size"]
        elif case["rule"] == "shared_name":
            got = _core.shared_name(case["store"], value(case.get("value")))
        elif case["rule"] == "fleet_config":
            c = fleet_config(case["config"])
            interval, timeout, stale, lease = (_ms(n) for n in c.nanos())
            got: Any = {
                "sync_interval_ms": interval,
                "sync_timeout_ms": timeout,
                "stale_after_ms": stale,
                "lease_ttl_ms": lease,
            }
        elif case["rule"] == "key_part":
            got = _core.key_part(case["parameter"], value(case["value"]))
        else:
            raise AssertionError(f"unknown rule {case['rule']!r}")
    except (ParameterTypeError, ParameterValueError) as error:
        assert "expect" not in case, (case, error)
        assert error.parameter == case["parameter"], error
        assert error.kind == case["kind"], error
        return
    assert "expect" in case, (case, got)
    want = case["expect"]
    if isinstance(want, dict):
        for key, w in want.items():
            assert got[key] == w, (key, got)
    else:
        assert got == want


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_fleet_vector(kind: str, case: dict[str, Any]) -> None:
    if kind == "fleet":
        run_fleet(case, TokenBreaker)
        if not any(s["op"] in ("acquire", "complete") for s in case["steps"]):
            run_fleet(case, SyncBreaker)
    elif kind == "fleet_rules":
        run_fleet_rules(case)
    elif kind == "lease":
        run_lease(case)
    else:
        raise AssertionError(f"unknown kind {kind!r}")


def test_an_unknown_fleet_op_fails_the_run() -> None:
    case = {"config": {}, "fleet": {}, "steps": [{"op": "teleport"}]}
    with pytest.raises(AssertionError, match="unknown fleet op"):
        run_fleet(case, TokenBreaker)


def test_store_and_name_go_together() -> None:
    with pytest.raises(ParameterValueError) as info:
        SyncCircuitBreaker(name="payments")
    assert (info.value.parameter, info.value.kind) == ("name", "requires_other")
    with pytest.raises(ParameterValueError) as info:
        SyncCircuitBreaker(store=_Store(_core.FleetConfigCore()))
    assert (info.value.parameter, info.value.kind) == ("store", "requires_other")
    with pytest.raises(ParameterValueError) as info:
        SyncCircuitBreaker(store=_Store(_core.FleetConfigCore()), name="")
    assert (info.value.parameter, info.value.kind) == ("name", "too_small")


def test_unshared_breakers_have_no_fleet_hooks() -> None:
    with pytest.raises(ValueError, match="not shared"):
        _core.FleetHooks(SyncCircuitBreaker())
    with pytest.raises(TypeError):
        _core.FleetHooks(object())
