//! Running a call through the breaker: admit, run, report.

use std::future::Future;

use super::outcome::Outcome;
use super::permit::{Grant, Permit};
use super::{BreakerError, CircuitBreaker};
use crate::time::Clock;

impl<C: Clock> CircuitBreaker<C> {
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
        if let Grant::Normal { started_ns } = grant {
            // Closed state: a normal grant needs no clean-up, so no guard.
            let result = op();
            let outcome = Self::outcome_of(&result, is_failure);
            self.closed_outcome(started_ns, outcome);
            return result.map_err(BreakerError::Inner);
        }
        // A trial slot must be freed even if `op` or `is_failure` panics:
        // the permit's drop does that.
        Self::settle(Permit::new(self, grant), op(), is_failure)
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
        if let Grant::Normal { started_ns } = grant {
            let result = op().await;
            let outcome = Self::outcome_of(&result, is_failure);
            self.closed_outcome(started_ns, outcome);
            return result.map_err(BreakerError::Inner);
        }
        // Dropping this future mid-call must free the trial slot: the
        // permit's drop does that.
        let permit = Permit::new(self, grant);
        Self::settle(permit, op().await, is_failure)
    }

    fn outcome_of<T, E>(result: &Result<T, E>, is_failure: impl FnOnce(&E) -> bool) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(e) if is_failure(e) => Outcome::Failure,
            Err(_) => Outcome::Neither,
        }
    }

    /// Reports how a permitted call ended and passes its result on.
    fn settle<T, E>(
        permit: Permit<'_, C>,
        result: Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>> {
        match Self::outcome_of(&result, is_failure) {
            Outcome::Success => drop(permit.success()),
            Outcome::Failure => drop(permit.failure()),
            Outcome::Neither => permit.release(),
        }
        result.map_err(BreakerError::Inner)
    }
}
