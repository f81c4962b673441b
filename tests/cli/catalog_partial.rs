//! A catalog with bad files still scores: each bad file is left out, said on standard error and in every
//! scorecard's notes; `validate` reports every problem at once and still exits 2 (issue 13, items 14 and 15).
//!
//! The fixture is a catalog of four services: `payments` (fine), `billing` (its entry has no `spec` and no
//! `kind`), `search` (a typo'd `ownr:` key: a warning) and `ledger` (fine), plus an exception for a rule the policy
//! dropped and a valid one.

use crate::support::{Dir, gold_repo, run, run_in, service_yaml};
use serde_json::Value;

const AS_OF: &str = "2025-06-01";

/// `billing`'s entry without `kind` and `spec`: lines 1-6 of a service file, less line 2.
fn billing_missing_keys() -> String {
    "apiVersion: backstage.io/v1alpha1
metadata:
  name: billing
  annotations:
    github.com/project-slug: acme/billing
    pagerduty.com/service-id: PBILLING
"
    .to_string()
}

fn fleet_catalog() -> Dir {
    let catalog = Dir::new();
    catalog.service("payments", 1, "service").service("ledger", 2, "service");
    catalog.write("services/billing.yaml", &billing_missing_keys());
    // `owner:` misspelt on line 11 (col 3): Backstage allows unknown keys, so it is a warning.
    catalog.write("services/search.yaml", &service_yaml("search", Some(2), "service").replace("  owner:", "  ownr:"));
    // The policy dropped `uptime-report`; the exception for it is left out, the one for `slo` is kept.
    catalog.exception("payments", "uptime-report", "2025-07-01").exception("ledger", "slo", "2025-07-01");
    catalog
}

fn notes(card: &Value) -> Vec<String> {
    card["notes"].as_array().expect("notes").iter().map(|n| n.as_str().unwrap().to_string()).collect()
}

#[test]
fn evaluate_scores_with_the_valid_files_and_names_the_bad_ones() {
    let catalog = fleet_catalog();
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", "json"]);
    assert_ne!(out.code, 2, "a bad file of another service no longer stops the evaluation: {out:?}");
    let root = catalog.arg();
    for line in [
        format!("{root}/exceptions/payments/uptime-report.yaml:4:7: exception for unknown rule `uptime-report`"),
        format!("{root}/services/billing.yaml:1:1: missing required key `kind`"),
        format!("{root}/services/billing.yaml:1:1: missing required key `spec`"),
        format!("{root}/services/search.yaml:11:3: warning: unknown key `spec.ownr`: did you mean `owner`?"),
        "shipshape: warning: 2 files with errors left out of the catalog; scoring with the rest".to_string(),
    ] {
        assert!(out.stderr.contains(&line), "missing {line:?}:\n{out:?}");
    }
    let card = out.json();
    // Payments is scored with its own entry: tier 1 and its owner from the catalog.
    assert_eq!((card["service"].as_str(), card["tier"].as_u64()), (Some("payments"), Some(1)), "{out:?}");
    assert_eq!(card["rules"].as_array().unwrap().iter().find(|r| r["id"] == "owner").unwrap()["status"], "pass");
    let notes = notes(&card);
    let listed = notes.iter().find(|n| n.starts_with("catalog files in")).expect("a note lists the left-out files");
    assert!(listed.contains("exceptions/payments/uptime-report.yaml (4:7: exception for unknown rule"), "{notes:?}");
    assert!(listed.contains("services/billing.yaml (1:1: missing required key `kind`)"), "{notes:?}");
    assert!(!listed.contains("search.yaml"), "a warning leaves nothing out: {notes:?}");
}

#[test]
fn a_service_whose_own_entry_is_broken_is_scored_as_if_it_had_none_with_a_note() {
    let catalog = fleet_catalog();
    let repo = gold_repo("billing");
    let args = ["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", "json"];
    let by_origin = run(args);
    let by_name = run([&args[..], &["--service", "billing"]].concat());
    for out in [by_origin, by_name] {
        assert_ne!(out.code, 2, "{out:?}");
        let card = out.json();
        assert_eq!(card["service"], Value::Null, "no entry is used: {out:?}");
        let notes = notes(&card);
        assert!(
            notes.contains(
                &"the catalog entry services/billing.yaml has errors and was left out (1:1: missing required key \
                  `kind`): scored as if the service had no entry"
                    .to_string()
            ),
            "{notes:?}"
        );
        // Scored as any repository without an entry: the policy's default tier, the ownership rule failing.
        assert!(notes.iter().any(|n| n.contains("no catalog entry: scored at the policy's default tier")), "{notes:?}");
        assert_eq!(card["rules"].as_array().unwrap().iter().find(|r| r["id"] == "owner").unwrap()["status"], "fail");
    }
}

#[test]
fn text_and_markdown_reports_show_what_was_left_out() {
    let catalog = fleet_catalog();
    let repo = gold_repo("payments");
    for format in ["text", "markdown"] {
        let out = run(["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", format]);
        assert_ne!(out.code, 2, "{out:?}");
        assert!(out.stdout.contains("services/billing.yaml"), "{format}: {out:?}");
        assert!(out.stdout.contains("uptime-report.yaml"), "{format}: {out:?}");
    }
}

#[test]
fn validate_reports_every_problem_at_once_and_exits_two() {
    let catalog = fleet_catalog();
    let out = run_in(catalog.path(), ["validate", "--catalog", ".", "--as-of", AS_OF]);
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "./exceptions/payments/uptime-report.yaml:4:7: exception for unknown rule `uptime-report`
./services/billing.yaml:1:1: missing required key `kind`
./services/billing.yaml:1:1: missing required key `spec`
./services/search.yaml:11:3: warning: unknown key `spec.ownr`: did you mean `owner`? (shipshape does not read it)
"
    );
}

#[test]
fn validate_reports_a_wrong_type_and_a_name_mismatch_of_one_file_together() {
    let catalog = Dir::new();
    let text = service_yaml("invoices", Some(1), "service").replace("tier: 1", "tier: high");
    catalog.write("services/billing.yaml", &text);
    let out = run_in(catalog.path(), ["validate", "--catalog", "."]);
    out.expect_code(2);
    // service_yaml: `  name: NAME` is line 4 (col 9); `  tier: N` is line 12 (col 9).
    assert_eq!(
        out.stdout,
        "./services/billing.yaml:4:9: metadata.name `invoices` must match the file name `billing`
./services/billing.yaml:12:9: expected a whole number, found the string `high`
"
    );
}

#[test]
fn a_policy_with_errors_does_not_hide_the_catalog_checks_that_do_not_need_it() {
    let catalog = fleet_catalog();
    catalog.write("policies/scorecard.yaml", "apiVersion: shipshape.dev/v1\nkind: Scorecard\nrules: 3\n");
    let out = run_in(catalog.path(), ["validate", "--catalog", ".", "--as-of", AS_OF]);
    out.expect_code(2);
    for line in [
        ".:1:1: warning: not checked against the policy, which has errors: the rules exceptions name",
        "./policies/scorecard.yaml:3:8: ",
        "./services/billing.yaml:1:1: missing required key `spec`",
        "./services/search.yaml:11:3: warning: unknown key `spec.ownr`",
    ] {
        assert!(out.stdout.contains(line), "missing {line:?}:\n{out:?}");
    }
    // The policy being scored against is broken: evaluate cannot go on.
    let repo = gold_repo("payments");
    run(["evaluate", &repo.arg(), "--catalog", &catalog.arg()]).expect_code(2);
}

#[test]
fn a_directory_that_is_not_a_catalog_is_an_error_for_validate_and_evaluate() {
    let dir = Dir::new();
    dir.write("README.md", "# not a catalog\n");
    let out = run_in(dir.path(), ["validate", "--catalog", "."]);
    out.expect_code(2);
    assert_eq!(out.stdout, ".:1:1: not a catalog: it has none of the directories services/, exceptions/, policies/\n");
    let repo = gold_repo("payments");
    let out = run(["evaluate", &repo.arg(), "--catalog", &dir.arg()]);
    out.expect_code(2);
    assert!(out.stderr.contains("not a catalog"), "{out:?}");
    assert_eq!(out.stdout, "");
}

#[test]
fn an_indentation_error_in_a_catalog_file_gets_a_hint() {
    let catalog = Dir::new();
    // `tier` one space deeper than `owner` (line 12).
    let text = service_yaml("payments", Some(1), "service").replace("  tier: 1", "   tier: 1");
    catalog.write("services/payments.yaml", &text);
    let out = run_in(catalog.path(), ["validate", "--catalog", "."]);
    out.expect_code(2);
    assert!(
        out.stdout.contains("check the indentation of line 12: it starts at column 4, line 11 above it at column 3"),
        "{out:?}"
    );
}

#[test]
fn a_valid_exception_of_another_service_still_applies() {
    // `ledger`'s exception for `slo` is kept though other files are left out.
    let catalog = fleet_catalog();
    let repo = gold_repo("ledger");
    repo.remove("slo/availability.yaml").commit("No SLO yet");
    let out = run(["evaluate", &repo.arg(), "--catalog", &catalog.arg(), "--as-of", AS_OF, "--format", "json"]);
    assert_ne!(out.code, 2, "{out:?}");
    let card = out.json();
    let slo = card["rules"].as_array().unwrap().iter().find(|r| r["id"] == "slo").unwrap().clone();
    assert_eq!(slo["status"], "excepted", "{slo:#}");
}
