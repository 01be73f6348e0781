//! Logging through the stdlib logger `"resilience"`.
//!
//! Nothing is formatted unless the logger is enabled for the level: the
//! check is one cached `isEnabledFor` call, made only on failure paths.
//! The messages themselves are built by `resilience._logging`, so the sync
//! (native) and async (Python) paths log exactly the same records.

use pyo3::call::PyCallArgs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::{intern, Py};

pub(crate) const DEBUG: i32 = 10;
pub(crate) const INFO: i32 = 20;
pub(crate) const WARNING: i32 = 30;
pub(crate) const ERROR: i32 = 40;

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static HELPERS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    LOGGER
        .get_or_try_init(py, || {
            py.import("logging")?
                .call_method1("getLogger", ("resilience",))
                .map(Bound::unbind)
        })
        .map(|l| l.bind(py))
}

/// Calls `resilience._logging.<helper>(*args)` if `level` is enabled.
pub(crate) fn emit<'py>(py: Python<'py>, level: i32, helper: &str, args: impl PyCallArgs<'py>) -> PyResult<()> {
    let enabled = logger(py)?
        .call_method1(intern!(py, "isEnabledFor"), (level,))?
        .is_truthy()?;
    if !enabled {
        return Ok(());
    }
    let helpers = HELPERS
        .get_or_try_init(py, || py.import("resilience._logging").map(Bound::unbind))?
        .bind(py);
    helpers.getattr(helper)?.call1(args)?;
    Ok(())
}
