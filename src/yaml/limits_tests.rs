//! Hostile YAML: alias bombs, deep nesting and huge mappings end in a bounded error (or a bounded parse), never in
//! gigabytes or a stack overflow.

use super::*;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Generous for a debug build on a busy machine; the unbounded parser took minutes and gigabytes on these inputs.
const QUICK: Duration = Duration::from_secs(20);

// The same inputs the integration tests send (one copy, shared by path).
#[path = "../../tests/common/hostile_inputs.rs"]
mod hostile_inputs;
pub(crate) use hostile_inputs::billion_laughs;

fn too_complex(text: &str) -> SyntaxError {
    let started = Instant::now();
    let err = parse_documents(text).expect_err("over a limit");
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    assert_eq!(err.kind, SyntaxKind::TooComplex, "{err:?}");
    err
}

#[test]
fn an_alias_bomb_stops_at_the_node_limit_where_the_alias_is() {
    let text = billion_laughs();
    assert!(text.len() < 500, "{}", text.len());
    let err = too_complex(&text);
    assert_eq!(
        err.message,
        format!("too complex to read: more than {MAX_NODES} values once aliases are expanded (the limit for one file)")
    );
    // a: 10, b: 100 (+10), c: 1000 (+100), ...: the alias that passes 250,000 is one of line 7's (`f`, 10^5 each).
    assert_eq!(err.pos.line, 7, "{err:?}");
    assert!(err.pos.col > 4, "{err:?}");
}

#[test]
fn aliases_are_counted_in_full_up_to_the_limit() {
    // An anchored list of 999 values (1,000 nodes with the list), then `copies` aliases of it.
    let document = |copies: usize| {
        let mut text = format!("base: &b [{}]\ncopies:\n", vec!["1"; 999].join(","));
        for _ in 0..copies {
            text.push_str("  - *b\n");
        }
        text
    };
    // The anchor costs its nodes twice (the tree and the anchor's copy), each alias once more.
    let fits = (MAX_NODES - 2_000 - 10) / 1_000;
    let node = parse(&document(fits)).expect("under the limit");
    assert_eq!(node.get("copies").unwrap().to_json().as_array().unwrap().len(), fits);
    let err = too_complex(&document(fits + 2));
    assert_eq!(err.pos.line, 2 + fits + 1, "{err:?}");
}

#[test]
fn nested_anchors_are_charged_for_their_copies() {
    // Each anchor keeps a copy of what it wraps: 100 nested anchors around 5,000 values are 500,000 copies.
    let mut text = String::new();
    for i in 0..100 {
        let _ = write!(text, "&a{i} [");
    }
    text.push_str(&vec!["1"; 5_000].join(","));
    text.push_str(&"]".repeat(100));
    too_complex(&text);
}

#[test]
fn aliases_of_long_text_stop_at_the_byte_limit() {
    let long = "x".repeat(1024 * 1024);
    let mut text = format!("s: &s {long}\nl:\n");
    for _ in 0..(MAX_SCALAR_BYTES / long.len()) {
        text.push_str("  - *s\n");
    }
    let err = too_complex(&text);
    assert!(err.message.contains("MiB of text"), "{err:?}");
}

#[test]
fn deep_flow_nesting_stops_at_the_depth_limit_without_overflowing_the_stack() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = too_complex(&text);
    // The scanner may notice one bracket later than the builder would.
    assert_eq!(err.pos.line, 1);
    assert!((MAX_DEPTH + 1..=MAX_DEPTH + 2).contains(&err.pos.col), "{err:?}");
    assert!(err.message.contains(&format!("nested more than {MAX_DEPTH} levels")), "{err:?}");
    // At the limit it parses, and everything that walks the tree recursively copes.
    let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    let node = parse(&text).expect("at the limit");
    assert!(node.to_json().is_array());
    assert!(from_node::<serde_json::Value>(&node).expect("deserializes").is_array());
}

#[test]
fn deep_block_nesting_stops_at_the_depth_limit() {
    let text: String = (0..1_000).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    let err = too_complex(&text);
    assert!((MAX_DEPTH + 1..=MAX_DEPTH + 2).contains(&err.pos.line), "{err:?}");
    assert!(err.message.contains(&format!("nested more than {MAX_DEPTH} levels")), "{err:?}");
}

#[test]
fn an_alias_copied_deeper_than_the_limit_is_refused() {
    let half = MAX_DEPTH / 2 + 1;
    let text =
        format!("a: &a {}{}\nb: {}*a{}\n", "[".repeat(half), "]".repeat(half), "[".repeat(half), "]".repeat(half));
    let err = too_complex(&text);
    assert_eq!(err.pos.line, 2);
    assert!(err.message.contains("alias nests more than"), "{err:?}");
}

#[test]
fn a_mapping_with_many_keys_parses_in_linear_time_and_still_finds_duplicates() {
    let keys = 100_000;
    let mut text = String::with_capacity(keys * 12);
    for i in 0..keys {
        let _ = writeln!(text, "k{i}: {i}");
    }
    let started = Instant::now();
    let node = parse(&text).expect("within the limits");
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    assert_eq!(node.get("k99999").unwrap().value, Value::Int(99_999));
    text.push_str("k5: again\n");
    let err = parse(&text).unwrap_err();
    assert_eq!((err.kind, err.pos.line), (SyntaxKind::Invalid, keys + 1));
    assert_eq!(err.message, "duplicate key `k5` (first defined at line 6)");
}

#[test]
fn keys_of_different_types_are_different_keys() {
    let err = parse("1: int\n'1': string\ntrue: bool\n? [1]\n: list\n? [1]\n: again\n").unwrap_err();
    assert_eq!((err.pos.line, err.message.as_str()), (6, "duplicate key `<complex key>` (first defined at line 4)"));
    let node = parse("1: int\n'1': string\ntrue: bool\n'true': string\n").expect("four different keys");
    assert_eq!(node.to_json().as_object().unwrap().len(), 2, "as JSON, `1` and `'1'` are one key");
}

#[test]
fn many_merge_keys_stay_linear() {
    let mut text = String::from("base: &b\n");
    for i in 0..20_000 {
        let _ = writeln!(text, "  k{i}: {i}");
    }
    text.push_str("x:\n  <<: [*b, *b, *b]\n  k7: mine\n");
    let started = Instant::now();
    let node = parse(&text).expect("within the limits");
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    let x = node.get("x").unwrap();
    assert_eq!(x.get("k7").unwrap().as_str(), Some("mine"));
    assert_eq!(x.get("k19999").unwrap().value, Value::Int(19_999));
    let Value::Map(entries) = &x.value else { panic!() };
    assert_eq!(entries.len(), 20_000);
}

#[test]
fn load_reports_a_bomb_as_a_diagnostic_with_its_position() {
    let mut diags = crate::diag::Diagnostics::default();
    let loaded = load::<serde_json::Value>("policy.yaml", &billion_laughs(), &mut diags);
    assert!(loaded.is_none());
    let line = diags.to_string();
    assert!(line.starts_with("policy.yaml:7:"), "{line}");
    assert!(line.contains(": too complex to read: more than 250000 values"), "{line}");
}
