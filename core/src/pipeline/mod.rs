//! One object composing strategies in a declared order (Polly's
//! `ResiliencePipelineBuilder`, cockatiel's `wrap`, tower's layers).

mod kinds;

pub use kinds::StrategyKind;
