//! jq expressions (through jaq) for `query` and `catalog` checks.
//!
//! Expressions are compiled once when the policy loads; compile errors carry the byte offset in the expression so
//! `validate` can point at the exact column. Filters that read the environment or stdin or exit the
//! process (`env`, `input`, `halt`) are not available: the environment holds secrets, and a rule must not stop
//! the process.

use jaq_core::load::{Arena, File, Loader, lex, parse};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;
use std::fmt;

type D = data::JustLut<Val>;

/// Filters left out: they read the process environment or stdin, or exit the process.
const FORBIDDEN: &[&str] = &["env", "input", "inputs", "halt", "halt_error"];

/// A compiled jq expression.
pub struct Jq {
    source: String,
    filter: jaq_core::compile::Filter<jaq_core::Native<D>>,
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
        let funs = jaq_core::funs::<D>()
            .chain(jaq_std::funs::<D>())
            .chain(jaq_json::funs::<D>())
            .filter(|(name, _, _)| !FORBIDDEN.contains(name));
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader.load(&arena, File { code: source, path: () }).map_err(|errors| {
            let (_, error) = errors.into_iter().next().expect("a failed load has an error");
            match error {
                jaq_core::load::Error::Io(e) => {
                    let (s, m) = e.into_iter().next().unwrap_or(("", "cannot load module".into()));
                    JqError { offset: offset_of(s), message: format!("invalid jq: {m}") }
                }
                jaq_core::load::Error::Lex(e) => {
                    let (expect, s): &(lex::Expect<&str>, &str) = e.first().expect("lex errors are not empty");
                    let found =
                        if s.is_empty() { "end of expression".to_string() } else { format!("`{}`", first_token(s)) };
                    let message = match expect {
                        lex::Expect::Token => format!("invalid jq: unexpected {found}"),
                        other => format!("invalid jq: expected {}, found {found}", other.as_str()),
                    };
                    JqError { offset: offset_of(s), message }
                }
                jaq_core::load::Error::Parse(e) => {
                    let (expect, s): &(parse::Expect<&str>, &str) = e.first().expect("parse errors are not empty");
                    let found =
                        if s.is_empty() { "end of expression".to_string() } else { format!("`{}`", first_token(s)) };
                    JqError {
                        offset: offset_of(s),
                        message: format!("invalid jq: expected {}, found {found}", expect.as_str()),
                    }
                }
            }
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
    pub fn test(&self, input: Val) -> Result<bool, String> {
        let ctx = Ctx::<D>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = self.filter.id.run((ctx, input));
        match outputs.next() {
            None => Ok(false),
            Some(Ok(v)) => Ok(jaq_core::ValT::as_bool(&v)),
            Some(Err(e)) => Err(match e.get_err() {
                Ok(err) => format!("jq error: {err}"),
                Err(_) => "jq expression stopped with `halt`".to_string(),
            }),
        }
    }
}

impl Jq {
    /// The first output as JSON; `None` when there is none.
    pub fn first(&self, input: Val) -> Result<Option<serde_json::Value>, String> {
        let ctx = Ctx::<D>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = self.filter.id.run((ctx, input));
        match outputs.next() {
            None => Ok(None),
            Some(Ok(v)) => serde_json::from_str(&v.to_string())
                .map(Some)
                .map_err(|_| "jq produced a value that is not JSON".to_string()),
            Some(Err(e)) => Err(match e.get_err() {
                Ok(err) => format!("jq error: {err}"),
                Err(_) => "jq expression stopped with `halt`".to_string(),
            }),
        }
    }
}

fn first_token(s: &str) -> &str {
    let end = s.char_indices().skip(1).find(|(_, c)| c.is_whitespace()).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end.min(20)]
}

/// Converts a JSON value (a catalog entry, a parsed file) into jaq's value type.
pub fn to_val(value: &serde_json::Value) -> Val {
    serde_json::from_value(value.clone()).expect("every JSON value is a jaq value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_truthiness_of_first_output() {
        let jq = Jq::compile(".spec.owner != null").unwrap();
        assert!(jq.test(to_val(&json!({"spec": {"owner": "team-a"}}))).unwrap());
        assert!(!jq.test(to_val(&json!({"spec": {}}))).unwrap());
        let jq = Jq::compile(".jobs | length").unwrap();
        assert!(jq.test(to_val(&json!({"jobs": {"a": 1}}))).unwrap());
        assert!(!Jq::compile("empty").unwrap().test(to_val(&json!(1))).unwrap());
    }

    #[test]
    fn reports_syntax_errors_with_offsets() {
        let err = Jq::compile(".a | ]").unwrap_err();
        assert_eq!(err.offset, 5, "{err:?}");
        let err = Jq::compile(".a | nosuchfn").unwrap_err();
        assert_eq!(err.offset, 5);
        assert!(err.message.contains("nosuchfn"), "{}", err.message);
    }

    #[test]
    fn first_output_is_json() {
        let jq = Jq::compile(".metadata.annotations[\"a/b\"]").unwrap();
        assert_eq!(
            jq.first(to_val(&json!({"metadata": {"annotations": {"a/b": "x y"}}}))).unwrap(),
            Some(json!("x y"))
        );
        assert_eq!(Jq::compile(".n").unwrap().first(to_val(&json!({"n": 2.5}))).unwrap(), Some(json!(2.5)));
        assert_eq!(Jq::compile("empty").unwrap().first(to_val(&json!({}))).unwrap(), None);
    }

    #[test]
    fn environment_is_not_reachable() {
        let err = Jq::compile("env.HOME").unwrap_err();
        assert!(err.message.contains("env"), "{}", err.message);
        assert!(Jq::compile("$ENV").is_err());
    }

    #[test]
    fn runtime_errors_are_reported_not_panicked() {
        let jq = Jq::compile(".a + 1").unwrap();
        assert!(jq.test(to_val(&json!({"a": "x"}))).is_err());
    }
}
