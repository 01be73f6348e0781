//! `RetryStateCore`: the core's retry state machine, for the `async def`
//! drivers written in Python (the executor's `execute_async`, the middleware).

use pyo3::prelude::*;
use resilience_core::{duration_from_secs, RetryDecision, RetryState};

use crate::errors::config_error;
use crate::policy::RetryPolicyCore;

/// One retry sequence: ask [`RetryStateCore::on_failure`] after every failed
/// attempt; it answers the delay in seconds, or `None` to give up.
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
}

#[pymethods]
impl RetryStateCore {
    /// The current attempt failed; `retryable` says whether its error passes
    /// the filter; `retry_after` is a server's hint in seconds. Returns the
    /// delay in seconds before the next attempt, or `None` to give up.
    #[pyo3(signature = (retryable, retry_after=None))]
    fn on_failure(&mut self, retryable: bool, retry_after: Option<f64>) -> PyResult<Option<f64>> {
        let hint = retry_after
            .map(|s| duration_from_secs("retry_after", s))
            .transpose()
            .map_err(|e| config_error(&e))?;
        let policy = &self.policy.get().inner;
        match self.state.on_failure_with_hint(policy, retryable, hint) {
            RetryDecision::Retry { delay, .. } => Ok(Some(delay.as_secs_f64())),
            RetryDecision::GiveUp { reason, .. } => {
                self.reason = Some(reason.as_str());
                Ok(None)
            }
        }
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
