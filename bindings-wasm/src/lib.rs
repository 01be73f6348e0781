//! Binding crate (being built).
