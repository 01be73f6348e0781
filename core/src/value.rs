//! A configuration value as a binding received it, before any rule ran.
//!
//! Bindings only translate their language's types into a [`Value`]
//! (Python's `int`, JavaScript's `number`, C's `int64_t` …); every range,
//! default and type rule then runs in [`crate::rules`], so the same input
//! gets the same answer in every language.

use std::time::Duration;

use crate::error::{exact_decimal, Idiom, Quantity};

/// Text longer than this is cut in messages (a 1 MB string must not make a
/// 1 MB message).
const MAX_TEXT: usize = 32;

/// A value of the user's, as the binding received it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer (Python `int`, C `int64_t`, a JS `bigint`).
    Int(i128),
    /// An integer beyond `i128` (Python's unbounded `int`); only its sign matters.
    HugeInt {
        /// Whether it is below zero.
        negative: bool,
    },
    /// A floating-point number (JS `number`, Python `float`).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Text (cut to its first few characters only when written in a message).
    Text(String),
    /// A Rust `Duration` (the Rust API's durations).
    Duration(Duration),
    /// Nothing: Python `None`, JS `null`.
    Absent,
    /// Any other type, by its name in the binding's language (`"list"`, `"object"`).
    Other(String),
}

impl Value {
    /// Text.
    pub fn text(s: &str) -> Self {
        Self::Text(s.to_owned())
    }

    /// Another type, named by the binding.
    pub fn other(type_name: &str) -> Self {
        Self::Other(cut(type_name))
    }

    /// The value written in `idiom`, short whatever its size.
    pub(crate) fn render(&self, idiom: Idiom, quantity: Quantity) -> String {
        match self {
            Self::Int(n) => n.to_string(),
            Self::HugeInt { negative: true } => "an integer below -2^127".to_owned(),
            Self::HugeInt { negative: false } => "an integer above 2^127".to_owned(),
            Self::Float(x) => float(*x, idiom),
            Self::Bool(b) => match idiom {
                Idiom::Python => if *b { "True" } else { "False" }.to_owned(),
                _ => b.to_string(),
            },
            Self::Text(s) => match idiom {
                Idiom::Python => format!("'{}'", cut(s)),
                _ => format!("\"{}\"", cut(s)),
            },
            Self::Duration(d) => duration(*d, idiom, quantity),
            Self::Absent => match idiom {
                Idiom::Python => "None".to_owned(),
                Idiom::JavaScript => "null".to_owned(),
                Idiom::Rust | Idiom::C => "nothing".to_owned(),
            },
            Self::Other(name) => format!("a value of type {name}"),
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Self::Int(i128::from(n))
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Self::Int(i128::from(n))
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Self::Int(i128::from(n))
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Self::Int(i128::from(n))
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Self::Float(x)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Duration> for Value {
    fn from(d: Duration) -> Self {
        Self::Duration(d)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::text(s)
    }
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => format!("{}…", s.get(..end).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// A float as the idiom writes it; beyond 1e16 (or below 1e-6) in exponent
/// form, so `1e300` is five characters, not three hundred.
fn float(x: f64, idiom: Idiom) -> String {
    if x.is_nan() {
        return match idiom {
            Idiom::JavaScript | Idiom::Rust => "NaN",
            Idiom::Python | Idiom::C => "nan",
        }
        .to_owned();
    }
    if x.is_infinite() {
        let sign = if x < 0.0 { "-" } else { "" };
        let word = match idiom {
            Idiom::JavaScript => "Infinity",
            _ => "inf",
        };
        return format!("{sign}{word}");
    }
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-6..1e16).contains(&magnitude) {
        // `{:e}` gives `1e300`; Python and JavaScript write `1e+300`.
        let text = format!("{x:e}");
        return match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        };
    }
    if x.fract() == 0.0 && idiom == Idiom::Python {
        // Python writes a whole float with a trailing `.0`.
        return format!("{x:.1}");
    }
    x.to_string()
}

fn duration(d: Duration, idiom: Idiom, quantity: Quantity) -> String {
    let ns = d.as_nanos();
    match (idiom, quantity) {
        (Idiom::Rust, _) => format!("{d:?}"),
        (Idiom::Python, _) => exact_decimal(ns, 9),
        (Idiom::JavaScript, _) => exact_decimal(ns, 6),
        (Idiom::C, _) => ns.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: Value, idiom: Idiom) -> String {
        v.render(idiom, Quantity::Plain)
    }

    #[test]
    fn huge_floats_stay_short() {
        assert_eq!(r(Value::Float(1e300), Idiom::Python), "1e+300");
        assert_eq!(r(Value::Float(-1e300), Idiom::JavaScript), "-1e+300");
        assert_eq!(r(Value::Float(1e-300), Idiom::Rust), "1e-300");
        assert_eq!(r(Value::Float(2.5), Idiom::Python), "2.5");
        assert_eq!(r(Value::Float(3.0), Idiom::Python), "3.0");
        assert_eq!(r(Value::Float(3.0), Idiom::JavaScript), "3");
    }

    #[test]
    fn special_floats_per_idiom() {
        assert_eq!(r(Value::Float(f64::NAN), Idiom::JavaScript), "NaN");
        assert_eq!(r(Value::Float(f64::NAN), Idiom::Python), "nan");
        assert_eq!(r(Value::Float(f64::INFINITY), Idiom::JavaScript), "Infinity");
        assert_eq!(r(Value::Float(f64::NEG_INFINITY), Idiom::Python), "-inf");
    }

    #[test]
    fn long_text_is_cut() {
        let long = "x".repeat(10_000);
        let text = r(Value::text(&long), Idiom::Python);
        assert!(text.chars().count() < 40, "{text}");
        assert_eq!(r(Value::text("503"), Idiom::Python), "'503'");
        assert_eq!(r(Value::text("503"), Idiom::JavaScript), "\"503\"");
    }

    #[test]
    fn absent_and_other_types() {
        assert_eq!(r(Value::Absent, Idiom::Python), "None");
        assert_eq!(r(Value::Absent, Idiom::JavaScript), "null");
        assert_eq!(r(Value::other("list"), Idiom::Python), "a value of type list");
        assert_eq!(r(Value::Bool(true), Idiom::Python), "True");
        assert_eq!(
            r(Value::HugeInt { negative: true }, Idiom::C),
            "an integer below -2^127"
        );
    }

    #[test]
    fn durations_in_each_unit() {
        let d = Duration::from_millis(1500);
        assert_eq!(d_render(d, Idiom::Python), "1.5");
        assert_eq!(d_render(d, Idiom::JavaScript), "1500");
        assert_eq!(d_render(d, Idiom::C), "1500000000");
        assert_eq!(d_render(d, Idiom::Rust), "1.5s");
    }

    fn d_render(d: Duration, idiom: Idiom) -> String {
        Value::Duration(d).render(idiom, Quantity::Duration)
    }
}
