//! A breaker's Python arguments as a core `BreakerConfig`: each value goes
//! through core's rules (`count`, `duration`, `ratio`, `backoff_name`,
//! `requires_other`); the binding only pairs the keywords that core's
//! builder takes together.

use pyo3::prelude::*;
use resilience_core::rules;
use resilience_core::{BreakerConfig, DEFAULT_MINIMUM_THROUGHPUT, DEFAULT_SAMPLING_BUCKETS, DEFAULT_SAMPLING_DURATION};

use crate::errors::{config_error, config_error_given};
use crate::value::{self, value_of};

/// The keyword-only options of `SyncCircuitBreaker`, `AsyncCircuitBreaker`
/// and `@circuit_breaker` beyond the original's (issue 9); `None` is "not
/// given".
pub(crate) struct RateOptions<'a, 'py> {
    pub(crate) failure_ratio: Option<&'a Bound<'py, PyAny>>,
    pub(crate) minimum_throughput: Option<&'a Bound<'py, PyAny>>,
    pub(crate) sampling_duration: Option<&'a Bound<'py, PyAny>>,
    pub(crate) sampling_buckets: Option<&'a Bound<'py, PyAny>>,
    pub(crate) window_size: Option<&'a Bound<'py, PyAny>>,
    pub(crate) slow_call_duration: Option<&'a Bound<'py, PyAny>>,
    pub(crate) slow_call_ratio: Option<&'a Bound<'py, PyAny>>,
    pub(crate) break_backoff: Option<&'a Bound<'py, PyAny>>,
    pub(crate) max_recovery_timeout: Option<&'a Bound<'py, PyAny>>,
}

fn given<'a, 'py>(value: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    value.filter(|v| !v.is_none())
}

/// Rule `requires_other`, named as Python spells the parameters.
fn requires(py: Python<'_>, parameter: &'static str, other: &'static str) -> PyErr {
    config_error(py, &rules::requires(parameter, other))
}

/// Builds and validates the configuration.
pub(crate) fn breaker_config(
    py: Python<'_>,
    failure_threshold: &Bound<'_, PyAny>,
    recovery_timeout: &Bound<'_, PyAny>,
    half_open_max_calls: &Bound<'_, PyAny>,
    options: &RateOptions<'_, '_>,
) -> PyResult<BreakerConfig> {
    let mut b = BreakerConfig::builder()
        .failure_threshold(value::count("failure_threshold", failure_threshold)?)
        .recovery_timeout(value::seconds("recovery_timeout", recovery_timeout)?)
        .half_open_max_calls(value::count("half_open_max_calls", half_open_max_calls)?);
    match given(options.failure_ratio) {
        Some(ratio) => {
            let ratio = value::ratio("failure_ratio", ratio)?;
            let minimum = match given(options.minimum_throughput) {
                Some(m) => value::count("minimum_throughput", m)?,
                None => DEFAULT_MINIMUM_THROUGHPUT,
            };
            b = b.failure_rate(ratio, minimum);
        }
        None => {
            // The window's parameters only work with a failure ratio.
            let window = [
                ("minimum_throughput", options.minimum_throughput),
                ("window_size", options.window_size),
                ("sampling_duration", options.sampling_duration),
                ("sampling_buckets", options.sampling_buckets),
            ];
            if let Some((name, _)) = window.into_iter().find(|(_, v)| given(*v).is_some()) {
                return Err(requires(py, name, "failure_ratio"));
            }
        }
    }
    if let Some(size) = given(options.window_size) {
        // Rule `conflicts_with`: one window, never both.
        for (other, value) in [
            ("sampling_duration", options.sampling_duration),
            ("sampling_buckets", options.sampling_buckets),
        ] {
            if given(value).is_some() {
                return Err(config_error(py, &rules::conflicts("window_size", other)));
            }
        }
        b = b.count_window(value::count("window_size", size)?);
    }
    let (duration, buckets) = (given(options.sampling_duration), given(options.sampling_buckets));
    if duration.is_some() || buckets.is_some() {
        let duration = match duration {
            Some(d) => value::seconds("sampling_duration", d)?,
            None => DEFAULT_SAMPLING_DURATION,
        };
        let buckets = match buckets {
            Some(n) => value::count("sampling_buckets", n)?,
            None => DEFAULT_SAMPLING_BUCKETS,
        };
        b = b.time_window(duration, buckets);
    }
    match (given(options.slow_call_duration), given(options.slow_call_ratio)) {
        (None, None) => {}
        (Some(d), Some(r)) => {
            b = b.slow_calls(
                value::seconds("slow_call_duration", d)?,
                value::ratio("slow_call_ratio", r)?,
            );
        }
        (Some(_), None) => return Err(requires(py, "slow_call_duration", "slow_call_ratio")),
        (None, Some(_)) => return Err(requires(py, "slow_call_ratio", "slow_call_duration")),
    }
    match (given(options.break_backoff), given(options.max_recovery_timeout)) {
        (None, None) => {}
        (Some(strategy), Some(max)) => {
            // Core's rule `backoff_name`, under this parameter's name.
            let strategy = rules::backoff_named("break_backoff", value_of(strategy))
                .map_err(|e| config_error_given(py, &e, Some(strategy)))?;
            b = b.break_backoff(strategy, value::seconds("max_recovery_timeout", max)?);
        }
        (Some(_), None) => return Err(requires(py, "break_backoff", "max_recovery_timeout")),
        (None, Some(_)) => return Err(requires(py, "max_recovery_timeout", "break_backoff")),
    }
    b.build().map_err(|e| config_error(py, &e))
}
