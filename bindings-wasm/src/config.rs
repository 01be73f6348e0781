//! Turning JavaScript option values into core configuration, and core
//! `ConfigError`s into JavaScript errors the glue re-throws as its
//! `ConfigError` class (with the parameter spelt in camelCase).

use resilience_core::{count_from_f64, duration_from_millis, ConfigError};
use std::time::Duration;
use wasm_bindgen::JsValue;

/// A core `ConfigError` as a JS `Error` carrying `parameter`, `requirement`
/// and `got` (snake_case parameter; the glue translates it).
pub(crate) fn config_error(e: &ConfigError) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    error.set_name("ConfigError");
    let object: &js_sys::Object = error.as_ref();
    for (key, value) in [
        ("parameter", e.parameter()),
        ("requirement", e.requirement()),
        ("got", e.got()),
    ] {
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(object, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    error.into()
}

/// A count option: an integer in `min..=u32::MAX`.
pub(crate) fn count(parameter: &'static str, value: f64, min: u32) -> Result<u32, JsValue> {
    count_from_f64(parameter, value, min).map_err(|e| config_error(&e))
}

/// A duration option in milliseconds: a finite number >= 0.
pub(crate) fn millis(parameter: &'static str, value: f64) -> Result<Duration, JsValue> {
    duration_from_millis(parameter, value).map_err(|e| config_error(&e))
}

/// A duration as JavaScript milliseconds (exact to the nanosecond for any
/// delay below ~104 days, as f64 has 53 bits of mantissa).
pub(crate) fn to_millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// A clock reading in milliseconds as a duration since the clock's origin,
/// rounded to the nanosecond so whole milliseconds stay exact; NaN and
/// negative readings are zero, huge ones saturate.
pub(crate) fn reading_from_millis(ms: f64) -> Duration {
    if ms.is_nan() || ms <= 0.0 {
        return Duration::ZERO;
    }
    // `as` saturates floats beyond u64::MAX.
    Duration::from_nanos((ms * 1e6).round() as u64)
}
