//! Runners for the load-control vectors: `budget`, `budget_retry`,
//! `throttle`, `limiter` (see tests/README.md).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::{
    AdaptiveThrottle, AdaptiveThrottleConfig, ConfigError, ManualClock, RateLimitError, RateLimiter, RateLimiterConfig,
    RetryBudget, RetryBudgetConfig, RetryDecision, RetryState,
};
use serde_json::Value;

use super::{policy_builder_from, str_of, u64_of, value_of};

fn opt(c: &Value, key: &str) -> Option<resilience_core::Value> {
    c.get(key).map(value_of)
}

/// Each config the way every binding builds one: its values through core's rules.
pub(crate) fn budget_config(c: &Value) -> Result<RetryBudgetConfig, ConfigError> {
    RetryBudgetConfig::from_values(
        opt(c, "ttl_ms"),
        opt(c, "min_retries_per_sec"),
        opt(c, "retry_ratio"),
        Unit::Milliseconds,
    )
}

pub(crate) fn throttle_config(c: &Value) -> Result<AdaptiveThrottleConfig, ConfigError> {
    AdaptiveThrottleConfig::from_values(opt(c, "k"), opt(c, "window_ms"), opt(c, "seed"), Unit::Milliseconds)
}

pub(crate) fn limiter_config(c: &Value) -> Result<RateLimiterConfig, ConfigError> {
    RateLimiterConfig::from_values(opt(c, "rate"), opt(c, "per_ms"), opt(c, "burst"), Unit::Milliseconds)
}

/// The ops every load-control kind shares: moving the virtual clock.
fn clock_op(clock: &ManualClock, step: &Value, at: &str) -> bool {
    match str_of(step, "op") {
        "advance" => clock.advance(Duration::from_millis(u64_of(step, "ms"))),
        "set_clock" => {
            let reading = match value_of(&step["ms"]) {
                resilience_core::Value::Int(n) => n as f64,
                resilience_core::Value::Float(x) => x,
                other => panic!("{at}: not a reading: {other:?}"),
            };
            clock.set(rules::clock_reading(reading, Unit::Milliseconds));
        }
        _ => return false,
    }
    true
}

fn steps(case: &Value) -> impl Iterator<Item = (usize, &Value)> {
    case["steps"].as_array().expect("steps").iter().enumerate()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .expect("a list of booleans")
        .iter()
        .map(|b| b.as_bool().expect("a boolean"))
        .collect()
}

pub(crate) fn run_budget(case: &Value, name: &str) {
    let clock = ManualClock::new();
    let config = budget_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let budget = RetryBudget::new(config, clock.clone());
    for (i, step) in steps(case) {
        let at = format!("{name}: step {i} {step}");
        if clock_op(&clock, step, &at) {
            continue;
        }
        match str_of(step, "op") {
            "deposit" => {
                for _ in 0..step.get("times").map_or(1, |t| t.as_u64().expect("times")) {
                    budget.deposit();
                }
            }
            "withdraw" => match step.get("expect") {
                Some(expect) => {
                    let got: Vec<bool> = bools(expect).iter().map(|_| budget.try_withdraw()).collect();
                    assert_eq!(got, bools(expect), "{at}");
                }
                None => {
                    let granted = (0..u64_of(step, "times")).filter(|_| budget.try_withdraw()).count();
                    assert_eq!(granted as u64, u64_of(step, "granted"), "{at}");
                }
            },
            "check" => assert_eq!(budget.available(), u64_of(step, "available"), "{at}"),
            other => panic!("{at}: unknown op {other}"),
        }
    }
}

pub(crate) fn run_budget_retry(case: &Value, name: &str) {
    let clock = ManualClock::new();
    let config = budget_config(&case["budget"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let budget = Arc::new(RetryBudget::new(config, clock.clone()));
    let policy = policy_builder_from(&case["policy"])
        .and_then(|b| b.budget(budget.clone()).build())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut sequences: HashMap<String, RetryState> = HashMap::new();
    for (i, step) in steps(case) {
        let at = format!("{name}: step {i} {step}");
        if clock_op(&clock, step, &at) {
            continue;
        }
        match str_of(step, "op") {
            "start" => {
                sequences.insert(str_of(step, "seq").to_string(), policy.start());
            }
            "failure" => {
                let state = sequences.get_mut(str_of(step, "seq")).expect("a started sequence");
                let expect = &step["expect"];
                match state.on_failure(&policy, step["retryable"].as_bool().expect("retryable")) {
                    RetryDecision::Retry { delay, .. } => {
                        let ns = u64::try_from(delay.as_nanos()).expect("fits");
                        assert_eq!(Some(ns), expect["retry_ns"].as_u64(), "{at}");
                    }
                    RetryDecision::GiveUp { reason, .. } => {
                        assert_eq!(Some(reason.as_str()), expect["give_up"].as_str(), "{at}")
                    }
                    other => panic!("{at}: unknown decision {other:?}"),
                }
            }
            "check" => assert_eq!(budget.available(), u64_of(step, "available"), "{at}"),
            other => panic!("{at}: unknown op {other}"),
        }
    }
}

pub(crate) fn run_throttle(case: &Value, name: &str) {
    let clock = ManualClock::new();
    let config = throttle_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let throttle = AdaptiveThrottle::new(config, clock.clone());
    for (i, step) in steps(case) {
        let at = format!("{name}: step {i} {step}");
        if clock_op(&clock, step, &at) {
            continue;
        }
        match str_of(step, "op") {
            "requests" => {
                let accepted = step["accepted"].as_bool().expect("accepted");
                let got: String = str_of(step, "expect")
                    .chars()
                    .map(|_| match throttle.try_admit() {
                        Ok(()) => {
                            throttle.record(accepted);
                            'a'
                        }
                        Err(_) => 't',
                    })
                    .collect();
                assert_eq!(got, str_of(step, "expect"), "{at}");
            }
            "check" => {
                let s = throttle.stats();
                assert_eq!(s.requests, u64_of(step, "requests"), "{at}");
                assert_eq!(s.accepts, u64_of(step, "accepts"), "{at}");
                assert_eq!(Some(s.probability), step["probability"].as_f64(), "{at}");
            }
            "throttled" => match throttle.try_admit() {
                Err(t) => {
                    let ns = u64::try_from(t.retry_after.as_nanos()).expect("fits");
                    assert_eq!(ns, u64_of(step, "retry_after_ns"), "{at}");
                }
                Ok(()) => panic!("{at}: admitted"),
            },
            other => panic!("{at}: unknown op {other}"),
        }
    }
}

/// A limiter's answer as the vectors spell it.
pub(crate) fn answer(result: Result<(), RateLimitError>) -> Value {
    match result {
        Ok(()) => Value::from("ok"),
        Err(RateLimitError::Limited(l)) => {
            serde_json::json!({ "wait_ns": u64::try_from(l.retry_after.as_nanos()).expect("fits") })
        }
        Err(RateLimitError::ExceedsBurst(_)) => Value::from("exceeds_burst"),
        Err(other) => panic!("unknown answer {other:?}"),
    }
}

pub(crate) fn run_limiter(case: &Value, name: &str) {
    let clock = ManualClock::new();
    let config = limiter_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let limiter = RateLimiter::new(config, clock.clone());
    for (i, step) in steps(case) {
        let at = format!("{name}: step {i} {step}");
        if clock_op(&clock, step, &at) {
            continue;
        }
        // `n` is a value: rule `cells`.
        let n = || rules::cells(value_of(&step["n"]));
        match str_of(step, "op") {
            "acquire" => match n() {
                Ok(n) => assert_eq!(answer(limiter.try_acquire_n(n)), step["expect"], "{at}"),
                Err(e) => {
                    assert_eq!(e.parameter(), "n", "{at}");
                    assert_eq!(Some(e.kind().as_str()), step["expect"]["error"].as_str(), "{at}");
                }
            },
            "acquire_blocking" => {
                clock.clear_sleeps();
                let got = limiter.acquire(n().expect("a valid n"), &clock);
                let sleeps: Vec<u64> = clock
                    .sleeps()
                    .into_iter()
                    .map(|d| u64::try_from(d.as_nanos()).expect("fits"))
                    .collect();
                match step.get("expect").and_then(Value::as_str) {
                    Some("exceeds_burst") => assert!(got.is_err() && sleeps.is_empty(), "{at}"),
                    _ => {
                        assert!(got.is_ok(), "{at}");
                        let want: Vec<u64> = step["sleeps_ns"]
                            .as_array()
                            .expect("sleeps_ns")
                            .iter()
                            .map(|v| v.as_u64().expect("ns"))
                            .collect();
                        assert_eq!(sleeps, want, "{at}");
                    }
                }
            }
            other => panic!("{at}: unknown op {other}"),
        }
    }
}
