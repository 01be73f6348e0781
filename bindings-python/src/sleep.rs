//! The default blocking sleep: the GIL is released, and Ctrl-C still works.

use std::time::Duration;

use pyo3::prelude::*;

/// Longest stretch slept without looking for signals: a `KeyboardInterrupt`
/// during a 60 s backoff must not wait 60 s (as `time.sleep` would not).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Sleeps `delay` with the GIL released, in slices, running Python's signal
/// handlers between slices (so `KeyboardInterrupt` surfaces promptly).
pub(crate) fn sleep_released(py: Python<'_>, delay: Duration) -> PyResult<()> {
    let mut left = delay;
    while !left.is_zero() {
        let slice = left.min(SIGNAL_CHECK_INTERVAL);
        py.detach(|| std::thread::sleep(slice));
        left = left.saturating_sub(slice);
        py.check_signals()?;
    }
    Ok(())
}
