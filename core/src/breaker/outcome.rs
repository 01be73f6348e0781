//! Recording how admitted calls ended, and the transitions outcomes cause:
//! the trip rule in closed state, the trials' verdict in half-open state.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::config::TripRule;
use super::ledger::Settled;
use super::permit::{Admitted, Grant};
use super::window::{Sample, Tally};
use super::{CircuitBreaker, CircuitState, PermitMisuse, PermitToken, Transition};
use crate::time::Clock;

/// How a finished call counts for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// A success: closes a half-open breaker, resets the count.
    Success,
    /// A counted failure.
    Failure,
    /// Neither: an error outside the counted ones, a local rejection, or
    /// the call did not run.
    Neither,
}

impl<C: Clock> CircuitBreaker<C> {
    /// The permitted call succeeded: a success closes a half-open breaker and
    /// resets the count. A stale permit (issued before a reset), or a
    /// closed-state permit after the breaker opened, changes nothing.
    ///
    /// # Errors
    /// [`PermitMisuse`] for a token reported before or issued elsewhere;
    /// nothing changes then.
    pub fn record_success(&self, token: PermitToken) -> Result<Option<Transition>, PermitMisuse> {
        self.report(token, Judgement::Success)
    }

    /// The permitted call failed with a counted error: in closed state the
    /// trip rule may open the breaker; a failed trial re-opens it with a
    /// fresh (possibly longer) break. A stale permit changes nothing.
    ///
    /// # Errors
    /// As [`record_success`](Self::record_success).
    pub fn record_failure(&self, token: PermitToken) -> Result<Option<Transition>, PermitMisuse> {
        self.report(token, Judgement::Failure)
    }

    /// The permitted call ended with an error that is not counted, or did
    /// not run: frees a trial slot, nothing else.
    ///
    /// # Errors
    /// As [`record_success`](Self::record_success).
    pub fn release(&self, token: PermitToken) -> Result<(), PermitMisuse> {
        self.report(token, Judgement::Neither).map(drop)
    }

    fn report(&self, token: PermitToken, outcome: Judgement) -> Result<Option<Transition>, PermitMisuse> {
        if token.is_trial() {
            return self.settle_trial(token, outcome);
        }
        Ok(match self.ledger.settle(token)? {
            Settled::Current { started_ns } => self.closed_outcome(
                Admitted {
                    started_ns,
                    // The ledger already checked this token against resets.
                    epoch: self.reset_epoch.load(Ordering::Acquire),
                },
                outcome,
            ),
            Settled::Stale => None,
        })
    }

    /// Settles a trial under the lock, so a reset cannot slip between the
    /// ledger's answer and the trial count.
    #[cold]
    #[inline(never)]
    fn settle_trial(&self, token: PermitToken, outcome: Judgement) -> Result<Option<Transition>, PermitMisuse> {
        let t = {
            let mut slow = self.lock();
            let Settled::Current { started_ns } = self.ledger.settle(token)? else {
                return Ok(None);
            };
            slow.trials_in_flight = slow.trials_in_flight.saturating_sub(1);
            match (self.stored(), outcome) {
                // A slow success is a failed trial (the dependency is still
                // slow), though not a counted failure.
                (CircuitState::HalfOpen, Judgement::Success) if self.is_slow(started_ns, self.now_nanos()) => {
                    self.open_now()
                }
                (CircuitState::HalfOpen, Judgement::Success) => {
                    self.close_counts();
                    if let Some(fleet) = &self.fleet {
                        fleet.marked_closed();
                    }
                    self.enter(CircuitState::Closed)
                }
                (CircuitState::HalfOpen, Judgement::Failure) => {
                    self.bump_failures();
                    self.open_now()
                }
                _ => None,
            }
        };
        Ok(self.notify(t))
    }

    /// Whether a call that started at `started_ns` and ended at `now_ns` is
    /// slow: strictly longer than the slow-call duration (resilience4j).
    fn is_slow(&self, started_ns: u64, now_ns: u64) -> bool {
        self.config
            .slow_calls
            .is_some_and(|rule| Duration::from_nanos(now_ns.saturating_sub(started_ns)) > rule.duration)
    }

    /// A closed-state call ended: count it, and open if the trip rule says so.
    #[inline(always)]
    pub(super) fn closed_outcome(&self, admitted: Admitted, outcome: Judgement) -> Option<Transition> {
        // The hot path of the consecutive rule: a success resets the count.
        // One flag, three loads, and a store only when failures were counted.
        if self.plain_successes && outcome == Judgement::Success {
            if self.stored() == CircuitState::Closed
                && admitted.epoch == self.reset_epoch.load(Ordering::Relaxed)
                && self.failures.load(Ordering::Relaxed) != 0
            {
                self.failures.store(0, Ordering::Release);
            }
            return None;
        }
        self.counted_outcome(admitted, outcome)
    }

    /// Every closed-state outcome but the consecutive rule's success.
    #[inline(never)]
    fn counted_outcome(&self, admitted: Admitted, outcome: Judgement) -> Option<Transition> {
        // Rule `permit_stale_after_reset`: a call admitted before a reset
        // changes nothing after it.
        if outcome == Judgement::Neither
            || self.stored() != CircuitState::Closed
            || admitted.epoch != self.reset_epoch.load(Ordering::Relaxed)
        {
            return None;
        }
        let started_ns = admitted.started_ns;
        let failure = outcome == Judgement::Failure;
        let consecutive = if failure {
            self.bump_failures()
        } else {
            // Hot path: one load, and a store only when there is something to reset.
            if self.failures.load(Ordering::Relaxed) != 0 {
                self.failures.store(0, Ordering::Release);
            }
            0
        };
        let trips = match (self.config.trip, &self.window) {
            (TripRule::Consecutive { failure_threshold }, _) => failure && consecutive >= failure_threshold,
            (
                TripRule::FailureRate {
                    ratio,
                    minimum_throughput,
                    ..
                },
                Some(window),
            ) => {
                // A count window without the slow-call rule needs no time.
                let now = if self.config.reads_clock_when_closed() {
                    self.clock.now()
                } else {
                    Duration::ZERO
                };
                let slow = self.is_slow(started_ns, super::nanos_of(now));
                window.record(now, Sample { failure, slow }, || self.clock.now());
                if let Some(fleet) = &self.fleet {
                    fleet.count(failure, slow);
                }
                // Only a failure or a slow call can raise a rate: this
                // process's window, or (shared) the fleet's.
                (failure || slow)
                    && (self.rate_trips_with(window.tally(now), ratio, minimum_throughput)
                        || self
                            .fleet
                            .as_ref()
                            .is_some_and(|fleet| self.fleet_rate_trips(fleet, super::nanos_of(now))))
            }
            // A failure-rate rule always has a window.
            (TripRule::FailureRate { .. }, None) => false, // coverage: unreachable — `new` gives every rate rule its window
        };
        if !trips {
            return None;
        }
        let t = {
            let _transition_guard = self.lock();
            if self.stored() == CircuitState::Closed {
                self.open_now()
            } else {
                None
            }
        };
        self.notify(t)
    }

    /// Rule `failure_rate_trip` (and `slow_call`) on a tally: enough calls,
    /// and a failed (or slow) share at or above its ratio. `false` with the
    /// consecutive rule.
    pub(super) fn rate_trips(&self, tally: Tally) -> bool {
        match self.config.trip {
            TripRule::FailureRate {
                ratio,
                minimum_throughput,
                ..
            } => self.rate_trips_with(tally, ratio, minimum_throughput),
            TripRule::Consecutive { .. } => false, // coverage: unreachable — called only for a time window's rule
        }
    }

    fn rate_trips_with(&self, tally: Tally, ratio: f64, minimum_throughput: u32) -> bool {
        let enough = tally.calls >= u64::from(minimum_throughput);
        let share = |n: u64| n as f64 / tally.calls as f64;
        let slow_trips = self
            .config
            .slow_calls
            .is_some_and(|rule| share(tally.slow) >= rule.ratio);
        enough && (share(tally.failures) >= ratio || slow_trips)
    }

    /// Reports how an internally held grant ended.
    pub(super) fn finish_grant(&self, grant: Grant, outcome: Judgement) -> Option<Transition> {
        match grant {
            Grant::Normal(admitted) => self.closed_outcome(admitted, outcome),
            // Internal trial tokens are reported exactly once by their
            // permit, so the ledger cannot refuse them.
            Grant::Trial(token) => self.settle_trial(token, outcome).unwrap_or(None),
        }
    }

    /// Adds one failure (saturating) and returns the new count.
    fn bump_failures(&self) -> u32 {
        let prev = self
            .failures
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_add(1)))
            .unwrap_or_else(|n| n);
        prev.saturating_add(1)
    }
}
