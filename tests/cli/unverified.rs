//! Reports that do not overstate what was checked (SPEC 2): a PATH inside a repository scores the repository, catalog
//! rules without a catalog are skipped, a level none of whose rules was judged is not reached, and every report's
//! headline names the unverified rules.

use crate::support::{PolicyFile, Repo, gold_repo, payments_catalog, rule, run, status};
use serde_json::{Value, json};

const AS_OF: &str = "2025-06-01";

/// Bronze `readme` (a file), silver `branch` (GitHub) and `runbook` (a file), gold `oncall` (PagerDuty) and `slo`.
fn staffed_policy() -> PolicyFile {
    PolicyFile::new(&[
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
        rule("branch", "silver", "{branch_protection: {}}"),
        rule("runbook", "silver", "{file: {any: [RUNBOOK.md]}}"),
        rule("oncall", "gold", "{oncall: {}}"),
        rule("slo", "gold", "{file: {any: [slo.yaml]}}"),
    ])
}

fn staffed_repo() -> Repo {
    let repo = Repo::with_origin("https://github.com/acme/payments.git");
    repo.write("README.md", "# Payments\n").write("RUNBOOK.md", "# Runbook\n").write("slo.yaml", "x: 1\n");
    repo.commit("init");
    repo
}

fn evaluate(repo: &Repo, policy: &PolicyFile, format: &str) -> crate::support::Out {
    let catalog = payments_catalog();
    run([
        "evaluate",
        &repo.arg(),
        "--policy",
        &policy.arg(),
        "--catalog",
        &catalog.arg(),
        "--as-of",
        AS_OF,
        "--format",
        format,
    ])
}

#[test]
fn a_policy_whose_rules_are_all_skipped_reaches_no_level() {
    let repo = Repo::new("svc");
    repo.write("README.md", "# svc\n").commit("init");
    let policy = PolicyFile::new(&[
        rule("branch", "bronze", "{branch_protection: {}}"),
        rule("vulns", "silver", "{vulnerability_alerts: {}}"),
        rule("oncall", "gold", "{oncall: {}}"),
    ]);
    let out = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--format", "json"]);
    out.expect_code(1);
    let card = out.json();
    assert_eq!(card["level"], Value::Null, "nothing was checked: {card:#}");
    assert_eq!(card["meets_required"], false);
    let notes = card["notes"].to_string();
    assert!(notes.contains("level bronze is not reached: none of its rules could be judged (`branch`)"), "{notes}");
}

#[test]
fn a_tier_one_service_with_oncall_skipped_is_gold_with_rules_unverified_in_every_format() {
    let (repo, policy) = (staffed_repo(), staffed_policy());
    let out = evaluate(&repo, &policy, "json");
    out.expect_code(0);
    let card = out.json();
    assert_eq!((status(&card, "oncall"), status(&card, "branch")), ("skipped", "skipped"));
    assert_eq!(card["level"], "gold");
    assert_eq!(card["unverified"], json!(["branch", "oncall"]));

    let text = evaluate(&repo, &policy, "text").stdout;
    let head = text.lines().next().unwrap();
    assert!(head.contains("level gold, 2 rules unverified, requires gold"), "{text}");
    assert!(text.contains("unverified (not judged; the level stands without them): branch, oncall"), "{text}");

    let markdown = evaluate(&repo, &policy, "markdown").stdout;
    assert!(
        markdown.contains("Reached **gold**, 2 rules unverified (`branch`, `oncall`); tier 1 requires"),
        "{markdown}"
    );

    let sarif = evaluate(&repo, &policy, "sarif").json();
    let properties = &sarif["runs"][0]["properties"];
    assert_eq!(properties["headline"], "gold, 2 rules unverified");
    assert_eq!(properties["unverified"], json!(["branch", "oncall"]));
}

#[test]
fn without_a_catalog_the_default_scorecard_skips_catalog_rules_instead_of_failing_them() {
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "--as-of", AS_OF, "--format", "json"]);
    let card = out.json();
    for id in ["owner", "oncall", "api-spec"] {
        assert_eq!(status(&card, id), "skipped", "{id}: {card:#}");
        let message = crate::support::message(&card, id);
        assert!(message.starts_with("no catalog given"), "{id}: {message}");
    }
    assert_ne!(card["level"], Value::Null, "{card:#}");
    assert!(card["unverified"].as_array().unwrap().contains(&json!("owner")), "{}", card["unverified"]);
}

#[test]
fn a_path_inside_a_repository_scores_the_whole_repository() {
    let repo = gold_repo("payments");
    repo.write("services/api/main.go", "package main\n").commit("a subdirectory");
    let inside = repo.path().join("services/api");
    let top = run(["evaluate", &repo.arg(), "--as-of", AS_OF, "--format", "json"]).json();
    let out = run(["evaluate", &inside.display().to_string(), "--as-of", AS_OF, "--format", "json"]);
    let card = out.json();
    for id in ["readme", "codeowners", "ci"] {
        assert_eq!(status(&card, id), "pass", "{id} is at the top level: {card:#}");
    }
    let statuses = |c: &Value| c["rules"].as_array().unwrap().iter().map(|r| r["status"].clone()).collect::<Vec<_>>();
    assert_eq!(statuses(&card), statuses(&top));
    assert_eq!(card["repository"], top["repository"]);
    assert!(card["notes"].to_string().contains("the whole repository was scored"), "{}", card["notes"]);
    // The same for a commit read through git.
    let by_rev =
        run(["evaluate", &inside.display().to_string(), "--rev", "HEAD", "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(statuses(&by_rev.json()), statuses(&top));
}
