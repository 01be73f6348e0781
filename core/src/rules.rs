//! The one validator: every rule that turns a user's value into
//! configuration, and every rule about inputs that are not configuration
//! (attempt numbers, response statuses, clock readings, predicates that
//! fail). Each rule is named in `tests/README.md` and pinned by vectors that
//! every binding runs.
//!
//! Bindings translate their language's types into a [`Value`] and call a
//! rule here; they never check a range, pick a default or map a switch
//! themselves.

use std::time::Duration;

use crate::backoff::{BackoffStrategy, Jitter};
use crate::error::{Allowed, ConfigError, ConfigErrorKind};
use crate::value::Value;

/// The longest duration any parameter accepts: time is counted in `u64`
/// nanoseconds (about 584 years). One bound for every duration — delays,
/// recovery timeouts, bulkhead timeouts.
pub const MAX_DURATION: Duration = Duration::from_nanos(u64::MAX);

/// The unit a binding's durations arrive in.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Seconds (Python).
    Seconds,
    /// Milliseconds (JavaScript).
    Milliseconds,
    /// Nanoseconds (C).
    Nanoseconds,
}

impl Unit {
    fn nanos(self) -> u128 {
        match self {
            Self::Seconds => 1_000_000_000,
            Self::Milliseconds => 1_000_000,
            Self::Nanoseconds => 1,
        }
    }
}

/// The smallest and largest HTTP status codes (RFC 9110 §15: three digits, 100–599).
pub const STATUS_CODE_RANGE: (u16, u16) = (100, 599);

const JITTER_SHAPE: &str = "true, false or one of none, proportional, full, equal, decorrelated";
const STATUS_CODES_SHAPE: &str = "a collection of integers in 100..=599";
const ATTEMPT_SHAPE: &str = "an integer";

fn error(kind: ConfigErrorKind, parameter: &'static str, allowed: Allowed, got: Value) -> ConfigError {
    ConfigError::new(kind, parameter, allowed, got)
}

/// A value of the wrong type for `parameter`, which must have `shape`.
pub fn wrong_type(parameter: &'static str, shape: &'static str, got: Value) -> ConfigError {
    error(ConfigErrorKind::WrongType, parameter, Allowed::Shape(shape), got)
}

/// Whether a float without a fraction counts as an integer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WholeFloats {
    /// No: an integer parameter wants an integer. (A binding whose language
    /// has no separate integer type, JavaScript, passes integral numbers as
    /// [`Value::Int`]; Python's `3.0` is a float.)
    Refused,
    /// Yes (attempt numbers: an argument, where `2.0` is harmless).
    Accepted,
}

/// The whole number a value holds, or why it holds none (`allowed` is only
/// used in the error). Infinities saturate, so the range check that follows
/// calls them too small or too large.
fn whole_number(
    parameter: &'static str,
    value: &Value,
    allowed: &Allowed,
    floats: WholeFloats,
) -> Result<i128, ConfigError> {
    let fail = |kind| Err(error(kind, parameter, allowed.clone(), value.clone()));
    match *value {
        Value::Int(n) => Ok(n),
        Value::HugeInt { negative } => Ok(if negative { i128::MIN } else { i128::MAX }),
        Value::Float(x) if x.is_nan() => fail(ConfigErrorKind::NotANumber),
        Value::Float(x) if x == f64::INFINITY => Ok(i128::MAX),
        Value::Float(x) if x == f64::NEG_INFINITY => Ok(i128::MIN),
        // Whole and finite; `as` saturates beyond i128.
        Value::Float(x) if x.fract() == 0.0 && floats == WholeFloats::Accepted => Ok(x as i128),
        Value::Float(_) => fail(ConfigErrorKind::NotAnInteger),
        _ => fail(ConfigErrorKind::WrongType),
    }
}

/// An integer in `min..=max`.
fn integer_in(parameter: &'static str, value: Value, min: i128, max: i128) -> Result<i128, ConfigError> {
    let allowed = Allowed::Integer { min, max };
    let n = whole_number(parameter, &value, &allowed, WholeFloats::Refused)?;
    if n < min {
        Err(error(ConfigErrorKind::TooSmall, parameter, allowed, value))
    } else if n > max {
        Err(error(ConfigErrorKind::TooLarge, parameter, allowed, value))
    } else {
        Ok(n)
    }
}

/// Rule `count`: a count is an integer in `min..=4294967295` (`min` is 0 or
/// 1). A float is not an integer (Python's `3.0`; JavaScript's integral
/// numbers arrive as integers); `None`/`null`, booleans and text are the
/// wrong type; infinities are too small or too large.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::count("max_attempts", Value::Int(3), 1), Ok(3));
/// let err = rules::count("max_attempts", Value::Int(1 << 32), 1).unwrap_err();
/// assert_eq!(err.kind(), ConfigErrorKind::TooLarge);
/// assert_eq!(rules::count("max_attempts", Value::Absent, 1).unwrap_err().kind(), ConfigErrorKind::WrongType);
/// ```
pub fn count(parameter: &'static str, value: Value, min: u32) -> Result<u32, ConfigError> {
    let n = integer_in(parameter, value, i128::from(min), i128::from(u32::MAX))?;
    // In range, so it fits.
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Rule `duration`: a duration is a number of `unit`s in
/// `0..=`[`MAX_DURATION`]; NaN is not a number, negative values are too
/// small, infinity and anything beyond 584 years too large.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{rules::{self, Unit}, ConfigErrorKind, Value};
/// assert_eq!(rules::duration("base_delay", Value::Float(0.5), Unit::Seconds), Ok(Duration::from_millis(500)));
/// assert_eq!(rules::duration("base_delay", Value::Int(250), Unit::Milliseconds), Ok(Duration::from_millis(250)));
/// let err = rules::duration("recovery_timeout", Value::Float(1e300), Unit::Milliseconds).unwrap_err();
/// assert_eq!(err.kind(), ConfigErrorKind::TooLarge);
/// ```
pub fn duration(parameter: &'static str, value: Value, unit: Unit) -> Result<Duration, ConfigError> {
    let allowed = Allowed::Duration { max: MAX_DURATION };
    let fail = |kind, value| Err(error(kind, parameter, allowed.clone(), value));
    let nanos: u128 = match value {
        Value::Int(n) if n < 0 => return fail(ConfigErrorKind::TooSmall, value),
        Value::Int(n) => n.unsigned_abs().saturating_mul(unit.nanos()),
        Value::HugeInt { negative: true } => return fail(ConfigErrorKind::TooSmall, value),
        Value::HugeInt { negative: false } => u128::MAX,
        Value::Float(x) if x.is_nan() => return fail(ConfigErrorKind::NotANumber, value),
        Value::Float(x) if x < 0.0 => return fail(ConfigErrorKind::TooSmall, value),
        Value::Float(x) => match float_nanos(x, unit) {
            Some(ns) => ns,
            None => return fail(ConfigErrorKind::TooLarge, value),
        },
        Value::Duration(d) => d.as_nanos(),
        _ => return fail(ConfigErrorKind::WrongType, value),
    };
    match u64::try_from(nanos) {
        Ok(ns) => Ok(Duration::from_nanos(ns)),
        Err(_) => fail(ConfigErrorKind::TooLarge, value),
    }
}

/// Nanoseconds of a finite, non-negative float in `unit`; `None` beyond
/// what a `Duration` holds. Seconds go through `Duration`'s own exact
/// float conversion, so a Python `0.1` is the same 100 ms everywhere.
fn float_nanos(x: f64, unit: Unit) -> Option<u128> {
    let seconds = match unit {
        Unit::Seconds => x,
        Unit::Milliseconds => x / 1000.0,
        Unit::Nanoseconds => x / 1e9,
    };
    Duration::try_from_secs_f64(seconds).ok().map(|d| d.as_nanos())
}

/// Rule `duration` with a lower bound `min` (a sampling window must give
/// each bucket at least a nanosecond).
pub fn duration_at_least(parameter: &'static str, value: Value, min: Duration) -> Result<Duration, ConfigError> {
    let d = duration(parameter, value.clone(), Unit::Nanoseconds)?;
    if d < min {
        return Err(error(
            ConfigErrorKind::TooSmall,
            parameter,
            Allowed::DurationRange { min, max: MAX_DURATION },
            value,
        ));
    }
    Ok(d)
}

/// Rule `at_least_other`: a duration must not be below another
/// parameter's (`max_delay >= base_delay`, `max_recovery_timeout >=
/// recovery_timeout`).
pub fn at_least_duration(
    parameter: &'static str,
    d: Duration,
    other: &'static str,
    other_value: Duration,
) -> Result<Duration, ConfigError> {
    if d >= other_value {
        return Ok(d);
    }
    Err(ConfigError::new(
        ConfigErrorKind::BelowOther,
        parameter,
        Allowed::AtLeast {
            parameter: other,
            value: Value::Duration(other_value),
        },
        Value::Duration(d),
    )
    .of_duration())
}

/// Every count parameter and its allowed range: the one table bindings
/// share, so none of them passes a minimum of its own.
pub const COUNTS: [(&str, u32, u32); 8] = [
    ("max_attempts", 1, u32::MAX),
    ("failure_threshold", 1, u32::MAX),
    ("half_open_max_calls", 1, u32::MAX),
    ("minimum_throughput", 1, u32::MAX),
    ("max_concurrent", 1, u32::MAX),
    ("max_queue_size", 0, u32::MAX),
    ("sampling_buckets", 1, crate::breaker::MAX_SAMPLING_BUCKETS),
    ("window_size", 1, crate::breaker::MAX_WINDOW_SIZE),
];

/// Rule `count` for a named count parameter, with its range from
/// [`COUNTS`] (an unknown name is a count from 1).
///
/// ```
/// use resilience_core::{rules, Value};
/// assert_eq!(rules::count_of("max_queue_size", Value::Int(0)), Ok(0));
/// assert!(rules::count_of("max_concurrent", Value::Int(0)).is_err());
/// ```
pub fn count_of(parameter: &'static str, value: Value) -> Result<u32, ConfigError> {
    let (min, max) = COUNTS
        .iter()
        .find(|(name, _, _)| *name == parameter)
        .map_or((1, u32::MAX), |&(_, min, max)| (min, max));
    count_in(parameter, value, min, max)
}

/// Rule `duration` for a language whose output type holds less than
/// [`MAX_DURATION`] (C's `int64_t` nanoseconds): at most `max` too.
pub fn duration_within(
    parameter: &'static str,
    value: Value,
    unit: Unit,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let d = duration(parameter, value.clone(), unit)?;
    if d > max {
        return Err(error(
            ConfigErrorKind::TooLarge,
            parameter,
            Allowed::DurationRange {
                min: Duration::ZERO,
                max,
            },
            value,
        ));
    }
    Ok(d)
}

/// Rule `backoff_name` for languages that name a strategy by number (C's
/// enum): the index into [`BackoffStrategy::ALL`].
pub fn backoff_index(index: i64) -> Result<BackoffStrategy, ConfigError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| BackoffStrategy::ALL.get(i).copied())
        .ok_or_else(|| {
            error(
                ConfigErrorKind::UnknownName,
                "backoff",
                Allowed::OneOf(&BackoffStrategy::NAMES),
                Value::from(index),
            )
        })
}

/// Rule `jitter_switch` for languages that name a mode by number (C's
/// enum): the index into [`Jitter::ALL`].
pub fn jitter_index(index: i64) -> Result<Jitter, ConfigError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| Jitter::ALL.get(i).copied())
        .ok_or_else(|| {
            error(
                ConfigErrorKind::UnknownName,
                "jitter",
                Allowed::OneOf(&Jitter::NAMES),
                Value::from(index),
            )
        })
}

/// Rule `count` with an upper bound below 2^32 (window sizes, bucket counts).
pub fn count_in(parameter: &'static str, value: Value, min: u32, max: u32) -> Result<u32, ConfigError> {
    let n = integer_in(parameter, value, i128::from(min), i128::from(max))?;
    Ok(u32::try_from(n).unwrap_or(max))
}

/// Rule `ratio`: a share is a number in (0, 1]; NaN is not a number, 0 and
/// below too small, above 1 too large.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::ratio("failure_ratio", Value::Float(0.5)), Ok(0.5));
/// assert_eq!(rules::ratio("failure_ratio", Value::Int(1)), Ok(1.0));
/// assert_eq!(rules::ratio("failure_ratio", Value::Int(0)).unwrap_err().kind(), ConfigErrorKind::TooSmall);
/// ```
pub fn ratio(parameter: &'static str, value: Value) -> Result<f64, ConfigError> {
    let fail = |kind, value| Err(error(kind, parameter, Allowed::Ratio, value));
    let x = match value {
        Value::Float(x) => x,
        // Exact for the only integers in range (1) and beyond.
        Value::Int(n) => n as f64,
        Value::HugeInt { negative } => {
            if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        _ => return fail(ConfigErrorKind::WrongType, value),
    };
    if x.is_nan() {
        fail(ConfigErrorKind::NotANumber, value)
    } else if x <= 0.0 {
        fail(ConfigErrorKind::TooSmall, value)
    } else if x > 1.0 {
        fail(ConfigErrorKind::TooLarge, value)
    } else {
        Ok(x)
    }
}

/// Rule `requires_other`: `parameter` was given without `other`, which it
/// only works with.
pub fn requires(parameter: &'static str, other: &'static str) -> ConfigError {
    error(
        ConfigErrorKind::RequiresOther,
        parameter,
        Allowed::Requires(other),
        Value::Absent,
    )
}

/// Rule `duration` for the Rust API, whose durations cannot be negative or
/// NaN: at most [`MAX_DURATION`].
pub fn bounded_duration(parameter: &'static str, d: Duration) -> Result<Duration, ConfigError> {
    duration(parameter, Value::Duration(d), Unit::Nanoseconds)
}

/// Rule `status_codes`: every retryable status code is an integer in
/// 100..=599 (RFC 9110's three-digit codes); text, NaN, fractions and
/// out-of-range numbers are errors naming `retryable_status_codes`. The
/// result is sorted and without duplicates.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::status_codes(vec![Value::Int(503), Value::Int(500), Value::Int(503)]), Ok(vec![500, 503]));
/// let err = rules::status_codes(vec![Value::text("503")]).unwrap_err();
/// assert_eq!((err.parameter(), err.kind()), ("retryable_status_codes", ConfigErrorKind::WrongType));
/// assert_eq!(rules::status_codes(vec![Value::Int(70000)]).unwrap_err().kind(), ConfigErrorKind::TooLarge);
/// ```
pub fn status_codes(values: impl IntoIterator<Item = Value>) -> Result<Vec<u16>, ConfigError> {
    let (min, max) = STATUS_CODE_RANGE;
    let mut codes = values
        .into_iter()
        .map(|v| {
            integer_in("retryable_status_codes", v, i128::from(min), i128::from(max))
                .map(|n| u16::try_from(n).unwrap_or(max))
        })
        .collect::<Result<Vec<u16>, _>>()?;
    codes.sort_unstable();
    codes.dedup();
    Ok(codes)
}

/// `retryable_status_codes` given as something that is not a collection.
pub fn status_codes_not_a_collection(got: Value) -> ConfigError {
    wrong_type("retryable_status_codes", STATUS_CODES_SHAPE, got)
}

/// Rule `seed`: a seed is an integer in `0..=2^64-1`; absent means "seed
/// from the operating system".
pub fn seed(value: Value) -> Result<Option<u64>, ConfigError> {
    if value == Value::Absent {
        return Ok(None);
    }
    let n = integer_in("seed", value, 0, i128::from(u64::MAX))?;
    Ok(Some(u64::try_from(n).unwrap_or(u64::MAX)))
}

/// Rule `attempt`: an attempt number (an argument, not configuration) is an
/// integer of any size, saturated into `i64` (a float without fraction
/// counts); attempts `<= 0` ask for no delay. Fractions, NaN, infinities and
/// other types are errors naming `attempt`.
pub fn attempt(value: Value) -> Result<i64, ConfigError> {
    let allowed = Allowed::Shape(ATTEMPT_SHAPE);
    if let Value::Float(x) = value {
        if x.is_infinite() {
            return Err(error(ConfigErrorKind::NotAnInteger, "attempt", allowed, value));
        }
    }
    let n = whole_number("attempt", &value, &allowed, WholeFloats::Accepted)?;
    Ok(i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX }))
}

/// Rule `response_status`: the status of a response is retried only when it
/// is an integer; anything else (a string, NaN, a fraction, a boolean, none)
/// is never retried.
pub fn response_status(value: &Value) -> Option<i64> {
    match *value {
        Value::Int(n) => Some(i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })),
        Value::Float(x) if x.is_finite() && x.fract() == 0.0 => Some(x as i64),
        _ => None,
    }
}

/// Rule `jitter_switch`: `true` is the original's proportional jitter,
/// `false` none, and a mode name selects a mode; anything else is the wrong
/// type.
///
/// ```
/// use resilience_core::{rules, Jitter, Value};
/// assert_eq!(rules::jitter(Value::Bool(true)), Ok(Jitter::Proportional));
/// assert_eq!(rules::jitter(Value::text("full")), Ok(Jitter::Full));
/// assert!(rules::jitter(Value::Int(1)).is_err());
/// ```
pub fn jitter(value: Value) -> Result<Jitter, ConfigError> {
    match value {
        Value::Bool(on) => Ok(Jitter::from_bool(on)),
        Value::Text(name) => name.parse(),
        other => Err(wrong_type("jitter", JITTER_SHAPE, other)),
    }
}

/// Rule `backoff_name`: one of the four strategy names.
pub fn backoff(value: Value) -> Result<BackoffStrategy, ConfigError> {
    match value {
        Value::Text(name) => name.parse(),
        other => Err(error(
            ConfigErrorKind::WrongType,
            "backoff",
            Allowed::OneOf(&BackoffStrategy::NAMES),
            other,
        )),
    }
}

/// Rule `clock_reading`: a clock reading is not configuration, so it never
/// fails — NaN and negative readings are zero, readings beyond 584 years
/// saturate. (A clock that then jumps back is handled where time is used:
/// it can delay a recovery by at most one recovery timeout.)
pub fn clock_reading(reading: f64, unit: Unit) -> Duration {
    if reading.is_nan() || reading <= 0.0 {
        return Duration::ZERO;
    }
    match float_nanos(reading, unit).map(u64::try_from) {
        Some(Ok(ns)) => Duration::from_nanos(ns),
        _ => MAX_DURATION,
    }
}

/// Rule `clock_reading` for integer clocks (C's `int64_t` nanoseconds):
/// negative readings are 0.
pub fn clock_reading_nanos(reading: i64) -> Duration {
    Duration::from_nanos(u64::try_from(reading).unwrap_or(0))
}

/// How a user's predicate (a retry filter, a breaker's failure filter, a
/// fallback's expected-error filter) answered.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PredicateOutcome {
    /// It answered yes.
    Yes,
    /// It answered no.
    No,
    /// It raised, threw or returned an error instead of answering.
    Failed,
}

impl PredicateOutcome {
    /// From a plain answer.
    pub fn from_bool(yes: bool) -> Self {
        if yes {
            Self::Yes
        } else {
            Self::No
        }
    }

    /// Rule `failing_predicate` (retry): a retry filter that fails means
    /// "not retryable" — the user's own error surfaces at once, unchanged.
    pub fn retryable(self) -> bool {
        self == Self::Yes
    }

    /// Rule `failing_predicate` (breaker): a failure filter that fails counts
    /// the outcome as a failure — the breaker errs on the side of protecting
    /// the dependency; the user's own error surfaces unchanged.
    pub fn counts_as_failure(self) -> bool {
        self != Self::No
    }

    /// Rule `failing_predicate` (fallback): an expected-error filter that
    /// fails means "not expected" — no fallback runs; the primary's own error
    /// surfaces unchanged.
    pub fn falls_back(self) -> bool {
        self == Self::Yes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reject_every_wrong_shape() {
        let kind = |v| count("n", v, 1).unwrap_err().kind();
        assert_eq!(kind(Value::Int(0)), ConfigErrorKind::TooSmall);
        assert_eq!(kind(Value::Int((1 << 32) + 1)), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::HugeInt { negative: false }), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::Float(2.5)), ConfigErrorKind::NotAnInteger);
        assert_eq!(kind(Value::Float(f64::NAN)), ConfigErrorKind::NotANumber);
        assert_eq!(kind(Value::Float(f64::INFINITY)), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::text("3")), ConfigErrorKind::WrongType);
        assert_eq!(kind(Value::Bool(true)), ConfigErrorKind::WrongType);
        assert_eq!(kind(Value::Float(4.0)), ConfigErrorKind::NotAnInteger);
        assert_eq!(kind(Value::Float(f64::NEG_INFINITY)), ConfigErrorKind::TooSmall);
        assert_eq!(count("n", Value::Int(0), 0), Ok(0));
    }

    #[test]
    fn durations_share_one_bound() {
        let kind = |v, u| duration("d", v, u).unwrap_err().kind();
        assert_eq!(kind(Value::Float(-0.5), Unit::Seconds), ConfigErrorKind::TooSmall);
        assert_eq!(kind(Value::Int(-1), Unit::Nanoseconds), ConfigErrorKind::TooSmall);
        assert_eq!(
            kind(Value::Float(2f64.powi(64)), Unit::Milliseconds),
            ConfigErrorKind::TooLarge
        );
        assert_eq!(kind(Value::Int(1 << 70), Unit::Nanoseconds), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::Absent, Unit::Seconds), ConfigErrorKind::WrongType);
        assert_eq!(
            duration("d", Value::Int(i128::from(u64::MAX)), Unit::Nanoseconds),
            Ok(MAX_DURATION)
        );
        assert_eq!(
            duration("d", Value::Float(0.1), Unit::Seconds),
            Ok(Duration::from_millis(100))
        );
    }

    #[test]
    fn attempts_saturate_but_fractions_fail() {
        assert_eq!(attempt(Value::Int(1 << 100)), Ok(i64::MAX));
        assert_eq!(attempt(Value::HugeInt { negative: true }), Ok(i64::MIN));
        assert_eq!(attempt(Value::Float(3.0)), Ok(3));
        assert_eq!(attempt(Value::Float(1e300)), Ok(i64::MAX));
        assert_eq!(
            attempt(Value::Float(2.5)).unwrap_err().kind(),
            ConfigErrorKind::NotAnInteger
        );
        assert_eq!(
            attempt(Value::Float(f64::INFINITY)).unwrap_err().kind(),
            ConfigErrorKind::NotAnInteger
        );
        assert_eq!(
            attempt(Value::text("1")).unwrap_err().kind(),
            ConfigErrorKind::WrongType
        );
    }

    #[test]
    fn response_statuses_must_be_integers() {
        assert_eq!(response_status(&Value::Int(503)), Some(503));
        assert_eq!(response_status(&Value::Float(503.0)), Some(503));
        assert_eq!(response_status(&Value::Float(503.5)), None);
        assert_eq!(response_status(&Value::text("503")), None);
        assert_eq!(response_status(&Value::Bool(true)), None);
    }

    #[test]
    fn seeds_are_u64_or_absent() {
        assert_eq!(seed(Value::Absent), Ok(None));
        assert_eq!(seed(Value::Int(i128::from(u64::MAX))), Ok(Some(u64::MAX)));
        assert_eq!(seed(Value::Int(-1)).unwrap_err().kind(), ConfigErrorKind::TooSmall);
        assert_eq!(
            seed(Value::Float(0.5)).unwrap_err().kind(),
            ConfigErrorKind::NotAnInteger
        );
    }

    #[test]
    fn clock_readings_never_fail() {
        assert_eq!(clock_reading(f64::NAN, Unit::Seconds), Duration::ZERO);
        assert_eq!(clock_reading(-5.0, Unit::Milliseconds), Duration::ZERO);
        assert_eq!(clock_reading(1e300, Unit::Seconds), MAX_DURATION);
        assert_eq!(clock_reading(1.5, Unit::Seconds), Duration::from_millis(1500));
        assert_eq!(clock_reading_nanos(-1), Duration::ZERO);
        assert_eq!(clock_reading_nanos(i64::MAX), Duration::from_nanos(i64::MAX as u64));
    }

    #[test]
    fn failing_predicates_fail_safe() {
        assert!(!PredicateOutcome::Failed.retryable());
        assert!(PredicateOutcome::Failed.counts_as_failure());
        assert!(!PredicateOutcome::Failed.falls_back());
        assert!(PredicateOutcome::from_bool(true).retryable());
        assert!(!PredicateOutcome::from_bool(false).counts_as_failure());
    }

    #[test]
    fn named_counts_and_indices() {
        assert_eq!(
            count_of("window_size", Value::Int(1_000_001)).unwrap_err().kind(),
            ConfigErrorKind::TooLarge
        );
        assert_eq!(count_of("sampling_buckets", Value::Int(1000)), Ok(1000));
        assert_eq!(backoff_index(3), Ok(BackoffStrategy::Fibonacci));
        assert_eq!(backoff_index(4).unwrap_err().kind(), ConfigErrorKind::UnknownName);
        assert_eq!(jitter_index(-1).unwrap_err().parameter(), "jitter");
        assert_eq!(jitter_index(4), Ok(Jitter::Decorrelated));
        let max = Duration::from_nanos(i64::MAX as u64);
        let err = duration_within("d", Value::Int(i128::from(u64::MAX)), Unit::Nanoseconds, max).unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::TooLarge);
        assert_eq!(
            duration_within("d", Value::Int(5), Unit::Seconds, max),
            Ok(Duration::from_secs(5))
        );
    }

    #[test]
    fn switches_and_names() {
        assert_eq!(jitter(Value::Bool(false)), Ok(Jitter::None));
        assert_eq!(
            jitter(Value::text("lots")).unwrap_err().kind(),
            ConfigErrorKind::UnknownName
        );
        assert_eq!(jitter(Value::Absent).unwrap_err().kind(), ConfigErrorKind::WrongType);
        assert_eq!(backoff(Value::text("linear")), Ok(BackoffStrategy::Linear));
        assert_eq!(backoff(Value::Int(1)).unwrap_err().kind(), ConfigErrorKind::WrongType);
    }
}
