//! What to write to a service's tracking issue after an evaluation of its default branch.

use super::state::{CloseReason, Task, TrackingState};
use super::{EXPIRY_WARNING_DAYS, reminders_due};
use crate::engine::{RuleResult, Scorecard, Status};
use crate::initiatives::DOES_NOT_APPLY;
use crate::policy::Policy;
use chrono::{NaiveDate, TimeDelta};
use std::collections::BTreeMap;

pub struct PlanInput<'a> {
    pub card: &'a Scorecard,
    pub policy: &'a Policy,
    pub today: NaiveDate,
    /// For rules whose latest default-branch status is `fail`: the first day of their current run of failures.
    pub failing_since: &'a BTreeMap<String, NaiveDate>,
    /// The state the tracking issue carries (default when there is no issue).
    pub previous: &'a TrackingState,
    /// The tracking issue: `None` when there is none, else whether it is open.
    pub issue_open: Option<bool>,
}

/// What to do with the tracking issue itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueAction {
    /// No issue, and none needed.
    None,
    Create,
    Reopen,
    /// Every task is closed.
    Close,
    /// It stays as it is (open or closed); its title and body may still change.
    Keep,
}

/// One write for one rule's task, in the order they should happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskAction {
    /// Open the task: create its sub-issue, or reopen the existing one (`reopen`) after a regression.
    Open { rule: String, reopen: bool },
    /// Close it with a comment saying why.
    Close { rule: String, reason: CloseReason },
    /// Its due date moved (the tier or an initiative changed): update the sub-issue's title and body.
    Reschedule { rule: String },
    /// It is overdue: label it (on the first reminder) and comment to the owners.
    Remind { rule: String, days_overdue: i64 },
}

/// An exception that expires soon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiryWarning {
    pub rule: String,
    pub title: String,
    pub expires: NaiveDate,
    pub approved_in: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The state once every action is done (sub-issue numbers are filled in as they are created).
    pub state: TrackingState,
    pub issue: IssueAction,
    pub tasks: Vec<TaskAction>,
    pub warnings: Vec<ExpiryWarning>,
}

impl Plan {
    /// Nothing to write to GitHub (the tracking issue's title and body may still need an update).
    pub fn is_quiet(&self) -> bool {
        matches!(self.issue, IssueAction::None | IssueAction::Keep) && self.tasks.is_empty() && self.warnings.is_empty()
    }
}

/// What a rule's status asks of its task.
enum Want {
    Open {
        due: NaiveDate,
    },
    Close(CloseReason),
    /// Unknown (a linked tool not configured or unreachable): leave the task as it is.
    Leave,
}

/// The due date of a failing rule: `failing_since` + the tier's `deadline_days` when the tier requires it, or an
/// initiative's deadline when earlier; `None` when neither requires it.
pub fn due_date(policy: &Policy, card: &Scorecard, rule: &RuleResult, failing_since: NaiveDate) -> Option<NaiveDate> {
    let tier_due = rule.required.then(|| {
        let days = policy.tiers.get(&card.tier).map_or(30, |t| t.deadline_days);
        failing_since + TimeDelta::days(i64::from(days))
    });
    let initiative_due = policy.initiatives.iter().filter(|i| i.rules.contains(&rule.id)).map(|i| i.deadline).min();
    match (tier_due, initiative_due) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn want(input: &PlanInput<'_>, rule: &RuleResult, failing_since: NaiveDate) -> Want {
    match rule.status {
        Status::Fail => match due_date(input.policy, input.card, rule, failing_since) {
            Some(due) => Want::Open { due },
            None => Want::Close(CloseReason::NotRequired {
                why: format!("tier {} no longer requires it and no initiative includes it", input.card.tier),
            }),
        },
        Status::Pass => Want::Close(CloseReason::Fixed { commit: input.card.commit.clone() }),
        Status::Excepted => match &rule.exception {
            Some(e) => {
                Want::Close(CloseReason::Excepted { expires: e.expires.clone(), approved_in: e.approved_in.clone() })
            }
            None => Want::Close(CloseReason::NotRequired { why: "it is excepted".into() }),
        },
        Status::Skipped if rule.message.starts_with(DOES_NOT_APPLY) => {
            Want::Close(CloseReason::NotRequired { why: "it no longer applies to this service".into() })
        }
        Status::Skipped | Status::Error => Want::Leave,
    }
}

/// Plans the writes that bring the tracking issue in line with `input.card`.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let card = input.card;
    let mut state = input.previous.clone();
    state.service = card.service.clone().unwrap_or_else(|| card.repository.clone());
    let mut actions = Vec::new();

    for rule in &card.rules {
        let existing = state.tasks.get(&rule.id);
        // An open task keeps its start date; a new or regressed one starts with the history's first failure.
        let failing_since = match existing {
            Some(task) if task.open => task.failing_since,
            _ => input.failing_since.get(&rule.id).copied().unwrap_or(input.today).min(input.today),
        };
        match (want(input, rule, failing_since), existing) {
            (Want::Open { due }, None) => {
                state.tasks.insert(
                    rule.id.clone(),
                    Task {
                        title: rule.title.clone(),
                        issue: None,
                        issue_id: None,
                        attached: false,
                        open: true,
                        failing_since,
                        due,
                        reminders: 0,
                        overdue_label: false,
                        closed: None,
                    },
                );
                actions.push(TaskAction::Open { rule: rule.id.clone(), reopen: false });
            }
            (Want::Open { due }, Some(task)) if !task.open => {
                let task = state.tasks.get_mut(&rule.id).expect("present");
                task.open = true;
                task.closed = None;
                task.failing_since = failing_since;
                task.due = due;
                task.reminders = 0;
                task.title = rule.title.clone();
                actions.push(TaskAction::Open { rule: rule.id.clone(), reopen: task.issue.is_some() });
            }
            (Want::Open { due }, Some(task)) => {
                if task.due != due || task.title != rule.title {
                    let task = state.tasks.get_mut(&rule.id).expect("present");
                    if due > task.due {
                        // A later due date starts the reminders over.
                        task.reminders = 0;
                    }
                    task.due = due;
                    task.title = rule.title.clone();
                    actions.push(TaskAction::Reschedule { rule: rule.id.clone() });
                }
            }
            (Want::Close(reason), Some(task)) if task.open => {
                let task = state.tasks.get_mut(&rule.id).expect("present");
                task.open = false;
                task.closed = Some(reason.clone());
                actions.push(TaskAction::Close { rule: rule.id.clone(), reason });
            }
            (Want::Close(reason), Some(task)) => {
                // Already closed: remember the latest reason (an exception that replaced a fix, say) without a write.
                if task.closed.as_ref() != Some(&reason) && matches!(reason, CloseReason::Excepted { .. }) {
                    state.tasks.get_mut(&rule.id).expect("present").closed = Some(reason);
                }
            }
            (Want::Close(_), None) | (Want::Leave, _) => {}
        }
    }
    // Rules that left the scorecard.
    let gone: Vec<String> = state
        .tasks
        .iter()
        .filter(|(id, task)| task.open && card.rule(id).is_none())
        .map(|(id, _)| id.clone())
        .collect();
    for id in gone {
        let reason = CloseReason::NotRequired { why: "the scorecard no longer has this rule".into() };
        let task = state.tasks.get_mut(&id).expect("present");
        task.open = false;
        task.closed = Some(reason.clone());
        actions.push(TaskAction::Close { rule: id, reason });
    }
    // Reminders for open tasks past their due date.
    for (id, task) in state.tasks.iter_mut().filter(|(_, t)| t.open) {
        let days_overdue = (input.today - task.due).num_days();
        let due_now = reminders_due(days_overdue);
        if due_now > task.reminders {
            // However many were missed (the App was down), one reminder now.
            task.reminders = due_now;
            actions.push(TaskAction::Remind { rule: id.clone(), days_overdue });
        }
    }

    let any_open = state.tasks.values().any(|t| t.open);
    let issue = match (input.issue_open, any_open) {
        (None, true) => IssueAction::Create,
        (None, false) => IssueAction::None,
        (Some(false), true) => IssueAction::Reopen,
        (Some(true), false) => IssueAction::Close,
        (Some(_), _) => IssueAction::Keep,
    };

    // Exceptions about to expire, announced once each, where there is an issue to say it on.
    let mut warnings = Vec::new();
    if issue != IssueAction::None {
        for rule in card.rules.iter().filter(|r| r.status == Status::Excepted) {
            let Some(exception) = &rule.exception else { continue };
            let Ok(expires) = NaiveDate::parse_from_str(&exception.expires, "%Y-%m-%d") else { continue };
            let days_left = (expires - input.today).num_days();
            let key = format!("{}@{}", rule.id, exception.expires);
            if (0..=EXPIRY_WARNING_DAYS).contains(&days_left) && state.expiry_warnings.insert(key) {
                warnings.push(ExpiryWarning {
                    rule: rule.id.clone(),
                    title: rule.title.clone(),
                    expires,
                    approved_in: exception.approved_in.clone(),
                });
            }
        }
    }
    Plan { state, issue, tasks: actions, warnings }
}
