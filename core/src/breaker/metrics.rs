//! A breaker's metrics: a plain copy of its counters, taken without a lock
//! and without allocating.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::window::Tally;
use super::{CircuitBreaker, CircuitState};
use crate::time::Clock;

/// What a breaker has seen (a copy; reading it again gives a newer one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerMetrics {
    /// The state as [`CircuitBreaker::state`] reports it.
    pub state: CircuitState,
    /// Counted failures in a row.
    pub consecutive_failures: u32,
    /// Calls in the failure-rate window (0 without one).
    pub window_calls: u64,
    /// Failed calls in the window.
    pub window_failures: u64,
    /// Slow calls in the window.
    pub window_slow_calls: u64,
    /// `window_failures / window_calls` (0 when the window is empty).
    pub failure_ratio: f64,
    /// `window_slow_calls / window_calls` (0 when the window is empty).
    pub slow_call_ratio: f64,
    /// Calls rejected since the breaker was created.
    pub rejections: u64,
    /// Times it opened since it was created.
    pub openings: u64,
    /// Time since the stored state began (open → half-open by time alone
    /// is not a stored change: that time counts from the opening).
    pub time_in_state: Duration,
    /// The current (or next) break.
    pub break_duration: Duration,
}

impl<C: Clock> CircuitBreaker<C> {
    /// The breaker's metrics now.
    ///
    /// ```
    /// use resilience_core::{BreakerConfig, CircuitBreaker, ManualClock};
    /// let config = BreakerConfig::builder().failure_rate(0.5, 4).count_window(10).build()?;
    /// let breaker = CircuitBreaker::new(config, ManualClock::new());
    /// let _ = breaker.call(|| Err::<(), _>("down"));
    /// let _ = breaker.call(|| Ok::<_, ()>(()));
    /// let m = breaker.metrics();
    /// assert_eq!((m.window_calls, m.window_failures, m.failure_ratio), (2, 1, 0.5));
    /// # Ok::<(), resilience_core::ConfigError>(())
    /// ```
    pub fn metrics(&self) -> BreakerMetrics {
        let now = self.clock.now();
        let tally = self.window.as_ref().map_or(Tally::default(), |w| w.tally(now));
        let share = |n: u64| {
            if tally.calls == 0 {
                0.0
            } else {
                n as f64 / tally.calls as f64
            }
        };
        let entered = Duration::from_nanos(self.entered_at_nanos.load(Ordering::Acquire));
        BreakerMetrics {
            state: self.state(),
            consecutive_failures: self.failure_count(),
            window_calls: tally.calls,
            window_failures: tally.failures,
            window_slow_calls: tally.slow,
            failure_ratio: share(tally.failures),
            slow_call_ratio: share(tally.slow),
            rejections: self.rejections.load(Ordering::Relaxed),
            openings: self.openings.load(Ordering::Relaxed),
            time_in_state: now.saturating_sub(entered),
            break_duration: self.reported_break(),
        }
    }
}
