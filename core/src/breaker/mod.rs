//! The circuit breaker: consecutive-failure threshold, recovery timeout,
//! bounded half-open trials.
//!
//! The closed-state path of [`CircuitBreaker::call`] is lock-free and
//! allocation-free: admitting a call is one atomic load, recording a success
//! one load (and a store only if failures were counted). Permits handed out
//! as plain tokens ([`CircuitBreaker::acquire_token`]) are checked by a
//! lock-free ledger. Transitions take a mutex; they are rare.

mod config;
mod judged;
mod ledger;
mod permit;

pub use config::{
    BreakerConfig, BreakerConfigBuilder, DEFAULT_FAILURE_THRESHOLD, DEFAULT_HALF_OPEN_MAX_CALLS,
    DEFAULT_RECOVERY_TIMEOUT,
};
pub use ledger::{PermitMisuse, PermitToken};
pub use permit::Permit;

pub(crate) use judged::Judgement;

use ledger::{Ledger, Settled};
use permit::Grant;

use std::fmt;
use std::future::Future;
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
    /// Calls are rejected until the recovery timeout has passed.
    Open,
    /// The recovery timeout has passed: a limited number of trial calls decide.
    HalfOpen,
}

impl CircuitState {
    /// `"closed"`, `"open"` or `"half_open"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Closed,
            1 => Self::Open,
            _ => Self::HalfOpen,
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
    /// The breaker is open and its recovery timeout has not passed.
    Open,
    /// The breaker is half-open and every trial slot is taken.
    TrialsTaken,
    /// Every permit the breaker can track (65 536) is out: report some
    /// before asking for more.
    PermitsExhausted,
}

/// A call was rejected because the breaker is open (or its half-open trial
/// slots are taken).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// Time left until the recovery timeout passes; zero when the breaker is
    /// half-open and waiting for its trials to finish.
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
    failures: AtomicU32,
    /// When the breaker last opened, in clock nanoseconds. Written under the
    /// lock (on transitions), read without it so rejecting is lock-free.
    opened_at_nanos: AtomicU64,
    slow: Mutex<Slow>,
    /// Every trial permit, and every permit handed out as a token.
    ledger: Ledger,
    listener: Option<Listener>,
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

impl<C: Clock> CircuitBreaker<C> {
    /// A closed breaker.
    pub fn new(config: BreakerConfig, clock: C) -> Self {
        Self {
            config,
            clock,
            state: AtomicU8::new(CircuitState::Closed.to_u8()),
            failures: AtomicU32::new(0),
            opened_at_nanos: AtomicU64::new(0),
            slow: Mutex::new(Slow { trials_in_flight: 0 }),
            ledger: Ledger::new(),
            listener: None,
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

    fn set_stored(&self, s: CircuitState) {
        self.state.store(s.to_u8(), Ordering::Release);
    }

    fn lock(&self) -> MutexGuard<'_, Slow> {
        self.slow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self, t: Option<Transition>) -> Option<Transition> {
        if let (Some(t), Some(listener)) = (t, &self.listener) {
            listener(t);
        }
        t
    }

    /// The state as callers see it: an open breaker whose recovery timeout
    /// has passed reads [`CircuitState::HalfOpen`] (the original's view).
    pub fn state(&self) -> CircuitState {
        match self.stored() {
            CircuitState::Open => {
                if self.open_elapsed() >= self.config.recovery_timeout {
                    CircuitState::HalfOpen
                } else {
                    CircuitState::Open
                }
            }
            s => s,
        }
    }

    /// Counted failures since the last success or reset.
    pub fn failure_count(&self) -> u32 {
        self.failures.load(Ordering::Acquire)
    }

    /// Back to closed with no failures. Permits out at this moment become
    /// stale: when they are reported, the report is accepted and ignored.
    pub fn reset(&self) -> Option<Transition> {
        let t = {
            let mut slow = self.lock();
            let from = self.stored();
            slow.trials_in_flight = 0;
            self.ledger.mark_outstanding_stale();
            self.opened_at_nanos.store(0, Ordering::Release);
            self.failures.store(0, Ordering::Release);
            self.set_stored(CircuitState::Closed);
            (from != CircuitState::Closed).then_some(Transition {
                from,
                to: CircuitState::Closed,
            })
        };
        self.notify(t)
    }

    /// Asks to run one call. A closed breaker admits at once; an open one
    /// rejects with the time left; once the recovery timeout has passed, up
    /// to `half_open_max_calls` trials are admitted at a time.
    ///
    /// # Errors
    /// [`Rejected`] when the call must not run.
    pub fn try_acquire(&self) -> Result<Permit<'_, C>, Rejected> {
        self.acquire_grant().map(|grant| Permit::new(self, grant))
    }

    /// [`CircuitBreaker::try_acquire`] returning a plain token, for callers
    /// that cannot hold a borrow (FFI, wasm, asyncio drivers). Give the
    /// token back to exactly one of [`record_success`](Self::record_success),
    /// [`record_failure`](Self::record_failure) or [`release`](Self::release);
    /// a second report, or a token of another breaker, is refused with
    /// [`PermitMisuse`] and changes nothing.
    ///
    /// ```
    /// use resilience_core::{BreakerConfig, CircuitBreaker, ManualClock, PermitMisuse};
    /// let breaker = CircuitBreaker::new(BreakerConfig::default(), ManualClock::new());
    /// let token = breaker.acquire_token().unwrap();
    /// assert_eq!(breaker.record_failure(token), Ok(None));
    /// assert_eq!(breaker.record_failure(token), Err(PermitMisuse::NotOutstanding));
    /// assert_eq!(breaker.failure_count(), 1);
    /// ```
    ///
    /// # Errors
    /// [`Rejected`] when the call must not run (or 65 536 tokens are out).
    pub fn acquire_token(&self) -> Result<PermitToken, Rejected> {
        match self.acquire_grant()? {
            Grant::Trial(token) => Ok(token),
            Grant::Normal => self
                .ledger
                .issue(false)
                .ok_or(Rejected::new(RejectReason::PermitsExhausted, Duration::ZERO)),
        }
    }

    /// Rebuilds a token of this breaker from [`PermitToken::to_local`].
    pub fn token_from_local(&self, local: u64) -> PermitToken {
        self.ledger.token_from_local(local)
    }

    /// Tokens out now (issued by [`acquire_token`](Self::acquire_token), plus
    /// trials in progress), for leak checks.
    pub fn tokens_outstanding(&self) -> usize {
        self.ledger.outstanding()
    }

    #[inline]
    fn acquire_grant(&self) -> Result<Grant, Rejected> {
        if self.stored() == CircuitState::Closed {
            return Ok(Grant::Normal);
        }
        self.acquire_slow()
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self) -> Result<Grant, Rejected> {
        if self.stored() == CircuitState::Open {
            // Still open: reject without taking the lock.
            let elapsed = self.open_elapsed();
            if elapsed < self.config.recovery_timeout {
                let retry_after = self.config.recovery_timeout.saturating_sub(elapsed);
                return Err(Rejected::new(RejectReason::Open, retry_after));
            }
        }
        let (result, t) = {
            let mut slow = self.lock();
            let mut entered = None;
            match self.stored() {
                CircuitState::Closed => return Ok(Grant::Normal),
                CircuitState::Open => {
                    let elapsed = self.open_elapsed();
                    if elapsed < self.config.recovery_timeout {
                        let retry_after = self.config.recovery_timeout.saturating_sub(elapsed);
                        return Err(Rejected::new(RejectReason::Open, retry_after));
                    }
                    self.set_stored(CircuitState::HalfOpen);
                    entered = Some(Transition {
                        from: CircuitState::Open,
                        to: CircuitState::HalfOpen,
                    });
                }
                CircuitState::HalfOpen => {}
            }
            // Trials of an earlier half-open round that are still running
            // count too: at most `half_open_max_calls` trials ever run at once.
            let result = if slow.trials_in_flight < self.config.half_open_max_calls {
                match self.ledger.issue(true) {
                    Some(token) => {
                        slow.trials_in_flight = slow.trials_in_flight.saturating_add(1);
                        let token = if entered.is_some() { token.with_entered() } else { token };
                        Ok(Grant::Trial(token))
                    }
                    None => Err(Rejected::new(RejectReason::PermitsExhausted, Duration::ZERO)),
                }
            } else {
                Err(Rejected::new(RejectReason::TrialsTaken, Duration::ZERO))
            };
            (result, entered)
        };
        self.notify(t);
        result
    }

    /// The permitted call succeeded: a success closes a half-open breaker and
    /// resets the count. A stale permit (issued before a reset), or a
    /// closed-state permit after the breaker opened, changes nothing.
    ///
    /// # Errors
    /// [`PermitMisuse`] for a token reported before or issued elsewhere;
    /// nothing changes then.
    pub fn record_success(&self, token: PermitToken) -> Result<Option<Transition>, PermitMisuse> {
        if token.is_trial() {
            return self.settle_trial(token, true);
        }
        if self.ledger.settle(token)? == Settled::Current {
            self.normal_success();
        }
        Ok(None)
    }

    /// The permitted call failed with a counted error: in closed state the
    /// count grows and reaching the threshold opens the breaker; a failed
    /// trial re-opens it with a fresh timestamp. A stale permit changes
    /// nothing.
    ///
    /// # Errors
    /// As [`record_success`](Self::record_success).
    pub fn record_failure(&self, token: PermitToken) -> Result<Option<Transition>, PermitMisuse> {
        if token.is_trial() {
            return self.settle_trial(token, false);
        }
        Ok(match self.ledger.settle(token)? {
            Settled::Current => self.normal_failure(),
            Settled::Stale => None,
        })
    }

    /// The permitted call ended with an error that is not counted, or did
    /// not run: frees a trial slot, nothing else.
    ///
    /// # Errors
    /// As [`record_success`](Self::record_success).
    pub fn release(&self, token: PermitToken) -> Result<(), PermitMisuse> {
        if token.is_trial() {
            let mut slow = self.lock();
            if self.ledger.settle(token)? == Settled::Current {
                slow.trials_in_flight = slow.trials_in_flight.saturating_sub(1);
            }
            return Ok(());
        }
        self.ledger.settle(token).map(|_| ())
    }

    /// Settles a trial under the lock, so a reset cannot slip between the
    /// ledger's answer and the trial count.
    #[cold]
    #[inline(never)]
    fn settle_trial(&self, token: PermitToken, succeeded: bool) -> Result<Option<Transition>, PermitMisuse> {
        let t = {
            let mut slow = self.lock();
            if self.ledger.settle(token)? == Settled::Stale {
                return Ok(None);
            }
            slow.trials_in_flight = slow.trials_in_flight.saturating_sub(1);
            if self.stored() != CircuitState::HalfOpen {
                None
            } else if succeeded {
                self.failures.store(0, Ordering::Release);
                self.set_stored(CircuitState::Closed);
                Some(Transition {
                    from: CircuitState::HalfOpen,
                    to: CircuitState::Closed,
                })
            } else {
                self.bump_failures();
                self.stamp_opened();
                self.set_stored(CircuitState::Open);
                Some(Transition {
                    from: CircuitState::HalfOpen,
                    to: CircuitState::Open,
                })
            }
        };
        Ok(self.notify(t))
    }

    /// A closed-state call succeeded. Hot path: one load, and a store only
    /// when there is something to reset.
    #[inline]
    fn normal_success(&self) {
        if self.stored() == CircuitState::Closed && self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Release);
        }
    }

    /// A closed-state call failed with a counted error.
    fn normal_failure(&self) -> Option<Transition> {
        if self.stored() != CircuitState::Closed {
            return None;
        }
        let count = self.bump_failures();
        if count < self.config.failure_threshold {
            return None;
        }
        let t = {
            let _transition_guard = self.lock();
            (self.stored() == CircuitState::Closed).then(|| {
                self.stamp_opened();
                self.set_stored(CircuitState::Open);
                Transition {
                    from: CircuitState::Closed,
                    to: CircuitState::Open,
                }
            })
        };
        self.notify(t)
    }

    /// Reports how an internally held grant ended.
    fn finish_grant(&self, grant: Grant, outcome: Outcome) -> Option<Transition> {
        match (grant, outcome) {
            (Grant::Normal, Outcome::Success) => {
                self.normal_success();
                None
            }
            (Grant::Normal, Outcome::Failure) => self.normal_failure(),
            (Grant::Normal, Outcome::Neither) => None,
            // Internal trial tokens are reported exactly once by their
            // permit, so the ledger cannot refuse them.
            (Grant::Trial(token), Outcome::Success) => self.settle_trial(token, true).unwrap_or(None),
            (Grant::Trial(token), Outcome::Failure) => self.settle_trial(token, false).unwrap_or(None),
            (Grant::Trial(token), Outcome::Neither) => {
                let _ = self.release(token);
                None
            }
        }
    }

    /// Time since the breaker opened. Rule `clock_jump`: a clock that reads
    /// earlier than the opening (it jumped back, or once read far ahead)
    /// restarts the open period from now, so a jump delays recovery by at
    /// most one recovery timeout, never forever.
    fn open_elapsed(&self) -> Duration {
        let now = nanos_of(self.clock.now());
        let opened_at = self.opened_at_nanos.load(Ordering::Acquire);
        match now.checked_sub(opened_at) {
            Some(elapsed) => Duration::from_nanos(elapsed),
            None => {
                // Losing this race to another restamp or a transition is fine:
                // either way the open period is now counted from a sane time.
                let _ = self
                    .opened_at_nanos
                    .compare_exchange(opened_at, now, Ordering::AcqRel, Ordering::Acquire);
                Duration::ZERO
            }
        }
    }

    fn stamp_opened(&self) {
        self.opened_at_nanos
            .store(nanos_of(self.clock.now()), Ordering::Release);
    }

    /// Adds one failure (saturating) and returns the new count.
    fn bump_failures(&self) -> u32 {
        let prev = self
            .failures
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_add(1)))
            .unwrap_or_else(|n| n);
        prev.saturating_add(1)
    }

    /// Runs `op` through the breaker, counting every error as a failure.
    ///
    /// # Errors
    /// [`BreakerError::Open`] when rejected, else the operation's error.
    pub fn call<T, E>(&self, op: impl FnOnce() -> Result<T, E>) -> Result<T, BreakerError<E>> {
        self.call_filtered(op, |_| true)
    }

    /// Runs `op` through the breaker; only errors for which `is_failure`
    /// returns `true` count (others pass through, like the original's
    /// `expected_exception`).
    ///
    /// # Errors
    /// [`BreakerError::Open`] when rejected, else the operation's error.
    pub fn call_filtered<T, E>(
        &self,
        op: impl FnOnce() -> Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>> {
        let grant = self.acquire_grant().map_err(BreakerError::Open)?;
        if let Grant::Trial(_) = grant {
            // A trial slot must be freed even if `op` or `is_failure`
            // panics: the permit's drop does that.
            return Self::settle(Permit::new(self, grant), op(), is_failure);
        }
        // Closed state: a normal grant needs no clean-up, so no guard.
        self.settle_normal(op(), is_failure)
    }

    /// The async twin of [`CircuitBreaker::call_filtered`]. If the future is
    /// dropped before completing, its permit is released as "neither".
    ///
    /// # Errors
    /// [`BreakerError::Open`] when rejected, else the operation's error.
    pub async fn call_async<T, E, Fut>(
        &self,
        op: impl FnOnce() -> Fut,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let grant = self.acquire_grant().map_err(BreakerError::Open)?;
        if let Grant::Trial(_) = grant {
            // Dropping this future mid-call must free the trial slot: the
            // permit's drop does that.
            let permit = Permit::new(self, grant);
            return Self::settle(permit, op().await, is_failure);
        }
        self.settle_normal(op().await, is_failure)
    }

    /// Reports how a closed-state call ended and passes its result on.
    fn settle_normal<T, E>(
        &self,
        result: Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>> {
        match result {
            Ok(v) => {
                self.normal_success();
                Ok(v)
            }
            Err(e) => {
                if is_failure(&e) {
                    self.normal_failure();
                }
                Err(BreakerError::Inner(e))
            }
        }
    }

    /// Reports how a permitted call ended and passes its result on.
    fn settle<T, E>(
        permit: Permit<'_, C>,
        result: Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>> {
        match result {
            Ok(v) => {
                permit.success();
                Ok(v)
            }
            Err(e) => {
                if is_failure(&e) {
                    permit.failure();
                } else {
                    permit.release();
                }
                Err(BreakerError::Inner(e))
            }
        }
    }
}

/// How a call ended, for the breaker's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    Neither,
}

/// Nanoseconds of a clock reading, saturating at 584 years.
fn nanos_of(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
