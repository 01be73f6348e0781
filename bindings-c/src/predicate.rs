//! How a C caller's own filter answered (a retry filter, a fallback's
//! expected-error filter), including "it failed": core's
//! `PredicateOutcome`, whose rule decides what a failed filter means.

use resilience_core::rules::PredicateOutcome;

use crate::status::Failure;

/// How your filter classified a failure: one of the `RESILIENCE_PREDICATE_*`
/// values. NO and YES are 0 and 1, so a C `bool` converts directly.
#[allow(non_camel_case_types)]
pub type resilience_predicate_outcome_t = u32;
/// The filter answered no (not retryable; not an expected failure).
pub const RESILIENCE_PREDICATE_NO: resilience_predicate_outcome_t = 0;
/// The filter answered yes (retryable; an expected failure).
pub const RESILIENCE_PREDICATE_YES: resilience_predicate_outcome_t = 1;
/// The filter itself failed and could not answer (e.g. the response it had
/// to inspect could not be parsed). The library's rule: a retry filter that
/// fails means "not retryable" (the failure surfaces at once); an
/// expected-error filter that fails means "not expected" (no fallback runs).
pub const RESILIENCE_PREDICATE_FAILED: resilience_predicate_outcome_t = 2;

pub(crate) fn outcome_from_c(v: resilience_predicate_outcome_t) -> Result<PredicateOutcome, Failure> {
    match v {
        RESILIENCE_PREDICATE_NO => Ok(PredicateOutcome::No),
        RESILIENCE_PREDICATE_YES => Ok(PredicateOutcome::Yes),
        RESILIENCE_PREDICATE_FAILED => Ok(PredicateOutcome::Failed),
        other => Err(Failure::invalid(
            "outcome",
            format_args!(
                "must be RESILIENCE_PREDICATE_NO (0), RESILIENCE_PREDICATE_YES (1) or RESILIENCE_PREDICATE_FAILED (2), got {other}"
            ),
        )),
    }
}
