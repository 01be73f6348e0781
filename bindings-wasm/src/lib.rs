//! # resilience-wasm
//!
//! The WebAssembly face of `resilience-core`, compiled with wasm-bindgen and
//! wrapped by the JavaScript glue of the npm package `resilience-wasm`.
//!
//! Division of labour (measured in `bench/js/RESULTS.md`): every *decision* —
//! the delay before the next attempt, retry or give up, admit or reject a
//! call through a breaker, the next fallback, a bulkhead slot — is taken here
//! by the core. The JavaScript glue only awaits the user's promise, sleeps,
//! and turns the numbers returned here into promises and errors. The
//! exports are therefore small synchronous functions over plain numbers:
//! crossing into wasm costs nanoseconds, awaiting through
//! `wasm-bindgen-futures` would cost microseconds on every call.
//!
//! Nothing here holds a `RefCell` borrow while calling into JavaScript.

mod answers;
mod breaker;
mod bulkhead;
mod clock;
mod config;
mod fallback;
#[cfg(feature = "futures-bench")]
mod futures_path;
mod held;
mod lease;
mod load;
mod pipeline;
mod policy;
mod timing;
mod value;

pub use answers::{
    accepted, counts_as_failure, falls_back, hedge_failed, retryable, BreakerAdmission, BreakerRejection,
    BreakerReport, BulkheadAdmission, BulkheadCancel, BulkheadHandover, FallbackAnswer, FilterVerdict, HedgeVerdict,
    HedgeWait, LimiterAnswer, RetryAnswer, ThrottleAnswer,
};
pub use breaker::{breaker_metric_names, breaker_state_names, BreakerCore};
// resilience-wasm/redis (issue 12).
pub use breaker::fleet::{
    breaker_sync_script, connect_timeout_ms, forget_fleet_waker, key_part, shared_name, BreakerSync, FleetConfigCore,
    FleetReportCore,
};
pub use bulkhead::BulkheadCore;
pub use config::install_error_classes;
pub use fallback::fallback_step;
pub use lease::{budget_lease_script, limiter_lease_script, LeaseSyncCore};
pub use load::{BudgetCore, LimiterCore, ThrottleCore};
pub use pipeline::{event_names, library_error_names, library_error_rules, pipeline_check, strategy_names};
pub use policy::{default_retryable_status_codes, retry_after_ms, RetryPolicyCore};
pub use timing::{HedgingCore, TimeoutCore};

/// Bytes of wasm linear memory in use (a diagnostic: the leak tests check
/// that it stays flat over many executions).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0usize;
    (pages * 65_536) as f64
}
