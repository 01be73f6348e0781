//! The scenario of `examples/README.md`, run through resilience-core.

use std::cell::Cell;
use std::time::Duration;

use resilience_core::{
    BreakerConfig, BreakerError, CircuitBreaker, Clock, FallbackState, FallbackStep, Jitter, ManualClock, Retry,
    RetryPolicy,
};
use serde_json::Value;

use crate::trace::ms;

pub(crate) struct Scenario {
    requests: u64,
    interval: Duration,
    outages: Vec<(Duration, Duration)>,
    fail_every: u64,
    policy: RetryPolicy,
    breaker: BreakerConfig,
}

fn num(v: &Value, key: &str) -> Result<u64, String> {
    v.get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("scenario: missing number `{key}`"))
}

fn millis(v: &Value, key: &str) -> Result<Duration, String> {
    num(v, key).map(Duration::from_millis)
}

/// Why an attempt failed: the service itself, or the breaker refusing it.
enum AttemptError {
    Service,
    Rejected,
}

impl Scenario {
    pub(crate) fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("parsing {path}: {e}"))?;
        let retry = &v["retry"];
        let jitter: Jitter = retry["jitter"]
            .as_str()
            .unwrap_or("proportional")
            .parse()
            .map_err(|e| format!("{e}"))?;
        let policy = RetryPolicy::builder()
            .max_attempts(u32::try_from(num(retry, "max_attempts")?).map_err(|e| e.to_string())?)
            .backoff(
                retry["backoff"]
                    .as_str()
                    .unwrap_or("exponential")
                    .parse()
                    .map_err(|e| format!("{e}"))?,
            )
            .base_delay(millis(retry, "base_delay_ms")?)
            .max_delay(millis(retry, "max_delay_ms")?)
            .jitter(jitter)
            .seed(num(&v, "seed")?)
            .build()
            .map_err(|e| e.to_string())?;
        let b = &v["breaker"];
        let breaker = BreakerConfig::builder()
            .failure_threshold(u32::try_from(num(b, "failure_threshold")?).map_err(|e| e.to_string())?)
            .recovery_timeout(millis(b, "recovery_timeout_ms")?)
            .half_open_max_calls(u32::try_from(num(b, "half_open_max_calls")?).map_err(|e| e.to_string())?)
            .build()
            .map_err(|e| e.to_string())?;
        let service = &v["service"];
        let outages = service["outages_ms"]
            .as_array()
            .ok_or("scenario: missing service.outages_ms")?
            .iter()
            .map(
                |w| match (w.get(0).and_then(Value::as_u64), w.get(1).and_then(Value::as_u64)) {
                    (Some(a), Some(b)) => Ok((Duration::from_millis(a), Duration::from_millis(b))),
                    _ => Err("scenario: an outage is [start_ms, end_ms]".to_string()),
                },
            )
            .collect::<Result<_, _>>()?;
        Ok(Self {
            requests: num(&v, "requests")?,
            interval: millis(&v, "request_interval_ms")?,
            outages,
            fail_every: num(service, "fail_every")?.max(1),
            policy,
            breaker,
        })
    }

    pub(crate) fn run(&self) -> Result<Vec<String>, String> {
        let clock = ManualClock::new();
        let breaker = CircuitBreaker::new(self.breaker, clock.clone());
        let service_calls = Cell::new(0u64);
        let rejected = Cell::new(0u64);
        let (mut primary, mut fallback) = (0u64, 0u64);
        let lines = std::cell::RefCell::new(Vec::new());

        for req in 1..=self.requests {
            let result = Retry::new(&self.policy, clock.clone())
                .retry_if(|e: &AttemptError| matches!(e, AttemptError::Service))
                .on_retry(|_attempt, _e: &AttemptError, delay| {
                    lines
                        .borrow_mut()
                        .push(format!("t={} req={req} retry in {}", ms(clock.now()), ms(delay)));
                })
                .call(|attempt| {
                    let started = clock.now();
                    let state = breaker.state();
                    let outcome = breaker.call(|| {
                        let n = service_calls.get() + 1;
                        service_calls.set(n);
                        if self.service_fails(clock.now(), n) {
                            Err(())
                        } else {
                            Ok(())
                        }
                    });
                    let word = match outcome {
                        Ok(()) => "ok",
                        Err(BreakerError::Inner(())) => "fail",
                        Err(_) => "rejected",
                    };
                    lines.borrow_mut().push(format!(
                        "t={} req={req} attempt={attempt} breaker={state} -> {word}",
                        ms(started)
                    ));
                    match outcome {
                        Ok(()) => Ok(()),
                        Err(BreakerError::Inner(())) => Err(AttemptError::Service),
                        Err(_) => {
                            rejected.set(rejected.get() + 1);
                            Err(AttemptError::Rejected)
                        }
                    }
                });
            // The fallback chain: one cache fallback that always answers.
            let answered_by = match result {
                Ok(()) => {
                    primary += 1;
                    "primary"
                }
                Err(_) => match FallbackState::new(1).on_primary_error(true) {
                    FallbackStep::CallFallback(_) => {
                        fallback += 1;
                        "fallback"
                    }
                    _ => return Err("the fallback chain raised".into()),
                },
            };
            lines
                .borrow_mut()
                .push(format!("t={} req={req} answered by {answered_by}", ms(clock.now())));
            clock.advance(self.interval);
        }
        let slept: Duration = clock.sleeps().iter().sum();
        let mut lines = lines.into_inner();
        lines.push(format!(
            "summary primary={primary} fallback={fallback} service_calls={} rejected={} slept={}",
            service_calls.get(),
            rejected.get(),
            ms(slept)
        ));
        Ok(lines)
    }

    fn service_fails(&self, now: Duration, n: u64) -> bool {
        self.outages.iter().any(|&(a, b)| now >= a && now < b) || n.is_multiple_of(self.fail_every)
    }
}
