//! Redis commands per process: at most one script call per sync interval,
//! plus one per transition (a local opening or closing is published at
//! once) — counted by the server (`INFO commandstats`), not by us.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{server, wait_until};
use resilience_core::{BreakerConfig, CircuitBreaker, SystemClock};
use resilience_redis::testing::RedisServer;
use resilience_redis::RedisStore;

/// Commands clients sent: script calls, script loads, subscriptions.
fn client_commands(redis: &RedisServer) -> u64 {
    ["evalsha", "eval", "script|load", "subscribe"]
        .iter()
        .map(|c| redis.command_calls(c).expect("INFO commandstats"))
        .sum()
}

#[test]
fn one_command_per_sync_interval_plus_one_per_transition() {
    let redis = server();
    let interval = Duration::from_millis(100);
    let store = RedisStore::builder(&redis.url())
        .sync_interval(interval)
        .sync_timeout(Duration::from_millis(250))
        .build()
        .expect("store");
    let config = BreakerConfig::builder()
        .failure_threshold(3)
        .recovery_timeout(Duration::from_millis(300))
        .build()
        .expect("config");
    let transitions = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&transitions);
    let breaker = CircuitBreaker::new(config, SystemClock::new())
        .with_listener(move |_| {
            counted.fetch_add(1, Ordering::Relaxed);
        })
        .in_fleet(store.fleet_config());
    let shared = store.share(Arc::new(breaker), "busy").expect("shared");
    wait_until(Duration::from_secs(10), "synced", || {
        shared.fleet_status().is_some_and(|s| s.live)
    });
    let before = client_commands(&redis);
    let started = Instant::now();
    let run = Duration::from_secs(3);
    let mut calls = 0u64;
    while started.elapsed() < run {
        // Down for 100 ms of every 700: the breaker opens, probes, closes.
        let down = started.elapsed().as_millis() % 700 < 100;
        let _ = shared.call(|| if down { Err(()) } else { Ok(()) });
        calls += 1;
        std::thread::sleep(Duration::from_micros(500));
    }
    let elapsed = started.elapsed();
    let commands = client_commands(&redis) - before;
    let transitions = transitions.load(Ordering::Relaxed);
    let by_interval = (elapsed.as_secs_f64() / interval.as_secs_f64()).ceil() as u64 + 1;
    eprintln!(
        "{calls} calls, {transitions} transitions in {elapsed:?}: {commands} commands \
         ({:.1}/s; bound {by_interval} by interval + {transitions})",
        commands as f64 / elapsed.as_secs_f64()
    );
    assert!(transitions >= 4, "the scenario must cause transitions ({transitions})");
    assert!(
        commands <= by_interval + transitions,
        "{commands} commands: more than {by_interval} syncs + {transitions} transitions"
    );
}
