use super::*;

const SERVICE: &str = "\
# The payments API. Owned by the payments team.
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations:
    github.com/project-slug: acme/payments   # the repository
spec:
  type: service
  owner: team-payments
  tier: 2    # criticality, reviewed by SRE
  lifecycle: production
";

fn changed_lines(before: &str, after: &str) -> Vec<(String, String)> {
    before.lines().zip(after.lines()).filter(|(a, b)| a != b).map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn a_tier_is_replaced_in_place_keeping_comments_and_layout() {
    let edited = set_tier("services/payments.yaml", SERVICE, 1).unwrap();
    assert_eq!(edited.lines().count(), SERVICE.lines().count());
    assert_eq!(
        changed_lines(SERVICE, &edited),
        vec![(
            "  tier: 2    # criticality, reviewed by SRE".into(),
            "  tier: 1    # criticality, reviewed by SRE".into()
        )]
    );
}

#[test]
fn a_quoted_or_multi_digit_tier_is_replaced_whole() {
    let text = SERVICE.replace("tier: 2    #", "tier: 12 #");
    let edited = set_tier("s.yaml", &text, 3);
    // Tier 12 parses; the edit replaces both digits.
    assert!(edited.unwrap().contains("  tier: 3 # criticality"));
}

#[test]
fn a_missing_tier_is_added_as_the_first_key_of_spec() {
    let text = SERVICE.replace("  tier: 2    # criticality, reviewed by SRE\n", "");
    let edited = set_tier("services/payments.yaml", &text, 1).unwrap();
    assert_eq!(edited, text.replace("spec:\n", "spec:\n  tier: 1\n"));
}

#[test]
fn crlf_files_keep_their_line_endings() {
    let text = SERVICE.replace("  tier: 2    # criticality, reviewed by SRE\n", "").replace('\n', "\r\n");
    let edited = set_tier("s.yaml", &text, 3).unwrap();
    assert!(edited.contains("spec:\r\n  tier: 3\r\n  type: service\r\n"), "{edited:?}");
    let in_place = set_tier("s.yaml", &SERVICE.replace('\n', "\r\n"), 3).unwrap();
    assert!(in_place.contains("  tier: 3    # criticality, reviewed by SRE\r\n"), "{in_place:?}");
}

#[test]
fn flow_mappings_and_missing_spec_are_refused_not_rewritten() {
    let flow = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {owner: a, tier: 2}\n";
    assert!(matches!(set_tier("s.yaml", flow, 1), Err(EditError::NotEditable { .. })));
    let no_spec = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n";
    let err = set_tier("s.yaml", no_spec, 1).unwrap_err();
    assert_eq!(err.to_string(), "s.yaml: there is no `spec` mapping; change the tier by hand");
    let broken = "spec:\n  tier: [1\n";
    assert!(matches!(set_tier("s.yaml", broken, 1), Err(EditError::Unreadable { .. })));
}

#[test]
fn an_edit_that_would_change_more_than_the_tier_is_caught() {
    // A tier written as a plain scalar that continues on the next line cannot be replaced token-wise.
    let text = SERVICE.replace("tier: 2    # criticality, reviewed by SRE", "tier: 2\n    3");
    match set_tier("s.yaml", &text, 1) {
        Err(EditError::Verification { .. } | EditError::NotEditable { .. }) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn request(reason: &str) -> ExceptionRequest {
    ExceptionRequest {
        service: "payments".into(),
        rule: "oncall".into(),
        reason: reason.into(),
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        requested_by: "octocat".into(),
        requested_in: "https://github.com/acme/payments/pull/7#issuecomment-1".into(),
    }
}

#[test]
fn an_exception_file_reads_back_as_exactly_the_request() {
    let text = exception_file(&request("rotation starts in January")).unwrap();
    let mut diags = Diagnostics::default();
    let (parsed, _) = yaml::load::<ExceptionFile>("x.yaml", &text, &mut diags).expect("parses");
    assert_eq!(*parsed.api_version, "shipshape.dev/v1");
    assert_eq!(*parsed.kind, "Exception");
    assert_eq!(*parsed.expires, "2026-12-31");
    assert_eq!(parsed.reason, "rotation starts in January");
    assert_eq!(exception_path("payments", "oncall"), "exceptions/payments/oncall.yaml");
}

#[test]
fn user_text_stays_data_whatever_it_looks_like() {
    for reason in [
        "key: value # not a comment",
        "- a list item",
        "'quoted' and \"double\"",
        "---",
        "!!python/object:os.system",
        "&anchor *alias",
        "{flow: map}",
        "trailing spaces   ",
        "yes",
        "2026-01-01",
        "null",
        "@team please look",
        "<script>alert(1)</script>",
        "multi\nline\n\nreason",
        "tab\there",
        "ünïcödé — ✓",
    ] {
        let text = exception_file(&request(reason)).unwrap_or_else(|e| panic!("{reason:?}: {e}"));
        let mut diags = Diagnostics::default();
        let (parsed, _) = yaml::load::<ExceptionFile>("x.yaml", &text, &mut diags).expect("parses");
        assert_eq!(parsed.reason, reason, "{text}");
    }
}
