//! The background sync: one thread per store, one script call per shared
//! breaker per interval (sooner after a local transition or a published
//! one), reconnecting with core's backoff. Nothing here decides: the
//! breaker's fleet hooks do.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use redis::ErrorKind;
use resilience_core::{FleetConfig, RetryPolicy};

use crate::link::Link;
use crate::script::BREAKER_SCRIPT;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One kind of shared state, synced by the store's thread: a breaker
/// ([`crate::breaker::BreakerUnit`]), a rate limiter or a retry budget
/// ([`crate::lease::LeaseUnit`]), each with its own script in
/// `redis/scripts/`. The loop, the connection, reconnects, metrics, events
/// and `close()` are the same for every kind.
pub(crate) trait Unit: Send + Sync {
    /// One sync over `link` (one script call, two when re-seeding).
    fn sync(&self, link: &mut Link, shared: &Shared, instance: &str) -> Result<(), SyncError>;
    /// The sync failed or the store closed: decisions are local.
    fn lost(&self);
    /// Whether an opening or closing published under its name makes it
    /// sync at once (breakers; leases do not listen).
    fn hears_events(&self) -> bool {
        true
    }
}

/// One registered unit of a store.
pub(crate) struct Entry {
    /// Its name under the prefix (events name it).
    pub(crate) name: String,
    /// This process's (and this registration's) id in the fleet.
    pub(crate) instance: String,
    pub(crate) due_now: AtomicBool,
    pub(crate) removed: AtomicBool,
    /// Its last sync failed (it decides locally).
    failing: AtomicBool,
    due_at: Mutex<Instant>,
    unit: Box<dyn Unit>,
}

impl Entry {
    pub(crate) fn new(name: String, instance: String, unit: Box<dyn Unit>) -> Self {
        Self {
            name,
            instance,
            due_now: AtomicBool::new(true),
            removed: AtomicBool::new(false),
            failing: AtomicBool::new(true),
            due_at: Mutex::new(Instant::now()),
            unit,
        }
    }

    /// Decisions are local until the next successful sync.
    pub(crate) fn lost(&self) {
        self.unit.lost();
    }

    fn due(&self, now: Instant) -> bool {
        self.due_now.swap(false, Ordering::AcqRel) || *lock(&self.due_at) <= now
    }

    fn due_at(&self) -> Instant {
        *lock(&self.due_at)
    }

    fn sync(&self, link: &mut Link, shared: &Shared) -> Result<(), SyncError> {
        *lock(&self.due_at) = Instant::now() + shared.fleet.sync_interval();
        self.unit.sync(link, shared, &self.instance)
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

fn connect(shared: &Shared) -> Result<Link, SyncError> {
    let con = shared.client.get_connection_with_timeout(shared.connect_timeout)?;
    let timeout = Some(shared.fleet.sync_timeout());
    con.set_read_timeout(timeout)?;
    con.set_write_timeout(timeout)?;
    let mut link = Link::new(con);
    shared.counters.commands.fetch_add(1, Ordering::Relaxed);
    link.load(&BREAKER_SCRIPT)?;
    Ok(link)
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
            if e.name == name && e.instance != publisher && e.unit.hears_events() {
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
            e.lost();
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
            match connect(shared) {
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
                        entry.lost();
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
