//! Running a call through the breaker: admit, run, judge, report. Errors
//! count when a filter says so; a *returned value* may count as a failure
//! too (an HTTP 503 is a failure of the dependency even though the call
//! returned) and is still returned.

use std::future::Future;

use super::outcome::Judgement;
use super::permit::{Grant, Permit};
use super::{BreakerError, CircuitBreaker, Rejected, Transition};
use crate::time::Clock;

/// Rule `breaker_result`: a returned value the predicate calls a failure
/// counts as one, and is still returned; an error counts when the filter
/// says so, else it is neither.
fn judge<T, E>(
    result: &Result<T, E>,
    is_failure: impl FnOnce(&E) -> bool,
    is_failure_result: impl FnOnce(&T) -> bool,
) -> Judgement {
    match result {
        Ok(value) if is_failure_result(value) => Judgement::Failure,
        Ok(_) => Judgement::Success,
        Err(error) if is_failure(error) => Judgement::Failure,
        Err(_) => Judgement::Neither,
    }
}

impl<C: Clock> CircuitBreaker<C> {
    /// Runs `op` through the breaker, counting every error as a failure.
    ///
    /// # Errors
    /// [`BreakerError::Open`] when rejected, else the operation's error.
    pub fn call<T, E>(&self, op: impl FnOnce() -> Result<T, E>) -> Result<T, BreakerError<E>> {
        self.call_classified(op, |_| true, |_| false)
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
        self.call_classified(op, is_failure, |_| false)
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
        self.call_async_classified(op, is_failure, |_| false).await
    }

    /// Runs `op` through the breaker; an error counts when `is_failure`
    /// says so, and a *returned value* counts as a failure when
    /// `is_failure_result` says so — the value is still returned.
    ///
    /// ```
    /// use resilience_core::{BreakerConfig, CircuitBreaker, CircuitState, ManualClock};
    /// let config = BreakerConfig::builder().failure_threshold(2).build()?;
    /// let breaker = CircuitBreaker::new(config, ManualClock::new());
    /// for _ in 0..2 {
    ///     let status = breaker.call_classified(|| Ok::<u16, ()>(503), |_| true, |s| *s >= 500);
    ///     assert_eq!(status, Ok(503));
    /// }
    /// assert_eq!(breaker.state(), CircuitState::Open);
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`BreakerError::Open`] when rejected, else the operation's error.
    pub fn call_classified<T, E>(
        &self,
        op: impl FnOnce() -> Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
        is_failure_result: impl FnOnce(&T) -> bool,
    ) -> Result<T, BreakerError<E>> {
        self.call_judged(op, |r| judge(r, is_failure, is_failure_result), |_| {})
            .map_err(BreakerError::Open)?
            .map_err(BreakerError::Inner)
    }

    /// The async twin of [`call_classified`](Self::call_classified). If
    /// the future is dropped mid-call, its permit is released as "neither".
    ///
    /// # Errors
    /// [`BreakerError::Open`] when rejected, else the operation's error.
    pub async fn call_async_classified<T, E, Fut>(
        &self,
        op: impl FnOnce() -> Fut,
        is_failure: impl FnOnce(&E) -> bool,
        is_failure_result: impl FnOnce(&T) -> bool,
    ) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_judged_async(op, |r| judge(r, is_failure, is_failure_result), |_| {})
            .await
            .map_err(BreakerError::Open)?
            .map_err(BreakerError::Inner)
    }

    /// Runs `op` if admitted, counts it as `judge` says, and tells
    /// `on_transition` each transition this call caused (open → half-open
    /// on admission, then the one its outcome caused).
    pub(crate) fn call_judged<T, E>(
        &self,
        op: impl FnOnce() -> Result<T, E>,
        judge: impl FnOnce(&Result<T, E>) -> Judgement,
        mut on_transition: impl FnMut(Transition),
    ) -> Result<Result<T, E>, Rejected> {
        let grant = self.acquire_grant()?;
        if let Grant::Normal(admitted) = grant {
            // Closed state: a normal grant needs no clean-up, so no guard.
            let result = op();
            if let Some(t) = self.closed_outcome(admitted, judge(&result)) {
                on_transition(t);
            }
            return Ok(result);
        }
        // The permit frees the trial slot even if `op` or `judge` panics.
        let permit = Permit::new(self, grant);
        if let Some(t) = permit.transition() {
            on_transition(t);
        }
        let result = op();
        if let Some(t) = permit.finish_as(judge(&result)) {
            on_transition(t);
        }
        Ok(result)
    }

    /// The async twin of [`call_judged`](Self::call_judged); a future
    /// dropped mid-call releases its trial slot as "neither".
    pub(crate) async fn call_judged_async<T, E, Fut>(
        &self,
        op: impl FnOnce() -> Fut,
        judge: impl FnOnce(&Result<T, E>) -> Judgement,
        mut on_transition: impl FnMut(Transition),
    ) -> Result<Result<T, E>, Rejected>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let grant = self.acquire_grant()?;
        if let Grant::Normal(admitted) = grant {
            let result = op().await;
            if let Some(t) = self.closed_outcome(admitted, judge(&result)) {
                on_transition(t);
            }
            return Ok(result);
        }
        let permit = Permit::new(self, grant);
        if let Some(t) = permit.transition() {
            on_transition(t);
        }
        let result = op().await;
        if let Some(t) = permit.finish_as(judge(&result)) {
            on_transition(t);
        }
        Ok(result)
    }
}
