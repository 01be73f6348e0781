//! The fallback chain: primary first, then each fallback in order.

/// What to do next in a fallback chain.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackStep {
    /// Call fallback number `index` (0-based) with the same arguments.
    CallFallback(usize),
    /// Stop and raise the error just received.
    Raise,
}

/// The sans-IO fallback decision: bindings run the calls, this decides the
/// order and which error surfaces.
///
/// Rules (the original's): a primary error outside the expected ones is
/// raised without trying fallbacks; otherwise fallbacks run in order and the
/// first success wins; if all fail, the last fallback's error is raised;
/// with no fallbacks, the primary's. Fallback errors are not filtered.
///
/// ```
/// use resilience_core::{FallbackState, FallbackStep};
/// let mut chain = FallbackState::new(2);
/// assert_eq!(chain.on_primary_error(true), FallbackStep::CallFallback(0));
/// assert_eq!(chain.on_fallback_error(), FallbackStep::CallFallback(1));
/// assert_eq!(chain.on_fallback_error(), FallbackStep::Raise);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallbackState {
    fallbacks: usize,
    next: usize,
}

impl FallbackState {
    /// A chain with `fallbacks` fallbacks after the primary.
    pub fn new(fallbacks: usize) -> Self {
        Self { fallbacks, next: 0 }
    }

    /// The primary failed; `expected` says whether its error is one the
    /// chain handles (a filter that failed is "not expected":
    /// [`crate::rules::PredicateOutcome::falls_back`]).
    pub fn on_primary_error(&mut self, expected: bool) -> FallbackStep {
        if !expected {
            return FallbackStep::Raise;
        }
        self.next = 0;
        self.advance()
    }

    /// The fallback last returned by a step failed.
    pub fn on_fallback_error(&mut self) -> FallbackStep {
        self.advance()
    }

    fn advance(&mut self) -> FallbackStep {
        if self.next < self.fallbacks {
            let index = self.next;
            self.next = self.next.saturating_add(1);
            FallbackStep::CallFallback(index)
        } else {
            FallbackStep::Raise
        }
    }
}

/// Runs `primary`, then each of `fallbacks` in order per [`FallbackState`].
/// `is_expected` classifies the primary's error.
///
/// # Errors
/// The primary's unexpected error, or the last fallback's error (the
/// primary's when there are none).
///
/// ```
/// use resilience_core::run_fallback;
/// let mut fallbacks: [&mut dyn FnMut() -> Result<&'static str, &'static str>; 2] =
///     [&mut || Err("cache miss"), &mut || Ok("default")];
/// assert_eq!(run_fallback(|| Err("down"), &mut fallbacks, |_| true), Ok("default"));
/// ```
pub fn run_fallback<T, E>(
    primary: impl FnOnce() -> Result<T, E>,
    fallbacks: &mut [&mut dyn FnMut() -> Result<T, E>],
    is_expected: impl FnOnce(&E) -> bool,
) -> Result<T, E> {
    let mut error = match primary() {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut state = FallbackState::new(fallbacks.len());
    let mut step = state.on_primary_error(is_expected(&error));
    while let FallbackStep::CallFallback(i) = step {
        let Some(f) = fallbacks.get_mut(i) else { break };
        match f() {
            Ok(v) => return Ok(v),
            Err(e) => error = e,
        }
        step = state.on_fallback_error();
    }
    Err(error)
}
