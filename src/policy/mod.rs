//! Scorecard policies: the file format ([`model`]) and its compiled, validated form ([`compiled`]).

pub mod model;
