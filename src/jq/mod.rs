//! jq expressions (through jaq) for `query`, `catalog` and `http` checks and for request templates.
//!
//! Expressions are compiled once when the policy loads; compile errors carry the byte offset in the expression so
//! `validate` can point at the exact column. Filters that read the environment or stdin, write to the log or exit
//! the process (`env`, `input`, `debug`, `stderr`, `halt`) are not available: the environment holds secrets, and a
//! rule must neither flood the log nor stop the process.
//!
//! Whoever wrote a policy, running it never brings the process down: every evaluation runs under [`Limits`] (steps,
//! wall-clock time, recursion depth, output size) and, once [`use_sandbox`] has been called (the `shipshape` binary
//! does so at start-up), in a separate worker process whose memory is capped by the operating system, so that a
//! program that allocates gigabytes in one operation or overflows its stack in native code ends that worker, not
//! the App. A program that exceeds a limit is an [`EvalError::Limit`] with the reason; the engine reports its rule
//! as `error`.

mod budget;
mod sandbox;

pub use sandbox::{SANDBOX_ARG, use_sandbox, worker_main};

use budget::Fuel;
use jaq_core::load::{Arena, File, Loader, lex, parse};
use jaq_core::{Compiler, compile};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Filters left out: they read the process environment or stdin, write to the log, or exit the process.
const FORBIDDEN: &[&str] =
    &["env", "input", "inputs", "halt", "halt_error", "debug", "debug_empty", "stderr", "stderr_empty"];

/// Native filters replaced by metered ones (see `budget::funs`).
const REPLACED: &[&str] = &["range"];

/// What one evaluation may use. Policies merged into the catalog (or embedded, or given to the CLI) get
/// [`Limits::REVIEWED`]; a catalog pull request's proposed policy, previewed before anyone approved it, gets the
/// tighter [`Limits::UNREVIEWED`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Terms evaluated (every filter call and every `range` value is one).
    pub steps: u64,
    /// Wall-clock time, in milliseconds.
    pub time_ms: u64,
    /// Stack the evaluation may use for recursion, in bytes.
    pub stack_bytes: usize,
    /// Size of a value the expression returns (as JSON text), in bytes.
    pub output_bytes: usize,
}

impl Limits {
    pub const REVIEWED: Limits =
        Limits { steps: 10_000_000, time_ms: 1_000, stack_bytes: 16 << 20, output_bytes: 1 << 20 };
    pub const UNREVIEWED: Limits =
        Limits { steps: 1_000_000, time_ms: 250, stack_bytes: 4 << 20, output_bytes: 64 << 10 };

    pub fn time(&self) -> Duration {
        Duration::from_millis(self.time_ms)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::REVIEWED
    }
}

/// A compiled jq expression.
pub struct Jq {
    source: String,
    filter: compile::Filter<jaq_core::Native<Fuel>>,
}

impl fmt::Debug for Jq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jq({:?})", self.source)
    }
}

/// A jq expression that does not compile, with the byte offset of the problem in the expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JqError {
    pub offset: usize,
    pub message: String,
}

/// Why running an expression gave no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum EvalError {
    /// The program itself failed on this input (`error`, a type error): part of the rule's meaning.
    #[error("jq error: {0}")]
    Program(String),
    /// The program was stopped: it exceeded a limit, or the sandbox running it ended. The rule could not be judged.
    #[error("{0}")]
    Limit(String),
}

/// What an evaluation returns: the first output's truthiness, or the first output itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Want {
    Truth,
    First,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Answer {
    Truth(bool),
    First(Option<serde_json::Value>),
}

impl Jq {
    pub fn compile(source: &str) -> Result<Self, JqError> {
        let offset_of = |s: &str| {
            let start = source.as_ptr() as usize;
            (s.as_ptr() as usize).saturating_sub(start).min(source.len())
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .filter(|def| !FORBIDDEN.contains(&def.name));
        let funs = jaq_core::funs::<Fuel>()
            .chain(jaq_std::funs::<Fuel>())
            .chain(jaq_json::funs::<Fuel>())
            .filter(|(name, _, _)| !FORBIDDEN.contains(name) && !REPLACED.contains(name))
            .chain(budget::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader.load(&arena, File { code: source, path: () }).map_err(|errors| {
            let (_, error) = errors.into_iter().next().expect("a failed load has an error");
            load_error(error, &offset_of)
        })?;
        let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errors| {
            let (_, errs) = errors.into_iter().next().expect("a failed compile has an error");
            let (s, undefined) = errs.into_iter().next().expect("compile errors are not empty");
            JqError { offset: offset_of(s), message: format!("invalid jq: undefined {} `{s}`", undefined.as_str()) }
        })?;
        Ok(Self { source: source.to_string(), filter })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Runs the expression on `input`; `Ok(true)` when its first output is neither `false` nor `null`.
    pub fn test(&self, input: &serde_json::Value, limits: &Limits) -> Result<bool, EvalError> {
        match self.eval(input, limits, Want::Truth)? {
            Answer::Truth(truth) => Ok(truth),
            Answer::First(_) => Err(EvalError::Limit("the jq sandbox answered another question".into())),
        }
    }

    /// The first output as JSON; `None` when there is none.
    pub fn first(&self, input: &serde_json::Value, limits: &Limits) -> Result<Option<serde_json::Value>, EvalError> {
        match self.eval(input, limits, Want::First)? {
            Answer::First(value) => Ok(value),
            Answer::Truth(_) => Err(EvalError::Limit("the jq sandbox answered another question".into())),
        }
    }

    fn eval(&self, input: &serde_json::Value, limits: &Limits, want: Want) -> Result<Answer, EvalError> {
        match sandbox::installed() {
            Some(sandbox) => sandbox.eval(&self.source, input, limits, want),
            None => budget::run_on_own_thread(&self.filter, input, limits, want),
        }
    }
}

fn load_error(error: jaq_core::load::Error<&str>, offset_of: &dyn Fn(&str) -> usize) -> JqError {
    let found = |s: &str| if s.is_empty() { "end of expression".to_string() } else { format!("`{}`", first_token(s)) };
    match error {
        jaq_core::load::Error::Io(e) => {
            let (s, m) = e.into_iter().next().unwrap_or(("", "cannot load module".into()));
            JqError { offset: offset_of(s), message: format!("invalid jq: {m}") }
        }
        jaq_core::load::Error::Lex(e) => {
            let (expect, s): &(lex::Expect<&str>, &str) = e.first().expect("lex errors are not empty");
            let message = match expect {
                lex::Expect::Token => format!("invalid jq: unexpected {}", found(s)),
                other => format!("invalid jq: expected {}, found {}", other.as_str(), found(s)),
            };
            JqError { offset: offset_of(s), message }
        }
        jaq_core::load::Error::Parse(e) => {
            let (expect, s): &(parse::Expect<&str>, &str) = e.first().expect("parse errors are not empty");
            JqError {
                offset: offset_of(s),
                message: format!("invalid jq: expected {}, found {}", expect.as_str(), found(s)),
            }
        }
    }
}

fn first_token(s: &str) -> &str {
    let end = s.char_indices().skip(1).find(|(_, c)| c.is_whitespace()).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end.min(20)]
}

/// Converts a JSON value (a catalog entry, a parsed file) into jaq's value type.
fn to_val(value: &serde_json::Value) -> jaq_json::Val {
    serde_json::from_value(value.clone()).expect("every JSON value is a jaq value")
}

#[cfg(test)]
mod tests;
