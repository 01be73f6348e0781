//! Logging through the stdlib logger `"resilience"`.
//!
//! Nothing is formatted unless the logger is enabled for the level and a
//! handler other than a `NullHandler` would receive the record (the package
//! installs one `NullHandler`, so with logging unconfigured the records
//! would be built only to be dropped). Both checks run only on failure paths.
//! The messages themselves are built by `resilience._logging`, so the sync
//! (native) and async (Python) paths log exactly the same records.

use pyo3::call::PyCallArgs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use pyo3::{intern, Py};

pub(crate) const DEBUG: i32 = 10;
pub(crate) const INFO: i32 = 20;
pub(crate) const WARNING: i32 = 30;
pub(crate) const ERROR: i32 = 40;

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static HELPERS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static NULL_HANDLER: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Whether a record of `logger` would reach a handler that does something:
/// `Logger.callHandlers`' walk, ignoring `NullHandler`s.
fn has_listener(logger: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = logger.py();
    let null = NULL_HANDLER.import(py, "logging", "NullHandler")?;
    let mut current = logger.clone();
    loop {
        for handler in current.getattr(intern!(py, "handlers"))?.try_iter()? {
            if !handler?.get_type().is(null) {
                return Ok(true);
            }
        }
        if !current.getattr(intern!(py, "propagate"))?.is_truthy()? {
            return Ok(false);
        }
        let parent = current.getattr(intern!(py, "parent"))?;
        if parent.is_none() {
            return Ok(false);
        }
        current = parent;
    }
}

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
    let logger = logger(py)?;
    let enabled = logger
        .call_method1(intern!(py, "isEnabledFor"), (level,))?
        .is_truthy()?;
    if !enabled || !has_listener(logger)? {
        return Ok(());
    }
    let helpers = HELPERS
        .get_or_try_init(py, || py.import("resilience._logging").map(Bound::unbind))?
        .bind(py);
    helpers.getattr(helper)?.call1(args)?;
    Ok(())
}
