use super::*;
use serde::Deserialize;

fn pos(line: usize, col: usize) -> Pos {
    Pos::new(line, col)
}

#[test]
fn nodes_carry_the_position_of_keys_and_values() {
    let node = parse("a: 1\nb:\n  - x\n  - 'y'\nc: {d: true}\n").unwrap();
    let Value::Map(entries) = &node.value else { panic!("{node:?}") };
    assert_eq!(entries[0].0.pos, pos(1, 1));
    assert_eq!(entries[0].1, Node { pos: pos(1, 4), value: Value::Int(1) });
    let Value::Seq(items) = &entries[1].1.value else { panic!() };
    assert_eq!(items[0].pos, pos(3, 5));
    assert_eq!(items[1].value, Value::Str("y".into()));
    assert_eq!(node.get("c").unwrap().get("d").unwrap().value, Value::Bool(true));
}

#[test]
fn scalars_resolve_by_the_yaml_1_2_core_schema() {
    let node = parse("[~, null, true, False, 12, -3, 0x1f, 1.5, '12', on, yes, 2026-01-31, 1e3]").unwrap();
    let Value::Seq(items) = node.value else { panic!() };
    let values: Vec<Value> = items.into_iter().map(|n| n.value).collect();
    assert_eq!(
        values,
        vec![
            Value::Null,
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(12),
            Value::Int(-3),
            Value::Int(31),
            Value::Float(1.5),
            Value::Str("12".into()),
            // YAML 1.1's `on`/`yes` booleans are strings in 1.2: GitHub workflows' `on:` key stays `on`.
            Value::Str("on".into()),
            Value::Str("yes".into()),
            Value::Str("2026-01-31".into()),
            Value::Float(1000.0),
        ]
    );
}

#[test]
fn syntax_errors_have_positions() {
    let err = parse("a: 1\nb: [1, 2\n").unwrap_err();
    assert!(err.pos.line >= 2, "{err:?}");
    assert!(err.message.starts_with("invalid YAML"), "{err:?}");
}

#[test]
fn duplicate_keys_are_errors_at_the_second_key() {
    let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert_eq!(err.pos, pos(3, 1));
    assert_eq!(err.message, "duplicate key `a` (first defined at line 1)");
}

#[test]
fn a_second_document_is_an_error() {
    let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
    assert_eq!(err.pos.line, 2);
}

#[test]
fn streams_of_documents_parse_when_asked() {
    let docs = parse_documents("a: 1\n---\nb: 2\n").unwrap();
    assert_eq!(
        docs.iter().map(Node::to_json).collect::<Vec<_>>(),
        vec![serde_json::json!({"a": 1}), serde_json::json!({"b": 2})]
    );
    assert_eq!(docs[1].pos.line, 3);
}

#[test]
fn merge_keys_merge_with_explicit_keys_winning() {
    let node = parse("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n").unwrap();
    assert_eq!(node.get("x").unwrap().to_json(), serde_json::json!({"b": 3, "a": 1}));
    assert!(parse("x:\n  <<: 5\n").is_err());
}

#[test]
fn anchors_and_aliases_resolve() {
    let node = parse("x: &v [1, 2]\ny: *v\n").unwrap();
    assert_eq!(node.get("y").unwrap().to_json(), serde_json::json!([1, 2]));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // fields exist to be deserialized; the tests look at errors and positions
struct Rule {
    id: Located<String>,
    level: String,
    #[serde(default)]
    count: u32,
    kind: Kind,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Kind {
    File { any: Vec<String> },
    Content(String),
}

#[test]
fn every_unknown_key_is_reported_with_a_suggestion() {
    let node = parse("id: x\nlevl: gold\nlevel: gold\ncolor: red\nkind: {content: abc}\n").unwrap();
    let errors = from_node::<Rule>(&node).unwrap_err();
    let messages: Vec<(Option<Pos>, &str)> = errors.iter().map(|e| (e.pos, e.message.as_str())).collect();
    assert_eq!(
        messages,
        vec![
            (Some(pos(2, 1)), "unknown key `levl` (did you mean `level`?); expected one of: id, level, count, kind"),
            (Some(pos(4, 1)), "unknown key `color`; expected one of: id, level, count, kind"),
        ]
    );
}

#[test]
fn type_errors_point_at_the_value() {
    let node = parse("id: x\nlevel: gold\ncount: many\nkind: {content: abc}\n").unwrap();
    let errors = from_node::<Rule>(&node).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pos, Some(pos(3, 8)));
    assert_eq!(errors[0].message, "expected a whole number (0 or more), found string \"many\"");
}

#[test]
fn missing_keys_point_at_the_mapping() {
    let node = parse("rules:\n  - id: x\n    kind: {content: a}\n").unwrap();
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        rules: Vec<Rule>,
    }
    let errors = from_node::<Doc>(&node).unwrap_err();
    assert_eq!(errors[0].pos, Some(pos(2, 5)));
    assert_eq!(errors[0].message, "missing required key `level`");
}

#[test]
fn unknown_enum_variants_suggest_the_closest() {
    let node = parse("id: x\nlevel: gold\nkind:\n  fille: {any: [a]}\n").unwrap();
    let errors = from_node::<Rule>(&node).unwrap_err();
    assert_eq!(errors[0].pos, Some(pos(4, 3)));
    assert_eq!(errors[0].message, "unknown value `fille` (did you mean `file`?); expected one of: file, content");
}

#[test]
fn two_variants_in_one_mapping_are_refused() {
    let node = parse("id: x\nlevel: gold\nkind:\n  file: {any: [a]}\n  content: b\n").unwrap();
    let errors = from_node::<Rule>(&node).unwrap_err();
    assert_eq!(errors[0].pos, Some(pos(5, 3)));
    assert!(errors[0].message.starts_with("expected exactly one of: file, content"), "{}", errors[0].message);
}

#[test]
fn located_values_know_their_position_and_struct_variants_deserialize() {
    let node = parse("id:   \"quoted\"\nlevel: gold\nkind: {file: {any: [a, b]}}\n").unwrap();
    let rule: Rule = from_node(&node).unwrap();
    assert_eq!(rule.id.pos, pos(1, 7));
    assert_eq!(*rule.id, "quoted");
    assert_eq!(rule.kind, Kind::File { any: vec!["a".into(), "b".into()] });
}

#[test]
fn open_structs_accept_unknown_keys() {
    #[derive(Debug, Deserialize)]
    #[serde(rename = "open:Meta")]
    struct Meta {
        name: String,
    }
    let node = parse("name: a\nlabels: {x: y}\n").unwrap();
    let meta: Meta = from_node(&node).unwrap();
    assert_eq!(meta.name, "a");
}

#[test]
fn load_turns_every_problem_into_a_diagnostic() {
    let mut diags = crate::diag::Diagnostics::default();
    let loaded = load::<Rule>("rules.yaml", "id: x\nlevle: g\nkind: {content: a}\n", &mut diags);
    assert!(loaded.is_none());
    let lines: Vec<String> = diags.sorted().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "rules.yaml:1:1: missing required key `level`",
            "rules.yaml:2:1: unknown key `levle` (did you mean `level`?); expected one of: id, level, count, kind",
        ]
    );
}
