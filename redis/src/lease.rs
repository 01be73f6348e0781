//! The rate limiter and retry budget kinds of shared state: one
//! `limiter_lease.lua` / `budget_lease.lua` call per sync (and one per
//! early lease), driven by core's `Leased` hooks through the bookkeeping
//! of `lease_script.rs`. Nothing here decides.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use resilience_core::Leased;

use crate::lease_script::{LeaseReply, LeaseSync, BUDGET_LEASE, LIMITER_LEASE};
use crate::link::Link;
use crate::script::Script;
use crate::sync::{lock, Shared, SyncError, Unit};

/// The limiter script, for [`Link::run`].
static LIMITER_SCRIPT: Script = Script {
    name: "limiter_lease",
    text: LIMITER_LEASE,
};

/// The budget script, for [`Link::run`].
static BUDGET_SCRIPT: Script = Script {
    name: "budget_lease",
    text: BUDGET_LEASE,
};

/// One shared limiter or budget.
pub(crate) struct LeaseUnit {
    member: Arc<dyn Leased>,
    sync: Mutex<LeaseSync>,
}

impl LeaseUnit {
    pub(crate) fn new(member: Arc<dyn Leased>, sync: LeaseSync) -> Self {
        Self {
            member,
            sync: Mutex::new(sync),
        }
    }
}

impl Unit for LeaseUnit {
    /// One sync: count the deposits, lease, let the member take the grant.
    fn sync(&self, link: &mut Link, shared: &Shared, _instance: &str) -> Result<(), SyncError> {
        let mut sync = lock(&self.sync);
        let args = sync.prepare(self.member.as_ref());
        let script = match sync.script().0 {
            "limiter_lease" => &LIMITER_SCRIPT,
            _ => &BUDGET_SCRIPT,
        };
        let (reply, commands) = link.run::<LeaseReply>(script, sync.keys(), &args);
        shared.counters.commands.fetch_add(commands, Ordering::Relaxed);
        shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                sync.failed(self.member.as_ref());
                return Err(SyncError::from(e));
            }
        };
        let apply = !shared.stop.load(Ordering::Acquire);
        sync.answer(self.member.as_ref(), reply, apply)
            .map(|_| ())
            .map_err(SyncError::Answer)
    }

    fn lost(&self) {
        self.member.lease_lost();
    }

    fn hears_events(&self) -> bool {
        false
    }
}
