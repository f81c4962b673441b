//! Complete checks of one catalog file: everything at once, at its position, and likely typos as warnings.

use crate::catalog::Catalog;
use crate::diag::Diagnostics;
use std::collections::BTreeMap;

/// The catalog of these files, and its problems as `file:line:col: message` lines.
fn load(files: &[(&str, &str)]) -> (Catalog, Vec<String>) {
    let files: BTreeMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
    let mut diags = Diagnostics::default();
    let catalog = Catalog::from_files("cat", &files, &mut diags);
    (catalog, diags.sorted().iter().map(ToString::to_string).collect())
}

const BILLING: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  annotations:
    github.com/project-slug: acme/billing
spec:
  type: service
  owner: team-billing
  tier: 2
";

#[test]
fn every_missing_key_of_a_file_is_reported_in_one_run() {
    // No `kind`, no `metadata.name`, no `spec`: serde alone stops at the first.
    let text =
        "apiVersion: backstage.io/v1alpha1\nmetadata:\n  annotations:\n    github.com/project-slug: acme/billing\n";
    let (catalog, problems) = load(&[("services/billing.yaml", text)]);
    assert_eq!(
        problems,
        [
            "cat/services/billing.yaml:1:1: missing required key `kind`",
            "cat/services/billing.yaml:1:1: missing required key `spec`",
            "cat/services/billing.yaml:3:3: missing required key `name`",
        ]
    );
    assert!(catalog.services.is_empty());
}

#[test]
fn a_wrong_type_and_a_name_mismatch_are_both_reported() {
    let text = BILLING.replace("name: billing", "name: invoices").replace("tier: 2", "tier: two");
    let (_, problems) = load(&[("services/billing.yaml", &text)]);
    assert_eq!(
        problems,
        [
            "cat/services/billing.yaml:4:9: metadata.name `invoices` must match the file name `billing`",
            "cat/services/billing.yaml:10:9: expected a whole number, found the string `two`",
        ]
    );
}

#[test]
fn every_wrong_type_of_an_exception_is_reported_with_its_unknown_keys() {
    let text = "apiVersion: shipshape.dev/v1
kind: Exception
service: [payments]
rule: slo
reson: typo
expires: 2025-06-30
requested_by: 42
";
    let (catalog, problems) = load(&[("exceptions/payments/slo.yaml", text)]);
    assert_eq!(
        problems,
        [
            "cat/exceptions/payments/slo.yaml:1:1: missing required key `reason`",
            "cat/exceptions/payments/slo.yaml:3:10: expected a string, found a list",
            "cat/exceptions/payments/slo.yaml:5:1: unknown key `reson` (did you mean `reason`?); expected one of: \
             apiVersion, kind, service, rule, reason, expires, requested_by, requested_in",
            "cat/exceptions/payments/slo.yaml:7:15: expected a string, found the integer `42`",
        ]
    );
    assert!(catalog.exceptions.is_empty());
}

#[test]
fn likely_typos_in_an_entity_are_warnings_with_did_you_mean() {
    let text = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  lables: {team: billing}
  annotation:
    github.com/project-slug: acme/billing
spec:
  type: service
  ownr: team-billing
  teir: 1
  lifecycle: production
";
    let (catalog, problems) = load(&[("services/billing.yaml", text)]);
    assert_eq!(
        problems,
        [
            "cat/services/billing.yaml:5:3: warning: unknown key `metadata.lables`: did you mean `labels`? (shipshape \
             does not read it)",
            "cat/services/billing.yaml:6:3: warning: unknown key `metadata.annotation`: did you mean `annotations`? \
             (shipshape does not read it)",
            "cat/services/billing.yaml:10:3: warning: unknown key `spec.ownr`: did you mean `owner`? (shipshape does \
             not read it)",
            "cat/services/billing.yaml:11:3: warning: unknown key `spec.teir`: did you mean `tier`? (shipshape does \
             not read it)",
        ]
    );
    // Warnings: the service is in the catalog, just without what the misspelt keys meant.
    let billing = &catalog.services["billing"];
    assert_eq!((billing.owner.as_deref(), billing.tier, billing.repository.as_deref()), (None, None, None));
}

#[test]
fn misspelt_annotations_and_keys_at_the_wrong_level_are_warned_about() {
    let text = BILLING
        .replace("github.com/project-slug", "github.com/project-slg")
        .replace("  name: billing\n", "  name: billing\n  owner: team-billing\n");
    let (_, problems) = load(&[("services/billing.yaml", &text)]);
    let warnings: Vec<&String> = problems.iter().filter(|p| p.contains(": warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{problems:#?}");
    assert!(warnings[0].contains("5:3: warning: `owner` is read under `spec:`, not here"), "{problems:#?}");
    assert!(warnings[1].contains("did you mean `github.com/project-slug`?"), "{problems:#?}");
}

#[test]
fn keys_that_are_not_near_a_known_one_pass_in_silence() {
    // Backstage allows any key; these are not typos of anything shipshape reads.
    let text = BILLING.replace("spec:\n", "spec:\n  system: payments-platform\n  customField: 3\n");
    let (catalog, problems) = load(&[("services/billing.yaml", &text)]);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(catalog.services["billing"].tier, Some(2));
}

#[test]
fn two_files_for_one_service_and_two_exceptions_for_one_rule_are_errors_on_both() {
    let exception = "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: billing\nrule: slo\nreason: Migrating\nexpires: 2025-06-30\n";
    let (_, problems) = load(&[
        ("services/billing.yaml", BILLING),
        ("services/billing.yml", BILLING),
        ("exceptions/billing/slo.yaml", exception),
        ("exceptions/billing/slo.yml", exception),
    ]);
    let errors: Vec<&String> = problems.iter().filter(|p| p.contains("twice") || p.contains("a second")).collect();
    assert_eq!(errors.len(), 4, "{problems:#?}");
    assert!(errors[0].starts_with("cat/exceptions/billing/slo.yaml:4:7: a second exception"), "{problems:#?}");
    assert!(errors[3].starts_with("cat/services/billing.yml:1:1: service `billing` is defined twice"), "{problems:#?}");
    assert!(problems.iter().all(|p| !p.contains(": warning: ")));
}
