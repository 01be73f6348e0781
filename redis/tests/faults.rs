//! Redis slow, restarted empty, or gone for good — against a real
//! `redis-server` paused with SIGSTOP, killed and restarted. Per-call times
//! are measured only to show they are far below the Redis stall (no tight
//! timing is asserted). Breakers run on a manual clock (their windows hold
//! every call of a test); only the sync threads run in real time.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{server, wait_until};
use resilience_core::{BreakerConfig, CircuitState, FleetCounts, ManualClock};
use resilience_redis::RedisStore;

fn store(url: &str) -> RedisStore {
    // The default 50 ms sync timeout: the bound on a slow Redis.
    RedisStore::builder(url)
        .prefix("f")
        .sync_interval(Duration::from_millis(100))
        .build()
        .expect("store")
}

fn window_config() -> BreakerConfig {
    BreakerConfig::builder()
        .failure_rate(0.5, 1_000)
        .time_window(Duration::from_secs(60), 10)
        .build()
        .expect("config")
}

#[test]
fn redis_paused_calls_flow_on_local_decisions_then_resync_counting_each_call_once() {
    let redis = server();
    let store = store(&redis.url());
    let breaker = store
        .breaker("paused", window_config(), ManualClock::new())
        .expect("shared");
    wait_until(Duration::from_secs(10), "synced", || {
        breaker.fleet_status().is_some_and(|s| s.live)
    });
    let pause = Duration::from_millis(1500);
    let stop = AtomicBool::new(false);
    let (calls, slowest_ns) = (AtomicU64::new(0), AtomicU64::new(0));
    let calls_while_paused = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0u64;
            while !stop.load(Ordering::Acquire) {
                let started = Instant::now();
                let outcome = if i.is_multiple_of(5) { Err(()) } else { Ok(i) };
                let _ = breaker.call(|| outcome);
                let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                slowest_ns.fetch_max(took, Ordering::Relaxed);
                calls.fetch_add(1, Ordering::Relaxed);
                i += 1;
                if i.is_multiple_of(64) {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        redis.pause().expect("SIGSTOP");
        let before = calls.load(Ordering::Relaxed);
        let paused_at = Instant::now();
        wait_until(pause, "the store reports degraded while Redis is stopped", || {
            store.metrics().degraded
        });
        assert!(
            !breaker.fleet_status().expect("shared").live,
            "decisions are local while Redis is stopped"
        );
        std::thread::sleep(pause.saturating_sub(paused_at.elapsed()));
        let during = calls.load(Ordering::Relaxed) - before;
        redis.resume().expect("SIGCONT");
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Release);
        during
    });
    assert!(calls_while_paused > 1_000, "calls kept flowing: {calls_while_paused}");
    let slowest = Duration::from_nanos(slowest_ns.load(Ordering::Relaxed));
    assert!(
        slowest < pause / 4,
        "a call took {slowest:?} while Redis was stopped for {pause:?}: it waited on Redis"
    );
    // Back: connected, in sync, and every call counted once — a sync that
    // timed out while Redis was stopped is applied when it wakes up, and
    // sent again: its sequence number keeps it from counting twice.
    wait_until(Duration::from_secs(20), "resynced after SIGCONT", || {
        let m = store.metrics();
        m.connected && !m.degraded && breaker.fleet_status().is_some_and(|s| s.live)
    });
    let local = breaker.metrics();
    let want = FleetCounts {
        calls: local.window_calls,
        failures: local.window_failures,
        slow: 0,
    };
    assert_eq!(
        want.calls,
        calls.load(Ordering::Relaxed),
        "every call is in the local window"
    );
    breaker.sync_now();
    wait_until(
        Duration::from_secs(10),
        "the fleet's window holds every call once",
        || breaker.fleet_status().is_some_and(|s| s.totals == want),
    );
    eprintln!(
        "{} calls, {calls_while_paused} during the {pause:?} pause, slowest {slowest:?}; {:?}",
        want.calls,
        store.metrics()
    );
}

#[test]
fn redis_restarted_empty_is_reseeded_with_each_window_and_open_break() {
    let mut redis = server();
    let (s1, s2) = (store(&redis.url()), store(&redis.url()));
    let counting = s1.breaker("counts", window_config(), ManualClock::new()).expect("a");
    let peer = s2.breaker("counts", window_config(), ManualClock::new()).expect("b");
    for i in 0..7 {
        let _ = counting.call(|| if i < 3 { Err(()) } else { Ok(()) });
        let _ = peer.call(|| Ok::<_, ()>(()));
    }
    let both = FleetCounts {
        calls: 14,
        failures: 3,
        slow: 0,
    };
    wait_until(Duration::from_secs(10), "the fleet holds both windows", || {
        counting.fleet_status().is_some_and(|s| s.totals == both)
    });
    // A breaker held open by the fleet.
    let tripping = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(60))
        .build()
        .expect("config");
    let opened = s1.breaker("opened", tripping, ManualClock::new()).expect("opened");
    let _ = opened.call(|| Err::<(), _>(()));
    let open_key = "f:cb:{opened}:open";
    let mut con = redis.connection().expect("inspect");
    wait_until(Duration::from_secs(10), "the open key is set", || {
        redis::cmd("PTTL")
            .arg(open_key)
            .query::<i64>(&mut con)
            .is_ok_and(|ms| ms > 0)
    });

    redis.restart_empty().expect("restart");
    let mut con = redis.connection().expect("inspect");
    assert_eq!(redis::cmd("DBSIZE").query::<u64>(&mut con).expect("dbsize"), 0);
    // (A view from before the restart may still be live for a moment:
    // wait for the re-seeds first.)
    wait_until(Duration::from_secs(20), "both processes re-seeded", || {
        s1.metrics().reseeds >= 1 && s2.metrics().reseeds >= 1
    });
    wait_until(
        Duration::from_secs(10),
        "the fleet's window holds both windows again",
        || counting.fleet_status().is_some_and(|s| s.live && s.totals == both),
    );
    wait_until(Duration::from_secs(10), "the open break is re-seeded", || {
        redis::cmd("PTTL")
            .arg(open_key)
            .query::<i64>(&mut con)
            .is_ok_and(|ms| ms > 50_000)
    });
    // A process that joins after the restart opens from the re-seeded key.
    let s3 = store(&redis.url());
    let late = s3.breaker("opened", tripping, ManualClock::new()).expect("late");
    wait_until(Duration::from_secs(10), "a late joiner opens", || {
        late.state() == CircuitState::Open
    });
}

#[test]
fn redis_killed_for_good_decisions_stay_local_and_close_does_not_hang() {
    let mut redis = server();
    let store = store(&redis.url());
    let config = BreakerConfig::builder()
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(60))
        .build()
        .expect("config");
    let breaker = store.breaker("gone", config, ManualClock::new()).expect("shared");
    wait_until(Duration::from_secs(10), "synced", || {
        breaker.fleet_status().is_some_and(|s| s.live)
    });
    redis.kill();
    wait_until(Duration::from_secs(5), "degraded", || {
        let m = store.metrics();
        m.degraded && !m.connected
    });
    // Local decisions: the breaker still trips and rejects.
    for _ in 0..2 {
        let _ = breaker.call(|| Err::<(), _>(()));
    }
    assert_eq!(breaker.state(), CircuitState::Open);
    std::thread::sleep(Duration::from_millis(300)); // a few reconnect attempts
    let started = Instant::now();
    store.close();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "close took {took:?}");
    // After close, the breaker keeps working on its own.
    assert!(breaker.try_acquire().is_err());
    // Dropping a store whose Redis never answered returns as promptly.
    let unreachable = RedisStore::from_url(&redis.url()).expect("store");
    let _b = unreachable.breaker("gone", config, ManualClock::new()).expect("shared");
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(unreachable);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drop took {:?}",
        started.elapsed()
    );
}

#[test]
fn close_does_not_wait_for_a_stopped_redis() {
    let redis = server();
    let store = store(&redis.url());
    let breaker = store
        .breaker("stuck", window_config(), ManualClock::new())
        .expect("shared");
    wait_until(Duration::from_secs(10), "synced", || {
        breaker.fleet_status().is_some_and(|s| s.live)
    });
    redis.pause().expect("SIGSTOP");
    breaker.sync_now();
    std::thread::sleep(Duration::from_millis(20)); // the sync thread is now waiting on Redis
    let started = Instant::now();
    store.close();
    let took = started.elapsed();
    redis.resume().expect("SIGCONT");
    assert!(took < Duration::from_secs(1), "close took {took:?} with Redis stopped");
}

#[test]
fn a_flushed_script_cache_costs_one_eval() {
    let redis = server();
    let store = store(&redis.url());
    let breaker = store
        .breaker("flushed", window_config(), ManualClock::new())
        .expect("shared");
    wait_until(Duration::from_secs(10), "synced", || {
        breaker.fleet_status().is_some_and(|s| s.live)
    });
    let evals = redis.command_calls("eval").expect("stats");
    let _: String = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query(&mut redis.connection().expect("inspect"))
        .expect("flush");
    wait_until(
        Duration::from_secs(10),
        "EVALSHA got NOSCRIPT and the script ran by EVAL",
        || redis.command_calls("eval").is_ok_and(|n| n == evals + 1),
    );
    let syncs = store.metrics().syncs;
    wait_until(Duration::from_secs(10), "later syncs use EVALSHA again", || {
        store.metrics().syncs >= syncs + 3
    });
    assert_eq!(redis.command_calls("eval").expect("stats"), evals + 1);
    let m = store.metrics();
    assert_eq!((m.failed_syncs, m.connects, m.degraded), (0, 1, false), "{m:?}");
}
