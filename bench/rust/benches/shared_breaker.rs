//! A breaker shared through Redis against the same breaker kept local, in
//! one run: the call path must not see Redis (target: at most 1.3x the
//! local breaker). Then Redis commands per process per second, counted by
//! the server (`INFO commandstats`) at the default 250 ms sync interval.
//! Needs `redis-server` (`make test-redis` installs it); without it the
//! shared rows are left out, loudly.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use resilience_bench::work;
use resilience_core::{BreakerConfig, CircuitBreaker, SystemClock};
use resilience_redis::testing::RedisServer;
use resilience_redis::RedisStore;

fn time_window() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(0.5, 100)
        .time_window(Duration::from_secs(30), 10)
        .build()
        .expect("valid config")
}

fn server() -> Option<RedisServer> {
    match RedisServer::start() {
        Ok(server) => Some(server),
        Err(e) => {
            eprintln!("\n*** S20/S21 shared rows skipped: {e} ***\n");
            None
        }
    }
}

fn wait_live(store: &RedisStore, breaker: &CircuitBreaker<SystemClock>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !breaker.fleet_status().is_some_and(|s| s.live) {
        assert!(Instant::now() < deadline, "never synced: {:?}", store.metrics());
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn s20_shared_closed_path(c: &mut Criterion) {
    let redis = server();
    let mut g = c.benchmark_group("S20 shared breaker closed (success), sync running");
    let local_window = CircuitBreaker::new(time_window(), SystemClock::new());
    let local_consecutive = CircuitBreaker::new(BreakerConfig::default(), SystemClock::new());
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience local, time window", |b| {
        b.iter(|| local_window.call(|| work(black_box(1))))
    });
    g.bench_function("resilience local, consecutive", |b| {
        b.iter(|| local_consecutive.call(|| work(black_box(1))))
    });
    if let Some(redis) = &redis {
        let store = RedisStore::from_url(&redis.url()).expect("store");
        let window = store
            .breaker("bench-window", time_window(), SystemClock::new())
            .expect("shared");
        let consecutive = store
            .breaker("bench-consecutive", BreakerConfig::default(), SystemClock::new())
            .expect("shared");
        wait_live(&store, &window);
        wait_live(&store, &consecutive);
        g.bench_function("resilience shared, time window", |b| {
            b.iter(|| window.call(|| work(black_box(1))))
        });
        g.bench_function("resilience shared, consecutive", |b| {
            b.iter(|| consecutive.call(|| work(black_box(1))))
        });
        eprintln!("S20 store after the run: {:?}", store.metrics());
    }
    g.finish();
}

/// The shared/local ratio measured robustly on a loaded machine: short
/// batches of the two alternate, and the median of the per-round ratios is
/// reported (a load spike hits both sides of a round alike).
fn s20_interleaved_ratio() {
    let Some(redis) = server() else { return };
    let store = RedisStore::from_url(&redis.url()).expect("store");
    for (label, config) in [
        ("time window", time_window()),
        ("consecutive", BreakerConfig::default()),
    ] {
        let local = CircuitBreaker::new(config, SystemClock::new());
        let shared = store
            .breaker(&format!("ratio-{label}"), config, SystemClock::new())
            .expect("shared");
        wait_live(&store, &shared);
        let batch = |b: &CircuitBreaker<SystemClock>| {
            let started = Instant::now();
            for i in 0..200_000u64 {
                let _ = black_box(b.call(|| work(black_box(i))));
            }
            started.elapsed().as_secs_f64() / 200_000.0
        };
        let mut ratios = Vec::new();
        let (mut l_ns, mut s_ns) = (Vec::new(), Vec::new());
        for round in 0..31 {
            // Alternate which side goes first.
            let (l, s) = if round % 2 == 0 {
                let l = batch(&local);
                (l, batch(&shared))
            } else {
                let s = batch(&shared);
                (batch(&local), s)
            };
            ratios.push(s / l);
            l_ns.push(l * 1e9);
            s_ns.push(s * 1e9);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "S20 interleaved, {label}: shared/local median ratio {:.3} (local {:.1} ns, shared {:.1} ns per call; 31 rounds of 200k calls)",
            median(&mut ratios),
            median(&mut l_ns),
            median(&mut s_ns)
        );
    }
}

/// Commands per process per second, counted by the server.
fn s21_commands_per_second() {
    let Some(redis) = server() else { return };
    let commands = || -> u64 {
        ["evalsha", "eval", "script|load", "subscribe"]
            .iter()
            .map(|c| redis.command_calls(c).unwrap_or(0))
            .sum()
    };
    let store = RedisStore::from_url(&redis.url()).expect("store");
    let config = BreakerConfig::builder()
        .failure_threshold(5)
        .recovery_timeout(Duration::from_millis(500))
        .build()
        .expect("config");
    let transitions = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = Arc::clone(&transitions);
    let breaker = CircuitBreaker::new(config, SystemClock::new())
        .with_listener(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .in_fleet(store.fleet_config());
    let shared = store.share(Arc::new(breaker), "bench-rate").expect("shared");
    wait_live(&store, &shared);
    let run = Duration::from_secs(10);
    for (label, flapping) in [
        ("steady (no transition)", false),
        ("flapping (down 1 s of every 3)", true),
    ] {
        let before = (commands(), transitions.load(std::sync::atomic::Ordering::Relaxed));
        let started = Instant::now();
        let mut calls = 0u64;
        while started.elapsed() < run {
            let down = flapping && started.elapsed().as_millis() % 3000 < 1000;
            let _ = shared.call(|| if down { Err(0) } else { work(1) });
            calls += 1;
            if calls.is_multiple_of(256) {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let sent = commands() - before.0;
        let t = transitions.load(std::sync::atomic::Ordering::Relaxed) - before.1;
        println!(
            "S21 commands per process per second, {label}: {:.2}/s ({sent} in {secs:.1} s; {t} transitions; \
             bound {:.2}/s = 1/interval + transitions/s) over {calls} calls",
            sent as f64 / secs,
            1.0 / store.fleet_config().sync_interval().as_secs_f64() + t as f64 / secs,
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    targets = s20_shared_closed_path
}

fn main() {
    benches();
    s20_interleaved_ratio();
    s21_commands_per_second();
    Criterion::default().configure_from_args().final_summary();
}
