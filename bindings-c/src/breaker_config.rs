//! The circuit breaker's configuration struct, its defaults (core's), and
//! its conversion into core's `BreakerConfig` through core's rules.

use resilience_core::{
    rules, BreakerConfig, DEFAULT_FAILURE_THRESHOLD, DEFAULT_HALF_OPEN_MAX_CALLS, DEFAULT_MINIMUM_THROUGHPUT,
    DEFAULT_RECOVERY_TIMEOUT, DEFAULT_SAMPLING_BUCKETS, DEFAULT_SAMPLING_DURATION,
};

use crate::boundary::signed_nanos;
use crate::config::{count, duration_ns, ratio};
use crate::events::resilience_event_listener_t;
use crate::retry_policy::{resilience_backoff_t, RESILIENCE_BACKOFF_NONE};
use crate::status::Failure;
use crate::time_source::resilience_time_source_t;
use crate::transition::resilience_transition_listener_t;

/// Which calls a failure-rate rule measures: one of the
/// `RESILIENCE_WINDOW_*` values.
#[allow(non_camel_case_types)]
pub type resilience_window_kind_t = u32;
/// The calls of the last sampling_duration_ns, counted in sampling_buckets
/// buckets; a whole bucket expires at a time (Polly's advanced breaker).
pub const RESILIENCE_WINDOW_TIME: resilience_window_kind_t = 0;
/// The last window_size calls (resilience4j's count-based window).
pub const RESILIENCE_WINDOW_COUNT: resilience_window_kind_t = 1;

/// The windows' names, by RESILIENCE_WINDOW_* value (for the error naming
/// an unknown one).
const WINDOW_NAMES: [&str; 2] = ["time", "count"];

/// Configuration of a circuit breaker. Start from
/// resilience_circuit_breaker_config_default() and set what you need.
///
/// The trip rule: with failure_ratio 0 (the default) the breaker opens after
/// failure_threshold counted failures in a row (the original library's
/// rule). A failure_ratio in (0, 1] selects the failure-rate rule instead:
/// the breaker opens on a failure when its window holds at least
/// minimum_throughput calls and failures / calls >= failure_ratio. The
/// fields of the rule not selected are ignored (not checked).
///
/// Opt-in extras, off at their defaults: the slow-call rule (slow_call_ratio,
/// needs the failure-rate rule) and the break backoff (break_backoff, with
/// max_recovery_timeout_ns).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_circuit_breaker_config_t {
    /// Consecutive rule: counted failures in a row that open the breaker;
    /// 1..=4294967295 (default 5). Ignored with a failure_ratio.
    pub failure_threshold: i64,
    /// How long the breaker stays open before admitting a trial, ns; >= 0
    /// (default 30 s). With a break backoff: the first break.
    pub recovery_timeout_ns: i64,
    /// Concurrent trial calls admitted while half-open; 1..=4294967295 (default 1).
    pub half_open_max_calls: i64,
    /// The clock (`now_ns`); all-NULL (the default) is the system monotonic
    /// clock. The breaker takes ownership of `clock.user_data` on success.
    /// Time windows and slow calls read it too.
    pub clock: resilience_time_source_t,
    /// State-change notifications; all-NULL (the default) means none. The
    /// breaker takes ownership of `listener.user_data` on success.
    pub listener: resilience_transition_listener_t,
    /// The trip rule: 0 (default) is the consecutive rule (failure_threshold);
    /// any other value selects the failure-rate rule and is the failed share
    /// of the window's calls that opens the breaker, in (0, 1]. NaN
    /// (NOT_A_NUMBER), negative values (TOO_SMALL) and values above 1
    /// (TOO_LARGE) are RESILIENCE_ERR_INVALID_CONFIG.
    pub failure_ratio: f64,
    /// Failure-rate rule: calls the window must hold before it can open the
    /// breaker; 1..=4294967295 (default 100).
    pub minimum_throughput: i64,
    /// Failure-rate rule: which calls count, a RESILIENCE_WINDOW_* value
    /// (default RESILIENCE_WINDOW_TIME; any other value is UNKNOWN_NAME).
    /// The other window's fields are not read.
    pub window_kind: resilience_window_kind_t,
    /// Time window: how far back it reaches, ns; at least 1 ns per bucket
    /// (default 30 s).
    pub sampling_duration_ns: i64,
    /// Time window: how many buckets it is split into; 1..=1000 (default 10).
    pub sampling_buckets: i64,
    /// Count window: how many of the latest calls count; 1..=1000000.
    /// 0 (the default) is no size: set it with RESILIENCE_WINDOW_COUNT.
    pub window_size: i64,
    /// Slow-call rule: a call lasting strictly longer than this is slow, ns;
    /// >= 0 (default 0). Used only with a slow_call_ratio.
    pub slow_call_duration_ns: i64,
    /// Slow-call rule: 0 (default) is no slow-call rule; any other value is
    /// the slow share of the window's calls that opens the breaker, in
    /// (0, 1] (checked as failure_ratio). Needs a failure_ratio (else
    /// REQUIRES_OTHER, naming slow_call_duration_ns). A slow trial re-opens
    /// a half-open breaker.
    pub slow_call_ratio: f64,
    /// Break backoff: RESILIENCE_BACKOFF_NONE (default), every break lasts
    /// recovery_timeout_ns; or a RESILIENCE_BACKOFF_* strategy: the n-th
    /// opening in a row lasts that strategy's delay n from
    /// recovery_timeout_ns, capped at max_recovery_timeout_ns; closing
    /// starts over. Another value is UNKNOWN_NAME (naming break_backoff).
    pub break_backoff: resilience_backoff_t,
    /// Break backoff: the longest break, ns; >= recovery_timeout_ns
    /// (BELOW_OTHER). No default (0): set it with a break_backoff.
    pub max_recovery_timeout_ns: i64,
    /// Typed events: RESILIENCE_EVENT_BREAKER_TRANSITION for every state
    /// change (as `listener` hears it), RESILIENCE_EVENT_BREAKER_REJECTED for
    /// every call not admitted (try_acquire's RESILIENCE_ERR_CIRCUIT_OPEN);
    /// all-NULL (the default) means none, at no cost. The breaker takes
    /// ownership of `events.user_data` on success.
    pub events: resilience_event_listener_t,
}

/// Core's defaults: the consecutive rule with threshold 5, recovery 30 s,
/// one half-open trial, system clock, no listener, no events; for a failure-rate rule
/// (off until failure_ratio is set) a minimum throughput of 100 and a 30 s
/// time window in 10 buckets; no slow-call rule, no break backoff.
#[no_mangle]
pub extern "C" fn resilience_circuit_breaker_config_default() -> resilience_circuit_breaker_config_t {
    resilience_circuit_breaker_config_t {
        failure_threshold: i64::from(DEFAULT_FAILURE_THRESHOLD),
        recovery_timeout_ns: signed_nanos(DEFAULT_RECOVERY_TIMEOUT),
        half_open_max_calls: i64::from(DEFAULT_HALF_OPEN_MAX_CALLS),
        clock: resilience_time_source_t::SYSTEM,
        listener: resilience_transition_listener_t::NONE,
        failure_ratio: 0.0,
        minimum_throughput: i64::from(DEFAULT_MINIMUM_THROUGHPUT),
        window_kind: RESILIENCE_WINDOW_TIME,
        sampling_duration_ns: signed_nanos(DEFAULT_SAMPLING_DURATION),
        sampling_buckets: i64::from(DEFAULT_SAMPLING_BUCKETS),
        window_size: 0,
        slow_call_duration_ns: 0,
        slow_call_ratio: 0.0,
        break_backoff: RESILIENCE_BACKOFF_NONE,
        max_recovery_timeout_ns: 0,
        events: resilience_event_listener_t::NONE,
    }
}

impl resilience_circuit_breaker_config_t {
    /// Every field the selected rules use goes through core's rules, and
    /// core's builder checks how they combine; nothing is checked here. A
    /// zero ratio and RESILIENCE_BACKOFF_NONE are C's "not set".
    pub(crate) fn build(&self) -> Result<BreakerConfig, Failure> {
        let mut b = BreakerConfig::builder()
            .recovery_timeout(duration_ns("recovery_timeout", self.recovery_timeout_ns)?)
            .half_open_max_calls(count("half_open_max_calls", self.half_open_max_calls)?);
        if self.failure_ratio == 0.0 {
            b = b.failure_threshold(count("failure_threshold", self.failure_threshold)?);
        } else {
            b = b.failure_rate(
                ratio("failure_ratio", self.failure_ratio)?,
                count("minimum_throughput", self.minimum_throughput)?,
            );
            // Rule `name_index`: RESILIENCE_WINDOW_TIME (0) and _COUNT (1)
            // index WINDOW_NAMES; another value is an unknown name.
            b = match rules::name_index("window_kind", &WINDOW_NAMES, i64::from(self.window_kind))? {
                0 => b.time_window(
                    duration_ns("sampling_duration", self.sampling_duration_ns)?,
                    count("sampling_buckets", self.sampling_buckets)?,
                ),
                _ => b.count_window(count("window_size", self.window_size)?),
            };
        }
        if self.slow_call_ratio != 0.0 {
            b = b.slow_calls(
                duration_ns("slow_call_duration", self.slow_call_duration_ns)?,
                ratio("slow_call_ratio", self.slow_call_ratio)?,
            );
        }
        if self.break_backoff != RESILIENCE_BACKOFF_NONE {
            let strategy = rules::backoff_index("break_backoff", i64::from(self.break_backoff))?;
            b = b.break_backoff(
                strategy,
                duration_ns("max_recovery_timeout", self.max_recovery_timeout_ns)?,
            );
        }
        Ok(b.build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resilience_core::{BackoffStrategy, TripRule, Window};
    use std::time::Duration;

    fn failure(config: resilience_circuit_breaker_config_t) -> (String, String) {
        let f = config.build().unwrap_err();
        let (_, parameter) = f.config.expect("a configuration error");
        (parameter, f.message)
    }

    #[test]
    fn the_default_is_cores_default() {
        let built = resilience_circuit_breaker_config_default().build().unwrap();
        assert_eq!(built, BreakerConfig::default());
    }

    #[test]
    fn a_ratio_selects_the_failure_rate_rule_and_its_window() {
        let mut c = resilience_circuit_breaker_config_default();
        c.failure_ratio = 0.5;
        let built = c.build().unwrap();
        assert_eq!(
            built.trip_rule(),
            TripRule::FailureRate {
                ratio: 0.5,
                minimum_throughput: DEFAULT_MINIMUM_THROUGHPUT,
                window: Window::Time {
                    sampling_duration: DEFAULT_SAMPLING_DURATION,
                    buckets: DEFAULT_SAMPLING_BUCKETS
                }
            }
        );
        c.window_kind = RESILIENCE_WINDOW_COUNT;
        c.window_size = 7;
        c.slow_call_ratio = 1.0;
        c.slow_call_duration_ns = 5;
        c.break_backoff = crate::retry_policy::RESILIENCE_BACKOFF_LINEAR;
        c.max_recovery_timeout_ns = i64::MAX;
        let built = c.build().unwrap();
        assert_eq!(built.window(), Some(Window::Count { size: 7 }));
        assert_eq!(built.slow_calls().map(|s| s.duration), Some(Duration::from_nanos(5)));
        assert_eq!(built.break_backoff().map(|b| b.strategy), Some(BackoffStrategy::Linear));
    }

    #[test]
    fn errors_name_the_c_field() {
        let mut c = resilience_circuit_breaker_config_default();
        c.slow_call_ratio = 0.5;
        let (parameter, message) = failure(c);
        assert_eq!(parameter, "slow_call_duration_ns");
        assert_eq!(
            message,
            "invalid slow_call_duration_ns: must be set together with failure_ratio"
        );
        let mut c = resilience_circuit_breaker_config_default();
        c.break_backoff = 9;
        assert_eq!(failure(c).0, "break_backoff");
        let mut c = resilience_circuit_breaker_config_default();
        c.failure_ratio = 0.5;
        c.window_kind = 2;
        assert_eq!(
            failure(c),
            (
                "window_kind".to_owned(),
                "invalid window_kind: must be one of time, count, got 2".to_owned()
            )
        );
        c.window_kind = RESILIENCE_WINDOW_COUNT;
        assert_eq!(failure(c).0, "window_size");
        let mut c = resilience_circuit_breaker_config_default();
        c.break_backoff = 0;
        assert_eq!(failure(c).0, "max_recovery_timeout_ns");
    }
}
