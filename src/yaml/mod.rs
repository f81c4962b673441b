//! YAML with positions.
//!
//! Policy and catalog files are parsed in two steps: serde-saphyr's parser (granit) turns the text into a tree of
//! [`Node`]s that remember where each key and value starts, then [`de::from_node`] deserializes that tree into our
//! types through serde. Because the deserializer owns the tree it can report every unknown key of a file at once,
//! with a "did you mean", at the exact line and column, and attach positions to values that later checks need
//! ([`Located`]).

mod build;
pub mod de;
mod hint;
mod located;

pub use build::{MAX_DEPTH, MAX_NODES, MAX_SCALAR_BYTES};
pub use de::{FromNodeError, Parts, describe, from_node, from_node_parts};
pub use located::Located;

use crate::diag::Pos;
use serde_saphyr::granit_parser::{ErrorKind, Parser, ScalarStyle};

/// A YAML value and where it starts in its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order. Keys are nodes so errors can point at them.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as JSON, for jq queries over catalog entries and repository files.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|(k, v)| (k.key_string(), v.to_json())).collect()),
        }
    }

    /// A mapping key as text (YAML allows non-string keys; JSON does not).
    pub fn key_string(&self) -> String {
        match &self.value {
            Value::Str(s) => s.clone(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Seq(_) | Value::Map(_) => "<complex key>".into(),
        }
    }
}

/// A YAML syntax error (or a structural one such as a duplicate key), or a file past the limits of [`build`], at a
/// position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub pos: Pos,
    pub kind: SyntaxKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxKind {
    /// Not valid YAML, or not a valid configuration file (a duplicate key, a second document).
    Invalid,
    /// Valid YAML that expands past [`MAX_NODES`], [`MAX_SCALAR_BYTES`] or [`MAX_DEPTH`]: not read.
    TooComplex,
}

/// Parses one YAML document (a configuration file: a second document is an error). An empty document is `Null`.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut roots = build(text, true)?;
    Ok(roots.pop().unwrap_or(Node { pos: Pos::new(1, 1), value: Value::Null }))
}

/// Parses every document of a YAML stream (`---` separated), as Kubernetes manifests and OpenSLO files are written.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    build(text, false)
}

fn build(text: &str, single: bool) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = build::Builder::new(single);
    // The builder stops at MAX_DEPTH; the parser's own limits only need to be above it.
    let options = serde_saphyr::granit_parser::options! {
        flow_nesting_limit: MAX_DEPTH + 1,
        block_nesting_limit: MAX_DEPTH + 1,
    };
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(|e| {
            let pos = Pos::new(e.marker().line(), e.marker().col() + 1);
            match e.kind() {
                // The scanner reads a token or two ahead, so it may see the nesting before the builder does.
                ErrorKind::RecursionLimitExceeded => build::too_deep(pos),
                kind => {
                    let hint = hint::indentation(kind, text, pos.line).unwrap_or_default();
                    SyntaxError { pos, kind: SyntaxKind::Invalid, message: format!("invalid YAML: {kind}{hint}") }
                }
            }
        })?;
        let pos = Pos::new(span.start.line(), span.start.col() + 1);
        builder.event(event, pos)?;
    }
    Ok(builder.roots)
}

/// YAML 1.2 core schema resolution for scalars; quoted scalars are always strings.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::Str(text.to_string()),
        Some("null") => return Value::Null,
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let looks_numeric = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_numeric && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

/// Parses `text` (the contents of `file`) and deserializes it, adding every problem to `diags` as
/// `file:line:col: message`. Returns the value and its node tree, or `None` when it has errors.
pub fn load<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    diags: &mut crate::diag::Diagnostics,
) -> Option<(T, Node)> {
    use crate::diag::Diagnostic;
    let node = match parse(text) {
        Ok(node) => node,
        Err(e) => {
            diags.push(Diagnostic::error(file, e.pos, e.message));
            return None;
        }
    };
    match from_node::<T>(&node) {
        Ok(value) => Some((value, node)),
        Err(errors) => {
            for e in errors {
                diags.push(Diagnostic::error(file, e.pos.unwrap_or(node.pos), e.message));
            }
            None
        }
    }
}

#[cfg(test)]
pub(crate) mod limits_tests;
#[cfg(test)]
mod tests;
