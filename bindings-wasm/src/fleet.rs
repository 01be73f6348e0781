//! Shared (fleet) mode for `resilience-wasm/redis`, the Node Redis driver.
//!
//! The driver (JavaScript, ioredis) does the I/O: timers, the connection,
//! `EVALSHA` / `EVAL`, events, reconnects. Everything else is here, from
//! the same sources the Rust driver (`resilience-redis`) uses:
//!
//! - [`FleetConfigCore`]: core's `FleetConfig` from milliseconds (rule
//!   `fleet_duration`) and its reconnect backoff (core's `RetryPolicy`);
//! - [`BreakerSync`]: one shared breaker's sync bookkeeping without I/O
//!   (`prepare` the next call's arguments, take its `answer`, or note it
//!   `failed`): the Rust driver's own `redis/src/breaker_sync.rs`, compiled
//!   in, with JS at its edges;
//! - the script text and its key and argument layout: the Rust driver's own
//!   `redis/src/script.rs`, compiled in (`breaker_sync_script()` is
//!   `include_str!` of `redis/scripts/breaker_sync.lua`: one copy);
//! - core's fleet hooks on a [`BreakerCore`] (`fleet_*`), for the
//!   conformance vectors in `tests/conformance/fleet/` and the status.
//!
//! No decision is taken here: core's hooks take them. A child module of
//! `breaker` (declared there), so it reaches the core breaker without
//! widening the breaker's own API.

use std::cell::RefCell;
use std::time::Duration;

use js_sys::{Array, Function};
use resilience_core::rules::{self, Unit};
use resilience_core::{FleetConfig, FleetCounts, FleetReport, FleetView, RetryPolicy};
use wasm_bindgen::prelude::*;

use super::BreakerCore;
use crate::config::{config_error, flat_names, to_millis};
use crate::value::{given, value_of};

/// The Rust driver's script module: the script text, its keys and its
/// arguments, compiled into this crate too (one layout for every driver).
#[path = "../../redis/src/script.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod script;

/// The Rust driver's breaker sync bookkeeping (it names `script` as its
/// sibling), compiled in too (one bookkeeping for every driver).
#[path = "../../redis/src/breaker_sync.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod breaker_sync;

use breaker_sync::{AnswerError, BreakerSync as Bookkeeping, NOT_IN_FLIGHT};
use script::{Reply, Status};

fn error(e: &resilience_core::ConfigError, got: &JsValue) -> JsValue {
    config_error(e, flat_names, got)
}

/// Milliseconds (a whole number of them, as the script and the vectors
/// give them) as a duration.
fn from_millis(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_nanos((ms * 1e6).round() as u64)
    } else {
        Duration::ZERO
    }
}

/// The breaker sync script (`redis/scripts/breaker_sync.lua`), as every driver loads it.
#[wasm_bindgen]
pub fn breaker_sync_script() -> String {
    script::BREAKER_SYNC.to_owned()
}

/// Rule `key_part` for a store's `prefix` or a shared breaker's `name`: a
/// text of 1..=200 bytes without control characters. Returns the text.
///
/// # Errors
/// The package's `ConfigError`.
#[wasm_bindgen]
pub fn key_part(parameter: &str, value: JsValue) -> Result<String, JsValue> {
    let parameter = match parameter {
        "prefix" => "prefix",
        _ => "name",
    };
    rules::key_part(parameter, value_of(&value)).map_err(|e| error(&e, &value))
}

/// The `store` / `name` options of a breaker, limiter or budget: both or
/// neither (core's `rules::shared_name`: rule `requires_other`, the name
/// through rule `key_part`). Returns the name (`undefined` when unshared).
///
/// # Errors
/// The package's `ConfigError`.
#[wasm_bindgen]
pub fn shared_name(store_given: bool, name: JsValue) -> Result<Option<String>, JsValue> {
    let given = (!name.is_undefined() && !name.is_null()).then(|| value_of(&name));
    rules::shared_name(store_given, given).map_err(|e| error(&e, &name))
}

/// Rule `fleet_duration` on a store's `connectTimeoutMs` (at least 1 ms).
///
/// # Errors
/// The package's `ConfigError`.
#[wasm_bindgen]
pub fn connect_timeout_ms(value: JsValue) -> Result<f64, JsValue> {
    rules::fleet_duration("connect_timeout", value_of(&value), Unit::Milliseconds)
        .map(to_millis)
        .map_err(|e| error(&e, &value))
}

/// Core's `FleetConfig` from milliseconds: `syncIntervalMs` (default 250)
/// and `syncTimeoutMs` (default 50), each at least 1 ms (rule
/// `fleet_duration`); `undefined` keeps the default. What derives from
/// them — the stale bound, the lease lifetime, the reconnect backoff — is core's.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct FleetConfigCore {
    config: FleetConfig,
    reconnect: RetryPolicy,
}

#[wasm_bindgen]
impl FleetConfigCore {
    /// Validates both durations.
    ///
    /// # Errors
    /// The package's `ConfigError`.
    #[wasm_bindgen(constructor)]
    pub fn new(sync_interval_ms: JsValue, sync_timeout_ms: JsValue) -> Result<FleetConfigCore, JsValue> {
        let value = |v: &JsValue| given(v).unwrap_or(resilience_core::Value::Absent);
        let config = FleetConfig::builder()
            .values(Unit::Milliseconds, value(&sync_interval_ms), value(&sync_timeout_ms))
            .build()
            .map_err(|e| {
                let got = if e.parameter() == "sync_interval" {
                    &sync_interval_ms
                } else {
                    &sync_timeout_ms
                };
                error(&e, got)
            })?;
        Ok(Self {
            reconnect: config.reconnect_policy(),
            config,
        })
    }

    /// The parameters (for the breaker's constructor).
    pub(crate) fn config(&self) -> FleetConfig {
        self.config
    }

    /// Another handle on the same parameters (a breaker takes its own).
    pub fn copy(&self) -> FleetConfigCore {
        self.clone()
    }

    /// Milliseconds between two syncs.
    #[wasm_bindgen(getter)]
    pub fn sync_interval_ms(&self) -> f64 {
        to_millis(self.config.sync_interval())
    }

    /// The longest sync, in milliseconds.
    #[wasm_bindgen(getter)]
    pub fn sync_timeout_ms(&self) -> f64 {
        to_millis(self.config.sync_timeout())
    }

    /// A view older than this is ignored (rule `fleet_stale`), in ms.
    #[wasm_bindgen(getter)]
    pub fn stale_after_ms(&self) -> f64 {
        to_millis(self.config.stale_after())
    }

    /// How long a trial lease lives unless renewed, in ms.
    #[wasm_bindgen(getter)]
    pub fn lease_ttl_ms(&self) -> f64 {
        to_millis(self.config.lease_ttl())
    }

    /// The wait, in ms, before reconnecting after the n-th failure in a row
    /// (core's `FleetConfig::reconnect_policy()`: exponential from one
    /// interval to 5 s, equal jitter).
    pub fn reconnect_delay_ms(&self, failures: f64) -> f64 {
        to_millis(self.reconnect.calculate_delay(failures as i64))
    }
}

/// What `fleet_report()` returned: give it back to `fleet_apply`.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct FleetReportCore {
    report: FleetReport,
}

#[wasm_bindgen]
impl FleetReportCore {
    /// The report of a sync that published nothing this breaker knows of.
    pub fn empty() -> FleetReportCore {
        Self {
            report: FleetReport::default(),
        }
    }
    /// Break left of a local opening to publish, in ms (`undefined`: none).
    #[wasm_bindgen(getter)]
    pub fn opened_ms(&self) -> Option<f64> {
        self.report.opened.map(to_millis)
    }
    /// A local trial closed the breaker.
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.report.closed
    }
    /// The local break left, in ms.
    #[wasm_bindgen(getter)]
    pub fn open_remaining_ms(&self) -> f64 {
        to_millis(self.report.open_remaining)
    }
    /// Trial leases wanted.
    #[wasm_bindgen(getter)]
    pub fn leases_wanted(&self) -> u32 {
        self.report.leases_wanted
    }
}

thread_local! {
    /// The drivers' wake functions, by id (a core waker must be `Send +
    /// Sync`: it holds the id, never the JS function).
    static WAKERS: RefCell<Vec<Option<Function>>> = const { RefCell::new(Vec::new()) };
}

/// Registers a driver's wake function; returns its id.
pub(crate) fn register_waker(wake_fn: Function) -> usize {
    WAKERS.with(|w| {
        let mut w = w.borrow_mut();
        w.push(Some(wake_fn));
        w.len() - 1
    })
}

pub(crate) fn wake(id: usize) {
    // Cloned out first: the function may register or forget wakers.
    let f = WAKERS.with(|w| w.borrow().get(id).cloned().flatten());
    if let Some(f) = f {
        // A throwing waker must not break the call that caused the transition.
        let _ = f.call0(&JsValue::UNDEFINED);
    }
}

/// Forgets a wake function registered by `fleet_set_waker` (the store
/// closed, or the breaker went away).
#[wasm_bindgen]
pub fn forget_fleet_waker(id: f64) {
    // Not an id (NaN, negative, fractional): nothing to forget.
    if id.is_nan() || id < 0.0 || id.fract() != 0.0 {
        return;
    }
    WAKERS.with(|w| {
        if let Some(slot) = w.borrow_mut().get_mut(id as usize) {
            *slot = None;
        }
    });
}

impl BreakerCore {
    /// Reads the clock's error after a hook (a user clock that threw).
    fn fleet_checked<T>(&self, value: T) -> Result<T, JsValue> {
        self.breaker.clock().take_error()?;
        Ok(value)
    }
}

/// Core's fleet hooks on a shared breaker (durations in ms). Unshared, they
/// are inert (as core's are).
#[wasm_bindgen]
impl BreakerCore {
    /// Whether the breaker is shared (created with a store).
    pub fn fleet_shared(&self) -> bool {
        self.breaker.fleet_config().is_some()
    }

    /// `[calls, failures, slow]` counted since the last take.
    pub fn fleet_take_delta(&self) -> Result<Vec<f64>, JsValue> {
        let c = self.breaker.take_delta().counts;
        self.fleet_checked(vec![c.calls as f64, c.failures as f64, c.slow as f64])
    }

    /// The whole window, flat: `[age_ms, calls, failures, slow, …]`, newest first.
    pub fn fleet_seed(&self) -> Result<Vec<f64>, JsValue> {
        let seed = self.breaker.fleet_seed();
        let flat = seed
            .buckets
            .iter()
            .flat_map(|(age, c)| [to_millis(*age), c.calls as f64, c.failures as f64, c.slow as f64])
            .collect();
        self.fleet_checked(flat)
    }

    /// What a driver must publish now.
    pub fn fleet_report(&self) -> Result<FleetReportCore, JsValue> {
        let report = self.breaker.fleet_report();
        self.fleet_checked(FleetReportCore { report })
    }

    /// `apply_fleet(view, sent)`: the store's answer to the sync that
    /// published `sent`. Returns the net transition `"from->to"`, or `undefined`.
    #[allow(clippy::too_many_arguments)]
    pub fn fleet_apply(
        &self,
        calls: f64,
        failures: f64,
        slow: f64,
        open_ms: f64,
        closes: f64,
        leases: u32,
        sent: &FleetReportCore,
    ) -> Result<Option<String>, JsValue> {
        let view = FleetView {
            totals: FleetCounts {
                calls: calls as u64,
                failures: failures as u64,
                slow: slow as u64,
            },
            open_remaining: from_millis(open_ms),
            closes: closes as u64,
            leases,
        };
        let t = self.breaker.apply_fleet(&view, &sent.report);
        self.fleet_checked(t.map(|t| format!("{}->{}", t.from.as_str(), t.to.as_str())))
    }

    /// The sync failed: decisions are local until the next view.
    pub fn fleet_lost(&self) {
        self.breaker.fleet_lost();
    }

    /// `[live (0/1), calls, failures, slow, leases, remote_opens,
    /// remote_closes, since_sync_ms (NaN before the first sync)]`.
    pub fn fleet_status(&self) -> Result<Vec<f64>, JsValue> {
        let Some(s) = self.breaker.fleet_status() else {
            return Ok(Vec::new());
        };
        self.fleet_checked(vec![
            f64::from(u8::from(s.live)),
            s.totals.calls as f64,
            s.totals.failures as f64,
            s.totals.slow as f64,
            f64::from(s.leases),
            s.remote_opens as f64,
            s.remote_closes as f64,
            s.since_sync.map_or(f64::NAN, to_millis),
        ])
    }

    /// Registers `wake()`, called (synchronously, with no arguments) when a
    /// local transition waits to be published: keep it short (schedule the
    /// sync). Returns its id for `forget_fleet_waker`, or -1 when the
    /// breaker is not shared or already has one.
    pub fn fleet_set_waker(&self, wake_fn: Function) -> f64 {
        let id = register_waker(wake_fn);
        if self.breaker.set_fleet_waker(move || wake(id)) {
            id as f64
        } else {
            forget_fleet_waker(id as f64);
            -1.0
        }
    }
}

/// One shared breaker's sync, without I/O: `prepare(core)` gives the
/// script's ARGV for the next call (`keys()` its KEYS); the driver runs it
/// and hands the reply to `answer`, or calls `failed` when the call failed
/// or timed out (the batch is sent again, counted once).
#[wasm_bindgen]
#[derive(Debug)]
pub struct BreakerSync {
    sync: RefCell<Bookkeeping>,
}

/// The script's reply (an array as ioredis gives it) as the Rust driver reads it.
fn reply_of(reply: &JsValue) -> Result<Reply, String> {
    if !reply.is_array() {
        return Err("the sync script answered something other than an array".to_owned());
    }
    let items = Array::from(reply);
    if items.length() != 9 {
        return Err(format!("the sync script answered {} values, not 9", items.length()));
    }
    let text = |v: JsValue| v.as_string().or_else(|| v.as_f64().map(|n| n.to_string()));
    let n = |i: u32| -> Result<f64, String> {
        items
            .get(i)
            .as_f64()
            .or_else(|| items.get(i).as_string().and_then(|s| s.parse().ok()))
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("the sync script answered a non-number at {i}"))
    };
    Ok((
        text(items.get(0)).ok_or("the sync script answered no generation")?,
        n(1)? as i64,
        n(2)? as u64,
        n(3)? as u64,
        n(4)? as u64,
        n(5)? as u64,
        n(6)? as u64,
        n(7)? as u32,
        n(8)? as i64,
    ))
}

#[wasm_bindgen]
impl BreakerSync {
    /// The sync of a shared breaker under `name` for this process's `instance` id.
    ///
    /// # Errors
    /// When the breaker is not shared.
    #[wasm_bindgen(constructor)]
    pub fn new(prefix: &str, name: &str, instance: &str, core: &BreakerCore) -> Result<BreakerSync, JsValue> {
        let sync = Bookkeeping::new(prefix, name, instance, &core.breaker)
            .ok_or_else(|| JsValue::from(js_sys::TypeError::new("the breaker is not shared")))?;
        Ok(Self {
            sync: RefCell::new(sync),
        })
    }

    /// KEYS of every call.
    pub fn keys(&self) -> Vec<String> {
        self.sync.borrow().keys().to_vec()
    }

    /// The store's event channel (`<prefix>:cb:events`).
    #[wasm_bindgen(getter)]
    pub fn channel(&self) -> String {
        self.sync.borrow().channel().to_owned()
    }

    /// The name the breaker is shared under.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.sync.borrow().name().to_owned()
    }

    /// This registration's instance id.
    #[wasm_bindgen(getter)]
    pub fn instance(&self) -> String {
        self.sync.borrow().instance().to_owned()
    }

    /// ARGV of the next script call: the whole window when the store's
    /// generation is not known yet, else the batch not yet acknowledged or
    /// the calls counted since the last take; with the report to publish.
    ///
    /// # Errors
    /// The user clock's error.
    pub fn prepare(&self, core: &BreakerCore) -> Result<Vec<String>, JsValue> {
        let b = &core.breaker;
        let args = self.sync.borrow_mut().prepare(b, b.fleet_report());
        core.fleet_checked(args)
    }

    /// The script's reply to the call `prepare` gave: `[status, published]`,
    /// status 0 counted, 2 seeded, 3 the store restarted (call `prepare`
    /// again: it seeds). With `apply`, the breaker takes the fleet's view
    /// (core's `apply_fleet`).
    ///
    /// # Errors
    /// A `TypeError` for a reply that is not the script's (as a failed
    /// call), or the user clock's error.
    pub fn answer(&self, core: &BreakerCore, reply: JsValue, apply: bool) -> Result<Vec<f64>, JsValue> {
        // Not borrowed across `apply_fleet`: its listeners are JS.
        let answered = self.sync.borrow_mut().answer(reply_of(&reply)).map_err(|e| match e {
            AnswerError::NotInFlight => JsValue::from(js_sys::Error::new(NOT_IN_FLIGHT)),
            AnswerError::Reply(message) | AnswerError::Script(message) => js_sys::TypeError::new(&message).into(),
        })?;
        if answered.status == Status::Reseed {
            return Ok(vec![f64::from(answered.status.code()), 0.0]);
        }
        if apply {
            answered.apply(&core.breaker);
        }
        core.fleet_checked(vec![
            f64::from(answered.status.code()),
            f64::from(u8::from(answered.published)),
        ])
    }

    /// The call `prepare` gave failed or timed out: its batch is sent again
    /// (counted once) by the next call; the breaker decides locally until a
    /// sync succeeds.
    pub fn failed(&self, core: &BreakerCore) {
        self.sync.borrow_mut().failed();
        core.breaker.fleet_lost();
    }
}
