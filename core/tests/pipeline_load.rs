//! A rate limiter and an adaptive throttle inside a pipeline: where they
//! sit, how the other strategies treat their rejections (rule
//! `library_errors`), the wait a retry takes from a limited call (rule
//! `rejection_hint`), and what the throttle records.

mod support;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use resilience_core::{
    rules, AdaptiveThrottle, AdaptiveThrottleConfig, BreakerConfig, BreakerLayer, Bulkhead, BulkheadConfig,
    BulkheadLayer, CircuitBreaker, ConfigErrorKind, Event, EventKind, FallbackLayer, Jitter, LibraryError, ManualClock,
    Pipeline, PipelineError, RateLimiter, RateLimiterConfig, RateLimiterLayer, RetryLayer, RetryPolicy, StrategyKind,
    ThrottleLayer, Value,
};
use support::VirtualTime;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn limiter(clock: ManualClock) -> RateLimiter<ManualClock> {
    // One cell every 100 ms, no burst beyond one.
    let config = RateLimiterConfig::builder()
        .rate(10)
        .per(ms(1000))
        .burst(1)
        .build()
        .unwrap();
    RateLimiter::new(config, clock)
}

fn throttle<C: resilience_core::Clock>(clock: C) -> AdaptiveThrottle<C> {
    let config = AdaptiveThrottleConfig::builder().k(2.0).seed(7).build().unwrap();
    AdaptiveThrottle::new(config, clock)
}

fn kinds(log: &RefCell<Vec<EventKind>>) -> Vec<&'static str> {
    log.borrow().iter().map(|k| k.as_str()).collect()
}

#[test]
fn the_limiter_sits_inside_hedging_and_outside_the_bulkhead_and_the_throttle_innermost() {
    let names = ["retry", "breaker", "rate_limiter", "bulkhead", "throttle"].map(Value::text);
    let order = rules::pipeline_names(names).unwrap();
    assert_eq!(
        order,
        [
            StrategyKind::Retry,
            StrategyKind::Breaker,
            StrategyKind::RateLimiter,
            StrategyKind::Bulkhead,
            StrategyKind::Throttle
        ]
    );
    let err = rules::pipeline_names(["throttle", "bulkhead"].map(Value::text)).unwrap_err();
    assert_eq!(
        (err.parameter(), err.kind()),
        ("strategies", ConfigErrorKind::OutOfOrder)
    );
    assert!(err.to_string().contains("rate_limiter, bulkhead, throttle"), "{err}");

    let clock = ManualClock::new();
    let (l, t) = (limiter(clock.clone()), throttle(clock.clone()));
    let err = Pipeline::builder(clock.clone(), clock.clone())
        .throttle(ThrottleLayer::new(&t))
        .rate_limiter(RateLimiterLayer::new(&l))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ConfigErrorKind::OutOfOrder);
}

#[test]
fn a_limited_call_is_retried_after_the_limiters_exact_wait_and_never_counted_by_the_breaker() {
    let clock = ManualClock::new();
    let l = limiter(clock.clone());
    let b = CircuitBreaker::new(
        BreakerConfig::builder().failure_threshold(1).build().unwrap(),
        clock.clone(),
    );
    let policy = RetryPolicy::builder()
        .base_delay(ms(10))
        .jitter(Jitter::None)
        .build()
        .unwrap();
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy))
        .breaker(BreakerLayer::new(&b))
        .rate_limiter(RateLimiterLayer::new(&l))
        .on_event(|e: &Event<'_, u32, PipelineError<&str>>| log.borrow_mut().push(e.kind()))
        .build()
        .unwrap();
    assert_eq!(pipeline.call(|| Ok(1)), Ok(1), "the burst's one cell");
    assert_eq!(pipeline.call(|| Ok(2)), Ok(2), "then a wait of exactly one interval");
    assert_eq!(
        clock.sleeps(),
        vec![ms(100)],
        "the limiter's wait, not the 10 ms backoff"
    );
    assert_eq!(kinds(&log), ["rate_limited", "retry_scheduled"]);
    assert_eq!(b.failure_count(), 0);
    assert_eq!(b.metrics().rejections, 0);
}

#[test]
fn a_limited_call_without_a_retry_fails_with_the_wait_and_a_fallback_answers_for_it() {
    let clock = ManualClock::new();
    let l = limiter(clock.clone());
    assert!(l.try_acquire().is_ok());
    let bare = Pipeline::builder(clock.clone(), clock.clone())
        .rate_limiter(RateLimiterLayer::new(&l))
        .build()
        .unwrap();
    let err = bare.call(|| Ok::<u32, &str>(1)).unwrap_err();
    assert_eq!(err.library(), Some(LibraryError::RateLimited));
    assert_eq!(err.retry_after(), Some(ms(100)));
    assert!(err.to_string().starts_with("rate limited"), "{err}");
    let typed: PipelineError<std::io::Error> = PipelineError::RateLimited(match l.try_acquire() {
        Err(resilience_core::RateLimitError::Limited(limited)) => limited,
        other => panic!("{other:?}"),
    });
    assert!(std::error::Error::source(&typed).is_some());

    let ran = Cell::new(false);
    let fallback = Pipeline::builder(clock.clone(), clock.clone())
        .fallback(FallbackLayer::new(1, |_| Ok(0)))
        .rate_limiter(RateLimiterLayer::new(&l))
        .build()
        .unwrap();
    assert_eq!(
        fallback.call(|| {
            ran.set(true);
            Ok::<u32, &str>(1)
        }),
        Ok(0)
    );
    assert!(!ran.get(), "a limited call does not run");
}

#[test]
fn a_limited_call_takes_no_bulkhead_slot() {
    let clock = ManualClock::new();
    let l = limiter(clock.clone());
    assert!(l.try_acquire().is_ok());
    let bulkhead = Bulkhead::new(BulkheadConfig::builder().max_concurrent(1).build().unwrap());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .rate_limiter(RateLimiterLayer::new(&l))
        .bulkhead(BulkheadLayer::new(&bulkhead))
        .build()
        .unwrap();
    assert!(matches!(
        pipeline.call(|| Ok::<u32, ()>(1)),
        Err(PipelineError::RateLimited(_))
    ));
    assert_eq!(bulkhead.stats().active, 0);
    clock.advance(ms(100));
    assert_eq!(pipeline.call(|| Ok::<u32, ()>(1)), Ok(1));
}

#[test]
fn the_throttle_records_what_the_backend_accepted() {
    let clock = ManualClock::new();
    let t = throttle(clock.clone());
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .throttle(
            ThrottleLayer::new(&t)
                .rejected_if(|e: &&str| *e == "overloaded")
                .rejected_on_result(|status: &u16| *status == 503),
        )
        .build()
        .unwrap();
    assert_eq!(pipeline.call(|| Ok(200)), Ok(200));
    assert_eq!(
        pipeline.call(|| Ok(503)),
        Ok(503),
        "a rejected answer is still returned"
    );
    assert_eq!(
        pipeline.call(|| Err("not found")),
        Err(PipelineError::Inner("not found"))
    );
    assert_eq!(
        pipeline.call(|| Err("overloaded")),
        Err(PipelineError::Inner("overloaded"))
    );
    let stats = t.stats();
    assert_eq!(
        (stats.requests, stats.accepts),
        (4, 2),
        "200 and the error the backend answered"
    );
}

#[test]
fn a_shed_request_does_not_run_and_is_retried_without_counting_as_a_breaker_failure() {
    let clock = ManualClock::new();
    let t = throttle(clock.clone());
    // Nothing accepted yet: every request after the first may be shed.
    for _ in 0..20 {
        if t.try_admit().is_ok() {
            t.record(false);
        }
    }
    let b = CircuitBreaker::new(
        BreakerConfig::builder().failure_threshold(1).build().unwrap(),
        clock.clone(),
    );
    let policy = RetryPolicy::builder()
        .max_attempts(50)
        .jitter(Jitter::None)
        .build()
        .unwrap();
    let log = RefCell::new(Vec::new());
    let runs = Cell::new(0);
    let pipeline = Pipeline::builder(clock.clone(), clock.clone())
        .retry(RetryLayer::new(policy))
        .breaker(BreakerLayer::new(&b))
        .throttle(ThrottleLayer::new(&t))
        .on_event(|e: &Event<'_, u32, PipelineError<&str>>| log.borrow_mut().push(e.kind()))
        .build()
        .unwrap();
    let got = pipeline.call(|| {
        runs.set(runs.get() + 1);
        Ok(7)
    });
    assert_eq!(got, Ok(7));
    assert_eq!(runs.get(), 1, "shed attempts never ran");
    let shed = log.borrow().iter().filter(|k| **k == EventKind::Throttled).count();
    assert!(shed >= 1, "seed 7 sheds at least once at p = 20/21: {:?}", log.borrow());
    assert_eq!(
        log.borrow().len(),
        shed * 2,
        "each shed attempt: throttled, then retry_scheduled"
    );
    assert_eq!(b.failure_count(), 0);
    // A shed request is no hint for the retry: its backoff paces it.
    assert!(clock.sleeps().iter().all(|d| *d <= ms(1000) * 60));
}

#[test]
fn async_pipelines_run_the_limiter_and_the_throttle_too() {
    let vt = VirtualTime::new();
    let config = RateLimiterConfig::builder()
        .rate(10)
        .per(ms(1000))
        .burst(1)
        .build()
        .unwrap();
    let l = RateLimiter::new(config, vt.clone());
    let t = throttle(vt.clone());
    let policy = RetryPolicy::builder()
        .base_delay(ms(10))
        .jitter(Jitter::None)
        .build()
        .unwrap();
    let log = RefCell::new(Vec::new());
    let pipeline = Pipeline::builder(vt.clone(), vt.clone())
        .retry(RetryLayer::new(policy))
        .rate_limiter(RateLimiterLayer::new(&l))
        .throttle(ThrottleLayer::new(&t))
        .on_event(|e: &Event<'_, u32, PipelineError<&str>>| log.borrow_mut().push(e.kind()))
        .build()
        .unwrap();
    assert_eq!(vt.run(pipeline.call_async(|| async { Ok(1) })), Ok(1));
    // Limited at 0 ms (wait 100), fails at 100 ms (backoff 20), limited
    // again at 120 ms: the third attempt was the last, and its error stands.
    let got = vt.run(pipeline.call_async(|| async { Err("down") }));
    assert!(
        matches!(got, Err(PipelineError::RateLimited(r)) if r.retry_after == ms(80)),
        "{got:?}"
    );
    assert_eq!(
        kinds(&log),
        [
            "rate_limited",
            "retry_scheduled",
            "retry_scheduled",
            "rate_limited",
            "gave_up"
        ]
    );
    assert_eq!(resilience_core::Clock::now(&vt), ms(120));
    let stats = t.stats();
    assert_eq!(
        (stats.requests, stats.accepts),
        (2, 1),
        "only the attempts the limiter let through reached the backend"
    );
    assert_eq!(vt.pending_sleeps(), 0);
}

#[test]
fn library_errors_are_listed_with_their_rules() {
    let names: Vec<&str> = LibraryError::ALL.iter().map(|e| e.as_str()).collect();
    assert_eq!(
        names,
        [
            "breaker_open",
            "timed_out",
            "bulkhead_full",
            "rate_limited",
            "throttled"
        ]
    );
    for e in LibraryError::ALL {
        assert!(e.retryable() && e.falls_back() && e.hedge_failed());
        assert_eq!(e.counts_as_breaker_failure(), e == LibraryError::TimedOut, "{e}");
    }
    let event_names: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(event_names[8..], ["rate_limited", "throttled"]);
}

#[test]
fn a_binding_asks_which_library_errors_carry_a_hint() {
    // Rule `rejection_hint` by kind: the breaker's open time and the
    // limiter's exact wait are hints; nothing else is, and zero never is.
    for e in LibraryError::ALL {
        let hinted = matches!(e, LibraryError::BreakerOpen | LibraryError::RateLimited);
        assert_eq!(e.retry_hint(ms(250)), hinted.then_some(ms(250)), "{e}");
        assert_eq!(e.retry_hint(Duration::ZERO), None, "{e}");
    }
}

#[test]
fn an_async_pipeline_sheds_without_running_and_says_why() {
    let vt = VirtualTime::new();
    let t = throttle(vt.clone());
    for _ in 0..50 {
        if t.try_admit().is_ok() {
            t.record(false);
        }
    }
    let log = RefCell::new(Vec::new());
    let runs = Cell::new(0);
    let pipeline = Pipeline::builder(vt.clone(), vt.clone())
        .throttle(ThrottleLayer::new(&t))
        .on_event(|e: &Event<'_, u32, PipelineError<std::io::Error>>| log.borrow_mut().push(e.kind()))
        .build()
        .unwrap();
    // At p = 50/51 the seeded draw sheds within a few calls.
    let shed = (0..10)
        .map(|_| {
            vt.run(pipeline.call_async(|| async {
                runs.set(runs.get() + 1);
                Ok(1)
            }))
        })
        .find_map(Result::err)
        .expect("a shed request");
    assert!(matches!(shed, PipelineError::Throttled(_)));
    assert_eq!(shed.library(), Some(LibraryError::Throttled));
    assert_eq!(shed.retry_after(), None, "the retry's own backoff paces a shed request");
    assert!(shed.to_string().starts_with("request throttled locally"), "{shed}");
    assert!(std::error::Error::source(&shed).is_some());
    assert_eq!(log.borrow().last(), Some(&EventKind::Throttled));
    // Every call was counted as a request, the shed one too; it never ran.
    assert_eq!(t.stats().requests, 50 + runs.get() as u64 + 1);
    assert_eq!(log.borrow().len(), 1, "only the shed call told the listener");
}
