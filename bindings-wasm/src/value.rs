//! A JavaScript value as core's [`Value`]: the only translation the binding
//! makes before core's rules run (ranges, defaults and switches are core's).

use resilience_core::Value;
use wasm_bindgen::JsValue;

/// 2^127: integral numbers at or beyond it do not fit core's `i128`.
const I128_LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

/// `v` as core sees it: a number that is an integer is an integer (JavaScript
/// has no separate integer type; beyond ±2^127 a huge one), other numbers
/// (fractions, NaN, ±Infinity) are floats; a bigint is an integer; `null` is
/// nothing; booleans and strings are themselves; anything else is "a value
/// of type …" (its `typeof`, or `array`). Never calls user code.
pub(crate) fn value_of(v: &JsValue) -> Value {
    if let Some(x) = v.as_f64() {
        return number(x);
    }
    if v.is_bigint() {
        let big = js_sys::BigInt::from(v.clone());
        let negative = big.lt(&js_sys::BigInt::from(0));
        return match i128::try_from(big) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::HugeInt { negative },
        };
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Some(s) = v.as_string() {
        return Value::text(&s);
    }
    if v.is_null() {
        return Value::Absent;
    }
    if v.is_array() {
        return Value::other("array");
    }
    // `typeof` of what is left: undefined, symbol, function, object.
    Value::other(&v.js_typeof().as_string().unwrap_or_default())
}

/// A JavaScript number as core's value.
fn number(x: f64) -> Value {
    if !x.is_finite() || x.fract() != 0.0 {
        return Value::Float(x);
    }
    if x.abs() < I128_LIMIT {
        // Whole and below 2^127 in magnitude: exact.
        Value::Int(x as i128)
    } else {
        Value::HugeInt { negative: x < 0.0 }
    }
}

/// A value given where core expects a real number (a ratio, a factor): a
/// JavaScript number is then that real number, whatever its size —
/// `1e300` is a finite float, not "an integer above 2^127" as
/// [`value_of`] must call it where an integer is expected (a count). Other
/// values as [`value_of`] sees them.
pub(crate) fn real_of(v: &JsValue) -> Value {
    match v.as_f64() {
        Some(x) => Value::Float(x),
        None => value_of(v),
    }
}

/// An option as core sees it, or `None` when it was not given (`undefined`:
/// core's default applies).
pub(crate) fn given(v: &JsValue) -> Option<Value> {
    (!v.is_undefined()).then(|| value_of(v))
}

/// A required field as core sees it: `undefined` is a value of type
/// undefined (so the message says so), never a default.
pub(crate) fn required(v: &JsValue) -> Value {
    value_of(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_integers_when_whole() {
        assert_eq!(number(3.0), Value::Int(3));
        assert_eq!(number(-0.0), Value::Int(0));
        assert_eq!(number(2.5), Value::Float(2.5));
        assert_eq!(number(2f64.powi(64)), Value::Int(1 << 64));
        assert_eq!(number(1e300), Value::HugeInt { negative: false });
        assert_eq!(number(-1e300), Value::HugeInt { negative: true });
        assert!(matches!(number(f64::NAN), Value::Float(x) if x.is_nan()));
        assert_eq!(number(f64::INFINITY), Value::Float(f64::INFINITY));
    }
}
