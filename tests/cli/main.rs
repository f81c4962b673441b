//! End-to-end tests of the `shipshape` binary: exit codes and output of `evaluate`, `validate` and `initiatives`
//! (SPEC 2 and 3).

mod catalog_partial;
mod ci_rules;
mod evaluate;
mod formats;
mod hostile;
mod ignored;
mod initiatives;
mod jq_limits;
mod linked;
mod scope_rules;
mod substance;
mod support;
mod unverified;
mod usage;
mod validate;
