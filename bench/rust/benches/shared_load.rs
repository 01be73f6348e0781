//! A rate limiter and a retry budget shared through Redis against the same
//! kept local, in one run: the call path takes from a leased pool and must
//! not see Redis (target: at most 1.3x the local one). Then Redis commands
//! per process per second for a busy shared limiter, counted by the server
//! (`INFO commandstats`) at the default 250 ms sync interval. Needs
//! `redis-server` (`make test-redis` installs it); without it the shared
//! rows are left out, loudly.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use resilience_core::{Leased, RateLimiter, RateLimiterConfig, RetryBudget, RetryBudgetConfig, SystemClock};
use resilience_redis::testing::RedisServer;
use resilience_redis::RedisStore;

fn server() -> Option<RedisServer> {
    match RedisServer::start() {
        Ok(server) => Some(server),
        Err(e) => {
            eprintln!("\n*** S22/S23 shared rows skipped: {e} ***\n");
            None
        }
    }
}

fn wait_live(member: &dyn Leased) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !member.lease_status().is_some_and(|s| s.live) {
        assert!(Instant::now() < deadline, "never synced");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Short batches of the two alternate; the median of the per-round ratios
/// is reported (a load spike hits both sides of a round alike).
fn interleaved(label: &str, mut local: impl FnMut() -> bool, mut shared: impl FnMut() -> bool) {
    const CALLS: u32 = 200_000;
    let batch = |f: &mut dyn FnMut() -> bool| {
        let started = Instant::now();
        let mut yes = 0u32;
        for _ in 0..CALLS {
            yes += u32::from(black_box(f()));
        }
        (
            started.elapsed().as_secs_f64() / f64::from(CALLS),
            f64::from(yes) / f64::from(CALLS),
        )
    };
    let (mut ratios, mut l_ns, mut s_ns, mut s_yes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..31 {
        let ((l, _), (s, yes)) = if round % 2 == 0 {
            let l = batch(&mut local);
            (l, batch(&mut shared))
        } else {
            let s = batch(&mut shared);
            (batch(&mut local), s)
        };
        ratios.push(s / l);
        l_ns.push(l * 1e9);
        s_ns.push(s * 1e9);
        s_yes.push(yes);
    }
    println!(
        "{label}: shared/local median ratio {:.3} (local {:.1} ns, shared {:.1} ns per call; {:.1} % of shared \
         calls taken from the pool; 31 rounds of 200k calls)",
        median(&mut ratios),
        median(&mut l_ns),
        median(&mut s_ns),
        100.0 * median(&mut s_yes)
    );
}

fn s22_limiter(store: &RedisStore) {
    // A rate no caller reaches and a lease of a whole burst: the pool is
    // refilled early once per million cells; calls measure the pool path.
    let config = RateLimiterConfig::builder()
        .rate(u32::MAX)
        .burst(1_000_000)
        .build()
        .expect("config");
    let local = RateLimiter::new(config, SystemClock::new());
    let shared = RateLimiter::new(config, SystemClock::new())
        .in_fleet(store.fleet_config(), Some(1_000_000))
        .expect("lease size");
    let shared = store.share_limiter(Arc::new(shared), "bench-limiter").expect("shared");
    wait_live(shared.shared().as_ref());
    interleaved(
        "S22 rate limiter try_acquire",
        || local.try_acquire().is_ok(),
        || shared.try_acquire().is_ok(),
    );
}

fn s23_budget(store: &RedisStore) {
    let config = RetryBudgetConfig::builder()
        .min_retries_per_sec(u32::MAX)
        .build()
        .expect("config");
    let local = RetryBudget::new(config, SystemClock::new());
    let shared = RetryBudget::new(config, SystemClock::new())
        .in_fleet(store.fleet_config(), Some(1_000_000))
        .expect("lease size");
    let shared = store.share_budget(Arc::new(shared), "bench-budget").expect("shared");
    wait_live(shared.shared().as_ref());
    interleaved(
        "S23 retry budget deposit",
        || {
            local.deposit();
            true
        },
        || {
            shared.deposit();
            true
        },
    );
    interleaved(
        "S23 retry budget try_withdraw",
        || local.try_withdraw(),
        || shared.try_withdraw(),
    );
}

/// Commands per process per second for a busy shared limiter, counted by the server.
fn s24_commands_per_second(redis: &RedisServer) {
    let commands = || -> u64 {
        ["evalsha", "eval", "script|load"]
            .iter()
            .map(|c| redis.command_calls(c).unwrap_or(0))
            .sum()
    };
    let store = RedisStore::builder(&redis.url())
        .subscribe(false)
        .build()
        .expect("store");
    for (label, rate, burst, pace) in [
        (
            "limiter, 200 cells/s asked of 1,000/s (lease 25)",
            1_000,
            100,
            Duration::from_millis(5),
        ),
        (
            "limiter, ~1,000 cells/s asked of 2,000/s (lease 25)",
            2_000,
            100,
            Duration::from_millis(1),
        ),
        (
            "limiter, ~1,000 cells/s asked of 500/s (lease 25)",
            500,
            100,
            Duration::from_millis(1),
        ),
    ] {
        let config = RateLimiterConfig::builder()
            .rate(rate)
            .burst(burst)
            .build()
            .expect("config");
        let shared = store
            .limiter(&format!("bench-rate-{rate}"), config, SystemClock::new())
            .expect("shared");
        wait_live(shared.shared().as_ref());
        let (before, early) = (commands(), shared.lease_status().map_or(0, |s| s.early_leases));
        let started = Instant::now();
        let (mut calls, mut admitted) = (0u64, 0u64);
        while started.elapsed() < Duration::from_secs(10) {
            admitted += u64::from(shared.try_acquire().is_ok());
            calls += 1;
            std::thread::sleep(pace);
        }
        let secs = started.elapsed().as_secs_f64();
        let sent = commands() - before;
        let status = shared.lease_status().expect("shared");
        let leases = status.early_leases - early;
        println!(
            "S24 commands per process per second, {label}: {:.2}/s ({sent} in {secs:.1} s; {admitted} of {calls} \
             calls admitted; {leases} early leases; bound {:.2}/s = 1/interval + early leases/s)",
            sent as f64 / secs,
            1.0 / store.fleet_config().sync_interval().as_secs_f64() + leases as f64 / secs,
        );
        drop(shared);
    }
}

fn main() {
    let Some(redis) = server() else { return };
    let store = RedisStore::from_url(&redis.url()).expect("store");
    s22_limiter(&store);
    s23_budget(&store);
    println!("S22/S23 store after the run: {:?}", store.metrics());
    store.close();
    s24_commands_per_second(&redis);
}
