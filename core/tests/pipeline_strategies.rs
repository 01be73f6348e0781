//! Each pipeline strategy with its own filters, blocking and async: values
//! a retry judges, errors a breaker or a fallback leaves alone, fallbacks
//! that answer for the library's errors, a hedge whose copy returned a bad
//! value, a bulkhead that admits — on virtual time that never waits.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{
    BreakerConfig, BreakerLayer, Bulkhead, BulkheadConfig, BulkheadLayer, CircuitBreaker, CircuitState, Event,
    FallbackLayer, HedgingConfig, HedgingLayer, Jitter, ManualClock, Pipeline, PipelineError, RetryLayer, RetryPolicy,
    StrategyKind,
};

/// Polls a future that never waits (a `ManualClock` sleeps at once).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a future on a ManualClock must not wait"),
    }
}

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

fn open_breaker(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
    let config = BreakerConfig::builder()
        .failure_threshold(1)
        .recovery_timeout(ms(5_000))
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone());
    let _ = breaker.call(|| Err::<(), _>("down"));
    breaker
}

type Log = RefCell<Vec<String>>;

fn record<E: std::fmt::Debug>(log: &Log) -> impl Fn(&Event<'_, u16, PipelineError<E>>) + '_ {
    move |e| log.borrow_mut().push(format!("{e:?}"))
}

/// An async operation answering `answers` in turn, counting its runs.
fn scripted<'a, E: Copy + 'a>(
    answers: &'a [Result<u16, E>],
    runs: &'a Cell<usize>,
) -> impl Fn() -> std::future::Ready<Result<u16, E>> + 'a {
    move || {
        let answer = answers[runs.get()];
        runs.set(runs.get() + 1);
        std::future::ready(answer)
    }
}

#[test]
fn an_async_retry_retries_values_its_filter_rejects_and_returns_the_last_one() {
    let clock = ManualClock::new();
    let log = Log::default();
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy(3)).retry_on_result(|s: &u16| *s == 503))
        .on_event(record::<()>(&log))
        .build()
        .unwrap();

    let runs = Cell::new(0);
    let answers = [Ok(503), Ok(200)];
    assert_eq!(block_on(pipeline.call_async(scripted(&answers, &runs))), Ok(200));
    assert_eq!(runs.get(), 2);

    let runs = Cell::new(0);
    let answers = [Ok(503); 3];
    assert_eq!(
        block_on(pipeline.call_async(scripted(&answers, &runs))),
        Ok(503),
        "the last value"
    );
    assert_eq!(runs.get(), 3);
    assert_eq!(
        log.borrow().last().map(String::as_str),
        Some("GaveUp { attempts: 3, reason: Exhausted }")
    );
    assert_eq!(clock.sleeps(), [ms(100), ms(100), ms(200)]);
}

#[test]
fn an_async_retry_surfaces_an_error_it_may_not_retry() {
    let clock = ManualClock::new();
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy(5)).retry_if(|e: &&str| *e != "fatal"))
        .build()
        .unwrap();
    let runs = Cell::new(0);
    let answers = [Err("flaky"), Err("fatal"), Ok(200)];
    assert_eq!(
        block_on(pipeline.call_async(scripted(&answers, &runs))),
        Err(PipelineError::Inner("fatal"))
    );
    assert_eq!(runs.get(), 2);
}

#[test]
fn an_async_breaker_rejects_while_open_and_tells_the_listener() {
    let clock = ManualClock::new();
    let breaker = open_breaker(&clock);
    clock.advance(ms(1_000));
    let log = Log::default();
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .breaker(BreakerLayer::new(&breaker))
        .on_event(record::<&str>(&log))
        .build()
        .unwrap();
    let runs = Cell::new(0);
    let got = block_on(pipeline.call_async(scripted(&[Ok(200)], &runs)));
    let Err(PipelineError::BreakerOpen(rejected)) = got else {
        panic!("an open breaker rejects: {got:?}")
    };
    assert_eq!(rejected.retry_after, ms(4_000));
    assert_eq!(runs.get(), 0, "the operation did not run");
    assert_eq!(log.borrow().len(), 1);
    assert!(log.borrow()[0].starts_with("BreakerRejected("), "{:?}", log.borrow());
}

#[test]
fn a_breaker_counts_only_the_errors_its_filter_names() {
    let clock = ManualClock::new();
    let config = BreakerConfig::builder().failure_threshold(1).build().unwrap();
    let breaker = CircuitBreaker::new(config, clock.clone());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .breaker(BreakerLayer::new(&breaker).failure_if(|e: &&str| *e == "outage"))
        .build()
        .unwrap();
    assert_eq!(
        pipeline.call(|| Err::<u16, _>("not found")),
        Err(PipelineError::Inner("not found"))
    );
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "an error outside the filter is neither"
    );
    assert_eq!(breaker.failure_count(), 0);
    assert_eq!(
        pipeline.call(|| Err::<u16, _>("outage")),
        Err(PipelineError::Inner("outage"))
    );
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn an_async_fallback_answers_in_order_and_the_last_error_surfaces() {
    let clock = ManualClock::new();
    let log = Log::default();
    let fallbacks = |i: usize| std::future::ready(if i == 0 { Err("stale") } else { Ok(7) });
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(2, fallbacks))
        .on_event(record::<&str>(&log))
        .build()
        .unwrap();
    let runs = Cell::new(0);
    assert_eq!(block_on(pipeline.call_async(scripted(&[Ok(200)], &runs))), Ok(200));
    assert!(log.borrow().is_empty(), "a success needs no fallback");

    let runs = Cell::new(0);
    assert_eq!(block_on(pipeline.call_async(scripted(&[Err("down")], &runs))), Ok(7));
    assert_eq!(
        *log.borrow(),
        ["FallbackUsed { index: 0 }", "FallbackUsed { index: 1 }"]
    );

    let failing = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(2, |i: usize| {
            std::future::ready(Err::<u16, _>(if i == 0 { "stale" } else { "empty" }))
        }))
        .build()
        .unwrap();
    let runs = Cell::new(0);
    assert_eq!(
        block_on(failing.call_async(scripted(&[Err("down")], &runs))),
        Err(PipelineError::Inner("empty")),
        "the last fallback's error"
    );
}

#[test]
fn a_fallback_leaves_errors_outside_its_filter_alone_but_answers_for_the_librarys() {
    let clock = ManualClock::new();
    let breaker = open_breaker(&clock);
    let used = Cell::new(0);
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(
            FallbackLayer::new(1, |_| {
                used.set(used.get() + 1);
                Ok(0)
            })
            .expected_if(|e: &&str| *e != "fatal"),
        )
        .build()
        .unwrap();
    assert_eq!(
        pipeline.call(|| Err::<u16, _>("fatal")),
        Err(PipelineError::Inner("fatal"))
    );
    assert_eq!(used.get(), 0);
    assert_eq!(pipeline.call(|| Err::<u16, _>("down")), Ok(0));
    assert_eq!(used.get(), 1);

    let guarded = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(1, |_| Ok(0)).expected_if(|_: &&str| false))
        .breaker(BreakerLayer::new(&breaker))
        .build()
        .unwrap();
    assert_eq!(
        guarded.call(|| Ok::<u16, &str>(200)),
        Ok(0),
        "an open breaker falls back"
    );

    let async_guarded = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(1, |_| std::future::ready(Ok(0))).expected_if(|_: &&str| false))
        .breaker(BreakerLayer::new(&breaker))
        .build()
        .unwrap();
    let runs = Cell::new(0);
    assert_eq!(block_on(async_guarded.call_async(scripted(&[Ok(200)], &runs))), Ok(0));
    let runs = Cell::new(0);
    let only_async = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(1, |_| std::future::ready(Ok(0))).expected_if(|e: &&str| *e != "fatal"))
        .build()
        .unwrap();
    assert_eq!(
        block_on(only_async.call_async(scripted(&[Err("fatal")], &runs))),
        Err(PipelineError::Inner("fatal"))
    );
}

#[test]
fn a_hedged_copy_returning_a_bad_value_starts_the_next_copy_at_once() {
    let clock = ManualClock::new();
    let config = HedgingConfig::builder()
        .hedge_delay(ms(500))
        .max_hedged_attempts(1)
        .build()
        .unwrap();
    let log = Log::default();
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .hedging(HedgingLayer::new(config).failure_on_result(|s: &u16| *s >= 500))
        .on_event(record::<()>(&log))
        .build()
        .unwrap();
    let runs = Cell::new(0);
    let answers = [Ok(503), Ok(200)];
    assert_eq!(block_on(pipeline.call_async(scripted(&answers, &runs))), Ok(200));
    assert_eq!(*log.borrow(), ["HedgeStarted { attempt: 2 }"]);
    assert!(clock.sleeps().is_empty(), "no hedge delay was waited");
}

#[test]
fn a_blocking_bulkhead_with_room_runs_the_call_and_frees_its_slot() {
    let clock = ManualClock::new();
    let bulkhead = Bulkhead::new(BulkheadConfig::builder().max_concurrent(1).build().unwrap());
    let pipeline = Pipeline::builder(clock.clone(), clock)
        .bulkhead(BulkheadLayer::new(&bulkhead))
        .build()
        .unwrap();
    let got = pipeline.call(|| {
        assert_eq!(bulkhead.stats().active, 1, "the call holds the slot");
        Ok::<u16, ()>(200)
    });
    assert_eq!(got, Ok(200));
    assert_eq!(bulkhead.stats().active, 0);
}

#[test]
fn only_timeouts_and_hedging_need_a_runtime_that_can_cancel() {
    let cancelling: Vec<StrategyKind> = StrategyKind::ORDER
        .into_iter()
        .filter(|k| k.needs_cancellation())
        .collect();
    assert_eq!(
        cancelling,
        [
            StrategyKind::TotalTimeout,
            StrategyKind::AttemptTimeout,
            StrategyKind::Hedging
        ]
    );
    let names: Vec<String> = StrategyKind::ORDER.iter().map(ToString::to_string).collect();
    assert_eq!(names, StrategyKind::NAMES);
}
