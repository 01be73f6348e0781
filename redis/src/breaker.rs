//! The breaker kind of shared state: one `breaker_sync.lua` call per sync
//! (two when re-seeding), driven by the breaker's fleet hooks through the
//! bookkeeping of `breaker_sync.rs`. Nothing here decides.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use resilience_core::{CircuitBreaker, Clock};

use crate::breaker_sync::{AnswerError, Answered, BreakerSync, NOT_IN_FLIGHT};
use crate::link::Link;
use crate::script::{Reply, Status, BREAKER_SCRIPT};
use crate::sync::{lock, Shared, SyncError, Unit};

/// One shared breaker.
pub(crate) struct BreakerUnit<C: Clock> {
    breaker: Arc<CircuitBreaker<C>>,
    sync: Mutex<BreakerSync>,
}

impl<C: Clock> BreakerUnit<C> {
    pub(crate) fn new(breaker: Arc<CircuitBreaker<C>>, sync: BreakerSync) -> Self {
        Self {
            breaker,
            sync: Mutex::new(sync),
        }
    }

    /// One script call with `args`, as `sync` prepared them.
    fn call(
        &self,
        link: &mut Link,
        shared: &Shared,
        sync: &mut BreakerSync,
        args: &[String],
    ) -> Result<Answered, SyncError> {
        let (reply, commands) = link.run::<Reply>(&BREAKER_SCRIPT, sync.keys(), args);
        shared.counters.commands.fetch_add(commands, Ordering::Relaxed);
        shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
        sync.answer(reply.map_err(SyncError::from)).map_err(|e| match e {
            AnswerError::Reply(e) => e,
            AnswerError::Script(message) => SyncError::Answer(message),
            AnswerError::NotInFlight => SyncError::Answer(NOT_IN_FLIGHT.to_owned()),
        })
    }
}

impl<C: Clock + Send + Sync + 'static> Unit for BreakerUnit<C> {
    /// One sync: publish, count, read the fleet, let the breaker decide.
    fn sync(&self, link: &mut Link, shared: &Shared, _instance: &str) -> Result<(), SyncError> {
        let mut sync = lock(&self.sync);
        let report = self.breaker.fleet_report();
        let args = sync.prepare(&self.breaker, report);
        let mut answered = self.call(link, shared, &mut sync, &args)?;
        if answered.status == Status::Reseed {
            // The store lost this breaker's counts (a restart): the
            // window holds the batch too.
            shared.counters.reseeds.fetch_add(1, Ordering::Relaxed);
            let args = sync.prepare(&self.breaker, report);
            answered = self.call(link, shared, &mut sync, &args)?;
        }
        if answered.published {
            shared.counters.published.fetch_add(1, Ordering::Relaxed);
        }
        if !shared.stop.load(Ordering::Acquire) {
            answered.apply(&self.breaker);
        }
        Ok(())
    }

    fn lost(&self) {
        self.breaker.fleet_lost();
    }
}
