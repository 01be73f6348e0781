//! The circuit breaker: consecutive-failure threshold, recovery timeout,
//! bounded half-open trials.
//!
//! The closed-state path is lock-free: admitting a call is one atomic load,
//! recording a success one load (and a store only if failures were counted).
//! Transitions take a mutex; they are rare.

mod config;
mod permit;

pub use config::{
    BreakerConfig, BreakerConfigBuilder, DEFAULT_FAILURE_THRESHOLD, DEFAULT_HALF_OPEN_MAX_CALLS,
    DEFAULT_RECOVERY_TIMEOUT,
};
pub use permit::{Permit, PermitToken};

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::time::Clock;

/// The state of a breaker.
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

/// A call was rejected because the breaker is open (or its half-open trial
/// slots are taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// Time left until the recovery timeout passes; zero when the breaker is
    /// half-open and waiting for its trials to finish.
    pub retry_after: Duration,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circuit breaker is open (retry after {:?})", self.retry_after)
    }
}

impl std::error::Error for Rejected {}

/// The error of [`CircuitBreaker::call`]: rejected, or the operation's own error.
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

impl<E: std::error::Error + 'static> std::error::Error for BreakerError<E> {}

type Listener = Box<dyn Fn(Transition) + Send + Sync>;

/// What the mutex guards: the parts that only change on transitions.
#[derive(Debug)]
struct Slow {
    trials_in_flight: u32,
    /// Bumped on reset, so a trial permit from before a reset can never
    /// free a trial slot or decide the state after it.
    epoch: u32,
}

impl Slow {
    /// Frees the trial slot of `token` if it was issued since the last reset.
    fn finish_trial(&mut self, token: PermitToken) -> bool {
        let current = token.is_trial() && token.epoch() == self.epoch;
        if current {
            self.trials_in_flight = self.trials_in_flight.saturating_sub(1);
        }
        current
    }
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
            slow: Mutex::new(Slow {
                trials_in_flight: 0,
                epoch: 0,
            }),
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

    /// Back to closed with no failures; in-flight permits become stale.
    pub fn reset(&self) -> Option<Transition> {
        let t = {
            let mut slow = self.lock();
            let from = self.stored();
            slow.trials_in_flight = 0;
            self.opened_at_nanos.store(0, Ordering::Release);
            slow.epoch = slow.epoch.wrapping_add(1);
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
        self.acquire_token().map(|token| Permit::new(self, token))
    }

    /// [`CircuitBreaker::try_acquire`] returning a plain token, for bindings
    /// that cannot hold a borrow (FFI, wasm). Pass the token back to exactly
    /// one of [`record_success`](Self::record_success),
    /// [`record_failure`](Self::record_failure) or [`release`](Self::release).
    ///
    /// # Errors
    /// [`Rejected`] when the call must not run.
    #[inline]
    pub fn acquire_token(&self) -> Result<PermitToken, Rejected> {
        if self.stored() == CircuitState::Closed {
            return Ok(PermitToken::normal());
        }
        self.acquire_slow()
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self) -> Result<PermitToken, Rejected> {
        if self.stored() == CircuitState::Open {
            // Still open: reject without taking the lock.
            let elapsed = self.open_elapsed();
            if elapsed < self.config.recovery_timeout {
                let retry_after = self.config.recovery_timeout.saturating_sub(elapsed);
                return Err(Rejected { retry_after });
            }
        }
        let (result, t) = {
            let mut slow = self.lock();
            let mut entered = None;
            match self.stored() {
                CircuitState::Closed => return Ok(PermitToken::normal()),
                CircuitState::Open => {
                    let elapsed = self.open_elapsed();
                    if elapsed < self.config.recovery_timeout {
                        let retry_after = self.config.recovery_timeout.saturating_sub(elapsed);
                        return Err(Rejected { retry_after });
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
                slow.trials_in_flight = slow.trials_in_flight.saturating_add(1);
                Ok(PermitToken::trial(slow.epoch, entered.is_some()))
            } else {
                Err(Rejected {
                    retry_after: Duration::ZERO,
                })
            };
            (result, entered)
        };
        self.notify(t);
        result
    }

    /// The permitted call succeeded: a success closes the breaker and resets
    /// the count. A stale closed-state permit (the breaker opened meanwhile)
    /// changes nothing.
    #[inline]
    pub fn record_success(&self, token: PermitToken) -> Option<Transition> {
        if token.is_trial() {
            return self.trial_succeeded(token);
        }
        // Hot path: one load, and a store only when there is something to reset.
        if self.stored() == CircuitState::Closed && self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Release);
        }
        None
    }

    #[cold]
    #[inline(never)]
    fn trial_succeeded(&self, token: PermitToken) -> Option<Transition> {
        let t = {
            let mut slow = self.lock();
            if slow.finish_trial(token) && self.stored() == CircuitState::HalfOpen {
                self.failures.store(0, Ordering::Release);
                self.set_stored(CircuitState::Closed);
                Some(Transition {
                    from: CircuitState::HalfOpen,
                    to: CircuitState::Closed,
                })
            } else {
                None
            }
        };
        self.notify(t)
    }

    /// The permitted call failed with a counted error: in closed state the
    /// count grows and reaching the threshold opens the breaker; a failed
    /// trial re-opens it with a fresh timestamp.
    pub fn record_failure(&self, token: PermitToken) -> Option<Transition> {
        let t = if token.is_trial() {
            let mut slow = self.lock();
            if slow.finish_trial(token) && self.stored() == CircuitState::HalfOpen {
                self.bump_failures();
                self.stamp_opened();
                self.set_stored(CircuitState::Open);
                Some(Transition {
                    from: CircuitState::HalfOpen,
                    to: CircuitState::Open,
                })
            } else {
                None
            }
        } else if self.stored() == CircuitState::Closed {
            let count = self.bump_failures();
            if count >= self.config.failure_threshold {
                let _transition_guard = self.lock();
                if self.stored() == CircuitState::Closed {
                    self.stamp_opened();
                    self.set_stored(CircuitState::Open);
                    Some(Transition {
                        from: CircuitState::Closed,
                        to: CircuitState::Open,
                    })
                } else {
                    None
                }
            } else {
                None
            }
        } else {
            None
        };
        self.notify(t)
    }

    /// The permitted call ended with an error that is not counted (outside
    /// the expected failures) or did not run: frees a trial slot, nothing else.
    pub fn release(&self, token: PermitToken) {
        if token.is_trial() {
            self.lock().finish_trial(token);
        }
    }

    fn open_elapsed(&self) -> Duration {
        let opened_at = Duration::from_nanos(self.opened_at_nanos.load(Ordering::Acquire));
        self.clock.now().saturating_sub(opened_at)
    }

    fn stamp_opened(&self) {
        let now = u64::try_from(self.clock.now().as_nanos()).unwrap_or(u64::MAX);
        self.opened_at_nanos.store(now, Ordering::Release);
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
        let token = self.acquire_token().map_err(BreakerError::Open)?;
        if token.is_trial() {
            // A trial slot must be freed even if `op` or `is_failure`
            // panics: the permit's drop does that.
            return Self::settle(Permit::new(self, token), op(), is_failure);
        }
        // Closed state: a normal token needs no clean-up, so no guard.
        self.settle_normal(token, op(), is_failure)
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
        let token = self.acquire_token().map_err(BreakerError::Open)?;
        if token.is_trial() {
            // Dropping this future mid-call must free the trial slot: the
            // permit's drop does that.
            let permit = Permit::new(self, token);
            return Self::settle(permit, op().await, is_failure);
        }
        self.settle_normal(token, op().await, is_failure)
    }

    /// Reports how a closed-state call ended and passes its result on.
    fn settle_normal<T, E>(
        &self,
        token: PermitToken,
        result: Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>> {
        match result {
            Ok(v) => {
                self.record_success(token);
                Ok(v)
            }
            Err(e) => {
                if is_failure(&e) {
                    self.record_failure(token);
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
