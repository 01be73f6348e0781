//! Shared (fleet) mode for `resilience.redis`, the Python Redis driver.
//!
//! The driver (Python, redis-py) does the I/O: timers, the connection,
//! `EVALSHA` / `EVAL`, events, reconnects. Everything else is here, in
//! Rust, from the same sources the Rust driver (`resilience-redis`) uses:
//!
//! - [`FleetConfigCore`]: core's `FleetConfig` from Python seconds (rule
//!   `fleet_duration`), and its reconnect backoff (core's `RetryPolicy`);
//! - [`BreakerSync`]: one shared breaker's sync bookkeeping without I/O —
//!   what to send next (`prepare`: the seed, or the unacknowledged batch, or
//!   a new delta, with the report), and what to do with the answer
//!   (`answer`: the breaker's `apply_fleet`) or a failure (`failed`): the
//!   Rust driver's own `redis/src/breaker_sync.rs`, compiled in here, with
//!   Python at its edges;
//! - the script text and its key and argument layout: the Rust driver's own
//!   `redis/src/script.rs`, compiled in here (`BREAKER_SYNC` is
//!   `include_str!` of `redis/scripts/breaker_sync.lua`: one copy);
//! - [`FleetHooks`]: core's fleet hooks on one breaker, for the
//!   conformance vectors in `tests/conformance/fleet/` and for metrics.
//!
//! No decision is taken here: core's hooks take them.
//!
//! A child module of `breaker` (declared there), so it reaches a breaker's
//! core without widening the breaker's own API.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use resilience_core::rules::{self, Unit};
use resilience_core::{CircuitBreaker, FleetConfig, FleetCounts, FleetReport, FleetView, RetryPolicy, Value};

use super::{BreakerCore, BreakerInner, SyncCircuitBreaker};
use crate::clock::PyClock;
use crate::errors::config_error_given;
use crate::value::value_of;

/// The Rust driver's script module: the script text, its keys and its
/// arguments, compiled into this crate too (one layout for every driver).
#[path = "../../redis/src/script.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod script;

/// The Rust driver's breaker sync bookkeeping (it names `script` as its
/// sibling), compiled into this crate too (one bookkeeping for every driver).
#[path = "../../redis/src/breaker_sync.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod breaker_sync;

use breaker_sync::{AnswerError, BreakerSync as Bookkeeping, NOT_IN_FLIGHT};
use script::Reply;

/// The breaker sync script (`redis/scripts/breaker_sync.lua`).
pub(crate) const BREAKER_SYNC: &str = script::BREAKER_SYNC;

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The core breaker behind a `SyncCircuitBreaker` (its native base) or an
/// `AsyncCircuitBreaker`'s `BreakerCore`.
fn inner_of<'a>(breaker: &'a Bound<'_, PyAny>) -> PyResult<&'a BreakerInner> {
    if let Ok(b) = breaker.cast::<SyncCircuitBreaker>() {
        return b.get().inner();
    }
    if let Ok(b) = breaker.cast::<BreakerCore>() {
        return Ok(&b.get().inner);
    }
    Err(PyTypeError::new_err(format!(
        "expected a SyncCircuitBreaker or an AsyncCircuitBreaker's core, got {}",
        crate::value::type_name(breaker)
    )))
}

/// The shared core breaker, its clock read now (core's hooks read the time
/// from the stored reading; see `clock.rs`).
fn shared_core<'a>(breaker: &'a Bound<'_, PyAny>) -> PyResult<&'a CircuitBreaker<PyClock>> {
    let inner = inner_of(breaker)?;
    if inner.core.fleet_config().is_none() {
        return Err(PyValueError::new_err(
            "the breaker is not shared: give it store= and name= when it is created",
        ));
    }
    inner.clock().refresh(breaker.py())?;
    Ok(&inner.core)
}

/// The fleet parameters of a breaker's `fleet=` argument (`None`: unshared).
pub(crate) fn fleet_config_of(fleet: Option<&Bound<'_, PyAny>>) -> PyResult<Option<FleetConfig>> {
    match fleet {
        None => Ok(None),
        Some(f) if f.is_none() => Ok(None),
        Some(f) => Ok(Some(f.cast::<FleetConfigCore>()?.get().config)),
    }
}

/// Core's `FleetConfig` from Python seconds: `sync_interval` (default 0.25)
/// and `sync_timeout` (default 0.05), each at least 1 ms (rule
/// `fleet_duration`); `None` keeps the default. What derives from them —
/// the stale bound, the lease lifetime, the reconnect backoff — is core's.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct FleetConfigCore {
    config: FleetConfig,
    reconnect: RetryPolicy,
}

#[pymethods]
impl FleetConfigCore {
    #[new]
    #[pyo3(signature = (sync_interval=None, sync_timeout=None))]
    fn new(
        py: Python<'_>,
        sync_interval: Option<&Bound<'_, PyAny>>,
        sync_timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let value = |v: Option<&Bound<'_, PyAny>>| v.map_or(Value::Absent, value_of);
        let config = FleetConfig::builder()
            .values(Unit::Seconds, value(sync_interval), value(sync_timeout))
            .build()
            .map_err(|e| {
                let given = if e.parameter() == "sync_interval" {
                    sync_interval
                } else {
                    sync_timeout
                };
                config_error_given(py, &e, given)
            })?;
        Ok(Self {
            reconnect: config.reconnect_policy(),
            config,
        })
    }

    /// Seconds between two syncs.
    #[getter]
    fn sync_interval(&self) -> f64 {
        self.config.sync_interval().as_secs_f64()
    }

    /// The longest sync, in seconds.
    #[getter]
    fn sync_timeout(&self) -> f64 {
        self.config.sync_timeout().as_secs_f64()
    }

    /// A view older than this (seconds) is ignored (rule `fleet_stale`).
    #[getter]
    fn stale_after(&self) -> f64 {
        self.config.stale_after().as_secs_f64()
    }

    /// How long a trial lease lives unless renewed, in seconds.
    #[getter]
    fn lease_ttl(&self) -> f64 {
        self.config.lease_ttl().as_secs_f64()
    }

    /// The wait, in seconds, before reconnecting after the n-th failure in a
    /// row: core's `FleetConfig::reconnect_policy()` (exponential from one
    /// interval to 5 s, equal jitter).
    fn reconnect_delay(&self, failures: i64) -> f64 {
        self.reconnect.calculate_delay(failures).as_secs_f64()
    }

    /// Durations in nanoseconds, for the conformance vectors:
    /// `(sync_interval, sync_timeout, stale_after, lease_ttl)`.
    fn nanos(&self) -> (u64, u64, u64, u64) {
        let c = &self.config;
        (
            nanos(c.sync_interval()),
            nanos(c.sync_timeout()),
            nanos(c.stale_after()),
            nanos(c.lease_ttl()),
        )
    }
}

/// Rule `key_part` for a store's `prefix` or a shared breaker's `name`: a
/// text of 1..=200 bytes without control characters. Returns the text.
#[pyfunction]
pub(crate) fn key_part(py: Python<'_>, parameter: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    let parameter = match parameter {
        "prefix" => "prefix",
        "name" => "name",
        other => return Err(PyValueError::new_err(format!("no key part named {other:?}"))),
    };
    rules::key_part(parameter, value_of(value)).map_err(|e| config_error_given(py, &e, Some(value)))
}

/// Rule `fleet_duration` on a store's `connect_timeout` (seconds, at
/// least 1 ms). Returns the seconds.
#[pyfunction]
pub(crate) fn connect_timeout(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    rules::fleet_duration("connect_timeout", value_of(value), Unit::Seconds)
        .map(|d| d.as_secs_f64())
        .map_err(|e| config_error_given(py, &e, Some(value)))
}

/// The `store=` / `name=` pair of a breaker, limiter or budget: both or
/// neither (core's `rules::shared_name`: rule `requires_other`, the name
/// through rule `key_part`). Returns the name (`None` when unshared).
#[pyfunction]
pub(crate) fn shared_name(py: Python<'_>, store_given: bool, name: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let given = (!name.is_none()).then(|| value_of(name));
    rules::shared_name(store_given, given).map_err(|e| config_error_given(py, &e, (!name.is_none()).then_some(name)))
}

/// What `fleet_report()` returned: give it back to `apply(view, sent)`.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct FleetReportCore {
    report: FleetReport,
}

#[pymethods]
impl FleetReportCore {
    /// Break left of a local opening to publish, in nanoseconds (`None`: none).
    #[getter]
    fn opened_ns(&self) -> Option<u64> {
        self.report.opened.map(nanos)
    }
    /// A local trial closed the breaker.
    #[getter]
    fn closed(&self) -> bool {
        self.report.closed
    }
    /// The local break left, in nanoseconds.
    #[getter]
    fn open_remaining_ns(&self) -> u64 {
        nanos(self.report.open_remaining)
    }
    /// Trial leases wanted.
    #[getter]
    fn leases_wanted(&self) -> u32 {
        self.report.leases_wanted
    }
}

/// Core's fleet hooks on one shared breaker (a `SyncCircuitBreaker` or an
/// `AsyncCircuitBreaker`'s `_core`), durations in nanoseconds. The driver
/// uses `BreakerSync`; these are for the conformance vectors, the waker
/// and the fleet status.
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct FleetHooks {
    breaker: Py<PyAny>,
}

impl FleetHooks {
    fn core<'a>(&self, breaker: &'a Bound<'_, PyAny>) -> PyResult<&'a CircuitBreaker<PyClock>> {
        shared_core(breaker)
    }
}

#[pymethods]
impl FleetHooks {
    #[new]
    fn new(breaker: &Bound<'_, PyAny>) -> PyResult<Self> {
        shared_core(breaker)?;
        Ok(Self {
            breaker: breaker.clone().unbind(),
        })
    }

    /// `(calls, failures, slow)` counted since the last take.
    fn take_delta(&self, py: Python<'_>) -> PyResult<(u64, u64, u64)> {
        let b = self.breaker.bind(py);
        let c = self.core(b)?.take_delta().counts;
        Ok((c.calls, c.failures, c.slow))
    }

    /// The whole window, `[(age_ns, calls, failures, slow), …]`, newest first.
    fn seed(&self, py: Python<'_>) -> PyResult<Vec<(u64, u64, u64, u64)>> {
        let b = self.breaker.bind(py);
        Ok(self
            .core(b)?
            .fleet_seed()
            .buckets
            .iter()
            .map(|(age, c)| (nanos(*age), c.calls, c.failures, c.slow))
            .collect())
    }

    /// What a driver must publish now.
    fn report(&self, py: Python<'_>) -> PyResult<FleetReportCore> {
        let b = self.breaker.bind(py);
        Ok(FleetReportCore {
            report: self.core(b)?.fleet_report(),
        })
    }

    /// `apply_fleet(view, sent)`: the store's answer (`calls`, `failures`,
    /// `slow`, `open_ns`, `closes`, `leases`) to the sync that published
    /// `sent` (`None`: an empty report). Returns the net transition as
    /// `"from->to"`, or `None`.
    #[pyo3(signature = (calls, failures, slow, open_ns, closes, leases, sent=None))]
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        py: Python<'_>,
        calls: u64,
        failures: u64,
        slow: u64,
        open_ns: u64,
        closes: u64,
        leases: u32,
        sent: Option<&Bound<'_, FleetReportCore>>,
    ) -> PyResult<Option<String>> {
        let b = self.breaker.bind(py);
        let view = FleetView {
            totals: FleetCounts { calls, failures, slow },
            open_remaining: Duration::from_nanos(open_ns),
            closes,
            leases,
        };
        let sent = sent.map_or_else(FleetReport::default, |s| s.get().report);
        Ok(self
            .core(b)?
            .apply_fleet(&view, &sent)
            .map(|t| format!("{}->{}", t.from.as_str(), t.to.as_str())))
    }

    /// The sync failed: decisions are local until the next `apply`.
    fn lost(&self, py: Python<'_>) -> PyResult<()> {
        let b = self.breaker.bind(py);
        self.core(b)?.fleet_lost();
        Ok(())
    }

    /// The fleet as the breaker last saw it: a dict with `live`, `calls`,
    /// `failures`, `slow`, `leases`, `remote_opens`, `remote_closes` and
    /// `since_sync` (seconds, `None` before the first sync).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let b = self.breaker.bind(py);
        let s = self
            .core(b)?
            .fleet_status()
            .ok_or_else(|| PyRuntimeError::new_err("not shared"))?;
        let d = PyDict::new(py);
        d.set_item("live", s.live)?;
        d.set_item("calls", s.totals.calls)?;
        d.set_item("failures", s.totals.failures)?;
        d.set_item("slow", s.totals.slow)?;
        d.set_item("leases", s.leases)?;
        d.set_item("remote_opens", s.remote_opens)?;
        d.set_item("remote_closes", s.remote_closes)?;
        d.set_item("since_sync", s.since_sync.map(|d| d.as_secs_f64()))?;
        Ok(d)
    }

    /// `(bucket_width_ns, buckets)` of the fleet window, or `None`.
    fn window(&self, py: Python<'_>) -> PyResult<Option<(u64, u32)>> {
        let b = self.breaker.bind(py);
        Ok(self.core(b)?.fleet_window().map(|(w, n)| (nanos(w), n)))
    }

    /// How long a store keeps the breaker's keys without a sync, in nanoseconds.
    fn key_ttl(&self, py: Python<'_>) -> PyResult<u64> {
        let b = self.breaker.bind(py);
        Ok(nanos(self.core(b)?.fleet_key_ttl()))
    }

    /// Registers `wake()`, called (with no arguments, from the thread whose
    /// call caused it) when a local transition waits to be published. Keep
    /// it short: set a flag or an event. An exception it raises is reported
    /// through `sys.unraisablehook`. Returns `False` if one is already set
    /// (a breaker is shared once).
    fn set_waker(&self, py: Python<'_>, wake: Py<PyAny>) -> PyResult<bool> {
        let b = self.breaker.bind(py);
        let core = self.core(b)?;
        Ok(core.set_fleet_waker(move || {
            Python::attach(|py| {
                if let Err(e) = wake.call0(py) {
                    e.write_unraisable(py, Some(wake.bind(py)));
                }
            });
        }))
    }
}

/// One shared breaker's sync, without I/O: `prepare(breaker)` gives the
/// script's ARGV for the next call (`keys` are its KEYS), the driver runs
/// it (`EVALSHA`, `EVAL` on `NOSCRIPT`) and hands the reply to
/// `answer(breaker, reply)`, or calls `failed(breaker)` when the call
/// failed or timed out (the batch is sent again, counted once).
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct BreakerSync {
    sync: Mutex<Bookkeeping>,
}

fn text_of(item: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = item.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    if let Ok(s) = item.cast::<PyString>() {
        return Ok(s.to_string_lossy().into_owned());
    }
    Ok(item.str()?.to_string_lossy().into_owned())
}

/// The script's reply (a list as redis-py returns it) as the Rust driver reads it.
fn reply_of(reply: &Bound<'_, PyAny>) -> PyResult<Reply> {
    let items: Vec<Bound<'_, PyAny>> = reply
        .cast::<PyList>()
        .map_err(|_| PyValueError::new_err("the sync script answered something other than a list"))?
        .iter()
        .collect();
    let [generation, status, calls, failures, slow, open_ms, closes, leases, published] = items.as_slice() else {
        return Err(PyValueError::new_err(format!(
            "the sync script answered {} values, not 9",
            items.len()
        )));
    };
    Ok((
        text_of(generation)?,
        status.extract()?,
        calls.extract()?,
        failures.extract()?,
        slow.extract()?,
        open_ms.extract()?,
        closes.extract()?,
        leases.extract()?,
        published.extract()?,
    ))
}

#[pymethods]
impl BreakerSync {
    /// The sync of `breaker` (shared: created with `store=`) under `name`,
    /// for this process's `instance` id.
    #[new]
    fn new(prefix: &str, name: &str, instance: &str, breaker: &Bound<'_, PyAny>) -> PyResult<Self> {
        let sync = Bookkeeping::new(prefix, name, instance, shared_core(breaker)?)
            .ok_or_else(|| PyValueError::new_err("not shared"))?;
        Ok(Self { sync: Mutex::new(sync) })
    }

    /// KEYS of every call.
    #[getter]
    fn keys(&self) -> Vec<String> {
        lock(&self.sync).keys().to_vec()
    }

    /// The store's event channel (`<prefix>:cb:events`).
    #[getter]
    fn channel(&self) -> String {
        lock(&self.sync).channel().to_owned()
    }

    #[getter]
    fn name(&self) -> String {
        lock(&self.sync).name().to_owned()
    }

    #[getter]
    fn instance(&self) -> String {
        lock(&self.sync).instance().to_owned()
    }

    /// Whether the next `prepare` seeds (no store generation known yet).
    #[getter]
    fn seeding(&self) -> bool {
        lock(&self.sync).seeding()
    }

    /// ARGV of the next script call: the whole window when the store's
    /// generation is not known yet, else the batch not yet acknowledged or
    /// the calls counted since the last take; with the report to publish.
    fn prepare(&self, breaker: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let core = shared_core(breaker)?;
        Ok(lock(&self.sync).prepare(core, core.fleet_report()))
    }

    /// The script's reply to the call `prepare` gave: `(status, published)`,
    /// status 0 counted, 2 seeded, 3 the store restarted (call `prepare`
    /// again: it seeds). With `apply`, the breaker takes the fleet's view
    /// (core's `apply_fleet`). A reply that is not the script's is an error
    /// (`ValueError`), as a failed call.
    #[pyo3(signature = (breaker, reply, apply=true))]
    fn answer(&self, breaker: &Bound<'_, PyAny>, reply: &Bound<'_, PyAny>, apply: bool) -> PyResult<(u8, bool)> {
        let core = shared_core(breaker)?;
        let answered = lock(&self.sync).answer(reply_of(reply)).map_err(|e| match e {
            AnswerError::NotInFlight => PyRuntimeError::new_err(NOT_IN_FLIGHT),
            AnswerError::Reply(e) => e,
            AnswerError::Script(message) => PyValueError::new_err(message),
        })?;
        // The lock is released: a listener called by `apply_fleet` may sync.
        if apply {
            answered.apply(core);
        }
        Ok((answered.status.code(), answered.published))
    }

    /// The call `prepare` gave failed or timed out: its batch is sent again
    /// (and counted once) by the next call; the breaker decides locally
    /// until a sync succeeds.
    fn failed(&self, breaker: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = shared_core(breaker)?;
        lock(&self.sync).failed();
        core.fleet_lost();
        Ok(())
    }

    /// The breaker decides locally (the store closed, or is down).
    fn lost(&self, breaker: &Bound<'_, PyAny>) -> PyResult<()> {
        shared_core(breaker)?.fleet_lost();
        Ok(())
    }
}

/// Registers the fleet classes and the script text in `resilience._core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FleetConfigCore>()?;
    m.add_class::<FleetReportCore>()?;
    m.add_class::<FleetHooks>()?;
    m.add_class::<BreakerSync>()?;
    m.add_function(wrap_pyfunction!(key_part, m)?)?;
    m.add_function(wrap_pyfunction!(shared_name, m)?)?;
    m.add_function(wrap_pyfunction!(connect_timeout, m)?)?;
    m.add("BREAKER_SYNC", BREAKER_SYNC)?;
    Ok(())
}
