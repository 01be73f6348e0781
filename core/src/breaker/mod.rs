//! The circuit breaker: a trip rule (consecutive failures, or a failure or
//! slow-call rate over a time or count window), a break that may grow with
//! a backoff, bounded half-open trials, manual isolation, metrics and
//! snapshots.
//!
//! The closed-state path of [`CircuitBreaker::call`] is lock-free and
//! allocation-free: with the consecutive rule, admitting a call is one
//! atomic load and recording a success one load; a window adds a clock
//! reading and a compare-and-swap per counter. Permits handed out as plain
//! tokens ([`CircuitBreaker::acquire_token`]) are checked by a lock-free
//! ledger. Transitions take a mutex; they are rare.

mod admit;
mod call;
mod config;
mod fleet;
mod ledger;
mod metrics;
mod outcome;
mod permit;
mod snapshot;
mod window;

pub use config::{
    BreakBackoff, BreakerConfig, BreakerConfigBuilder, SlowCallRule, TripRule, Window, DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_HALF_OPEN_MAX_CALLS, DEFAULT_MINIMUM_THROUGHPUT, DEFAULT_RECOVERY_TIMEOUT, DEFAULT_SAMPLING_BUCKETS,
    DEFAULT_SAMPLING_DURATION, MAX_SAMPLING_BUCKETS, MAX_WINDOW_SIZE,
};
pub use fleet::{
    FleetConfig, FleetConfigBuilder, FleetCounts, FleetDelta, FleetReport, FleetSeed, FleetStatus, FleetView,
    DEFAULT_SYNC_INTERVAL, DEFAULT_SYNC_TIMEOUT, MAX_RECONNECT_DELAY,
};
pub use ledger::{PermitMisuse, PermitToken};
pub use metrics::BreakerMetrics;
pub use permit::Permit;
pub use snapshot::{SnapshotError, SNAPSHOT_VERSION};

pub(crate) use outcome::Judgement;

use fleet::Fleet;
use ledger::Ledger;
use window::WindowCounter;

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::time::Clock;

/// The state of a breaker.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls flow; failures are counted.
    Closed,
    /// Calls are rejected until the break has passed.
    Open,
    /// The break has passed: a limited number of trial calls decide.
    HalfOpen,
    /// Held open by hand ([`CircuitBreaker::isolate`]) until
    /// [`close`](CircuitBreaker::close) or [`reset`](CircuitBreaker::reset).
    Isolated,
}

impl CircuitState {
    /// `"closed"`, `"open"`, `"half_open"` or `"isolated"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
            Self::Isolated => "isolated",
        }
    }

    /// The state named by [`CircuitState::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Closed, Self::Open, Self::HalfOpen, Self::Isolated]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    fn to_u8(self) -> u8 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
            Self::Isolated => 3,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Closed,
            1 => Self::Open,
            2 => Self::HalfOpen,
            _ => Self::Isolated,
        }
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of state, reported to the listener and returned by the calls
/// that caused it (so bindings can raise their own events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before.
    pub from: CircuitState,
    /// The state after.
    pub to: CircuitState,
}

/// Why a call was not admitted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The breaker is open and its break has not passed.
    Open,
    /// The breaker is half-open and every trial slot is taken.
    TrialsTaken,
    /// The breaker is isolated by hand.
    Isolated,
    /// Every permit the breaker can track (65 536) is out: report some
    /// before asking for more.
    PermitsExhausted,
}

/// A call was rejected because the breaker is open (or its half-open trial
/// slots are taken, or it is isolated).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// Time left until the break passes; zero when the breaker is half-open
    /// and waiting for its trials to finish; the longest duration
    /// ([`crate::rules::MAX_DURATION`]) when isolated (until closed by hand).
    pub retry_after: Duration,
    /// Why.
    pub reason: RejectReason,
}

impl Rejected {
    fn new(reason: RejectReason, retry_after: Duration) -> Self {
        Self { retry_after, reason }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RejectReason::PermitsExhausted => f.write_str("circuit breaker has too many permits out"),
            RejectReason::Isolated => f.write_str("circuit breaker is isolated"),
            _ => write!(f, "circuit breaker is open (retry after {:?})", self.retry_after),
        }
    }
}

impl std::error::Error for Rejected {}

/// The error of [`CircuitBreaker::call`]: rejected, or the operation's own error.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakerError<E> {
    /// The breaker did not admit the call.
    Open(Rejected),
    /// The operation ran and failed with this error, unchanged.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(r) => r.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BreakerError<E> {
    /// The rejection, or the operation's own error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(r) => Some(r),
            Self::Inner(e) => Some(e),
        }
    }
}

type Listener = Box<dyn Fn(Transition) + Send + Sync>;

/// What the mutex guards: the parts that only change on transitions.
#[derive(Debug)]
struct Slow {
    trials_in_flight: u32,
}

/// A circuit breaker over an injected [`Clock`].
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock};
/// let clock = ManualClock::new();
/// let config = BreakerConfig::builder().failure_threshold(2)
///     .recovery_timeout(Duration::from_secs(30)).build()?;
/// let breaker = CircuitBreaker::new(config, clock.clone());
/// for _ in 0..2 { let _ = breaker.call(|| Err::<(), _>("down")); }
/// assert_eq!(breaker.state(), CircuitState::Open);
/// assert!(breaker.try_acquire().is_err());
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(breaker.state(), CircuitState::HalfOpen);
/// assert_eq!(breaker.call(|| Ok::<_, ()>(7)), Ok(7));
/// assert_eq!(breaker.state(), CircuitState::Closed);
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
pub struct CircuitBreaker<C> {
    config: BreakerConfig,
    clock: C,
    state: AtomicU8,
    /// Counted failures in a row (the consecutive rule; a metric otherwise).
    failures: AtomicU32,
    /// When the current break started, in clock nanoseconds. Written under
    /// the lock (on transitions), read without it so rejecting is lock-free.
    opened_at_nanos: AtomicU64,
    /// How long the current break lasts from `opened_at_nanos`, in nanoseconds.
    break_nanos: AtomicU64,
    /// The part of the current break served before the clock's origin (a
    /// snapshot restored on a younger clock): reported as part of the
    /// break's length, never waited for again.
    break_served_nanos: AtomicU64,
    /// When the current state began (for metrics).
    entered_at_nanos: AtomicU64,
    /// Openings since the breaker last closed (the break backoff's attempt).
    openings_in_a_row: AtomicU32,
    /// Bumped by every reset: calls admitted before it change nothing.
    reset_epoch: AtomicU32,
    /// A success only resets the consecutive count: the consecutive rule,
    /// no slow-call rule, not shared (the closed path's fast lane).
    plain_successes: bool,
    openings: AtomicU64,
    rejections: AtomicU64,
    window: Option<WindowCounter>,
    slow: Mutex<Slow>,
    /// Every trial permit, and every permit handed out as a token.
    ledger: Ledger,
    listener: Option<Listener>,
    /// Shared (fleet) mode: `None` unless opted in with `in_fleet`.
    fleet: Option<Box<Fleet>>,
}

impl<C: fmt::Debug> fmt::Debug for CircuitBreaker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("state", &CircuitState::from_u8(self.state.load(Ordering::Relaxed)))
            .field("failures", &self.failures.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Nanoseconds of a clock reading, saturating at 584 years.
fn nanos_of(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl<C: Clock> CircuitBreaker<C> {
    /// A closed breaker.
    pub fn new(config: BreakerConfig, clock: C) -> Self {
        Self {
            window: config.window().map(WindowCounter::new),
            break_nanos: AtomicU64::new(nanos_of(config.recovery_timeout)),
            break_served_nanos: AtomicU64::new(0),
            config,
            clock,
            state: AtomicU8::new(CircuitState::Closed.to_u8()),
            failures: AtomicU32::new(0),
            opened_at_nanos: AtomicU64::new(0),
            entered_at_nanos: AtomicU64::new(0),
            openings_in_a_row: AtomicU32::new(0),
            reset_epoch: AtomicU32::new(0),
            plain_successes: matches!(config.trip, config::TripRule::Consecutive { .. }) && config.slow_calls.is_none(),
            openings: AtomicU64::new(0),
            rejections: AtomicU64::new(0),
            slow: Mutex::new(Slow { trials_in_flight: 0 }),
            ledger: Ledger::new(),
            listener: None,
            fleet: None,
        }
    }

    /// Calls `listener` on every state change (after the change, outside the lock).
    pub fn with_listener(mut self, listener: impl Fn(Transition) + Send + Sync + 'static) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    fn stored(&self) -> CircuitState {
        CircuitState::from_u8(self.state.load(Ordering::Acquire))
    }

    fn lock(&self) -> MutexGuard<'_, Slow> {
        self.slow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self, t: Option<Transition>) -> Option<Transition> {
        if let (Some(t), Some(listener)) = (t, &self.listener) {
            listener(t);
        }
        if let (Some(_), Some(fleet)) = (t, &self.fleet) {
            fleet.wake_if_marked();
        }
        t
    }

    fn now_nanos(&self) -> u64 {
        nanos_of(self.clock.now())
    }

    /// Moves to `to` (under the lock), stamping when the state began.
    /// Returns the transition, or `None` when already there.
    fn enter(&self, to: CircuitState) -> Option<Transition> {
        let from = self.stored();
        self.entered_at_nanos.store(self.now_nanos(), Ordering::Release);
        self.state.store(to.to_u8(), Ordering::Release);
        (from != to).then_some(Transition { from, to })
    }

    /// What is left of the current break from when it was stamped open.
    fn break_duration(&self) -> Duration {
        Duration::from_nanos(self.break_nanos.load(Ordering::Acquire))
    }

    /// The current break's full length, as metrics and snapshots report it.
    fn reported_break(&self) -> Duration {
        let served = self.break_served_nanos.load(Ordering::Acquire);
        self.break_duration().saturating_add(Duration::from_nanos(served))
    }

    /// Starts a break of `length` counted from `opened_at` (under the lock).
    fn set_break(&self, opened_at: u64, length: Duration) {
        self.break_nanos.store(nanos_of(length), Ordering::Release);
        self.break_served_nanos.store(0, Ordering::Release);
        self.opened_at_nanos.store(opened_at, Ordering::Release);
    }

    /// The state as callers see it: an open breaker whose break has passed
    /// reads [`CircuitState::HalfOpen`] (the original's view).
    pub fn state(&self) -> CircuitState {
        match self.stored() {
            CircuitState::Open => {
                if self.open_elapsed() >= self.break_duration() {
                    CircuitState::HalfOpen
                } else {
                    CircuitState::Open
                }
            }
            s => s,
        }
    }

    /// Counted failures in a row since the last success or reset.
    pub fn failure_count(&self) -> u32 {
        self.failures.load(Ordering::Acquire)
    }

    /// Back to closed with no failures, an empty window and the first break
    /// length. Permits out at this moment become stale: when they are
    /// reported, the report is accepted and ignored.
    pub fn reset(&self) -> Option<Transition> {
        let t = {
            let mut slow = self.lock();
            slow.trials_in_flight = 0;
            self.ledger.mark_outstanding_stale();
            self.reset_epoch.fetch_add(1, Ordering::AcqRel);
            self.opened_at_nanos.store(0, Ordering::Release);
            self.close_counts();
            if let Some(fleet) = &self.fleet {
                // Manual control is local: nothing to publish.
                fleet.clear_mark();
            }
            self.enter(CircuitState::Closed)
        };
        self.notify(t)
    }

    /// Manual control (Polly's `CloseAsync`): closes the breaker, even an
    /// isolated one — the same as [`reset`](Self::reset).
    pub fn close(&self) -> Option<Transition> {
        self.reset()
    }

    /// Manual control (Polly's `IsolateAsync`): holds the breaker open —
    /// every call is rejected with [`RejectReason::Isolated`] — until
    /// [`close`](Self::close) or [`reset`](Self::reset). Trials in flight
    /// finish without deciding anything.
    pub fn isolate(&self) -> Option<Transition> {
        let t = {
            let _slow = self.lock();
            self.enter(CircuitState::Isolated)
        };
        self.notify(t)
    }

    /// Clears what closing clears: the failure count, the window, the break
    /// backoff (under the lock).
    fn close_counts(&self) {
        self.failures.store(0, Ordering::Release);
        self.openings_in_a_row.store(0, Ordering::Release);
        self.break_nanos
            .store(nanos_of(self.config.recovery_timeout), Ordering::Release);
        self.break_served_nanos.store(0, Ordering::Release);
        if let Some(window) = &self.window {
            window.clear();
        }
        if let Some(fleet) = &self.fleet {
            fleet.on_close();
        }
    }
}
