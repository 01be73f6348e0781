//! Fallback chains: the core's `FallbackState` decides which function runs
//! next and whose error surfaces; the sync chain runs natively.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySequence, PyTuple};
use resilience_core::{FallbackState, FallbackStep};

use crate::checks::require_callable;
use crate::filters::classify;
use crate::logs::{self, DEBUG, ERROR, INFO, WARNING};

fn step_index(step: FallbackStep) -> Option<usize> {
    match step {
        FallbackStep::CallFallback(i) => Some(i),
        _ => None,
    }
}

/// The fallback decision for the `async def` driver: `on_primary_error`
/// and `on_fallback_error` answer the index of the fallback to call next,
/// or `None` to raise the error just received.
#[pyclass(module = "resilience._core")]
pub(crate) struct FallbackStateCore {
    state: FallbackState,
}

#[pymethods]
impl FallbackStateCore {
    #[new]
    fn new(fallbacks: usize) -> Self {
        Self {
            state: FallbackState::new(fallbacks),
        }
    }

    fn on_primary_error(&mut self, expected: bool) -> Option<usize> {
        step_index(self.state.on_primary_error(expected))
    }

    fn on_fallback_error(&mut self) -> Option<usize> {
        step_index(self.state.on_fallback_error())
    }
}

/// Runs `primary(*args, **kwargs)`, then the fallbacks in order: the engine
/// of `FallbackChain.execute`. Only `Exception`s trigger fallbacks;
/// `KeyboardInterrupt` and friends always propagate. A non-callable
/// `primary` is a `TypeError` at once (no fallback runs for it).
/// `fallbacks` is any sequence (a list, as documented, or a tuple, which
/// the original's loop took as well).
#[pyfunction]
#[pyo3(signature = (primary, fallbacks, expected, args, kwargs=None))]
pub(crate) fn fallback_call<'py>(
    primary: &Bound<'py, PyAny>,
    fallbacks: &Bound<'py, PySequence>,
    expected: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    require_callable("primary_func", primary)?;
    let py = primary.py();
    let mut error = match primary.call(args, kwargs) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    if !error.is_instance_of::<PyException>(py) {
        return Err(error);
    }
    // Rule `failing_predicate`: a filter that raises means "not expected".
    let is_expected = classify(error.value(py), expected)?.falls_back();
    let count = fallbacks.len()?;
    let mut state = FallbackState::new(count);
    let mut step = state.on_primary_error(is_expected);
    if is_expected {
        logs::emit(
            py,
            WARNING,
            "fallback_primary_failed",
            (primary, error.value(py), count),
        )?;
    } else {
        logs::emit(py, DEBUG, "fallback_unexpected", (error.value(py), expected))?;
        return Err(error);
    }
    while let FallbackStep::CallFallback(index) = step {
        let fallback = fallbacks.get_item(index)?;
        match fallback.call(args, kwargs) {
            Ok(value) => {
                logs::emit(py, INFO, "fallback_succeeded", (index, &fallback))?;
                return Ok(value);
            }
            Err(e) if e.is_instance_of::<PyException>(py) => {
                logs::emit(py, WARNING, "fallback_failed", (index, &fallback, e.value(py)))?;
                error = e;
            }
            Err(e) => return Err(e),
        }
        step = state.on_fallback_error();
    }
    logs::emit(py, ERROR, "fallback_exhausted", (primary, count))?;
    Err(error)
}
