//! End-to-end tests of the `shipshape` binary: exit codes and output of `evaluate` and `validate` (SPEC 2 and 3).

mod evaluate;
mod formats;
mod support;
mod validate;
