//! `RetryPolicyCore`: the core's `RetryPolicy` behind the Python `RetryPolicy`.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use resilience_core::{
    clock_reading_from_secs, duration_from_secs, parse_retry_after, BackoffStrategy, ConfigError, Jitter, RetryPolicy,
};

use crate::duration::duration_arg;
use crate::errors::config_error;
use crate::num::attempt_i64;
use crate::retry_state::RetryStateCore;

/// The allowed range of `seed`: the jitter generator takes a `u64`.
const SEED_REQUIREMENT: &str = "an integer in 0..=18446744073709551615 (0..=2**64-1)";

/// `seed` as the generator's `u64`; an int outside its range is a
/// `ValueError` naming `seed` (not a bare `OverflowError`).
fn seed_u64(seed: &Bound<'_, PyAny>) -> PyResult<u64> {
    match seed.extract::<u64>() {
        Ok(seed) => Ok(seed),
        Err(err) if err.is_instance_of::<PyOverflowError>(seed.py()) => {
            Err(config_error(&ConfigError::new("seed", SEED_REQUIREMENT, seed)))
        }
        Err(err) => Err(err),
    }
}

/// A validated retry policy. The Python `RetryPolicy` keeps the user's
/// values for `repr`/equality and asks this object for every decision.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct RetryPolicyCore {
    pub(crate) inner: RetryPolicy,
}

#[pymethods]
impl RetryPolicyCore {
    #[new]
    #[pyo3(signature = (max_attempts, backoff, base_delay, max_delay, jitter, retryable_status_codes=None, seed=None))]
    fn new(
        max_attempts: &Bound<'_, PyAny>,
        backoff: &str,
        base_delay: &Bound<'_, PyAny>,
        max_delay: &Bound<'_, PyAny>,
        jitter: &str,
        retryable_status_codes: Option<Vec<i64>>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // Checked in the original's order: max_attempts, base_delay, max_delay.
        let attempts = attempt_i64(max_attempts)?;
        let attempts = u32::try_from(attempts).unwrap_or(if attempts < 1 { 0 } else { u32::MAX });
        if attempts < 1 {
            return Err(config_error(&ConfigError::new("max_attempts", ">= 1", attempts)));
        }
        let base = duration_arg("base_delay", base_delay)?;
        let max = duration_arg("max_delay", max_delay)?;
        let backoff: BackoffStrategy = backoff.parse().map_err(|e| config_error(&e))?;
        let jitter: Jitter = jitter.parse().map_err(|e| config_error(&e))?;
        let seed = seed.filter(|s| !s.is_none()).map(seed_u64).transpose()?;
        let mut builder = RetryPolicy::builder()
            .max_attempts(attempts)
            .backoff(backoff)
            .base_delay(base)
            .max_delay(max)
            .jitter(jitter)
            .maybe_seed(seed);
        if let Some(codes) = retryable_status_codes {
            // A status outside 0..=65535 can never match a response, so it is dropped.
            builder = builder.retryable_status_codes(codes.into_iter().filter_map(|c| u16::try_from(c).ok()));
        }
        let inner = builder.build().map_err(|e| config_error(&e))?;
        Ok(Self { inner })
    }

    /// The jittered delay in seconds after failed attempt `attempt`.
    fn calculate_delay(&self, attempt: &Bound<'_, PyAny>) -> PyResult<f64> {
        Ok(self.inner.calculate_delay(attempt_i64(attempt)?).as_secs_f64())
    }

    /// The delay in seconds after failed attempt `attempt`, without jitter.
    fn raw_delay(&self, attempt: &Bound<'_, PyAny>) -> PyResult<f64> {
        Ok(self.inner.raw_delay(attempt_i64(attempt)?).as_secs_f64())
    }

    /// Whether to retry after failed attempt `attempt` with an error that
    /// is (`retryable`) or is not accepted by the filter.
    fn should_retry(&self, attempt: &Bound<'_, PyAny>, retryable: bool) -> PyResult<bool> {
        Ok(self.inner.should_retry(attempt_i64(attempt)?, retryable))
    }

    /// Whether to retry a response with `status` after attempt `attempt`.
    fn should_retry_status(&self, status: &Bound<'_, PyAny>, attempt: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self
            .inner
            .should_retry_status(attempt_i64(status)?, attempt_i64(attempt)?))
    }

    /// A server's `Retry-After` hint in seconds, capped at `max_delay`.
    fn cap_retry_after(&self, seconds: f64) -> PyResult<f64> {
        let hint = duration_from_secs("retry_after", seconds).map_err(|e| config_error(&e))?;
        Ok(self.inner.cap_retry_after(hint).as_secs_f64())
    }

    /// The wait in seconds a `Retry-After` header value asks for, capped at
    /// `max_delay`, given the wall clock as seconds since the UNIX epoch;
    /// `None` when the value is neither delta-seconds nor an HTTP-date.
    fn retry_after_hint(&self, header: &str, now_unix: f64) -> Option<f64> {
        parse_retry_after(header, clock_reading_from_secs(now_unix))
            .map(|hint| self.inner.cap_retry_after(hint).as_secs_f64())
    }

    /// A fresh retry sequence over this policy.
    fn start(slf: Py<Self>) -> RetryStateCore {
        RetryStateCore::new(slf)
    }

    /// Total attempts allowed.
    #[getter]
    fn max_attempts(&self) -> u32 {
        self.inner.max_attempts()
    }
}
