//! Core's configuration errors (and snapshot errors) as the JavaScript
//! error classes of the package, and durations as milliseconds.
//!
//! The glue installs its `ConfigError` and `SnapshotError` classes once
//! ([`install_error_classes`]); errors are then built here as instances of
//! them, carrying core's kind, the parameter as the JavaScript API spells
//! it, core's message and the value the user gave.

use std::cell::RefCell;
use std::time::Duration;

use js_sys::{Array, Function, Object, Reflect};
use resilience_core::{Allowed, ConfigError, ConfigErrorKind, Idiom, SnapshotError};
use wasm_bindgen::prelude::*;

thread_local! {
    /// The glue's error classes: (ConfigError, SnapshotError).
    static CLASSES: RefCell<Option<(Function, Function)>> = const { RefCell::new(None) };
}

/// Installs the package's `ConfigError` and `SnapshotError` classes: every
/// error built here is then an instance of them. Each class is constructed
/// as `new Class(message, details)`.
#[wasm_bindgen]
pub fn install_error_classes(config_error: Function, snapshot_error: Function) {
    CLASSES.with(|c| *c.borrow_mut() = Some((config_error, snapshot_error)));
}

/// `new Class(message, details)` with the installed class (`pick` chooses
/// it), or a plain `Error` named `name` carrying the details when none is
/// installed (the raw module used alone).
fn build_error(pick: fn(&(Function, Function)) -> &Function, name: &str, message: &str, details: &Object) -> JsValue {
    let class = CLASSES.with(|c| c.borrow().as_ref().map(|classes| pick(classes).clone()));
    if let Some(class) = class {
        let args = Array::of2(&JsValue::from_str(message), details);
        if let Ok(error) = Reflect::construct(&class, &args) {
            return error;
        }
    }
    let error = js_sys::Error::new(message);
    error.set_name(name);
    // Copying own properties of a fresh object onto a fresh Error cannot fail.
    let _ = Object::assign(error.as_ref(), details);
    error.into()
}

/// Sets `key` on a fresh object (cannot fail).
fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

/// How one constructor spells core's parameters: the option path of the
/// JavaScript API (`failureRate.ratio`), or `None` where core's JavaScript
/// spelling (`maxDelayMs`) already is the option's name.
pub(crate) type Names = fn(&str) -> Option<&'static str>;

/// Core's JavaScript spelling is the option's name everywhere but the breaker.
pub(crate) fn flat_names(_: &str) -> Option<&'static str> {
    None
}

/// A core `ConfigError` as the package's `ConfigError`: `kind` (core's
/// snake_case kind name), `parameter` (as the API spells the option), `got`
/// (the value the user gave, `undefined` when unknown) and core's message
/// for JavaScript (milliseconds, short whatever the value).
pub(crate) fn config_error(e: &ConfigError, names: Names, got: &JsValue) -> JsValue {
    let core_name = e.parameter_in(Idiom::JavaScript);
    let parameter = names(e.parameter()).map_or_else(|| core_name.clone(), str::to_owned);
    let message = match (e.kind(), e.allowed()) {
        // Rendered from its parts: both names are option paths here.
        (ConfigErrorKind::RequiresOther, Allowed::Requires(other)) => {
            let other = names(other).map_or_else(|| camel(other), str::to_owned);
            format!("invalid {}: must be set together with {}", top(&parameter), top(&other))
        }
        (ConfigErrorKind::ConflictsWith, Allowed::Excludes(other)) => {
            let other = names(other).map_or_else(|| camel(other), str::to_owned);
            format!("invalid {parameter}: must be left out when {other} is set")
        }
        _ => {
            let message = e.message(Idiom::JavaScript);
            // Core writes "invalid {its spelling}: …"; the rest is core's.
            match message.strip_prefix(&format!("invalid {core_name}")) {
                Some(rest) if parameter != core_name => format!("invalid {parameter}{rest}"),
                _ => message,
            }
        }
    };
    let parameter = match e.kind() {
        ConfigErrorKind::RequiresOther => top(&parameter).to_owned(),
        _ => parameter,
    };
    let details = Object::new();
    set(&details, "kind", &JsValue::from_str(e.kind().as_str()));
    set(&details, "parameter", &JsValue::from_str(&parameter));
    set(&details, "got", got);
    build_error(|c| &c.0, "ConfigError", &message, &details)
}

/// `snake_case` as `camelCase` (a parameter core names only in `Allowed`).
fn camel(name: &str) -> String {
    let mut parts = name.split('_');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut chars = part.chars();
        out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        out.push_str(chars.as_str());
    }
    out
}

/// The option a path belongs to (`failureRate` of `failureRate.ratio`).
fn top(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

/// A core `SnapshotError` as the package's `SnapshotError`: `reason`
/// (`malformed` or `unsupported_version`, and `version` for the latter) and
/// core's message.
pub(crate) fn snapshot_error(e: &SnapshotError) -> JsValue {
    let details = Object::new();
    let reason = match e {
        SnapshotError::UnsupportedVersion { version } => {
            set(&details, "version", &JsValue::from_f64(*version as f64));
            "unsupported_version"
        }
        _ => "malformed",
    };
    set(&details, "reason", &JsValue::from_str(reason));
    build_error(|c| &c.1, "SnapshotError", &e.to_string(), &details)
}

/// A duration as JavaScript milliseconds (exact to the nanosecond for any
/// delay below ~104 days, as f64 has 53 bits of mantissa).
pub(crate) fn to_millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}
