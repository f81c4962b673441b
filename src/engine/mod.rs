//! The scoring engine.
pub mod scorecard;
pub use scorecard::*;
