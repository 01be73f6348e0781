//! `run_fallback`, the blocking fallback loop over `FallbackState`.

use std::cell::RefCell;

use resilience_core::run_fallback;

type Outcome = Result<&'static str, &'static str>;

/// Runs a chain; returns its result and the indexes of the fallbacks called.
fn run(primary: Outcome, answers: &[Outcome], expected: bool) -> (Outcome, Vec<usize>) {
    let calls = RefCell::new(Vec::new());
    let mut steps: Vec<_> = answers
        .iter()
        .enumerate()
        .map(|(i, &answer)| {
            let calls = &calls;
            move || {
                calls.borrow_mut().push(i);
                answer
            }
        })
        .collect();
    let mut refs: Vec<&mut dyn FnMut() -> Outcome> =
        steps.iter_mut().map(|f| f as &mut dyn FnMut() -> Outcome).collect();
    let result = run_fallback(|| primary, &mut refs, |_| expected);
    drop(refs);
    drop(steps);
    (result, calls.into_inner())
}

#[test]
fn a_primary_success_runs_no_fallback() {
    assert_eq!(run(Ok("primary"), &[Ok("fb")], true), (Ok("primary"), vec![]));
}

#[test]
fn fallbacks_run_in_order_until_one_succeeds() {
    let (result, calls) = run(Err("down"), &[Err("miss"), Ok("default"), Ok("never")], true);
    assert_eq!(result, Ok("default"));
    assert_eq!(calls, [0, 1]);
}

#[test]
fn when_every_fallback_fails_the_last_fallbacks_error_surfaces() {
    let (result, calls) = run(Err("down"), &[Err("miss"), Err("stale")], true);
    assert_eq!(result, Err("stale"));
    assert_eq!(calls, [0, 1]);
}

#[test]
fn without_fallbacks_the_primarys_error_surfaces() {
    assert_eq!(run(Err("down"), &[], true), (Err("down"), vec![]));
}

#[test]
fn an_unexpected_primary_error_skips_the_fallbacks() {
    assert_eq!(run(Err("bug"), &[Ok("fb")], false), (Err("bug"), vec![]));
}
