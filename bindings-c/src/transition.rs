//! State-change notifications: a C callback becomes core's breaker listener.

use std::ffi::c_void;

use resilience_core::{CircuitState, Transition};

/// A breaker state: one of the `RESILIENCE_CIRCUIT_*` values.
#[allow(non_camel_case_types)]
pub type resilience_circuit_state_t = u32;
/// Calls flow; failures are counted.
pub const RESILIENCE_CIRCUIT_CLOSED: resilience_circuit_state_t = 0;
/// Calls are rejected until the recovery timeout has passed.
pub const RESILIENCE_CIRCUIT_OPEN: resilience_circuit_state_t = 1;
/// The recovery timeout has passed: limited trial calls decide.
pub const RESILIENCE_CIRCUIT_HALF_OPEN: resilience_circuit_state_t = 2;
/// Held open by hand (resilience_circuit_breaker_isolate()): every call is
/// rejected until resilience_circuit_breaker_close() or _reset().
pub const RESILIENCE_CIRCUIT_ISOLATED: resilience_circuit_state_t = 3;

pub(crate) fn state_to_c(s: CircuitState) -> resilience_circuit_state_t {
    match s {
        CircuitState::Closed => RESILIENCE_CIRCUIT_CLOSED,
        CircuitState::Open => RESILIENCE_CIRCUIT_OPEN,
        CircuitState::HalfOpen => RESILIENCE_CIRCUIT_HALF_OPEN,
        CircuitState::Isolated => RESILIENCE_CIRCUIT_ISOLATED,
        // A state a later core may add (none today) reads as open: it
        // rejects calls until the breaker says otherwise.
        _ => RESILIENCE_CIRCUIT_OPEN,
    }
}

/// Told about every state change of a breaker, after it happened and outside
/// the breaker's lock (so the callback may call back into the breaker). A
/// shared breaker calls it from whichever thread caused the change.
///
/// Ownership as for resilience_time_source_t: the breaker takes `user_data`
/// when its `_new` succeeds and calls `free_user_data` (if not NULL) once
/// from `_free`. All-NULL (the default) means no listener.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct resilience_transition_listener_t {
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// Called with the state before and after (RESILIENCE_CIRCUIT_* values,
    /// RESILIENCE_CIRCUIT_ISOLATED included).
    pub on_transition: Option<
        unsafe extern "C" fn(user_data: *mut c_void, from: resilience_circuit_state_t, to: resilience_circuit_state_t),
    >,
    /// Called once with `user_data` when the breaker is freed.
    pub free_user_data: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

impl resilience_transition_listener_t {
    pub(crate) const NONE: Self = Self {
        user_data: std::ptr::null_mut(),
        on_transition: None,
        free_user_data: None,
    };
}

/// A listener owned by a breaker; runs the finalizer on drop.
#[derive(Debug)]
pub(crate) struct OwnedListener(resilience_transition_listener_t);

// SAFETY: the documented contract makes the callback and `user_data` usable
// from any thread that uses the breaker.
unsafe impl Send for OwnedListener {}
// SAFETY: as above.
unsafe impl Sync for OwnedListener {}

impl OwnedListener {
    pub(crate) fn new(listener: resilience_transition_listener_t) -> Self {
        Self(listener)
    }

    pub(crate) fn notify(&self, t: Transition) {
        if let Some(callback) = self.0.on_transition {
            // SAFETY: the caller supplied a valid callback for this user_data.
            unsafe { callback(self.0.user_data, state_to_c(t.from), state_to_c(t.to)) };
        }
    }
}

impl Drop for OwnedListener {
    fn drop(&mut self) {
        if let Some(free) = self.0.free_user_data {
            // SAFETY: ownership of user_data was passed to us; called once.
            unsafe { free(self.0.user_data) };
        }
    }
}
