//! The one error type for bad configuration, with a machine-readable kind,
//! parameter and allowed range, rendered in each language's idiom.

use std::fmt;
use std::time::Duration;

use crate::value::Value;

/// Which rule a rejected value broke. Bindings pick their idiomatic
/// exception or message by kind (never by matching the message text).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// Not a value of the expected type: text where a number belongs,
    /// `None` / `null`, something that cannot be called.
    WrongType,
    /// A number with a fraction where a whole number belongs.
    NotAnInteger,
    /// NaN where a number belongs.
    NotANumber,
    /// Below the allowed minimum (a negative duration, a zero count).
    TooSmall,
    /// Above the allowed maximum (infinity included).
    TooLarge,
    /// A name that is not one of the allowed names.
    UnknownName,
    /// Smaller than another parameter it must not be below
    /// (`max_delay` below `base_delay`).
    BelowOther,
    /// Given without another parameter it only works with (a slow-call
    /// rule without a failure-rate rule).
    RequiresOther,
    /// Given together with another parameter it excludes (a count window
    /// and a time window).
    ConflictsWith,
    /// A strategy declared where the pipeline's order does not allow it
    /// (a breaker outside the retry it should sit in).
    OutOfOrder,
    /// A strategy declared twice in one pipeline.
    Duplicate,
}

impl ConfigErrorKind {
    /// The kind's stable snake_case name, as the conformance vectors spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WrongType => "wrong_type",
            Self::NotAnInteger => "not_an_integer",
            Self::NotANumber => "not_a_number",
            Self::TooSmall => "too_small",
            Self::TooLarge => "too_large",
            Self::UnknownName => "unknown_name",
            Self::BelowOther => "below_other",
            Self::RequiresOther => "requires_other",
            Self::ConflictsWith => "conflicts_with",
            Self::OutOfOrder => "out_of_order",
            Self::Duplicate => "duplicate",
        }
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a parameter allows, in a form bindings can read without parsing text.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Allowed {
    /// A whole number in `min..=max`.
    Integer {
        /// The smallest allowed value.
        min: i128,
        /// The largest allowed value.
        max: i128,
    },
    /// A duration from zero up to `max`, in the language's unit.
    Duration {
        /// The longest allowed duration.
        max: Duration,
    },
    /// A duration from `min` up to `max`, in the language's unit.
    DurationRange {
        /// The shortest allowed duration.
        min: Duration,
        /// The longest allowed duration.
        max: Duration,
    },
    /// Allowed only together with another parameter.
    Requires(&'static str),
    /// Not allowed together with another parameter.
    Excludes(&'static str),
    /// A boolean switch, or one of these names.
    SwitchOrOneOf(&'static [&'static str]),
    /// A duration greater than zero, up to `max` (a timeout: zero could
    /// never be met).
    PositiveDuration {
        /// The longest allowed duration.
        max: Duration,
    },
    /// A real number above `min` (or at least `min` when `min_inclusive`),
    /// and at most `max` when there is one (else any finite number).
    Number {
        /// The lower bound.
        min: f64,
        /// Whether `min` itself is allowed.
        min_inclusive: bool,
        /// The largest allowed value, inclusive; `None`: any finite number.
        max: Option<f64>,
    },
    /// One of these names.
    OneOf(&'static [&'static str]),
    /// At least the value of another parameter.
    AtLeast {
        /// The other parameter (snake_case).
        parameter: &'static str,
        /// Its value.
        value: Value,
    },
    /// A value of a described shape (e.g. "true, false or a jitter mode name").
    Shape(&'static str),
}

/// The language a message is written for: parameter spelling and unit.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idiom {
    /// snake_case names, durations as `Duration` (`1.5s`).
    Rust,
    /// snake_case names, durations in seconds.
    Python,
    /// camelCase names with an `Ms` suffix on durations, durations in milliseconds.
    JavaScript,
    /// snake_case names with an `_ns` suffix on durations, durations in nanoseconds.
    C,
}

/// What a parameter measures, so its name and value get the idiom's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Quantity {
    /// A duration (named with a unit suffix in JavaScript and C).
    Duration,
    /// Anything else.
    Plain,
}

/// A configuration value broke one of core's rules.
///
/// It carries the rule's [`ConfigErrorKind`], the parameter, the [`Allowed`]
/// range and the rejected [`Value`]; [`ConfigError::message`] writes it for
/// a language, and `Display` writes it for Rust.
///
/// ```
/// use resilience_core::{ConfigErrorKind, Idiom, RetryPolicy};
/// let err = RetryPolicy::builder().max_attempts(0).build().unwrap_err();
/// assert_eq!(err.parameter(), "max_attempts");
/// assert_eq!(err.kind(), ConfigErrorKind::TooSmall);
/// assert_eq!(err.to_string(), "invalid max_attempts: must be an integer in 1..=4294967295, got 0");
/// assert_eq!(err.message(Idiom::JavaScript), "invalid maxAttempts: must be an integer in 1..=4294967295, got 0");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    parameter: &'static str,
    allowed: Allowed,
    got: Value,
    quantity: Quantity,
}

impl ConfigError {
    /// A new error: `parameter` got `got`, which breaks `kind`; it allows `allowed`.
    pub fn new(kind: ConfigErrorKind, parameter: &'static str, allowed: Allowed, got: Value) -> Self {
        let quantity = match allowed {
            Allowed::Duration { .. } | Allowed::DurationRange { .. } | Allowed::PositiveDuration { .. } => {
                Quantity::Duration
            }
            _ => Quantity::Plain,
        };
        Self {
            kind,
            parameter,
            allowed,
            got,
            quantity,
        }
    }

    /// Marks the parameter as a duration (for errors whose range is not a
    /// duration range, such as `max_delay` below `base_delay`).
    pub(crate) fn of_duration(mut self) -> Self {
        self.quantity = Quantity::Duration;
        self
    }

    /// The rule that was broken.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The name of the offending parameter (snake_case, as in the Rust API).
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }

    /// The parameter as `idiom` spells it (`maxDelayMs`, `max_delay_ns`, …).
    pub fn parameter_in(&self, idiom: Idiom) -> String {
        spell(self.parameter, self.quantity, idiom)
    }

    /// Whether the parameter is a duration.
    pub fn is_duration(&self) -> bool {
        self.quantity == Quantity::Duration
    }

    /// What the parameter allows.
    pub fn allowed(&self) -> &Allowed {
        &self.allowed
    }

    /// The rejected value.
    pub fn got(&self) -> &Value {
        &self.got
    }

    /// The message for `idiom`: the parameter in its spelling, the range and
    /// the rejected value in its unit, e.g.
    /// `invalid recoveryTimeoutMs: must be a number of milliseconds in 0..=18446744073709.551615, got 1e+300`.
    /// Huge values are written in exponent form and long text is cut, so a
    /// message stays short whatever the input.
    pub fn message(&self, idiom: Idiom) -> String {
        if let (ConfigErrorKind::RequiresOther | ConfigErrorKind::ConflictsWith, Value::Absent) = (self.kind, &self.got)
        {
            return format!(
                "invalid {}: must be {}",
                self.parameter_in(idiom),
                describe_allowed(&self.allowed, idiom)
            );
        }
        format!(
            "invalid {}: must be {}, got {}",
            self.parameter_in(idiom),
            describe_allowed(&self.allowed, idiom),
            self.got.render(idiom, self.quantity),
        )
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Idiom::Rust))
    }
}

impl std::error::Error for ConfigError {}

/// `snake_case` → `camelCase`.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn spell(parameter: &str, quantity: Quantity, idiom: Idiom) -> String {
    match (idiom, quantity) {
        (Idiom::JavaScript, Quantity::Duration) => format!("{}Ms", camel(parameter)),
        (Idiom::JavaScript, Quantity::Plain) => camel(parameter),
        (Idiom::C, Quantity::Duration) => format!("{parameter}_ns"),
        _ => parameter.to_owned(),
    }
}

/// `ns` nanoseconds as an exact decimal in units of `10^scale` ns
/// (`scale` 9: seconds, 6: milliseconds), without trailing zeros.
pub(crate) fn exact_decimal(ns: u128, scale: u32) -> String {
    let unit = 10u128.pow(scale);
    // `unit` is a power of ten, never zero.
    let (whole, frac) = (ns.checked_div(unit).unwrap_or(0), ns.checked_rem(unit).unwrap_or(0));
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = scale as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn describe_allowed(allowed: &Allowed, idiom: Idiom) -> String {
    match allowed {
        Allowed::Integer { min, max } => format!("an integer in {min}..={max}"),
        Allowed::Duration { max } => {
            let ns = max.as_nanos();
            match idiom {
                Idiom::Rust => format!("a duration of at most {max:?}"),
                Idiom::Python => format!("a number of seconds in 0..={}", exact_decimal(ns, 9)),
                Idiom::JavaScript => format!("a number of milliseconds in 0..={}", exact_decimal(ns, 6)),
                Idiom::C => format!("an integer number of nanoseconds in 0..={ns}"),
            }
        }
        Allowed::DurationRange { min, max } => {
            let (min, max) = (min.as_nanos(), max.as_nanos());
            match idiom {
                Idiom::Rust => format!(
                    "a duration in {:?}..={:?}",
                    Duration::from_nanos(min as u64),
                    Duration::from_nanos(max as u64)
                ),
                Idiom::Python => format!(
                    "a number of seconds in {}..={}",
                    exact_decimal(min, 9),
                    exact_decimal(max, 9)
                ),
                Idiom::JavaScript => {
                    format!(
                        "a number of milliseconds in {}..={}",
                        exact_decimal(min, 6),
                        exact_decimal(max, 6)
                    )
                }
                Idiom::C => format!("an integer number of nanoseconds in {min}..={max}"),
            }
        }
        Allowed::Requires(other) => format!("set together with {}", spell(other, Quantity::Plain, idiom)),
        Allowed::Excludes(other) => format!("left out when {} is set", spell(other, Quantity::Plain, idiom)),
        Allowed::SwitchOrOneOf(names) => {
            let (yes, no) = match idiom {
                Idiom::Python => ("True", "False"),
                _ => ("true", "false"),
            };
            format!("{yes}, {no} or one of {}", names.join(", "))
        }
        Allowed::PositiveDuration { max } => {
            let ns = max.as_nanos();
            match idiom {
                Idiom::Rust => format!("a duration above zero and at most {max:?}"),
                Idiom::Python => format!("a number of seconds above 0 and at most {}", exact_decimal(ns, 9)),
                Idiom::JavaScript => format!("a number of milliseconds above 0 and at most {}", exact_decimal(ns, 6)),
                Idiom::C => format!("an integer number of nanoseconds in 1..={ns}"),
            }
        }
        Allowed::Number {
            min,
            min_inclusive,
            max,
        } => match (max, min_inclusive) {
            (Some(max), true) => format!("a number in [{min}, {max}]"),
            (Some(max), false) => format!("a number in ({min}, {max}]"),
            (None, true) => format!("a finite number >= {min}"),
            (None, false) => format!("a finite number > {min}"),
        },
        Allowed::OneOf(names) => format!("one of {}", names.join(", ")),
        Allowed::AtLeast { parameter, value } => {
            // The other parameter is a duration whenever this one is.
            format!(
                ">= {} ({})",
                spell(parameter, Quantity::Duration, idiom),
                value.render(idiom, Quantity::Duration)
            )
        }
        Allowed::Shape(shape) => (*shape).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_idiom() {
        assert_eq!(
            spell("recovery_timeout", Quantity::Duration, Idiom::JavaScript),
            "recoveryTimeoutMs"
        );
        assert_eq!(
            spell("recovery_timeout", Quantity::Duration, Idiom::C),
            "recovery_timeout_ns"
        );
        assert_eq!(
            spell("recovery_timeout", Quantity::Duration, Idiom::Python),
            "recovery_timeout"
        );
        assert_eq!(
            spell("half_open_max_calls", Quantity::Plain, Idiom::JavaScript),
            "halfOpenMaxCalls"
        );
    }

    #[test]
    fn exact_decimals_have_no_float_error() {
        assert_eq!(exact_decimal(u128::from(u64::MAX), 9), "18446744073.709551615");
        assert_eq!(exact_decimal(u128::from(u64::MAX), 6), "18446744073709.551615");
        assert_eq!(exact_decimal(1_500_000_000, 9), "1.5");
        assert_eq!(exact_decimal(2_000_000_000, 9), "2");
    }

    #[test]
    fn ranges_render_in_each_unit() {
        let between = Allowed::DurationRange {
            min: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        assert_eq!(
            describe_allowed(&between, Idiom::Python),
            "a number of seconds in 1..=60"
        );
        assert_eq!(
            describe_allowed(&between, Idiom::JavaScript),
            "a number of milliseconds in 1000..=60000"
        );
        assert_eq!(
            describe_allowed(&between, Idiom::C),
            "an integer number of nanoseconds in 1000000000..=60000000000"
        );
        assert_eq!(describe_allowed(&between, Idiom::Rust), "a duration in 1s..=60s");
        let ratio = Allowed::Number {
            min: 0.0,
            min_inclusive: false,
            max: Some(1.0),
        };
        assert_eq!(describe_allowed(&ratio, Idiom::Python), "a number in (0, 1]");
        let positive = Allowed::Number {
            min: 0.0,
            min_inclusive: false,
            max: None,
        };
        assert_eq!(describe_allowed(&positive, Idiom::C), "a finite number > 0");
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(ConfigErrorKind::BelowOther.to_string(), "below_other");
        assert_eq!(ConfigErrorKind::NotANumber.as_str(), "not_a_number");
    }
}
