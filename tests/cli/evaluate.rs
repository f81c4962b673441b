//! `shipshape evaluate`: levels, tiers, exceptions, `when` filters, every rule kind, `--rev`, catalogs and exit codes.

use crate::support::{
    APPROVED_IN, Dir, PolicyFile, Repo, evaluate_json, gold_repo, message, payments_catalog, rule, rule_result,
    rule_when, run, service_yaml, status, statuses,
};
use serde_json::{Value, json};

pub(crate) const AS_OF: &str = "2025-06-01";

/// `evaluate REPO --catalog CATALOG --format json --as-of 2025-06-01 EXTRA...`.
fn with_catalog(repo: &Repo, catalog: &Dir, extra: &[&str]) -> (crate::support::Out, Value) {
    let catalog = catalog.arg();
    let mut args = vec!["--catalog", catalog.as_str(), "--as-of", AS_OF];
    args.extend_from_slice(extra);
    evaluate_json(repo, &args)
}

/// `evaluate REPO --policy POLICY --format json --as-of 2025-06-01 EXTRA...`.
fn with_policy(repo: &Repo, policy: &PolicyFile, extra: &[&str]) -> (crate::support::Out, Value) {
    let policy = policy.arg();
    let mut args = vec!["--policy", policy.as_str(), "--as-of", AS_OF];
    args.extend_from_slice(extra);
    evaluate_json(repo, &args)
}

/// Every rule's status, by id.
fn status_map(card: &Value) -> Vec<(String, String)> {
    card["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string()))
        .collect()
}

/// A gold repository with one file removed (committed).
pub(crate) fn gold_repo_without(name: &str, path: &str) -> Repo {
    let repo = gold_repo(name);
    repo.remove(path);
    repo.commit(&format!("Remove {path}"));
    repo
}

// ------------------------------------------------------------------------------------------------ default scorecard

#[test]
fn gold_repository_reaches_gold_at_tier_one() {
    let repo = gold_repo("payments");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(0);
    let expected: Vec<(String, String)> = [
        ("owner", "pass"),
        ("codeowners", "pass"),
        ("readme", "pass"),
        ("ci", "pass"),
        ("no-committed-secrets", "pass"),
        ("runbook", "pass"),
        ("api-spec", "pass"),
        ("security-policy", "pass"),
        ("dependency-updates", "pass"),
        ("tests", "pass"),
        ("health-check", "pass"),
        ("branch-protection", "skipped"),
        ("ci-passing", "skipped"),
        ("slo", "pass"),
        ("slo-recorded", "skipped"),
        ("alerts", "pass"),
        ("oncall", "skipped"),
        ("vulnerabilities", "skipped"),
        ("deployment-pipeline", "pass"),
        ("codeowners-coverage", "pass"),
    ]
    .iter()
    .map(|(id, s)| (id.to_string(), s.to_string()))
    .collect();
    assert_eq!(status_map(&card), expected, "{}", statuses(&card));
    assert_eq!(card["service"], "payments");
    assert_eq!(card["repository"], "acme/payments");
    assert_eq!(card["tier"], 1);
    assert_eq!(card["required_level"], "gold");
    assert_eq!(card["level"], "gold");
    assert_eq!(card["meets_required"], true);
    assert_eq!(card["summary"], json!({"pass": 15, "fail": 0, "excepted": 0, "skipped": 5, "error": 0}));
    // Linked tools without credentials are skipped with a reason naming what to set.
    assert!(message(&card, "branch-protection").contains("SHIPSHAPE_GITHUB_TOKEN"), "{}", statuses(&card));
    assert!(message(&card, "vulnerabilities").contains("SHIPSHAPE_GITHUB_TOKEN"), "{}", statuses(&card));
    assert!(message(&card, "oncall").contains("SHIPSHAPE_PAGERDUTY_TOKEN"), "{}", statuses(&card));
    assert!(message(&card, "slo-recorded").contains("SHIPSHAPE_PROMETHEUS_URL"), "{}", statuses(&card));
    assert_eq!(message(&card, "readme"), "found `README.md` with at least 40 words of prose");
    assert_eq!(message(&card, "codeowners-coverage"), "`.github/CODEOWNERS` assigns owners to every file");
}

#[test]
fn missing_slo_stops_at_silver() {
    let repo = gold_repo_without("payments", "slo/availability.yaml");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(1);
    assert_eq!(card["level"], "silver");
    assert_eq!(card["meets_required"], false);
    let slo = rule_result(&card, "slo");
    assert_eq!(slo["status"], "fail", "{}", statuses(&card));
    assert!(slo["message"].as_str().unwrap().starts_with("no file matches `**/*slo*.{yaml,yml}`"), "{slo:#}");
    assert!(slo["remediation"].as_str().unwrap().contains("slo/availability.yaml"), "{slo:#}");
    assert_eq!(slo["required"], true);
    assert_eq!(card["summary"]["fail"], 1);
}

#[test]
fn missing_slo_is_fine_for_tier_two() {
    let repo = gold_repo_without("payments", "slo/availability.yaml");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &["--tier", "2"]);
    out.expect_code(0);
    assert_eq!(card["tier"], 2);
    assert_eq!(card["required_level"], "silver");
    assert_eq!(card["level"], "silver");
    assert_eq!(card["meets_required"], true);
    assert_eq!(rule_result(&card, "slo")["required"], false);
}

#[test]
fn missing_readme_stops_below_bronze() {
    let repo = gold_repo_without("payments", "README.md");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &["--tier", "3"]);
    out.expect_code(1);
    assert_eq!(card["level"], Value::Null, "{}", statuses(&card));
    assert_eq!(card["meets_required"], false);
    assert_eq!(status(&card, "readme"), "fail");
}

#[test]
fn placeholder_readme_fails_min_words() {
    let repo = gold_repo("payments");
    repo.write("README.md", "# Payments\n\nTODO\n");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(1);
    assert!(message(&card, "readme").starts_with("`README.md` has 1 word of prose, at least 40 expected"));
    assert_eq!(card["level"], Value::Null);
}

#[test]
fn committed_private_key_fails_with_line_evidence() {
    let repo = gold_repo("payments");
    repo.write("config/tls.yaml", &crate::support::tls_yaml());
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(1);
    let r = rule_result(&card, "no-committed-secrets");
    assert_eq!(r["status"], "fail");
    assert_eq!(r["evidence"], json!([{"path": "config/tls.yaml", "line": 3}]), "{r:#}");
}

// ------------------------------------------------------------------------------------------------ exceptions

fn excepted_catalog(expires: &str) -> Dir {
    let catalog = payments_catalog();
    catalog.exception("payments", "slo", expires);
    catalog
}

#[test]
fn active_exception_excepts_the_rule() {
    let repo = gold_repo_without("payments", "slo/availability.yaml");
    let (out, card) = with_catalog(&repo, &excepted_catalog("2025-06-30"), &[]);
    out.expect_code(0);
    let slo = rule_result(&card, "slo");
    assert_eq!(slo["status"], "excepted", "{slo:#}");
    assert_eq!(
        slo["exception"],
        json!({
            "reason": "Waiting for the observability platform migration",
            "expires": "2025-06-30",
            "approved_in": APPROVED_IN,
        })
    );
    assert_eq!(card["level"], "gold");
    assert_eq!(card["meets_required"], true);
    assert_eq!(card["summary"]["excepted"], 1);
    assert_eq!(card["summary"]["fail"], 0);
}

#[test]
fn exception_applies_through_its_expiry_day() {
    let repo = gold_repo_without("payments", "slo/availability.yaml");
    let catalog = excepted_catalog("2025-06-30");
    let (out, card) = evaluate_json(&repo, &["--catalog", &catalog.arg(), "--as-of", "2025-06-30"]);
    out.expect_code(0);
    assert_eq!(status(&card, "slo"), "excepted");
    assert_eq!(card["level"], "gold");
}

#[test]
fn expired_exception_no_longer_applies() {
    let repo = gold_repo_without("payments", "slo/availability.yaml");
    let catalog = excepted_catalog("2025-06-30");
    let (out, card) = evaluate_json(&repo, &["--catalog", &catalog.arg(), "--as-of", "2025-07-01"]);
    out.expect_code(1);
    let slo = rule_result(&card, "slo");
    assert_eq!(slo["status"], "fail");
    assert!(slo["message"].as_str().unwrap().ends_with(" (exception expired on 2025-06-30)"), "{slo:#}");
    assert!(slo.get("exception").is_none(), "{slo:#}");
    assert_eq!(card["level"], "silver");
    // The stale file is worth a warning, not an error.
    assert!(out.stderr.contains("warning: expired on 2025-06-30"), "{out:?}");
}

#[test]
fn exception_for_a_passing_rule_changes_nothing() {
    let repo = gold_repo("payments");
    let (out, card) = with_catalog(&repo, &excepted_catalog("2025-06-30"), &[]);
    out.expect_code(0);
    let slo = rule_result(&card, "slo");
    assert_eq!(slo["status"], "pass");
    assert!(slo.get("exception").is_none(), "{slo:#}");
}

#[test]
fn exception_of_another_service_does_not_apply() {
    let repo = gold_repo_without("payments", "slo/availability.yaml");
    let catalog = payments_catalog();
    catalog.service("search", 2, "service");
    catalog.exception("search", "slo", "2025-06-30");
    let (out, card) = with_catalog(&repo, &catalog, &[]);
    out.expect_code(1);
    assert_eq!(status(&card, "slo"), "fail");
}

// ------------------------------------------------------------------------------------------------ when filters

#[test]
fn when_filters_skip_rules_that_do_not_apply() {
    let repo = Repo::new("payments");
    repo.write("README.md", "# Payments\n").write("main.go", "package main\n").commit("init");
    let catalog = Dir::new();
    catalog.service("payments", 2, "service");
    let policy = PolicyFile::new(&[
        rule_when("tier-one-only", "bronze", "{file: {any: [NOPE.md]}}", "{tiers: [1]}"),
        rule_when("tier-two", "bronze", "{file: {any: [README.md]}}", "{tiers: [1, 2]}"),
        rule_when("websites-only", "bronze", "{file: {any: [NOPE.md]}}", "{types: [website]}"),
        rule_when("services-only", "bronze", "{file: {any: [NOPE.md]}}", "{types: [service, website]}"),
        rule_when("protos", "bronze", "{file: {any: [NOPE.md]}}", r#"{check: {file: {any: ["**/*.proto"]}}}"#),
        rule_when("go-code", "bronze", "{file: {any: [README.md]}}", r#"{check: {file: {any: ["**/*.go"]}}}"#),
    ]);
    let (out, card) = with_policy(&repo, &policy, &["--catalog", &catalog.arg()]);
    out.expect_code(1);
    assert_eq!(status(&card, "tier-one-only"), "skipped");
    assert_eq!(message(&card, "tier-one-only"), "does not apply: only for tiers 1");
    assert_eq!(status(&card, "tier-two"), "pass");
    assert_eq!(status(&card, "websites-only"), "skipped");
    assert_eq!(
        message(&card, "websites-only"),
        "does not apply: only for catalog entries of type `website` (this one is `service`)"
    );
    assert_eq!(status(&card, "services-only"), "fail");
    assert_eq!(message(&card, "services-only"), "no file matches `NOPE.md`");
    assert_eq!(status(&card, "protos"), "skipped");
    assert_eq!(message(&card, "protos"), "does not apply: no file matches `**/*.proto`");
    assert_eq!(status(&card, "go-code"), "pass");
    assert_eq!(card["summary"], json!({"pass": 2, "fail": 1, "excepted": 0, "skipped": 3, "error": 0}));
}

#[test]
fn types_filter_without_a_catalog_is_unverified_and_without_an_entry_does_not_apply() {
    let repo = Repo::new("unlisted");
    repo.write("README.md", "# Payments\n").commit("init");
    let policy = PolicyFile::new(&[
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
        rule_when("api", "bronze", "{file: {any: [openapi.yaml]}}", "{types: [service]}"),
    ]);
    // No catalog: the type is unknown, so the rule is not judged and the level says so.
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(0);
    assert_eq!(status(&card, "api"), "skipped");
    assert_eq!(message(&card, "api"), "no catalog given: the rule applies only to catalog entries of type `service`");
    assert_eq!(card["unverified"], json!(["api"]));
    // A catalog without an entry for the repository: the entry has no type, so the rule does not apply.
    let (_, card) = with_policy(&repo, &policy, &["--catalog", &payments_catalog().arg()]);
    assert_eq!(
        message(&card, "api"),
        "does not apply: only for catalog entries of type `service` (this one has no catalog `spec.type`)"
    );
    assert_eq!(card["unverified"], json!([]));
}

#[test]
fn api_spec_of_the_default_scorecard_is_skipped_for_a_website() {
    let repo = gold_repo_without("payments", "openapi.yaml");
    let catalog = Dir::new();
    catalog.service("payments", 1, "website");
    let (out, card) = with_catalog(&repo, &catalog, &[]);
    out.expect_code(0);
    assert_eq!(status(&card, "api-spec"), "skipped");
    assert!(message(&card, "api-spec").starts_with("does not apply"), "{}", statuses(&card));
    assert_eq!(card["level"], "gold");
}

// ------------------------------------------------------------------------------------------------ rule kinds

#[test]
fn file_checks() {
    let repo = Repo::new("svc");
    repo.write("README.md", "# Service\n\nShort.\n") // 18 bytes
        .write("LICENSE", "Apache-2.0\n")
        .write("docs/guide.md", "# Guide\n\nHow to use it.\n")
        .write("docs/sub/notes.txt", "notes\n")
        .commit("init");
    let policy = PolicyFile::new(&[
        rule("any-pass", "bronze", r#"{file: {any: [NOPE.md, "docs/*.md"]}}"#),
        rule("any-fail", "bronze", r#"{file: {any: [CHANGELOG.md, "docs/**/*.rst"]}}"#),
        rule("all-pass", "bronze", "{file: {all: [README.md, LICENSE]}}"),
        rule("all-fail", "bronze", "{file: {all: [README.md, CONTRIBUTING.md]}}"),
        rule("ignore-case", "bronze", "{file: {any: [readme.MD], ignore_case: true}}"),
        rule("case-sensitive", "bronze", "{file: {any: [readme.MD]}}"),
        rule("min-bytes-fail", "bronze", "{file: {any: [README.md], min_bytes: 300}}"),
        rule("min-bytes-pass", "bronze", "{file: {any: [README.md], min_bytes: 18}}"),
        rule("star-stays-in-dir", "bronze", r#"{file: {any: ["docs/*.txt"]}}"#),
        rule("double-star-crosses", "bronze", r#"{file: {any: ["docs/**/*.txt"]}}"#),
        rule("leading-slash", "bronze", r#"{file: {any: ["/LICENSE"]}}"#),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    let check = |id: &str, want_status: &str, want_message: &str| {
        assert_eq!(status(&card, id), want_status, "{id}: {}", statuses(&card));
        assert_eq!(message(&card, id), want_message, "{id}");
    };
    check("any-pass", "pass", "found `docs/guide.md`");
    check("any-fail", "fail", "no file matches `CHANGELOG.md`, `docs/**/*.rst`");
    check("all-pass", "pass", "found `README.md`, `LICENSE`");
    check("all-fail", "fail", "no file matches `CONTRIBUTING.md`");
    check("ignore-case", "pass", "found `README.md`");
    check("case-sensitive", "fail", "no file matches `readme.MD`");
    check("min-bytes-fail", "fail", "`README.md` has only 18 bytes (at least 300 expected)");
    check("min-bytes-pass", "pass", "found `README.md`");
    check("star-stays-in-dir", "fail", "no file matches `docs/*.txt`");
    check("double-star-crosses", "pass", "found `docs/sub/notes.txt`");
    check("leading-slash", "pass", "found `LICENSE`");
    assert_eq!(rule_result(&card, "any-pass")["evidence"], json!([{"path": "docs/guide.md"}]));
    assert_eq!(rule_result(&card, "all-pass")["evidence"], json!([{"path": "README.md"}, {"path": "LICENSE"}]));
}

#[test]
fn content_checks() {
    let repo = Repo::new("svc");
    repo.write("src/app.py", "import os\nx = 1  # TODO remove\nline3\n")
        .write("config/app.yaml", "debug: true\n")
        .commit("init");
    let policy = PolicyFile::new(&[
        rule("matches-pass", "bronze", r#"{content: {files: ["src/*.py"], matches: TODO}}"#),
        rule("matches-fail", "bronze", r#"{content: {files: ["config/*.yaml"], matches: '^debug:\s*false'}}"#),
        rule("not-matches-fail", "bronze", r#"{content: {files: ["src/**/*.py"], not_matches: 'TODO'}}"#),
        rule("not-matches-pass", "bronze", r#"{content: {files: ["config/*.yaml"], not_matches: password}}"#),
        rule("ignore-case", "bronze", r#"{content: {files: ["src/*.py"], matches: todo, ignore_case: true}}"#),
        rule("case-sensitive", "bronze", r#"{content: {files: ["src/*.py"], matches: todo}}"#),
        rule("line-anchors", "bronze", r#"{content: {files: [src/app.py], matches: '^line3$'}}"#),
        rule("no-files", "bronze", r#"{content: {files: ["**/*.java"], matches: class}}"#),
        rule("no-files-negated", "bronze", r#"{content: {files: ["**/*.java"], not_matches: class}}"#),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    let check = |id: &str, want_status: &str, want_message: &str| {
        assert_eq!(status(&card, id), want_status, "{id}: {}", statuses(&card));
        assert_eq!(message(&card, id), want_message, "{id}");
    };
    check("matches-pass", "pass", "`src/app.py` line 2 matches /TODO/");
    check("matches-fail", "fail", r"no file matching `config/*.yaml` contains /^debug:\s*false/");
    check("not-matches-fail", "fail", "/TODO/ found in `src/app.py` line 2");
    check("not-matches-pass", "pass", "1 file(s) checked, none contains the forbidden pattern");
    check("ignore-case", "pass", "`src/app.py` line 2 matches /todo/");
    check("case-sensitive", "fail", "no file matching `src/*.py` contains /todo/");
    check("line-anchors", "pass", "`src/app.py` line 3 matches /^line3$/");
    check("no-files", "fail", "no file matches `**/*.java`");
    check("no-files-negated", "pass", "no file matches `**/*.java`");
    assert_eq!(rule_result(&card, "matches-pass")["evidence"], json!([{"path": "src/app.py", "line": 2}]));
    assert_eq!(rule_result(&card, "not-matches-fail")["evidence"], json!([{"path": "src/app.py", "line": 2}]));
}

#[test]
fn query_checks_over_yaml_json_and_toml() {
    let repo = Repo::new("svc");
    repo.write("package.json", r#"{"name": "svc", "scripts": {"test": "jest"}}"#)
        .write("tsconfig.json", r#"{"compilerOptions": {"strict": true}}"#)
        .write("Cargo.toml", "[package]\nname = \"svc\"\nedition = \"2021\"\n")
        .write("deploy/values.yaml", "replicas: 3\nimage:\n  tag: 1.2.3\n")
        .write("broken/data.json", "{\"a\": ")
        .write("settings.conf", "{\"x\": 1}\n")
        .commit("init");
    let policy = PolicyFile::new(&[
        rule("json-pass", "bronze", "{query: {files: [package.json], jq: '.scripts.test != null'}}"),
        rule("json-fail", "bronze", "{query: {files: [package.json], jq: '.scripts.lint != null'}}"),
        rule("toml-pass", "bronze", r#"{query: {files: [Cargo.toml], jq: '.package.edition == "2021"'}}"#),
        rule("toml-fail", "bronze", r#"{query: {files: [Cargo.toml], jq: '.package.edition == "2024"'}}"#),
        rule(
            "yaml-pass",
            "bronze",
            r#"{query: {files: ["deploy/*.yaml"], jq: '.replicas >= 2 and .image.tag != "latest"'}}"#,
        ),
        rule("parse-error", "bronze", r#"{query: {files: ["broken/*.json"], jq: '.a'}}"#),
        rule("require-any", "bronze", r#"{query: {files: ["*.json", "broken/*.json"], jq: 'type == "object"'}}"#),
        rule("require-all-pass", "bronze", r#"{query: {files: ["*.json"], jq: 'type == "object"', require: all}}"#),
        rule("require-all-fail", "bronze", r#"{query: {files: ["*.json"], jq: '.scripts != null', require: all}}"#),
        rule("explicit-format", "bronze", "{query: {files: [settings.conf], format: json, jq: '.x == 1'}}"),
        rule("unknown-format", "bronze", "{query: {files: [settings.conf], jq: '.x == 1'}}"),
        rule("no-files", "bronze", "{query: {files: [pyproject.toml], jq: '.'}}"),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    let check = |id: &str, want_status: &str, want_message: &str| {
        assert_eq!(status(&card, id), want_status, "{id}: {}", statuses(&card));
        assert_eq!(message(&card, id), want_message, "{id}");
    };
    check("json-pass", "pass", "`package.json` passes the query");
    check("json-fail", "fail", "`package.json`: `.scripts.lint != null` does not hold");
    check("toml-pass", "pass", "`Cargo.toml` passes the query");
    check("toml-fail", "fail", r#"`Cargo.toml`: `.package.edition == "2024"` does not hold"#);
    check("yaml-pass", "pass", "`deploy/values.yaml` passes the query");
    check("require-any", "pass", "`package.json` passes the query");
    check("require-all-pass", "pass", "2 file(s) pass the query");
    check("require-all-fail", "fail", "`tsconfig.json`: `.scripts != null` does not hold");
    check("explicit-format", "pass", "`settings.conf` passes the query");
    check("unknown-format", "fail", "`settings.conf`: unknown format: set `format: yaml|json|toml` on the check");
    check("no-files", "fail", "no file matches `pyproject.toml`");
    assert_eq!(status(&card, "parse-error"), "fail");
    assert!(
        message(&card, "parse-error").starts_with("`broken/data.json`: cannot parse as JSON"),
        "{}",
        statuses(&card)
    );
    assert_eq!(rule_result(&card, "json-pass")["evidence"], json!([{"path": "package.json"}]));
    assert_eq!(rule_result(&card, "require-all-fail")["evidence"], json!([{"path": "tsconfig.json"}]));
}

#[test]
fn codeowners_checks() {
    let repo = Repo::new("svc");
    repo.write(".github/CODEOWNERS", "# owners\n/src/ @acme/backend\n/.github/ @acme/platform\n")
        .write("src/lib.rs", "")
        .write("src/deep/mod.rs", "")
        .write("docs/guide.md", "")
        .commit("init");
    let policy = PolicyFile::new(&[
        rule("present", "bronze", "{codeowners: {}}"),
        rule("paths-pass", "bronze", r#"{codeowners: {paths: ["src/**"]}}"#),
        rule("paths-fail", "bronze", r#"{codeowners: {paths: ["docs/**", "src/**"]}}"#),
        rule("every-file", "bronze", "{codeowners: {every_file: true}}"),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    let check = |id: &str, want_status: &str, want_message: &str| {
        assert_eq!(status(&card, id), want_status, "{id}: {}", statuses(&card));
        assert_eq!(message(&card, id), want_message, "{id}");
    };
    check("present", "pass", "`.github/CODEOWNERS` assigns owners");
    check("paths-pass", "pass", "`.github/CODEOWNERS` assigns owners to every file matching `src/**`");
    check("paths-fail", "fail", "1 file(s) have no code owner, e.g. `docs/guide.md`");
    check("every-file", "fail", "1 file(s) have no code owner, e.g. `docs/guide.md`");
    assert_eq!(rule_result(&card, "paths-fail")["evidence"], json!([{"path": "docs/guide.md"}]));
}

#[test]
fn codeowners_invalid_owner_line() {
    let repo = Repo::new("svc");
    repo.write("CODEOWNERS", "* @acme/backend\n/docs/ acme-docs\n").write("docs/guide.md", "").commit("init");
    let policy = PolicyFile::new(&[rule("codeowners", "bronze", "{codeowners: {}}")]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    let r = rule_result(&card, "codeowners");
    assert_eq!(r["status"], "fail");
    assert_eq!(
        r["message"],
        "`CODEOWNERS` line 2: invalid owner `acme-docs`: expected `@username`, `@org/team-name` or an email address"
    );
    assert_eq!(r["evidence"], json!([{"path": "CODEOWNERS", "line": 2}]));
}

#[test]
fn codeowners_missing() {
    let repo = Repo::new("svc");
    repo.write("README.md", "x").write("docs/CODEOWNERS.md", "not the file").commit("init");
    let policy = PolicyFile::new(&[rule("codeowners", "bronze", "{codeowners: {}}")]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    assert_eq!(message(&card, "codeowners"), "no CODEOWNERS file in `.github/`, the root or `docs/`");
}

#[test]
fn catalog_checks() {
    let repo = Repo::new("payments");
    repo.write("README.md", "x").commit("init");
    let catalog = payments_catalog();
    let policy = PolicyFile::new(&[
        rule("lifecycle", "bronze", r#"{catalog: {jq: '.spec.lifecycle == "production"'}}"#),
        rule(
            "techdocs",
            "bronze",
            r#"{catalog: {jq: '.metadata.annotations["backstage.io/techdocs-ref"] != null', message: no TechDocs}}"#,
        ),
        rule("owner-default-message", "bronze", r#"{catalog: {jq: '.spec.owner == "someone-else"'}}"#),
    ]);
    let (out, card) = with_policy(&repo, &policy, &["--catalog", &catalog.arg()]);
    out.expect_code(1);
    assert_eq!(status(&card, "lifecycle"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "lifecycle"), "catalog entry `payments` passes");
    assert_eq!(rule_result(&card, "lifecycle")["evidence"], json!([{"path": "services/payments.yaml"}]));
    assert_eq!(status(&card, "techdocs"), "fail");
    assert_eq!(message(&card, "techdocs"), "no TechDocs");
    assert_eq!(
        message(&card, "owner-default-message"),
        r#"catalog entry `payments`: `.spec.owner == "someone-else"` does not hold"#
    );
    assert_eq!(card["owner"], "team-payments");
}

#[test]
fn catalog_check_without_an_entry_fails() {
    let repo = Repo::new("unlisted");
    repo.write("README.md", "x").commit("init");
    let policy = PolicyFile::new(&[rule("lifecycle", "bronze", "{catalog: {jq: '.spec.lifecycle != null'}}")]);
    let (out, card) = with_policy(&repo, &policy, &["--catalog", &payments_catalog().arg()]);
    out.expect_code(1);
    assert!(message(&card, "lifecycle").starts_with("no catalog entry for this repository"), "{}", statuses(&card));
    assert_eq!(card["service"], Value::Null);
    assert_eq!(card["tier"], 3);
}

#[test]
fn linked_tool_checks_are_skipped_naming_the_variable() {
    let repo = Repo::new("payments");
    repo.write("README.md", "x").commit("init");
    let policy = PolicyFile::new(&[
        rule("branch", "bronze", "{branch_protection: {min_approvals: 2}}"),
        rule("vulns", "bronze", "{vulnerability_alerts: {max_high: 1}}"),
        rule("oncall", "bronze", "{oncall: {}}"),
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
    ]);
    let (out, card) = with_policy(&repo, &policy, &["--catalog", &payments_catalog().arg(), "--tier", "3"]);
    out.expect_code(0);
    for (id, var) in [("branch", "SHIPSHAPE_GITHUB_TOKEN"), ("vulns", "SHIPSHAPE_GITHUB_TOKEN")] {
        assert_eq!(status(&card, id), "skipped", "{}", statuses(&card));
        assert!(message(&card, id).contains(var), "{id}: {}", message(&card, id));
    }
    assert_eq!(status(&card, "oncall"), "skipped");
    assert_eq!(message(&card, "oncall"), "PagerDuty is not configured (set SHIPSHAPE_PAGERDUTY_TOKEN)");
    // Bronze stands on `readme` alone, and says which of its rules were not judged; silver and gold have no rules.
    assert_eq!(card["level"], "bronze");
    assert_eq!(card["unverified"], json!(["branch", "vulns", "oncall"]));
    assert_eq!(card["summary"], json!({"pass": 1, "fail": 0, "excepted": 0, "skipped": 3, "error": 0}));
}

#[test]
fn oncall_without_a_pagerduty_annotation_fails() {
    let repo = Repo::new("payments");
    repo.write("README.md", "x").commit("init");
    let catalog = Dir::new();
    catalog.write(
        "services/payments.yaml",
        &service_yaml("payments", Some(2), "service").replace("    pagerduty.com/service-id: PPAYMENTS\n", ""),
    );
    let policy = PolicyFile::new(&[rule("oncall", "bronze", "{oncall: {}}")]);
    let (out, card) = with_policy(&repo, &policy, &["--catalog", &catalog.arg()]);
    out.expect_code(1);
    assert_eq!(status(&card, "oncall"), "fail");
    assert!(message(&card, "oncall").contains("pagerduty.com/service-id"), "{}", statuses(&card));
}

#[test]
fn combinators() {
    let repo = Repo::new("svc");
    repo.write("README.md", "x").write("LICENSE", "y").commit("init");
    let readme = "{file: {any: [README.md]}}";
    let license = "{file: {any: [LICENSE]}}";
    let nope = "{file: {any: [NOPE]}}";
    let gone = "{file: {any: [GONE]}}";
    let skip = "{branch_protection: {}}";
    let policy = PolicyFile::new(&[
        rule("all-pass", "bronze", &format!("{{all: [{readme}, {license}]}}")),
        rule("all-fail", "bronze", &format!("{{all: [{readme}, {nope}]}}")),
        rule("any-pass", "bronze", &format!("{{any: [{nope}, {readme}]}}")),
        rule("any-fail", "bronze", &format!("{{any: [{nope}, {gone}]}}")),
        rule("not-pass", "bronze", r#"{not: {file: {any: ["**/*.pem"]}}}"#),
        rule("not-fail", "bronze", &format!("{{not: {readme}}}")),
        rule("all-pass-skip", "bronze", &format!("{{all: [{readme}, {skip}]}}")),
        rule("all-fail-skip", "bronze", &format!("{{all: [{skip}, {nope}]}}")),
        rule("any-pass-skip", "bronze", &format!("{{any: [{skip}, {readme}]}}")),
        rule("not-skip", "bronze", &format!("{{not: {skip}}}")),
        rule("nested", "bronze", &format!("{{any: [{{all: [{readme}, {nope}]}}, {{not: {gone}}}]}}")),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    let check = |id: &str, want_status: &str, want_message: &str| {
        assert_eq!(status(&card, id), want_status, "{id}: {}", statuses(&card));
        assert_eq!(message(&card, id), want_message, "{id}");
    };
    check("all-pass", "pass", "found `README.md`; found `LICENSE`");
    check("all-fail", "fail", "no file matches `NOPE`");
    check("any-pass", "pass", "found `README.md`");
    check("any-fail", "fail", "no file matches `NOPE`; no file matches `GONE`");
    check("not-pass", "pass", "no file matches `**/*.pem`");
    check("not-fail", "fail", "found `README.md`");
    assert_eq!(status(&card, "all-pass-skip"), "skipped");
    check("all-fail-skip", "fail", "no file matches `NOPE`");
    check("any-pass-skip", "pass", "found `README.md`");
    assert_eq!(status(&card, "not-skip"), "skipped");
    check("nested", "pass", "no file matches `GONE`");
}

// ------------------------------------------------------------------------------------------------ --rev

#[test]
fn rev_scores_a_commit_and_default_scores_the_working_tree() {
    let repo = Repo::new("svc");
    repo.write("README.md", "version one\n");
    let first = repo.commit("first");
    repo.write("README.md", "version two\n").write("SECURITY.md", "report to security@acme.example\n");
    let second = repo.commit("second");
    repo.write("RUNBOOK.md", "not committed yet\n");
    let policy = PolicyFile::new(&[
        rule("security", "bronze", "{file: {any: [SECURITY.md]}}"),
        rule("runbook", "bronze", "{file: {any: [RUNBOOK.md]}}"),
        rule("readme-v1", "bronze", "{content: {files: [README.md], matches: 'version one'}}"),
    ]);

    let (out, old) = with_policy(&repo, &policy, &["--rev", "HEAD~1"]);
    out.expect_code(1);
    assert_eq!(old["commit"], first.as_str());
    assert_eq!(status(&old, "security"), "fail", "{}", statuses(&old));
    assert_eq!(status(&old, "runbook"), "fail");
    assert_eq!(status(&old, "readme-v1"), "pass");

    let (out, head) = with_policy(&repo, &policy, &["--rev", "HEAD"]);
    out.expect_code(1);
    assert_eq!(head["commit"], second.as_str());
    assert_eq!(status(&head, "security"), "pass", "{}", statuses(&head));
    assert_eq!(status(&head, "runbook"), "fail", "uncommitted files are not part of a commit");
    assert_eq!(status(&head, "readme-v1"), "fail");

    let (out, tree) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    assert_eq!(tree["commit"], second.as_str(), "the working tree reports HEAD");
    assert_eq!(status(&tree, "security"), "pass", "{}", statuses(&tree));
    assert_eq!(status(&tree, "runbook"), "pass", "the working tree includes uncommitted files");
    assert_eq!(status(&tree, "readme-v1"), "fail");

    let (out, by_id) = with_policy(&repo, &policy, &["--rev", &first[..10]]);
    out.expect_code(1);
    assert_eq!(by_id["commit"], first.as_str());
}

#[test]
fn rev_sees_committed_files_deleted_from_the_working_tree() {
    let repo = Repo::new("svc");
    repo.write("SECURITY.md", "x\n").commit("first");
    repo.remove("SECURITY.md");
    let policy = PolicyFile::new(&[rule("security", "bronze", "{file: {any: [SECURITY.md]}}")]);
    let (out, card) = with_policy(&repo, &policy, &["--rev", "HEAD"]);
    out.expect_code(0);
    assert_eq!(status(&card, "security"), "pass");
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    assert_eq!(status(&card, "security"), "fail");
}

#[test]
fn bad_rev_is_an_input_error_naming_the_rev() {
    let repo = Repo::new("svc");
    repo.write("README.md", "x").commit("first");
    let out = run(["evaluate", &repo.arg(), "--rev", "no-such-branch", "--format", "json"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no-such-branch"), "{out:?}");
    assert_eq!(out.stdout, "");
}

#[test]
fn bad_rev_error_is_one_line_said_once() {
    let repo = Repo::new("svc");
    repo.write("README.md", "x").commit("first");
    let out = run(["evaluate", &repo.arg(), "--rev", "no-such-branch"]);
    out.expect_code(2);
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(out.stderr.starts_with("shipshape: "), "{out:?}");
    // git's reason is worth showing once, not repeated by the error chain.
    assert_eq!(out.stderr.matches("revspec 'no-such-branch' not found").count(), 1, "{out:?}");
    assert_eq!(out.stderr.matches(&repo.arg()).count(), 1, "the path is said once: {out:?}");
}

// ------------------------------------------------------------------------------------------------ catalogs

#[test]
fn own_catalog_info_supplies_the_owner_but_not_the_tier() {
    let repo = gold_repo("payments");
    repo.write("catalog-info.yaml", &service_yaml("payments", Some(1), "service"));
    repo.commit("catalog-info");
    let (out, card) = evaluate_json(&repo, &["--as-of", AS_OF]);
    out.expect_code(0);
    assert_eq!(status(&card, "owner"), "pass", "{}", statuses(&card));
    assert_eq!(card["owner"], "team-payments");
    assert_eq!(card["service"], "payments");
    assert_eq!(card["tier"], 3, "a repository cannot choose its own tier");
    assert_eq!(card["required_level"], "bronze");
}

#[test]
fn own_catalog_info_tier_note_says_it_was_ignored() {
    // The repository's catalog-info.yaml says `tier: 1`; the note must not claim the entry has no tier.
    let repo = gold_repo("payments");
    repo.write("catalog-info.yaml", &service_yaml("payments", Some(1), "service"));
    repo.commit("catalog-info");
    let (out, card) = evaluate_json(&repo, &["--as-of", AS_OF]);
    out.expect_code(0);
    let notes: Vec<&str> = card["notes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(!notes.iter().any(|n| n.contains("has no spec.tier")), "misleading note: {notes:?}");
}

#[test]
fn without_a_catalog_ownership_is_skipped_at_the_default_tier() {
    let repo = gold_repo("payments");
    let (out, card) = evaluate_json(&repo, &["--as-of", AS_OF]);
    out.expect_code(0);
    assert_eq!(status(&card, "owner"), "skipped");
    assert!(message(&card, "owner").starts_with("no catalog given"), "{}", statuses(&card));
    assert_eq!(card["tier"], 3);
    assert_eq!(card["service"], Value::Null);
    assert_ne!(
        card["level"],
        Value::Null,
        "one rule the catalog would answer does not keep the repository at no level"
    );
    assert!(card["unverified"].as_array().unwrap().contains(&json!("owner")), "{}", card["unverified"]);
    // Scored at the default tier, and the card says why.
    let notes = card["notes"].to_string();
    assert!(notes.contains("default tier 3"), "{notes}");
}

#[test]
fn catalog_takes_precedence_over_own_catalog_info() {
    let repo = gold_repo("unlisted");
    repo.write("catalog-info.yaml", &service_yaml("unlisted", Some(1), "service"));
    repo.commit("catalog-info");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(1);
    assert_eq!(status(&card, "owner"), "fail", "{}", statuses(&card));
    assert_eq!(card["service"], Value::Null);
}

#[test]
fn catalog_matches_origin_case_insensitively() {
    let repo = gold_repo("Payments");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(0);
    assert_eq!(card["service"], "payments");
    assert_eq!(card["tier"], 1);
}

#[test]
fn service_option_picks_the_catalog_entry() {
    let repo = gold_repo_without("payments-fork", "slo/availability.yaml");
    let catalog = payments_catalog();
    catalog.service("search", 2, "service");
    let (out, card) = with_catalog(&repo, &catalog, &["--service", "search"]);
    out.expect_code(0);
    assert_eq!(card["service"], "search");
    assert_eq!(card["tier"], 2);
    assert_eq!(card["owner"], "team-search");
    assert_eq!(card["level"], "silver");
    let (out, card) = with_catalog(&repo, &catalog, &["--service", "payments"]);
    out.expect_code(1);
    assert_eq!(card["service"], "payments");
    assert_eq!(card["tier"], 1);
}

#[test]
fn unknown_service_is_an_input_error_with_did_you_mean() {
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    catalog.service("search", 2, "service");
    let out = run(["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--service", "serch"]);
    out.expect_code(2);
    assert_eq!(out.stderr, "shipshape: --service serch: no such service in the catalog (did you mean `search`?)\n");
    assert_eq!(out.stdout, "");
}

#[test]
fn unknown_tier_is_an_input_error() {
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "--tier", "7"]);
    out.expect_code(2);
    assert_eq!(out.stderr, "shipshape: --tier 7: the policy defines tiers 1, 2, 3\n");
    assert_eq!(out.stdout, "");
}

#[test]
fn tier_option_overrides_the_catalog() {
    let repo = gold_repo_without("payments", "docs/runbook.md");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &["--tier", "3"]);
    out.expect_code(0);
    assert_eq!(card["tier"], 3);
    assert_eq!(card["level"], "bronze");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(1);
    assert_eq!(card["tier"], 1);
}

#[test]
fn catalog_policies_directory_replaces_the_embedded_scorecard() {
    let repo = Repo::new("payments");
    repo.write("README.md", "x").commit("init");
    let catalog = payments_catalog();
    catalog.write(
        "policies/scorecard.yaml",
        &format!("{}{}", crate::support::POLICY_HEAD, rule("only-rule", "bronze", "{file: {any: [README.md]}}")),
    );
    let (out, card) = with_catalog(&repo, &catalog, &[]);
    assert_eq!(status_map(&card), vec![("only-rule".to_string(), "pass".to_string())]);
    // Tier 1 requires gold, and a level without rules is not reached: the one bronze rule does not make it gold.
    out.expect_code(1);
    assert_eq!(card["level"], "bronze");
    assert!(card["notes"].to_string().contains("level silver is not reached: the policy has no rule of that level"));
}

// ------------------------------------------------------------------------------------------------ several repositories

#[test]
fn several_paths_give_an_array_and_a_summary_table() {
    let gold = gold_repo("payments");
    let weak = Repo::new("search");
    weak.write("README.md", "short\n").commit("init");
    let catalog = payments_catalog();
    catalog.service("search", 2, "service");

    let args = |format: &str| {
        vec![
            "evaluate".to_string(),
            gold.arg(),
            weak.arg(),
            "--catalog".into(),
            catalog.arg(),
            "--as-of".into(),
            AS_OF.into(),
            "--format".into(),
            format.into(),
        ]
    };
    let out = run(args("json"));
    out.expect_code(1);
    let cards = out.json();
    let cards = cards.as_array().expect("an array for several paths");
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0]["repository"], "acme/payments");
    assert_eq!(cards[0]["meets_required"], true);
    assert_eq!(cards[1]["repository"], "acme/search");
    assert_eq!(cards[1]["service"], "search");
    assert_eq!(cards[1]["meets_required"], false);

    let out = run(args("text"));
    out.expect_code(1);
    let fails = cards[1]["summary"]["fail"].as_u64().unwrap();
    let table = format!(
        "REPOSITORY     TIER  LEVEL  REQUIRED  MEETS  FAIL\nacme/payments  1     gold   gold      yes    0\n\
         acme/search    2     none   silver    no     {fails}\n"
    );
    assert!(out.stdout.ends_with(&table), "{out:?}\nexpected to end with:\n{table}");

    // Both meeting their level: exit 0.
    let out = run(["evaluate", &gold.arg(), &gold.arg(), "--catalog", &catalog.arg(), "--as-of", AS_OF]);
    out.expect_code(0);
}

#[test]
fn one_path_gives_one_object() {
    let repo = gold_repo("payments");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    out.expect_code(0);
    assert!(card.is_object(), "{card}");
}

#[test]
fn default_path_is_the_current_directory() {
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    let out = crate::support::run_in(
        repo.path(),
        ["evaluate", "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", "json"],
    );
    out.expect_code(0);
    assert_eq!(out.json()["repository"], "acme/payments");
}

#[test]
fn repository_without_origin_is_named_after_its_directory() {
    let repo = Repo::without_origin();
    repo.write("README.md", "x").commit("init");
    let policy = PolicyFile::new(&[rule("readme", "bronze", "{file: {any: [README.md]}}")]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(0);
    let dir_name = repo.path().file_name().unwrap().to_str().unwrap();
    assert_eq!(card["repository"], dir_name);
}

// ------------------------------------------------------------------------------------------------ input errors

#[test]
fn nonexistent_path_is_an_input_error() {
    let out = run(["evaluate", "/nonexistent/shipshape-test-repo"]);
    out.expect_code(2);
    assert!(out.stderr.contains("/nonexistent/shipshape-test-repo"), "{out:?}");
    assert_eq!(out.stdout, "");
}

#[test]
fn one_bad_path_among_several_is_an_input_error() {
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "/nonexistent/shipshape-test-repo"]);
    out.expect_code(2);
    assert!(out.stderr.contains("/nonexistent/shipshape-test-repo"), "{out:?}");
}

#[test]
fn policy_with_an_error_is_an_input_error_with_its_position() {
    let repo = gold_repo("payments");
    let dir = Dir::new();
    dir.write("policy.yaml", &format!("{}{}", crate::support::POLICY_HEAD, rule("a", "bronze", "{file: {any: []}}")));
    let out = crate::support::run_in(dir.path(), ["evaluate", &repo.arg(), "--policy", "policy.yaml"]);
    out.expect_code(2);
    // The rule's `check` value starts on line 14 at col 12.
    assert_eq!(
        out.stderr,
        "policy.yaml:14:12: a `file` check needs exactly one of `any` or `all` (a list of glob patterns)\n"
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn catalog_file_with_an_error_is_left_out_with_a_warning() {
    // The bad file is left out (tests/cli/catalog_partial.rs has more); the rest of the catalog still scores.
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    catalog.exception("payments", "slo", "someday");
    let out = run(["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--format", "json"]);
    assert!(
        out.stderr.contains(
            "exceptions/payments/slo.yaml:6:10: expires must be a date written YYYY-MM-DD, found `someday`\n"
        ),
        "{out:?}"
    );
    let card = out.json();
    assert_eq!(card["service"], "payments", "{out:?}");
    assert!(card["notes"].to_string().contains("exceptions/payments/slo.yaml (6:10: expires must be"), "{out:?}");
}

#[test]
fn bad_as_of_date_is_a_usage_error() {
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "--as-of", "2025-02-30"]);
    out.expect_code(2);
    assert!(out.stderr.contains("`2025-02-30` is not a date written YYYY-MM-DD"), "{out:?}");
}

#[test]
fn unknown_format_is_a_usage_error() {
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "--format", "xml"]);
    out.expect_code(2);
    assert!(out.stderr.contains("invalid value 'xml' for '--format <FORMAT>'"), "{out:?}");
    assert!(out.stderr.contains("[possible values: text, json, markdown, sarif]"), "{out:?}");
}

#[test]
fn credentials_set_do_not_ask_for_themselves() {
    // With a token, `evaluate` reads GitHub and PagerDuty: both unreachable here, so their rules are `error` with
    // the reason, never a request to set the variable that is set, and never the URL or the credential.
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    let closed = "http://127.0.0.1:9";
    let out = crate::support::run_in_env(
        repo.path(),
        ["evaluate", "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", "json"],
        &[
            ("SHIPSHAPE_GITHUB_TOKEN", "ghp_test"),
            ("SHIPSHAPE_GITHUB_API_URL", closed),
            ("SHIPSHAPE_PAGERDUTY_TOKEN", "pd_test"),
            ("SHIPSHAPE_PAGERDUTY_API_URL", closed),
        ],
    );
    out.expect_code(0);
    let card = out.json();
    for id in ["branch-protection", "vulnerabilities", "ci-passing"] {
        assert_eq!(status(&card, id), "error", "{id}: {}", statuses(&card));
        let why = message(&card, id);
        assert!(why.starts_with("cannot read GitHub facts: GitHub is unavailable"), "{id}: {why}");
        assert!(!why.contains("SHIPSHAPE_GITHUB_TOKEN") && !why.contains("127.0.0.1"), "{id}: {why}");
    }
    assert_eq!(status(&card, "oncall"), "error", "{}", statuses(&card));
    let oncall = message(&card, "oncall");
    assert!(oncall.contains("PagerDuty: unreachable (cannot connect"), "{oncall}");
    assert!(!oncall.contains("127.0.0.1"), "the URL is not shown: {oncall}");
    assert_eq!(card["level"], "gold", "skipped and error rules count neither for nor against a level");
    for secret in ["ghp_test", "pd_test"] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "a credential reached the output");
    }
}

// ------------------------------------------------------------------------------------------------ what the collector sees

#[test]
fn origin_over_ssh_matches_the_catalog() {
    for url in [
        "git@github.com:acme/payments.git",
        "ssh://git@github.com/acme/payments.git",
        "https://github.com/acme/payments",
    ] {
        let repo = Repo::with_origin(url);
        repo.write("README.md", "x").commit("init");
        let (out, card) = with_catalog(&repo, &payments_catalog(), &["--tier", "3"]);
        assert_eq!(card["repository"], "acme/payments", "{url}: {out:?}");
        assert_eq!(card["service"], "payments", "{url}");
    }
}

#[test]
fn git_directory_is_not_part_of_the_repository_files() {
    let repo = Repo::new("svc");
    repo.write("README.md", "x").commit("init");
    let policy = PolicyFile::new(&[rule("git-dir", "bronze", r#"{file: {any: [".git/**", "**/HEAD"]}}"#)]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    assert_eq!(status(&card, "git-dir"), "fail", "{}", statuses(&card));
}

#[test]
fn gitignored_env_file_in_the_working_tree_is_not_committed() {
    // A developer's local `.env`, ignored by git, is not "committed": scoring the working tree must not fail
    // `no-committed-secrets` for it.
    let repo = gold_repo("payments");
    repo.write(".gitignore", ".env\n");
    repo.commit("Ignore .env");
    repo.write(".env", "DATABASE_PASSWORD=hunter2\n");
    let (out, card) = with_catalog(&repo, &payments_catalog(), &[]);
    assert_eq!(status(&card, "no-committed-secrets"), "pass", "{}", statuses(&card));
    out.expect_code(0);
}

#[test]
fn hidden_files_are_part_of_the_working_tree() {
    let repo = Repo::new("svc");
    repo.write(".github/SECURITY.md", "x").write(".env", "A=1\n").commit("init");
    let policy = PolicyFile::new(&[
        rule("security", "bronze", "{file: {any: [.github/SECURITY.md]}}"),
        rule("no-env", "bronze", r#"{not: {file: {any: ["**/.env"]}}}"#),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    assert_eq!(status(&card, "security"), "pass", "{}", statuses(&card));
    assert_eq!(status(&card, "no-env"), "fail");
    assert_eq!(message(&card, "no-env"), "found `.env`");
}

#[test]
fn large_and_binary_files_are_listed_but_not_read() {
    let repo = Repo::new("svc");
    let mut big = "needle: here\n".to_string();
    while big.len() <= 1024 * 1024 {
        big.push_str("filler: 0123456789012345678901234567890123456789012345678901234567890123456789\n");
    }
    repo.write("data/big.yaml", &big).write_bytes("data/blob.yaml", b"needle: \0\x01\x02\n").commit("init");
    let policy = PolicyFile::new(&[
        rule("exists", "bronze", "{file: {all: [data/big.yaml, data/blob.yaml]}}"),
        rule("needle", "bronze", r#"{content: {files: ["data/*.yaml"], matches: needle}}"#),
    ]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(1);
    assert_eq!(status(&card, "exists"), "pass", "{}", statuses(&card));
    assert_eq!(status(&card, "needle"), "fail");
    assert_eq!(
        message(&card, "needle"),
        "no file matching `data/*.yaml` contains /needle/ (2 large or binary file(s) not read)"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_repository_are_never_followed() {
    let outside = Dir::new();
    let secret = outside.write("secret.md", "root:x:0:0:outside the repository\n");
    let repo = Repo::new("svc");
    repo.write("README.md", "x").symlink("docs/runbook.md", &secret).commit("init");
    let policy = PolicyFile::new(&[rule("leak", "bronze", r#"{content: {files: ["docs/*.md"], matches: "root:"}}"#)]);
    let (_, card) = with_policy(&repo, &policy, &[]);
    assert_eq!(status(&card, "leak"), "fail", "{}", statuses(&card));
    let (_, card) = with_policy(&repo, &policy, &["--rev", "HEAD"]);
    assert_eq!(status(&card, "leak"), "fail", "{}", statuses(&card));
}

#[test]
fn repository_without_commits_scores_its_working_tree() {
    let repo = Repo::new("svc");
    repo.write("README.md", "x");
    let policy = PolicyFile::new(&[rule("readme", "bronze", "{file: {any: [README.md]}}")]);
    let (out, card) = with_policy(&repo, &policy, &[]);
    out.expect_code(0);
    assert_eq!(status(&card, "readme"), "pass");
    assert_eq!(card["commit"], Value::Null);
    let out = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--rev", "HEAD"]);
    out.expect_code(2);
    assert!(out.stderr.contains("HEAD"), "{out:?}");
}
