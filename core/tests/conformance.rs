//! Runs every conformance vector in `tests/conformance/` against the core.
//! See `tests/README.md` for the format; an unknown kind or op fails.

mod vectors;

use std::time::Duration;

use resilience_core::{
    duration_from_millis, parse_retry_after, Admission, Bulkhead, CancelOutcome, FallbackState, FallbackStep,
    ManualClock, PermitToken, Retry, RetryPolicy, Ticket,
};
use serde_json::Value;
use vectors::{breaker_config, bulkhead_config, i64_of, load_all, policy_from, str_of, u64_of};

#[test]
fn every_vector_file_passes() {
    let files = load_all();
    assert!(
        files.len() >= 9,
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
                other => panic!("{path}: unknown kind {other}"),
            }
        }
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
    retryable: bool,
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
    let result = Retry::new(&policy, clock.clone())
        .retry_if(|e: &Flaky| e.retryable)
        .on_retry(|attempt, _e: &Flaky, delay| on_retry.push((attempt, ns(delay))))
        .call(|attempt| {
            ran += 1;
            assert_eq!(attempt, ran, "{name}: attempt numbering");
            match outcomes.get(ran as usize - 1).copied() {
                Some("ok") => Ok(attempt),
                Some(kind @ ("retryable" | "fatal")) => Err(Flaky {
                    retryable: kind == "retryable",
                    attempt,
                }),
                other => panic!("{name}: call {ran} beyond the script or unknown outcome {other:?}"),
            }
        });
    assert_eq!(ran as u64, u64_of(expected, "attempts"), "{name}: attempts");
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
        let got = state.on_failure_with_hint(&policy, f["retryable"].as_bool().expect("retryable"), hint);
        let expect = &f["expect"];
        match got {
            resilience_core::RetryDecision::Retry { attempt, delay } => {
                assert_eq!(attempt as usize, i + 1, "{name}: failure {i}");
                assert_eq!(Some(ns(delay)), expect["retry_ns"].as_u64(), "{name}: failure {i}");
            }
            resilience_core::RetryDecision::GiveUp { reason, .. } => {
                assert_eq!(Some(reason.as_str()), expect["give_up"].as_str(), "{name}: failure {i}");
            }
        }
    }
}

fn run_decisions(case: &Value, name: &str) {
    let policy = policy_from(&case["policy"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    for c in case["should_retry"].as_array().expect("should_retry") {
        let got = policy.should_retry(i64_of(c, "attempt"), c["retryable"].as_bool().expect("bool"));
        assert_eq!(got, c["expected"].as_bool().expect("bool"), "{name}: {c}");
    }
    for c in case["should_retry_status"].as_array().expect("should_retry_status") {
        let got = policy.should_retry_status(i64_of(c, "status"), i64_of(c, "attempt"));
        assert_eq!(got, c["expected"].as_bool().expect("bool"), "{name}: {c}");
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
    let clock = ManualClock::new();
    let breaker = breaker_config(&case["config"]).map(|c| resilience_core::CircuitBreaker::new(c, clock.clone()));
    let breaker = breaker.unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut held: std::collections::HashMap<String, PermitToken> = Default::default();
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        match str_of(step, "op") {
            "call" => {
                let outcome = str_of(step, "outcome");
                let got = breaker.call_filtered(
                    || if outcome == "success" { Ok(()) } else { Err(outcome) },
                    |e| *e == "failure",
                );
                let word = match got {
                    Ok(()) => "ok",
                    Err(resilience_core::BreakerError::Inner(_)) => "error",
                    Err(resilience_core::BreakerError::Open(_)) => "rejected",
                };
                assert_eq!(word, str_of(step, "expect"), "{at}");
            }
            "acquire" => match (breaker.acquire_token(), str_of(step, "expect")) {
                (Ok(token), "admitted") => {
                    held.insert(str_of(step, "id").to_string(), token);
                }
                (Err(rejected), "rejected") => {
                    if let Some(ms) = step.get("retry_after_ms").and_then(Value::as_u64) {
                        assert_eq!(rejected.retry_after, Duration::from_millis(ms), "{at}");
                    }
                }
                (got, want) => panic!("{at}: expected {want}, got {got:?}"),
            },
            "complete" => {
                let token = held
                    .remove(str_of(step, "id"))
                    .unwrap_or_else(|| panic!("{at}: no such permit"));
                match str_of(step, "outcome") {
                    "success" => {
                        breaker.record_success(token);
                    }
                    "failure" => {
                        breaker.record_failure(token);
                    }
                    "ignored" => breaker.release(token),
                    other => panic!("{at}: unknown outcome {other}"),
                }
            }
            "advance" => clock.advance(Duration::from_millis(u64_of(step, "ms"))),
            "reset" => {
                breaker.reset();
            }
            "check" => {
                assert_eq!(breaker.state().as_str(), str_of(step, "state"), "{at}");
                assert_eq!(
                    u64::from(breaker.failure_count()),
                    u64_of(step, "failure_count"),
                    "{at}"
                );
            }
            other => panic!("{at}: unknown op {other}"),
        }
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
        let mut step = state.on_primary_error(primary == "expected_error");
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

fn run_bulkhead(case: &Value, name: &str) {
    let bulkhead = Bulkhead::new(bulkhead_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}")));
    let mut tickets: Vec<(String, Ticket)> = Vec::new();
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}: step {i} {step}");
        match str_of(step, "op") {
            "acquire" => {
                let word = match bulkhead.try_acquire() {
                    Admission::Acquired => "acquired",
                    Admission::Queued(t) => {
                        tickets.push((str_of(step, "id").to_string(), t));
                        "queued"
                    }
                    Admission::QueueFull => "queue_full",
                };
                assert_eq!(word, str_of(step, "expect"), "{at}");
            }
            "release" => {
                let granted = bulkhead.release().map(|t| {
                    tickets
                        .iter()
                        .find(|(_, x)| *x == t)
                        .map(|(id, _)| id.clone())
                        .expect("known ticket")
                });
                assert_eq!(granted.as_deref(), step["expect_granted"].as_str(), "{at}");
            }
            "cancel" => {
                let id = str_of(step, "id");
                let t = tickets
                    .iter()
                    .find(|(x, _)| x == id)
                    .map(|(_, t)| *t)
                    .expect("known id");
                let word = match bulkhead.cancel(t) {
                    CancelOutcome::Withdrawn => "withdrawn",
                    CancelOutcome::AlreadyGranted => "already_granted",
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

fn run_config_error(case: &Value, name: &str) {
    let config = &case["config"];
    let err = match str_of(case, "component") {
        "retry" => policy_from(config).err(),
        "breaker" => breaker_config(config).err(),
        "bulkhead" => bulkhead_config(config).err(),
        other => panic!("{name}: unknown component {other}"),
    };
    let err = err.unwrap_or_else(|| panic!("{name}: expected a configuration error"));
    assert_eq!(err.parameter(), str_of(case, "parameter"), "{name}: {err}");
    assert!(err.to_string().contains(str_of(case, "parameter")), "{name}: {err}");
    // Durations go through the shared validator; keep it honest too.
    assert!(duration_from_millis("x", f64::NAN).is_err());
}
