//! Files with errors are left out of the catalog and named in notes; the rest of the catalog is kept.

use crate::catalog::Catalog;
use crate::diag::Diagnostics;
use std::collections::BTreeMap;

fn service(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    \
         github.com/project-slug: acme/{name}\nspec:\n  type: service\n  owner: team-{name}\n  tier: 2\n"
    )
}

fn exception(service: &str, rule: &str, expires: &str) -> String {
    format!(
        "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: {service}\nrule: {rule}\nreason: Migrating\n\
         expires: {expires}\n"
    )
}

/// The catalog of `files` after its files with errors were left out.
fn left_out(files: &[(&str, String)]) -> (Catalog, Diagnostics) {
    let files: BTreeMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.clone())).collect();
    let mut diags = Diagnostics::default();
    let mut catalog = Catalog::from_files("", &files, &mut diags);
    catalog.leave_out(&diags);
    (catalog, diags)
}

#[test]
fn the_files_with_errors_are_left_out_and_the_rest_kept() {
    let (catalog, diags) = left_out(&[
        ("services/payments.yaml", service("payments")),
        // Missing `spec` (and so its tier and owner), but its repository can still be read.
        ("services/billing.yaml", service("billing").split("spec:").next().unwrap().to_string()),
        // A header error alone used to leave the file in.
        ("services/search.yaml", service("search").replace("kind: Component", "kind: API")),
        ("exceptions/payments/slo.yaml", exception("payments", "slo", "2025-06-30")),
        ("exceptions/payments/alerts.yaml", exception("payments", "alerts", "someday")),
    ]);
    assert!(diags.has_errors());
    assert_eq!(catalog.services.keys().collect::<Vec<_>>(), ["payments"]);
    assert_eq!(catalog.exceptions.iter().map(|e| e.rule.as_str()).collect::<Vec<_>>(), ["slo"]);
    let files: Vec<&str> = catalog.left_out.iter().map(|l| l.file.as_str()).collect();
    assert_eq!(files, ["exceptions/payments/alerts.yaml", "services/billing.yaml", "services/search.yaml"]);
    let billing = catalog.left_out_entry(None, Some("ACME/billing")).expect("found by its repository");
    assert_eq!(billing.problem, "1:1: missing required key `spec`");
    assert_eq!(catalog.left_out_entry(Some("search"), None).map(|l| l.file.as_str()), Some("services/search.yaml"));
    assert!(catalog.left_out_entry(Some("payments"), Some("acme/payments")).is_none());
}

#[test]
fn notes_name_the_own_entry_and_the_other_files() {
    let (catalog, _) = left_out(&[
        ("services/payments.yaml", service("payments")),
        ("services/billing.yaml", service("billing").replace("tier: 2", "tier: [2]")),
        ("exceptions/payments/alerts.yaml", exception("payments", "alerts", "someday")),
    ]);
    // Billing's own repository: its entry first, then the others.
    let notes = catalog.left_out_notes("acme/catalog", None, None, Some("acme/billing"));
    assert_eq!(
        notes,
        [
            "the catalog entry services/billing.yaml has errors and was left out (10:9: expected a whole number, \
             found a list): scored as if the service had no entry",
            "catalog files in acme/catalog with errors were left out (`shipshape validate` lists every problem): \
             exceptions/payments/alerts.yaml (6:10: expires must be a date written YYYY-MM-DD, found `someday`)",
        ]
    );
    // Payments was scored with its entry: only the list.
    let payments = &catalog.services["payments"];
    let notes = catalog.left_out_notes("acme/catalog", Some(payments), None, Some("acme/payments"));
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("services/billing.yaml (10:9: expected a whole number, found a list)"), "{notes:?}");
}

#[test]
fn the_note_names_a_few_files_and_counts_the_rest() {
    let mut files = vec![("services/payments.yaml", service("payments"))];
    let names: Vec<String> = (0..8).map(|i| format!("services/broken-{i}.yaml")).collect();
    for name in &names {
        files.push((name.as_str(), "apiVersion: backstage.io/v1alpha1\n".to_string()));
    }
    let (catalog, _) = left_out(&files);
    let notes = catalog.left_out_notes("cat", None, None, None);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].matches("services/broken-").count(), crate::catalog::NOTE_FILES);
    assert!(notes[0].ends_with(" and 3 more"), "{notes:?}");
}

#[test]
fn a_clean_catalog_has_no_notes() {
    let (catalog, diags) = left_out(&[("services/payments.yaml", service("payments"))]);
    assert!(!diags.has_errors());
    assert!(catalog.left_out.is_empty());
    assert!(catalog.left_out_notes("cat", None, Some("payments"), None).is_empty());
}
