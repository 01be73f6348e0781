//! Loading conformance vectors and turning their configs into core types.
#![allow(dead_code)]

pub(crate) mod events;

use std::path::PathBuf;

use resilience_core::rules::{self, Unit};
use resilience_core::{
    BreakerConfig, BulkheadConfig, ConfigError, HedgingConfig, RetryPolicy, RetryPolicyBuilder, Timeout,
};
use serde_json::Value;

pub(crate) mod lease;
pub(crate) mod load;

pub(crate) fn load_all() -> Vec<(String, Value)> {
    load_from("")
}

/// The vectors of a subfolder of `tests/conformance` (`""`: the folder itself).
pub(crate) fn load_from(sub: &str) -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conformance")
        .join(sub);
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

/// A vector value as a binding would receive it (see "Values" in
/// tests/README.md): integers, floats, `{"int": "…"}` for integers of any
/// size, `{"float": "NaN" | "Infinity" | "-Infinity"}`, null, text, booleans.
pub(crate) fn value_of(v: &Value) -> resilience_core::Value {
    use resilience_core::Value as V;
    match v {
        Value::Null => V::Absent,
        Value::Bool(b) => V::Bool(*b),
        Value::String(s) => V::text(s),
        Value::Number(n) => match n.as_i64() {
            Some(i) => V::Int(i128::from(i)),
            None => V::Float(n.as_f64().expect("a number")),
        },
        Value::Object(o) => match (o.get("int"), o.get("float")) {
            (Some(Value::String(digits)), None) => match digits.parse::<i128>() {
                Ok(n) => V::Int(n),
                Err(_) => V::HugeInt {
                    negative: digits.starts_with('-'),
                },
            },
            (None, Some(Value::String(f))) => V::Float(match f.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => panic!("unknown float {other}"),
            }),
            _ => panic!("unknown encoded value {v}"),
        },
        Value::Array(_) => V::other("array"),
    }
}

fn count(v: &Value, key: &str, parameter: &'static str, default: u32, min: u32) -> Result<u32, ConfigError> {
    match v.get(key) {
        None => Ok(default),
        Some(n) => rules::count(parameter, value_of(n), min),
    }
}

fn millis(v: &Value, key: &str, parameter: &'static str, default_ms: u64) -> Result<std::time::Duration, ConfigError> {
    match v.get(key) {
        None => Ok(std::time::Duration::from_millis(default_ms)),
        Some(n) => rules::duration(parameter, value_of(n), Unit::Milliseconds),
    }
}

/// A policy built the way every binding builds one: each value through core's rules.
pub(crate) fn policy_from(p: &Value) -> Result<RetryPolicy, ConfigError> {
    policy_builder_from(p)?.build()
}

/// The builder of [`policy_from`], before `build` (to add a budget).
pub(crate) fn policy_builder_from(p: &Value) -> Result<RetryPolicyBuilder, ConfigError> {
    let mut b = RetryPolicy::builder()
        .max_attempts(count(p, "max_attempts", "max_attempts", 3, 1)?)
        .base_delay(millis(p, "base_delay_ms", "base_delay", 1000)?)
        .max_delay(millis(p, "max_delay_ms", "max_delay", 60_000)?);
    if let Some(s) = p.get("backoff") {
        b = b.backoff(rules::backoff(value_of(s))?);
    }
    if let Some(s) = p.get("jitter") {
        b = b.jitter(rules::jitter(value_of(s))?);
    }
    if let Some(seed) = p.get("seed") {
        b = b.maybe_seed(rules::seed(value_of(seed))?);
    }
    if let Some(v) = p.get("max_elapsed_ms") {
        let d = rules::optional(value_of(v), |v| rules::duration("max_elapsed", v, Unit::Milliseconds))?;
        b = b.maybe_max_elapsed(d);
    }
    if let Some(v) = p.get("attempt_timeout_ms") {
        let d = rules::optional(value_of(v), |v| {
            rules::timeout("attempt_timeout", v, Unit::Milliseconds)
        })?;
        b = b.maybe_attempt_timeout(d);
    }
    if let Some(codes) = p.get("retryable_status_codes") {
        let codes = match codes.as_array() {
            Some(list) => rules::status_codes(list.iter().map(value_of))?,
            None => return Err(rules::status_codes_not_a_collection(value_of(codes))),
        };
        b = b.retryable_status_codes(codes);
    }
    Ok(b)
}

pub(crate) fn breaker_config(c: &Value) -> Result<BreakerConfig, ConfigError> {
    let mut b = BreakerConfig::builder()
        .failure_threshold(count(c, "failure_threshold", "failure_threshold", 5, 1)?)
        .recovery_timeout(millis(c, "recovery_timeout_ms", "recovery_timeout", 30_000)?)
        .half_open_max_calls(count(c, "half_open_max_calls", "half_open_max_calls", 1, 1)?);
    if let Some(ratio) = c.get("failure_ratio") {
        let minimum = count(
            c,
            "minimum_throughput",
            "minimum_throughput",
            resilience_core::DEFAULT_MINIMUM_THROUGHPUT,
            1,
        )?;
        b = b.failure_rate(rules::ratio("failure_ratio", value_of(ratio))?, minimum);
    }
    if c.get("window_size").is_some()
        && (c.get("sampling_duration_ms").is_some() || c.get("sampling_buckets").is_some())
    {
        return Err(rules::conflicts("window_size", "sampling_duration"));
    }
    if let Some(size) = c.get("window_size") {
        b = b.count_window(rules::count_in(
            "window_size",
            value_of(size),
            1,
            resilience_core::MAX_WINDOW_SIZE,
        )?);
    }
    if c.get("sampling_duration_ms").is_some() || c.get("sampling_buckets").is_some() {
        let duration = millis(c, "sampling_duration_ms", "sampling_duration", 30_000)?;
        let buckets = count(
            c,
            "sampling_buckets",
            "sampling_buckets",
            resilience_core::DEFAULT_SAMPLING_BUCKETS,
            1,
        )?;
        b = b.time_window(duration, buckets);
    }
    if let Some(ratio) = c.get("slow_call_ratio") {
        let duration = millis(c, "slow_call_duration_ms", "slow_call_duration", 0)?;
        b = b.slow_calls(duration, rules::ratio("slow_call_ratio", value_of(ratio))?);
    }
    if let Some(strategy) = c.get("break_backoff") {
        let max = millis(c, "max_recovery_timeout_ms", "max_recovery_timeout", 0)?;
        b = b.break_backoff(rules::backoff(value_of(strategy))?, max);
    }
    b.build()
}

pub(crate) fn bulkhead_config(c: &Value) -> Result<BulkheadConfig, ConfigError> {
    BulkheadConfig::builder()
        .max_concurrent(count(c, "max_concurrent", "max_concurrent", 10, 1)?)
        .max_queue_size(count(c, "max_queue_size", "max_queue_size", 100, 0)?)
        .timeout(millis(c, "timeout_ms", "timeout", 30_000)?)
        .build()
}

pub(crate) fn hedging_config(c: &Value) -> Result<HedgingConfig, ConfigError> {
    let mut b = HedgingConfig::builder();
    if let Some(v) = c.get("hedge_delay_ms") {
        b = b.hedge_delay(rules::duration("hedge_delay", value_of(v), Unit::Milliseconds)?);
    }
    if let Some(v) = c.get("max_hedged_attempts") {
        b = b.max_hedged_attempts(rules::hedged_attempts(value_of(v))?);
    }
    b.build()
}

pub(crate) fn timeout_config(c: &Value) -> Result<Timeout, ConfigError> {
    match c.get("timeout_ms") {
        None => Ok(Timeout::default()),
        Some(v) => Timeout::new(rules::timeout("timeout", value_of(v), Unit::Milliseconds)?),
    }
}
