//! Pipelines: the order rule, the library-error rules, one listener for
//! every strategy, and async pipelines on virtual time whose cancelled
//! attempts and hedges release what they held.

mod support;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use resilience_core::{
    AsyncSleeper, BreakerConfig, BreakerLayer, Bulkhead, BulkheadConfig, BulkheadLayer, CircuitBreaker, CircuitState,
    Clock, ConfigErrorKind, Event, FallbackLayer, HedgingConfig, HedgingLayer, Jitter, ManualClock, Pipeline,
    PipelineError, RetryLayer, RetryPolicy, StrategyKind, TimedOut, Timeout,
};
use support::VirtualTime;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn policy(max: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(max)
        .base_delay(ms(100))
        .jitter(Jitter::None)
        .build()
        .unwrap()
}

fn breaker(threshold: u32, recovery_ms: u64, clock: impl Clock) -> CircuitBreaker<impl Clock> {
    let config = BreakerConfig::builder()
        .failure_threshold(threshold)
        .recovery_timeout(ms(recovery_ms))
        .build()
        .unwrap();
    CircuitBreaker::new(config, clock)
}

#[test]
fn the_order_is_checked_and_given_back() {
    let clock = ManualClock::new();
    let err = Pipeline::builder(clock.clone(), clock.clone())
        .breaker(BreakerLayer::new(&breaker(1, 1, clock.clone())))
        .retry(RetryLayer::new(policy(2)))
        .build()
        .unwrap_err();
    assert_eq!(
        (err.parameter(), err.kind()),
        ("strategies", ConfigErrorKind::OutOfOrder)
    );
    let err = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy(2)))
        .retry(RetryLayer::new(policy(2)))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::Duplicate);
    let p = Pipeline::builder(clock.clone(), clock.clone())
        .total_timeout(Timeout::new(ms(10)).unwrap())
        .attempt_timeout(Timeout::new(ms(5)).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        p.strategies(),
        [StrategyKind::TotalTimeout, StrategyKind::AttemptTimeout]
    );
}

/// Every event of a blocking pipeline, as text.
fn record(log: &RefCell<Vec<String>>) -> impl Fn(&Event<'_, u32, PipelineError<&'static str>>) + '_ {
    move |e| log.borrow_mut().push(format!("{e:?}"))
}

#[test]
fn one_listener_sees_every_strategy_in_order() {
    let clock = ManualClock::new();
    let b = breaker(2, 5000, clock.clone());
    let log = RefCell::new(Vec::new());
    let calls = Cell::new(0);
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(1, |_| Ok(99)))
        .retry(RetryLayer::new(policy(4)))
        .breaker(BreakerLayer::new(&b))
        .on_event(record(&log))
        .build()
        .unwrap();
    let got = pipeline.call(|| {
        calls.set(calls.get() + 1);
        if calls.get() <= 2 {
            Err("down")
        } else {
            Ok(calls.get())
        }
    });
    // Two failures open the breaker; the retry waits out its remaining
    // open time (rule rejection_hint), the trial succeeds.
    assert_eq!(got, Ok(3));
    let log = log.borrow().clone();
    let kinds: Vec<&str> = log.iter().map(|l| l.split([' ', '(']).next().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "RetryScheduled",
            "BreakerTransition",
            "RetryScheduled",
            "BreakerRejected",
            "RetryScheduled",
            "BreakerTransition",
            "BreakerTransition"
        ]
    );
    assert!(log[4].contains("delay: 4.8s"), "{}", log[4]);
    assert_eq!(clock.sleeps(), vec![ms(100), ms(200), ms(4800)]);
    assert_eq!(b.state(), CircuitState::Closed);
}

#[test]
fn a_fallback_answers_when_retries_run_out() {
    let clock = ManualClock::new();
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(
            2,
            |i| if i == 0 { Err("cache miss") } else { Ok(7) },
        ))
        .retry(RetryLayer::new(policy(2)).retry_if(|e: &&str| *e != "fatal"))
        .on_event(record(&log))
        .build()
        .unwrap();
    assert_eq!(pipeline.call(|| Err("down")), Ok(7));
    let log = log.borrow().clone();
    assert_eq!(log[1], "GaveUp { attempts: 2, reason: Exhausted }");
    assert_eq!(log[2..], ["FallbackUsed { index: 0 }", "FallbackUsed { index: 1 }"]);
}

#[test]
fn values_are_failures_for_the_retry_and_the_breaker() {
    let clock = ManualClock::new();
    let b = breaker(2, 1000, clock.clone());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy(2)).retry_on_result(|s: &u16| *s == 503))
        .breaker(BreakerLayer::new(&b).failure_on_result(|s: &u16| *s >= 500))
        .build()
        .unwrap();
    assert_eq!(pipeline.call(|| Ok::<u16, ()>(503)), Ok(503), "the last value");
    assert_eq!(b.state(), CircuitState::Open, "both 503s counted");
}

#[test]
fn a_bulkhead_rejection_is_retried_but_not_counted_by_the_breaker() {
    let clock = ManualClock::new();
    let b = breaker(1, 1000, clock.clone());
    let bulkhead = Bulkhead::new(BulkheadConfig::builder().max_concurrent(1).build().unwrap());
    let _held = bulkhead.try_acquire();
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy(2)))
        .breaker(BreakerLayer::new(&b))
        .bulkhead(BulkheadLayer::new(&bulkhead))
        .on_event(record(&log))
        .build()
        .unwrap();
    assert_eq!(pipeline.call(|| Ok(1)), Err(PipelineError::BulkheadFull));
    assert_eq!(b.failure_count(), 0);
    assert_eq!(log.borrow().len(), 4, "{:?}", log.borrow());
    assert_eq!(bulkhead.stats().active, 1, "only the slot held outside");
}

#[test]
fn an_async_pipeline_times_attempts_out_and_releases_their_trials() {
    let vt = VirtualTime::new();
    let b = breaker(1, 0, vt.clone());
    let _ = b.call(|| Err::<(), _>(())); // open; the next call is a trial
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(vt.clone(), vt.clone())
        .retry(RetryLayer::new(policy(2)))
        .breaker(BreakerLayer::new(&b))
        .attempt_timeout(Timeout::new(ms(50)).unwrap())
        .on_event(|e: &Event<'_, u32, PipelineError<()>>| log.borrow_mut().push(e.kind().as_str()))
        .build()
        .unwrap();
    let calls = Cell::new(0);
    let got = vt.run(pipeline.call_async(|| {
        calls.set(calls.get() + 1);
        let (vt, n) = (vt.clone(), calls.get());
        async move {
            vt.sleep(if n == 1 { ms(1000) } else { ms(10) }).await;
            Ok::<_, ()>(n)
        }
    }));
    assert_eq!(got, Ok(2));
    assert_eq!(vt.now(), ms(50 + 100 + 10));
    assert_eq!(
        *log.borrow(),
        [
            "breaker_transition", // open → half-open: attempt 1 is the trial
            "timeout",
            "breaker_transition", // the timed-out trial counts: half-open → open
            "retry_scheduled",
            "breaker_transition", // open → half-open again (recovery 0)
            "breaker_transition"  // half-open → closed
        ]
    );
    assert_eq!(b.tokens_outstanding(), 0);
    assert_eq!(vt.pending_sleeps(), 0);
}

#[test]
fn a_total_timeout_cancels_the_whole_retry_sequence() {
    let vt = VirtualTime::new();
    let bulkhead = Bulkhead::new(BulkheadConfig::builder().max_concurrent(1).build().unwrap());
    let pipeline = Pipeline::builder(vt.clone(), vt.clone())
        .total_timeout(Timeout::new(ms(200)).unwrap())
        .retry(RetryLayer::new(policy(10)))
        .bulkhead(BulkheadLayer::new(&bulkhead))
        .build()
        .unwrap();
    let got = vt.run(pipeline.call_async(|| {
        let vt = vt.clone();
        async move {
            vt.sleep(ms(60)).await;
            Err::<u32, _>("down")
        }
    }));
    // Attempt 2 runs from 160 to 220 ms: the timeout cancels it at 200.
    assert_eq!(got, Err(PipelineError::TimedOut(TimedOut::new(ms(200)))));
    assert_eq!(vt.now(), ms(200));
    assert_eq!(bulkhead.stats().active, 0, "the cancelled attempt gave its slot back");
    assert_eq!(vt.pending_sleeps(), 0);
}

#[test]
fn hedged_copies_each_take_a_slot_and_the_losers_give_it_back() {
    let vt = VirtualTime::new();
    let bulkhead = Bulkhead::new(BulkheadConfig::builder().max_concurrent(2).build().unwrap());
    let hedging = HedgingConfig::builder()
        .hedge_delay(ms(20))
        .max_hedged_attempts(2)
        .build()
        .unwrap();
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(vt.clone(), vt.clone())
        .hedging(HedgingLayer::new(hedging))
        .bulkhead(BulkheadLayer::new(&bulkhead))
        .on_event(|e: &Event<'_, u32, PipelineError<()>>| log.borrow_mut().push(format!("{e:?}")))
        .build()
        .unwrap();
    let calls = Cell::new(0);
    let got = vt.run(pipeline.call_async(|| {
        calls.set(calls.get() + 1);
        let (vt, n) = (vt.clone(), calls.get());
        async move {
            vt.sleep(if n == 1 { ms(1000) } else { ms(30) }).await;
            Ok::<_, ()>(n)
        }
    }));
    // Copy 2 starts at 20 ms; copy 3 at 40 ms finds both slots taken and
    // fails at once, so no copy is left; copy 2 answers at 50 ms.
    assert_eq!(got, Ok(2));
    assert_eq!(vt.now(), ms(50));
    assert_eq!(
        *log.borrow(),
        [
            "HedgeStarted { attempt: 2 }",
            "HedgeStarted { attempt: 3 }",
            "BulkheadRejected"
        ]
    );
    assert_eq!(bulkhead.stats().active, 0, "the losing copy gave its slot back");
    assert_eq!(vt.pending_sleeps(), 0);
}

#[test]
fn a_deadline_in_the_pipeline_retry_uses_the_pipeline_clock() {
    let clock = ManualClock::new();
    let p = RetryPolicy::builder()
        .max_attempts(10)
        .base_delay(ms(1000))
        .backoff(resilience_core::BackoffStrategy::Fixed)
        .jitter(Jitter::None)
        .max_elapsed(ms(2500))
        .build()
        .unwrap();
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(p))
        .on_event(record(&log))
        .build()
        .unwrap();
    let got = pipeline.call(|| {
        clock.advance(ms(100));
        Err("down")
    });
    assert_eq!(got, Err(PipelineError::Inner("down")));
    assert_eq!(log.borrow().last().unwrap(), "GaveUp { attempts: 3, reason: Deadline }");
}
