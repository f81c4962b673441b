//! The text of tracking issues, their sub-issues and the comments on them, rendered from `templates/`.
//!
//! Views carry raw text; the templates neutralise everything that comes from users, policies or the catalog
//! (`safe` / `code` helpers). The only mentions are built here, from a catalog owner that looks like a GitHub team or
//! user ([`owner_mention`]), and only go into a sub-issue's first body and into reminders.

use super::state::{CloseReason, Task, TrackingState, rule_marker};
use super::{ExpiryWarning, reminder_offset};
use crate::engine::{Scorecard, Status};
use crate::initiatives::DOES_NOT_APPLY;
use crate::policy::Policy;
use crate::report::render_template;
use chrono::{NaiveDate, TimeDelta};
use serde::Serialize;

/// `Production readiness: Silver, tier 1 requires Gold`.
pub fn issue_title(card: &Scorecard) -> String {
    let level = match &card.level {
        Some(level) => capitalise(level),
        None => match card.levels.first() {
            Some(lowest) => format!("below {}", capitalise(lowest)),
            None => "no level".into(),
        },
    };
    format!("Production readiness: {level}, tier {} requires {}", card.tier, capitalise(&card.required_level))
}

/// `Readiness: Has a runbook (due 2026-12-21)`.
pub fn task_title(task: &Task) -> String {
    format!("Readiness: {} (due {})", one_line(&task.title), task.due)
}

fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A GitHub mention for a Backstage owner reference: `group:default/payments` or `payments` → `@org/payments` (a
/// team of the repository's organisation), `user:alice` → `@alice`. `None` when the name is not a plain GitHub
/// name, so nothing odd is ever pinged.
pub fn owner_mention(owner: &str, org: &str) -> Option<String> {
    let (kind, rest) = match owner.split_once(':') {
        Some((kind, rest)) => (kind, rest),
        None => ("group", owner),
    };
    let name = rest.rsplit('/').next().unwrap_or(rest);
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    if !plain(name) || !plain(org) {
        return None;
    }
    match kind {
        "group" => Some(format!("@{org}/{name}")),
        "user" => Some(format!("@{name}")),
        _ => None,
    }
}

#[derive(Serialize)]
struct TaskView {
    rule: String,
    title: String,
    open: bool,
    due: String,
    overdue: bool,
    /// `#12` when it has a sub-issue.
    issue: Option<String>,
    /// Listed in the body as a task-list entry (task-list mode, or a sub-issue that could not be attached).
    listed: bool,
    closed: Option<String>,
}

#[derive(Serialize)]
struct InitiativeView {
    title: String,
    deadline: String,
    done: usize,
    total: usize,
    failing: Vec<String>,
}

#[derive(Serialize)]
struct ExceptionView {
    rule: String,
    title: String,
    expires: String,
    reason: String,
    approved_in: String,
}

#[derive(Serialize)]
struct IssueView {
    service: String,
    repository: String,
    tier: u32,
    level: Option<String>,
    /// ", 2 rules unverified" or empty.
    unverified_suffix: String,
    required_level: String,
    meets_required: bool,
    owner: Option<String>,
    deadline_days: u32,
    task_list: bool,
    open_tasks: Vec<TaskView>,
    closed_tasks: Vec<TaskView>,
    initiatives: Vec<InitiativeView>,
    exceptions: Vec<ExceptionView>,
    unknown: Vec<String>,
    reminder_days: String,
    example_rule: String,
    marker: String,
}

fn closed_text(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Fixed { commit: Some(commit) } => format!("fixed in {}", &commit[..commit.len().min(7)]),
        CloseReason::Fixed { commit: None } => "fixed".into(),
        CloseReason::Excepted { expires, .. } => format!("excepted until {expires}"),
        CloseReason::NotRequired { why } => format!("closed: {why}"),
    }
}

fn task_view(rule: &str, task: &Task, today: NaiveDate, task_list: bool) -> TaskView {
    TaskView {
        rule: rule.to_string(),
        title: task.title.clone(),
        open: task.open,
        due: task.due.to_string(),
        overdue: task.open && today > task.due,
        issue: task.issue.map(|n| format!("#{n}")),
        listed: task_list || !task.attached,
        closed: task.closed.as_ref().map(closed_text),
    }
}

/// The tracking issue's body: where the service stands, its tasks, initiatives and exceptions, how it all works,
/// and the hidden state.
pub fn issue_body(
    card: &Scorecard,
    policy: &Policy,
    state: &TrackingState,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let tasks: Vec<TaskView> =
        state.tasks.iter().map(|(rule, task)| task_view(rule, task, today, state.task_list)).collect();
    let (open_tasks, closed_tasks): (Vec<_>, Vec<_>) = tasks.into_iter().partition(|t| t.open);
    let initiatives = policy
        .initiatives
        .iter()
        .filter_map(|i| {
            let applicable: Vec<_> = i
                .rules
                .iter()
                .filter_map(|id| card.rule(id))
                .filter(|r| !(r.status == Status::Skipped && r.message.starts_with(DOES_NOT_APPLY)))
                .collect();
            (!applicable.is_empty()).then(|| InitiativeView {
                title: i.title.clone(),
                deadline: i.deadline.to_string(),
                done: applicable.iter().filter(|r| matches!(r.status, Status::Pass | Status::Excepted)).count(),
                total: applicable.len(),
                failing: applicable.iter().filter(|r| r.status == Status::Fail).map(|r| r.id.clone()).collect(),
            })
        })
        .collect();
    let exceptions = card
        .rules
        .iter()
        .filter_map(|r| {
            let e = r.exception.as_ref().filter(|_| r.status == Status::Excepted)?;
            Some(ExceptionView {
                rule: r.id.clone(),
                title: r.title.clone(),
                expires: e.expires.clone(),
                reason: e.reason.clone(),
                approved_in: e.approved_in.clone(),
            })
        })
        .collect();
    let unknown = card
        .rules
        .iter()
        .filter(|r| {
            r.required
                && (r.status == Status::Error
                    || (r.status == Status::Skipped && !r.message.starts_with(DOES_NOT_APPLY)))
        })
        .map(|r| r.id.clone())
        .collect();
    let reminder_days = (0..4).map(|n| reminder_offset(n).to_string()).collect::<Vec<_>>().join(", ");
    let view = IssueView {
        service: state.service.clone(),
        repository: card.repository.clone(),
        tier: card.tier,
        level: card.level.clone(),
        unverified_suffix: card.unverified_suffix(),
        required_level: card.required_level.clone(),
        meets_required: card.meets_required,
        owner: card.owner.clone(),
        deadline_days: policy.tiers.get(&card.tier).map_or(30, |t| t.deadline_days),
        task_list: state.task_list,
        example_rule: open_tasks.first().map_or_else(|| "runbook".to_string(), |t| t.rule.clone()),
        open_tasks,
        closed_tasks,
        initiatives,
        exceptions,
        unknown,
        reminder_days,
        marker: state.marker(),
    };
    render_template(TRACKING_ISSUE, &view)
}

#[derive(Serialize)]
struct RuleIssueView {
    service: String,
    rule: String,
    title: String,
    level: String,
    required: bool,
    tier: u32,
    message: String,
    remediation: String,
    evidence: Vec<String>,
    due: String,
    failing_since: String,
    initiatives: Vec<String>,
    owner: Option<String>,
    mention: Option<String>,
    marker: String,
}

/// A rule's sub-issue body. `mention` only on creation.
pub fn task_body(
    card: &Scorecard,
    policy: &Policy,
    rule_id: &str,
    task: &Task,
    mention: Option<String>,
) -> anyhow::Result<String> {
    let rule = card.rule(rule_id);
    let view = RuleIssueView {
        service: card.service.clone().unwrap_or_else(|| card.repository.clone()),
        rule: rule_id.to_string(),
        title: task.title.clone(),
        level: rule.map(|r| r.level.clone()).unwrap_or_default(),
        required: rule.is_some_and(|r| r.required),
        tier: card.tier,
        message: rule.map(|r| r.message.clone()).unwrap_or_default(),
        remediation: rule.map(|r| r.remediation.clone()).unwrap_or_default(),
        evidence: rule
            .map(|r| {
                r.evidence
                    .iter()
                    .map(|e| match e.line {
                        Some(line) => format!("{}:{line}", e.path),
                        None => e.path.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        due: task.due.to_string(),
        failing_since: task.failing_since.to_string(),
        initiatives: policy
            .initiatives
            .iter()
            .filter(|i| i.rules.iter().any(|r| r == rule_id))
            .map(|i| format!("{} (by {})", i.title, i.deadline))
            .collect(),
        owner: card.owner.clone(),
        mention,
        marker: rule_marker(&card.service.clone().unwrap_or_else(|| card.repository.clone()), rule_id),
    };
    render_template(RULE_ISSUE, &view)
}

#[derive(Serialize)]
struct ClosedView {
    rule: String,
    fixed: bool,
    commit: Option<String>,
    excepted: bool,
    expires: Option<String>,
    approved_in: Option<String>,
    why: Option<String>,
}

/// The comment that closes a task.
pub fn closed_comment(rule: &str, reason: &CloseReason) -> anyhow::Result<String> {
    let mut view = ClosedView {
        rule: rule.to_string(),
        fixed: false,
        commit: None,
        excepted: false,
        expires: None,
        approved_in: None,
        why: None,
    };
    match reason {
        CloseReason::Fixed { commit } => {
            view.fixed = true;
            view.commit = commit.clone();
        }
        CloseReason::Excepted { expires, approved_in } => {
            view.excepted = true;
            view.expires = Some(expires.clone());
            view.approved_in = Some(approved_in.clone());
        }
        CloseReason::NotRequired { why } => view.why = Some(why.clone()),
    }
    render_template(TASK_CLOSED, &view)
}

/// The comment on a tracking issue reopened after someone closed it while `failing` required rules still fail.
pub fn reopened_comment(service: &str, failing: usize) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct View<'a> {
        service: &'a str,
        failing: usize,
    }
    render_template("tracking_reopened.md", &View { service, failing })
}

/// The comment on a task reopened after someone closed it while its rule still fails.
pub fn task_reopened_comment(rule: &str) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct View<'a> {
        rule: &'a str,
    }
    render_template("task_reopened.md", &View { rule })
}

#[derive(Serialize)]
struct OverdueView {
    mention: Option<String>,
    rule: String,
    title: String,
    due: String,
    days_overdue: i64,
    next_reminder: String,
    issue: Option<String>,
}

/// The reminder for an overdue task (on its sub-issue, or on the tracking issue in task-list mode).
pub fn overdue_comment(
    rule: &str,
    task: &Task,
    days_overdue: i64,
    mention: Option<String>,
    on_tracking_issue: bool,
) -> anyhow::Result<String> {
    let next = task.due + TimeDelta::days(reminder_offset(task.reminders));
    let view = OverdueView {
        mention,
        rule: rule.to_string(),
        title: task.title.clone(),
        due: task.due.to_string(),
        days_overdue,
        next_reminder: next.to_string(),
        issue: on_tracking_issue.then(|| task.issue.map(|n| format!("#{n}"))).flatten(),
    };
    render_template(TASK_OVERDUE, &view)
}

#[derive(Serialize)]
struct ExpiryView {
    rule: String,
    title: String,
    expires: String,
    approved_in: String,
    days_left: i64,
}

/// The warning on the tracking issue before an exception expires.
pub fn expiry_comment(warning: &ExpiryWarning, today: NaiveDate) -> anyhow::Result<String> {
    let view = ExpiryView {
        rule: warning.rule.clone(),
        title: warning.title.clone(),
        expires: warning.expires.to_string(),
        approved_in: warning.approved_in.clone(),
        days_left: (warning.expires - today).num_days(),
    };
    render_template(EXPIRY_WARNING, &view)
}

pub const TRACKING_ISSUE: &str = "tracking_issue.md";
pub const RULE_ISSUE: &str = "rule_issue.md";
pub const TASK_CLOSED: &str = "task_closed.md";
pub const TASK_OVERDUE: &str = "task_overdue.md";
pub const EXPIRY_WARNING: &str = "expiry_warning.md";
