//! Shared breakers against a real `redis-server`: several stores stand for
//! several processes (each has its own connections, sync thread and
//! instance id); `tests/processes.rs` runs real separate processes.
//! Breakers run on a manual clock (their windows and breaks only move when
//! a test says so) except where a break must end in Redis's real time; the
//! sync threads run in real time.

mod common;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{server, wait_until};
use resilience_core::{BreakerConfig, CircuitState, Clock, ManualClock, SystemClock};
use resilience_redis::{RedisStore, SharedBreaker};

const INTERVAL: Duration = Duration::from_millis(200);

fn store(url: &str, subscribe: bool) -> RedisStore {
    RedisStore::builder(url)
        .prefix("t")
        .sync_interval(INTERVAL)
        // Generous: this machine's cores are shared with other builds, and
        // a sync that times out makes a process local for a while.
        .sync_timeout(Duration::from_millis(250))
        .subscribe(subscribe)
        .build()
        .expect("store")
}

fn rate_config(minimum_throughput: u32) -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(0.5, minimum_throughput)
        .time_window(Duration::from_secs(20), 10)
        .recovery_timeout(Duration::from_secs(30))
        .build()
        .expect("config")
}

fn live<C: Clock>(b: &SharedBreaker<C>) -> bool {
    b.fleet_status().is_some_and(|s| s.live)
}

fn fail<C: Clock>(b: &SharedBreaker<C>) {
    let _ = b.call(|| Err::<(), _>("down"));
}

fn trip_propagates(subscribe: bool) {
    let redis = server();
    let stores: Vec<RedisStore> = (0..3).map(|_| store(&redis.url(), subscribe)).collect();
    let breakers: Vec<_> = stores
        .iter()
        .map(|s| {
            s.breaker("payments", rate_config(10), ManualClock::new())
                .expect("shared")
        })
        .collect();
    wait_until(Duration::from_secs(10), "every breaker synced", || {
        breakers.iter().all(live)
    });
    for _ in 0..10 {
        fail(&breakers[0]);
    }
    assert_eq!(breakers[0].state(), CircuitState::Open, "tripped on its own window");
    let tripped = Instant::now();
    for b in &breakers[1..] {
        wait_until(Duration::from_secs(10), "the others open", || {
            b.state() == CircuitState::Open
        });
    }
    let took = tripped.elapsed();
    assert!(
        took <= 2 * INTERVAL,
        "the fleet opened {took:?} after the trip (subscribe: {subscribe}), more than two sync intervals"
    );
    for b in &breakers[1..] {
        let status = b.fleet_status().expect("shared");
        assert_eq!(status.remote_opens, 1);
        // A remote trip opens for what is left of the fleet's break.
        let left = b.try_acquire().expect_err("open").retry_after;
        assert!(
            left > Duration::from_secs(25) && left <= Duration::from_secs(30),
            "{left:?}"
        );
    }
    // One publish for one trip, whatever the fleet's size.
    let published: u64 = stores.iter().map(|s| s.metrics().published).sum();
    assert_eq!(published, 1);
}

#[test]
fn a_trip_opens_every_process_within_two_sync_intervals() {
    trip_propagates(true);
}

#[test]
fn without_the_event_subscription_polling_alone_meets_the_bound() {
    trip_propagates(false);
}

#[test]
fn the_fleet_trips_on_totals_that_no_process_reaches_alone() {
    let redis = server();
    let (sa, sb) = (store(&redis.url(), true), store(&redis.url(), true));
    let a = sa.breaker("search", rate_config(10), ManualClock::new()).expect("a");
    let b = sb.breaker("search", rate_config(10), ManualClock::new()).expect("b");
    wait_until(Duration::from_secs(10), "both synced", || live(&a) && live(&b));
    for _ in 0..5 {
        fail(&a);
        fail(&b);
    }
    // Each window holds 5 calls: below the minimum throughput of 10.
    assert_eq!(a.metrics().window_calls, 5);
    wait_until(Duration::from_secs(10), "both open on the fleet's 10 of 10", || {
        a.state() == CircuitState::Open && b.state() == CircuitState::Open
    });
    assert!(
        a.fleet_status().expect("shared").totals.calls >= 10 || b.fleet_status().expect("shared").totals.calls >= 10
    );
}

#[test]
fn breakers_of_other_names_are_not_touched() {
    let redis = server();
    let (sa, sb) = (store(&redis.url(), true), store(&redis.url(), true));
    let a = sa.breaker("a", rate_config(1), ManualClock::new()).expect("a");
    let other = sb.breaker("b", rate_config(1), ManualClock::new()).expect("b");
    wait_until(Duration::from_secs(10), "both synced", || live(&a) && live(&other));
    fail(&a);
    assert_eq!(a.state(), CircuitState::Open);
    let synced = sb.metrics().syncs;
    wait_until(Duration::from_secs(10), "b synced twice more", || {
        sb.metrics().syncs >= synced + 2
    });
    assert_eq!(other.state(), CircuitState::Closed);
}

/// A dependency that records how many trial calls run at once.
#[derive(Default)]
struct Dependency {
    in_flight: AtomicU32,
    most_at_once: AtomicU32,
    trials: AtomicU64,
}

#[test]
fn the_fleet_runs_at_most_half_open_max_calls_trials_at_once() {
    let redis = server();
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_millis(400))
        .half_open_max_calls(2)
        .build()
        .expect("config");
    // Real time here: the fleet's break ends on Redis's clock, and the
    // breakers must see it end too.
    let stores: Vec<RedisStore> = (0..4).map(|_| store(&redis.url(), true)).collect();
    let breakers: Vec<_> = stores
        .iter()
        .map(|s| s.breaker("inventory", config, SystemClock::new()).expect("shared"))
        .collect();
    wait_until(Duration::from_secs(10), "every breaker synced", || {
        breakers.iter().all(live)
    });
    let dependency = Arc::new(Dependency::default());
    // The dependency stays down for the first 6 trials, then recovers.
    let healthy_after = 6;
    fail(&breakers[0]);
    let stop_at = Instant::now() + Duration::from_secs(20);
    std::thread::scope(|scope| {
        // Three callers per process: without fleet leases, up to 4 x 2
        // trials could run at once (each process's own limit).
        for b in breakers.iter().flat_map(|b| [b, b, b]) {
            let dependency = Arc::clone(&dependency);
            scope.spawn(move || {
                // Each "process" keeps calling until the whole fleet is closed.
                while Instant::now() < stop_at {
                    match b.try_acquire() {
                        Ok(permit) if permit.is_trial() => {
                            let now = dependency.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            dependency.most_at_once.fetch_max(now, Ordering::SeqCst);
                            let n = dependency.trials.fetch_add(1, Ordering::SeqCst) + 1;
                            std::thread::sleep(Duration::from_millis(100));
                            // Out of the dependency before the outcome frees the lease.
                            dependency.in_flight.fetch_sub(1, Ordering::SeqCst);
                            if n > healthy_after {
                                let _ = permit.success();
                            } else {
                                let _ = permit.failure();
                            }
                        }
                        Ok(permit) => {
                            let _ = permit.success();
                            if n_closed(&dependency, healthy_after) {
                                break;
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(3)),
                    }
                }
            });
        }
    });
    let most = dependency.most_at_once.load(Ordering::SeqCst);
    let trials = dependency.trials.load(Ordering::SeqCst);
    assert!(
        trials > healthy_after,
        "the fleet probed until the dependency recovered ({trials} trials)"
    );
    eprintln!("{trials} trials, at most {most} at once");
    assert!(
        most <= 2,
        "{most} trials ran at once across the fleet; half_open_max_calls is 2"
    );
    for b in &breakers {
        wait_until(Duration::from_secs(10), "every process closed", || {
            b.state() == CircuitState::Closed
        });
    }
}

/// Whether the dependency has recovered (a successful trial closed the fleet).
fn n_closed(d: &Dependency, healthy_after: u64) -> bool {
    d.trials.load(Ordering::SeqCst) > healthy_after
}

#[test]
fn breakers_of_one_name_with_different_windows_stay_local_and_say_why() {
    let redis = server();
    let (sa, sb) = (store(&redis.url(), true), store(&redis.url(), true));
    let a = sa.breaker("mixed", rate_config(10), ManualClock::new()).expect("a");
    wait_until(Duration::from_secs(10), "a synced", || live(&a));
    let other_window = BreakerConfig::builder()
        .failure_rate(0.5, 10)
        .time_window(Duration::from_secs(5), 10)
        .build()
        .expect("config");
    let b = sb.breaker("mixed", other_window, ManualClock::new()).expect("b");
    wait_until(Duration::from_secs(10), "b's sync refused", || {
        sb.metrics().last_error.is_some_and(|e| e.contains("window mismatch"))
    });
    assert!(sb.metrics().degraded);
    assert!(!live(&b));
    // Decisions stay local and keep working.
    assert_eq!(b.call(|| Ok::<_, ()>(1)), Ok(1));
}

#[test]
fn the_store_checks_its_parameters() {
    use resilience_core::ConfigErrorKind;
    use resilience_redis::Error;
    let err = RedisStore::builder("redis://127.0.0.1:1/0")
        .prefix("")
        .build()
        .unwrap_err();
    assert!(matches!(&err, Error::Config(e) if e.parameter() == "prefix" && e.kind() == ConfigErrorKind::TooSmall));
    let err = RedisStore::builder("redis://127.0.0.1:1/0")
        .sync_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(&err, Error::Config(e) if e.parameter() == "sync_interval"));
    assert!(matches!(RedisStore::from_url("http://nowhere"), Err(Error::Url(_))));
    // An unreachable Redis is not an error: the store starts degraded.
    let store = RedisStore::from_url("redis://127.0.0.1:1/0").expect("built without connecting");
    let err = store
        .breaker("", BreakerConfig::default(), SystemClock::new())
        .unwrap_err();
    assert!(matches!(&err, Error::Config(e) if e.parameter() == "name"));
    let unshared = Arc::new(resilience_core::CircuitBreaker::new(
        BreakerConfig::default(),
        SystemClock::new(),
    ));
    assert!(matches!(store.share(unshared, "x"), Err(Error::NotShared)));
    let shared = store
        .breaker("x", BreakerConfig::default(), SystemClock::new())
        .expect("shared");
    assert!(matches!(
        store.share(Arc::clone(shared.breaker()), "y"),
        Err(Error::AlreadyShared)
    ));
    assert!(store.metrics().degraded);
}
