//! # resilience-redis
//!
//! Shares [`resilience_core`] circuit breakers across processes through
//! Redis, without putting Redis on the per-call path: every call is decided
//! by the local breaker from its own atomics; one background thread per
//! store syncs each shared breaker with the fleet every `sync_interval`
//! (default 250 ms) by one call of the Lua script in
//! `redis/scripts/breaker_sync.lua` ([`BREAKER_SYNC`], the copy every
//! driver loads). What is shared, the error bounds and the fault behaviour
//! are in `redis/README.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use resilience_core::{BreakerConfig, SystemClock};
//! use resilience_redis::RedisStore;
//!
//! let store = RedisStore::builder("redis://127.0.0.1:6379/0")
//!     .prefix("myapp")
//!     .sync_interval(Duration::from_millis(250))
//!     .build()?;
//! let config = BreakerConfig::builder()
//!     .failure_rate(0.5, 20)
//!     .time_window(Duration::from_secs(30), 10)
//!     .build()?;
//! let payments = store.breaker("payments", config, SystemClock::new())?;
//! let answer = payments.call(|| Ok::<_, std::io::Error>("charged"));
//! store.close();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod breaker;
mod breaker_sync;
mod lease;
mod lease_script;
mod link;
mod script;
mod subscriber;
mod sync;
#[cfg(feature = "test-server")]
pub mod testing;

/// The README's Rust examples, compiled as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use resilience_core::rules::{self, Unit};
use resilience_core::{
    BreakerConfig, CircuitBreaker, Clock, ConfigError, FleetConfig, FleetStatus, JitterRng, LeaseStatus, Leased,
    RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig, RetryPolicy, Value,
};

use breaker::BreakerUnit;
use breaker_sync::BreakerSync;
use lease::LeaseUnit;
use lease_script::LeaseSync;
pub use lease_script::{BUDGET_LEASE, LIMITER_LEASE};
pub use script::BREAKER_SYNC;
use sync::{Entry, Shared};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "resilience";
/// The default connect timeout (connecting happens on the sync thread,
/// never on a call).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the store could not do what was asked.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// A parameter broke one of core's rules (`prefix`, `name`,
    /// `sync_interval`, `sync_timeout`).
    Config(ConfigError),
    /// The URL is not one the `redis` crate accepts (or `rediss://`
    /// without the `tls` feature).
    Url(String),
    /// The breaker (limiter, budget) is not in shared mode: build it with
    /// `.in_fleet(store.fleet_config())` (`…, lease_size)?` for a limiter
    /// or budget), or use [`RedisStore::breaker`] ([`RedisStore::limiter`],
    /// [`RedisStore::budget`]).
    NotShared,
    /// The breaker's fleet parameters are not the store's.
    FleetConfigMismatch {
        /// The store's.
        store: FleetConfig,
        /// The breaker's.
        breaker: FleetConfig,
    },
    /// This breaker (limiter, budget) is already shared: it joins one store once.
    AlreadyShared,
    /// The store is closed.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => e.fmt(f),
            Self::Url(e) => write!(f, "invalid Redis URL: {e}"),
            Self::NotShared => f.write_str("not in shared mode (in_fleet(store.fleet_config(), …))"),
            Self::FleetConfigMismatch { store, breaker } => write!(
                f,
                "the breaker's fleet parameters ({breaker:?}) are not the store's ({store:?})"
            ),
            Self::AlreadyShared => f.write_str("already shared"),
            Self::Closed => f.write_str("the store is closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

/// What a store is doing (a copy; read it again for a newer one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreMetrics {
    /// The sync connection is up.
    pub connected: bool,
    /// Some shared breaker decides locally: not connected, or the last
    /// sync of some breaker failed or timed out (also before the first sync).
    pub degraded: bool,
    /// The event subscription is up.
    pub subscribed: bool,
    /// Script calls made (a re-seed or a `NOSCRIPT` fallback makes two).
    pub syncs: u64,
    /// Syncs that failed or timed out.
    pub failed_syncs: u64,
    /// Every command sent to Redis: script calls, `SCRIPT LOAD`s, `SUBSCRIBE`s.
    pub commands: u64,
    /// Connections made by the sync thread.
    pub connects: u64,
    /// Times a breaker re-seeded a store that lost its counts (a restart).
    pub reseeds: u64,
    /// Openings and closings this process published.
    pub published: u64,
    /// The last error seen, if any.
    pub last_error: Option<String>,
}

/// Builds a [`RedisStore`].
#[derive(Debug, Clone)]
pub struct StoreBuilder {
    url: String,
    prefix: String,
    sync_interval: Duration,
    sync_timeout: Duration,
    connect_timeout: Duration,
    reconnect: Option<RetryPolicy>,
    subscribe: bool,
}

impl StoreBuilder {
    /// Keys go under `<prefix>:cb:{<name>}:…` (default `resilience`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }
    /// Time between two syncs of a shared breaker (default 250 ms, at least 1 ms).
    pub fn sync_interval(mut self, d: Duration) -> Self {
        self.sync_interval = d;
        self
    }
    /// The longest sync (default 50 ms): a slower one is abandoned, the
    /// connection dropped, and decisions stay local until a sync succeeds.
    pub fn sync_timeout(mut self, d: Duration) -> Self {
        self.sync_timeout = d;
        self
    }
    /// The longest connect (default 1 s). Connecting happens on the sync
    /// thread; `close()` does not wait for it.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// The reconnect backoff: `calculate_delay(n)` after the n-th failure
    /// in a row (default [`FleetConfig::reconnect_policy`]).
    pub fn reconnect(mut self, policy: RetryPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }
    /// Whether to listen for openings published by other processes (default
    /// on: they then open within milliseconds; off: within one interval).
    pub fn subscribe(mut self, on: bool) -> Self {
        self.subscribe = on;
        self
    }

    /// Validates and starts the store's threads. Never connects on the
    /// caller's thread: an unreachable Redis is not an error here (the
    /// store starts degraded and connects in the background).
    ///
    /// # Errors
    /// [`Error::Config`] for a parameter outside its range, [`Error::Url`]
    /// for a URL the `redis` crate does not accept.
    pub fn build(self) -> Result<RedisStore, Error> {
        let prefix = rules::key_part("prefix", Value::Text(self.prefix))?;
        let fleet = FleetConfig::builder()
            .sync_interval(self.sync_interval)
            .sync_timeout(self.sync_timeout)
            .build()?;
        let connect_timeout = rules::fleet_duration(
            "connect_timeout",
            Value::Duration(self.connect_timeout),
            Unit::Nanoseconds,
        )?;
        #[cfg(feature = "tls")]
        {
            // rustls needs a process-wide crypto provider; keep one already set.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(self.url.as_str()).map_err(|e| Error::Url(e.to_string()))?;
        let reconnect = self.reconnect.unwrap_or_else(|| fleet.reconnect_policy());
        let shared = Arc::new(Shared::new(client, prefix, fleet, connect_timeout, reconnect));
        let (done, finished) = mpsc::channel();
        let mut threads = vec![spawn("resilience-redis-sync", &shared, &done, sync::run)];
        if self.subscribe {
            threads.push(spawn("resilience-redis-events", &shared, &done, subscriber::run));
        }
        let threads = threads.into_iter().flatten().collect();
        Ok(RedisStore {
            shared,
            threads: Mutex::new(Some((threads, finished))),
        })
    }
}

type Threads = (Vec<JoinHandle<()>>, mpsc::Receiver<()>);

fn spawn(name: &str, shared: &Arc<Shared>, done: &mpsc::Sender<()>, body: fn(&Shared)) -> Option<JoinHandle<()>> {
    let (shared, done) = (Arc::clone(shared), done.clone());
    let handle = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            body(&shared);
            let _ = done.send(());
        })
        .ok()?;
    Some(handle)
}

/// Shares breakers across processes through one Redis (one connection for
/// syncs, one for events, one background thread each).
///
/// Dropping the store closes it ([`RedisStore::close`]).
pub struct RedisStore {
    shared: Arc<Shared>,
    threads: Mutex<Option<Threads>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.shared.prefix)
            .field("fleet", &self.shared.fleet)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store with the defaults (prefix `resilience`, sync every 250 ms,
    /// 50 ms sync timeout). `redis://[user:password@]host[:port][/db]`,
    /// `rediss://…` with the `tls` feature, `unix:///path.sock`.
    ///
    /// # Errors
    /// As [`StoreBuilder::build`].
    pub fn from_url(url: &str) -> Result<Self, Error> {
        Self::builder(url).build()
    }

    /// A builder for a store at `url`.
    pub fn builder(url: &str) -> StoreBuilder {
        let fleet = FleetConfig::default();
        StoreBuilder {
            url: url.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            sync_interval: fleet.sync_interval(),
            sync_timeout: fleet.sync_timeout(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            reconnect: None,
            subscribe: true,
        }
    }

    /// The fleet parameters breakers of this store must have
    /// (`CircuitBreaker::new(…).in_fleet(store.fleet_config())`).
    pub fn fleet_config(&self) -> FleetConfig {
        self.shared.fleet
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// A new breaker shared under `name`.
    ///
    /// # Errors
    /// As [`RedisStore::share`].
    pub fn breaker<C: Clock + Send + Sync + 'static>(
        &self,
        name: &str,
        config: BreakerConfig,
        clock: C,
    ) -> Result<SharedBreaker<C>, Error> {
        let breaker = CircuitBreaker::new(config, clock).in_fleet(self.shared.fleet);
        self.share(Arc::new(breaker), name)
    }

    /// Shares `breaker` (built with `.in_fleet(store.fleet_config())`)
    /// under `name` with every process that shares a breaker of that name
    /// through the same Redis and prefix. The breakers of one name must
    /// have the same window shape (a mismatch is reported in the metrics
    /// and leaves them local). Syncing starts at once, in the background.
    ///
    /// # Errors
    /// [`Error::Config`] for a bad `name`, [`Error::NotShared`],
    /// [`Error::FleetConfigMismatch`], [`Error::AlreadyShared`],
    /// [`Error::Closed`].
    pub fn share<C: Clock + Send + Sync + 'static>(
        &self,
        breaker: Arc<CircuitBreaker<C>>,
        name: &str,
    ) -> Result<SharedBreaker<C>, Error> {
        let name = rules::key_part("name", Value::Text(name.to_owned()))?;
        let fleet = breaker.fleet_config().ok_or(Error::NotShared)?;
        self.check_fleet(fleet)?;
        let instance = instance_id();
        let sync = BreakerSync::new(&self.shared.prefix, &name, &instance, breaker.as_ref()).ok_or(Error::NotShared)?;
        let unit = BreakerUnit::new(Arc::clone(&breaker), sync);
        let entry = Arc::new(Entry::new(name, instance, Box::new(unit)));
        if !breaker.set_fleet_waker(self.waker(&entry)) {
            return Err(Error::AlreadyShared);
        }
        self.register(&entry);
        Ok(SharedBreaker {
            breaker,
            entry,
            shared: Arc::downgrade(&self.shared),
        })
    }

    /// A new rate limiter shared under `name`: every process's limiter of
    /// that name takes its cells from one GCRA in Redis, leasing them in
    /// batches of the default lease size (a quarter of the burst). For
    /// another lease size, build it with
    /// `RateLimiter::new(config, clock).in_fleet(store.fleet_config(), Some(n))?`
    /// and [`share_limiter`](Self::share_limiter).
    ///
    /// # Errors
    /// As [`RedisStore::share_limiter`].
    pub fn limiter<C: Clock + Send + Sync + 'static>(
        &self,
        name: &str,
        config: RateLimiterConfig,
        clock: C,
    ) -> Result<SharedLimiter<C>, Error> {
        let limiter = RateLimiter::new(config, clock).in_fleet(self.shared.fleet, None)?;
        self.share_limiter(Arc::new(limiter), name)
    }

    /// Shares `limiter` (built with `.in_fleet(store.fleet_config(), …)`)
    /// under `name` with every process that shares a limiter of that name
    /// through the same Redis and prefix. Limiters of one name must have
    /// the same rate and burst (a mismatch is reported in the metrics and
    /// leaves that limiter local). Syncing starts at once, in the background.
    ///
    /// # Errors
    /// As [`RedisStore::share`].
    pub fn share_limiter<C: Clock + Send + Sync + 'static>(
        &self,
        limiter: Arc<RateLimiter<C>>,
        name: &str,
    ) -> Result<SharedLimiter<C>, Error> {
        self.share_leased(limiter, name)
    }

    /// A new retry budget shared under `name`: every process's budget of
    /// that name counts its first attempts into one budget in Redis and
    /// draws its retries from it, leased in batches of the default lease
    /// size (a quarter of `min_retries_per_sec`). For another lease size,
    /// build it with `RetryBudget::new(config, clock).in_fleet(store.fleet_config(), Some(n))?`
    /// and [`share_budget`](Self::share_budget).
    ///
    /// # Errors
    /// As [`RedisStore::share_budget`].
    pub fn budget<C: Clock + Send + Sync + 'static>(
        &self,
        name: &str,
        config: RetryBudgetConfig,
        clock: C,
    ) -> Result<SharedBudget, Error> {
        let budget = RetryBudget::new(config, clock).in_fleet(self.shared.fleet, None)?;
        self.share_budget(Arc::new(budget), name)
    }

    /// Shares `budget` (built with `.in_fleet(store.fleet_config(), …)`;
    /// hand the returned handle's [`SharedLease::shared`] to
    /// `RetryPolicy::builder().budget(…)`) under `name`. Budgets of one
    /// name must have the same ttl, ratio and floor.
    ///
    /// # Errors
    /// As [`RedisStore::share`].
    pub fn share_budget(&self, budget: Arc<RetryBudget>, name: &str) -> Result<SharedBudget, Error> {
        self.share_leased(budget, name)
    }

    fn share_leased<T: Leased + 'static>(&self, member: Arc<T>, name: &str) -> Result<SharedLease<T>, Error> {
        let name = rules::key_part("name", Value::Text(name.to_owned()))?;
        let (fleet, _) = member.lease_config().ok_or(Error::NotShared)?;
        self.check_fleet(fleet)?;
        let instance = instance_id();
        let sync = LeaseSync::new(&self.shared.prefix, &name, &instance, member.as_ref());
        let unit = LeaseUnit::new(Arc::clone(&member) as Arc<dyn Leased>, sync);
        let entry = Arc::new(Entry::new(name, instance, Box::new(unit)));
        if !member.set_lease_waker(Box::new(self.waker(&entry))) {
            return Err(Error::AlreadyShared);
        }
        self.register(&entry);
        Ok(SharedLease {
            member,
            entry,
            shared: Arc::downgrade(&self.shared),
        })
    }

    /// The fleet parameters of a breaker, limiter or budget must be the store's.
    fn check_fleet(&self, fleet: FleetConfig) -> Result<(), Error> {
        if fleet != self.shared.fleet {
            return Err(Error::FleetConfigMismatch {
                store: self.shared.fleet,
                breaker: fleet,
            });
        }
        if self.shared.stop.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// What a shared object calls when it wants to sync now: marks its
    /// entry due and wakes the sync thread. Weak references only: the
    /// object must not keep its own registration (or the store) alive.
    fn waker(&self, entry: &Arc<Entry>) -> impl Fn() + Send + Sync + 'static {
        let (weak_entry, weak_shared): (Weak<Entry>, Weak<Shared>) =
            (Arc::downgrade(entry), Arc::downgrade(&self.shared));
        move || {
            if let Some(entry) = weak_entry.upgrade() {
                entry.due_now.store(true, Ordering::Release);
            }
            if let Some(shared) = weak_shared.upgrade() {
                shared.wake();
            }
        }
    }

    fn register(&self, entry: &Arc<Entry>) {
        self.shared
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(entry));
        self.shared.wake();
    }

    /// What the store is doing.
    pub fn metrics(&self) -> StoreMetrics {
        let c = &self.shared.counters;
        StoreMetrics {
            connected: c.connected.load(Ordering::Acquire),
            degraded: c.degraded.load(Ordering::Acquire),
            subscribed: c.subscribed.load(Ordering::Acquire),
            syncs: c.syncs.load(Ordering::Relaxed),
            failed_syncs: c.failed_syncs.load(Ordering::Relaxed),
            commands: c.commands.load(Ordering::Relaxed),
            connects: c.connects.load(Ordering::Relaxed),
            reseeds: c.reseeds.load(Ordering::Relaxed),
            published: c.published.load(Ordering::Relaxed),
            last_error: self
                .shared
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// Syncs every shared breaker now instead of at its next interval.
    pub fn sync_now(&self) {
        for e in self
            .shared
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            e.due_now.store(true, Ordering::Release);
        }
        self.shared.wake();
    }

    /// Stops syncing: the breakers keep working, locally. Returns within
    /// about `sync_timeout` + 100 ms even when Redis is gone: a thread
    /// still blocked in a connect or a read is left to finish on its own
    /// (it then exits without touching the breakers). Idempotent.
    pub fn close(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake();
        if let Some(t) = self.shared.subscriber_thread.get() {
            t.unpark();
        }
        let Some((handles, finished)) = self.threads.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            return;
        };
        let deadline = Instant::now() + self.shared.fleet.sync_timeout() + subscriber::POLL;
        let mut exited = 0;
        while exited < handles.len() {
            match finished.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(()) => exited += 1,
                Err(_) => break,
            }
        }
        for handle in handles {
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
        for entry in self
            .shared
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            entry.lost();
        }
        self.shared.counters.connected.store(false, Ordering::Release);
        self.shared.counters.degraded.store(true, Ordering::Release);
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// A random id for one registration of one breaker in one process.
fn instance_id() -> String {
    let rng = JitterRng::from_entropy();
    format!("{:08x}{:016x}", std::process::id(), rng.next_u64())
}

/// A breaker shared through a [`RedisStore`]: use it as the breaker
/// (`Deref`); dropping it stops syncing it.
pub struct SharedBreaker<C: Clock> {
    breaker: Arc<CircuitBreaker<C>>,
    entry: Arc<Entry>,
    shared: Weak<Shared>,
}

impl<C: Clock + fmt::Debug> fmt::Debug for SharedBreaker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedBreaker")
            .field("name", &self.entry.name)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl<C: Clock> SharedBreaker<C> {
    /// The name it is shared under.
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// The breaker, to hand to other threads.
    pub fn breaker(&self) -> &Arc<CircuitBreaker<C>> {
        &self.breaker
    }

    /// The fleet as this breaker last saw it.
    pub fn fleet_status(&self) -> Option<FleetStatus> {
        self.breaker.fleet_status()
    }

    /// Syncs this breaker now instead of at its next interval.
    pub fn sync_now(&self) {
        self.entry.due_now.store(true, Ordering::Release);
        if let Some(shared) = self.shared.upgrade() {
            shared.wake();
        }
    }
}

impl<C: Clock> Deref for SharedBreaker<C> {
    type Target = CircuitBreaker<C>;
    fn deref(&self) -> &CircuitBreaker<C> {
        &self.breaker
    }
}

impl<C: Clock> Drop for SharedBreaker<C> {
    fn drop(&mut self) {
        self.entry.removed.store(true, Ordering::Release);
        self.breaker.fleet_lost();
        if let Some(shared) = self.shared.upgrade() {
            shared.wake();
        }
    }
}

/// A rate limiter or retry budget shared through a [`RedisStore`]: use it
/// as the limiter or budget (`Deref`); dropping it stops syncing it (the
/// object then decides locally).
pub struct SharedLease<T: Leased> {
    member: Arc<T>,
    entry: Arc<Entry>,
    shared: Weak<Shared>,
}

/// A rate limiter shared through a [`RedisStore`] ([`RedisStore::limiter`]).
pub type SharedLimiter<C> = SharedLease<RateLimiter<C>>;

/// A retry budget shared through a [`RedisStore`] ([`RedisStore::budget`]).
pub type SharedBudget = SharedLease<RetryBudget>;

impl<T: Leased + fmt::Debug> fmt::Debug for SharedLease<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLease")
            .field("name", &self.entry.name)
            .field("member", &self.member)
            .finish_non_exhaustive()
    }
}

impl<T: Leased> SharedLease<T> {
    /// The name it is shared under.
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// The limiter or budget, to hand to other threads (or to
    /// `RetryPolicy::builder().budget(…)`).
    pub fn shared(&self) -> &Arc<T> {
        &self.member
    }

    /// The fleet as last seen: the pool, the fleet size, whether decisions
    /// use the pool (`live`).
    pub fn lease_status(&self) -> Option<LeaseStatus> {
        self.member.lease_status()
    }

    /// Syncs (leases) now instead of at the next interval.
    pub fn sync_now(&self) {
        self.entry.due_now.store(true, Ordering::Release);
        if let Some(shared) = self.shared.upgrade() {
            shared.wake();
        }
    }
}

impl<T: Leased> Deref for SharedLease<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.member
    }
}

impl<T: Leased> Drop for SharedLease<T> {
    fn drop(&mut self) {
        self.entry.removed.store(true, Ordering::Release);
        self.member.lease_lost();
        if let Some(shared) = self.shared.upgrade() {
            shared.wake();
        }
    }
}
