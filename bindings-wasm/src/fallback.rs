//! The fallback decision as a pure function the glue can call statelessly.

use resilience_core::{FallbackState, FallbackStep};
use wasm_bindgen::prelude::*;

use crate::answers::FallbackAnswer;

/// Which fallback to call next in a chain of `fallbacks`, after the primary
/// failed (with an error the chain handles iff `primary_expected`) and then
/// `fallbacks_failed` fallbacks failed too: the fallback's index (>= 0), or
/// `FallbackAnswer::Raise` to reject with the error just received.
///
/// Replays core's `FallbackState` from the start, so the glue keeps no state
/// in wasm (chains are a handful of fallbacks long).
#[wasm_bindgen]
pub fn fallback_step(fallbacks: u32, primary_expected: bool, fallbacks_failed: u32) -> i32 {
    let mut state = FallbackState::new(fallbacks as usize);
    let mut step = state.on_primary_error(primary_expected);
    for _ in 0..fallbacks_failed {
        if step == FallbackStep::Raise {
            break;
        }
        step = state.on_fallback_error();
    }
    match step {
        // A chain longer than i32::MAX cannot exist in wasm32's memory.
        FallbackStep::CallFallback(i) => i32::try_from(i).unwrap_or(FallbackAnswer::Raise.as_i32()),
        // Raise, or a step this release does not know: surface the error.
        _ => FallbackAnswer::Raise.as_i32(),
    }
}
