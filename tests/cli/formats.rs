//! Output formats of `evaluate`: JSON (the public interface of SPEC 2), text, Markdown, SARIF, and `--output`.

use crate::support::{
    APPROVED_IN, Dir, Out, PolicyFile, Repo, gold_repo, payments_catalog, rule, rule_result, run, run_in, statuses,
};
use serde_json::Value;

const AS_OF: &str = "2025-06-01";

/// The default scorecard on a tier-1 repository with one excepted rule (`slo`), one failing rule with line evidence
/// (`no-committed-secrets`, `config/tls.yaml` line 3) and the linked-tool rules skipped.
struct Mixed {
    repo: Repo,
    catalog: Dir,
}

impl Mixed {
    fn new() -> Self {
        let repo = gold_repo("payments");
        repo.remove("slo/availability.yaml");
        repo.write("config/tls.yaml", &crate::support::tls_yaml());
        repo.commit("Add TLS config, drop the SLO");
        let catalog = payments_catalog();
        catalog.exception("payments", "slo", "2025-06-30");
        Self { repo, catalog }
    }

    fn run(&self, format: &str) -> Out {
        run(["evaluate", &self.repo.arg(), "--catalog", &self.catalog.arg(), "--as-of", AS_OF, "--format", format])
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> =
        v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect();
    keys.sort();
    keys
}

#[test]
fn json_has_every_spec_field() {
    let mixed = Mixed::new();
    let out = mixed.run("json");
    out.expect_code(1);
    let card = out.json();
    for key in ["service", "repository", "tier", "required_level", "level", "meets_required", "rules", "summary"] {
        assert!(card.get(key).is_some(), "missing `{key}` in {card:#}");
    }
    assert_eq!(card["service"], "payments");
    assert_eq!(card["repository"], "acme/payments");
    assert_eq!(card["tier"], 1);
    assert_eq!(card["required_level"], "gold");
    assert_eq!(card["level"], Value::Null);
    assert_eq!(card["meets_required"], false);

    let rules = card["rules"].as_array().expect("rules is an array");
    assert_eq!(rules.len(), 20);
    let mut counts = std::collections::BTreeMap::new();
    for r in rules {
        for key in ["id", "title", "level", "status", "message"] {
            assert!(r[key].is_string(), "`{key}` is not a string in {r:#}");
        }
        let status = r["status"].as_str().unwrap();
        assert!(["pass", "fail", "excepted", "skipped", "error"].contains(&status), "{r:#}");
        *counts.entry(status).or_insert(0u64) += 1;
        for e in r["evidence"].as_array().expect("evidence is an array") {
            assert!(e["path"].is_string(), "{e}");
            assert!(keys(e) == ["path"] || (keys(e) == ["line", "path"] && e["line"].is_u64()), "{e}");
        }
        match r.get("exception") {
            None => assert_ne!(status, "excepted", "{r:#}"),
            Some(exception) => {
                assert_eq!(status, "excepted", "{r:#}");
                assert_eq!(keys(exception), ["approved_in", "expires", "reason"]);
            }
        }
    }
    let secrets = rule_result(&card, "no-committed-secrets");
    assert_eq!(secrets["status"], "fail", "{}", statuses(&card));
    assert_eq!(secrets["evidence"], serde_json::json!([{"path": "config/tls.yaml", "line": 3}]));
    let slo = rule_result(&card, "slo");
    assert_eq!(slo["status"], "excepted");
    assert_eq!(slo["exception"]["approved_in"], APPROVED_IN);
    assert_eq!(slo["exception"]["expires"], "2025-06-30");

    assert_eq!(keys(&card["summary"]), ["error", "excepted", "fail", "pass", "skipped"]);
    for status in ["pass", "fail", "excepted", "skipped", "error"] {
        assert_eq!(card["summary"][status], counts.get(status).copied().unwrap_or(0), "summary.{status}");
    }
    assert_eq!(card["summary"]["fail"], 1);
    assert_eq!(card["summary"]["excepted"], 1);
    assert_eq!(card["summary"]["skipped"], 5);
}

#[test]
fn text_has_symbols_grouping_and_details() {
    let mixed = Mixed::new();
    let out = mixed.run("text");
    out.expect_code(1);
    let text = &out.stdout;
    assert!(!text.contains('\x1b'), "no colour when NO_COLOR is set and stdout is not a terminal:\n{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "acme/payments (service payments) — tier 1 — level none, requires gold — BELOW REQUIRED LEVEL"
    );
    assert!(lines[1].starts_with("owner team-payments · commit "), "{text}");

    let at = |needle: &str| {
        lines.iter().position(|l| *l == needle).unwrap_or_else(|| panic!("no line `{needle}` in:\n{text}"))
    };
    let bronze = at("bronze (required)");
    let silver = at("silver (required)");
    let gold = at("gold (required)");
    assert!(bronze < silver && silver < gold, "{text}");

    let readme = at("  ✓ README explains the service (readme)");
    assert!(bronze < readme && readme < silver, "{text}");
    let secrets = at("  ✗ No private keys or .env files committed (no-committed-secrets)");
    assert!(bronze < secrets && secrets < silver, "{text}");
    assert!(lines[secrets + 1].starts_with("      1 private key(s) committed: `config/tls.yaml` line 3"), "{text}");
    assert!(lines[secrets + 2].starts_with("      fix: Remove the file, rotate the credential"), "{text}");
    assert!(lines[secrets + 3..].contains(&"      at config/tls.yaml:3"), "{text}");

    let branch = at("  - Default branch requires reviews and passing checks (branch-protection)");
    assert!(silver < branch && branch < gold, "{text}");
    assert!(lines[branch + 1].starts_with("      skipped: ") && lines[branch + 1].contains("SHIPSHAPE_GITHUB_TOKEN"));

    let slo = at("  ~ Service level objectives are defined (slo)");
    assert!(gold < slo, "{text}");
    assert_eq!(
        lines[slo + 2],
        format!(
            "      excepted until 2025-06-30: Waiting for the observability platform migration \
             (approved in {APPROVED_IN})"
        )
    );

    assert!(lines.contains(&"summary: 13 pass, 1 fail, 1 excepted, 5 skipped, 0 error"), "{text}");
    assert!(lines.contains(&"to reach gold, fix: no-committed-secrets"), "{text}");
}

#[test]
fn text_is_the_default_format() {
    let mixed = Mixed::new();
    let out = run(["evaluate", &mixed.repo.arg(), "--catalog", &mixed.catalog.arg(), "--as-of", AS_OF]);
    out.expect_code(1);
    assert_eq!(out.stdout, mixed.run("text").stdout);
}

#[test]
fn markdown_has_heading_and_tables() {
    let mixed = Mixed::new();
    let out = mixed.run("markdown");
    out.expect_code(1);
    let md = &out.stdout;
    let lines: Vec<&str> = md.lines().collect();
    assert!(lines[0].starts_with("## ❌ Production readiness: acme"), "{md}");
    assert!(lines.contains(&"| | Rule | Result |"), "{md}");
    assert!(lines.contains(&"| :-: | --- | --- |"), "{md}");
    for heading in ["### bronze (required)", "### silver (required)", "### gold (required)", "### How to fix"] {
        assert!(lines.contains(&heading), "no `{heading}` in:\n{md}");
    }
    assert!(lines.contains(&"### Active exceptions"), "{md}");
    assert!(lines.contains(&"### Not scored"), "{md}");
    let failing_row = lines
        .iter()
        .find(|l| l.starts_with("| ❌ |") && l.contains("`no-committed-secrets`"))
        .unwrap_or_else(|| panic!("no failing row for no-committed-secrets in:\n{md}"));
    assert!(failing_row.ends_with(" |"), "{failing_row}");
    assert!(lines.iter().any(|l| l.starts_with("| 🟡 |") && l.contains("`slo`")), "{md}");
    assert!(md.contains("**Below the required level.**"), "{md}");
    assert!(md.contains("`config/tls.yaml:3`"), "{md}");
    assert!(md.ends_with('\n') && !md.ends_with("\n\n"), "{md:?}");
}

#[test]
fn markdown_when_meeting_the_level() {
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    let out = run(["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", "markdown"]);
    out.expect_code(0);
    assert!(out.stdout.starts_with("## ✅ Production readiness: acme"), "{out:?}");
    assert!(out.stdout.contains("**Meets the required level.**"), "{out:?}");
    assert!(!out.stdout.contains("### How to fix"), "{out:?}");
}

/// A custom policy on a repository without catalog (tier 3, requires bronze): `readme` passes, `no-todo` (bronze,
/// required) fails at `src/app.py` line 2, `runbook` (silver, not required) fails with no file, `branch` is skipped.
fn sarif_fixture() -> (Repo, PolicyFile) {
    let repo = Repo::new("svc");
    repo.write("README.md", "# svc\n").write("src/app.py", "import os\nx = 1  # TODO remove\n").commit("init");
    let policy = PolicyFile::new(&[
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
        rule("branch", "bronze", "{branch_protection: {}}"),
        rule("no-todo", "bronze", r#"{content: {files: ["src/**/*.py"], not_matches: TODO}}"#),
        rule("runbook", "silver", "{file: {any: [RUNBOOK.md]}}"),
    ]);
    (repo, policy)
}

#[test]
fn sarif_has_one_result_per_failing_rule() {
    let (repo, policy) = sarif_fixture();
    let out = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--as-of", AS_OF, "--format", "sarif"]);
    out.expect_code(1);
    let log = out.json();
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "shipshape");
    let descriptors: Vec<&str> =
        driver["rules"].as_array().expect("driver.rules").iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(descriptors, ["readme", "branch", "no-todo", "runbook"]);

    let results = runs[0]["results"].as_array().expect("results");
    let ids: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["no-todo", "runbook"], "only failing rules are results");
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(driver["rules"][index]["id"], result["ruleId"], "ruleIndex points at the rule");
    }

    let todo = &results[0];
    assert_eq!(todo["level"], "error", "a required rule is an error");
    let location = &todo["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/app.py");
    assert_eq!(location["region"]["startLine"], 2);
    assert!(todo["message"]["text"].as_str().unwrap().contains("found in `src/app.py` line 2"), "{todo:#}");

    let runbook = &results[1];
    assert_eq!(runbook["level"], "warning", "a rule above the required level is a warning");
    let location = &runbook["locations"][0]["physicalLocation"];
    assert!(location["artifactLocation"]["uri"].is_string(), "GitHub needs a location: {runbook:#}");
    assert_eq!(location["region"]["startLine"], 1);
}

#[test]
fn sarif_leaves_out_excepted_rules() {
    let (repo, policy) = sarif_fixture();
    let catalog = Dir::new();
    catalog.service("svc", 3, "service");
    catalog.exception("svc", "no-todo", "2025-12-31");
    let out = run([
        "evaluate",
        &repo.arg(),
        "--policy",
        &policy.arg(),
        "--catalog",
        &catalog.arg(),
        "--as-of",
        AS_OF,
        "--format",
        "sarif",
    ]);
    out.expect_code(0);
    let log = out.json();
    let ids: Vec<&str> =
        log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["runbook"]);
}

#[test]
fn sarif_has_one_run_per_repository() {
    let (repo, policy) = sarif_fixture();
    let other = gold_repo("payments");
    let out =
        run(["evaluate", &repo.arg(), &other.arg(), "--policy", &policy.arg(), "--as-of", AS_OF, "--format", "sarif"]);
    out.expect_code(1);
    let log = out.json();
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["automationDetails"]["id"], "shipshape/acme/svc/");
    assert_eq!(runs[1]["automationDetails"]["id"], "shipshape/acme/payments/");
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let (repo, policy) = sarif_fixture();
    let dir = Dir::new();
    let out = run_in(
        dir.path(),
        [
            "evaluate",
            &repo.arg(),
            "--policy",
            &policy.arg(),
            "--as-of",
            AS_OF,
            "--format",
            "sarif",
            "--output",
            "out.sarif",
        ],
    );
    out.expect_code(1);
    assert_eq!(out.stdout, "");
    let written = std::fs::read_to_string(dir.path().join("out.sarif")).expect("the report was written");
    let printed = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--as-of", AS_OF, "--format", "sarif"]);
    assert_eq!(written, printed.stdout);
    let log: Value = serde_json::from_str(&written).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
}

#[test]
fn output_file_for_json() {
    let (repo, policy) = sarif_fixture();
    let dir = Dir::new();
    let target = dir.path().join("report.json");
    let out = run([
        "evaluate",
        &repo.arg(),
        "--policy",
        &policy.arg(),
        "--format",
        "json",
        "--output",
        target.to_str().unwrap(),
    ]);
    out.expect_code(1);
    assert_eq!(out.stdout, "");
    let card: Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(card["repository"], "acme/svc");
}

#[test]
fn output_to_an_unwritable_place_is_an_input_error() {
    let (repo, policy) = sarif_fixture();
    let out = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--output", "/nonexistent-dir/report.txt"]);
    out.expect_code(2);
    assert!(out.stderr.contains("/nonexistent-dir/report.txt"), "{out:?}");
}

/// The SARIF log validates against the OASIS SARIF 2.1.0 schema (kept in `tests/data/`), formats included: every
/// artifact URI is a valid URI reference, also for results that have no file and for paths with spaces.
#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let (repo, policy) = sarif_fixture();
    repo.write("src/my app.py", "y = 2  # TODO too\n").commit("a path with a space");
    let other = Repo::new("other svc");
    other.write("README.md", "# other\n").commit("init");
    let out =
        run(["evaluate", &repo.arg(), &other.arg(), "--policy", &policy.arg(), "--as-of", AS_OF, "--format", "sarif"]);
    out.expect_code(1);
    let log = out.json();
    // The published schema's `language` patterns have a stray `]` that a strict ECMA-262 parser rejects; they constrain
    // a field shipshape does not write, so they are replaced by what they mean (`en` or `en-US`).
    let text = include_str!("../data/sarif-schema-2.1.0.json");
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(broken), "the schema changed: review this fix-up");
    let schema: Value =
        serde_json::from_str(&text.replace(broken, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#)).expect("the schema");
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{log:#}");
    let uris: Vec<&str> = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["results"].as_array().unwrap())
        .flat_map(|r| r["locations"].as_array().unwrap())
        .map(|l| l["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&"src/my%20app.py"), "{uris:?}");
    assert!(uris.contains(&"."), "a result with no file points at the repository root: {uris:?}");
    assert!(uris.iter().all(|u| !u.contains(' ')), "{uris:?}");
}
