//! The async hedging driver on virtual time: timings, the winner, and
//! cancelled losers that release everything they held. The `hedging`
//! conformance vectors run here through the driver as well (the
//! conformance runner drives the sans-IO state directly).

mod support;
mod vectors;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use resilience_core::{Admission, Bulkhead, BulkheadConfig, Clock, Event, Hedge, HedgingConfig};
use serde_json::Value;
use support::VirtualTime;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(delay_ms: u64, hedges: u32) -> HedgingConfig {
    HedgingConfig::builder()
        .hedge_delay(ms(delay_ms))
        .max_hedged_attempts(hedges)
        .build()
        .unwrap()
}

/// Counts drops of the futures it lives in.
struct DropCount<'a>(&'a Cell<u32>);
impl Drop for DropCount<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn a_slow_primary_loses_to_its_hedge_and_is_cancelled() {
    let vt = VirtualTime::new();
    let cfg = config(100, 1);
    let dropped = Cell::new(0);
    let events = RefCell::new(Vec::new());
    let answer = vt.run(
        Hedge::new(&cfg, vt.clone(), vt.clone())
            .on_event(|e: &Event<'_, u32, ()>| events.borrow_mut().push(format!("{e:?}")))
            .call(|attempt| {
                let (vt, dropped) = (vt.clone(), &dropped);
                async move {
                    let _guard = DropCount(dropped);
                    vt_sleep(&vt, if attempt == 1 { 1000 } else { 30 }).await;
                    Ok(attempt)
                }
            }),
    );
    assert_eq!(answer, Ok(2));
    assert_eq!(vt.now(), ms(130));
    assert_eq!(dropped.get(), 2, "the winner finished and the loser was dropped");
    assert_eq!(*events.borrow(), ["HedgeStarted { attempt: 2 }"]);
    assert_eq!(vt.pending_sleeps(), 0, "no timer left behind");
}

async fn vt_sleep(vt: &VirtualTime, n: u64) {
    resilience_core::AsyncSleeper::sleep(vt, ms(n)).await;
}

#[test]
fn every_copy_failing_returns_the_last_failure() {
    let vt = VirtualTime::new();
    let cfg = config(100, 2);
    let answer: Result<u32, String> = vt.run(Hedge::new(&cfg, vt.clone(), vt.clone()).call(|attempt| {
        let vt = vt.clone();
        async move {
            vt_sleep(&vt, 10 * u64::from(4 - attempt)).await;
            Err(format!("attempt {attempt} failed"))
        }
    }));
    // Attempt 1 fails at 30 ms, so 2 starts then and fails at 50 ms; 3
    // starts at 50 ms and fails at 60 ms, last.
    assert_eq!(answer, Err("attempt 3 failed".into()));
    assert_eq!(vt.now(), ms(60));
}

#[test]
fn a_value_judged_a_failure_starts_the_next_copy() {
    let vt = VirtualTime::new();
    let cfg = config(1000, 1);
    let answer: Result<u16, ()> = vt.run(
        Hedge::new(&cfg, vt.clone(), vt.clone())
            .failure_on_result(|status: &u16| *status == 503)
            .call(|attempt| {
                let vt = vt.clone();
                async move {
                    vt_sleep(&vt, 5).await;
                    Ok(if attempt == 1 { 503 } else { 200 })
                }
            }),
    );
    assert_eq!(answer, Ok(200));
    assert_eq!(vt.now(), ms(10));
}

#[test]
fn a_cancelled_loser_releases_its_bulkhead_slot() {
    let vt = VirtualTime::new();
    let cfg = config(50, 2);
    let bulkhead = Bulkhead::new(BulkheadConfig::builder().max_concurrent(3).build().unwrap());
    struct Held<'a>(&'a Bulkhead, resilience_core::Slot);
    impl Drop for Held<'_> {
        fn drop(&mut self) {
            self.0.release(self.1).expect("held once");
        }
    }
    let answer: Result<u32, ()> = vt.run(Hedge::new(&cfg, vt.clone(), vt.clone()).call(|attempt| {
        let (vt, bulkhead) = (vt.clone(), &bulkhead);
        async move {
            let Admission::Acquired(slot) = bulkhead.try_acquire() else {
                panic!("a slot is free")
            };
            let _held = Held(bulkhead, slot);
            vt_sleep(&vt, if attempt == 3 { 10 } else { 10_000 }).await;
            Ok(attempt)
        }
    }));
    assert_eq!(answer, Ok(3));
    assert_eq!(vt.now(), ms(110));
    assert_eq!(bulkhead.stats().active, 0, "every loser gave its slot back");
    assert_eq!(vt.pending_sleeps(), 0);
}

/// The `hedging` vectors, through the async driver on virtual time.
#[test]
fn the_hedging_vectors_hold_for_the_async_driver() {
    let mut ran = 0;
    for (path, file) in vectors::load_all() {
        if vectors::str_of(&file, "kind") != "hedging" {
            continue;
        }
        for case in file["cases"].as_array().expect("cases") {
            let name = format!("{path} / {}", vectors::str_of(case, "name"));
            run_case(case, &name);
            ran += 1;
        }
    }
    assert!(ran >= 5, "hedging vectors found: {ran}");
}

fn run_case(case: &Value, name: &str) {
    let cfg = vectors::hedging_config(&case["config"]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let script = case["attempts"].as_array().expect("attempts");
    let expected = &case["expected"];
    let vt = VirtualTime::new();
    let started = RefCell::new(Vec::new());
    let finished = RefCell::new(Vec::new());
    let events = RefCell::new(Vec::new());
    let answer: Result<(u32, &str), (u32, &str)> = vt.run(
        Hedge::new(&cfg, vt.clone(), vt.clone())
            .failure_on_result(|v: &(u32, &str)| v.1 == "bad_value")
            .on_event(|e: &Event<'_, (u32, &str), (u32, &str)>| {
                if let Event::HedgeStarted { attempt } = e {
                    events.borrow_mut().push(*attempt);
                }
            })
            .call(|attempt| {
                let step = &script[attempt as usize - 1];
                let (vt, started, finished) = (vt.clone(), &started, &finished);
                started.borrow_mut().push(vt.now().as_millis() as u64);
                async move {
                    vt_sleep(&vt, vectors::u64_of(step, "takes_ms")).await;
                    finished.borrow_mut().push(attempt);
                    match vectors::str_of(step, "outcome") {
                        "error" => Err((attempt, "error")),
                        other => Ok((attempt, other)),
                    }
                }
            }),
    );
    let (by, result) = match answer {
        Ok(v) | Err(v) => v,
    };
    let want_started: Vec<u64> = expected["started_ms"]
        .as_array()
        .expect("started_ms")
        .iter()
        .map(|v| v.as_u64().expect("ms"))
        .collect();
    assert_eq!(*started.borrow(), want_started, "{name}: started_ms");
    assert_eq!(
        u64::from(by),
        vectors::u64_of(expected, "answered_by"),
        "{name}: answered_by"
    );
    assert_eq!(result, vectors::str_of(expected, "result"), "{name}: result");
    assert_eq!(
        vt.now().as_millis() as u64,
        vectors::u64_of(expected, "at_ms"),
        "{name}: at_ms"
    );
    let launched = started.borrow().len() as u32;
    let cancelled: Vec<u32> = (1..=launched).filter(|a| !finished.borrow().contains(a)).collect();
    let want_cancelled: Vec<u32> = expected["cancelled"]
        .as_array()
        .expect("cancelled")
        .iter()
        .map(|v| v.as_u64().expect("attempt") as u32)
        .collect();
    assert_eq!(cancelled, want_cancelled, "{name}: cancelled");
    let want_events: Vec<u32> = expected["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            assert_eq!(vectors::str_of(e, "type"), "hedge_started", "{name}");
            vectors::u64_of(e, "attempt") as u32
        })
        .collect();
    assert_eq!(*events.borrow(), want_events, "{name}: events");
    assert_eq!(vt.pending_sleeps(), 0, "{name}: a timer leaked");
}
