//! Breaker configuration and its validation: the trip rule (consecutive
//! failures, or a failure rate over a time or count window), the optional
//! slow-call rule, the break duration and its backoff.

use std::time::Duration;

use crate::backoff::BackoffStrategy;
use crate::error::ConfigError;
use crate::rules;
use crate::value::Value;

/// Default failure threshold (the original's).
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;
/// Default recovery timeout: 30 s (the original's class default).
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of concurrent half-open trials.
pub const DEFAULT_HALF_OPEN_MAX_CALLS: u32 = 1;
/// Default sampling duration of a failure-rate time window: 30 s (Polly's).
pub const DEFAULT_SAMPLING_DURATION: Duration = Duration::from_secs(30);
/// Default number of buckets a time window is split into.
pub const DEFAULT_SAMPLING_BUCKETS: u32 = 10;
/// Default minimum number of calls in the window before the rate can trip
/// (Polly's and resilience4j's 100).
pub const DEFAULT_MINIMUM_THROUGHPUT: u32 = 100;
/// The most buckets a time window may have (each is a few atomic words).
pub const MAX_SAMPLING_BUCKETS: u32 = 1_000;
/// The longest count window (each call is one atomic byte).
pub const MAX_WINDOW_SIZE: u32 = 1_000_000;

/// Which calls a failure rate is measured over.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// The calls of the last `sampling_duration`, counted in `buckets`
    /// equal buckets (Polly's advanced breaker, cockatiel's SamplingBreaker).
    Time {
        /// How far back the window reaches.
        sampling_duration: Duration,
        /// How many buckets it is split into (expiry is per bucket).
        buckets: u32,
    },
    /// The last `size` calls (resilience4j's count-based window).
    Count {
        /// How many calls.
        size: u32,
    },
}

/// When the breaker opens.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TripRule {
    /// After `failure_threshold` counted failures in a row (the original's).
    Consecutive {
        /// Failures in a row that open the breaker.
        failure_threshold: u32,
    },
    /// When at least `minimum_throughput` calls are in the window and the
    /// failed share of them reaches `ratio`.
    FailureRate {
        /// The failed share that trips, in (0, 1].
        ratio: f64,
        /// Calls the window needs before it can trip.
        minimum_throughput: u32,
        /// Which calls count.
        window: Window,
    },
}

/// Slow calls also trip the breaker (resilience4j): a call that takes longer
/// than `duration` is slow; the breaker opens when the slow share of the
/// window (with at least `minimum_throughput` calls) reaches `ratio`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowCallRule {
    /// A call taking longer than this is slow.
    pub duration: Duration,
    /// The slow share that trips, in (0, 1].
    pub ratio: f64,
}

/// How the open period grows over consecutive openings (cockatiel's
/// `halfOpenAfter` backoff, Polly's break-duration generator): opening n
/// (1-based, counted since the breaker last closed) lasts `strategy` applied
/// to `recovery_timeout` for attempt n, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakBackoff {
    /// How the break grows.
    pub strategy: BackoffStrategy,
    /// The longest break.
    pub max: Duration,
}

/// A validated breaker configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    pub(super) trip: TripRule,
    pub(super) recovery_timeout: Duration,
    pub(super) half_open_max_calls: u32,
    pub(super) slow_calls: Option<SlowCallRule>,
    pub(super) break_backoff: Option<BreakBackoff>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            trip: TripRule::Consecutive {
                failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            },
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
            half_open_max_calls: DEFAULT_HALF_OPEN_MAX_CALLS,
            slow_calls: None,
            break_backoff: None,
        }
    }
}

impl BreakerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder {
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            failure_rate: None,
            window: None,
            recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
            half_open_max_calls: DEFAULT_HALF_OPEN_MAX_CALLS,
            slow_calls: None,
            break_backoff: None,
        }
    }
    /// Consecutive counted failures that open the breaker (the consecutive
    /// rule's threshold; with a failure-rate rule, the default 5).
    pub fn failure_threshold(&self) -> u32 {
        match self.trip {
            TripRule::Consecutive { failure_threshold } => failure_threshold,
            TripRule::FailureRate { .. } => DEFAULT_FAILURE_THRESHOLD,
        }
    }
    /// When the breaker opens.
    pub fn trip_rule(&self) -> TripRule {
        self.trip
    }
    /// How long the breaker stays open before admitting a trial (the first
    /// break, when a break backoff is set).
    pub fn recovery_timeout(&self) -> Duration {
        self.recovery_timeout
    }
    /// Concurrent trials admitted while half-open.
    pub fn half_open_max_calls(&self) -> u32 {
        self.half_open_max_calls
    }
    /// The slow-call rule, if any.
    pub fn slow_calls(&self) -> Option<SlowCallRule> {
        self.slow_calls
    }
    /// The break backoff, if any.
    pub fn break_backoff(&self) -> Option<BreakBackoff> {
        self.break_backoff
    }
    /// The window of the failure-rate rule, if any.
    pub fn window(&self) -> Option<Window> {
        match self.trip {
            TripRule::FailureRate { window, .. } => Some(window),
            TripRule::Consecutive { .. } => None,
        }
    }
    /// Whether admitting a closed-state call reads the clock (the slow-call
    /// rule times each call from its admission).
    pub fn reads_clock_on_admission(&self) -> bool {
        self.slow_calls.is_some()
    }

    /// Whether recording a closed-state outcome reads the clock (a time
    /// window or the slow-call rule). Bindings whose clock is read on
    /// demand (Python, JavaScript) read it before recording every outcome
    /// when this is true (and before admitting when
    /// [`reads_clock_on_admission`](Self::reads_clock_on_admission) is);
    /// otherwise only when the breaker is not closed.
    pub fn reads_clock_when_closed(&self) -> bool {
        self.slow_calls.is_some() || matches!(self.window(), Some(Window::Time { .. }))
    }
    /// The length of the open period after opening number `opening`
    /// (1-based, counted since the breaker last closed).
    pub fn break_duration(&self, opening: u32) -> Duration {
        match self.break_backoff {
            None => self.recovery_timeout,
            Some(b) => crate::backoff::raw_delay(b.strategy, self.recovery_timeout, b.max, i64::from(opening.max(1))),
        }
    }
}

/// Builds a [`BreakerConfig`]; [`build`](BreakerConfigBuilder::build) validates.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{BackoffStrategy, BreakerConfig};
/// let config = BreakerConfig::builder()
///     .failure_rate(0.5, 20)
///     .time_window(Duration::from_secs(10), 10)
///     .slow_calls(Duration::from_secs(2), 0.8)
///     .break_backoff(BackoffStrategy::Exponential, Duration::from_secs(300))
///     .build()?;
/// assert_eq!(config.break_duration(3), Duration::from_secs(120)); // 30 s × 2²
/// # Ok::<(), resilience_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BreakerConfigBuilder {
    failure_threshold: u32,
    failure_rate: Option<(f64, u32)>,
    window: Option<Window>,
    recovery_timeout: Duration,
    half_open_max_calls: u32,
    slow_calls: Option<SlowCallRule>,
    break_backoff: Option<BreakBackoff>,
}

impl BreakerConfigBuilder {
    /// The consecutive rule's threshold; must be >= 1.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n;
        self
    }
    /// Trip on a failure rate instead: `ratio` in (0, 1] of at least
    /// `minimum_throughput` (>= 1) calls in the window (default: a 30 s time
    /// window in 10 buckets).
    pub fn failure_rate(mut self, ratio: f64, minimum_throughput: u32) -> Self {
        self.failure_rate = Some((ratio, minimum_throughput));
        self
    }
    /// Measure the failure rate over the last `sampling_duration`, in
    /// `buckets` buckets (1..=1000).
    pub fn time_window(mut self, sampling_duration: Duration, buckets: u32) -> Self {
        self.window = Some(Window::Time {
            sampling_duration,
            buckets,
        });
        self
    }
    /// Measure the failure rate over the last `size` calls (1..=1_000_000).
    pub fn count_window(mut self, size: u32) -> Self {
        self.window = Some(Window::Count { size });
        self
    }
    /// At most [`rules::MAX_DURATION`].
    pub fn recovery_timeout(mut self, d: Duration) -> Self {
        self.recovery_timeout = d;
        self
    }
    /// Must be >= 1.
    pub fn half_open_max_calls(mut self, n: u32) -> Self {
        self.half_open_max_calls = n;
        self
    }
    /// Calls longer than `duration` are slow; a slow share of `ratio` in
    /// (0, 1] trips. Needs a failure-rate rule (it shares its window).
    pub fn slow_calls(mut self, duration: Duration, ratio: f64) -> Self {
        self.slow_calls = Some(SlowCallRule { duration, ratio });
        self
    }
    /// Grow the break over consecutive openings, up to `max` (>= the
    /// recovery timeout).
    pub fn break_backoff(mut self, strategy: BackoffStrategy, max: Duration) -> Self {
        self.break_backoff = Some(BreakBackoff { strategy, max });
        self
    }

    /// Validates.
    ///
    /// # Errors
    /// [`ConfigError`] for a value outside its range: counts below 1, a
    /// ratio outside (0, 1], a duration beyond [`rules::MAX_DURATION`], a
    /// window without a failure rate, a slow-call rule without one, a
    /// backoff cap below the recovery timeout.
    pub fn build(self) -> Result<BreakerConfig, ConfigError> {
        let recovery_timeout = rules::bounded_duration("recovery_timeout", self.recovery_timeout)?;
        let trip = match self.failure_rate {
            None => {
                if self.window.is_some() {
                    return Err(rules::requires("window", "failure_ratio"));
                }
                TripRule::Consecutive {
                    failure_threshold: rules::count_of("failure_threshold", Value::from(self.failure_threshold))?,
                }
            }
            Some((ratio, minimum_throughput)) => TripRule::FailureRate {
                ratio: rules::ratio("failure_ratio", Value::Float(ratio))?,
                minimum_throughput: rules::count_of("minimum_throughput", Value::from(minimum_throughput))?,
                window: validate_window(self.window.unwrap_or(Window::Time {
                    sampling_duration: DEFAULT_SAMPLING_DURATION,
                    buckets: DEFAULT_SAMPLING_BUCKETS,
                }))?,
            },
        };
        let slow_calls = match self.slow_calls {
            None => None,
            Some(_) if self.failure_rate.is_none() => {
                return Err(rules::requires("slow_call_duration", "failure_ratio").of_duration())
            }
            Some(rule) => Some(SlowCallRule {
                duration: rules::bounded_duration("slow_call_duration", rule.duration)?,
                ratio: rules::ratio("slow_call_ratio", Value::Float(rule.ratio))?,
            }),
        };
        let break_backoff = match self.break_backoff {
            None => None,
            Some(b) => Some(BreakBackoff {
                strategy: b.strategy,
                max: rules::at_least_duration(
                    "max_recovery_timeout",
                    rules::bounded_duration("max_recovery_timeout", b.max)?,
                    "recovery_timeout",
                    recovery_timeout,
                )?,
            }),
        };
        Ok(BreakerConfig {
            trip,
            recovery_timeout,
            half_open_max_calls: rules::count_of("half_open_max_calls", Value::from(self.half_open_max_calls))?,
            slow_calls,
            break_backoff,
        })
    }
}

fn validate_window(window: Window) -> Result<Window, ConfigError> {
    Ok(match window {
        Window::Time {
            sampling_duration,
            buckets,
        } => {
            let buckets = rules::count_of("sampling_buckets", Value::from(buckets))?;
            // Each bucket spans at least a nanosecond.
            let sampling_duration = rules::duration_at_least(
                "sampling_duration",
                Value::Duration(sampling_duration),
                Duration::from_nanos(u64::from(buckets)),
            )?;
            Window::Time {
                sampling_duration,
                buckets,
            }
        }
        Window::Count { size } => Window::Count {
            size: rules::count_of("window_size", Value::from(size))?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigErrorKind;

    #[test]
    fn a_failure_rate_defaults_to_a_time_window() {
        let config = BreakerConfig::builder().failure_rate(0.5, 10).build().unwrap();
        assert_eq!(
            config.window(),
            Some(Window::Time {
                sampling_duration: DEFAULT_SAMPLING_DURATION,
                buckets: DEFAULT_SAMPLING_BUCKETS
            })
        );
        assert!(config.reads_clock_when_closed());
        assert!(!BreakerConfig::default().reads_clock_when_closed());
        // Only the slow-call rule times a call from its admission.
        assert!(!config.reads_clock_on_admission());
        let slow = BreakerConfig::builder()
            .failure_rate(0.5, 10)
            .count_window(20)
            .slow_calls(Duration::from_secs(1), 0.5)
            .build()
            .unwrap();
        assert!(slow.reads_clock_on_admission());
        assert!(slow.reads_clock_when_closed());
    }

    #[test]
    fn rules_apply_to_every_parameter() {
        let kind = |b: BreakerConfigBuilder| b.build().unwrap_err();
        let e = kind(BreakerConfig::builder().failure_rate(0.0, 10));
        assert_eq!((e.parameter(), e.kind()), ("failure_ratio", ConfigErrorKind::TooSmall));
        let e = kind(BreakerConfig::builder().failure_rate(1.5, 10));
        assert_eq!((e.parameter(), e.kind()), ("failure_ratio", ConfigErrorKind::TooLarge));
        let e = kind(BreakerConfig::builder().failure_rate(f64::NAN, 10));
        assert_eq!(e.kind(), ConfigErrorKind::NotANumber);
        let e = kind(BreakerConfig::builder().failure_rate(0.5, 0));
        assert_eq!(e.parameter(), "minimum_throughput");
        let e = kind(BreakerConfig::builder().failure_rate(0.5, 1).count_window(0));
        assert_eq!(e.parameter(), "window_size");
        let e = kind(
            BreakerConfig::builder()
                .failure_rate(0.5, 1)
                .time_window(Duration::from_secs(1), 1001),
        );
        assert_eq!(
            (e.parameter(), e.kind()),
            ("sampling_buckets", ConfigErrorKind::TooLarge)
        );
        let e = kind(
            BreakerConfig::builder()
                .failure_rate(0.5, 1)
                .time_window(Duration::from_nanos(5), 10),
        );
        assert_eq!(
            (e.parameter(), e.kind()),
            ("sampling_duration", ConfigErrorKind::TooSmall)
        );
        let e = kind(BreakerConfig::builder().count_window(10));
        assert_eq!((e.parameter(), e.kind()), ("window", ConfigErrorKind::RequiresOther));
        let e = kind(BreakerConfig::builder().slow_calls(Duration::from_secs(1), 0.5));
        assert_eq!(
            (e.parameter(), e.kind()),
            ("slow_call_duration", ConfigErrorKind::RequiresOther)
        );
        let e = kind(
            BreakerConfig::builder()
                .recovery_timeout(Duration::from_secs(10))
                .break_backoff(BackoffStrategy::Linear, Duration::from_secs(5)),
        );
        assert_eq!(
            (e.parameter(), e.kind()),
            ("max_recovery_timeout", ConfigErrorKind::BelowOther)
        );
    }

    #[test]
    fn break_durations_grow_and_cap() {
        let config = BreakerConfig::builder()
            .recovery_timeout(Duration::from_secs(1))
            .break_backoff(BackoffStrategy::Exponential, Duration::from_secs(5))
            .build()
            .unwrap();
        let secs: Vec<u64> = (1..=5).map(|n| config.break_duration(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 5, 5]);
        assert_eq!(BreakerConfig::default().break_duration(9), DEFAULT_RECOVERY_TIMEOUT);
    }
}
