//! The one error type for bad configuration.

use std::fmt;
use std::time::Duration;

/// A configuration value was outside its allowed range.
///
/// It names the parameter, the allowed range and the rejected value, so every
/// binding can surface a message such as
/// `invalid max_attempts: must be an integer in 1..=4294967295, got 0` in its own idiom.
///
/// ```
/// use resilience_core::RetryPolicy;
/// let err = RetryPolicy::builder().max_attempts(0).build().unwrap_err();
/// assert_eq!(err.parameter(), "max_attempts");
/// assert_eq!(err.to_string(), "invalid max_attempts: must be an integer in 1..=4294967295, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    parameter: &'static str,
    requirement: &'static str,
    got: String,
}

impl ConfigError {
    /// A new error for `parameter`, which must satisfy `requirement` but was `got`.
    pub fn new(parameter: &'static str, requirement: &'static str, got: impl fmt::Display) -> Self {
        Self {
            parameter,
            requirement,
            got: got.to_string(),
        }
    }

    /// The name of the offending parameter (snake_case, as in the Rust API).
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }

    /// The allowed range, e.g. `">= 1"`.
    pub fn requirement(&self) -> &'static str {
        self.requirement
    }

    /// The rejected value, rendered as text.
    pub fn got(&self) -> &str {
        &self.got
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}: must be {}, got {}",
            self.parameter, self.requirement, self.got
        )
    }
}

impl std::error::Error for ConfigError {}

/// The allowed range of every duration parameter given as a float.
pub const DURATION_REQUIREMENT: &str = "a finite number >= 0";

/// The allowed range of a count that must be at least one.
pub const COUNT_AT_LEAST_ONE: &str = "an integer in 1..=4294967295";

/// The allowed range of a count that may be zero.
pub const COUNT_AT_LEAST_ZERO: &str = "an integer in 0..=4294967295";

fn count_requirement(min: u32) -> &'static str {
    if min == 0 {
        COUNT_AT_LEAST_ZERO
    } else {
        COUNT_AT_LEAST_ONE
    }
}

/// Validates a count given as a wide integer (Python's `int`, C's `int64_t`):
/// it must lie in `min..=u32::MAX` (`min` is 0 or 1).
///
/// ```
/// use resilience_core::count_from_i64;
/// assert_eq!(count_from_i64("max_attempts", 3, 1), Ok(3));
/// assert_eq!(count_from_i64("max_attempts", 0, 1).unwrap_err().to_string(),
///            "invalid max_attempts: must be an integer in 1..=4294967295, got 0");
/// ```
pub fn count_from_i64(parameter: &'static str, value: i64, min: u32) -> Result<u32, ConfigError> {
    match u32::try_from(value) {
        Ok(v) if v >= min => Ok(v),
        _ => Err(ConfigError::new(parameter, count_requirement(min), value)),
    }
}

/// Validates a count given as a float (JavaScript's `number`): it must be an
/// integer in `min..=u32::MAX`; NaN, fractions and infinities are errors.
pub fn count_from_f64(parameter: &'static str, value: f64, min: u32) -> Result<u32, ConfigError> {
    let in_range = value.is_finite() && value.fract() == 0.0 && value >= f64::from(min) && value <= f64::from(u32::MAX);
    if in_range {
        // Exact: an integral float within u32's range.
        Ok(value as u32)
    } else {
        Err(ConfigError::new(parameter, count_requirement(min), value))
    }
}

/// Converts seconds given as a float (Python's unit) into a [`Duration`].
///
/// NaN, negative, infinite and too-large values are a [`ConfigError`] naming
/// `parameter`; this is the one place bindings turn user floats into time.
///
/// ```
/// use resilience_core::duration_from_secs;
/// assert_eq!(duration_from_secs("base_delay", 0.5).unwrap().as_millis(), 500);
/// assert!(duration_from_secs("base_delay", f64::NAN).is_err());
/// ```
pub fn duration_from_secs(parameter: &'static str, secs: f64) -> Result<Duration, ConfigError> {
    if secs.is_nan() || secs < 0.0 || !secs.is_finite() {
        return Err(ConfigError::new(parameter, DURATION_REQUIREMENT, secs));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::new(parameter, DURATION_REQUIREMENT, secs))
}

/// Converts milliseconds given as a float (JavaScript's unit) into a [`Duration`].
///
/// The same validation as [`duration_from_secs`].
pub fn duration_from_millis(parameter: &'static str, millis: f64) -> Result<Duration, ConfigError> {
    if millis.is_nan() || millis < 0.0 || !millis.is_finite() {
        return Err(ConfigError::new(parameter, DURATION_REQUIREMENT, millis));
    }
    duration_from_secs(parameter, millis / 1000.0)
        .map_err(|_| ConfigError::new(parameter, DURATION_REQUIREMENT, millis))
}

/// The allowed range of a duration given as signed nanoseconds.
pub const NANOS_REQUIREMENT: &str = "an integer number of nanoseconds >= 0";

/// Converts signed integer nanoseconds (C's `int64_t`) into a [`Duration`];
/// a negative value is a [`ConfigError`] naming `parameter`.
///
/// ```
/// use resilience_core::duration_from_nanos_i64;
/// assert_eq!(duration_from_nanos_i64("base_delay", 1_500).unwrap().as_nanos(), 1_500);
/// assert_eq!(duration_from_nanos_i64("base_delay", -1).unwrap_err().to_string(),
///            "invalid base_delay: must be an integer number of nanoseconds >= 0, got -1");
/// ```
pub fn duration_from_nanos_i64(parameter: &'static str, nanos: i64) -> Result<Duration, ConfigError> {
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| ConfigError::new(parameter, NANOS_REQUIREMENT, nanos))
}

/// Converts a clock reading in float seconds into a [`Duration`], clamping
/// NaN and negative values to zero and huge values to [`Duration::MAX`].
///
/// Clock readings are not configuration: a user clock that starts below zero
/// must not make a breaker fail, so this never errors.
pub fn clock_reading_from_secs(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    }
}
