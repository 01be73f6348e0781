//! Permits: the right to run one call through a breaker.

use std::fmt;

use super::{CircuitBreaker, CircuitState, Transition};
use crate::time::Clock;

/// A plain, copyable record of an admitted call, for bindings that cannot
/// hold a borrow of the breaker. Give it back exactly once.
///
/// Packed into one `u64` (bit 32: trial, bit 33: admitting it moved the
/// breaker from open to half-open, bits 0–31: the reset epoch), so the
/// closed-state path returns a single register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermitToken(u64);

const TRIAL: u64 = 1 << 32;
const ENTERED_HALF_OPEN: u64 = 1 << 33;

impl PermitToken {
    pub(super) fn normal() -> Self {
        Self(0)
    }

    pub(super) fn trial(epoch: u32, entered_half_open: bool) -> Self {
        let entered = if entered_half_open { ENTERED_HALF_OPEN } else { 0 };
        Self(TRIAL | entered | u64::from(epoch))
    }

    pub(super) fn epoch(&self) -> u32 {
        (self.0 & u64::from(u32::MAX)) as u32
    }

    /// Whether this call is a half-open trial.
    pub fn is_trial(&self) -> bool {
        self.0 & TRIAL != 0
    }

    /// The transition that admitting this call caused (open → half-open), if any.
    pub fn transition(&self) -> Option<Transition> {
        (self.0 & ENTERED_HALF_OPEN != 0).then_some(Transition {
            from: CircuitState::Open,
            to: CircuitState::HalfOpen,
        })
    }

    /// Packs the token into 64 bits (for C and other FFI callers).
    pub fn to_raw(&self) -> u64 {
        self.0
    }

    /// Unpacks [`PermitToken::to_raw`]. Any value is safe to pass back: a
    /// forged or stale token can at worst be ignored by the breaker.
    pub fn from_raw(raw: u64) -> Self {
        Self(raw & (TRIAL | ENTERED_HALF_OPEN | u64::from(u32::MAX)))
    }
}

/// The right to run one call. Report its outcome with
/// [`success`](Permit::success) or [`failure`](Permit::failure); dropping it
/// counts as neither (and frees a half-open trial slot).
#[must_use = "report the outcome with success() or failure(); dropping counts as neither"]
pub struct Permit<'a, C: Clock> {
    breaker: &'a CircuitBreaker<C>,
    token: Option<PermitToken>,
}

impl<C: Clock> fmt::Debug for Permit<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("token", &self.token).finish()
    }
}

impl<'a, C: Clock> Permit<'a, C> {
    pub(super) fn new(breaker: &'a CircuitBreaker<C>, token: PermitToken) -> Self {
        Self {
            breaker,
            token: Some(token),
        }
    }

    /// Whether this call is a half-open trial.
    pub fn is_trial(&self) -> bool {
        self.token.is_some_and(|t| t.is_trial())
    }

    /// The transition admitting this call caused, if any.
    pub fn transition(&self) -> Option<Transition> {
        self.token.and_then(|t| t.transition())
    }

    /// The call succeeded.
    pub fn success(mut self) -> Option<Transition> {
        self.token.take().and_then(|t| self.breaker.record_success(t))
    }

    /// The call failed with a counted error.
    pub fn failure(mut self) -> Option<Transition> {
        self.token.take().and_then(|t| self.breaker.record_failure(t))
    }

    /// The call ended with an uncounted error, or did not run.
    pub fn release(mut self) {
        if let Some(t) = self.token.take() {
            self.breaker.release(t);
        }
    }
}

impl<C: Clock> Drop for Permit<'_, C> {
    fn drop(&mut self) {
        if let Some(t) = self.token.take() {
            self.breaker.release(t);
        }
    }
}
