//! The background sync: one thread per store, one script call per shared
//! breaker per interval (sooner after a local transition or a published
//! one), reconnecting with core's backoff. Nothing here decides: the
//! breaker's fleet hooks do.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use redis::ErrorKind;
use resilience_core::{CircuitBreaker, Clock, FleetConfig, FleetDelta, FleetReport, FleetSeed, FleetView, RetryPolicy};

use crate::script::{answer, Answer, Batch, Call, Keys, Loaded, Status};

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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sync thread's own bookkeeping for one shared breaker.
struct EntryState {
    /// The store generation this breaker's counts are in (`None`: seed next).
    generation: Option<String>,
    seq: u64,
    /// A batch sent without an answer: sent again (same seq) until counted.
    unacked: Option<Batch>,
    due_at: Instant,
}

/// One shared breaker of a store.
pub(crate) struct Entry {
    pub(crate) name: String,
    /// This process's (and this registration's) id in the fleet.
    pub(crate) instance: String,
    keys: Keys,
    lease_ttl: Duration,
    member: Arc<dyn Member>,
    pub(crate) due_now: AtomicBool,
    pub(crate) removed: AtomicBool,
    /// Its last sync failed (it decides locally).
    failing: AtomicBool,
    state: Mutex<EntryState>,
}

impl Entry {
    pub(crate) fn new(name: String, instance: String, keys: Keys, fleet: FleetConfig, member: Arc<dyn Member>) -> Self {
        Self {
            name,
            instance,
            keys,
            lease_ttl: fleet.lease_ttl(),
            member,
            due_now: AtomicBool::new(true),
            removed: AtomicBool::new(false),
            failing: AtomicBool::new(true),
            state: Mutex::new(EntryState {
                generation: None,
                seq: 0,
                unacked: None,
                due_at: Instant::now(),
            }),
        }
    }

    /// Decisions are local until the next successful sync.
    pub(crate) fn member_lost(&self) {
        self.member.lost();
    }

    fn due(&self, now: Instant) -> bool {
        self.due_now.swap(false, Ordering::AcqRel) || lock(&self.state).due_at <= now
    }

    fn due_at(&self) -> Instant {
        lock(&self.state).due_at
    }

    /// One sync: publish, count, read the fleet, let the breaker decide.
    fn sync(&self, link: &mut Link, shared: &Shared) -> Result<(), SyncError> {
        let mut st = lock(&self.state);
        st.due_at = Instant::now() + shared.fleet.sync_interval();
        let report = self.member.report();
        let answer = match st.generation.clone() {
            None => {
                // First sync with this store generation: the whole window.
                st.unacked = None;
                self.seed(link, shared, &mut st, &report)?
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
                match self.call(link, shared, &generation, &report, aged, None) {
                    Ok(a) if a.status == Status::Reseed => {
                        // The store lost this breaker's counts (a restart): the
                        // window holds the batch too.
                        shared.counters.reseeds.fetch_add(1, Ordering::Relaxed);
                        self.seed(link, shared, &mut st, &report)?
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

    fn seed(
        &self,
        link: &mut Link,
        shared: &Shared,
        st: &mut EntryState,
        report: &FleetReport,
    ) -> Result<Answer, SyncError> {
        st.generation = None;
        let seed = self.member.seed();
        st.seq = st.seq.saturating_add(1);
        self.call(link, shared, "", report, None, Some((st.seq, &seed)))
    }

    fn call(
        &self,
        link: &mut Link,
        shared: &Shared,
        generation: &str,
        report: &FleetReport,
        batch: Option<(Batch, Duration)>,
        seed: Option<(u64, &FleetSeed)>,
    ) -> Result<Answer, SyncError> {
        let call = Call {
            instance: &self.instance,
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
        let (reply, commands) = link.script.run(&mut link.con, &self.keys.all, &call.args());
        shared.counters.commands.fetch_add(commands, Ordering::Relaxed);
        shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
        let reply = reply.map_err(SyncError::from)?;
        answer(reply).map_err(SyncError::Answer)
    }
}

/// Why a sync failed.
#[derive(Debug)]
pub(crate) enum SyncError {
    /// The connection is gone or too slow: reconnect.
    Link(String),
    /// Redis answered with an error (e.g. a window mismatch): the
    /// connection is fine, this breaker stays local.
    Answer(String),
}

impl From<redis::RedisError> for SyncError {
    fn from(e: redis::RedisError) -> Self {
        let link = e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.kind() == ErrorKind::Io;
        if e.is_timeout() {
            Self::Link(format!("Redis did not answer within the sync timeout ({e})"))
        } else if link {
            Self::Link(e.to_string())
        } else {
            Self::Answer(e.to_string())
        }
    }
}

impl SyncError {
    fn message(&self) -> &str {
        match self {
            Self::Link(m) | Self::Answer(m) => m,
        }
    }
}

/// A connection with the script loaded.
pub(crate) struct Link {
    con: redis::Connection,
    script: Loaded,
}

impl Link {
    fn open(shared: &Shared) -> Result<Self, SyncError> {
        let mut con = shared.client.get_connection_with_timeout(shared.connect_timeout)?;
        let timeout = Some(shared.fleet.sync_timeout());
        con.set_read_timeout(timeout)?;
        con.set_write_timeout(timeout)?;
        shared.counters.commands.fetch_add(1, Ordering::Relaxed);
        let script = Loaded::load(&mut con)?;
        Ok(Self { con, script })
    }
}

/// Counters behind [`crate::StoreMetrics`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connected: AtomicBool,
    pub(crate) degraded: AtomicBool,
    pub(crate) subscribed: AtomicBool,
    pub(crate) syncs: AtomicU64,
    pub(crate) failed_syncs: AtomicU64,
    pub(crate) commands: AtomicU64,
    pub(crate) connects: AtomicU64,
    pub(crate) reseeds: AtomicU64,
    pub(crate) published: AtomicU64,
}

/// What the store's threads share with it.
pub(crate) struct Shared {
    pub(crate) client: redis::Client,
    pub(crate) prefix: String,
    pub(crate) fleet: FleetConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) reconnect: RetryPolicy,
    pub(crate) entries: Mutex<Vec<Arc<Entry>>>,
    pub(crate) stop: AtomicBool,
    wake: AtomicBool,
    pub(crate) sync_thread: OnceLock<Thread>,
    pub(crate) subscriber_thread: OnceLock<Thread>,
    pub(crate) counters: Counters,
    pub(crate) last_error: Mutex<Option<String>>,
}

impl Shared {
    pub(crate) fn new(
        client: redis::Client,
        prefix: String,
        fleet: FleetConfig,
        connect_timeout: Duration,
        reconnect: RetryPolicy,
    ) -> Self {
        let counters = Counters::default();
        // Until the first sync, decisions are local.
        counters.degraded.store(true, Ordering::Release);
        Self {
            client,
            prefix,
            fleet,
            connect_timeout,
            reconnect,
            entries: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            wake: AtomicBool::new(false),
            sync_thread: OnceLock::new(),
            subscriber_thread: OnceLock::new(),
            counters,
            last_error: Mutex::new(None),
        }
    }

    /// Wakes the sync thread (a breaker is due now).
    pub(crate) fn wake(&self) {
        self.wake.store(true, Ordering::Release);
        if let Some(t) = self.sync_thread.get() {
            t.unpark();
        }
    }

    /// Marks the shared breakers named `name` (except `publisher`'s own) due now.
    pub(crate) fn poke(&self, name: &str, publisher: &str) {
        let mut any = false;
        for e in lock(&self.entries).iter() {
            if e.name == name && e.instance != publisher {
                e.due_now.store(true, Ordering::Release);
                any = true;
            }
        }
        if any {
            self.wake();
        }
    }

    pub(crate) fn note_error(&self, message: &str) {
        *lock(&self.last_error) = Some(message.to_owned());
    }

    fn live_entries(&self) -> Vec<Arc<Entry>> {
        let mut entries = lock(&self.entries);
        entries.retain(|e| !e.removed.load(Ordering::Acquire));
        entries.clone()
    }

    /// Every breaker decides locally until a sync succeeds again.
    fn all_lost(&self, entries: &[Arc<Entry>], error: &SyncError) {
        self.counters.degraded.store(true, Ordering::Release);
        self.note_error(error.message());
        for e in entries {
            e.failing.store(true, Ordering::Release);
            e.member.lost();
        }
    }
}

/// The sync thread's body; returns when the store closes.
pub(crate) fn run(shared: &Shared) {
    let _ = shared.sync_thread.set(std::thread::current());
    let mut link: Option<Link> = None;
    let mut failures: i64 = 0;
    let mut retry_at = Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let entries = shared.live_entries();
        if link.is_none() && now >= retry_at {
            match Link::open(shared) {
                Ok(l) => {
                    link = Some(l);
                    failures = 0;
                    shared.counters.connects.fetch_add(1, Ordering::Relaxed);
                    shared.counters.connected.store(true, Ordering::Release);
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    retry_at = Instant::now() + shared.reconnect.calculate_delay(failures);
                    shared.all_lost(&entries, &e);
                }
            }
        }
        let mut wake_at = now + shared.fleet.sync_interval();
        if let Some(l) = link.as_mut() {
            let mut broken = None;
            for entry in &entries {
                if shared.stop.load(Ordering::Acquire) {
                    break;
                }
                if !entry.due(Instant::now()) {
                    continue;
                }
                match entry.sync(l, shared) {
                    Ok(()) => entry.failing.store(false, Ordering::Release),
                    Err(e @ SyncError::Answer(_)) => {
                        entry.failing.store(true, Ordering::Release);
                        shared.counters.failed_syncs.fetch_add(1, Ordering::Relaxed);
                        shared.note_error(e.message());
                        entry.member.lost();
                    }
                    Err(e @ SyncError::Link(_)) => {
                        shared.counters.failed_syncs.fetch_add(1, Ordering::Relaxed);
                        broken = Some(e);
                        break;
                    }
                }
            }
            match broken {
                Some(e) => {
                    link = None;
                    shared.counters.connected.store(false, Ordering::Release);
                    failures = 1;
                    retry_at = Instant::now() + shared.reconnect.calculate_delay(failures);
                    shared.all_lost(&entries, &e);
                    wake_at = retry_at;
                }
                None => {
                    let degraded = entries.iter().any(|e| e.failing.load(Ordering::Acquire));
                    shared.counters.degraded.store(degraded, Ordering::Release);
                    if let Some(next) = entries.iter().map(|e| e.due_at()).min() {
                        wake_at = next;
                    }
                }
            }
        } else {
            shared.counters.connected.store(false, Ordering::Release);
            wake_at = retry_at;
        }
        if !shared.wake.swap(false, Ordering::AcqRel) {
            std::thread::park_timeout(wake_at.saturating_duration_since(Instant::now()));
        }
    }
}
