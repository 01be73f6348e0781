//! What a retry policy shares and where its jitter comes from: a policy
//! drawing from a generator it was given, and equality of policies that
//! share (or do not share) a retry budget.

use std::sync::Arc;
use std::time::Duration;

use resilience_core::{JitterRng, ManualClock, RetryBudget, RetryBudgetConfig, RetryPolicy, RetryState};

fn budget() -> Arc<RetryBudget> {
    Arc::new(RetryBudget::new(RetryBudgetConfig::default(), ManualClock::new()))
}

#[test]
fn a_given_generator_replaces_the_seed_and_draws_the_same_sequence() {
    let given = RetryPolicy::builder()
        .seed(3)
        .rng(JitterRng::from_seed(7))
        .build()
        .unwrap();
    assert_eq!(given.seed(), None, "the seed no longer describes the jitter");
    let seeded = RetryPolicy::builder().seed(7).build().unwrap();
    let from_given: Vec<Duration> = (1..=5).map(|n| given.calculate_delay(n)).collect();
    let from_seed: Vec<Duration> = (1..=5).map(|n| seeded.calculate_delay(n)).collect();
    assert_eq!(from_given, from_seed);
}

#[test]
fn policies_are_equal_only_when_they_share_the_same_budget_or_have_none() {
    let shared = budget();
    let with = |b: &Arc<RetryBudget>| RetryPolicy::builder().seed(1).budget(Arc::clone(b)).build().unwrap();
    let without = RetryPolicy::builder().seed(1).build().unwrap();
    assert_eq!(with(&shared), with(&shared));
    assert_ne!(
        with(&shared),
        with(&budget()),
        "an equal but separate budget is other state"
    );
    assert_ne!(with(&shared), without);
    assert_ne!(without, with(&shared));
}

#[test]
fn a_sequence_started_on_the_clock_knows_when_its_deadline_passes() {
    let policy = RetryPolicy::builder()
        .max_elapsed(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = RetryState::started_at(Duration::from_secs(10));
    assert_eq!(started.deadline(&policy), Some(Duration::from_secs(15)));
    assert_eq!(RetryState::new().deadline(&policy), None, "no start reading");
    assert_eq!(started.deadline(&RetryPolicy::default()), None, "no max_elapsed");
}
