//! # resilience-core
//!
//! Every resilience decision of the `resilience` family, in one sans-IO
//! crate: the delay before attempt n, retry or give up (attempts, filters
//! on errors and on returned values, a deadline), admit or reject a call
//! through a circuit breaker, the next fallback, a bulkhead slot, when a
//! timeout expires, when to start a hedged copy and which answer wins — and
//! load control: a retry budget ([`RetryBudget`]), adaptive client-side
//! throttling ([`AdaptiveThrottle`]) and a GCRA rate limiter
//! ([`RateLimiter`]).
//! Executors are thin loops over those decisions; the Python, C and
//! JavaScript bindings run the same decisions and never re-implement them.
//!
//! Strategies compose into a [`Pipeline`] in one order, checked by rule
//! ([`rules::pipeline_order`]), and report typed [`Event`]s to one
//! listener; without a listener the events cost nothing.
//!
//! Time and randomness are injected: a [`Clock`], a [`Sleeper`] /
//! [`AsyncSleeper`], and a seedable jitter source; [`ManualClock`] is all of
//! them for tests. The crate depends on no async runtime, forbids `unsafe`,
//! and never panics on any input: bad configuration is a [`ConfigError`] and
//! arithmetic saturates.
//!
//! ```
//! use std::time::Duration;
//! use resilience_core::{BreakerConfig, CircuitBreaker, Jitter, ManualClock, Retry, RetryPolicy};
//!
//! let clock = ManualClock::new();
//! let policy = RetryPolicy::builder().max_attempts(3).jitter(Jitter::None).build()?;
//! let breaker = CircuitBreaker::new(BreakerConfig::default(), clock.clone());
//! let mut calls = 0;
//! let answer = Retry::new(&policy, clock.clone()).call(|_attempt| {
//!     breaker.call(|| { calls += 1; if calls < 2 { Err("flaky") } else { Ok(42) } })
//! });
//! assert_eq!(answer.unwrap(), 42);
//! assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
//! # Ok::<(), resilience_core::ConfigError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod backoff;
mod breaker;
mod buckets;
mod budget;
mod bulkhead;
mod error;
mod events;
mod executor;
mod fallback;
mod handle_tag;
mod hedging;
mod json;
mod lease;
mod limiter;
mod pipeline;
mod policy;
mod predicates;
mod retry_after;
mod retry_state;
mod rng;
pub mod rules;
mod throttle;
mod time;
mod timeout;
mod value;

pub use backoff::{BackoffStrategy, Jitter};
pub use breaker::{
    BreakBackoff, BreakerConfig, BreakerConfigBuilder, BreakerError, BreakerMetrics, CircuitBreaker, CircuitState,
    Permit, PermitMisuse, PermitToken, RejectReason, Rejected, SlowCallRule, SnapshotError, Transition, TripRule,
    Window, DEFAULT_FAILURE_THRESHOLD, DEFAULT_HALF_OPEN_MAX_CALLS, DEFAULT_MINIMUM_THROUGHPUT,
    DEFAULT_RECOVERY_TIMEOUT, DEFAULT_SAMPLING_BUCKETS, DEFAULT_SAMPLING_DURATION, MAX_SAMPLING_BUCKETS,
    MAX_WINDOW_SIZE, SNAPSHOT_VERSION,
};
pub use breaker::{
    FleetConfig, FleetConfigBuilder, FleetCounts, FleetDelta, FleetReport, FleetSeed, FleetStatus, FleetView,
    DEFAULT_SYNC_INTERVAL, DEFAULT_SYNC_TIMEOUT, MAX_RECONNECT_DELAY,
};
pub use budget::{
    RetryBudget, RetryBudgetConfig, RetryBudgetConfigBuilder, BUDGET_TTL_RANGE, DEFAULT_BUDGET_TTL,
    DEFAULT_MIN_RETRIES_PER_SEC, DEFAULT_RETRY_RATIO,
};
pub use bulkhead::{
    Admission, Bulkhead, BulkheadConfig, BulkheadConfigBuilder, BulkheadStats, CancelOutcome, Slot, SlotMisuse, Ticket,
    DEFAULT_BULKHEAD_TIMEOUT, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE_SIZE,
};
pub use error::{Allowed, ConfigError, ConfigErrorKind, Idiom};
pub use events::{Cause, Event, EventKind, Listener, NoEvents};
pub use executor::{NoNotify, Retry, RetryError, RetryNotify};
pub use fallback::{run_fallback, FallbackState, FallbackStep};
pub use hedging::{
    Hedge, HedgeOutcome, HedgeStep, HedgingConfig, HedgingConfigBuilder, HedgingState, DEFAULT_HEDGE_DELAY,
    DEFAULT_MAX_HEDGED_ATTEMPTS, MAX_HEDGED_ATTEMPTS,
};
pub use lease::{LeaseGrant, LeaseKind, LeaseRequest, LeaseStatus, Leased};
pub use limiter::{
    ExceedsBurst, RateLimitError, RateLimited, RateLimiter, RateLimiterConfig, RateLimiterConfigBuilder, DEFAULT_BURST,
    DEFAULT_PER, DEFAULT_RATE,
};
pub use pipeline::{
    AsyncLayer, BreakerLayer, BulkheadLayer, Env, FallbackLayer, HedgingLayer, Layer, LibraryError, Pipeline,
    PipelineBuilder, PipelineError, RateLimiterLayer, RetryLayer, StrategyKind, ThrottleLayer, TimeoutLayer,
};
pub use policy::{
    RetryPolicy, RetryPolicyBuilder, DEFAULT_BASE_DELAY, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DELAY,
    DEFAULT_RETRYABLE_STATUS_CODES,
};
pub use predicates::{
    AcceptAll, AlwaysRetry, AnyError, ErrorFilter, MaybeClock, NoClock, NoValue, ResultPredicate, RetryPredicate,
    ValueFilter,
};
pub use retry_after::parse_retry_after;
pub use retry_state::{GiveUpReason, RetryDecision, RetryState};
pub use rng::JitterRng;
pub use throttle::{
    AdaptiveThrottle, AdaptiveThrottleConfig, AdaptiveThrottleConfigBuilder, ThrottleError, ThrottleStats, Throttled,
    DEFAULT_THROTTLE_K, DEFAULT_THROTTLE_WINDOW, THROTTLE_WINDOW_RANGE,
};
pub use time::{AsyncSleeper, CachedClock, Clock, ManualClock, Sleeper};
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use time::{SystemClock, SystemSleeper, Ticker};
pub use timeout::{timeout, Deadline, TimedOut, Timeout, DEFAULT_TIMEOUT};
pub use value::Value;

/// The repository README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
