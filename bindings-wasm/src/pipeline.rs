//! The pipeline's rules, for the glue that composes the strategies: the
//! order (rule `pipeline_order`), how each strategy treats the errors the
//! library creates (rule `library_errors`), and the events' names.

use resilience_core::{rules, EventKind, LibraryError, StrategyKind};
use wasm_bindgen::prelude::*;

use crate::config::{config_error, flat_names};
use crate::value::value_of;

/// Rule `pipeline_order` on the strategies as declared, outer to inner:
/// each a strategy's name (`StrategyKind::NAMES`), or whatever the user
/// passed that is not a strategy (core calls it the wrong type, or an
/// unknown name). A ConfigError naming `strategies` or `strategy`.
#[wasm_bindgen]
pub fn pipeline_check(names: Vec<JsValue>) -> Result<(), JsValue> {
    rules::pipeline_names(names.iter().map(value_of))
        .map(drop)
        .map_err(|e| {
            // The value the error is about: the strategy core named.
            let got = names
                .iter()
                .find(|v| value_of(v) == *e.got())
                .cloned()
                .unwrap_or(JsValue::UNDEFINED);
            config_error(&e, flat_names, &got)
        })
}

/// Every strategy name, outer to inner (the only order a pipeline accepts).
#[wasm_bindgen]
pub fn strategy_names() -> Vec<String> {
    StrategyKind::NAMES.iter().map(|s| (*s).to_owned()).collect()
}

/// Core's names of the library's errors (`LibraryError::ALL`, in order):
/// the glue maps each of its error classes to one, never to a position.
#[wasm_bindgen]
pub fn library_error_names() -> Vec<String> {
    LibraryError::ALL.iter().map(|l| l.as_str().to_owned()).collect()
}

/// Rule `library_errors`, per library error in the order of
/// `library_error_names`: bit 0 a retry retries it, bit 1 a breaker counts
/// it as a failure, bit 2 a fallback answers for it, bit 3 a hedged copy
/// that ended with it has failed.
#[wasm_bindgen]
pub fn library_error_rules() -> Vec<u8> {
    LibraryError::ALL
        .iter()
        .map(|l| {
            u8::from(l.retryable())
                | u8::from(l.counts_as_breaker_failure()) << 1
                | u8::from(l.falls_back()) << 2
                | u8::from(l.hedge_failed()) << 3
        })
        .collect()
}

/// Core's event names (`EventKind::ALL`, in order): the `type` of every
/// event object the glue builds.
#[wasm_bindgen]
pub fn event_names() -> Vec<String> {
    EventKind::ALL.iter().map(|k| k.as_str().to_owned()).collect()
}
