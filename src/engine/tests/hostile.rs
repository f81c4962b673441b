//! Hostile repository files (issue 12): each is judged on its own, with its reason, and the other files and rules go
//! on.

use super::*;
use crate::facts::MAX_READ_BYTES;
use std::time::{Duration, Instant};

fn bomb() -> String {
    crate::yaml::limits_tests::billion_laughs()
}

#[test]
fn an_alias_bomb_fails_only_its_own_file_with_the_reason_and_position() {
    let p = policy(
        &[
            rule("ci", "bronze", "{query: {files: ['.github/workflows/*.yml'], jq: '.on == \"pull_request\"'}}"),
            rule("all", "bronze", "{query: {files: ['.github/workflows/*.yml'], jq: '.on != null', require: all}}"),
            rule("readme", "bronze", "{file: {any: [README.md]}}"),
        ]
        .concat(),
    );
    let bomb = bomb();
    let started = Instant::now();
    let card = Run::new(&p, repo(&[(".github/workflows/bomb.yml", &bomb), ("README.md", "x")])).card();
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    let ci = card.rule("ci").unwrap();
    assert_eq!(ci.status, Status::Fail);
    assert!(
        ci.message.starts_with("`.github/workflows/bomb.yml`: too complex to read: more than 250000 values"),
        "{}",
        ci.message
    );
    assert!(ci.message.ends_with("(at line 7, column 11)"), "{}", ci.message);
    assert_eq!(status(&card, "readme"), Status::Pass);

    // A good workflow next to it is still read: `any` passes with it, `all` fails on the bomb alone.
    let good = ".github/workflows/good.yml";
    let files = [(".github/workflows/bomb.yml", bomb.as_str()), (good, "on: pull_request\n")];
    let card = Run::new(&p, repo(&files)).card();
    assert_eq!(status(&card, "ci"), Status::Pass);
    let all = card.rule("all").unwrap();
    assert_eq!(all.status, Status::Fail);
    assert_eq!(all.evidence.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), [".github/workflows/bomb.yml"]);
}

#[test]
fn deeply_nested_json_and_toml_are_errors_not_stack_overflows() {
    let p = policy(
        &[
            rule("json", "bronze", "{query: {files: [deep.json], jq: 'true'}}"),
            rule("toml", "bronze", "{query: {files: [deep.toml], jq: 'true'}}"),
            rule("yaml", "bronze", "{query: {files: [deep.yaml], jq: 'true'}}"),
        ]
        .concat(),
    );
    let brackets = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let json = brackets(100_000);
    let toml = format!("a = {}\n", brackets(100_000));
    let files = [("deep.json", json.as_str()), ("deep.toml", toml.as_str()), ("deep.yaml", json.as_str())];
    let card = Run::new(&p, repo(&files)).card();
    for (id, reason) in [("json", "cannot parse as JSON"), ("toml", "cannot parse as TOML"), ("yaml", "too complex")] {
        let rule = card.rule(id).unwrap();
        assert_eq!(rule.status, Status::Fail, "{id}: {}", rule.message);
        assert!(rule.message.contains(reason), "{id}: {}", rule.message);
    }
}

fn codeowners_card(content: Content, size: u64) -> Scorecard {
    let p = policy(
        &[
            rule("codeowners", "bronze", "{codeowners: {}}"),
            rule("coverage", "bronze", "{codeowners: {every_file: true}}"),
        ]
        .concat(),
    );
    let mut facts = repo(&[("src/a.rs", "")]);
    facts.files.insert(".github/CODEOWNERS".into(), FileFacts { size, content });
    Run::new(&p, facts).card()
}

#[test]
fn a_codeowners_file_too_large_to_read_is_an_error_that_says_so_not_a_file_without_owners() {
    let card = codeowners_card(Content::TooLarge, MAX_READ_BYTES + 1);
    for id in ["codeowners", "coverage"] {
        let rule = card.rule(id).unwrap();
        assert_eq!(rule.status, Status::Error, "{id}: {}", rule.message);
        assert_eq!(
            rule.message,
            "`.github/CODEOWNERS` was not read (1048577 bytes, over the 1 MiB limit for files read), so its owners \
             cannot be checked"
        );
        assert_eq!(rule.evidence, vec![Evidence { path: ".github/CODEOWNERS".into(), line: None }]);
    }
    // GitHub does not load one of 3 MB or more: that is a real failure.
    let card = codeowners_card(Content::TooLarge, 3 * 1024 * 1024);
    let rule = card.rule("codeowners").unwrap();
    assert_eq!(rule.status, Status::Fail);
    assert!(rule.message.contains("GitHub ignores a CODEOWNERS file of 3 MB or more"), "{}", rule.message);

    let card = codeowners_card(Content::Binary, 10);
    assert_eq!(status(&card, "codeowners"), Status::Error);
    assert!(card.rule("codeowners").unwrap().message.contains("(not UTF-8 text)"));
    let card = codeowners_card(Content::Text("* @acme/core\n".into()), 13);
    assert_eq!(status(&card, "codeowners"), Status::Pass);
}

#[test]
fn a_policy_nested_as_deep_as_yaml_allows_compiles_and_evaluates_on_a_small_stack() {
    // Each `{all: [...]}` is two levels; the policy's own mapping, its rules list and the rule take three more.
    let levels = (crate::yaml::MAX_DEPTH - 5) / 2;
    let check = format!("{}{{file: {{any: [README.md]}}}}{}", "{all: [".repeat(levels), "]}".repeat(levels));
    let run = move || {
        let p = policy(&rule("deep", "bronze", &check));
        let card = Run::new(&p, repo(&[("README.md", "x")])).card();
        assert_eq!(status(&card, "deep"), Status::Pass);
    };
    // The App evaluates on worker threads; 2 MiB is Tokio's default stack.
    std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(run).unwrap().join().expect("no stack overflow");
}
