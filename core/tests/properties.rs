//! Property tests: for random configurations and attempts, delays stay in
//! range, un-jittered delays never decrease, invalid configurations are
//! errors (never panics), and the same seed gives the same sequence.

use std::time::Duration;

use proptest::prelude::*;
use resilience_core::rules::{self, Unit};
use resilience_core::{parse_retry_after, BackoffStrategy, Jitter, RetryPolicy, Value};

fn strategy() -> impl Strategy<Value = BackoffStrategy> {
    prop::sample::select(BackoffStrategy::ALL.to_vec())
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop::sample::select(Jitter::ALL.to_vec())
}

/// (base, max) with base <= max, from zero up to ~3 years.
fn delays() -> impl Strategy<Value = (Duration, Duration)> {
    (0u64..=100_000_000_000_000_000, 0u64..=100_000_000_000_000_000).prop_map(|(a, b)| {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        (Duration::from_nanos(lo), Duration::from_nanos(hi))
    })
}

fn policy(s: BackoffStrategy, j: Jitter, (base, max): (Duration, Duration), seed: u64) -> RetryPolicy {
    RetryPolicy::builder()
        .backoff(s)
        .jitter(j)
        .base_delay(base)
        .max_delay(max)
        .seed(seed)
        .build()
        .unwrap()
}

proptest! {
    #[test]
    fn every_delay_is_within_its_bound(s in strategy(), j in jitter(), d in delays(), seed: u64, attempt: i64) {
        let p = policy(s, j, d, seed);
        let delay = p.calculate_delay(attempt);
        let bound = if j == Jitter::Proportional { p.max_delay().mul_f64(1.25) } else { p.max_delay() };
        // mul_f64 rounds; allow the one nanosecond it may lose.
        prop_assert!(delay <= bound + Duration::from_nanos(1), "{delay:?} > {bound:?}");
        if attempt <= 0 {
            prop_assert_eq!(delay, Duration::ZERO);
        }
    }

    #[test]
    fn unjittered_delays_never_decrease(s in strategy(), d in delays(), start in -5i64..10_000, steps in 1usize..50) {
        let p = policy(s, Jitter::None, d, 0);
        let mut previous = p.calculate_delay(start);
        for n in start + 1..start + 1 + steps as i64 {
            let next = p.calculate_delay(n);
            prop_assert!(next >= previous, "attempt {n}: {next:?} < {previous:?}");
            prop_assert_eq!(next, p.raw_delay(n));
            previous = next;
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence(s in strategy(), j in jitter(), d in delays(), seed: u64) {
        let a = policy(s, j, d, seed);
        let b = policy(s, j, d, seed);
        for n in 1..20 {
            prop_assert_eq!(a.calculate_delay(n), b.calculate_delay(n));
        }
        let (mut sa, mut sb) = (a.start(), b.start());
        for _ in 0..10 {
            prop_assert_eq!(sa.on_failure(&a, true), sb.on_failure(&b, true));
        }
    }

    #[test]
    fn invalid_retry_configs_are_errors_not_panics(attempts: u32, base: u64, max: u64) {
        let built = RetryPolicy::builder()
            .max_attempts(attempts)
            .base_delay(Duration::from_nanos(base))
            .max_delay(Duration::from_nanos(max))
            .build();
        match built {
            Ok(p) => prop_assert!(attempts >= 1 && max >= base && p.max_attempts() == attempts),
            Err(e) => prop_assert!(
                (attempts == 0 && e.parameter() == "max_attempts") || (max < base && e.parameter() == "max_delay")
            ),
        }
    }

    #[test]
    fn float_inputs_validate_without_panicking(x: f64, n: i64) {
        let ok_duration = x.is_finite() && x >= 0.0;
        // The one bound: u64 nanoseconds, 18446744073.709551615 seconds
        // (floats this close to it are decided by rounding; skip them).
        let seconds = rules::duration("base_delay", Value::Float(x), Unit::Seconds);
        if !(1.8446e10..1.8448e10).contains(&x) {
            prop_assert_eq!(seconds.is_ok(), ok_duration && x < 1.8447e10);
        }
        if rules::duration("timeout", Value::Float(x), Unit::Milliseconds).is_err() {
            prop_assert!(!ok_duration || x >= 1.8e13);
        }
        prop_assert!(rules::count("max_attempts", Value::Float(x), 1).is_err(), "a float is never a count");
        let count = rules::count("max_queue_size", Value::from(n), 0);
        prop_assert_eq!(count.is_ok(), (0..=i64::from(u32::MAX)).contains(&n));
        let attempt = rules::attempt(Value::Float(x));
        prop_assert_eq!(attempt.is_ok(), x.is_finite() && x.fract() == 0.0);
    }

    #[test]
    fn every_rejection_names_its_parameter_briefly(n in any::<i64>(), x in any::<f64>(), text in ".{0,200}") {
        for value in [Value::from(n), Value::Float(x), Value::text(&text), Value::Absent] {
            for result in [
                rules::count("failure_threshold", value.clone(), 1).err(),
                rules::duration("recovery_timeout", value.clone(), Unit::Milliseconds).err(),
                rules::status_codes([value.clone()]).err(),
                rules::seed(value.clone()).err(),
                rules::jitter(value.clone()).err(),
            ].into_iter().flatten() {
                let message = result.message(resilience_core::Idiom::JavaScript);
                let name = result.parameter_in(resilience_core::Idiom::JavaScript);
                prop_assert!(message.starts_with("invalid ") && message.contains(&name), "{}", message);
                prop_assert!(message.len() < 200, "{}", message);
            }
        }
    }

    #[test]
    fn retry_after_never_panics(header in ".{0,40}", now: u64) {
        let _ = parse_retry_after(&header, Duration::from_secs(now));
    }

    #[test]
    fn retry_state_gives_up_after_exactly_max_attempts(max in 1u32..50, retryable in prop::collection::vec(any::<bool>(), 60)) {
        let p = RetryPolicy::builder().max_attempts(max).jitter(Jitter::None).base_delay(Duration::ZERO).build().unwrap();
        let mut state = p.start();
        for (i, r) in retryable.iter().enumerate() {
            let attempt = u32::try_from(i).unwrap() + 1;
            match state.on_failure(&p, *r) {
                resilience_core::RetryDecision::Retry { attempt: a, .. } => {
                    prop_assert!(*r && a == attempt && attempt < max);
                }
                resilience_core::RetryDecision::GiveUp { attempts, reason } => {
                    prop_assert_eq!(attempts, attempt);
                    let exhausted = attempt >= max;
                    prop_assert_eq!(reason == resilience_core::GiveUpReason::Exhausted, exhausted);
                    prop_assert!(exhausted || !*r);
                    break;
                }
                other => prop_assert!(false, "unknown decision {:?}", other),
            }
        }
    }

    /// Without jitter, a retry sequence waits exactly `raw_delay(attempt)` after every
    /// attempt, whether the policy computed the delay when it was built
    /// (no jitter, the first attempts) or computes it on the way.
    #[test]
    fn retry_state_waits_the_policy_delay(s in strategy(), j in jitter(), d in delays(), seed: u64, max in 1u32..20) {
        let p = RetryPolicy::builder().max_attempts(max).backoff(s).jitter(j).base_delay(d.0).max_delay(d.1).seed(seed).build().unwrap();
        let mut state = p.start();
        for attempt in 1..max {
            let resilience_core::RetryDecision::Retry { delay, .. } = state.on_failure(&p, true) else {
                return Err(TestCaseError::fail("gave up before max_attempts"));
            };
            if j == Jitter::None {
                prop_assert_eq!(delay, p.raw_delay(i64::from(attempt)));
            } else {
                // Proportional jitter is ±25 % of the capped delay (the original's rule).
                prop_assert!(delay <= d.1.mul_f64(1.25) + Duration::from_nanos(1));
            }
        }
    }
}

fn windowed(kind: u8) -> resilience_core::BreakerConfig {
    let b = resilience_core::BreakerConfig::builder()
        .failure_rate(0.5, 5)
        .recovery_timeout(Duration::from_millis(700));
    match kind % 2 {
        0 => b.count_window(8),
        _ => b.time_window(Duration::from_millis(100), 10),
    }
    .build()
    .unwrap()
}

proptest! {
    #[test]
    fn snapshot_documents_never_panic(doc in ".{0,300}", cut in 0usize..400, kind: u8) {
        let clock = resilience_core::ManualClock::new();
        let _ = resilience_core::CircuitBreaker::from_snapshot(windowed(kind), clock.clone(), &doc);
        // Truncations and byte flips of a real document: an error or a breaker, never a panic.
        let breaker = resilience_core::CircuitBreaker::new(windowed(kind), clock.clone());
        let _ = breaker.call(|| Err::<(), _>("x"));
        let real = breaker.snapshot();
        let truncated = real.get(..cut.min(real.len())).unwrap_or("");
        let _ = resilience_core::CircuitBreaker::from_snapshot(windowed(kind), clock.clone(), truncated);
        let flipped: String = real.chars().enumerate().map(|(i, c)| if i == cut % real.len().max(1) { '}' } else { c }).collect();
        let _ = resilience_core::CircuitBreaker::from_snapshot(windowed(kind), clock, &flipped);
    }

    #[test]
    fn snapshots_round_trip(outcomes in prop::collection::vec((any::<bool>(), 0u64..40), 0..40), kind: u8) {
        let clock = resilience_core::ManualClock::new();
        let breaker = resilience_core::CircuitBreaker::new(windowed(kind), clock.clone());
        for (fail, ms) in outcomes {
            clock.advance(Duration::from_millis(ms));
            let _ = breaker.call(|| if fail { Err(()) } else { Ok(()) });
        }
        let document = breaker.snapshot();
        let later = resilience_core::ManualClock::starting_at(Duration::from_secs(1_000_000));
        let restored = resilience_core::CircuitBreaker::from_snapshot(windowed(kind), later, &document).unwrap();
        prop_assert_eq!(restored.snapshot(), document);
        let (a, b) = (breaker.metrics(), restored.metrics());
        prop_assert_eq!((a.state, a.window_calls, a.window_failures), (b.state, b.window_calls, b.window_failures));
    }
}
