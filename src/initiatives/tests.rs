use super::*;
use crate::engine::{RuleResult, Summary};
use serde_json::json;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
}

/// A scorecard of `service` (repository `acme/<service>`, or `repository` for none) owned by `owner`, with these
/// rule statuses and messages.
fn card(service: Option<&str>, owner: Option<&str>, rules: &[(&str, Status, &str)]) -> Scorecard {
    Scorecard {
        service: service.map(String::from),
        repository: service.map_or_else(|| "local/repo".to_string(), |s| format!("acme/{s}")),
        tier: 3,
        required_level: "bronze".into(),
        level: None,
        meets_required: false,
        rules: rules
            .iter()
            .map(|(id, status, message)| RuleResult {
                id: id.to_string(),
                title: format!("Title of {id}"),
                level: "bronze".into(),
                status: *status,
                message: message.to_string(),
                evidence: vec![],
                exception: None,
                remediation: String::new(),
                required: true,
            })
            .collect(),
        summary: Summary::default(),
        owner: owner.map(String::from),
        commit: None,
        levels: vec!["bronze".into()],
        notes: vec![],
        unverified: vec![],
    }
}

fn initiative(id: &str, deadline: &str, rules: &[&str]) -> Initiative {
    Initiative {
        id: id.into(),
        title: format!("Initiative {id}"),
        deadline: date(deadline),
        rules: rules.iter().map(|r| r.to_string()).collect(),
    }
}

fn ids(rules: &[&str]) -> Vec<String> {
    rules.iter().map(|r| r.to_string()).collect()
}

use Status::{Error, Excepted, Fail, Pass, Skipped};

const NA: &str = "does not apply: only for tiers 1, 2";
const NO_TOKEN: &str = "GitHub facts need SHIPSHAPE_GITHUB_TOKEN (or the GitHub App)";

// --------------------------------------------------------------------------------------------------------- standing

#[test]
fn pass_excepted_and_not_applicable_are_done() {
    let c = card(Some("a"), None, &[("x", Pass, ""), ("y", Excepted, "covered"), ("z", Skipped, NA)]);
    assert_eq!(standing(&c, &ids(&["x", "y", "z"])), Standing::Done);
}

#[test]
fn a_failing_rule_makes_the_service_failing_even_beside_unknown_ones() {
    let c = card(Some("a"), None, &[("x", Fail, "no"), ("y", Error, "timeout"), ("z", Fail, "no")]);
    assert_eq!(standing(&c, &ids(&["x", "y", "z"])), Standing::Failing(ids(&["x", "z"])));
}

#[test]
fn skipped_for_a_missing_tool_error_and_missing_rules_are_unknown() {
    let c = card(Some("a"), None, &[("x", Skipped, NO_TOKEN), ("y", Error, "502"), ("z", Pass, "")]);
    assert_eq!(standing(&c, &ids(&["x", "y", "z", "gone"])), Standing::Unknown(ids(&["x", "y", "gone"])));
}

#[test]
fn only_the_initiative_rules_count() {
    let c = card(Some("a"), None, &[("x", Pass, ""), ("other", Fail, "no")]);
    assert_eq!(standing(&c, &ids(&["x"])), Standing::Done);
}

// --------------------------------------------------------------------------------------------------------- progress

/// Four services of two teams and one without owner, against rules `owner` and `ci`:
/// - payments (team-a): both pass → done
/// - checkout (team-a): `ci` fails → failing
/// - search (team-b): `owner` excepted, `ci` does not apply → done
/// - local/repo (no owner, no catalog entry): `owner` fails, `ci` skipped (no token) → failing
/// - ledger (team-b): `ci` in error → unknown
fn fleet() -> Vec<Scorecard> {
    vec![
        card(Some("payments"), Some("team-a"), &[("owner", Pass, ""), ("ci", Pass, "")]),
        card(Some("search"), Some("team-b"), &[("owner", Excepted, "covered"), ("ci", Skipped, NA)]),
        card(None, None, &[("owner", Fail, "no catalog entry"), ("ci", Skipped, NO_TOKEN)]),
        card(Some("checkout"), Some("team-a"), &[("owner", Pass, ""), ("ci", Fail, "no workflow")]),
        card(Some("ledger"), Some("team-b"), &[("owner", Pass, ""), ("ci", Error, "GitHub answered 502")]),
    ]
}

#[test]
fn services_are_counted_done_failing_and_unknown() {
    let p = progress(&fleet(), &[initiative("q1", "2025-03-31", &["owner", "ci"])], date("2025-06-01"));
    let i = &p.initiatives[0];
    assert_eq!(i.services, Counts { total: 5, done: 2, failing: 2, unknown: 1 });
    assert_eq!(
        i.rules,
        vec![
            RuleProgress { id: "owner".into(), title: "Title of owner".into(), failing: 1, unknown: 0 },
            RuleProgress { id: "ci".into(), title: "Title of ci".into(), failing: 1, unknown: 2 },
        ]
    );
}

#[test]
fn teams_by_owner_with_their_failing_and_unknown_services() {
    let p = progress(&fleet(), &[initiative("q1", "2025-03-31", &["owner", "ci"])], date("2025-06-01"));
    let gap = |service: Option<&str>, repository: &str, rules: &[&str]| ServiceRules {
        service: service.map(String::from),
        repository: repository.into(),
        rules: ids(rules),
    };
    assert_eq!(
        p.initiatives[0].teams,
        vec![
            TeamProgress {
                team: Some("team-a".into()),
                total: 2,
                done: 1,
                failing: vec![gap(Some("checkout"), "acme/checkout", &["ci"])],
                unknown: vec![],
            },
            TeamProgress {
                team: Some("team-b".into()),
                total: 2,
                done: 1,
                failing: vec![],
                unknown: vec![gap(Some("ledger"), "acme/ledger", &["ci"])],
            },
            // Failing `owner` decides; the unknown `ci` is not listed.
            TeamProgress {
                team: None,
                total: 1,
                done: 0,
                failing: vec![gap(None, "local/repo", &["owner"])],
                unknown: vec![],
            },
        ]
    );
}

#[test]
fn failing_services_of_a_team_are_sorted_by_name() {
    let cards =
        vec![card(Some("zeta"), Some("t"), &[("x", Fail, "")]), card(Some("alpha"), Some("t"), &[("x", Fail, "")])];
    let p = progress(&cards, &[initiative("i", "2025-01-01", &["x"])], date("2025-01-01"));
    let names: Vec<&str> = p.initiatives[0].teams[0].failing.iter().map(ServiceRules::name).collect();
    assert_eq!(names, ["alpha", "zeta"]);
}

#[test]
fn an_exception_counts_as_done() {
    let cards = vec![card(Some("a"), Some("t"), &[("slo", Excepted, "failing, excepted")])];
    let p = progress(&cards, &[initiative("i", "2025-01-01", &["slo"])], date("2025-02-01"));
    let i = &p.initiatives[0];
    assert_eq!(i.services, Counts { total: 1, done: 1, failing: 0, unknown: 0 });
    assert_eq!(i.rules[0].failing, 0);
    assert!(!i.overdue);
    assert!(!p.has_overdue_work());
}

#[test]
fn initiatives_keep_policy_order_and_each_counts_its_own_rules() {
    let initiatives = [initiative("later", "2025-12-31", &["ci"]), initiative("first", "2025-01-31", &["owner"])];
    let p = progress(&fleet(), &initiatives, date("2025-06-01"));
    let order: Vec<&str> = p.initiatives.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(order, ["later", "first"]);
    assert_eq!(p.initiatives[0].services, Counts { total: 5, done: 2, failing: 1, unknown: 2 });
    assert_eq!(p.initiatives[1].services, Counts { total: 5, done: 4, failing: 1, unknown: 0 });
}

#[test]
fn rule_title_falls_back_to_the_id() {
    let p = progress(&[], &[initiative("i", "2025-01-01", &["ghost"])], date("2025-01-01"));
    assert_eq!(p.initiatives[0].rules[0].title, "ghost");
    assert_eq!(p.initiatives[0].services, Counts::default());
    assert!(p.initiatives[0].teams.is_empty());
}

// ------------------------------------------------------------------------------------------------- days and overdue

#[test]
fn days_left_count_from_the_injected_date() {
    let failing = vec![card(Some("a"), Some("t"), &[("x", Fail, "")])];
    let at =
        |today: &str| progress(&failing, &[initiative("i", "2025-03-31", &["x"])], date(today)).initiatives[0].clone();

    let before = at("2025-03-01");
    assert_eq!((before.days_left, before.overdue), (30, false));
    assert_eq!(due_phrase(&before), "30 days left");
    assert_eq!(due_phrase(&at("2025-03-30")), "1 day left");

    // The deadline day is still in time.
    let on = at("2025-03-31");
    assert_eq!((on.days_left, on.overdue), (0, false));
    assert_eq!(due_phrase(&on), "due today");

    let after = at("2025-04-01");
    assert_eq!((after.days_left, after.overdue), (-1, true));
    assert_eq!(due_phrase(&after), "overdue by 1 day");
    assert_eq!(due_phrase(&at("2025-06-01")), "overdue by 62 days");
}

#[test]
fn a_passed_deadline_is_overdue_only_with_failing_services() {
    let done = vec![card(Some("a"), Some("t"), &[("x", Pass, "")])];
    let p = progress(&done, &[initiative("i", "2025-03-31", &["x"])], date("2025-04-10"));
    assert_eq!((p.initiatives[0].days_left, p.initiatives[0].overdue), (-10, false));
    assert_eq!(due_phrase(&p.initiatives[0]), "deadline passed 10 days ago");
    assert!(!p.has_overdue_work());

    // Unknown is not failing: reported, never an overdue failure.
    let unknown = vec![card(Some("a"), Some("t"), &[("x", Skipped, NO_TOKEN)])];
    let p = progress(&unknown, &[initiative("i", "2025-03-31", &["x"])], date("2025-04-10"));
    assert_eq!(p.initiatives[0].services.unknown, 1);
    assert!(!p.has_overdue_work());
}

#[test]
fn overdue_work_is_any_overdue_initiative() {
    let initiatives = [initiative("past", "2025-01-31", &["owner"]), initiative("future", "2025-12-31", &["ci"])];
    let p = progress(&fleet(), &initiatives, date("2025-06-01"));
    assert!(p.initiatives[0].overdue);
    assert!(!p.initiatives[1].overdue, "failing services before the deadline are not overdue");
    assert!(p.has_overdue_work());
    let p = progress(&fleet(), &initiatives[1..], date("2025-06-01"));
    assert!(!p.has_overdue_work());
}

// ------------------------------------------------------------------------------------------------------- JSON, text

#[test]
fn json_shape() {
    let cards = vec![card(Some("a"), Some("t"), &[("x", Fail, "")]), card(Some("b"), None, &[("x", Error, "")])];
    let p = progress(&cards, &[initiative("i", "2025-03-31", &["x"])], date("2025-04-02"));
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({
            "as_of": "2025-04-02",
            "initiatives": [{
                "id": "i",
                "title": "Initiative i",
                "deadline": "2025-03-31",
                "days_left": -2,
                "overdue": true,
                "services": {"total": 2, "done": 0, "failing": 1, "unknown": 1},
                "rules": [{"id": "x", "title": "Title of x", "failing": 1, "unknown": 1}],
                "teams": [
                    {"team": "t", "total": 1, "done": 0,
                     "failing": [{"service": "a", "repository": "acme/a", "rules": ["x"]}], "unknown": []},
                    {"team": null, "total": 1, "done": 0,
                     "failing": [], "unknown": [{"service": "b", "repository": "acme/b", "rules": ["x"]}]},
                ],
            }],
        })
    );
}

#[test]
fn text_has_a_block_per_initiative_and_a_team_table() {
    let initiatives = [initiative("past", "2025-01-31", &["owner", "ci"]), initiative("future", "2025-12-31", &["ci"])];
    let p = progress(&fleet(), &initiatives, date("2025-06-01"));
    let text = render_text(&p, false);
    let expected = "\
Initiatives as of 2025-06-01 (5 services)

Initiative past (past)
  deadline 2025-01-31: overdue by 121 days
  2 of 5 services done, 2 failing, 1 unknown
  RULE   FAILING  UNKNOWN  TITLE
  owner  1        0        Title of owner
  ci     1        2        Title of ci

Initiative future (future)
  deadline 2025-12-31: 213 days left
  2 of 5 services done, 1 failing, 2 unknown
  RULE  FAILING  UNKNOWN  TITLE
  ci    1        2        Title of ci

Teams
  TEAM        INITIATIVE  DONE  NOT DONE      RULES
  team-a      past        1/2   ✗ checkout    ci
  team-a      future      1/2   ✗ checkout    ci
  team-b      past        1/2   ? ledger      ci
  team-b      future      1/2   ? ledger      ci
  (no owner)  past        0/1   ✗ local/repo  owner
  (no owner)  future      0/1   ? local/repo  ci

overdue: past (2 services failing)
";
    assert_eq!(text, expected, "\n{text}");
    assert!(!text.contains('\x1b'));
}

#[test]
fn text_lists_every_gap_of_a_team_and_says_when_nothing_is_overdue() {
    let cards = vec![
        card(Some("b"), Some("t"), &[("x", Fail, ""), ("y", Fail, "")]),
        card(Some("a"), Some("t"), &[("x", Fail, ""), ("y", Pass, "")]),
        card(Some("c"), Some("u"), &[("x", Pass, ""), ("y", Pass, "")]),
    ];
    let p = progress(&cards, &[initiative("i", "2025-12-31", &["x", "y"])], date("2025-12-31"));
    let text = render_text(&p, false);
    assert!(text.contains("  deadline 2025-12-31: due today\n"), "{text}");
    assert!(
        text.contains(
            "  TEAM  INITIATIVE  DONE  NOT DONE  RULES\n  t     i           0/2   ✗ a       x\n                          ✗ b       x, y\n  u     i           1/1\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("\nno overdue work\n"), "{text}");
}

#[test]
fn text_colours_only_when_asked_and_strips_control_characters() {
    let cards = vec![card(Some("evil\x1b[2J"), Some("t"), &[("x", Fail, "")])];
    let p = progress(&cards, &[initiative("i", "2025-01-01", &["x"])], date("2025-02-01"));
    let plain = render_text(&p, false);
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(plain.contains("✗ evil[2J"), "{plain}");
    let coloured = render_text(&p, true);
    assert!(coloured.contains("\x1b[31mdeadline 2025-01-01: overdue by 31 days\x1b[0m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[31m✗ evil[2J\x1b[0m"), "{coloured:?}");
}
