//! Vendored and generated files are not the service's own (issue 13, class 2): every rule leaves them out unless it
//! says `include_ignored`, and the message names what was left out and why.

use super::*;

const VENDORED_PROTO: &str = "syntax = \"proto3\";\npackage google.api;\nservice Operations {\n  rpc GetOperation(GetOperationRequest) returns (Operation);\n}\n";

fn api_rule(extra: &str) -> String {
    format!(
        "  - id: api-spec\n    title: API\n    level: bronze\n    remediation: add one\n{extra}    check: {{file: {{any: [\"**/*.proto\", \"**/*.graphql\"]}}}}\n"
    )
}

fn message(card: &Scorecard, id: &str) -> String {
    card.rule(id).unwrap().message.clone()
}

#[test]
fn vendored_directories_are_left_out_by_default_and_named() {
    let p = policy(&api_rule(""));
    let files = [
        ("vendor/github.com/googleapis/api/operations.proto", VENDORED_PROTO),
        ("web/node_modules/graphql/schema.graphql", "type Query { a: Int }"),
        ("third_party/googleapis/google/rpc/status.proto", VENDORED_PROTO),
        ("main.go", "package main"),
    ];
    let card = Run::new(&p, repo(&files)).card();
    assert_eq!(status(&card, "api-spec"), Status::Fail);
    let text = message(&card, "api-spec");
    assert!(
        text.starts_with(
            "no file matches `**/*.proto`, `**/*.graphql`; left out as vendored, generated or example code: "
        ),
        "{text}"
    );
    assert!(text.contains("`third_party/googleapis/google/rpc/status.proto` (under `**/third_party/**`)"), "{text}");
    assert!(text.contains("`vendor/github.com/googleapis/api/operations.proto` (under `**/vendor/**`)"), "{text}");
    assert!(text.contains("`web/node_modules/graphql/schema.graphql` (under `**/node_modules/**`)"), "{text}");

    // The service's own file passes, and the vendored ones are not mentioned then.
    let mut own = files.to_vec();
    own.push(("api/payments.proto", VENDORED_PROTO));
    let card = Run::new(&p, repo(&own)).card();
    assert_eq!(status(&card, "api-spec"), Status::Pass);
    assert_eq!(message(&card, "api-spec"), "found `api/payments.proto`");
}

#[test]
fn gitattributes_marks_generated_and_vendored_files() {
    let p = policy(&api_rule(""));
    let attributes = "# clients generated from the upstream schema\nclients/**/*.graphql linguist-generated=true\n*.proto linguist-vendored\nown/*.proto -linguist-vendored\n";
    let files = [
        (".gitattributes", attributes),
        ("clients/github/schema.graphql", "type Query { viewer: User }"),
        ("protos/google/longrunning.proto", VENDORED_PROTO),
    ];
    let card = Run::new(&p, repo(&files)).card();
    assert_eq!(status(&card, "api-spec"), Status::Fail);
    let text = message(&card, "api-spec");
    assert!(text.contains("`clients/github/schema.graphql` (`.gitattributes` line 2: linguist-generated)"), "{text}");
    assert!(text.contains("`protos/google/longrunning.proto` (`.gitattributes` line 3: linguist-vendored)"), "{text}");

    // A later line unsets the attribute for the service's own directory.
    let mut own = files.to_vec();
    own.push(("own/payments.proto", VENDORED_PROTO));
    assert_eq!(status(&Run::new(&p, repo(&own)).card(), "api-spec"), Status::Pass);
}

#[test]
fn a_rule_may_include_ignored_files_and_a_policy_may_change_the_list() {
    let files = [("vendor/acme/api.proto", VENDORED_PROTO), ("generated/api.graphql", "type Query { a: Int }")];
    let including = policy(&api_rule("    include_ignored: true\n"));
    let card = Run::new(&including, repo(&files)).card();
    assert_eq!(
        (status(&card, "api-spec"), message(&card, "api-spec")),
        (Status::Pass, "found `generated/api.graphql`".into())
    );

    // `ignore.paths` replaces the defaults: `vendor/` counts again, `generated/` is left out.
    let text = format!("{HEADER}{}ignore:\n  paths: [\"generated/**\"]\n", api_rule(""));
    let mut diags = Diagnostics::default();
    let custom = Policy::parse("test.yaml", &text, &mut diags).unwrap();
    let card = Run::new(&custom, repo(&files)).card();
    assert_eq!(
        (status(&card, "api-spec"), message(&card, "api-spec")),
        (Status::Pass, "found `vendor/acme/api.proto`".into())
    );

    // `gitattributes: false` reads no attributes.
    let text = format!("{HEADER}{}ignore:\n  paths: []\n  gitattributes: false\n", api_rule(""));
    let custom = Policy::parse("test.yaml", &text, &mut diags).unwrap();
    let marked = [(".gitattributes", "*.proto linguist-generated\n"), ("api.proto", VENDORED_PROTO)];
    assert_eq!(status(&Run::new(&custom, repo(&marked)).card(), "api-spec"), Status::Pass);
    assert!(!diags.has_errors(), "{diags}");
}

#[test]
fn a_bad_ignore_glob_is_an_error_at_its_position() {
    let text = format!("{HEADER}{}ignore:\n  paths: [\"vendor/[\"]\n", api_rule(""));
    let mut diags = Diagnostics::default();
    assert!(Policy::parse("test.yaml", &text, &mut diags).is_none());
    let shown = diags.to_string();
    assert!(shown.contains("ignore: invalid glob `vendor/[`"), "{shown}");
    let line = text.lines().position(|l| l.contains("vendor/[")).unwrap() + 1;
    assert!(shown.contains(&format!("test.yaml:{line}:")), "{shown}");
}

#[test]
fn checks_that_look_for_bad_files_say_what_they_did_not_look_at() {
    let p = Policy::embedded();
    let files = [("node_modules/some-lib/test/fixtures/.env", "TOKEN=abc"), ("README.md", "Payments.")];
    let card = Run::new(&p, repo(&files)).card();
    assert_eq!(status(&card, "no-committed-secrets"), Status::Pass);
    let text = message(&card, "no-committed-secrets");
    assert!(
        text.contains("left out as vendored, generated or example code: `node_modules/some-lib/test/fixtures/.env`"),
        "{text}"
    );
}

#[test]
fn codeowners_coverage_does_not_ask_owners_for_vendored_files() {
    let p = policy(&rule("coverage", "bronze", "{codeowners: {every_file: true}}"));
    let files = [
        (".github/CODEOWNERS", "/src/ @acme/payments\n/.github/ @acme/payments\n"),
        ("src/main.rs", "fn main() {}"),
        ("vendor/lib/lib.rs", "pub fn f() {}"),
    ];
    assert_eq!(status(&Run::new(&p, repo(&files)).card(), "coverage"), Status::Pass);
    let mut unowned = files.to_vec();
    unowned.push(("build.rs", "fn main() {}"));
    let card = Run::new(&p, repo(&unowned)).card();
    assert_eq!(status(&card, "coverage"), Status::Fail);
    assert!(message(&card, "coverage").contains("1 file(s) have no code owner, e.g. `build.rs`"));
}

#[test]
fn problems_reading_gitattributes_become_notes() {
    let p = policy(&api_rule(""));
    let long = "x linguist-generated\n".repeat(crate::gitattributes::MAX_LINES + 1);
    let card = Run::new(&p, repo(&[(".gitattributes", long.as_str())])).card();
    assert!(card.notes.iter().any(|n| n.contains("`.gitattributes` files hold more than")), "{:?}", card.notes);
}
