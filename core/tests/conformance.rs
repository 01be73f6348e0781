//! Runs every conformance vector in `tests/conformance/` against the core.
//! See `tests/README.md` for the format; an unknown kind or op fails.

mod vectors;

use std::time::Duration;

use std::collections::HashMap;

use resilience_core::rules::{self, PredicateOutcome, Unit};
use resilience_core::{
    parse_retry_after, Admission, BreakerConfig, Bulkhead, CancelOutcome, CircuitBreaker, ConfigError, FallbackState,
    FallbackStep, FleetConfig, FleetCounts, FleetReport, FleetView, HedgeOutcome, HedgeStep, Idiom, ManualClock,
    PermitToken, Retry, RetryDecision, RetryPolicy, RetryState, Slot, Ticket,
};
use serde_json::Value;
use vectors::{
    breaker_config, bulkhead_config, hedging_config, load, load_all, load_from, policy_from, str_of, timeout_config,
    u64_of, value_of,
};

#[test]
fn every_vector_file_passes() {
    let files = load_all();
    assert!(
        files.len() >= 21,
        "expected the conformance files, found {}",
        files.len()
    );
    for (path, file) in files {
        let kind = str_of(&file, "kind");
        let cases = file["cases"].as_array().unwrap_or_else(|| panic!("{path}: no cases"));
        assert!(!cases.is_empty(), "{path}: empty");
        for case in cases {
            let name = format!("{path} / {}", str_of(case, "name"));
            match kind {
                "delays" => run_delays(case, &name),
                "retry" => run_retry(case, &name),
                "decisions" => run_decisions(case, &name),
                "retry_state" => run_retry_state(case, &name),
                "retry_after" => run_retry_after(case, &name),
                "breaker" => run_breaker(case, &name),
                "fallback" => run_fallback(case, &name),
                "bulkhead" => run_bulkhead(case, &name),
                "config_errors" => run_config_error(case, &name),
                "config_accepted" => run_config_accepted(case, &name),
                "retry_timeline" => run_retry_timeline(case, &name),
                "hedging" => run_hedging(case, &name),
                "events" => vectors::events::run_events(case, &name),
                "timeout" => run_timeout(case, &name),
                "budget" => load::run_budget(case, &name),
                "budget_retry" => load::run_budget_retry(case, &name),
                "throttle" => load::run_throttle(case, &name),
                "limiter" => load::run_limiter(case, &name),
                other => panic!("{path}: unknown kind {other}"),
            }
        }
    }
}

/// The shared-state vectors (`tests/conformance/fleet/`): the fleet hooks a
/// store driver uses. Kept in a subfolder until every binding with a Redis
/// driver runs them (see tests/README.md).
#[test]
fn every_fleet_vector_passes() {
    let files = load_from("fleet");
    assert!(files.len() >= 3, "expected the fleet vectors, found {}", files.len());
    for (path, file) in files {
        let kind = str_of(&file, "kind");
        let cases = file["cases"].as_array().unwrap_or_else(|| panic!("{path}: no cases"));
        assert!(!cases.is_empty(), "{path}: empty");
        for case in cases {
            let name = format!("fleet/{path} / {}", str_of(case, "name"));
            match kind {
                "fleet" => run_fleet(case, &name),
                "fleet_rules" => run_fleet_rules(case, &name),
                "lease" => vectors::lease::run_lease(case, &name),
                other => panic!("{path}: unknown kind {other}"),
            }
        }
    }
}

fn fleet_config_from(c: &Value) -> Result<FleetConfig, ConfigError> {
    let value = |key: &str| c.get(key).map_or(resilience_core::Value::Absent, value_of);
    FleetConfig::builder()
        .values(Unit::Milliseconds, value("sync_interval_ms"), value("sync_timeout_ms"))
        .build()
}

fn ms_of(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).expect("fits")
}

fn counts_of(v: &Value) -> FleetCounts {
    let n = |key: &str| v.get(key).and_then(Value::as_u64).unwrap_or(0);
    FleetCounts {
        calls: n("calls"),
        failures: n("failures"),
        slow: n("slow"),
    }
}

fn run_fleet(case: &Value, name: &str) {
    let fleet = fleet_config_from(&case["fleet"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut run = BreakerRun::new(case, Some(fleet), name);
    let mut reports: HashMap<String, FleetReport> = HashMap::new();
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        if run.step(step, &at) {
            continue;
        }
        let breaker = &run.breaker;
        match str_of(step, "op") {
            "take_delta" => {
                assert_eq!(breaker.take_delta().counts, counts_of(&step["expect"]), "{at}");
            }
            "seed" => {
                let got: Vec<Vec<u64>> = breaker
                    .fleet_seed()
                    .buckets
                    .iter()
                    .map(|(age, c)| vec![ms_of(*age), c.calls, c.failures, c.slow])
                    .collect();
                let want: Vec<Vec<u64>> = serde_json::from_value(step["expect"].clone()).expect("buckets");
                assert_eq!(got, want, "{at}");
            }
            "report" => {
                let report = breaker.fleet_report();
                let expect = &step["expect"];
                let got = serde_json::json!({
                    "opened_ms": report.opened.map(ms_of),
                    "closed": report.closed,
                    "open_remaining_ms": ms_of(report.open_remaining),
                    "leases_wanted": report.leases_wanted,
                });
                for (key, want) in expect.as_object().expect("expect") {
                    assert_eq!(&got[key], want, "{at}: {key} in {got}");
                }
                if let Some(id) = step.get("id").and_then(Value::as_str) {
                    reports.insert(id.to_string(), report);
                }
            }
            "apply_fleet" => {
                let v = &step["view"];
                let view = FleetView {
                    totals: counts_of(v),
                    open_remaining: Duration::from_millis(v.get("open_ms").and_then(Value::as_u64).unwrap_or(0)),
                    closes: v.get("closes").and_then(Value::as_u64).unwrap_or(0),
                    leases: v.get("leases").and_then(Value::as_u64).unwrap_or(0) as u32,
                };
                // Without `sent`, the sync published nothing this breaker knows of.
                let sent = match step.get("sent").and_then(Value::as_str) {
                    Some(id) => *reports.get(id).unwrap_or_else(|| panic!("{at}: no report {id}")),
                    None => FleetReport::default(),
                };
                let got = breaker
                    .apply_fleet(&view, &sent)
                    .map(|t| format!("{}->{}", t.from.as_str(), t.to.as_str()));
                if let Some(want) = step.get("expect_transition") {
                    assert_eq!(got.as_deref(), want.as_str(), "{at}");
                }
            }
            "fleet_lost" => breaker.fleet_lost(),
            "fleet_status" => {
                let s = breaker.fleet_status().expect("shared");
                let got = serde_json::json!({
                    "live": s.live,
                    "calls": s.totals.calls,
                    "failures": s.totals.failures,
                    "slow": s.totals.slow,
                    "leases": s.leases,
                    "remote_opens": s.remote_opens,
                    "remote_closes": s.remote_closes,
                });
                for (key, want) in step["expect"].as_object().expect("expect") {
                    assert_eq!(&got[key], want, "{at}: {key} in {got}");
                }
            }
            other => panic!("{at}: unknown op {other}"),
        }
    }
}

fn run_fleet_rules(case: &Value, name: &str) {
    let result: Result<Value, ConfigError> = match str_of(case, "rule") {
        "fleet_config" => fleet_config_from(&case["config"]).map(|c| {
            serde_json::json!({
                "sync_interval_ms": ms_of(c.sync_interval()),
                "sync_timeout_ms": ms_of(c.sync_timeout()),
                "stale_after_ms": ms_of(c.stale_after()),
                "lease_ttl_ms": ms_of(c.lease_ttl()),
            })
        }),
        "key_part" => {
            // The whole text, as bindings pass it (not the cutting `Value::text`).
            let value = match &case["value"] {
                Value::String(s) => resilience_core::Value::Text(s.clone()),
                other => value_of(other),
            };
            let parameter = match str_of(case, "parameter") {
                "name" => "name",
                "prefix" => "prefix",
                other => panic!("{name}: unknown key part {other}"),
            };
            rules::key_part(parameter, value).map(Value::String)
        }
        "lease_size" | "shared_name" => vectors::lease::lease_rule(case, name),
        other => panic!("{name}: unknown rule {other}"),
    };
    match (result, case.get("expect")) {
        (Ok(got), Some(want)) => {
            if let Some(fields) = want.as_object() {
                for (key, w) in fields {
                    assert_eq!(&got[key], w, "{name}: {key}");
                }
            } else {
                assert_eq!(&got, want, "{name}");
            }
        }
        (Err(err), None) => {
            assert_eq!(err.parameter(), str_of(case, "parameter"), "{name}: {err}");
            assert_eq!(err.kind().as_str(), str_of(case, "kind"), "{name}: {err}");
            for idiom in [Idiom::Rust, Idiom::Python, Idiom::JavaScript, Idiom::C] {
                let message = err.message(idiom);
                assert!(message.contains(&err.parameter_in(idiom)), "{name}: {message}");
                assert!(message.len() < 200, "{name}: {message}");
            }
        }
        (got, want) => panic!("{name}: expected {want:?}, got {got:?}"),
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).expect("fits")
}

fn run_delays(case: &Value, name: &str) {
    let policy = policy_from(&case["policy"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let attempts = case["attempts"].as_array().expect("attempts");
    let expected = case["expected_ns"].as_array().expect("expected_ns");
    for (a, e) in attempts.iter().zip(expected) {
        let got = ns(policy.calculate_delay(a.as_i64().expect("attempt")));
        assert_eq!(got, e.as_u64().expect("ns"), "{name}: attempt {a}");
    }
}

#[derive(Debug, PartialEq)]
struct Flaky {
    /// How the retry filter classifies this error.
    filter: PredicateOutcome,
    attempt: u32,
}

fn run_retry(case: &Value, name: &str) {
    let policy = policy_from(&case["policy"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let outcomes: Vec<&str> = case["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| o.as_str().expect("outcome"))
        .collect();
    let expected = &case["expected"];
    let clock = ManualClock::new();
    let mut on_retry = Vec::new();
    let mut ran = 0u32;
    let mut predicate_calls = 0u64;
    let result = Retry::new(&policy, clock.clone())
        .retry_if(|e: &Flaky| {
            predicate_calls += 1;
            // Rust predicates answer a bool; a "failing" filter is the
            // rule's answer for one that could not classify the error.
            e.filter.retryable()
        })
        .on_retry(|attempt, _e: &Flaky, delay| on_retry.push((attempt, ns(delay))))
        .call(|attempt| {
            ran += 1;
            assert_eq!(attempt, ran, "{name}: attempt numbering");
            match outcomes.get(ran as usize - 1).copied() {
                Some("ok") => Ok(attempt),
                Some(kind @ ("retryable" | "fatal" | "predicate_fails")) => Err(Flaky {
                    filter: match kind {
                        "retryable" => PredicateOutcome::Yes,
                        "fatal" => PredicateOutcome::No,
                        _ => PredicateOutcome::Failed,
                    },
                    attempt,
                }),
                other => panic!("{name}: call {ran} beyond the script or unknown outcome {other:?}"),
            }
        });
    assert_eq!(ran as u64, u64_of(expected, "attempts"), "{name}: attempts");
    assert_eq!(
        predicate_calls,
        u64_of(expected, "predicate_calls"),
        "{name}: predicate calls"
    );
    match (str_of(expected, "result"), result) {
        ("ok", Ok(_)) => assert!(expected["reason"].is_null()),
        ("error", Err(e)) => {
            assert_eq!(e.reason.as_str(), str_of(expected, "reason"), "{name}: reason");
            assert_eq!(e.attempts, ran, "{name}");
            // The last attempt's error, unchanged.
            assert_eq!(e.error.attempt, ran, "{name}: the surfaced error is the last one");
        }
        (want, got) => panic!("{name}: expected {want}, got {got:?}"),
    }
    let sleeps: Vec<u64> = clock.sleeps().into_iter().map(ns).collect();
    let want_sleeps: Vec<u64> = expected["sleeps_ns"]
        .as_array()
        .expect("sleeps")
        .iter()
        .map(|v| v.as_u64().expect("ns"))
        .collect();
    assert_eq!(sleeps, want_sleeps, "{name}: sleeps");
    let want_retry: Vec<(u32, u64)> = expected["on_retry"]
        .as_array()
        .expect("on_retry")
        .iter()
        .map(|p| (p[0].as_u64().expect("a") as u32, p[1].as_u64().expect("d")))
        .collect();
    assert_eq!(on_retry, want_retry, "{name}: on_retry");
}

fn run_retry_state(case: &Value, name: &str) {
    let policy = policy_from(&case["policy"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut state = policy.start();
    for (i, f) in case["failures"].as_array().expect("failures").iter().enumerate() {
        let hint = f["retry_after_ms"].as_u64().map(Duration::from_millis);
        let expect = &f["expect"];
        let got = match f.get("classify").and_then(Value::as_str) {
            None => state.on_failure_with_hint(&policy, f["retryable"].as_bool().expect("retryable"), hint),
            Some(how) => {
                let mut asked = false;
                let outcome = match how {
                    "yes" => PredicateOutcome::Yes,
                    "no" => PredicateOutcome::No,
                    "fails" => PredicateOutcome::Failed,
                    other => panic!("{name}: unknown classify {other}"),
                };
                let got = state.on_failure_classified(
                    &policy,
                    || {
                        asked = true;
                        outcome
                    },
                    hint,
                );
                assert_eq!(Some(asked), expect["asked"].as_bool(), "{name}: failure {i} asked");
                got
            }
        };
        match got {
            RetryDecision::Retry { attempt, delay } => {
                assert_eq!(attempt as usize, i + 1, "{name}: failure {i}");
                assert_eq!(Some(ns(delay)), expect["retry_ns"].as_u64(), "{name}: failure {i}");
            }
            RetryDecision::GiveUp { reason, .. } => {
                assert_eq!(Some(reason.as_str()), expect["give_up"].as_str(), "{name}: failure {i}");
            }
            other => panic!("{name}: unknown decision {other:?}"),
        }
    }
}

fn run_decisions(case: &Value, name: &str) {
    let policy = policy_from(&case["policy"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let attempt = |c: &Value| rules::attempt(value_of(&c["attempt"])).unwrap_or_else(|e| panic!("{name}: {e}"));
    for c in case["should_retry"].as_array().expect("should_retry") {
        let got = policy.should_retry(attempt(c), c["retryable"].as_bool().expect("bool"));
        assert_eq!(got, c["expected"].as_bool().expect("bool"), "{name}: {c}");
    }
    for c in case["should_retry_status"].as_array().expect("should_retry_status") {
        let got = rules::response_status(&value_of(&c["status"]))
            .is_some_and(|status| policy.should_retry_status(status, attempt(c)));
        assert_eq!(got, c["expected"].as_bool().expect("bool"), "{name}: {c}");
    }
    for c in case
        .get("attempt_errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let err = rules::attempt(value_of(&c["attempt"])).expect_err("an invalid attempt");
        assert_eq!(err.parameter(), "attempt", "{name}: {c}");
        assert_eq!(err.kind().as_str(), str_of(c, "kind"), "{name}: {c}");
    }
}

fn run_retry_after(case: &Value, name: &str) {
    let policy = RetryPolicy::builder()
        .base_delay(Duration::ZERO)
        .max_delay(Duration::from_millis(u64_of(case, "max_delay_ms")))
        .build()
        .expect("policy");
    let now = Duration::from_secs(u64_of(case, "now_unix_s"));
    let got = parse_retry_after(str_of(case, "header"), now).map(|d| ns(policy.cap_retry_after(d)));
    assert_eq!(got, case["expected_ns"].as_u64(), "{name}");
}

fn run_breaker(case: &Value, name: &str) {
    let mut run = BreakerRun::new(case, None, name);
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        if !run.step(step, &at) {
            panic!("{at}: unknown op {}", str_of(step, "op"));
        }
    }
}

/// One breaker scenario's state: the breaker, its virtual clock, the permits
/// and snapshots steps refer to (shared by the `breaker` and `fleet` kinds).
struct BreakerRun {
    clock: ManualClock,
    config: BreakerConfig,
    fleet: Option<FleetConfig>,
    breaker: CircuitBreaker<ManualClock>,
    /// A second breaker, for permits that belong elsewhere ("on": "other").
    other: CircuitBreaker<ManualClock>,
    /// Permits stay known after they complete, so a step can report one twice.
    held: HashMap<String, PermitToken>,
    snapshots: HashMap<String, String>,
}

impl BreakerRun {
    fn new(case: &Value, fleet: Option<FleetConfig>, name: &str) -> Self {
        let clock = ManualClock::new();
        let config = breaker_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let breaker = Self::build(config, fleet, clock.clone());
        Self {
            other: CircuitBreaker::new(config, clock.clone()),
            clock,
            config,
            fleet,
            breaker,
            held: HashMap::new(),
            snapshots: HashMap::new(),
        }
    }

    fn build(config: BreakerConfig, fleet: Option<FleetConfig>, clock: ManualClock) -> CircuitBreaker<ManualClock> {
        let breaker = CircuitBreaker::new(config, clock);
        match fleet {
            Some(fleet) => breaker.in_fleet(fleet),
            None => breaker,
        }
    }

    /// Runs one `breaker` op; `false` when the op is not one of them.
    fn step(&mut self, step: &Value, at: &str) -> bool {
        let breaker = &self.breaker;
        match str_of(step, "op") {
            "call" => {
                let outcome = str_of(step, "outcome");
                // The call takes `duration_ms` of (virtual) time.
                let duration = Duration::from_millis(step.get("duration_ms").and_then(Value::as_u64).unwrap_or(0));
                let clock = &self.clock;
                let got = breaker.call_filtered(
                    || {
                        clock.advance(duration);
                        if outcome == "success" {
                            Ok(())
                        } else {
                            Err(outcome)
                        }
                    },
                    |e| *e == "failure",
                );
                let word = match got {
                    Ok(()) => "ok",
                    Err(resilience_core::BreakerError::Inner(_)) => "error",
                    Err(_) => "rejected",
                };
                assert_eq!(word, str_of(step, "expect"), "{at}");
            }
            "acquire" => {
                let from = if step.get("on").and_then(Value::as_str) == Some("other") {
                    &self.other
                } else {
                    breaker
                };
                match (from.acquire_token(), str_of(step, "expect")) {
                    (Ok(token), "admitted") => {
                        self.held.insert(str_of(step, "id").to_string(), token);
                    }
                    (Err(rejected), "rejected") => {
                        if let Some(ms) = step.get("retry_after_ms").and_then(Value::as_u64) {
                            assert_eq!(rejected.retry_after, Duration::from_millis(ms), "{at}");
                        }
                    }
                    (got, want) => panic!("{at}: expected {want}, got {got:?}"),
                }
            }
            "complete" => {
                let token = *self
                    .held
                    .get(str_of(step, "id"))
                    .unwrap_or_else(|| panic!("{at}: no such permit"));
                let result = match str_of(step, "outcome") {
                    "success" => breaker.record_success(token).map(|_| ()),
                    "failure" => breaker.record_failure(token).map(|_| ()),
                    "ignored" => breaker.release(token),
                    other => panic!("{at}: unknown outcome {other}"),
                };
                let word = if result.is_ok() { "ok" } else { "misuse" };
                let want = step.get("expect").and_then(Value::as_str).unwrap_or("ok");
                assert_eq!(word, want, "{at}: {result:?}");
            }
            "advance" => self.clock.advance(Duration::from_millis(u64_of(step, "ms"))),
            "set_clock" => {
                // The reading goes through the same rule every binding's clock does.
                let reading = match value_of(&step["ms"]) {
                    resilience_core::Value::Int(n) => n as f64,
                    resilience_core::Value::Float(x) => x,
                    other => panic!("{at}: not a reading: {other:?}"),
                };
                self.clock.set(rules::clock_reading(reading, Unit::Milliseconds));
            }
            "reset" => {
                breaker.reset();
            }
            "isolate" => {
                breaker.isolate();
            }
            "close" => {
                breaker.close();
            }
            "metrics" => check_metrics(&breaker.metrics(), &step["expect"], at),
            "snapshot" => {
                let document = breaker.snapshot();
                let parsed: Value = serde_json::from_str(&document).unwrap_or_else(|e| panic!("{at}: {e}"));
                for (key, want) in step["expect"].as_object().expect("expect") {
                    assert_eq!(&parsed[key], want, "{at}: {key} in {document}");
                }
                self.snapshots.insert(str_of(step, "id").to_string(), document);
            }
            "restore" => {
                // A new process: a new clock, the breaker built from the document.
                self.clock = ManualClock::starting_at(Duration::from_millis(u64_of(step, "clock_ms")));
                let document = &self.snapshots[str_of(step, "from")];
                let restored = CircuitBreaker::from_snapshot(self.config, self.clock.clone(), document)
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                self.breaker = match self.fleet {
                    Some(fleet) => restored.in_fleet(fleet),
                    None => restored,
                };
            }
            "restore_document" => {
                let got = CircuitBreaker::from_snapshot(self.config, self.clock.clone(), str_of(step, "document"));
                let kind = match got {
                    Err(resilience_core::SnapshotError::Malformed { .. }) => "malformed",
                    Err(resilience_core::SnapshotError::UnsupportedVersion { .. }) => "unsupported_version",
                    Err(other) => panic!("{at}: unknown error {other:?}"),
                    Ok(_) => "accepted",
                };
                assert_eq!(kind, str_of(step, "expect_error"), "{at}");
            }
            "check" => {
                assert_eq!(breaker.state().as_str(), str_of(step, "state"), "{at}");
                assert_eq!(
                    u64::from(breaker.failure_count()),
                    u64_of(step, "failure_count"),
                    "{at}"
                );
            }
            _ => return false,
        }
        true
    }
}

/// Compares the fields a `metrics` step names (durations in ms, ratios exactly).
fn check_metrics(m: &resilience_core::BreakerMetrics, expect: &Value, at: &str) {
    for (key, want) in expect.as_object().expect("metrics expectations") {
        let got = match key.as_str() {
            "window_calls" => m.window_calls as f64,
            "window_failures" => m.window_failures as f64,
            "window_slow_calls" => m.window_slow_calls as f64,
            "failure_ratio" => m.failure_ratio,
            "slow_call_ratio" => m.slow_call_ratio,
            "rejections" => m.rejections as f64,
            "openings" => m.openings as f64,
            "consecutive_failures" => f64::from(m.consecutive_failures),
            "time_in_state_ms" => m.time_in_state.as_secs_f64() * 1000.0,
            "break_ms" => m.break_duration.as_secs_f64() * 1000.0,
            other => panic!("{at}: unknown metric {other}"),
        };
        assert_eq!(got, want.as_f64().expect("a number"), "{at}: {key}");
    }
}

fn run_fallback(case: &Value, name: &str) {
    let n = u64_of(case, "fallbacks") as usize;
    let outcomes = case["fallback_outcomes"].as_array().expect("fallback_outcomes");
    let expected = &case["expected"];
    let mut calls = vec!["primary".to_string()];
    let primary = str_of(case, "primary");
    // Errors carry who raised them, so the surfaced one can be named.
    let (answered, raised) = if primary == "ok" {
        (Some("primary".to_string()), None)
    } else {
        let mut state = FallbackState::new(n);
        let mut error = "primary".to_string();
        let filter = match primary {
            "expected_error" => PredicateOutcome::Yes,
            "unexpected_error" => PredicateOutcome::No,
            "filter_fails" => PredicateOutcome::Failed,
            other => panic!("{name}: unknown primary {other}"),
        };
        let mut step = state.on_primary_error(filter.falls_back());
        let mut answered = None;
        while let FallbackStep::CallFallback(i) = step {
            let who = format!("fallback:{i}");
            calls.push(who.clone());
            if outcomes[i].as_str() == Some("ok") {
                answered = Some(who);
                break;
            }
            error = who;
            step = state.on_fallback_error();
        }
        let raised = answered.is_none().then_some(error);
        (answered, raised)
    };
    assert_eq!(
        answered.as_deref(),
        expected["answered_by"].as_str(),
        "{name}: answered_by"
    );
    assert_eq!(raised.as_deref(), expected["raised"].as_str(), "{name}: raised");
    let want: Vec<&str> = expected["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c.as_str().expect("call"))
        .collect();
    assert_eq!(calls, want, "{name}: calls");
}

/// A bulkhead handle a step names: held slot or queued ticket.
#[derive(Clone, Copy)]
enum Handle {
    Slot(Slot),
    Ticket(Ticket),
}

fn run_bulkhead(case: &Value, name: &str) {
    let config = bulkhead_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let bulkhead = Bulkhead::new(config);
    let other = Bulkhead::new(config);
    let mut handles: HashMap<String, Handle> = HashMap::new();
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        let id = || str_of(step, "id").to_string();
        match str_of(step, "op") {
            "acquire" => {
                let from = if step.get("on").and_then(Value::as_str) == Some("other") {
                    &other
                } else {
                    &bulkhead
                };
                let word = match from.try_acquire() {
                    Admission::Acquired(slot) => {
                        handles.insert(id(), Handle::Slot(slot));
                        "acquired"
                    }
                    Admission::Queued(t) => {
                        handles.insert(id(), Handle::Ticket(t));
                        "queued"
                    }
                    Admission::QueueFull => "queue_full",
                    other => panic!("{at}: unknown admission {other:?}"),
                };
                assert_eq!(word, str_of(step, "expect"), "{at}");
            }
            "release" => {
                let slot = match handles.get(&id()).copied() {
                    Some(Handle::Slot(s)) => s,
                    Some(Handle::Ticket(t)) => t.slot(),
                    None => panic!("{at}: unknown id"),
                };
                match (bulkhead.release(slot), step.get("expect").and_then(Value::as_str)) {
                    (Err(_), Some("misuse")) => {}
                    (Ok(granted), None) => {
                        let granted = granted.map(|t| {
                            handles
                                .iter()
                                .find(|(_, h)| matches!(h, Handle::Ticket(x) if *x == t))
                                .map(|(id, _)| id.clone())
                                .expect("known ticket")
                        });
                        assert_eq!(granted.as_deref(), step["expect_granted"].as_str(), "{at}");
                    }
                    (got, want) => panic!("{at}: expected {want:?}, got {got:?}"),
                }
            }
            "cancel" => {
                let Some(Handle::Ticket(t)) = handles.get(&id()).copied() else {
                    panic!("{at}: not a ticket")
                };
                let word = match bulkhead.cancel(t) {
                    Ok(CancelOutcome::Withdrawn) => "withdrawn",
                    Ok(CancelOutcome::AlreadyGranted(_)) => "already_granted",
                    Ok(other) => panic!("{at}: unknown outcome {other:?}"),
                    Err(_) => "misuse",
                };
                assert_eq!(word, str_of(step, "expect"), "{at}");
            }
            "check" => {
                let s = bulkhead.stats();
                assert_eq!(
                    (u64::from(s.active), u64::from(s.queued)),
                    (u64_of(step, "active"), u64_of(step, "queued")),
                    "{at}"
                );
            }
            other => panic!("{at}: unknown op {other}"),
        }
    }
}

fn build(component: &str, config: &Value, name: &str) -> Result<(), ConfigError> {
    match component {
        "retry" => policy_from(config).map(|_| ()),
        "breaker" => breaker_config(config).map(|_| ()),
        "bulkhead" => bulkhead_config(config).map(|_| ()),
        "timeout" => timeout_config(config).map(|_| ()),
        "hedging" => hedging_config(config).map(|_| ()),
        "pipeline" => {
            let names = config["strategies"].as_array().expect("strategies");
            rules::pipeline_names(names.iter().map(value_of)).map(|_| ())
        }
        "budget" => load::budget_config(config).map(|_| ()),
        "throttle" => load::throttle_config(config).map(|_| ()),
        "limiter" => load::limiter_config(config).map(|_| ()),
        other => panic!("{name}: unknown component {other}"),
    }
}

fn run_config_error(case: &Value, name: &str) {
    let err = build(str_of(case, "component"), &case["config"], name)
        .expect_err(&format!("{name}: expected a configuration error"));
    assert_eq!(err.parameter(), str_of(case, "parameter"), "{name}: {err}");
    assert_eq!(err.kind().as_str(), str_of(case, "kind"), "{name}: {err}");
    for idiom in [Idiom::Rust, Idiom::Python, Idiom::JavaScript, Idiom::C] {
        let message = err.message(idiom);
        assert!(message.contains(&err.parameter_in(idiom)), "{name}: {message}");
        // Short whatever the input (no 300-digit numbers, no megabyte strings).
        assert!(message.len() < 200, "{name}: {message}");
    }
}

fn run_config_accepted(case: &Value, name: &str) {
    if let Err(e) = build(str_of(case, "component"), &case["config"], name) {
        panic!("{name}: rejected: {e}");
    }
}

fn run_retry_timeline(case: &Value, name: &str) {
    let policy = policy_from(&case["policy"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut state = match case["start_ms"].as_u64() {
        Some(start) => RetryState::started_at(Duration::from_millis(start)),
        None => RetryState::new(),
    };
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        let now = step.get("at_ms").and_then(Value::as_u64).map(Duration::from_millis);
        let hint = step
            .get("retry_after_ms")
            .and_then(Value::as_u64)
            .map(Duration::from_millis);
        let got = match str_of(step, "failure") {
            "error" => {
                let retryable = step["retryable"].as_bool().expect("retryable");
                Some(match now {
                    Some(now) => state.on_failure_at(&policy, retryable, hint, now),
                    None => state.on_failure_with_hint(&policy, retryable, hint),
                })
            }
            "timeout" => Some(state.on_timeout(&policy, now)),
            "value" => {
                let judged = match str_of(step, "judged") {
                    "failure" => PredicateOutcome::Yes,
                    "success" => PredicateOutcome::No,
                    "fails" => PredicateOutcome::Failed,
                    other => panic!("{at}: unknown judgement {other}"),
                };
                state.on_result(&policy, || judged, hint, now)
            }
            other => panic!("{at}: unknown failure {other}"),
        };
        let expect = &step["expect"];
        match got {
            None => assert_eq!(expect["accept"].as_bool(), Some(true), "{at}: accepted"),
            Some(RetryDecision::Retry { attempt, delay }) => {
                assert_eq!(attempt as usize, i + 1, "{at}");
                assert_eq!(Some(ns(delay)), expect["retry_ns"].as_u64(), "{at}");
            }
            Some(RetryDecision::GiveUp { reason, .. }) => {
                assert_eq!(Some(reason.as_str()), expect["give_up"].as_str(), "{at}");
            }
            Some(other) => panic!("{at}: unknown decision {other:?}"),
        }
    }
}

/// Drives the sans-IO hedging state on a simulated time line: attempt n,
/// once started, ends `takes_ms` later. At one instant, answers are judged
/// in attempt order before any copy starts.
fn run_hedging(case: &Value, name: &str) {
    let config = hedging_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let script = case["attempts"].as_array().expect("attempts");
    let expected = &case["expected"];
    let mut state = config.start();
    let mut now = Duration::ZERO;
    let mut started = Vec::new();
    let mut events = Vec::new();
    // Running attempts: (attempt, ends at).
    let mut running: Vec<(u32, Duration)> = Vec::new();
    let answer = loop {
        // Start what is due.
        let timer = loop {
            match state.next(now) {
                HedgeStep::Launch { attempt } => {
                    let step = &script[attempt as usize - 1];
                    started.push(ns(now) / 1_000_000);
                    running.push((attempt, now + Duration::from_millis(u64_of(step, "takes_ms"))));
                    if attempt > 1 {
                        events.push(attempt);
                    }
                }
                HedgeStep::Wait { until } => break until,
                other => panic!("{name}: unexpected {other:?}"),
            }
        };
        // The next instant anything happens.
        let next_end = running.iter().map(|r| r.1).min();
        now = match (next_end, timer) {
            (Some(e), Some(t)) => e.min(t),
            (Some(e), None) => e,
            (None, Some(t)) => t,
            (None, None) => panic!("{name}: nothing to wait for"),
        };
        running.sort_unstable();
        let ending: Vec<u32> = running.iter().filter(|r| r.1 == now).map(|r| r.0).collect();
        let mut decided = None;
        for attempt in ending {
            running.retain(|r| r.0 != attempt);
            let outcome = str_of(&script[attempt as usize - 1], "outcome");
            match state.on_outcome(attempt, outcome == "ok", now) {
                HedgeOutcome::Won { .. } | HedgeOutcome::AllFailed { .. } => {
                    decided = Some((attempt, outcome));
                    break;
                }
                HedgeOutcome::Continue => {}
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
        if let Some(answer) = decided {
            break answer;
        }
    };
    let list = |key: &str| -> Vec<u64> {
        expected[key]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {key}"))
            .iter()
            .map(|v| v.as_u64().expect("number"))
            .collect()
    };
    assert_eq!(started, list("started_ms"), "{name}: started_ms");
    assert_eq!(
        u64::from(answer.0),
        u64_of(expected, "answered_by"),
        "{name}: answered_by"
    );
    assert_eq!(answer.1, str_of(expected, "result"), "{name}: result");
    assert_eq!(ns(now) / 1_000_000, u64_of(expected, "at_ms"), "{name}: at_ms");
    let cancelled: Vec<u64> = running.iter().map(|r| u64::from(r.0)).collect();
    assert_eq!(cancelled, list("cancelled"), "{name}: cancelled");
    let want_events: Vec<u64> = expected["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            assert_eq!(str_of(e, "type"), "hedge_started", "{name}");
            u64_of(e, "attempt")
        })
        .collect();
    assert_eq!(
        events.iter().map(|&a| u64::from(a)).collect::<Vec<_>>(),
        want_events,
        "{name}: events"
    );
}

fn run_timeout(case: &Value, name: &str) {
    let timeout = timeout_config(case).unwrap_or_else(|e| panic!("{name}: {e}"));
    let deadline = timeout.start(Duration::from_millis(u64_of(case, "start_ms")));
    for check in case["checks"].as_array().expect("checks") {
        let now = Duration::from_millis(u64_of(check, "at_ms"));
        assert_eq!(
            Some(deadline.expired(now)),
            check["expired"].as_bool(),
            "{name}: {check}"
        );
        assert_eq!(
            ns(deadline.remaining(now)),
            u64_of(check, "remaining_ns"),
            "{name}: {check}"
        );
    }
}
