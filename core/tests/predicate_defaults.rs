//! The default filters, asked directly: every value is accepted and no
//! value is a failure, and both tell the executors not to ask at all.

use resilience_core::{AcceptAll, NoValue, ResultPredicate, ValueFilter};

fn checks_results<T, P: ResultPredicate<T>>(_: &P) -> bool {
    P::CHECKS
}

fn checks_values<T, F: ValueFilter<T>>(_: &F) -> bool {
    F::CHECKS
}

#[test]
fn accept_all_calls_no_value_a_failure_and_is_never_consulted() {
    let mut predicate = AcceptAll;
    assert!(!ResultPredicate::<u16>::is_failure(&mut predicate, &503));
    assert_eq!(ResultPredicate::<u16>::retry_after(&mut predicate, &503), None);
    assert!(!checks_results::<u16, _>(&predicate));
    assert!(checks_results::<u16, _>(&|s: &u16| *s >= 500));
}

#[test]
fn no_value_matches_nothing_and_is_never_consulted() {
    assert!(!ValueFilter::<u16>::matches(&NoValue, &503));
    assert_eq!(ValueFilter::<u16>::retry_after(&NoValue, &503), None);
    assert!(!checks_values::<u16, _>(&NoValue));
    assert!(checks_values::<u16, _>(&|s: &u16| *s >= 500));
}
