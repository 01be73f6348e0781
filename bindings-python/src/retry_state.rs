//! `RetryStateCore`: the core's retry state machine, for the `async def`
//! drivers written in Python (the executor's `execute_async`, the middleware).

use pyo3::prelude::*;
use resilience_core::rules::PredicateOutcome;
use resilience_core::{RetryDecision, RetryState};

use crate::filters::classify;
use crate::policy::RetryPolicyCore;
use crate::value;

/// One retry sequence: after every failed attempt ask
/// [`RetryStateCore::on_error`] (an exception) or
/// [`RetryStateCore::on_failure`] (a judged result); each answers the delay
/// in seconds before the next attempt, or `None` to give up.
#[pyclass(module = "resilience._core")]
pub(crate) struct RetryStateCore {
    policy: Py<RetryPolicyCore>,
    state: RetryState,
    reason: Option<&'static str>,
}

impl RetryStateCore {
    pub(crate) fn new(policy: Py<RetryPolicyCore>) -> Self {
        Self {
            policy,
            state: RetryState::new(),
            reason: None,
        }
    }

    fn decide(&mut self, decision: RetryDecision) -> Option<f64> {
        match decision {
            RetryDecision::Retry { delay, .. } => Some(delay.as_secs_f64()),
            RetryDecision::GiveUp { reason, .. } => {
                self.reason = Some(reason.as_str());
                None
            }
            // A decision this release does not know: stop, surfacing the failure.
            _ => None,
        }
    }
}

/// A hint in seconds, through rule `duration` (named `retry_after`).
fn hint(retry_after: Option<&Bound<'_, PyAny>>) -> PyResult<Option<std::time::Duration>> {
    retry_after
        .filter(|h| !h.is_none())
        .map(|h| value::seconds("retry_after", h))
        .transpose()
}

#[pymethods]
impl RetryStateCore {
    /// The current attempt failed; `retryable` says whether its failure may
    /// be retried; `retry_after` is a server's hint in seconds.
    #[pyo3(signature = (retryable, retry_after=None))]
    fn on_failure(&mut self, retryable: bool, retry_after: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
        let hint = hint(retry_after)?;
        let decision = self
            .state
            .on_failure_with_hint(&self.policy.get().inner, retryable, hint);
        Ok(self.decide(decision))
    }

    /// The current attempt raised `error`. The filter `retryable_errors`
    /// (`None`: every error) is asked only if an attempt is left (rule
    /// `predicate_on_last_attempt`); a filter that raises means "not
    /// retryable" (rule `failing_predicate`; reported to
    /// `sys.unraisablehook`). `retry_after` is a server's hint in seconds.
    #[pyo3(signature = (error, retryable_errors=None, retry_after=None))]
    fn on_error(
        &mut self,
        error: &Bound<'_, PyAny>,
        retryable_errors: Option<&Bound<'_, PyAny>>,
        retry_after: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<f64>> {
        let hint = hint(retry_after)?;
        let filter = retryable_errors.filter(|f| !f.is_none());
        let mut interrupt = None;
        let decision = self.state.on_failure_classified(
            &self.policy.get().inner,
            || match filter {
                None => PredicateOutcome::Yes,
                Some(filter) => classify(error, filter).unwrap_or_else(|e| {
                    interrupt = Some(e);
                    PredicateOutcome::Failed
                }),
            },
            hint,
        );
        if let Some(interrupt) = interrupt {
            return Err(interrupt);
        }
        Ok(self.decide(decision))
    }

    /// The attempt in progress (1-based); after a give-up, the last one.
    #[getter]
    fn attempt(&self) -> u32 {
        self.state.attempt()
    }

    /// Why the sequence gave up: `"exhausted"`, `"not_retryable"`, or `None`.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.reason
    }
}
