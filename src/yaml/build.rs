//! Building the [`Node`] tree from parser events, within limits.
//!
//! Any file a rule reads can come from a pull request, forks included, so a file must not be able to make the
//! tree large. The parser's events are small (a "billion laughs" file is a few hundred bytes of anchors and
//! aliases), but each alias copies the node it refers to: nine aliases of nine aliases of ... make 10^8 nodes.
//! The builder therefore counts what it *materialises*, copies included, and stops at:
//!
//! - [`MAX_NODES`] nodes (scalars, sequences and mappings, every alias copy counted in full);
//! - [`MAX_SCALAR_BYTES`] bytes of scalar text (keys included, every alias copy counted);
//! - [`MAX_DEPTH`] levels of nesting (aliases counted at the depth they are copied to), so that nothing that walks
//!   the tree recursively (deserializing, converting to JSON, dropping) can run out of stack.
//!
//! Duplicate keys and merge keys are found through a hash of each key, so a mapping with many keys stays linear.

use super::{Node, SyntaxError, SyntaxKind, Value, resolve_scalar};
use crate::diag::Pos;
use serde_saphyr::granit_parser::Event;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Most nodes one file may expand to (aliases copied in full). A 1 MiB file of plain YAML has fewer.
pub const MAX_NODES: usize = 250_000;
/// Most bytes of scalar text one file may expand to (aliases copied in full).
pub const MAX_SCALAR_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of sequences and mappings in one file (aliases included).
pub const MAX_DEPTH: usize = 128;

/// What a finished node costs, remembered for its anchor so that each alias of it is charged the same.
#[derive(Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    bytes: usize,
    /// Levels of collections: 0 for a scalar, 1 + the deepest child for a collection.
    height: usize,
}

impl Cost {
    fn add(&mut self, child: Cost) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.bytes = self.bytes.saturating_add(child.bytes);
        self.height = self.height.max(child.height + 1);
    }
}

/// A collection under construction.
struct Frame {
    node: Node,
    /// For mappings: a key waiting for its value.
    key: Option<Node>,
    anchor: usize,
    /// The collection itself and everything in it so far.
    cost: Cost,
    /// Fingerprints of the explicit keys so far, with the line each was first defined on.
    keys: HashMap<String, usize>,
    /// Entries from `<<` merge keys; explicit keys take precedence (YAML merge key semantics).
    merged: Vec<(Node, Node)>,
    merged_keys: HashSet<String>,
}

impl Frame {
    fn new(node: Node, anchor: usize) -> Self {
        let cost = Cost { nodes: 1, bytes: 0, height: 1 };
        Self { node, key: None, anchor, cost, keys: HashMap::new(), merged: Vec::new(), merged_keys: HashSet::new() }
    }
}

#[derive(Default)]
pub(super) struct Builder {
    /// Open collections.
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Cost)>,
    pub(super) roots: Vec<Node>,
    documents: usize,
    single: bool,
    /// Everything materialised so far, copies included.
    spent: Cost,
}

fn too_complex(pos: Pos, why: String) -> SyntaxError {
    SyntaxError { pos, kind: SyntaxKind::TooComplex, message: format!("too complex to read: {why}") }
}

pub(super) fn too_deep(pos: Pos) -> SyntaxError {
    too_complex(pos, format!("nested more than {MAX_DEPTH} levels deep"))
}

fn invalid(pos: Pos, message: impl Into<String>) -> SyntaxError {
    SyntaxError { pos, kind: SyntaxKind::Invalid, message: message.into() }
}

impl Builder {
    pub(super) fn new(single: bool) -> Self {
        Self { single, ..Self::default() }
    }

    pub(super) fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), SyntaxError> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.single && self.documents > 1 {
                    return Err(invalid(pos, "expected a single YAML document, found a second one"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag_suffix = tag.as_ref().map(|t| t.suffix().to_string());
                let cost = Cost { nodes: 1, bytes: text.len(), height: 0 };
                self.charge(pos, cost)?;
                let value = resolve_scalar(&text, style, tag_suffix.as_deref());
                self.push(Node { pos, value }, anchor, cost)?;
            }
            Event::SequenceStart(_, anchor, _) => self.open(Node { pos, value: Value::Seq(Vec::new()) }, anchor)?,
            Event::MappingStart(_, anchor, _) => self.open(Node { pos, value: Value::Map(Vec::new()) }, anchor)?,
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().expect("parser emits balanced events");
                let Frame { mut node, anchor, cost, keys, merged, .. } = frame;
                if let Value::Map(entries) = &mut node.value {
                    for (key, value) in merged {
                        if !keys.contains_key(&fingerprint(&key)) {
                            entries.push((key, value));
                        }
                    }
                }
                self.push(node, anchor, cost)?;
            }
            Event::Alias(id) => {
                let cost = match self.anchors.get(&id) {
                    Some((_, cost)) => *cost,
                    None => return Err(invalid(pos, "alias refers to an unknown anchor")),
                };
                if self.stack.len() + cost.height > MAX_DEPTH {
                    return Err(too_complex(pos, format!("this alias nests more than {MAX_DEPTH} levels deep")));
                }
                // Charged before it is copied: the copy is what costs.
                self.charge(pos, cost)?;
                let value = self.anchors[&id].0.value.clone();
                self.push(Node { pos, value }, 0, cost)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn open(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(node.pos));
        }
        self.charge(node.pos, Cost { nodes: 1, bytes: 0, height: 0 })?;
        self.stack.push(Frame::new(node, anchor));
        Ok(())
    }

    /// Counts what is about to be materialised; an error once a limit is passed.
    fn charge(&mut self, pos: Pos, cost: Cost) -> Result<(), SyntaxError> {
        self.spent.nodes = self.spent.nodes.saturating_add(cost.nodes);
        self.spent.bytes = self.spent.bytes.saturating_add(cost.bytes);
        if self.spent.nodes > MAX_NODES {
            return Err(too_complex(
                pos,
                format!("more than {MAX_NODES} values once aliases are expanded (the limit for one file)"),
            ));
        }
        if self.spent.bytes > MAX_SCALAR_BYTES {
            return Err(too_complex(
                pos,
                format!(
                    "more than {} MiB of text once aliases are expanded (the limit for one file)",
                    MAX_SCALAR_BYTES / (1024 * 1024)
                ),
            ));
        }
        Ok(())
    }

    /// Adds a finished node to its parent (or the roots); an anchored node is also kept for its aliases, a copy
    /// that is charged like any other.
    fn push(&mut self, node: Node, anchor: usize, cost: Cost) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.charge(node.pos, cost)?;
            self.anchors.insert(anchor, (node.clone(), cost));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.roots.push(node);
            return Ok(());
        };
        frame.cost.add(cost);
        match &mut frame.node.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match frame.key.take() {
                None => frame.key = Some(node),
                Some(key) if key.as_str() == Some("<<") => merge(frame, node)?,
                Some(key) => {
                    let print = fingerprint(&key);
                    if let Some(first) = frame.keys.get(&print) {
                        return Err(invalid(
                            key.pos,
                            format!("duplicate key `{}` (first defined at line {first})", key.key_string()),
                        ));
                    }
                    frame.keys.insert(print, key.pos.line);
                    entries.push((key, node));
                }
            },
            _ => unreachable!("only collections are on the stack"),
        }
        Ok(())
    }
}

/// `<<: source` or `<<: [sources]`: the entries of each source mapping, the first of each key kept.
fn merge(frame: &mut Frame, node: Node) -> Result<(), SyntaxError> {
    let sources = match node.value {
        Value::Seq(items) => items,
        _ => vec![node],
    };
    for source in sources {
        let Value::Map(source_entries) = source.value else {
            return Err(invalid(source.pos, "a merge key (`<<`) takes a mapping or a list of mappings"));
        };
        for (k, v) in source_entries {
            if frame.merged_keys.insert(fingerprint(&k)) {
                frame.merged.push((k, v));
            }
        }
    }
    Ok(())
}

/// A text that two keys share exactly when they are the same value (positions aside).
fn fingerprint(node: &Node) -> String {
    let mut out = String::new();
    write_fingerprint(node, &mut out);
    out
}

fn write_fingerprint(node: &Node, out: &mut String) {
    match &node.value {
        Value::Null => out.push('~'),
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::Int(i) => {
            let _ = write!(out, "i{i};");
        }
        // `0.0 == -0.0`, as the values compare.
        Value::Float(f) => {
            let _ = write!(out, "f{};", if *f == 0.0 { 0 } else { f.to_bits() });
        }
        Value::Str(s) => {
            let _ = write!(out, "s{}:{s}", s.len());
        }
        Value::Seq(items) => {
            out.push('[');
            for item in items {
                write_fingerprint(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (k, v) in entries {
                write_fingerprint(k, out);
                write_fingerprint(v, out);
            }
            out.push('}');
        }
    }
}
