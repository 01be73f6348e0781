//! The failure-rate breaker's closed path, side by side with failsafe's
//! `success_rate_over_time_window` and our own consecutive breaker, in one
//! run; plus metrics reads and snapshots (reported, no target).
//! `make bench-rust` runs it; bench/README.md holds the table.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use resilience_bench::w1::{count_window, failsafe_window, time_window};
use resilience_bench::work;
use resilience_core::{BreakerConfig, CachedClock, CircuitBreaker, SystemClock};

fn w1_closed_with_window(c: &mut Criterion) {
    let mut g = c.benchmark_group("W1 breaker closed, failure-rate window (success)");
    let consecutive = CircuitBreaker::new(BreakerConfig::default(), SystemClock::new());
    let timed = CircuitBreaker::new(time_window(), SystemClock::new());
    let counted = CircuitBreaker::new(count_window(), SystemClock::new());
    let cached = Arc::new(CachedClock::new(SystemClock::new()));
    let _ticker = CachedClock::start_ticking(&cached, Duration::from_millis(1));
    let timed_cached = CircuitBreaker::new(time_window(), Arc::clone(&cached));
    let theirs = failsafe_window();
    g.bench_function("bare call", |b| b.iter(|| work(black_box(1))));
    g.bench_function("resilience consecutive", |b| {
        b.iter(|| consecutive.call(|| work(black_box(1))))
    });
    g.bench_function("resilience time window", |b| {
        b.iter(|| timed.call(|| work(black_box(1))))
    });
    g.bench_function("resilience time window, cached clock", |b| {
        b.iter(|| timed_cached.call(|| work(black_box(1))))
    });
    g.bench_function("resilience count window", |b| {
        b.iter(|| counted.call(|| work(black_box(1))))
    });
    g.bench_function("failsafe success_rate_over_time_window", |b| {
        b.iter(|| failsafe::CircuitBreaker::call(&theirs, || work(black_box(1))))
    });
    g.finish();
}

fn w2_metrics_and_snapshot(c: &mut Criterion) {
    let mut g = c.benchmark_group("W2 breaker metrics and snapshot");
    let breaker = CircuitBreaker::new(time_window(), SystemClock::new());
    for i in 0..1_000u32 {
        let _ = breaker.call(|| if i % 9 == 0 { Err(()) } else { Ok(()) });
    }
    g.bench_function("resilience metrics()", |b| b.iter(|| black_box(breaker.metrics())));
    g.bench_function("resilience snapshot()", |b| b.iter(|| black_box(breaker.snapshot())));
    let document = breaker.snapshot();
    g.bench_function("resilience from_snapshot()", |b| {
        b.iter(|| CircuitBreaker::from_snapshot(time_window(), SystemClock::new(), black_box(&document)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    targets = w1_closed_with_window, w2_metrics_and_snapshot
}
criterion_main!(benches);
