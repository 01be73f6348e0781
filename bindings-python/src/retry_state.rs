//! `RetryStateCore`: the core's retry state machine, for the `async def`
//! drivers written in Python (the executor's `execute_async`, the
//! middleware, the pipeline), and the helpers the native loop shares with
//! it (asking a result predicate, judging the library's own errors).

use std::time::Duration;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use resilience_core::rules::{self, PredicateOutcome, Unit};
use resilience_core::{GiveUpReason, LibraryError, RetryDecision, RetryState};

use crate::filters::classify;
use crate::policy::RetryPolicyCore;
use crate::timing::library_of;
use crate::value;

/// Asks a result predicate (`retry_on_result`, `failure_on_result`) about
/// `value`: its truth, or `Failed` when it raised an `Exception` (reported
/// to `sys.unraisablehook` with the predicate as the object; what a failed
/// predicate means is core's rule). Anything else it raises propagates.
pub(crate) fn judge_value(predicate: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<PredicateOutcome> {
    judge_answer(predicate, predicate.call1((value,)))
}

/// What a predicate's `answer` (the result of calling it) says: its truth,
/// or `Failed` when it raised an `Exception` (reported to
/// `sys.unraisablehook` with the predicate as the object). Anything else it
/// raised propagates.
pub(crate) fn judge_answer(
    predicate: &Bound<'_, PyAny>,
    answer: PyResult<Bound<'_, PyAny>>,
) -> PyResult<PredicateOutcome> {
    let py = predicate.py();
    match answer.and_then(|answer| answer.is_truthy()) {
        Ok(yes) => Ok(PredicateOutcome::from_bool(yes)),
        Err(failure) if failure.is_instance_of::<PyException>(py) => {
            failure.write_unraisable(py, Some(predicate));
            Ok(PredicateOutcome::Failed)
        }
        Err(interrupt) => Err(interrupt),
    }
}

/// The wait an error of the library asks for: its `retry_after` when core's
/// rule `rejection_hint` makes it a hint for that `kind` (an open breaker's
/// remaining open time, a rate limiter's exact wait; never a throttle's
/// suggestion, never zero).
pub(crate) fn library_hint(error: &Bound<'_, PyAny>, kind: LibraryError) -> Option<Duration> {
    let seconds = error.getattr(pyo3::intern!(error.py(), "retry_after")).ok()?;
    let seconds = value::reading_secs(&seconds).ok()?;
    kind.retry_hint(rules::clock_reading(seconds, Unit::Seconds))
}

/// One retry sequence: after every failed attempt ask `on_error` (an
/// exception), `on_timeout`, `on_result` (a returned value) or
/// `on_failure` (a judged failure); each answers the delay in seconds
/// before the next attempt, or `None` to stop.
#[pyclass(module = "resilience._core")]
pub(crate) struct RetryStateCore {
    policy: Py<RetryPolicyCore>,
    state: RetryState,
    reason: Option<&'static str>,
    failed: u32,
}

impl RetryStateCore {
    pub(crate) fn new(policy: Py<RetryPolicyCore>, state: RetryState) -> Self {
        Self {
            policy,
            state,
            reason: None,
            failed: 0,
        }
    }

    fn decide(&mut self, decision: RetryDecision) -> Option<f64> {
        match decision {
            RetryDecision::Retry { delay, attempt } => {
                self.failed = attempt;
                Some(delay.as_secs_f64())
            }
            RetryDecision::GiveUp { reason, attempts } => {
                self.failed = attempts;
                self.reason = Some(reason_name(reason));
                None
            }
            // A decision this release does not know: stop, surfacing the failure.
            _ => None,
        }
    }
}

pub(crate) fn reason_name(reason: GiveUpReason) -> &'static str {
    reason.as_str()
}

/// A hint in seconds, through rule `duration` (named `retry_after`).
fn hint(retry_after: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    retry_after
        .filter(|h| !h.is_none())
        .map(|h| value::seconds("retry_after", h))
        .transpose()
}

/// A clock reading in seconds (rule `clock_reading`), if given.
fn now_of(now: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    now.filter(|n| !n.is_none())
        .map(|n| Ok(rules::clock_reading(value::reading_secs(n)?, Unit::Seconds)))
        .transpose()
}

#[pymethods]
impl RetryStateCore {
    /// The current attempt failed; `retryable` says whether its failure may
    /// be retried; `retry_after` is a server's hint in seconds; `now` the
    /// clock reading (the deadline applies in real time).
    #[pyo3(signature = (retryable, retry_after=None, now=None))]
    fn on_failure(
        &mut self,
        py: Python<'_>,
        retryable: bool,
        retry_after: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<f64>> {
        let hint = hint(retry_after)?;
        let now = now_of(now)?;
        let policy = self.policy.get();
        policy.refresh_budget(py)?;
        let decision = match now {
            Some(now) => self.state.on_failure_at(&policy.inner, retryable, hint, now),
            None => self.state.on_failure_with_hint(&policy.inner, retryable, hint),
        };
        Ok(self.decide(decision))
    }

    /// The current attempt raised `error`. An error of the library (an
    /// open breaker, a timeout, a full bulkhead, a rate limiter's refusal, a
    /// shed request) is judged by rule `library_errors` when `library` is
    /// true (inside a pipeline), with the hint rule `rejection_hint` gives
    /// it (an open breaker's remaining time, a limiter's exact wait). Otherwise the filter
    /// `retryable_errors` (`None`: every error) is asked only if an attempt
    /// is left (rule `predicate_on_last_attempt`); a filter that raises
    /// means "not retryable" (rule `failing_predicate`; reported to
    /// `sys.unraisablehook`). `retry_after` is a server's hint in seconds.
    #[pyo3(signature = (error, retryable_errors=None, retry_after=None, now=None, library=false))]
    fn on_error(
        &mut self,
        error: &Bound<'_, PyAny>,
        retryable_errors: Option<&Bound<'_, PyAny>>,
        retry_after: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        library: bool,
    ) -> PyResult<Option<f64>> {
        let py = error.py();
        let mut hint = hint(retry_after)?;
        let now = now_of(now)?;
        let policy = self.policy.get();
        policy.refresh_budget(py)?;
        if library {
            if let Some(kind) = library_of(error)? {
                hint = hint.or_else(|| library_hint(error, kind));
                let decision = match now {
                    Some(now) => self.state.on_failure_at(&policy.inner, kind.retryable(), hint, now),
                    None => self.state.on_failure_with_hint(&policy.inner, kind.retryable(), hint),
                };
                return Ok(self.decide(decision));
            }
        }
        let filter = retryable_errors.filter(|f| !f.is_none());
        let mut interrupt = None;
        let classify = || match filter {
            None => PredicateOutcome::Yes,
            Some(filter) => classify(error, filter).unwrap_or_else(|e| {
                interrupt = Some(e);
                PredicateOutcome::Failed
            }),
        };
        let decision = match now {
            Some(now) => self.state.on_failure_classified_at(&policy.inner, classify, hint, now),
            None => self.state.on_failure_classified(&policy.inner, classify, hint),
        };
        if let Some(interrupt) = interrupt {
            return Err(interrupt);
        }
        Ok(self.decide(decision))
    }

    /// The current attempt timed out (rule `attempt_timeout_retryable`).
    #[pyo3(signature = (now=None))]
    fn on_timeout(&mut self, py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
        let now = now_of(now)?;
        let policy = self.policy.get();
        policy.refresh_budget(py)?;
        let decision = self.state.on_timeout(&policy.inner, now);
        Ok(self.decide(decision))
    }

    /// The current attempt returned `value`; `predicate(value)` says whether
    /// it is a failure worth retrying (rule `result_predicate`; a predicate
    /// that raises accepts the value). The delay before the next attempt,
    /// or `None`: return the value — accepted (`reason` is `None`) or the
    /// sequence gave up (`reason` says why).
    #[pyo3(signature = (value, predicate, retry_after=None, now=None))]
    fn on_result(
        &mut self,
        value: &Bound<'_, PyAny>,
        predicate: &Bound<'_, PyAny>,
        retry_after: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<f64>> {
        let py = value.py();
        let hint = hint(retry_after)?;
        let now = now_of(now)?;
        let outcome = judge_value(predicate, value)?;
        let policy = self.policy.get();
        policy.refresh_budget(py)?;
        self.reason = None;
        Ok(match self.state.on_result(&policy.inner, || outcome, hint, now) {
            None => None,
            Some(decision) => self.decide(decision),
        })
    }

    /// The attempt in progress (1-based); after a give-up, the last one.
    #[getter]
    fn attempt(&self) -> u32 {
        self.state.attempt()
    }

    /// The attempt the last decision was about (the one that failed).
    #[getter]
    fn failed_attempt(&self) -> u32 {
        self.failed
    }

    /// Why the sequence gave up: `"exhausted"`, `"not_retryable"`,
    /// `"deadline"`, `"budget"`, or `None`.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    /// The clock reading (seconds) at which the deadline passes, if any.
    #[getter]
    fn deadline(&self) -> Option<f64> {
        self.state.deadline(&self.policy.get().inner).map(|d| d.as_secs_f64())
    }
}
