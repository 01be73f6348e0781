//! Loading conformance vectors and turning their configs into core types.

use std::path::PathBuf;

use resilience_core::{count_from_i64, duration_from_millis, BreakerConfig, BulkheadConfig, ConfigError, RetryPolicy};
use serde_json::Value;

pub(crate) fn load_all() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/conformance exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            let name = p.file_name().expect("file").to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).expect("valid JSON"))
        })
        .collect()
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing string {key} in {v}"))
}

pub(crate) fn u64_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("missing count {key} in {v}"))
}

pub(crate) fn i64_of(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("missing integer {key} in {v}"))
}

/// A number, or one of the strings "NaN", "Infinity", "-Infinity".
fn float_of(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => other.as_f64().unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn count(v: &Value, key: &str, parameter: &'static str, default: u32, min: u32) -> Result<u32, ConfigError> {
    match v.get(key) {
        None => Ok(default),
        Some(n) => count_from_i64(parameter, n.as_i64().expect("integer"), min),
    }
}

fn millis(v: &Value, key: &str, parameter: &'static str, default_ms: u64) -> Result<std::time::Duration, ConfigError> {
    match v.get(key) {
        None => Ok(std::time::Duration::from_millis(default_ms)),
        Some(n) => duration_from_millis(parameter, float_of(n)),
    }
}

pub(crate) fn policy_from(p: &Value) -> Result<RetryPolicy, ConfigError> {
    let mut b = RetryPolicy::builder()
        .max_attempts(count(p, "max_attempts", "max_attempts", 3, 1)?)
        .base_delay(millis(p, "base_delay_ms", "base_delay", 1000)?)
        .max_delay(millis(p, "max_delay_ms", "max_delay", 60_000)?);
    if let Some(s) = p.get("backoff") {
        b = b.backoff(s.as_str().expect("backoff name").parse()?);
    }
    if let Some(s) = p.get("jitter") {
        b = b.jitter(s.as_str().expect("jitter name").parse()?);
    }
    if let Some(seed) = p.get("seed") {
        b = b.seed(seed.as_u64().expect("seed"));
    }
    if let Some(codes) = p.get("retryable_status_codes") {
        b = b.retryable_status_codes(
            codes
                .as_array()
                .expect("codes")
                .iter()
                .map(|c| c.as_u64().expect("code") as u16),
        );
    }
    b.build()
}

pub(crate) fn breaker_config(c: &Value) -> Result<BreakerConfig, ConfigError> {
    BreakerConfig::builder()
        .failure_threshold(count(c, "failure_threshold", "failure_threshold", 5, 1)?)
        .recovery_timeout(millis(c, "recovery_timeout_ms", "recovery_timeout", 30_000)?)
        .half_open_max_calls(count(c, "half_open_max_calls", "half_open_max_calls", 1, 1)?)
        .build()
}

pub(crate) fn bulkhead_config(c: &Value) -> Result<BulkheadConfig, ConfigError> {
    BulkheadConfig::new(
        count(c, "max_concurrent", "max_concurrent", 10, 1)?,
        count(c, "max_queue_size", "max_queue_size", 100, 0)?,
        millis(c, "timeout_ms", "timeout", 30_000)?,
    )
}
