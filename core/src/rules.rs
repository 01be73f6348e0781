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
use crate::pipeline::StrategyKind;
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
#[inline]
pub fn count(parameter: &'static str, value: Value, min: u32) -> Result<u32, ConfigError> {
    // The accepting path first: per-call counts (a limiter's `n`) are
    // checked on every call, and building the allowed range costs more than
    // the call itself.
    if let Value::Int(n) = value {
        if let Some(n) = u32::try_from(n).ok().filter(|&n| n >= min) {
            return Ok(n);
        }
    }
    let n = integer_in(parameter, value, i128::from(min), i128::from(u32::MAX))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX)) // coverage: unreachable — only integers pass integer_in, and the accepting path took every one in range
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
    duration_reporting(parameter, value, unit, Allowed::Duration { max: MAX_DURATION })
}

/// Rule `duration` with the range an error reports.
fn duration_reporting(
    parameter: &'static str,
    value: Value,
    unit: Unit,
    allowed: Allowed,
) -> Result<Duration, ConfigError> {
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

/// Rule `timeout`: a timeout (`attempt_timeout`, a timeout strategy's
/// `timeout`) is a duration as rule `duration` says, and above zero — a
/// zero timeout could never be met. A value that rounds to zero
/// nanoseconds is too small as well.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{rules::{self, Unit}, ConfigErrorKind, Value};
/// assert_eq!(rules::timeout("attempt_timeout", Value::Float(0.25), Unit::Seconds), Ok(Duration::from_millis(250)));
/// let err = rules::timeout("attempt_timeout", Value::Int(0), Unit::Milliseconds).unwrap_err();
/// assert_eq!(err.kind(), ConfigErrorKind::TooSmall);
/// ```
pub fn timeout(parameter: &'static str, value: Value, unit: Unit) -> Result<Duration, ConfigError> {
    let allowed = Allowed::PositiveDuration { max: MAX_DURATION };
    let d = duration_reporting(parameter, value.clone(), unit, allowed.clone())?;
    if d.is_zero() {
        return Err(error(ConfigErrorKind::TooSmall, parameter, allowed, value));
    }
    Ok(d)
}

/// Rule `timeout` for the Rust API.
pub fn bounded_timeout(parameter: &'static str, d: Duration) -> Result<Duration, ConfigError> {
    timeout(parameter, Value::Duration(d), Unit::Nanoseconds)
}

/// Rule `optional`: an optional parameter given as nothing (`None`,
/// `null`) is absent; anything else goes through its own rule.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{rules::{self, Unit}, Value};
/// let max_elapsed = |v| rules::optional(v, |v| rules::duration("max_elapsed", v, Unit::Seconds));
/// assert_eq!(max_elapsed(Value::Absent), Ok(None));
/// assert_eq!(max_elapsed(Value::Int(10)), Ok(Some(Duration::from_secs(10))));
/// assert!(max_elapsed(Value::text("10")).is_err());
/// ```
pub fn optional<T>(value: Value, rule: impl FnOnce(Value) -> Result<T, ConfigError>) -> Result<Option<T>, ConfigError> {
    match value {
        Value::Absent => Ok(None),
        other => rule(other).map(Some),
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
    duration_between(parameter, value, Unit::Nanoseconds, min, MAX_DURATION)
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
    duration_between(parameter, value, unit, Duration::ZERO, max)
}

/// Rule `name_index`: a language that names a choice by number (a C enum)
/// gives an index into `names`; anything else is an unknown name.
pub fn name_index(parameter: &'static str, names: &'static [&'static str], index: i64) -> Result<usize, ConfigError> {
    usize::try_from(index).ok().filter(|&i| i < names.len()).ok_or_else(|| {
        error(
            ConfigErrorKind::UnknownName,
            parameter,
            Allowed::OneOf(names),
            Value::from(index),
        )
    })
}

/// Rule `backoff_name` for languages that name a strategy by number (C's
/// enum): the index into [`BackoffStrategy::ALL`], for `parameter`
/// (`backoff`, `break_backoff`).
pub fn backoff_index(parameter: &'static str, index: i64) -> Result<BackoffStrategy, ConfigError> {
    let i = name_index(parameter, &BackoffStrategy::NAMES, index)?;
    Ok(BackoffStrategy::ALL.get(i).copied().unwrap_or_default())
}

/// Rule `jitter_switch` for languages that name a mode by number (C's
/// enum): the index into [`Jitter::ALL`].
pub fn jitter_index(parameter: &'static str, index: i64) -> Result<Jitter, ConfigError> {
    let i = name_index(parameter, &Jitter::NAMES, index)?;
    Ok(Jitter::ALL.get(i).copied().unwrap_or_default())
}

/// Rule `count` with an upper bound: an integer in `min..=max`
/// (`max_hedged_attempts`: 1..=10).
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::count_in("max_hedged_attempts", Value::Int(3), 1, 10), Ok(3));
/// assert_eq!(rules::count_in("max_hedged_attempts", Value::Int(11), 1, 10).unwrap_err().kind(), ConfigErrorKind::TooLarge);
/// ```
pub fn count_in(parameter: &'static str, value: Value, min: u32, max: u32) -> Result<u32, ConfigError> {
    let n = integer_in(parameter, value, i128::from(min), i128::from(max))?;
    Ok(u32::try_from(n).unwrap_or(max))
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

/// Rule `hedged_attempts`: `max_hedged_attempts` is an integer in
/// `1..=`[`MAX_HEDGED_ATTEMPTS`](crate::MAX_HEDGED_ATTEMPTS) (Polly's range).
pub fn hedged_attempts(value: Value) -> Result<u32, ConfigError> {
    count_in("max_hedged_attempts", value, 1, crate::hedging::MAX_HEDGED_ATTEMPTS)
}

/// The shortest fleet sync period or timeout (rule `fleet_duration`).
pub const MIN_FLEET_DURATION: Duration = Duration::from_millis(1);

/// Rule `fleet_duration`: a shared-state sync duration (`sync_interval`,
/// `sync_timeout`) is a duration of `unit`s in 1 ms..=[`MAX_DURATION`] —
/// a zero period would spin, a zero timeout would never let a sync finish.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{rules::{self, Unit}, ConfigErrorKind, Value};
/// assert_eq!(rules::fleet_duration("sync_interval", Value::Float(0.25), Unit::Seconds), Ok(Duration::from_millis(250)));
/// let err = rules::fleet_duration("sync_timeout", Value::Int(0), Unit::Milliseconds).unwrap_err();
/// assert_eq!(err.kind(), ConfigErrorKind::TooSmall);
/// ```
pub fn fleet_duration(parameter: &'static str, value: Value, unit: Unit) -> Result<Duration, ConfigError> {
    duration_between(parameter, value, unit, MIN_FLEET_DURATION, MAX_DURATION)
}

/// The longest key part (rule `key_part`), in bytes.
pub const MAX_KEY_PART_LEN: usize = 200;

const KEY_PART_SHAPE: &str = "a text of 1..=200 bytes without control characters";

/// Rule `key_part`: a name that becomes part of a shared-state key (a
/// store's `prefix`, a shared breaker's `name`) is a text of 1..=200 bytes
/// without control characters; empty text is too small, longer text too
/// large, anything else (or text with a control character) the wrong type.
/// Pass the whole text (`Value::Text(s.to_owned())`, not the cutting
/// [`Value::text`]).
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::key_part("name", Value::Text("payments".into())), Ok("payments".to_owned()));
/// assert_eq!(rules::key_part("name", Value::Text(String::new())).unwrap_err().kind(), ConfigErrorKind::TooSmall);
/// assert_eq!(rules::key_part("prefix", Value::Int(3)).unwrap_err().kind(), ConfigErrorKind::WrongType);
/// ```
pub fn key_part(parameter: &'static str, value: Value) -> Result<String, ConfigError> {
    let fail = |kind, value: &Value| {
        error(
            kind,
            parameter,
            Allowed::Shape(KEY_PART_SHAPE),
            Value::text(&short(value)),
        )
    };
    match value {
        Value::Text(s) if s.is_empty() => Err(fail(ConfigErrorKind::TooSmall, &Value::Text(s))),
        Value::Text(s) if s.len() > MAX_KEY_PART_LEN => Err(fail(ConfigErrorKind::TooLarge, &Value::Text(s))),
        Value::Text(s) if s.chars().any(char::is_control) => Err(fail(ConfigErrorKind::WrongType, &Value::Text(s))),
        Value::Text(s) => Ok(s),
        other => Err(error(
            ConfigErrorKind::WrongType,
            parameter,
            Allowed::Shape(KEY_PART_SHAPE),
            other,
        )),
    }
}

/// Rule `lease_size`: how many tokens (a rate limiter's cells, a retry
/// budget's retries) a shared limiter or budget leases from its store at
/// once — an integer in `1..=max`: a limiter's `max` is its `burst` (the
/// store never grants more at once), a budget's 4294967295. The tokens a
/// process holds are the fleet's error bound (`redis/README.md`).
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::lease_size(Value::Int(5), 10), Ok(5));
/// assert_eq!(rules::lease_size(Value::Int(11), 10).unwrap_err().kind(), ConfigErrorKind::TooLarge);
/// assert_eq!(rules::lease_size(Value::Int(0), 10).unwrap_err().parameter(), "lease_size");
/// ```
pub fn lease_size(value: Value, max: u32) -> Result<u32, ConfigError> {
    count_in("lease_size", value, 1, max.max(1))
}

/// Rule `requires_other` for shared state, with rule `key_part`: a
/// `store` and a `name` go together (a breaker, limiter or budget is
/// shared under a name through a store, or not at all). `name` is `None`
/// when not given. Returns the name, `None` when unshared.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::shared_name(true, Some(Value::Text("search".into()))), Ok(Some("search".to_owned())));
/// assert_eq!(rules::shared_name(false, None), Ok(None));
/// let err = rules::shared_name(true, None).unwrap_err();
/// assert_eq!((err.parameter(), err.kind()), ("store", ConfigErrorKind::RequiresOther));
/// assert_eq!(rules::shared_name(false, Some(Value::Text("search".into()))).unwrap_err().parameter(), "name");
/// ```
pub fn shared_name(store_given: bool, name: Option<Value>) -> Result<Option<String>, ConfigError> {
    match (store_given, name) {
        (false, None) => Ok(None),
        (true, None) => Err(requires("store", "name")),
        (false, Some(_)) => Err(requires("name", "store")),
        (true, Some(name)) => key_part("name", name).map(Some),
    }
}

/// Rule `requires_other` for a shared limiter's or budget's `lease_size`:
/// it is given only with a `store`.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind};
/// assert!(rules::lease_size_needs_store(true, true).is_ok());
/// assert_eq!(rules::lease_size_needs_store(true, false).unwrap_err().kind(), ConfigErrorKind::RequiresOther);
/// ```
pub fn lease_size_needs_store(lease_size_given: bool, store_given: bool) -> Result<(), ConfigError> {
    if lease_size_given && !store_given {
        return Err(requires("lease_size", "store"));
    }
    Ok(())
}

/// The text of a value, for an error (control characters made visible).
fn short(value: &Value) -> String {
    match value {
        Value::Text(s) => s.chars().flat_map(char::escape_default).take(64).collect(),
        _ => String::new(), // coverage: unreachable — `key_part` passes only text
    }
}

/// Rule `duration` for the Rust API, whose durations cannot be negative or
/// NaN: at most [`MAX_DURATION`].
pub fn bounded_duration(parameter: &'static str, d: Duration) -> Result<Duration, ConfigError> {
    duration(parameter, Value::Duration(d), Unit::Nanoseconds)
}

/// Rule `duration_range`: a duration in `min..=max`. The value first goes
/// through rule `duration` (type, NaN, sign, 584 years); every error names
/// the range, so a message always says what is allowed.
///
/// ```
/// use std::time::Duration;
/// use resilience_core::{rules::{self, Unit}, ConfigErrorKind, Value};
/// let (min, max) = (Duration::from_secs(1), Duration::from_secs(60));
/// assert_eq!(rules::duration_between("ttl", Value::Int(10), Unit::Seconds, min, max), Ok(Duration::from_secs(10)));
/// let err = rules::duration_between("ttl", Value::Int(500), Unit::Milliseconds, min, max).unwrap_err();
/// assert_eq!(err.kind(), ConfigErrorKind::TooSmall);
/// assert_eq!(err.message(resilience_core::Idiom::JavaScript),
///            "invalid ttlMs: must be a number of milliseconds in 1000..=60000, got 500");
/// ```
pub fn duration_between(
    parameter: &'static str,
    value: Value,
    unit: Unit,
    min: Duration,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let allowed = Allowed::DurationRange { min, max };
    let d = duration(parameter, value.clone(), unit)
        .map_err(|e| error(e.kind(), parameter, allowed.clone(), e.got().clone()))?;
    if d < min {
        Err(error(ConfigErrorKind::TooSmall, parameter, allowed, value))
    } else if d > max {
        Err(error(ConfigErrorKind::TooLarge, parameter, allowed, value))
    } else {
        Ok(d)
    }
}

/// A real number from a value: integers and floats are numbers; NaN is not
/// a number; infinities and integers beyond `i128` are too large or too
/// small; anything else is the wrong type.
fn real(parameter: &'static str, value: &Value, allowed: &Allowed) -> Result<f64, ConfigError> {
    let fail = |kind| Err(error(kind, parameter, allowed.clone(), value.clone()));
    match *value {
        // `as` rounds to the nearest float; a ratio or factor needs no more.
        Value::Int(n) => Ok(n as f64),
        Value::HugeInt { negative: true } => Ok(f64::NEG_INFINITY),
        Value::HugeInt { negative: false } => Ok(f64::INFINITY),
        Value::Float(x) if x.is_nan() => fail(ConfigErrorKind::NotANumber),
        Value::Float(x) => Ok(x),
        _ => fail(ConfigErrorKind::WrongType),
    }
}

/// Rule `ratio`: a ratio (`retry_ratio`) is a number in `(0, 1]`; NaN is
/// not a number, zero and below too small, above one too large.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::ratio("retry_ratio", Value::Float(0.2)), Ok(0.2));
/// assert_eq!(rules::ratio("retry_ratio", Value::Int(1)), Ok(1.0));
/// assert_eq!(rules::ratio("retry_ratio", Value::Int(0)).unwrap_err().kind(), ConfigErrorKind::TooSmall);
/// assert_eq!(rules::ratio("retry_ratio", Value::Float(1.5)).unwrap_err().kind(), ConfigErrorKind::TooLarge);
/// ```
pub fn ratio(parameter: &'static str, value: Value) -> Result<f64, ConfigError> {
    let allowed = Allowed::Number {
        min: 0.0,
        min_inclusive: false,
        max: Some(1.0),
    };
    let x = real(parameter, &value, &allowed)?;
    if x <= 0.0 {
        Err(error(ConfigErrorKind::TooSmall, parameter, allowed, value))
    } else if x > 1.0 {
        Err(error(ConfigErrorKind::TooLarge, parameter, allowed, value))
    } else {
        Ok(x)
    }
}

/// Rule `positive_number`: a factor (the adaptive throttle's `k`) is a
/// finite number above zero; NaN is not a number, zero and below too small,
/// infinity too large.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::positive_number("k", Value::Float(2.0)), Ok(2.0));
/// assert_eq!(rules::positive_number("k", Value::Int(0)).unwrap_err().kind(), ConfigErrorKind::TooSmall);
/// ```
pub fn positive_number(parameter: &'static str, value: Value) -> Result<f64, ConfigError> {
    let allowed = Allowed::Number {
        min: 0.0,
        min_inclusive: false,
        max: None,
    };
    let x = real(parameter, &value, &allowed)?;
    if x <= 0.0 {
        Err(error(ConfigErrorKind::TooSmall, parameter, allowed, value))
    } else if !x.is_finite() {
        Err(error(ConfigErrorKind::TooLarge, parameter, allowed, value))
    } else {
        Ok(x)
    }
}

/// Rule `cells`: the `n` of a rate limiter's acquire (an argument, not
/// configuration) is a count from 0, named `n`; zero cells always conform.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, Value};
/// assert_eq!(rules::cells(Value::Int(3)), Ok(3));
/// let err = rules::cells(Value::Float(1.5)).unwrap_err();
/// assert_eq!((err.parameter(), err.kind()), ("n", ConfigErrorKind::NotAnInteger));
/// ```
#[inline]
pub fn cells(value: Value) -> Result<u32, ConfigError> {
    count("n", value, 0)
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
        other => Err(error(
            ConfigErrorKind::WrongType,
            "jitter",
            Allowed::SwitchOrOneOf(&Jitter::NAMES),
            other,
        )),
    }
}

/// Rule `backoff_name`: one of the four strategy names.
pub fn backoff(value: Value) -> Result<BackoffStrategy, ConfigError> {
    backoff_named("backoff", value)
}

/// Rule `backoff_name` for a parameter of another name (`break_backoff`).
pub fn backoff_named(parameter: &'static str, value: Value) -> Result<BackoffStrategy, ConfigError> {
    let kind = match &value {
        Value::Text(name) => match name.parse::<BackoffStrategy>() {
            Ok(strategy) => return Ok(strategy),
            Err(_) => ConfigErrorKind::UnknownName,
        },
        _ => ConfigErrorKind::WrongType,
    };
    Err(error(kind, parameter, Allowed::OneOf(&BackoffStrategy::NAMES), value))
}

/// Rule `conflicts_with`: `parameter` was given together with `other`,
/// which it excludes (a count window's `window_size` and a time window's
/// `sampling_duration`).
pub fn conflicts(parameter: &'static str, other: &'static str) -> ConfigError {
    error(
        ConfigErrorKind::ConflictsWith,
        parameter,
        Allowed::Excludes(other),
        Value::Absent,
    )
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

const PIPELINE_SHAPE: &str =
    "each at most once, outer to inner: fallback, total_timeout, retry, breaker, attempt_timeout, hedging, rate_limiter, bulkhead, throttle";

/// Rule `pipeline_order`: a pipeline holds each strategy at most once, in
/// the order of [`StrategyKind::ORDER`] (outer to inner). A strategy
/// declared twice is a `duplicate`, one declared after a strategy that
/// must be inside it is `out_of_order`; either error names `strategies`
/// and carries the offending strategy.
///
/// ```
/// use resilience_core::{rules, ConfigErrorKind, StrategyKind::*};
/// assert_eq!(rules::pipeline_order(&[Fallback, Retry, Breaker]), Ok(()));
/// assert_eq!(rules::pipeline_order(&[Breaker, Retry]).unwrap_err().kind(), ConfigErrorKind::OutOfOrder);
/// assert_eq!(rules::pipeline_order(&[Retry, Retry]).unwrap_err().kind(), ConfigErrorKind::Duplicate);
/// ```
pub fn pipeline_order(kinds: &[StrategyKind]) -> Result<(), ConfigError> {
    for pair in kinds.windows(2) {
        if let [outer, inner] = *pair {
            let kind = match outer.cmp(&inner) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => ConfigErrorKind::Duplicate,
                std::cmp::Ordering::Greater => ConfigErrorKind::OutOfOrder,
            };
            return Err(error(
                kind,
                "strategies",
                Allowed::Shape(PIPELINE_SHAPE),
                Value::text(inner.as_str()),
            ));
        } // coverage: unreachable — `windows(2)` yields pairs only
    }
    Ok(())
}

/// Rule `pipeline_order` for bindings that receive names: each name
/// through [`StrategyKind::from_str`](std::str::FromStr), then the order.
pub fn pipeline_names(names: impl IntoIterator<Item = Value>) -> Result<Vec<StrategyKind>, ConfigError> {
    let kinds = names
        .into_iter()
        .map(|name| match name {
            Value::Text(s) => s.parse(),
            other => Err(error(
                ConfigErrorKind::WrongType,
                "strategy",
                Allowed::OneOf(&StrategyKind::NAMES),
                other,
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    pipeline_order(&kinds)?;
    Ok(kinds)
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

    /// Rule `failing_predicate` (hedging): a failure predicate on a hedged
    /// copy's value that fails accepts the value — the copy answers, as a
    /// retry's value predicate that fails accepts it.
    pub fn hedge_failed(self) -> bool {
        self == Self::Yes
    }

    /// Rule `failing_predicate` (throttle): an accept predicate that fails
    /// counts the request as not accepted — the throttle errs on the side
    /// of protecting the backend.
    pub fn accepted(self) -> bool {
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
    fn ratios_and_factors() {
        let kind = |v| ratio("r", v).unwrap_err().kind();
        assert_eq!(kind(Value::Float(f64::NAN)), ConfigErrorKind::NotANumber);
        assert_eq!(kind(Value::Float(-0.1)), ConfigErrorKind::TooSmall);
        assert_eq!(kind(Value::Float(f64::INFINITY)), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::HugeInt { negative: true }), ConfigErrorKind::TooSmall);
        assert_eq!(kind(Value::Bool(true)), ConfigErrorKind::WrongType);
        assert_eq!(kind(Value::text("0.2")), ConfigErrorKind::WrongType);
        assert_eq!(kind(Value::Absent), ConfigErrorKind::WrongType);
        assert_eq!(ratio("r", Value::Float(1e-300)), Ok(1e-300));
        let kind = |v| positive_number("k", v).unwrap_err().kind();
        assert_eq!(kind(Value::Float(f64::INFINITY)), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::HugeInt { negative: false }), ConfigErrorKind::TooLarge);
        assert_eq!(kind(Value::Float(-2.0)), ConfigErrorKind::TooSmall);
        assert_eq!(kind(Value::Float(f64::NAN)), ConfigErrorKind::NotANumber);
        assert_eq!(positive_number("k", Value::Int(3)), Ok(3.0));
    }

    #[test]
    fn duration_ranges_name_the_range_in_every_error() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(60));
        let err = |v| duration_between("ttl", v, Unit::Seconds, min, max).unwrap_err();
        for (v, k) in [
            (Value::Float(f64::NAN), ConfigErrorKind::NotANumber),
            (Value::Float(-1.0), ConfigErrorKind::TooSmall),
            (Value::Float(0.5), ConfigErrorKind::TooSmall),
            (Value::Int(61), ConfigErrorKind::TooLarge),
            (Value::Float(1e300), ConfigErrorKind::TooLarge),
            (Value::Absent, ConfigErrorKind::WrongType),
        ] {
            let e = err(v);
            assert_eq!(e.kind(), k);
            assert_eq!(*e.allowed(), Allowed::DurationRange { min, max });
            assert!(e.is_duration());
        }
        assert_eq!(
            duration_between("ttl", Value::Int(60), Unit::Seconds, min, max),
            Ok(max)
        );
        assert_eq!(
            count_in("burst", Value::Int(5), 1, 4).unwrap_err().kind(),
            ConfigErrorKind::TooLarge
        );
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
        assert!(!PredicateOutcome::Failed.hedge_failed());
        assert!(!PredicateOutcome::Failed.accepted());
        assert!(PredicateOutcome::Yes.hedge_failed() && PredicateOutcome::Yes.accepted());
        assert!(!PredicateOutcome::No.hedge_failed() && !PredicateOutcome::No.accepted());
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
        assert_eq!(backoff_index("backoff", 3), Ok(BackoffStrategy::Fibonacci));
        assert_eq!(
            backoff_index("break_backoff", 4).unwrap_err().parameter(),
            "break_backoff"
        );
        assert_eq!(
            backoff_index("backoff", 4).unwrap_err().kind(),
            ConfigErrorKind::UnknownName
        );
        assert_eq!(jitter_index("jitter", -1).unwrap_err().parameter(), "jitter");
        assert_eq!(jitter_index("jitter", 4), Ok(Jitter::Decorrelated));
        assert_eq!(name_index("window_kind", &["time", "count"], 1), Ok(1));
        assert_eq!(
            name_index("window_kind", &["time", "count"], 2).unwrap_err().kind(),
            ConfigErrorKind::UnknownName
        );
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
