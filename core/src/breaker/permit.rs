//! Permits: the right to run one call through a breaker, held as a guard.

use std::fmt;

use super::outcome::Judgement;
use super::{CircuitBreaker, CircuitState, PermitToken, Transition};
use crate::time::Clock;

/// What admitting a call handed out internally: no ledger entry for a
/// closed-state call (the guard cannot be reported twice; its reset epoch
/// makes it stale), a ledger token for a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grant {
    /// A closed-state call.
    Normal(Admitted),
    Trial(PermitToken),
}

/// When and in which reset epoch a closed-state call was admitted: a call
/// admitted before a reset is stale after it, and its outcome changes
/// nothing (as a token from before the reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Admitted {
    /// The clock reading at admission (0 unless the slow-call rule needs it).
    pub(super) started_ns: u64,
    /// The breaker's reset epoch at admission.
    pub(super) epoch: u32,
}

/// The right to run one call. Report its outcome with
/// [`success`](Permit::success) or [`failure`](Permit::failure); dropping it
/// counts as neither (and frees a half-open trial slot). Being consumed by
/// its report, it cannot be reported twice.
#[must_use = "report the outcome with success() or failure(); dropping counts as neither"]
pub struct Permit<'a, C: Clock> {
    breaker: &'a CircuitBreaker<C>,
    grant: Option<Grant>,
}

impl<C: Clock> fmt::Debug for Permit<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("grant", &self.grant).finish()
    }
}

impl<'a, C: Clock> Permit<'a, C> {
    pub(super) fn new(breaker: &'a CircuitBreaker<C>, grant: Grant) -> Self {
        Self {
            breaker,
            grant: Some(grant),
        }
    }

    /// Whether this call is a half-open trial.
    pub fn is_trial(&self) -> bool {
        matches!(self.grant, Some(Grant::Trial(_)))
    }

    /// The transition admitting this call caused (open → half-open), if any.
    pub fn transition(&self) -> Option<Transition> {
        match self.grant {
            Some(Grant::Trial(token)) if token.entered_half_open() => Some(Transition {
                from: CircuitState::Open,
                to: CircuitState::HalfOpen,
            }),
            _ => None,
        }
    }

    fn finish(&mut self, outcome: Judgement) -> Option<Transition> {
        self.grant.take().and_then(|g| self.breaker.finish_grant(g, outcome))
    }

    /// Reports the call as `judgement` says.
    pub(super) fn finish_as(mut self, judgement: Judgement) -> Option<Transition> {
        self.finish(judgement)
    }

    /// The call succeeded.
    pub fn success(mut self) -> Option<Transition> {
        self.finish(Judgement::Success)
    }

    /// The call failed with a counted error.
    pub fn failure(mut self) -> Option<Transition> {
        self.finish(Judgement::Failure)
    }

    /// The call ended with an uncounted error, or did not run.
    pub fn release(mut self) {
        self.finish(Judgement::Neither);
    }
}

impl<C: Clock> Drop for Permit<'_, C> {
    fn drop(&mut self) {
        self.finish(Judgement::Neither);
    }
}
