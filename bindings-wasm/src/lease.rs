//! Shared rate limiters and retry budgets for `resilience-wasm/redis`
//! (issue 12): the glue does the I/O; the lease scripts' text, keys and
//! arguments and the sync bookkeeping are the Rust driver's own
//! `redis/src/lease_script.rs`, compiled in here (one copy for every
//! driver), and every decision is core's (the `Leased` hooks).

use std::cell::RefCell;
use std::sync::Arc;

use js_sys::{Array, Function};
use resilience_core::Leased;
use wasm_bindgen::prelude::*;

use crate::breaker::fleet::{forget_fleet_waker, register_waker, wake};
use crate::config::to_millis;
use crate::held::HeldClock;
use crate::load::{BudgetCore, LimiterCore};

/// The Rust driver's lease module, compiled into this crate too.
#[path = "../../redis/src/lease_script.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod lease_script;

use lease_script::{LeaseReply, LeaseSync};

/// The rate limiter lease script (`redis/scripts/limiter_lease.lua`).
#[wasm_bindgen]
pub fn limiter_lease_script() -> String {
    lease_script::LIMITER_LEASE.to_owned()
}

/// The retry budget lease script (`redis/scripts/budget_lease.lua`).
#[wasm_bindgen]
pub fn budget_lease_script() -> String {
    lease_script::BUDGET_LEASE.to_owned()
}

/// One shared limiter's or budget's sync, without I/O: `prepare(nowMs)`
/// gives the next call's ARGV (`keys()` its KEYS, `script_name()` which
/// script); the driver runs it and hands the reply to `answer`, or calls
/// `failed` when the call failed or timed out. `nowMs` is the object's own
/// clock, read by the glue.
#[wasm_bindgen]
pub struct LeaseSyncCore {
    member: Arc<dyn Leased>,
    clock: HeldClock,
    sync: RefCell<LeaseSync>,
}

impl std::fmt::Debug for LeaseSyncCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseSyncCore").finish_non_exhaustive()
    }
}

/// The script's reply (an array of four numbers, as ioredis gives it).
fn reply_of(reply: &JsValue) -> Result<LeaseReply, String> {
    let items = reply.is_array().then(|| Array::from(reply));
    let n = |i: u32| {
        items
            .as_ref()
            .and_then(|a| a.get(i).as_f64())
            .filter(|x| x.is_finite() && x.fract() == 0.0)
            .map(|x| x as i64)
    };
    match (items.as_ref().map(Array::length), n(0), n(1), n(2), n(3)) {
        (Some(4), Some(a), Some(b), Some(c), Some(d)) => Ok((a, b, c, d)),
        _ => Err("the lease script answered something other than four integers".to_owned()),
    }
}

#[wasm_bindgen]
impl LeaseSyncCore {
    /// The sync of a shared limiter under `name`.
    pub fn for_limiter(prefix: &str, name: &str, instance: &str, core: &LimiterCore) -> LeaseSyncCore {
        let (member, clock) = core.leased();
        Self::new(prefix, name, instance, member, clock)
    }

    /// The sync of a shared budget under `name`.
    pub fn for_budget(prefix: &str, name: &str, instance: &str, core: &BudgetCore) -> LeaseSyncCore {
        let (member, clock) = core.leased();
        Self::new(prefix, name, instance, member, clock)
    }

    /// The name it is shared under.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.sync.borrow().name().to_owned()
    }

    /// This registration's id in the fleet.
    #[wasm_bindgen(getter)]
    pub fn instance(&self) -> String {
        self.sync.borrow().instance().to_owned()
    }

    /// KEYS of every call.
    pub fn keys(&self) -> Vec<String> {
        self.sync.borrow().keys().to_vec()
    }

    /// The script this sync runs (`limiter_lease` or `budget_lease`).
    pub fn script_name(&self) -> String {
        self.sync.borrow().script().0.to_owned()
    }

    /// ARGV of the next call, at the object's clock reading `now_ms`.
    pub fn prepare(&self, now_ms: f64) -> Vec<String> {
        self.clock.set_ms(now_ms);
        self.sync.borrow_mut().prepare(self.member.as_ref())
    }

    /// The script's reply to the call `prepare` gave; with `apply` the
    /// object takes the grant.
    ///
    /// # Errors
    /// A reply that is not the script's (as a failed call).
    pub fn answer(&self, reply: JsValue, apply: bool, now_ms: f64) -> Result<(), JsValue> {
        self.clock.set_ms(now_ms);
        let mut sync = self.sync.borrow_mut();
        let parsed = reply_of(&reply);
        match parsed {
            Ok(r) => sync.answer(self.member.as_ref(), r, apply).map(|_| ()),
            Err(e) => {
                sync.failed(self.member.as_ref());
                Err(e)
            }
        }
        .map_err(|e| JsValue::from(js_sys::Error::new(&e)))
    }

    /// The call `prepare` gave failed or timed out: decisions are local
    /// until a sync succeeds; its deposits are sent again.
    pub fn failed(&self) {
        self.sync.borrow_mut().failed(self.member.as_ref());
    }

    /// Decisions are local (the store closed or is down).
    pub fn lost(&self) {
        self.member.lease_lost();
    }

    /// `[live (0/1), pool, lease_size, fleet_size, available, leases,
    /// granted, since_sync_ms (NaN before the first sync), early_leases]`
    /// at `now_ms`.
    pub fn status(&self, now_ms: f64) -> Vec<f64> {
        self.clock.set_ms(now_ms);
        let Some(s) = self.member.lease_status() else {
            return Vec::new(); // coverage: unreachable — a sync is made only for a shared object
        };
        vec![
            f64::from(u8::from(s.live)),
            s.pool as f64,
            f64::from(s.lease_size),
            f64::from(s.fleet_size),
            s.available as f64,
            s.leases as f64,
            s.granted as f64,
            s.since_sync.map_or(f64::NAN, to_millis),
            s.early_leases as f64,
        ]
    }

    /// Core's `lease_request` at `now_ms` (for the conformance vectors; the
    /// driver uses `prepare`): `[want, deposits]`. Deposits taken here are
    /// not sent.
    pub fn request(&self, now_ms: f64) -> Vec<f64> {
        self.clock.set_ms(now_ms);
        let r = self.member.lease_request();
        vec![f64::from(r.want), r.deposits as f64]
    }

    /// Core's `apply_lease` at `now_ms` (for the conformance vectors): a
    /// grant (`wait_ms` NaN: none told) answering a request that wanted
    /// `sent_want`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(&self, granted: u32, wait_ms: f64, available: f64, fleet_size: u32, sent_want: u32, now_ms: f64) {
        self.clock.set_ms(now_ms);
        let grant = resilience_core::LeaseGrant {
            granted,
            wait: (!wait_ms.is_nan()).then(|| crate::held::reading_ms(wait_ms)),
            available: available as u64,
            fleet_size,
        };
        let sent = resilience_core::LeaseRequest {
            want: sent_want,
            ..resilience_core::LeaseRequest::default()
        };
        self.member.apply_lease(&grant, &sent);
    }

    /// Registers `wake()`, called synchronously when a call finds the pool
    /// short (schedule an early sync). Returns its id for
    /// `forget_fleet_waker`, or -1 when one is set already.
    pub fn set_waker(&self, wake_fn: Function) -> f64 {
        let id = register_waker(wake_fn);
        if self.member.set_lease_waker(Box::new(move || wake(id))) {
            id as f64
        } else {
            forget_fleet_waker(id as f64);
            -1.0
        }
    }
}

impl LeaseSyncCore {
    fn new(prefix: &str, name: &str, instance: &str, member: Arc<dyn Leased>, clock: HeldClock) -> Self {
        let sync = LeaseSync::new(prefix, name, instance, member.as_ref());
        Self {
            member,
            clock,
            sync: RefCell::new(sync),
        }
    }
}
