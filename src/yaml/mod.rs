//! YAML with positions.
//!
//! Policy and catalog files are parsed in two steps: serde-saphyr's parser (granit) turns the text into a tree of
//! [`Node`]s that remember where each key and value starts, then [`de::from_node`] deserializes that tree into our
//! types through serde. Because the deserializer owns the tree it can report every unknown key of a file at once,
//! with a "did you mean", at the exact line and column, and attach positions to values that later checks need
//! ([`Located`]).

pub mod de;
mod located;

pub use de::{FromNodeError, from_node};
pub use located::Located;

use crate::diag::Pos;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

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

/// A YAML syntax error (or a structural one such as a duplicate key) at a position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
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
    let mut builder = Builder { single, ..Builder::default() };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| SyntaxError {
            pos: Pos::new(e.marker().line(), e.marker().col() + 1),
            message: format!("invalid YAML: {}", e.kind()),
        })?;
        let pos = Pos::new(span.start.line(), span.start.col() + 1);
        builder.event(event, pos)?;
    }
    Ok(builder.roots)
}

/// A collection under construction.
struct Frame {
    node: Node,
    /// For mappings: a key waiting for its value.
    key: Option<Node>,
    anchor: usize,
    /// Entries from `<<` merge keys; explicit keys take precedence (YAML merge key semantics).
    merged: Vec<(Node, Node)>,
}

#[derive(Default)]
struct Builder {
    /// Open collections.
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    roots: Vec<Node>,
    documents: usize,
    single: bool,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), SyntaxError> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.single && self.documents > 1 {
                    return Err(SyntaxError {
                        pos,
                        message: "expected a single YAML document, found a second one".into(),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag_suffix = tag.as_ref().map(|t| t.suffix().to_string());
                let value = resolve_scalar(&text, style, tag_suffix.as_deref());
                self.push(Node { pos, value }, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                let node = Node { pos, value: Value::Seq(Vec::new()) };
                self.stack.push(Frame { node, key: None, anchor, merged: Vec::new() });
            }
            Event::MappingStart(_, anchor, _) => {
                let node = Node { pos, value: Value::Map(Vec::new()) };
                self.stack.push(Frame { node, key: None, anchor, merged: Vec::new() });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Frame { mut node, anchor, merged, .. } = self.stack.pop().expect("parser emits balanced events");
                if let Value::Map(entries) = &mut node.value {
                    for (key, value) in merged {
                        if !entries.iter().any(|(k, _)| k.value == key.value) {
                            entries.push((key, value));
                        }
                    }
                }
                self.push(node, anchor)?;
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| SyntaxError { pos, message: "alias refers to an unknown anchor".into() })?;
                self.push(Node { pos, ..node }, 0)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(Frame { node: parent, key: pending_key, merged, .. }) = self.stack.last_mut() else {
            self.roots.push(node);
            return Ok(());
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) if key.value == Value::Str("<<".into()) => {
                    let sources = match node.value {
                        Value::Map(_) => vec![node],
                        Value::Seq(items) => items,
                        _ => vec![node],
                    };
                    for source in sources {
                        let Value::Map(source_entries) = source.value else {
                            return Err(SyntaxError {
                                pos: source.pos,
                                message: "a merge key (`<<`) takes a mapping or a list of mappings".into(),
                            });
                        };
                        for (k, v) in source_entries {
                            if !merged.iter().any(|(m, _)| m.value == k.value) {
                                merged.push((k, v));
                            }
                        }
                    }
                }
                Some(key) => {
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == key.value) {
                        return Err(SyntaxError {
                            pos: key.pos,
                            message: format!(
                                "duplicate key `{}` (first defined at line {})",
                                key.key_string(),
                                first.pos.line
                            ),
                        });
                    }
                    entries.push((key, node));
                }
            },
            _ => unreachable!("only collections are on the stack"),
        }
        Ok(())
    }
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
mod tests;
