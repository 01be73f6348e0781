//! The breaker kind of shared state: one `breaker_sync.lua` call per sync,
//! driven by the breaker's fleet hooks. Nothing here decides.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience_core::{CircuitBreaker, Clock, FleetConfig, FleetDelta, FleetReport, FleetSeed, FleetView};

use crate::link::Link;
use crate::script::{answer, Answer, Batch, Call, Keys, Reply, Status, BREAKER_SCRIPT};
use crate::sync::{lock, Shared, SyncError, Unit};

/// What the sync needs of a shared breaker (object-safe, so one store
/// holds breakers of any clock).
pub(crate) trait Member: Send + Sync {
    fn report(&self) -> FleetReport;
    fn take_delta(&self) -> FleetDelta;
    fn seed(&self) -> FleetSeed;
    fn apply(&self, view: &FleetView, sent: &FleetReport);
    fn lost(&self);
    fn now(&self) -> Duration;
    fn window(&self) -> Option<(Duration, u32)>;
    fn key_ttl(&self) -> Duration;
}

impl<C: Clock + Send + Sync + 'static> Member for CircuitBreaker<C> {
    fn report(&self) -> FleetReport {
        self.fleet_report()
    }
    fn take_delta(&self) -> FleetDelta {
        CircuitBreaker::take_delta(self)
    }
    fn seed(&self) -> FleetSeed {
        self.fleet_seed()
    }
    fn apply(&self, view: &FleetView, sent: &FleetReport) {
        self.apply_fleet(view, sent);
    }
    fn lost(&self) {
        self.fleet_lost();
    }
    fn now(&self) -> Duration {
        self.clock().now()
    }
    fn window(&self) -> Option<(Duration, u32)> {
        self.fleet_window()
    }
    fn key_ttl(&self) -> Duration {
        self.fleet_key_ttl()
    }
}

/// The sync thread's bookkeeping for one shared breaker.
#[derive(Default)]
struct State {
    /// The store generation this breaker's counts are in (`None`: seed next).
    generation: Option<String>,
    seq: u64,
    /// A batch sent without an answer: sent again (same seq) until counted.
    unacked: Option<Batch>,
}

/// One shared breaker.
pub(crate) struct BreakerUnit {
    name: String,
    keys: Keys,
    lease_ttl: Duration,
    member: Arc<dyn Member>,
    state: Mutex<State>,
}

impl BreakerUnit {
    pub(crate) fn new(name: String, keys: Keys, fleet: FleetConfig, member: Arc<dyn Member>) -> Self {
        Self {
            name,
            keys,
            lease_ttl: fleet.lease_ttl(),
            member,
            state: Mutex::new(State::default()),
        }
    }

    fn seed(
        &self,
        link: &mut Link,
        shared: &Shared,
        instance: &str,
        st: &mut State,
        report: &FleetReport,
    ) -> Result<Answer, SyncError> {
        st.generation = None;
        let seed = self.member.seed();
        st.seq = st.seq.saturating_add(1);
        self.call(link, shared, instance, "", report, None, Some((st.seq, &seed)))
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        link: &mut Link,
        shared: &Shared,
        instance: &str,
        generation: &str,
        report: &FleetReport,
        batch: Option<(Batch, Duration)>,
        seed: Option<(u64, &FleetSeed)>,
    ) -> Result<Answer, SyncError> {
        let call = Call {
            instance,
            name: &self.name,
            channel: &self.keys.channel,
            generation,
            window: self.member.window(),
            key_ttl: self.member.key_ttl(),
            lease_ttl: self.lease_ttl,
            batch,
            report,
            seed,
        };
        let (reply, commands) = link.run::<Reply>(&BREAKER_SCRIPT, &self.keys.all, &call.args());
        shared.counters.commands.fetch_add(commands, Ordering::Relaxed);
        shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
        answer(reply.map_err(SyncError::from)?).map_err(SyncError::Answer)
    }
}

impl Unit for BreakerUnit {
    /// One sync: publish, count, read the fleet, let the breaker decide.
    fn sync(&self, link: &mut Link, shared: &Shared, instance: &str) -> Result<(), SyncError> {
        let mut st = lock(&self.state);
        let report = self.member.report();
        let answer = match st.generation.clone() {
            // First sync with this store generation: the whole window.
            None => {
                st.unacked = None;
                self.seed(link, shared, instance, &mut st, &report)?
            }
            Some(generation) => {
                let batch = st.unacked.take().or_else(|| {
                    let delta = self.member.take_delta();
                    (!delta.counts.is_zero()).then(|| {
                        st.seq = st.seq.saturating_add(1);
                        Batch { seq: st.seq, delta }
                    })
                });
                let aged = batch.map(|b| (b, self.member.now().saturating_sub(b.delta.taken_at)));
                match self.call(link, shared, instance, &generation, &report, aged, None) {
                    Ok(a) if a.status == Status::Reseed => {
                        // The store lost this breaker's counts (a restart):
                        // the window holds the batch too.
                        shared.counters.reseeds.fetch_add(1, Ordering::Relaxed);
                        self.seed(link, shared, instance, &mut st, &report)?
                    }
                    Ok(a) => a,
                    Err(e) => {
                        st.unacked = batch;
                        return Err(e);
                    }
                }
            }
        };
        st.generation = Some(answer.generation.clone());
        if answer.published {
            shared.counters.published.fetch_add(1, Ordering::Relaxed);
        }
        if !shared.stop.load(Ordering::Acquire) {
            self.member.apply(&answer.view, &report);
        }
        Ok(())
    }

    fn lost(&self) {
        self.member.lost();
    }
}
