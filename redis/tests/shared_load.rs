//! Shared rate limiters and retry budgets against a real `redis-server`:
//! the fleet's budget across stores, Redis paused (`SIGSTOP`), restarted
//! empty and killed, parameters that disagree, and Redis commands per
//! interval (counted by the server). Per-call times are measured only to
//! show they are far below the Redis stall (no tight timing is asserted).
//! Four separate processes sharing one limiter: `limiter_processes.rs`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{server, wait_until};
use resilience_core::{
    ManualClock, RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig, RetryPolicy, SystemClock,
};
use resilience_redis::testing::RedisServer;
use resilience_redis::RedisStore;

const SECONDS: Duration = Duration::from_secs(10);

fn store(url: &str) -> RedisStore {
    // The default 50 ms sync timeout: the bound on a slow Redis.
    RedisStore::builder(url)
        .prefix("l")
        .sync_interval(Duration::from_millis(100))
        .build()
        .expect("store")
}

fn limiter_config(rate: u32, burst: u32) -> RateLimiterConfig {
    RateLimiterConfig::builder()
        .rate(rate)
        .burst(burst)
        .build()
        .expect("config")
}

#[test]
fn a_shared_budget_grants_only_the_retries_the_fleet_earned() {
    let redis = server();
    let (a, b) = (store(&redis.url()), store(&redis.url()));
    // No floor: half a retry per first attempt, over 10 s.
    let config = RetryBudgetConfig::builder()
        .min_retries_per_sec(0)
        .retry_ratio(0.5)
        .build()
        .expect("config");
    let share = |s: &RedisStore| {
        let budget = RetryBudget::new(config, ManualClock::new())
            .in_fleet(s.fleet_config(), Some(2))
            .expect("lease size");
        s.share_budget(Arc::new(budget), "payments").expect("shared")
    };
    let (in_a, in_b) = (share(&a), share(&b));
    wait_until(SECONDS, "both synced", || {
        in_a.lease_status().is_some_and(|s| s.live) && in_b.lease_status().is_some_and(|s| s.live)
    });
    // Only A's callers start sequences: ten first attempts earn the fleet five retries.
    for _ in 0..10 {
        in_a.deposit();
    }
    // B first (it started nothing itself), then A: each asks for a retry
    // every 5 ms for a second, leasing early when its pool runs dry.
    let drain = |budget: &resilience_redis::SharedBudget| {
        let mut granted = 0u64;
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            if budget.try_withdraw() {
                granted += 1;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        granted
    };
    let from_b = drain(&in_b);
    let from_a = drain(&in_a);
    eprintln!("retries: {from_a} in A, {from_b} in B");
    assert_eq!(from_a + from_b, 5, "the fleet earned five retries");
    assert!(
        from_b > 0,
        "B retries on what the fleet earned, though it started nothing"
    );
    // A retry policy draws on the shared budget as on a local one.
    let policy = RetryPolicy::builder()
        .max_attempts(3)
        .budget(Arc::clone(in_b.shared()))
        .build()
        .expect("policy");
    assert!(policy.budget().is_some());
    a.close();
    b.close();
}

#[test]
fn redis_paused_a_limiter_and_a_budget_decide_locally_then_lease_again() {
    let redis = server();
    let store = store(&redis.url());
    let limiter = store
        .limiter("search", limiter_config(2_000, 100), SystemClock::new())
        .expect("shared");
    let budget = store
        .budget("payments", RetryBudgetConfig::default(), SystemClock::new())
        .expect("shared");
    wait_until(SECONDS, "synced", || {
        limiter.lease_status().is_some_and(|s| s.live) && budget.lease_status().is_some_and(|s| s.live)
    });
    let pause = Duration::from_millis(1500);
    let stop = AtomicBool::new(false);
    let (admitted, retried, slowest_ns) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let admitted_while_paused = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Acquire) {
                let started = Instant::now();
                if limiter.try_acquire().is_ok() {
                    admitted.fetch_add(1, Ordering::Relaxed);
                }
                budget.deposit();
                if budget.try_withdraw() {
                    retried.fetch_add(1, Ordering::Relaxed);
                }
                let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                slowest_ns.fetch_max(took, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        redis.pause().expect("SIGSTOP");
        let (before, paused_at) = (admitted.load(Ordering::Relaxed), Instant::now());
        wait_until(pause, "degraded while Redis is stopped", || store.metrics().degraded);
        assert!(!limiter.lease_status().is_some_and(|s| s.live), "local while stopped");
        std::thread::sleep(pause.saturating_sub(paused_at.elapsed()));
        let during = admitted.load(Ordering::Relaxed) - before;
        redis.resume().expect("SIGCONT");
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Release);
        during
    });
    let slowest = Duration::from_nanos(slowest_ns.load(Ordering::Relaxed));
    eprintln!(
        "{admitted_while_paused} cells admitted locally while Redis was stopped; {} retries; slowest call {slowest:?}",
        retried.load(Ordering::Relaxed)
    );
    assert!(admitted_while_paused > 100, "calls kept flowing on local decisions");
    assert!(slowest < pause / 4, "a call took {slowest:?} while Redis was stopped");
    wait_until(Duration::from_secs(20), "leasing again after SIGCONT", || {
        let m = store.metrics();
        m.connected
            && !m.degraded
            && limiter.lease_status().is_some_and(|s| s.live)
            && budget.lease_status().is_some_and(|s| s.live)
    });
    assert!(store.metrics().failed_syncs >= 1);
}

fn exists(redis: &RedisServer, key: &str) -> bool {
    let mut con = redis.connection().expect("connection");
    redis::cmd("EXISTS").arg(key).query::<u64>(&mut con).expect("EXISTS") == 1
}

#[test]
fn redis_restarted_empty_the_keys_come_back_from_the_scripts_defaults() {
    let mut redis = server();
    let store = store(&redis.url());
    let limiter = store
        .limiter("search", limiter_config(100, 10), SystemClock::new())
        .expect("shared");
    let budget = store
        .budget("payments", RetryBudgetConfig::default(), SystemClock::new())
        .expect("shared");
    wait_until(SECONDS, "synced", || {
        limiter.lease_status().is_some_and(|s| s.live) && budget.lease_status().is_some_and(|s| s.live)
    });
    assert!(exists(&redis, "l:rl:{search}:gcra") && exists(&redis, "l:rb:{payments}:meta"));
    redis.restart_empty().expect("restart");
    assert!(!exists(&redis, "l:rl:{search}:gcra"));
    wait_until(Duration::from_secs(20), "the keys recreated", || {
        exists(&redis, "l:rl:{search}:gcra") && exists(&redis, "l:rb:{payments}:meta")
    });
    wait_until(SECONDS, "live again", || {
        limiter.lease_status().is_some_and(|s| s.live) && budget.lease_status().is_some_and(|s| s.live)
    });
    assert!(limiter.try_acquire().is_ok() || limiter.lease_status().is_some_and(|s| s.pool == 0));
}

#[test]
fn redis_killed_close_does_not_hang_and_decisions_stay_local() {
    let mut redis = server();
    let store = store(&redis.url());
    let limiter = store
        .limiter("search", limiter_config(100, 10), SystemClock::new())
        .expect("shared");
    wait_until(SECONDS, "synced", || limiter.lease_status().is_some_and(|s| s.live));
    redis.kill();
    wait_until(SECONDS, "degraded", || store.metrics().degraded);
    // The limiter decides alone (the fleet size last seen is 1: the whole rate).
    let admitted = (0..20).filter(|_| limiter.try_acquire().is_ok()).count();
    assert!(admitted >= 1);
    let started = Instant::now();
    store.close();
    let took = started.elapsed();
    assert!(
        took < store.fleet_config().sync_timeout() + Duration::from_millis(500),
        "close took {took:?}"
    );
    assert!(!limiter.lease_status().is_some_and(|s| s.live));
}

#[test]
fn limiters_of_one_name_with_another_rate_are_refused_and_stay_local() {
    let redis = server();
    let store = store(&redis.url());
    let first = store
        .limiter("search", limiter_config(100, 10), SystemClock::new())
        .expect("shared");
    wait_until(SECONDS, "synced", || first.lease_status().is_some_and(|s| s.live));
    let other = RateLimiter::new(limiter_config(50, 10), SystemClock::new())
        .in_fleet(store.fleet_config(), None)
        .expect("lease size");
    let other = store.share_limiter(Arc::new(other), "search").expect("shared");
    wait_until(SECONDS, "the mismatch reported", || {
        store
            .metrics()
            .last_error
            .is_some_and(|e| e.contains("limiter mismatch"))
    });
    assert!(!other.lease_status().is_some_and(|s| s.live));
    assert!(other.try_acquire().is_ok(), "it decides locally");
    assert!(first.lease_status().is_some_and(|s| s.live));
}

/// Commands clients sent: script calls and script loads.
fn client_commands(redis: &RedisServer) -> u64 {
    ["evalsha", "eval", "script|load"]
        .iter()
        .map(|c| redis.command_calls(c).expect("INFO commandstats"))
        .sum()
}

#[test]
fn one_command_per_sync_interval_plus_one_per_lease() {
    let redis = server();
    let interval = Duration::from_millis(100);
    let store = RedisStore::builder(&redis.url())
        .sync_interval(interval)
        .sync_timeout(Duration::from_millis(250))
        .subscribe(false)
        .build()
        .expect("store");
    // 2,000 cells a second, a lease of 25: the caller below asks for ~1,000.
    let limiter = store
        .limiter("busy", limiter_config(2_000, 100), SystemClock::new())
        .expect("shared");
    wait_until(SECONDS, "synced", || limiter.lease_status().is_some_and(|s| s.live));
    let before = client_commands(&redis);
    let early_before = limiter.lease_status().map_or(0, |s| s.early_leases);
    let started = Instant::now();
    let mut admitted = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        if limiter.try_acquire().is_ok() {
            admitted += 1;
        }
        std::thread::sleep(Duration::from_micros(1000));
    }
    let elapsed = started.elapsed();
    let commands = client_commands(&redis) - before;
    let status = limiter.lease_status().expect("shared");
    let leases = status.early_leases - early_before;
    let by_interval = (elapsed.as_secs_f64() / interval.as_secs_f64()).ceil() as u64 + 1;
    eprintln!(
        "{admitted} cells in {elapsed:?}: {commands} commands ({:.1}/s; bound {by_interval} by interval + {leases} \
         early leases of {})",
        commands as f64 / elapsed.as_secs_f64(),
        status.lease_size
    );
    assert!(admitted > 1_000, "the caller was admitted ({admitted})");
    assert!(
        commands <= by_interval + leases,
        "{commands} commands: more than {by_interval} syncs + {leases} early leases"
    );
}
