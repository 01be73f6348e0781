//! `RetryExecutor.execute_sync`, bound natively to one executor's settings.
//!
//! The method form used to be a Python method that repacked its arguments
//! and called `retry_call` with eleven parameters to parse: ~5× the
//! overhead of the `@retry` decorator for the same decision (issue 13).
//! The executor now keeps one of these per instance (its bound method
//! `execute_sync`), built from its policy,
//! callbacks, sleep and clock (and rebuilt when one of them is assigned), so
//! `executor.execute_sync(f, ...)` is one native call, exactly as a
//! decorated function is: both hold a `RetrySetup` (`retry_setup.rs`).

use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::checks::require_callable;
use crate::policy::RetryPolicyCore;
use crate::retry_setup::RetrySetup;

/// `execute_sync(func, *args, **kwargs)` of one executor.
#[pyclass(module = "resilience.retry")]
pub(crate) struct RetryRunner {
    setup: RetrySetup,
}

#[pymethods]
impl RetryRunner {
    /// The arguments of `retry_call` but the function's: `sleep=None`
    /// sleeps natively with the GIL released, `time_source=None` reads the
    /// deadline from `time.monotonic`.
    #[new]
    #[pyo3(signature = (policy, retryable=None, on_retry=None, sleep=None, *, on_event=None, time_source=None))]
    fn new(
        policy: &Bound<'_, RetryPolicyCore>,
        retryable: Option<&Bound<'_, PyAny>>,
        on_retry: Option<&Bound<'_, PyAny>>,
        sleep: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
        time_source: Option<&Bound<'_, PyAny>>,
    ) -> Self {
        Self {
            setup: RetrySetup::new(policy, retryable, on_retry, sleep, on_event, time_source),
        }
    }

    /// Runs `func(*args, **kwargs)` with retries; a non-callable `func` is
    /// a `TypeError` at once (never retried). A method, not `__call__`: the
    /// executor keeps this bound method, which Python calls with the fast
    /// (vectorcall) convention: no argument tuple built for the call.
    #[pyo3(signature = (func, *args, **kwargs))]
    fn execute_sync<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        require_callable("func", func)?;
        self.setup.run(func, args, kwargs, "the executor's runner was cleared")
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.setup.traverse(&visit)
    }

    fn __clear__(&mut self) {
        self.setup.clear();
    }
}
