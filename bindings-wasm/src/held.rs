//! A clock whose reading the glue hands over with each call: the glue reads
//! its clock in JavaScript (a call from wasm back into JavaScript costs more
//! than the reading) and core reads that reading. Shareable across threads
//! as core's `RetryBudget` requires (wasm has one thread; the atomic is the
//! price of the bound, not of any race).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use resilience_core::rules::{self, Unit};
use resilience_core::Clock;

/// The last reading handed over, in nanoseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeldClock(Arc<AtomicU64>);

impl HeldClock {
    /// Holds the reading `ms` (milliseconds, through core's `clock_reading`
    /// rule: NaN and negative readings are 0, huge ones saturate).
    pub(crate) fn set_ms(&self, ms: f64) {
        self.0.store(nanos(reading_ms(ms)), Ordering::Relaxed);
    }
}

impl Clock for HeldClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The largest `i64` a float holds exactly below `i64::MAX` (2^63 - 1024).
const I64_EXACT_MAX: f64 = 9_223_372_036_854_774_784.0;

/// A reading in milliseconds as core's clock reading: whole nanoseconds
/// through `clock_reading_nanos` when an `i64` holds them exactly (cheap on
/// wasm32), else core's millisecond rule (NaN: 0; huge: saturated).
pub(crate) fn reading_ms(ms: f64) -> Duration {
    let ns = (ms * 1e6).round();
    if ns.abs() <= I64_EXACT_MAX {
        rules::clock_reading_nanos(ns as i64)
    } else {
        rules::clock_reading(ms, Unit::Milliseconds)
    }
}
