//! Checks of one catalog file that report everything at once.
//!
//! serde stops at the first missing key or wrong type, so a file that does not deserialize is also checked against
//! its JSON Schema (the one `shipshape schema` prints, generated from the types), which finds every missing key and
//! every wrong type; each is reported at the line and column of its YAML node. The checks of values (`apiVersion`,
//! the name matching the file, …) read the node tree, so they run even when the file does not deserialize.
//!
//! Backstage entities allow keys shipshape does not know, so a misspelt key (`ownr:`) would silently unlink the
//! service: keys close to a known one are warned about, with a did-you-mean.

use super::model::{ExceptionFile, PAGERDUTY_SERVICE, PROJECT_SLUG, ServiceFile};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::yaml::{self, Node, Value};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use std::sync::OnceLock;

/// Which file format a catalog file has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    Service,
    Exception,
}

fn validator(format: Format) -> &'static jsonschema::Validator {
    static SERVICE: OnceLock<jsonschema::Validator> = OnceLock::new();
    static EXCEPTION: OnceLock<jsonschema::Validator> = OnceLock::new();
    let build = |schema: schemars::Schema| {
        jsonschema::validator_for(schema.as_value()).expect("the schema generated from the types compiles")
    };
    match format {
        Format::Service => SERVICE.get_or_init(|| build(schemars::schema_for!(ServiceFile))),
        Format::Exception => EXCEPTION.get_or_init(|| build(schemars::schema_for!(ExceptionFile))),
    }
}

/// Parses and deserializes `text` (the contents of `file`), every problem to `diags`: a syntax error; every unknown
/// key; and, when it does not deserialize, every missing key and wrong type (the deserializer's own error when the
/// schema finds none). Returns the value when it deserialized, and the node tree whenever the YAML parsed.
pub(super) fn load<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    format: Format,
    diags: &mut Diagnostics,
) -> (Option<T>, Option<Node>) {
    let node = match yaml::parse(text) {
        Ok(node) => node,
        Err(e) => {
            diags.push(Diagnostic::error(file, e.pos, e.message));
            return (None, None);
        }
    };
    let parts = yaml::from_node_parts::<T>(&node);
    for e in parts.unknown_keys {
        diags.push(Diagnostic::error(file, e.pos.unwrap_or(node.pos), e.message));
    }
    if let Some(fatal) = parts.fatal {
        let problems = schema_problems(format, &node);
        if problems.is_empty() {
            diags.push(Diagnostic::error(file, fatal.pos.unwrap_or(node.pos), fatal.message));
        }
        for (pos, message) in problems {
            diags.push(Diagnostic::error(file, pos, message));
        }
    }
    (parts.value, Some(node))
}

/// Every problem the schema of `format` finds in `node`, at the position of the node it concerns. Unknown keys are
/// left to the deserializer, which suggests a spelling.
fn schema_problems(format: Format, node: &Node) -> Vec<(Pos, String)> {
    let instance = node.to_json();
    let mut problems: Vec<(Pos, String)> = validator(format)
        .iter_errors(&instance)
        .filter_map(|e| {
            let at = locate(node, e.instance_path().segments());
            let message = match e.kind() {
                ValidationErrorKind::AdditionalProperties { .. } => return None,
                ValidationErrorKind::Required { property } => {
                    format!("missing required key `{}`", property.as_str().unwrap_or_default())
                }
                ValidationErrorKind::Type { kind } => {
                    format!("expected {}, found {}", expected(kind), yaml::describe(at))
                }
                ValidationErrorKind::Minimum { limit } => {
                    format!("expected {limit} or more, found {}", yaml::describe(at))
                }
                _ => e.to_string(),
            };
            Some((at.pos, message))
        })
        .collect();
    problems.sort();
    problems.dedup();
    problems
}

/// The node at a JSON Schema instance path (the deepest one that exists).
fn locate<'a, 'p>(mut node: &'a Node, path: impl Iterator<Item = LocationSegment<'p>>) -> &'a Node {
    for segment in path {
        let next = match (&node.value, segment) {
            (Value::Map(entries), LocationSegment::Property(key)) => {
                entries.iter().find(|(k, _)| k.key_string() == *key).map(|(_, v)| v)
            }
            (Value::Seq(items), LocationSegment::Index(i)) => items.get(i),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    node
}

/// "a string", "a whole number", … (null left out: every optional key may be null).
fn expected(kind: &TypeKind) -> String {
    let name = |t: jsonschema::JsonType| match t {
        jsonschema::JsonType::Array => "a list",
        jsonschema::JsonType::Boolean => "a boolean",
        jsonschema::JsonType::Integer => "a whole number",
        jsonschema::JsonType::Null => "null",
        jsonschema::JsonType::Number => "a number",
        jsonschema::JsonType::Object => "a mapping",
        jsonschema::JsonType::String => "a string",
    };
    match kind {
        TypeKind::Single(t) => name(*t).to_string(),
        TypeKind::Multiple(set) => {
            let names: Vec<&str> =
                set.iter().filter(|t| *t != jsonschema::JsonType::Null).map(name).collect::<Vec<_>>();
            if names.is_empty() { "null".into() } else { names.join(" or ") }
        }
    }
}

/// A string value under `key` of a mapping, with its position.
pub(super) fn string_at<'a>(node: &'a Node, key: &str) -> Option<(Pos, &'a str)> {
    let value = node.get(key)?;
    value.as_str().map(|s| (value.pos, s))
}

/// `apiVersion` and `kind` must be the expected ones (when they are strings: the schema reports other types).
pub(super) fn header(file: &str, node: &Node, want_version: &str, want_kind: &str, diags: &mut Diagnostics) {
    if let Some((pos, version)) = string_at(node, "apiVersion")
        && version != want_version
    {
        diags.push(Diagnostic::error(file, pos, format!("apiVersion must be `{want_version}`, found `{version}`")));
    }
    if let Some((pos, kind)) = string_at(node, "kind")
        && kind != want_kind
    {
        diags.push(Diagnostic::error(file, pos, format!("kind must be `{want_kind}`, found `{kind}`")));
    }
}

/// Keys of a Backstage `Component` entity, by where they go (Backstage's descriptor format, plus `spec.tier`).
const TOP_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "relations", "status"];
const METADATA_KEYS: &[&str] =
    &["name", "namespace", "title", "description", "labels", "annotations", "tags", "links", "uid", "etag"];
const SPEC_KEYS: &[&str] = &[
    "type",
    "lifecycle",
    "owner",
    "system",
    "subcomponentOf",
    "providesApis",
    "consumesApis",
    "dependsOn",
    "dependencyOf",
    "tier",
];
const ANNOTATIONS: &[&str] = &[PROJECT_SLUG, PAGERDUTY_SERVICE];

/// Warnings for keys of a service entity that are likely typos of a key shipshape or Backstage reads (`ownr`,
/// `annotation`, `spec.teir`, `github.com/project-slg`), or that sit at the wrong level (`metadata.owner`).
pub(super) fn entity_typos(file: &str, node: &Node, diags: &mut Diagnostics) {
    typos_in(file, node, "", TOP_KEYS, diags);
    if let Some(metadata) = node.get("metadata") {
        typos_in(file, metadata, "metadata.", METADATA_KEYS, diags);
        misplaced(file, metadata, SPEC_KEYS, "spec", diags);
        if let Some(annotations) = metadata.get("annotations") {
            typos_in(file, annotations, "metadata.annotations.", ANNOTATIONS, diags);
        }
    }
    if let Some(spec) = node.get("spec") {
        typos_in(file, spec, "spec.", SPEC_KEYS, diags);
        misplaced(file, spec, &["annotations", "name"], "metadata", diags);
    }
}

fn keys(node: &Node) -> impl Iterator<Item = (Pos, String)> + '_ {
    let entries = match &node.value {
        Value::Map(entries) => entries.as_slice(),
        _ => &[],
    };
    entries.iter().map(|(k, _)| (k.pos, k.key_string()))
}

fn typos_in(file: &str, node: &Node, prefix: &str, known: &[&str], diags: &mut Diagnostics) {
    let present: Vec<String> = keys(node).map(|(_, k)| k).collect();
    for (pos, key) in keys(node) {
        if known.contains(&key.as_str()) {
            continue;
        }
        // A known key that is also present is not what this one was meant to be.
        let Some(meant) = likely_typo(&key, known.iter().copied().filter(|k| !present.iter().any(|p| p == k))) else {
            continue;
        };
        diags.push(Diagnostic::warning(
            file,
            pos,
            format!("unknown key `{prefix}{key}`: did you mean `{meant}`? (shipshape does not read it)"),
        ));
    }
}

fn misplaced(file: &str, node: &Node, keys_elsewhere: &[&str], elsewhere: &str, diags: &mut Diagnostics) {
    for (pos, key) in keys(node) {
        if keys_elsewhere.contains(&key.as_str()) {
            diags.push(Diagnostic::warning(
                file,
                pos,
                format!("`{key}` is read under `{elsewhere}:`, not here: shipshape does not read it"),
            ));
        }
    }
}

/// The known key `key` is most likely a misspelling of: the same but for case, or within a small edit distance
/// (one edit for short keys, two for longer ones; a swap of two letters is one edit).
fn likely_typo<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = if key.chars().count() <= 4 { 1 } else { 2 };
    known
        .map(|k| {
            let distance = strsim::damerau_levenshtein(&key.to_ascii_lowercase(), &k.to_ascii_lowercase());
            (distance, k)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
