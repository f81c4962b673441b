//! Which level is reached when rules could not be judged (SPEC 2): a level needs at least one judged rule of its own,
//! unjudged rules at or below the level reached are `unverified`, and catalog rules without a catalog are skipped.

use super::*;

/// bronze `readme`, silver `bp` (GitHub), gold `oncall` (PagerDuty) and `slo` (a file).
fn staffed() -> Policy {
    policy(
        &[
            rule("readme", "bronze", "{file: {any: [README.md]}}"),
            rule("bp", "silver", "{branch_protection: {}}"),
            rule("runbook", "silver", "{file: {any: [RUNBOOK.md]}}"),
            rule("oncall", "gold", "{oncall: {}}"),
            rule("slo", "gold", "{file: {any: [slo.yaml]}}"),
        ]
        .concat(),
    )
}

#[test]
fn a_policy_whose_rules_are_all_skipped_reaches_no_level() {
    let p = policy(
        &[rule("bp", "bronze", "{branch_protection: {}}"), rule("vulns", "gold", "{vulnerability_alerts: {}}")]
            .concat(),
    );
    let card = Run::new(&p, repo(&[("README.md", "x")])).card();
    assert_eq!((status(&card, "bp"), status(&card, "vulns")), (Status::Skipped, Status::Skipped));
    assert_eq!(card.level, None, "nothing was checked, so nothing is reached");
    assert!(!card.meets_required);
    assert!(card.unverified.is_empty());
    assert!(
        card.notes.iter().any(|n| n == "level bronze is not reached: none of its rules could be judged (`bp`)"),
        "{:?}",
        card.notes
    );
}

#[test]
fn a_tier_one_service_whose_oncall_is_skipped_reaches_gold_with_it_unverified() {
    let p = staffed();
    let mut run = Run::new(&p, repo(&[("README.md", "x"), ("RUNBOOK.md", "x"), ("slo.yaml", "x")]));
    run.service = Some(service(Some(1)));
    let card = run.card();
    assert_eq!(status(&card, "oncall"), Status::Skipped, "{:?}", card.rule("oncall"));
    assert_eq!(card.level.as_deref(), Some("gold"));
    assert!(card.meets_required);
    assert_eq!(card.unverified, ["bp", "oncall"]);
    assert_eq!(card.unverified_suffix(), ", 2 rules unverified");
}

#[test]
fn unverified_lists_only_rules_at_or_below_the_level_reached() {
    let p = staffed();
    let mut run = Run::new(&p, repo(&[("README.md", "x"), ("RUNBOOK.md", "x")]));
    run.service = Some(service(Some(1)));
    let card = run.card();
    assert_eq!(status(&card, "slo"), Status::Fail);
    assert_eq!(card.level.as_deref(), Some("silver"));
    assert_eq!(card.unverified, ["bp"], "the skipped gold rule is above the level reached");
    assert_eq!(card.unverified_suffix(), ", 1 rule unverified");
}

#[test]
fn a_level_whose_only_rule_does_not_apply_is_not_reached() {
    let p = policy(
        &[
            rule("readme", "bronze", "{file: {any: [README.md]}}"),
            rule("api", "silver", "{file: {any: [openapi.yaml]}}") + "    when: {types: [service]}\n",
        ]
        .concat(),
    );
    let mut run = Run::new(&p, repo(&[("README.md", "x")]));
    let mut website = service(Some(3));
    website.kind = Some("website".into());
    run.service = Some(website);
    let card = run.card();
    assert!(card.rule("api").unwrap().does_not_apply());
    assert_eq!(card.level.as_deref(), Some("bronze"));
    assert!(card.unverified.is_empty(), "a rule that does not apply is not unverified");
    assert!(
        card.notes.iter().any(|n| n.contains("level silver is not reached: none of its rules applies")),
        "{:?}",
        card.notes
    );
}

#[test]
fn without_a_catalog_catalog_rules_are_skipped_and_with_one_a_missing_entry_fails() {
    let p = policy(
        &[
            rule("readme", "bronze", "{file: {any: [README.md]}}"),
            rule("owner", "bronze", "{catalog: {jq: '.spec.owner != null'}}"),
            rule("oncall", "gold", "{oncall: {}}"),
            rule("api", "silver", "{file: {any: [openapi.yaml]}}") + "    when: {types: [service]}\n",
        ]
        .concat(),
    );
    let mut run = Run::new(&p, repo(&[("README.md", "x"), ("openapi.yaml", "x")]));
    run.catalog_given = false;
    let card = run.card();
    for id in ["owner", "oncall", "api"] {
        let r = card.rule(id).unwrap();
        assert_eq!(r.status, Status::Skipped, "{r:?}");
        assert!(r.message.starts_with(NO_CATALOG), "{r:?}");
        assert!(!r.does_not_apply(), "unjudged, not out of scope: {r:?}");
    }
    assert_eq!(card.level.as_deref(), Some("bronze"));
    assert_eq!(card.unverified, ["owner"]);

    run.catalog_given = true;
    let card = run.card();
    assert_eq!(status(&card, "owner"), Status::Fail, "a catalog without an entry for the repository fails `owner`");
    assert!(card.rule("api").unwrap().does_not_apply());
    assert_eq!(card.level, None);
}
