//! The circuit breaker, driven by the glue through permit tokens.

use std::cell::Cell;

use js_sys::{Function, Reflect};
use resilience_core::rules::{self, Unit};
use resilience_core::{
    BreakerConfig, BreakerConfigBuilder, BreakerMetrics, CircuitBreaker, CircuitState, ConfigError, ConfigErrorKind,
    PermitMisuse, PermitToken, PipelineError, RejectReason, Rejected, Transition, DEFAULT_MINIMUM_THROUGHPUT,
    DEFAULT_SAMPLING_BUCKETS, DEFAULT_SAMPLING_DURATION,
};
use wasm_bindgen::prelude::*;

use crate::answers::{BreakerAdmission, BreakerRejection, BreakerReport, FilterVerdict};
use crate::clock::JsClock;
use crate::config::{config_error, snapshot_error, to_millis};
use crate::value::{given, required, value_of};

// Shared (fleet) mode for `resilience-wasm/redis` (issue 12): src/fleet.rs.
#[path = "fleet.rs"]
pub(crate) mod fleet;

/// The largest integer a JavaScript number holds exactly, plus one: tokens
/// handed to JavaScript are below it.
const JS_EXACT: u64 = 1 << 53;

/// How the breaker's options spell core's parameters (option paths).
fn breaker_names(parameter: &str) -> Option<&'static str> {
    Some(match parameter {
        "failure_rate" | "window" => "failureRate",
        "failure_ratio" => "failureRate.ratio",
        "minimum_throughput" => "failureRate.minimumThroughput",
        "sampling_duration" => "failureRate.samplingDurationMs",
        "sampling_buckets" => "failureRate.buckets",
        "window_size" => "failureRate.windowSize",
        "slow_call" => "slowCall",
        "slow_call_duration" => "slowCall.durationMs",
        "slow_call_ratio" => "slowCall.ratio",
        "break_backoff" => "breakBackoff",
        "backoff" => "breakBackoff.backoff",
        "max_recovery_timeout" => "breakBackoff.maxMs",
        "initial_state" => "initialState",
        _ => return None,
    })
}

/// Core's states, by the code `state_code` gives.
const STATES: [CircuitState; 4] = [
    CircuitState::Closed,
    CircuitState::Open,
    CircuitState::HalfOpen,
    CircuitState::Isolated,
];

fn state_code(state: CircuitState) -> u8 {
    // Every state core has is listed; a new one would read as isolated.
    STATES.iter().position(|s| *s == state).map_or(3, |i| i as u8)
}

/// Core's state names (`closed`, `open`, `half_open`, `isolated`), by code.
#[wasm_bindgen]
pub fn breaker_state_names() -> Vec<String> {
    STATES.iter().map(|s| s.as_str().to_owned()).collect()
}

/// The metrics of the JS API: name and value, in `metrics_values` order.
type Metric = (&'static str, fn(&BreakerMetrics) -> f64);
const METRICS: [Metric; 11] = [
    ("state", |m| f64::from(state_code(m.state))),
    ("consecutiveFailures", |m| f64::from(m.consecutive_failures)),
    ("windowCalls", |m| m.window_calls as f64),
    ("windowFailures", |m| m.window_failures as f64),
    ("windowSlowCalls", |m| m.window_slow_calls as f64),
    ("failureRatio", |m| m.failure_ratio),
    ("slowCallRatio", |m| m.slow_call_ratio),
    ("rejections", |m| m.rejections as f64),
    ("openings", |m| m.openings as f64),
    ("timeInStateMs", |m| to_millis(m.time_in_state)),
    ("breakDurationMs", |m| to_millis(m.break_duration)),
];

/// The names of the breaker metrics, in the order `metrics_values` gives them.
#[wasm_bindgen]
pub fn breaker_metric_names() -> Vec<String> {
    METRICS.iter().map(|(name, _)| (*name).to_owned()).collect()
}

/// What `failureRate` may be (its two shapes).
const FAILURE_RATE_SHAPE: &str =
    "an object { ratio, minimumThroughput, samplingDurationMs, buckets } or { ratio, minimumThroughput, windowSize }";
/// `failureRate` naming both windows: which one is meant cannot be told.
const SLOW_CALL_SHAPE: &str = "an object { durationMs, ratio }";
const BREAK_BACKOFF_SHAPE: &str = "an object { backoff, maxMs }";
const INITIAL_STATE_SHAPE: &str = "the object toJSON() returned, or its JSON text";

/// The breaker's options as the user gave them, for error messages.
struct Given<'a> {
    top: [(&'static str, &'a JsValue); 7],
    nested: Vec<(&'static str, JsValue)>,
}

impl Given<'_> {
    /// The value the user gave for core's `parameter`, if known.
    fn got(&self, parameter: &str) -> JsValue {
        self.top
            .iter()
            .find(|(name, _)| *name == parameter)
            .map(|(_, v)| (*v).clone())
            .or_else(|| {
                self.nested
                    .iter()
                    .find(|(name, _)| *name == parameter)
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or(JsValue::UNDEFINED)
    }

    fn error(&self, e: &ConfigError) -> JsValue {
        // A rule that needs another option names the whole option object.
        let parameter = match (e.kind(), e.parameter()) {
            (ConfigErrorKind::RequiresOther, "slow_call_duration" | "slow_call_ratio") => "slow_call",
            (ConfigErrorKind::RequiresOther, "window") => "failure_rate",
            (_, p) => p,
        };
        config_error(e, breaker_names, &self.got(parameter))
    }
}

/// Field `key` of an option object (a getter that throws propagates).
fn field(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
}

/// Whether `v` is an option object (not null, not an array, not a function).
fn is_object(v: &JsValue) -> bool {
    v.is_object() && !v.is_array()
}

/// The snapshot document of an `initialState` option: the object
/// `toJSON()` returned (written back as JSON, its own `toJSON` run, so a
/// breaker itself will do), or that object's JSON text; `None` when not
/// given. Anything else is the wrong type. A document core cannot read is a
/// snapshot error later, never a closed breaker.
fn snapshot_document(initial_state: &JsValue) -> Result<Option<String>, ConfigError> {
    if initial_state.is_undefined() {
        return Ok(None);
    }
    if let Some(text) = initial_state.as_string() {
        return Ok(Some(text));
    }
    if !is_object(initial_state) {
        return Err(rules::wrong_type(
            "initial_state",
            INITIAL_STATE_SHAPE,
            value_of(initial_state),
        ));
    }
    // A cycle or a bigint makes no JSON: an empty document, which core
    // calls malformed.
    Ok(Some(
        js_sys::JSON::stringify(initial_state)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default(),
    ))
}

/// A core circuit breaker on a JS clock.
///
/// `acquire` returns a permit token as a non-negative number (exact: below
/// 2^53) or a negative [`BreakerAdmission`]; the glue hands the token back
/// to exactly one of `record_success`, `record_failure`, `record_error` or
/// `release`. Core checks every report: a second one, or one with another
/// breaker's token, is refused ([`BreakerReport::PermitMisuse`]) and
/// changes nothing.
#[wasm_bindgen]
#[derive(Debug)]
pub struct BreakerCore {
    breaker: CircuitBreaker<JsClock>,
    /// The low bits of this breaker's tag, as they appear in a JS token.
    tag_low: u64,
    /// The bits of `PermitToken::to_local` (core's mask, read once).
    local_mask: u64,
    /// The remaining open time of the last rejection, in ms.
    last_retry_after_ms: Cell<f64>,
    /// Why the last rejection happened.
    last_reason: Cell<BreakerRejection>,
    /// The last rejection, for its hint (rule `rejection_hint`).
    last_rejected: Cell<Option<Rejected>>,
    /// The last transition a call caused (`transition_code`), or -1.
    last_transition: Cell<i32>,
}

/// A transition as one number: `from * 4 + to`, each an index into
/// `breaker_state_names()`.
fn transition_code(t: Transition) -> i32 {
    i32::from(state_code(t.from)) * 4 + i32::from(state_code(t.to))
}

#[wasm_bindgen]
impl BreakerCore {
    /// Validates and builds a breaker with core's rules; `undefined` options
    /// take core's defaults. `failure_rate`, `slow_call` and `break_backoff`
    /// are the option objects of the JS API; `initial_state` is a snapshot
    /// object (as `toJSON()` returns) to start from. `clock` returns
    /// monotonic milliseconds; `undefined` means `performance.now()`.
    /// `fleet` (a `FleetConfigCore` of `resilience-wasm/redis`) makes it a
    /// shared breaker.
    ///
    /// # Errors
    /// The package's `ConfigError` for a bad option, `SnapshotError` for an
    /// initial state core cannot read, or the clock's error.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        failure_threshold: JsValue,
        recovery_timeout_ms: JsValue,
        half_open_max_calls: JsValue,
        failure_rate: JsValue,
        slow_call: JsValue,
        break_backoff: JsValue,
        initial_state: JsValue,
        clock: Option<Function>,
        fleet: Option<fleet::FleetConfigCore>,
    ) -> Result<BreakerCore, JsValue> {
        let mut given_options = Given {
            top: [
                ("failure_threshold", &failure_threshold),
                ("recovery_timeout", &recovery_timeout_ms),
                ("half_open_max_calls", &half_open_max_calls),
                ("failure_rate", &failure_rate),
                ("slow_call", &slow_call),
                ("break_backoff", &break_backoff),
                ("initial_state", &initial_state),
            ],
            nested: Vec::new(),
        };
        let config = build_config(&mut given_options).map_err(|e| match e {
            Failure::Config(e) => given_options.error(&e),
            Failure::Js(e) => e,
        })?;
        let clock = JsClock::new(clock);
        let breaker = match snapshot_document(&initial_state) {
            Ok(None) => CircuitBreaker::new(config, clock),
            Ok(Some(document)) => {
                let restored =
                    CircuitBreaker::from_snapshot(config, clock, &document).map_err(|e| snapshot_error(&e))?;
                restored.clock().take_error()?;
                restored
            }
            Err(e) => return Err(given_options.error(&e)),
        };
        let breaker = match fleet {
            Some(fleet) => breaker.in_fleet(fleet.config()),
            None => breaker,
        };
        let tag = breaker.token_from_local(0).to_raw();
        let local_mask = breaker.token_from_local(u64::MAX).to_raw() ^ tag;
        Ok(Self {
            tag_low: tag & (JS_EXACT - 1),
            local_mask,
            breaker,
            last_retry_after_ms: Cell::new(0.0),
            last_reason: Cell::new(BreakerRejection::Open),
            last_rejected: Cell::new(None),
            last_transition: Cell::new(-1),
        })
    }

    /// Asks to run one call: a token (>= 0), `BreakerAdmission::Rejected`
    /// (then `retry_after_ms` and `reject_reason` say how long and why), or
    /// `BreakerAdmission::ClockFailed` (then `take_clock_error` returns the
    /// clock's error; no permit is held).
    ///
    /// `now_ms` is the clock's reading taken by the glue (see
    /// `reads_clock_when_closed`), or `undefined` to let core read the clock
    /// when it needs to.
    ///
    /// A plain number rather than a `Result`: on the hot path a `Result`
    /// return costs a JS array per call (bench/js).
    pub fn acquire(&self, now_ms: Option<f64>) -> f64 {
        let clock = self.breaker.clock();
        if now_ms.is_some() {
            clock.hold(now_ms);
        }
        let answer = match self.breaker.acquire_token() {
            Ok(token) => {
                if let Some(t) = token.transition() {
                    self.last_transition.set(transition_code(t));
                }
                self.to_js(token)
            }
            Err(rejected) => {
                self.note(rejected);
                BreakerAdmission::Rejected.as_f64()
            }
        };
        clock.release();
        if clock.has_error() {
            if answer >= 0.0 {
                // Ours, issued just now: it cannot be refused.
                let _ = self.breaker.release(self.token_of(answer));
            }
            return BreakerAdmission::ClockFailed.as_f64();
        }
        answer
    }

    /// The next report counts at the clock's last good reading: the glue's
    /// read of the clock failed (it reports that error itself).
    pub fn hold_last_reading(&self) {
        self.breaker.clock().hold(None);
    }

    fn note(&self, rejected: Rejected) {
        self.last_rejected.set(Some(rejected));
        let ms = match rejected.reason {
            // Held open until closed by hand: no time will do.
            RejectReason::Isolated => f64::INFINITY,
            _ => to_millis(rejected.retry_after),
        };
        self.last_retry_after_ms.set(ms);
        self.last_reason.set(BreakerRejection::of(rejected.reason));
    }

    /// A token as a JS number: core's 44-bit local token plus the low bits
    /// of the breaker's tag, so a token of another breaker is refused.
    fn to_js(&self, token: PermitToken) -> f64 {
        (token.to_raw() & (JS_EXACT - 1)) as f64
    }

    /// A JS number back as a token: this breaker's token when its tag bits
    /// are this breaker's; otherwise a token core refuses as another
    /// breaker's (its tag is not this one's: tag 0, which core never gives
    /// out, for numbers no token can be).
    fn token_of(&self, js: f64) -> PermitToken {
        // Saturating: NaN and negatives are 0, huge values u64::MAX.
        let n = js as u64;
        if n >= JS_EXACT || js.fract() != 0.0 {
            PermitToken::from_raw(0)
        } else if n & !self.local_mask == self.tag_low {
            self.breaker.token_from_local(n)
        } else {
            // Tag bits below 2^53 differ from this breaker's: core refuses it.
            PermitToken::from_raw(n)
        }
    }

    /// The exception the user's clock threw during the last call (`undefined`
    /// if none).
    pub fn take_clock_error(&self) -> JsValue {
        self.breaker.clock().take_error().err().unwrap_or(JsValue::UNDEFINED)
    }

    /// The remaining open time, in ms, of the last rejected `acquire`
    /// (`Infinity` when isolated: only `close()` or `reset()` ends it).
    pub fn retry_after_ms(&self) -> f64 {
        self.last_retry_after_ms.get()
    }

    /// Why the last `acquire` was rejected.
    pub fn reject_reason(&self) -> BreakerRejection {
        self.last_reason.get()
    }

    /// Rule `rejection_hint`: the wait in ms a retry honours after the last
    /// rejection (the breaker's remaining open time), or NaN for none.
    pub fn rejection_hint_ms(&self) -> f64 {
        self.last_rejected
            .get()
            .and_then(|r| PipelineError::<()>::BreakerOpen(r).retry_after())
            .map_or(f64::NAN, to_millis)
    }

    /// The transition the last `acquire` or report caused, as
    /// `from * 4 + to` (indices into `breaker_state_names()`), or -1; reading
    /// it clears it. Glue with an event listener reads it after each.
    pub fn take_transition(&self) -> i32 {
        self.last_transition.replace(-1)
    }

    fn noted(&self, result: Result<Option<Transition>, PermitMisuse>) -> Result<(), PermitMisuse> {
        result.map(|t| {
            if let Some(t) = t {
                self.last_transition.set(transition_code(t));
            }
        })
    }

    fn report(&self, result: Result<(), PermitMisuse>) -> f64 {
        let answer = match result {
            Ok(()) => BreakerReport::Recorded,
            Err(_) => BreakerReport::PermitMisuse,
        };
        if answer == BreakerReport::Recorded && self.breaker.clock().has_error() {
            return BreakerReport::ClockFailed.as_f64();
        }
        answer.as_f64()
    }

    /// Runs one report with the glue's reading held (`now_ms`), or the one
    /// `hold_last_reading` held, or reading on demand.
    fn reporting(&self, now_ms: Option<f64>, report: impl FnOnce() -> Result<(), PermitMisuse>) -> f64 {
        let clock = self.breaker.clock();
        if now_ms.is_some() {
            clock.hold(now_ms);
        }
        let result = report();
        clock.release();
        self.report(result)
    }

    /// The call admitted with `token` succeeded: a [`BreakerReport`].
    /// `now_ms` as for `acquire`.
    pub fn record_success(&self, token: f64, now_ms: Option<f64>) -> f64 {
        self.reporting(now_ms, || self.noted(self.breaker.record_success(self.token_of(token))))
    }

    /// The call admitted with `token` failed with a counted error: a [`BreakerReport`].
    pub fn record_failure(&self, token: f64, now_ms: Option<f64>) -> f64 {
        self.reporting(now_ms, || self.noted(self.breaker.record_failure(self.token_of(token))))
    }

    /// The call admitted with `token` ended with an uncounted error, or did
    /// not run: a [`BreakerReport`].
    pub fn release(&self, token: f64, now_ms: Option<f64>) -> f64 {
        self.reporting(now_ms, || self.breaker.release(self.token_of(token)))
    }

    /// The call admitted with `token` failed with an error the `isFailure`
    /// filter judged `verdict`: core's `failing_predicate` rule says whether
    /// it counts (a filter that threw counts it). A [`BreakerReport`].
    pub fn record_error(&self, token: f64, verdict: FilterVerdict, now_ms: Option<f64>) -> f64 {
        if verdict.outcome().counts_as_failure() {
            self.record_failure(token, now_ms)
        } else {
            self.release(token, now_ms)
        }
    }

    /// The state as the view reads it (an open breaker past its break reads
    /// half-open): an index into `breaker_state_names()`.
    pub fn state_code(&self) -> Result<u8, JsValue> {
        let state = self.breaker.state();
        self.breaker.clock().take_error()?;
        Ok(state_code(state))
    }

    /// The core breaker (for the benchmark-only futures path).
    #[cfg(feature = "futures-bench")]
    pub(crate) fn breaker(&self) -> &CircuitBreaker<JsClock> {
        &self.breaker
    }

    /// Counted failures in a row since the last success or reset.
    pub fn failure_count(&self) -> u32 {
        self.breaker.failure_count()
    }

    /// Back to closed with no failures; permits out become stale.
    pub fn reset(&self) -> Result<(), JsValue> {
        self.breaker.reset();
        self.breaker.clock().take_error()
    }

    /// Manual control: closed, as `reset`.
    pub fn close(&self) -> Result<(), JsValue> {
        self.breaker.close();
        self.breaker.clock().take_error()
    }

    /// Manual control: held open until `close` or `reset`.
    pub fn isolate(&self) -> Result<(), JsValue> {
        self.breaker.isolate();
        self.breaker.clock().take_error()
    }

    /// Core's metrics now, as numbers in the order of
    /// `breaker_metric_names()` (the state as its code). Numbers only: a
    /// string or an object built from wasm costs microseconds per field.
    pub fn metrics_values(&self) -> Result<Vec<f64>, JsValue> {
        let m = self.breaker.metrics();
        self.breaker.clock().take_error()?;
        Ok(METRICS.iter().map(|(_, value)| value(&m)).collect())
    }

    /// Core's snapshot document (JSON text; times relative to now).
    pub fn snapshot(&self) -> Result<String, JsValue> {
        let document = self.breaker.snapshot();
        self.breaker.clock().take_error()?;
        Ok(document)
    }

    /// Tokens out now (for leak tests).
    pub fn tokens_outstanding(&self) -> f64 {
        self.breaker.tokens_outstanding() as f64
    }

    /// Whether recording a closed-state outcome reads the clock (core's
    /// `reads_clock_when_closed`: a time window or slow calls): the glue then
    /// reads it for every report.
    pub fn reads_clock_when_closed(&self) -> bool {
        self.breaker.config().reads_clock_when_closed()
    }

    /// Whether admitting a call in closed state reads the clock (the
    /// slow-call rule times each call from its start): the glue then reads
    /// it for every `acquire`. Without a reading core reads on demand, so
    /// this only saves calls from wasm into JavaScript.
    pub fn reads_clock_to_admit(&self) -> bool {
        self.breaker.config().slow_calls().is_some()
    }
}

/// Why a configuration could not be built.
enum Failure {
    Config(ConfigError),
    /// A getter of an option object threw.
    Js(JsValue),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<JsValue> for Failure {
    fn from(e: JsValue) -> Self {
        Self::Js(e)
    }
}

/// Core's config from the options, each value through core's rules.
fn build_config(g: &mut Given<'_>) -> Result<BreakerConfig, Failure> {
    let [(_, failure_threshold), (_, recovery_timeout), (_, half_open), (_, failure_rate), (_, slow_call), (_, break_backoff), _] =
        g.top;
    let mut b = BreakerConfig::builder();
    if let Some(v) = given(failure_threshold) {
        b = b.failure_threshold(rules::count_of("failure_threshold", v)?);
    }
    if let Some(v) = given(recovery_timeout) {
        b = b.recovery_timeout(rules::duration("recovery_timeout", v, Unit::Milliseconds)?);
    }
    if let Some(v) = given(half_open) {
        b = b.half_open_max_calls(rules::count_of("half_open_max_calls", v)?);
    }
    if !failure_rate.is_undefined() {
        b = with_failure_rate(b, failure_rate, g)?;
    }
    if !slow_call.is_undefined() {
        if !is_object(slow_call) {
            return Err(rules::wrong_type("slow_call", SLOW_CALL_SHAPE, value_of(slow_call)).into());
        }
        let duration = g.read(slow_call, "durationMs", "slow_call_duration")?;
        let ratio = g.read(slow_call, "ratio", "slow_call_ratio")?;
        b = b.slow_calls(
            rules::duration("slow_call_duration", required(&duration), Unit::Milliseconds)?,
            rules::ratio("slow_call_ratio", required(&ratio))?,
        );
    }
    if !break_backoff.is_undefined() {
        if !is_object(break_backoff) {
            return Err(rules::wrong_type("break_backoff", BREAK_BACKOFF_SHAPE, value_of(break_backoff)).into());
        }
        let backoff = g.read(break_backoff, "backoff", "backoff")?;
        let max = g.read(break_backoff, "maxMs", "max_recovery_timeout")?;
        b = b.break_backoff(
            rules::backoff(required(&backoff))?,
            rules::duration("max_recovery_timeout", required(&max), Unit::Milliseconds)?,
        );
    }
    Ok(b.build()?)
}

impl Given<'_> {
    /// Field `key` of option object `object`, remembered as core's `parameter`.
    fn read(&mut self, object: &JsValue, key: &str, parameter: &'static str) -> Result<JsValue, JsValue> {
        let v = field(object, key)?;
        self.nested.push((parameter, v.clone()));
        Ok(v)
    }
}

/// `failureRate`: `{ ratio, minimumThroughput, samplingDurationMs, buckets }`
/// (a time window; core's default window when neither of the last two is
/// given) or `{ ratio, minimumThroughput, windowSize }` (a count window).
fn with_failure_rate(
    mut b: BreakerConfigBuilder,
    failure_rate: &JsValue,
    g: &mut Given<'_>,
) -> Result<BreakerConfigBuilder, Failure> {
    if !is_object(failure_rate) {
        return Err(rules::wrong_type("failure_rate", FAILURE_RATE_SHAPE, value_of(failure_rate)).into());
    }
    let ratio = g.read(failure_rate, "ratio", "failure_ratio")?;
    let minimum = g.read(failure_rate, "minimumThroughput", "minimum_throughput")?;
    let sampling = g.read(failure_rate, "samplingDurationMs", "sampling_duration")?;
    let buckets = g.read(failure_rate, "buckets", "sampling_buckets")?;
    let size = g.read(failure_rate, "windowSize", "window_size")?;
    let ratio = rules::ratio("failure_ratio", required(&ratio))?;
    let minimum = match given(&minimum) {
        Some(v) => rules::count_of("minimum_throughput", v)?,
        None => DEFAULT_MINIMUM_THROUGHPUT,
    };
    b = b.failure_rate(ratio, minimum);
    let timed = !sampling.is_undefined() || !buckets.is_undefined();
    match (given(&size), timed) {
        // Both shapes at once: which window is meant cannot be told.
        (Some(_), true) => {
            let other = if sampling.is_undefined() {
                "sampling_buckets"
            } else {
                "sampling_duration"
            };
            Err(rules::conflicts("window_size", other).into())
        }
        (Some(v), false) => Ok(b.count_window(rules::count_of("window_size", v)?)),
        (None, true) => {
            let duration = match given(&sampling) {
                Some(v) => rules::duration("sampling_duration", v, Unit::Milliseconds)?,
                None => DEFAULT_SAMPLING_DURATION,
            };
            let buckets = match given(&buckets) {
                Some(v) => rules::count_of("sampling_buckets", v)?,
                None => DEFAULT_SAMPLING_BUCKETS,
            };
            Ok(b.time_window(duration, buckets))
        }
        (None, false) => Ok(b),
    }
}
