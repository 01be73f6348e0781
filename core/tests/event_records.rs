//! Events are plain records: copyable whatever the operation's value and
//! error types (they only borrow the cause), and typed by a stable kind.

use std::time::Duration;

use resilience_core::{Cause, Event, EventKind, StrategyKind};

/// Clones through the `Clone` trait, as generic code holding events does.
fn duplicate<T: Clone>(value: &T) -> T {
    value.clone()
}

/// Neither `Clone` nor `Copy`: the event must not need either.
#[derive(Debug, PartialEq)]
struct Response(u16);

#[test]
fn an_event_and_its_cause_copy_without_copying_what_they_borrow() {
    let response = Response(503);
    let cause: Cause<'_, Response, ()> = Cause::Result(&response);
    assert_eq!(duplicate(&cause), cause);
    let event = Event::RetryScheduled {
        attempt: 2,
        delay: Duration::from_millis(400),
        cause,
    };
    let copy = duplicate(&event);
    assert_eq!(copy, event);
    let Event::RetryScheduled {
        cause: Cause::Result(seen),
        ..
    } = copy
    else {
        panic!("a copy is the same event: {copy:?}")
    };
    assert!(std::ptr::eq(seen, &response), "the copy borrows the same value");
}

#[test]
fn every_event_reports_its_kind() {
    let events: [Event<'_, (), ()>; 4] = [
        Event::HedgeStarted { attempt: 2 },
        Event::FallbackUsed { index: 0 },
        Event::BulkheadRejected,
        Event::Timeout {
            strategy: StrategyKind::AttemptTimeout,
            after: Duration::from_secs(1),
        },
    ];
    let kinds: Vec<EventKind> = events.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::HedgeStarted,
            EventKind::FallbackUsed,
            EventKind::BulkheadRejected,
            EventKind::Timeout
        ]
    );
    assert_eq!(EventKind::HedgeStarted.to_string(), "hedge_started");
}
