//! Admitting calls: closed admits at once, open rejects with the time
//! left, half-open admits a bounded number of trials, isolated rejects.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::permit::{Admitted, Grant, Permit};
use super::{CircuitBreaker, CircuitState, PermitToken, RejectReason, Rejected, Transition};
use crate::rules::MAX_DURATION;
use crate::time::Clock;

impl<C: Clock> CircuitBreaker<C> {
    /// Asks to run one call. A closed breaker admits at once; an open one
    /// rejects with the time left; once the break has passed, up to
    /// `half_open_max_calls` trials are admitted at a time.
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
    /// [`super::PermitMisuse`] and changes nothing.
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
            // The ledger makes a token stale at a reset; its own epoch is unused.
            // Counted as a rejection, as the same refusal of a trial is.
            Grant::Normal(admitted) => self
                .ledger
                .issue(false, admitted.started_ns)
                .ok_or_else(|| self.count_rejection(Rejected::new(RejectReason::PermitsExhausted, Duration::ZERO))),
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

    /// When a call starts, for the slow-call rule (no clock read without it).
    pub(super) fn call_started(&self) -> u64 {
        if self.config.slow_calls.is_some() {
            self.now_nanos()
        } else {
            0
        }
    }

    #[inline]
    fn admitted(&self) -> Admitted {
        Admitted {
            started_ns: self.call_started(),
            epoch: self.reset_epoch.load(Ordering::Acquire),
        }
    }

    #[inline]
    pub(super) fn acquire_grant(&self) -> Result<Grant, Rejected> {
        if self.stored() == CircuitState::Closed {
            return Ok(Grant::Normal(self.admitted()));
        }
        self.acquire_not_closed()
    }

    /// Not closed: most often an open breaker rejecting, lock-free and in a
    /// small function of its own (the trial path takes the lock).
    #[inline(never)]
    fn acquire_not_closed(&self) -> Result<Grant, Rejected> {
        if let Some(rejected) = self.still_closed_to_calls() {
            return Err(self.count_rejection(rejected));
        }
        self.acquire_slow()
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self) -> Result<Grant, Rejected> {
        let (result, t) = {
            let mut slow = self.lock();
            let mut entered = None;
            match self.stored() {
                CircuitState::Closed => return Ok(Grant::Normal(self.admitted())),
                CircuitState::Open | CircuitState::Isolated => {
                    if let Some(rejected) = self.still_closed_to_calls() {
                        return Err(self.count_rejection(rejected));
                    }
                    entered = self.enter(CircuitState::HalfOpen);
                }
                CircuitState::HalfOpen => {}
            }
            // Trials of an earlier half-open round that are still running
            // count too: at most `half_open_max_calls` trials ever run at once.
            // Shared, with a live fleet view: no more trials than the fleet
            // leases this process holds (rule `fleet_leases`).
            let result = if slow.trials_in_flight < self.trial_limit() {
                match self.ledger.issue(true, self.call_started()) {
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
        result.map_err(|r| self.count_rejection(r))
    }

    /// The rejection an isolated breaker, or an open one whose break has
    /// not passed, gives now; `None` when a trial may be considered.
    fn still_closed_to_calls(&self) -> Option<Rejected> {
        match self.stored() {
            CircuitState::Isolated => Some(Rejected::new(RejectReason::Isolated, MAX_DURATION)),
            CircuitState::Open => {
                // In nanoseconds: the open breaker's rejection is its whole job.
                let (elapsed, length) = (self.open_elapsed_ns(), self.break_nanos.load(Ordering::Acquire));
                (elapsed < length)
                    .then(|| Rejected::new(RejectReason::Open, Duration::from_nanos(length.saturating_sub(elapsed))))
            }
            _ => None,
        }
    }

    fn count_rejection(&self, rejected: Rejected) -> Rejected {
        self.rejections.fetch_add(1, Ordering::Relaxed);
        rejected
    }

    /// Time since the break began. Rule `clock_jump`: a clock that reads
    /// earlier than the opening (it jumped back, or once read far ahead)
    /// restarts the break from now, so a jump delays recovery by at most one
    /// break, never forever.
    pub(super) fn open_elapsed(&self) -> Duration {
        Duration::from_nanos(self.open_elapsed_ns())
    }

    /// [`open_elapsed`](Self::open_elapsed) in nanoseconds.
    #[inline]
    fn open_elapsed_ns(&self) -> u64 {
        let now = self.now_nanos();
        let opened_at = self.opened_at_nanos.load(Ordering::Acquire);
        match now.checked_sub(opened_at) {
            Some(elapsed) => elapsed,
            None => {
                // Losing this race to another restamp or a transition is fine:
                // either way the break is now counted from a sane time.
                let _ = self
                    .opened_at_nanos
                    .compare_exchange(opened_at, now, Ordering::AcqRel, Ordering::Acquire);
                0
            }
        }
    }

    /// Opens the breaker (under the lock): the break starts now and lasts
    /// the next length of the break backoff.
    pub(super) fn open_now(&self) -> Option<Transition> {
        let opening = self.openings_in_a_row.load(Ordering::Acquire).saturating_add(1);
        self.openings_in_a_row.store(opening, Ordering::Release);
        self.set_break(self.now_nanos(), self.config.break_duration(opening));
        self.openings.fetch_add(1, Ordering::Relaxed);
        if let Some(fleet) = &self.fleet {
            // A local decision: the fleet hears of it at the next sync.
            fleet.marked_opened();
        }
        self.enter(CircuitState::Open)
    }
}
