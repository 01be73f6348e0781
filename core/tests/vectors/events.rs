//! The `events` kind: scripted pipeline calls and the exact event records
//! the listener must see (see tests/README.md).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use resilience_core::{
    AdaptiveThrottle, Admission, BreakerLayer, Bulkhead, BulkheadLayer, Cause, CircuitBreaker, Event, FallbackLayer,
    Layer, ManualClock, Pipeline, PipelineError, RateLimiter, RateLimiterLayer, RetryLayer, ThrottleLayer,
};
use serde_json::{json, Value};

use super::load::{limiter_config, throttle_config};
use super::{breaker_config, bulkhead_config, policy_from, str_of, u64_of};

/// The keys a strategy of an `events` pipeline may have (an unknown one
/// fails the run, so a new key can never be skipped silently).
const STRATEGY_KEYS: [&str; 7] = [
    "strategy",
    "policy",
    "config",
    "fallbacks",
    "occupied",
    "taken",
    "history",
];

type Ev<'a> = Event<'a, String, PipelineError<String>>;

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).expect("fits")
}

/// How a value or error is named in results and causes.
fn label(result: &Result<String, PipelineError<String>>) -> String {
    match result {
        Ok(v) | Err(PipelineError::Inner(v)) => v.clone(),
        Err(other) => other.library().expect("a library error").as_str().to_string(),
    }
}

/// The record every binding builds for an event.
pub(crate) fn record(e: &Ev<'_>) -> Value {
    let kind = e.kind().as_str();
    match e {
        Event::RetryScheduled { attempt, delay, cause } => {
            let cause = match cause {
                Cause::Error(e) => label(&Err((*e).clone())),
                Cause::Result(v) => (*v).clone(),
                other => panic!("unknown cause {other:?}"),
            };
            json!({"type": kind, "attempt": attempt, "delay_ns": ns(*delay), "cause": cause})
        }
        Event::GaveUp { attempts, reason } => json!({"type": kind, "attempts": attempts, "reason": reason.as_str()}),
        Event::BreakerTransition(t) => json!({"type": kind, "from": t.from.as_str(), "to": t.to.as_str()}),
        Event::BreakerRejected(r) => json!({"type": kind, "retry_after_ns": ns(r.retry_after)}),
        Event::Timeout { strategy, after } => {
            json!({"type": kind, "strategy": strategy.as_str(), "after_ns": ns(*after)})
        }
        Event::HedgeStarted { attempt } => json!({"type": kind, "attempt": attempt}),
        Event::FallbackUsed { index } => json!({"type": kind, "index": index}),
        Event::BulkheadRejected => json!({"type": kind}),
        Event::RateLimited(r) => json!({"type": kind, "retry_after_ns": ns(r.retry_after)}),
        Event::Throttled(t) => {
            json!({"type": kind, "retry_after_ns": ns(t.retry_after), "probability": t.probability})
        }
        other => panic!("unknown event {other:?}"),
    }
}

fn strategy<'a>(case: &'a Value, name: &str) -> Option<&'a Value> {
    case["pipeline"]
        .as_array()
        .expect("pipeline")
        .iter()
        .find(|s| str_of(s, "strategy") == name)
}

pub(crate) fn run_events(case: &Value, name: &str) {
    let clock = ManualClock::new();
    let attempt_ms = case.get("attempt_ms").and_then(Value::as_u64).unwrap_or(0);
    let names: Vec<&str> = case["pipeline"]
        .as_array()
        .expect("pipeline")
        .iter()
        .map(|s| {
            for key in s.as_object().expect("a strategy object").keys() {
                assert!(
                    STRATEGY_KEYS.contains(&key.as_str()),
                    "{name}: unknown strategy key {key}"
                );
            }
            str_of(s, "strategy")
        })
        .collect();
    let policy = strategy(case, "retry").map(|s| policy_from(&s["policy"]).unwrap_or_else(|e| panic!("{name}: {e}")));
    let breaker = strategy(case, "breaker").map(|s| {
        let config = breaker_config(&s["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        CircuitBreaker::new(config, clock.clone())
    });
    let bulkhead = strategy(case, "bulkhead").map(|s| {
        let b = Bulkhead::new(bulkhead_config(&s["config"]).unwrap_or_else(|e| panic!("{name}: {e}")));
        for _ in 0..s.get("occupied").and_then(Value::as_u64).unwrap_or(0) {
            assert!(matches!(b.try_acquire(), Admission::Acquired(_)), "{name}: occupied");
        }
        b
    });
    let limiter = strategy(case, "rate_limiter").map(|s| {
        let l = RateLimiter::new(
            limiter_config(&s["config"]).unwrap_or_else(|e| panic!("{name}: {e}")),
            clock.clone(),
        );
        // Cells others took at the start.
        let taken = s
            .get("taken")
            .map_or(0, |n| u32::try_from(n.as_u64().expect("taken")).expect("taken"));
        assert!(l.try_acquire_n(taken).is_ok(), "{name}: taken");
        l
    });
    let throttle = strategy(case, "throttle").map(|s| {
        let t = AdaptiveThrottle::new(
            throttle_config(&s["config"]).unwrap_or_else(|e| panic!("{name}: {e}")),
            clock.clone(),
        );
        if let Some(h) = s.get("history") {
            history(&t, u64_of(h, "requests"), u64_of(h, "accepts"), name);
        }
        t
    });
    let fallbacks: Vec<String> = strategy(case, "fallback")
        .map(|s| {
            s["fallbacks"]
                .as_array()
                .expect("fallbacks")
                .iter()
                .map(|o| o.as_str().expect("outcome").to_string())
                .collect()
        })
        .unwrap_or_default();

    // The user's filters: `fatal` is not retryable, `bad_value` is a failure.
    let retry = || {
        RetryLayer::new(policy.clone().expect("a retry"))
            .retry_if(|e: &String| e != "fatal")
            .retry_on_result(|v: &String| v == "bad_value")
    };
    let breaker_layer =
        || BreakerLayer::new(breaker.as_ref().expect("a breaker")).failure_on_result(|v: &String| v == "bad_value");
    let fallback = || {
        FallbackLayer::new(fallbacks.len(), |i: usize| {
            let who = format!("fallback:{i}");
            if fallbacks[i] == "ok" {
                Ok(who)
            } else {
                Err(who)
            }
        })
    };
    let bulkhead_layer = || BulkheadLayer::new(bulkhead.as_ref().expect("a bulkhead"));
    let limiter_layer = || RateLimiterLayer::new(limiter.as_ref().expect("a rate limiter"));
    // The throttle's accept predicate is the default: an error is not accepted, a value is.
    let throttle_layer = || ThrottleLayer::new(throttle.as_ref().expect("a throttle"));
    let log = RefCell::new(Vec::new());
    let listener = |e: &Ev<'_>| log.borrow_mut().push(record(e));
    let b = || Pipeline::builder(clock.clone(), clock.clone());
    let run = Run {
        case,
        name,
        clock: &clock,
        attempt_ms,
        log: &log,
        breaker: breaker.as_ref(),
    };
    match names.as_slice() {
        ["retry"] => run.calls(&b().retry(retry()).on_event(listener).build().expect("valid")),
        ["breaker"] => run.calls(&b().breaker(breaker_layer()).on_event(listener).build().expect("valid")),
        ["fallback", "retry"] => run.calls(
            &b().fallback(fallback())
                .retry(retry())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["retry", "breaker"] => run.calls(
            &b().retry(retry())
                .breaker(breaker_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["fallback", "retry", "breaker"] => run.calls(
            &b().fallback(fallback())
                .retry(retry())
                .breaker(breaker_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["retry", "breaker", "bulkhead"] => run.calls(
            &b().retry(retry())
                .breaker(breaker_layer())
                .bulkhead(bulkhead_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["retry", "rate_limiter"] => run.calls(
            &b().retry(retry())
                .rate_limiter(limiter_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["retry", "throttle"] => run.calls(
            &b().retry(retry())
                .throttle(throttle_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["retry", "breaker", "rate_limiter"] => run.calls(
            &b().retry(retry())
                .breaker(breaker_layer())
                .rate_limiter(limiter_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        ["fallback", "rate_limiter"] => run.calls(
            &b().fallback(fallback())
                .rate_limiter(limiter_layer())
                .on_event(listener)
                .build()
                .expect("valid"),
        ),
        other => panic!("{name}: the runner has no pipeline {other:?}"),
    }
}

/// A throttle's `history`: `accepts` requests admitted and reported
/// accepted, then the rest asked for and not reported (admitted or shed:
/// both count as requests), so the window holds exactly these counts.
fn history(t: &AdaptiveThrottle<ManualClock>, requests: u64, accepts: u64, name: &str) {
    for i in 0..requests {
        if t.try_admit().is_ok() && i < accepts {
            t.record(true);
        }
    }
    let stats = t.stats();
    assert_eq!((stats.requests, stats.accepts), (requests, accepts), "{name}: history");
}

struct Run<'a> {
    case: &'a Value,
    name: &'a str,
    clock: &'a ManualClock,
    attempt_ms: u64,
    log: &'a RefCell<Vec<Value>>,
    breaker: Option<&'a CircuitBreaker<ManualClock>>,
}

impl Run<'_> {
    fn calls<St, L>(&self, pipeline: &Pipeline<St, ManualClock, ManualClock, L>)
    where
        St: Layer<String, String>,
        L: resilience_core::Listener<String, PipelineError<String>>,
    {
        for (i, call) in self.case["calls"].as_array().expect("calls").iter().enumerate() {
            let at = format!("{}: call {i}", self.name);
            let script: RefCell<VecDeque<String>> = RefCell::new(
                call["outcomes"]
                    .as_array()
                    .expect("outcomes")
                    .iter()
                    .map(|o| o.as_str().expect("outcome").to_string())
                    .collect(),
            );
            self.log.borrow_mut().clear();
            let result = pipeline.call(|| {
                self.clock.advance(Duration::from_millis(self.attempt_ms));
                let outcome = script
                    .borrow_mut()
                    .pop_front()
                    .unwrap_or_else(|| panic!("{at}: more runs than scripted"));
                match outcome.as_str() {
                    "ok" | "bad_value" => Ok(outcome),
                    "error" | "fatal" => Err(outcome),
                    other => panic!("{at}: unknown outcome {other}"),
                }
            });
            assert!(script.borrow().is_empty(), "{at}: scripted runs left over");
            let expected = &call["expected"];
            assert_eq!(label(&result), str_of(expected, "result"), "{at}: result");
            assert_eq!(
                Value::Array(self.log.borrow().clone()),
                expected["events"],
                "{at}: events"
            );
            if let Some(want) = expected.get("breaker") {
                let b = self.breaker.expect("a breaker");
                assert_eq!(b.state().as_str(), str_of(want, "state"), "{at}: breaker state");
                assert_eq!(u64::from(b.failure_count()), u64_of(want, "failure_count"), "{at}");
            }
        }
    }
}
