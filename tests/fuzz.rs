//! Property-based fuzzing of the inputs strangers control: webhook payloads at the edge (GitHub's own example
//! payloads, mutated) and policy files (the embedded scorecard, mutated line by line and token by token). The
//! comment parser has its own properties in `src/commands/tests.rs`.
//!
//! Each property runs `SHIPSHAPE_FUZZ_CASES` cases (256 by default; set it higher to fuzz for a while).

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use shipshape::diag::Diagnostics;
use shipshape::policy::{EMBEDDED, Policy};
use std::sync::OnceLock;

#[path = "common/fixtures.rs"]
mod fixtures;
use fixtures::fixtures_dir;

fn config() -> Config {
    let cases = std::env::var("SHIPSHAPE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Every example payload GitHub publishes, as (event, JSON).
fn payloads() -> &'static [(String, Value)] {
    static PAYLOADS: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        let mut out = Vec::new();
        let root = fixtures_dir().join("github-webhooks");
        for event in std::fs::read_dir(&root).unwrap().flatten().filter(|e| e.path().is_dir()) {
            let name = event.file_name().to_string_lossy().to_string();
            for file in std::fs::read_dir(event.path()).unwrap().flatten() {
                let text = std::fs::read_to_string(file.path()).unwrap();
                if let Ok(json) = serde_json::from_str(&text) {
                    out.push((name.clone(), json));
                }
            }
        }
        assert!(out.len() > 50, "only {} example payloads under {}", out.len(), root.display());
        out
    })
}

/// Values that break assumptions: wrong types, extremes, odd strings.
fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        Just(serde_json::json!(u64::MAX)),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("../../etc/passwd?x=#%00 \n".into())),
        Just(Value::String("x".repeat(70_000))),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([[[[[[[[{"a": [null]}]]]]]]]])),
    ]
}

/// Every path to a value inside `value`.
fn paths(value: &Value, prefix: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(PathStep::Key(k.clone()));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(PathStep::Index(i));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at<'a>(value: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        PathStep::Key(k) => v.get_mut(k.as_str()),
        PathStep::Index(i) => v.get_mut(*i),
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), odd_value()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// A payload with `mutations` applied, as bytes.
fn mutate(payload: &Value, mutations: &[Mutation]) -> Vec<u8> {
    let mut value = payload.clone();
    let mut truncate = None;
    for m in mutations {
        let mut all = Vec::new();
        paths(&value, &mut Vec::new(), &mut all);
        match m {
            Mutation::Replace(i, v) => {
                let path = &all[i % all.len()];
                if let Some(slot) = at(&mut value, path) {
                    *slot = v.clone();
                }
            }
            Mutation::Remove(i) => {
                let path = &all[i % all.len()];
                if let Some((PathStep::Key(k), parent)) = path.split_last()
                    && let Some(Value::Object(map)) = at(&mut value, parent)
                {
                    map.remove(k);
                }
            }
            Mutation::Truncate(n) => truncate = Some(*n),
        }
    }
    let mut bytes = serde_json::to_vec(&value).unwrap();
    if let Some(n) = truncate {
        bytes.truncate(n % (bytes.len() + 1));
    }
    bytes
}

/// A line-level edit of a policy file.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Insert(usize, &'static str),
    Replace(usize, &'static str),
}

/// Fragments that are valid somewhere in a policy, and some that never are.
const TOKENS: &[&str] = &[
    "  - id: x",
    "    level: platinum",
    "    check: {query: {files: ['**'], jq: 'def f: f; f'}}",
    "    check: {content: {files: ['**'], matches: '(a+)+$'}}",
    "    check: {file: {any: ['[']}}",
    "    check: {http: {url: 'http://{{ secret.X }}', jq: '.'}}",
    "    when: {tiers: [1]}",
    "tiers: {0: {requires: nothing}}",
    "levels: []",
    "&a [*a, *a]",
    "key: !!binary aGVsbG8=",
    "\t- tab",
    "'unterminated",
    "{{{",
    "- - - -",
    ": :",
    "%YAML 1.2",
    "---",
    "...",
    "rules: ~",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Edit::Replace(i, t)),
    ]
}

fn edited(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    for e in edits {
        let n = lines.len().max(1);
        match *e {
            Edit::Delete(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) if !lines.is_empty() => {
                let line = lines[i % n];
                lines.insert(i % n, line);
            }
            Edit::Insert(i, t) => lines.insert(i % (lines.len() + 1), t),
            Edit::Replace(i, t) if !lines.is_empty() => lines[i % n] = t,
            _ => {}
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(config())]

    /// The webhook edge turns any payload, however mangled, into an event, "not ours", or an error; never a panic.
    #[test]
    fn the_webhook_edge_never_panics_on_a_mangled_payload(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        rename in prop::option::of(prop::sample::select(&["push", "issue_comment", "pull_request", "x", ""][..])),
    ) {
        let (event, payload) = &payloads()[which % payloads().len()];
        let body = mutate(payload, &mutations);
        let event = rename.unwrap_or(event.as_str());
        let _ = shipshape::github::events::parse(event, &body);
    }

    /// Arbitrary bytes, too.
    #[test]
    fn the_webhook_edge_never_panics_on_bytes(event in ".{0,20}", body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = shipshape::github::events::parse(&event, &body);
    }

    /// The policy loader reports every broken policy with positions inside the file, and never panics.
    #[test]
    fn the_policy_loader_reports_broken_policies_with_positions(edits in prop::collection::vec(edit(), 1..8)) {
        let text = edited(EMBEDDED, &edits);
        let mut diags = Diagnostics::default();
        let policy = Policy::parse("policy.yaml", &text, &mut diags);
        let lines = text.lines().count().max(1) + 1;
        for d in diags.iter() {
            prop_assert!(d.pos.line >= 1 && d.pos.line <= lines, "{d} outside {lines} lines");
            prop_assert!(d.pos.col >= 1, "{d}");
        }
        if policy.is_none() {
            prop_assert!(diags.has_errors(), "no policy and no error for:\n{text}");
        }
    }
}
