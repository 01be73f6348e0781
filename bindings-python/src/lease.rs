//! Shared rate limiters and retry budgets for `resilience.redis` (issue
//! 12): the driver (Python, redis-py) does the I/O; the lease scripts'
//! text, keys and arguments and the sync bookkeeping are the Rust driver's
//! own `redis/src/lease_script.rs`, compiled in here (one copy for every
//! driver), and every decision is core's (the `Leased` hooks).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use resilience_core::{LeaseGrant, LeaseRequest, Leased};

use crate::clock::PyClock;
use crate::load::{LimiterCore, RetryBudgetCore};

/// The Rust driver's lease module, compiled into this crate too.
#[path = "../../redis/src/lease_script.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod lease_script;

use lease_script::{LeaseReply, LeaseSync as Bookkeeping};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The script's reply (a list of four integers, as redis-py returns it).
fn reply_of(reply: &Bound<'_, PyAny>) -> PyResult<LeaseReply> {
    let items: Vec<i64> = reply
        .cast::<PyList>()
        .map_err(|_| PyValueError::new_err("the lease script answered something other than a list"))?
        .extract()
        .map_err(|_| PyValueError::new_err("the lease script answered something other than integers"))?;
    match items.as_slice() {
        [a, b, c, d] => Ok((*a, *b, *c, *d)),
        _ => Err(PyValueError::new_err(format!(
            "the lease script answered {} values, not 4",
            items.len()
        ))),
    }
}

/// One shared limiter's or budget's sync, without I/O: `prepare()` gives
/// the next call's ARGV (`keys` its KEYS, `script_name` which script of
/// `redis/scripts/`); the driver runs it (`EVALSHA`, `EVAL` on
/// `NOSCRIPT`) and hands the reply to `answer(reply)`, or calls `failed()`
/// when the call failed or timed out (its deposits are sent again).
#[pyclass(frozen, module = "resilience._core")]
pub(crate) struct LeaseSync {
    member: Arc<dyn Leased>,
    clock: Arc<PyClock>,
    sync: Mutex<Bookkeeping>,
}

impl LeaseSync {
    fn new(prefix: &str, name: &str, instance: &str, member: Arc<dyn Leased>, clock: Arc<PyClock>) -> Self {
        let sync = Bookkeeping::new(prefix, name, instance, member.as_ref());
        Self {
            member,
            clock,
            sync: Mutex::new(sync),
        }
    }

    /// The object's clock read now (core's hooks read the stored reading).
    fn now(&self, py: Python<'_>) -> PyResult<()> {
        self.clock.refresh(py)
    }
}

#[pymethods]
impl LeaseSync {
    /// The sync of a shared limiter (`RateLimiter(..., store=, name=)`'s core).
    #[staticmethod]
    fn for_limiter(prefix: &str, name: &str, instance: &str, core: &Bound<'_, LimiterCore>) -> Self {
        let inner = &core.get().inner;
        let clock = Arc::clone(inner.clock());
        Self::new(prefix, name, instance, Arc::clone(inner) as Arc<dyn Leased>, clock)
    }

    /// The sync of a shared budget (`RetryBudget(..., store=, name=)`'s core).
    #[staticmethod]
    fn for_budget(prefix: &str, name: &str, instance: &str, core: &Bound<'_, RetryBudgetCore>) -> Self {
        let core = core.get();
        Self::new(
            prefix,
            name,
            instance,
            Arc::clone(&core.budget) as Arc<dyn Leased>,
            Arc::clone(&core.clock),
        )
    }

    #[getter]
    fn name(&self) -> String {
        lock(&self.sync).name().to_owned()
    }

    #[getter]
    fn instance(&self) -> String {
        lock(&self.sync).instance().to_owned()
    }

    /// KEYS of every call.
    #[getter]
    fn keys(&self) -> Vec<String> {
        lock(&self.sync).keys().to_vec()
    }

    /// The script this sync runs: `limiter_lease` or `budget_lease`.
    #[getter]
    fn script_name(&self) -> &'static str {
        lock(&self.sync).script().0
    }

    /// The script's text (`redis/scripts/<script_name>.lua`).
    #[getter]
    fn script(&self) -> &'static str {
        lock(&self.sync).script().1
    }

    /// ARGV of the next call (the object's clock is read).
    fn prepare(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.now(py)?;
        Ok(lock(&self.sync).prepare(self.member.as_ref()))
    }

    /// The script's reply to the call `prepare` gave; with `apply` the
    /// object takes the grant. A reply that is not the script's is a
    /// `ValueError` (as a failed call).
    #[pyo3(signature = (reply, apply=true))]
    fn answer(&self, py: Python<'_>, reply: &Bound<'_, PyAny>, apply: bool) -> PyResult<()> {
        self.now(py)?;
        let mut sync = lock(&self.sync);
        match reply_of(reply) {
            Ok(r) => sync
                .answer(self.member.as_ref(), r, apply)
                .map(|_| ())
                .map_err(PyValueError::new_err),
            Err(e) => {
                sync.failed(self.member.as_ref());
                Err(e)
            }
        }
    }

    /// The call `prepare` gave failed or timed out: decisions are local
    /// until a sync succeeds; its deposits are sent again.
    fn failed(&self) {
        lock(&self.sync).failed(self.member.as_ref());
    }

    /// Decisions are local (the store closed or is down).
    fn lost(&self) {
        self.member.lease_lost();
    }

    /// The fleet as last seen: a dict with `live`, `pool`, `lease_size`,
    /// `fleet_size`, `available`, `leases`, `granted`, `early_leases` and `since_sync`
    /// (seconds, `None` before the first sync).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.now(py)?;
        let d = PyDict::new(py);
        if let Some(s) = self.member.lease_status() {
            d.set_item("live", s.live)?;
            d.set_item("pool", s.pool)?;
            d.set_item("lease_size", s.lease_size)?;
            d.set_item("fleet_size", s.fleet_size)?;
            d.set_item("available", s.available)?;
            d.set_item("leases", s.leases)?;
            d.set_item("granted", s.granted)?;
            d.set_item("early_leases", s.early_leases)?;
            d.set_item("since_sync", s.since_sync.map(|d| d.as_secs_f64()))?;
        }
        Ok(d)
    }

    /// Registers `wake()`, called (with no arguments, from the thread whose
    /// call found the pool short) to ask for an early lease: keep it short.
    /// An exception it raises goes to `sys.unraisablehook`. Returns `False`
    /// if one is set already.
    fn set_waker(&self, wake: Py<PyAny>) -> bool {
        self.member.set_lease_waker(Box::new(move || {
            Python::attach(|py| {
                if let Err(e) = wake.call0(py) {
                    e.write_unraisable(py, Some(wake.bind(py)));
                }
            });
        }))
    }

    /// Core's `lease_request` (for the conformance vectors; the driver uses
    /// `prepare`): `(want, deposits)`. Deposits taken here are not sent.
    fn request(&self, py: Python<'_>) -> PyResult<(u32, u64)> {
        self.now(py)?;
        let r = self.member.lease_request();
        Ok((r.want, r.deposits))
    }

    /// Core's `apply_lease` (for the conformance vectors): a grant (`wait`
    /// in seconds, `None`: none told) answering a request for `sent_want`.
    #[pyo3(signature = (granted, wait, available, fleet_size, sent_want))]
    fn apply(
        &self,
        py: Python<'_>,
        granted: u32,
        wait: Option<f64>,
        available: u64,
        fleet_size: u32,
        sent_want: u32,
    ) -> PyResult<()> {
        self.now(py)?;
        let grant = LeaseGrant {
            granted,
            wait: wait.map(|w| Duration::from_secs_f64(w.max(0.0))),
            available,
            fleet_size,
        };
        let sent = LeaseRequest {
            want: sent_want,
            ..LeaseRequest::default()
        };
        self.member.apply_lease(&grant, &sent);
        Ok(())
    }
}

/// Registers the lease class and the script texts in `resilience._core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LeaseSync>()?;
    m.add("LIMITER_LEASE", lease_script::LIMITER_LEASE)?;
    m.add("BUDGET_LEASE", lease_script::BUDGET_LEASE)?;
    Ok(())
}
