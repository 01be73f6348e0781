//! Breaker snapshots as documents: what a count window with slow calls
//! writes, how half-open and nearly-over breaks come back on a new clock,
//! windows that do not fit the configuration, and the typed errors of
//! documents that are not snapshots.

use std::error::Error;
use std::time::Duration;

use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock, SnapshotError};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn consecutive(threshold: u32) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_threshold(threshold)
        .recovery_timeout(secs(30))
        .build()
        .unwrap()
}

/// A rate rule that never trips here (100 calls needed), over the last 4 calls.
fn count_window_with_slow_calls() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(1.0, 100)
        .count_window(4)
        .slow_calls(secs(1), 1.0)
        .build()
        .unwrap()
}

/// A rate rule that never trips here, over 10 s in ten 1 s buckets.
fn time_window() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(1.0, 100)
        .time_window(secs(10), 10)
        .build()
        .unwrap()
}

fn malformed_reason(result: Result<CircuitBreaker<ManualClock>, SnapshotError>) -> String {
    match result.map(|_| ()) {
        Err(SnapshotError::Malformed { reason }) => reason,
        other => panic!("expected a malformed snapshot, got {other:?}"),
    }
}

fn document(window: &str) -> String {
    format!(
        "{{\"format\":\"resilience.circuit_breaker\",\"version\":1,\"state\":\"closed\",\"consecutive_failures\":0,\
         \"openings_in_a_row\":0,\"break_ms\":30000,\"break_remaining_ms\":0,\"window\":{window}}}"
    )
}

#[test]
fn a_count_window_writes_one_letter_per_call_and_reads_them_back() {
    let clock = ManualClock::new();
    let config = count_window_with_slow_calls();
    let breaker = CircuitBreaker::new(config, clock.clone());
    let slow = |failed: bool| {
        clock.advance(secs(2));
        if failed {
            Err("down")
        } else {
            Ok(())
        }
    };
    let _ = breaker.call(|| Ok::<_, &str>(()));
    let _ = breaker.call(|| Err::<(), _>("down"));
    let _ = breaker.call(|| slow(false));
    let _ = breaker.call(|| slow(true));
    let saved = breaker.snapshot();
    assert!(
        saved.contains(r#""window":{"kind":"count","size":4,"calls":"ofsx"}"#),
        "{saved}"
    );

    let restored = CircuitBreaker::from_snapshot(config, ManualClock::new(), &saved).unwrap();
    let m = restored.metrics();
    assert_eq!((m.window_calls, m.window_failures, m.window_slow_calls), (4, 2, 2));
    assert_eq!(restored.snapshot(), saved);
}

#[test]
fn a_half_open_breaker_comes_back_ready_for_a_trial() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(consecutive(1), clock.clone());
    let _ = breaker.call(|| Err::<(), _>("down"));
    clock.advance(secs(30));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    let saved = breaker.snapshot();
    assert!(saved.contains(r#""state":"half_open""#), "{saved}");

    let restored =
        CircuitBreaker::from_snapshot(consecutive(1), ManualClock::starting_at(secs(5_000)), &saved).unwrap();
    assert_eq!(restored.state(), CircuitState::HalfOpen);
    let trial = restored.try_acquire().unwrap();
    assert!(trial.is_trial());
    assert!(trial.success().is_some(), "the trial closes it");
    assert_eq!(restored.state(), CircuitState::Closed);
}

#[test]
fn on_a_clock_younger_than_the_break_served_the_rest_of_the_break_counts_from_now() {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(consecutive(1), clock.clone());
    let _ = breaker.call(|| Err::<(), _>("down"));
    clock.advance(secs(18));
    let saved = breaker.snapshot();
    assert!(saved.contains(r#""break_remaining_ms":12000"#), "{saved}");

    // A new process whose clock starts at zero: 18 s served cannot be placed before it.
    let new_clock = ManualClock::new();
    let restored = CircuitBreaker::from_snapshot(consecutive(1), new_clock.clone(), &saved).unwrap();
    // The break is still reported at its full length; only 12 s are left.
    assert_eq!(restored.metrics().break_duration, secs(30));
    let again = restored.snapshot();
    assert!(
        again.contains(r#""break_ms":30000,"break_remaining_ms":12000"#),
        "{again}"
    );
    new_clock.advance(Duration::from_millis(11_999));
    assert_eq!(restored.state(), CircuitState::Open);
    new_clock.advance(Duration::from_millis(1));
    assert_eq!(restored.state(), CircuitState::HalfOpen);
    // The next opening starts a break of its own length, nothing carried over.
    let trial = restored.try_acquire().unwrap();
    assert!(trial.failure().is_some());
    assert_eq!(restored.metrics().break_duration, secs(30));
    assert!(restored
        .snapshot()
        .contains(r#""break_ms":30000,"break_remaining_ms":30000"#));
}

#[test]
fn a_window_of_another_kind_than_the_configuration_starts_empty() {
    let clock = ManualClock::new();
    let counted = CircuitBreaker::new(count_window_with_slow_calls(), clock.clone());
    let _ = counted.call(|| Err::<(), _>("down"));
    let saved = counted.snapshot();

    let timed = CircuitBreaker::from_snapshot(time_window(), ManualClock::new(), &saved).unwrap();
    assert_eq!(timed.metrics().window_calls, 0);
    assert_eq!(timed.state(), CircuitState::Closed);
}

#[test]
fn buckets_older_than_the_window_are_not_restored() {
    // Ages in buckets: 0 and 9 are inside a 10-bucket window; 10 and beyond are not.
    let saved = document(
        r#"{"kind":"time","bucket_ns":1000000000,"buckets":[[0,1,1,0],[9,2,0,0],[10,4,4,0],[99999999999,8,8,0]]}"#,
    );
    let restored = CircuitBreaker::from_snapshot(time_window(), ManualClock::new(), &saved).unwrap();
    let m = restored.metrics();
    assert_eq!((m.window_calls, m.window_failures), (3, 1));
}

#[test]
fn a_bucket_that_is_not_four_consistent_counts_is_malformed() {
    for bucket in ["[0,1,2,0]", "[0,1,0]", "[0,1,0,2]", "\"0,1,0,0\""] {
        let saved = document(&format!(
            r#"{{"kind":"time","bucket_ns":1000000000,"buckets":[{bucket}]}}"#
        ));
        assert_eq!(
            malformed_reason(CircuitBreaker::from_snapshot(time_window(), ManualClock::new(), &saved)),
            "a window bucket is not [age, calls, failures, slow]",
            "{bucket}"
        );
    }
}

#[test]
fn values_of_the_wrong_json_type_are_malformed() {
    let config = consecutive(1);
    let read = |doc: &str| malformed_reason(CircuitBreaker::from_snapshot(config, ManualClock::new(), doc));
    assert_eq!(read("[1, 2]"), r#""format" is not "resilience.circuit_breaker""#);
    assert_eq!(
        read(r#"{"format": 7}"#),
        r#""format" is not "resilience.circuit_breaker""#
    );
    assert_eq!(
        read(r#"{"format": "resilience.circuit_breaker", "version": "1"}"#),
        r#""version" is missing or not a version"#
    );
    let sliding = document(r#"{"kind":"sliding","size":10}"#);
    assert_eq!(
        malformed_reason(CircuitBreaker::from_snapshot(
            time_window(),
            ManualClock::new(),
            &sliding
        )),
        r#"window "kind" is neither "time" nor "count""#
    );
    let listless = document(r#"{"kind":"time","bucket_ns":1000000000,"buckets":{}}"#);
    assert_eq!(
        malformed_reason(CircuitBreaker::from_snapshot(
            time_window(),
            ManualClock::new(),
            &listless
        )),
        r#"window "buckets" is not a list"#
    );
}

#[test]
fn a_document_longer_than_a_mebibyte_is_refused_before_it_is_read() {
    let padded = format!("{}{}", document("null"), " ".repeat(1 << 20));
    assert_eq!(
        malformed_reason(CircuitBreaker::from_snapshot(
            consecutive(1),
            ManualClock::new(),
            &padded
        )),
        "document too long at byte 1048576"
    );
    // The same document without the padding is a snapshot.
    assert!(CircuitBreaker::from_snapshot(consecutive(1), ManualClock::new(), &document("null")).is_ok());
}

#[test]
fn snapshot_errors_say_what_is_wrong() {
    let malformed = SnapshotError::Malformed {
        reason: "\"state\" is not a breaker state".to_owned(),
    };
    assert_eq!(
        malformed.to_string(),
        "malformed circuit breaker snapshot: \"state\" is not a breaker state"
    );
    let newer = CircuitBreaker::from_snapshot(
        consecutive(1),
        ManualClock::new(),
        r#"{"format":"resilience.circuit_breaker","version":2}"#,
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(newer, SnapshotError::UnsupportedVersion { version: 2 });
    assert_eq!(
        newer.to_string(),
        "circuit breaker snapshot version 2 is newer than this release reads (1)"
    );
    assert!(newer.source().is_none());
}
