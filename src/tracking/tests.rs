use super::*;
use crate::engine::testing::{card, rule};
use crate::engine::{ExceptionInfo, Scorecard, Status};
use crate::policy::Policy;
use chrono::NaiveDate;
use std::collections::BTreeMap;

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

fn policy(initiatives: &str) -> Policy {
    let text = format!(
        "apiVersion: shipshape.dev/v1\nkind: Scorecard\ndefault_tier: 3\ntiers:\n  1: {{requires: gold, deadline_days: 14}}\n  2: {{requires: silver, deadline_days: 30}}\n  3: {{requires: bronze}}\nrules:\n  - {{id: readme, title: Has readme, level: bronze, remediation: Add it, check: {{file: {{any: [README.md]}}}}}}\n  - {{id: runbook, title: Has runbook, level: silver, remediation: Add it, check: {{file: {{any: [RUNBOOK.md]}}}}}}\n  - {{id: slo, title: Has slo, level: gold, remediation: Add it, check: {{file: {{any: [slo.yaml]}}}}}}\n{initiatives}"
    );
    let mut diags = crate::diag::Diagnostics::default();
    Policy::parse("test.yaml", &text, &mut diags).unwrap_or_else(|| panic!("policy: {diags:?}"))
}

struct Run<'a> {
    policy: &'a Policy,
    state: TrackingState,
    issue_open: Option<bool>,
    since: BTreeMap<String, NaiveDate>,
}

impl Run<'_> {
    fn step(&mut self, today: &str, card: &Scorecard) -> Plan {
        let plan = plan(&PlanInput {
            card,
            policy: self.policy,
            today: day(today),
            failing_since: &self.since,
            previous: &self.state,
            issue_open: self.issue_open,
        });
        self.state = plan.state.clone();
        self.issue_open = match plan.issue {
            IssueAction::None => self.issue_open,
            IssueAction::Create | IssueAction::Reopen => Some(true),
            IssueAction::Close => Some(false),
            IssueAction::Keep => self.issue_open,
        };
        plan
    }
}

#[test]
fn a_first_failure_opens_one_task_per_required_failing_rule_with_its_due_date() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    run.since.insert("runbook".into(), day("2026-11-01"));
    let card = card(vec![
        rule("readme", "bronze", Status::Pass, true),
        rule("runbook", "silver", Status::Fail, true),
        rule("slo", "gold", Status::Fail, false),
    ]);
    let plan = run.step("2026-11-10", &card);
    assert_eq!(plan.issue, IssueAction::Create);
    assert_eq!(plan.tasks, [TaskAction::Open { rule: "runbook".into(), reopen: false }]);
    let task = &plan.state.tasks["runbook"];
    // Tier 2: 30 days from the first failure in the history.
    assert_eq!((task.failing_since, task.due), (day("2026-11-01"), day("2026-12-01")));
    assert!(!plan.state.tasks.contains_key("slo"), "gold is not required at tier 2");

    // Nothing changed: nothing to write.
    let again = run.step("2026-11-11", &card);
    assert!(again.is_quiet(), "{again:?}");
    assert_eq!(again.issue, IssueAction::Keep);
}

#[test]
fn fixing_closes_the_task_and_then_the_issue_and_a_regression_reopens_both() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    let failing =
        card(vec![rule("readme", "bronze", Status::Fail, true), rule("runbook", "silver", Status::Fail, true)]);
    run.step("2026-11-01", &failing);
    run.state.tasks.get_mut("readme").unwrap().issue = Some(11);
    run.state.tasks.get_mut("runbook").unwrap().issue = Some(12);

    let one_fixed =
        card(vec![rule("readme", "bronze", Status::Pass, true), rule("runbook", "silver", Status::Fail, true)]);
    let plan = run.step("2026-11-02", &one_fixed);
    assert_eq!(plan.issue, IssueAction::Keep);
    let commit = one_fixed.commit.clone();
    assert_eq!(plan.tasks, [TaskAction::Close { rule: "readme".into(), reason: CloseReason::Fixed { commit } }]);

    let all_fixed =
        card(vec![rule("readme", "bronze", Status::Pass, true), rule("runbook", "silver", Status::Pass, true)]);
    let plan = run.step("2026-11-03", &all_fixed);
    assert_eq!(plan.issue, IssueAction::Close);
    assert_eq!(plan.tasks.len(), 1);

    run.since.insert("runbook".into(), day("2026-11-20"));
    let plan = run.step("2026-11-20", &one_fixed);
    assert_eq!(plan.issue, IssueAction::Reopen);
    assert_eq!(plan.tasks, [TaskAction::Open { rule: "runbook".into(), reopen: true }]);
    let task = &plan.state.tasks["runbook"];
    assert_eq!((task.issue, task.due, task.reminders), (Some(12), day("2026-12-20"), 0));
}

#[test]
fn overdue_tasks_are_reminded_on_the_backoff_schedule_never_daily() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    run.since.insert("runbook".into(), day("2026-10-01"));
    let failing = card(vec![rule("runbook", "silver", Status::Fail, true)]);
    run.step("2026-10-01", &failing); // due 2026-10-31
    let mut reminded = Vec::new();
    let mut date = day("2026-10-01");
    while date <= day("2027-01-31") {
        let plan = run.step(&date.to_string(), &failing);
        for action in &plan.tasks {
            if let TaskAction::Remind { days_overdue, .. } = action {
                reminded.push(*days_overdue);
            }
        }
        date += chrono::TimeDelta::days(1);
    }
    assert_eq!(reminded, [1, 3, 7, 14, 28, 42, 56, 70, 84]);
    assert_eq!(reminders_due(0), 0);
    assert_eq!(reminders_due(2), 1);
}

#[test]
fn a_missed_schedule_sends_one_reminder_not_several() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    let failing = card(vec![rule("runbook", "silver", Status::Fail, true)]);
    run.step("2026-10-01", &failing);
    let plan = run.step("2026-11-20", &failing); // 20 days overdue, nothing sent before
    assert_eq!(plan.tasks, [TaskAction::Remind { rule: "runbook".into(), days_overdue: 20 }]);
    assert_eq!(plan.state.tasks["runbook"].reminders, 4);
    assert!(run.step("2026-11-21", &failing).tasks.is_empty());
}

#[test]
fn an_exception_closes_as_not_planned_warns_before_expiry_and_the_rule_counts_again_after() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    let failing =
        card(vec![rule("readme", "bronze", Status::Fail, true), rule("runbook", "silver", Status::Fail, true)]);
    run.step("2026-11-01", &failing);
    let mut excepted_rule = rule("runbook", "silver", Status::Excepted, true);
    excepted_rule.exception = Some(ExceptionInfo {
        reason: "migrating".into(),
        expires: "2026-11-30".into(),
        approved_in: "https://github.com/acme/catalog/pull/7".into(),
    });
    let excepted = card(vec![rule("readme", "bronze", Status::Fail, true), excepted_rule]);
    let plan = run.step("2026-11-05", &excepted);
    let TaskAction::Close { reason, .. } = &plan.tasks[0] else { panic!("{plan:?}") };
    assert_eq!(reason.state_reason(), "not_planned");
    assert!(plan.warnings.is_empty());
    assert!(run.step("2026-11-26", &excepted).warnings.is_empty(), "4 days ahead is too early");
    let plan = run.step("2026-11-27", &excepted);
    assert_eq!(plan.warnings.len(), 1);
    assert_eq!(plan.warnings[0].expires, day("2026-11-30"));
    assert!(run.step("2026-11-28", &excepted).warnings.is_empty(), "warned once");

    run.since.insert("runbook".into(), day("2026-12-01"));
    let plan = run.step("2026-12-01", &failing);
    assert_eq!(plan.tasks, [TaskAction::Open { rule: "runbook".into(), reopen: false }]);
    assert_eq!(plan.state.tasks["runbook"].due, day("2026-12-31"));
}

#[test]
fn initiatives_add_their_rules_with_the_initiative_deadline_when_earlier() {
    let policy = policy(
        "initiatives:\n  - {id: slo-push, title: SLOs everywhere, deadline: 2026-11-15, rules: [slo, runbook]}\n",
    );
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    let failing = card(vec![rule("runbook", "silver", Status::Fail, true), rule("slo", "gold", Status::Fail, false)]);
    let plan = run.step("2026-11-01", &failing);
    assert_eq!(plan.state.tasks["slo"].due, day("2026-11-15"), "initiative-only rule");
    assert_eq!(plan.state.tasks["runbook"].due, day("2026-11-15"), "earlier than 2026-12-01");
    let body = text::issue_body(&failing, &policy, &plan.state, day("2026-11-01")).unwrap();
    assert!(body.contains("**SLOs everywhere**: 0 of 2 rules done, deadline 2026-11-15"), "{body}");
}

#[test]
fn a_rule_no_longer_required_is_closed_as_not_planned() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    run.step("2026-11-01", &card(vec![rule("runbook", "silver", Status::Fail, true)]));
    let plan = run.step("2026-11-02", &card(vec![rule("runbook", "silver", Status::Fail, false)]));
    let TaskAction::Close { reason: CloseReason::NotRequired { .. }, .. } = &plan.tasks[0] else { panic!("{plan:?}") };
    assert_eq!(plan.issue, IssueAction::Close);
}

#[test]
fn unknown_statuses_leave_tasks_alone() {
    let policy = policy("");
    let mut run = Run { policy: &policy, state: TrackingState::default(), issue_open: None, since: BTreeMap::new() };
    run.step("2026-11-01", &card(vec![rule("runbook", "silver", Status::Fail, true)]));
    let plan = run.step("2026-11-02", &card(vec![rule("runbook", "silver", Status::Error, true)]));
    assert!(plan.is_quiet() && plan.state.tasks["runbook"].open);
}

#[test]
fn the_state_survives_the_issue_body_and_its_marker_cannot_be_broken_out_of() {
    let policy = policy("");
    let mut state = TrackingState { service: "pay-->ments <b>".into(), ..TrackingState::default() };
    let failing = card(vec![rule("runbook", "silver", Status::Fail, true)]);
    state = plan(&PlanInput {
        card: &failing,
        policy: &policy,
        today: day("2026-11-01"),
        failing_since: &BTreeMap::new(),
        previous: &state,
        issue_open: None,
    })
    .state;
    state.expiry_warnings.insert("x-->y".into());
    let body = text::issue_body(&failing, &policy, &state, day("2026-11-01")).unwrap();
    let marker = body.lines().last().unwrap();
    assert!(marker.starts_with("<!-- shipshape:tracking ") && marker.ends_with(" -->"));
    assert_eq!(marker.matches("--").count(), 2, "{marker}");
    assert!(!marker[4..marker.len() - 3].contains('>'));
    assert_eq!(TrackingState::from_body(&body), Some(state));
    assert_eq!(TrackingState::from_body("no marker"), None);
    let sub = text::task_body(&failing, &policy, "runbook", &plan_task(), None).unwrap();
    assert_eq!(state::parse_rule_marker(&sub), Some(("payments".into(), "runbook".into())));
}

fn plan_task() -> Task {
    Task {
        title: "Has runbook".into(),
        issue: None,
        issue_id: None,
        attached: false,
        open: true,
        failing_since: day("2026-11-01"),
        due: day("2026-12-01"),
        reminders: 0,
        overdue_label: false,
        closed: None,
    }
}

#[test]
fn titles_bodies_and_mentions() {
    let policy = policy("");
    let mut failing = card(vec![rule("runbook", "silver", Status::Fail, true)]);
    assert_eq!(text::issue_title(&failing), "Production readiness: Bronze, tier 2 requires Silver");
    failing.level = None;
    assert_eq!(text::issue_title(&failing), "Production readiness: below Bronze, tier 2 requires Silver");
    assert_eq!(text::task_title(&plan_task()), "Readiness: Has runbook (due 2026-12-01)");

    assert_eq!(text::owner_mention("group:default/payments-team", "acme").as_deref(), Some("@acme/payments-team"));
    assert_eq!(text::owner_mention("payments", "acme").as_deref(), Some("@acme/payments"));
    assert_eq!(text::owner_mention("user:default/alice", "acme").as_deref(), Some("@alice"));
    assert_eq!(text::owner_mention("group:pay ments", "acme"), None);
    assert_eq!(text::owner_mention("resource:db", "acme"), None);

    // User text never pings or renders HTML; the mention is only where shipshape put it.
    let mut evil = rule("runbook", "silver", Status::Fail, true);
    evil.title = "@acme/everyone <img src=x>".into();
    evil.message = "see @octocat".into();
    let card = card(vec![evil]);
    let mut task = plan_task();
    task.title = card.rules[0].title.clone();
    let body = text::task_body(&card, &policy, "runbook", &task, Some("@acme/payments-team".into())).unwrap();
    assert!(body.starts_with("@acme/payments-team: "), "{body}");
    assert!(!body.contains("@acme/everyone") && !body.contains("<img") && !body.contains("@octocat"), "{body}");
    let reminder = text::overdue_comment("runbook", &task, 3, None, false).unwrap();
    assert!(reminder.contains("was due on 2026-12-01 and is 3 day(s) overdue"), "{reminder}");
    assert!(reminder.contains("next reminder comes on 2026-12-02"), "{reminder}");
}
