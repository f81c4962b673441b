//! What a tracking issue remembers, written into its body as a hidden marker, and the marker of its sub-issues.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const TRACKING: &str = "tracking";
const RULE: &str = "rule";

/// The machine-readable state of one service's tracking issue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingState {
    /// The service (catalog name, or the repository when it has no entry).
    pub service: String,
    /// Sub-issues are unavailable on this repository: tasks are a task list in the tracking issue's body.
    #[serde(default)]
    pub task_list: bool,
    /// By rule id.
    #[serde(default)]
    pub tasks: BTreeMap<String, Task>,
    /// Exceptions whose coming expiry was announced, as `rule@YYYY-MM-DD`.
    #[serde(default)]
    pub expiry_warnings: BTreeSet<String>,
    /// The tracking issue carries the `overdue` label.
    #[serde(default)]
    pub overdue_label: bool,
}

/// One failing rule's task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub title: String,
    /// The sub-issue's number and id, once created (never in task-list mode).
    #[serde(default)]
    pub issue: Option<u64>,
    #[serde(default)]
    pub issue_id: Option<u64>,
    /// The sub-issue is attached to the tracking issue (false: listed in its body instead, e.g. past GitHub's 100
    /// sub-issues).
    #[serde(default)]
    pub attached: bool,
    pub open: bool,
    /// The first day of the current run of failures.
    pub failing_since: NaiveDate,
    pub due: NaiveDate,
    /// Reminders sent for this due date.
    #[serde(default)]
    pub reminders: u32,
    /// The sub-issue carries the `overdue` label.
    #[serde(default)]
    pub overdue_label: bool,
    /// Why it was closed, while closed.
    #[serde(default)]
    pub closed: Option<CloseReason>,
}

/// Why a task was closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum CloseReason {
    /// The rule passes at `commit`.
    Fixed { commit: Option<String> },
    /// An approved exception covers the rule until `expires`.
    Excepted { expires: String, approved_in: String },
    /// Neither the tier nor an initiative requires the rule any more (or it left the scorecard or stopped applying).
    NotRequired { why: String },
}

impl CloseReason {
    /// GitHub's `state_reason` for the closed sub-issue.
    pub fn state_reason(&self) -> &'static str {
        match self {
            CloseReason::Fixed { .. } => "completed",
            CloseReason::Excepted { .. } | CloseReason::NotRequired { .. } => "not_planned",
        }
    }
}

impl TrackingState {
    /// The hidden marker for an issue body.
    pub fn marker(&self) -> String {
        crate::marker::write(TRACKING, self)
    }

    /// The state in an issue body, when it has a well-formed marker.
    pub fn from_body(body: &str) -> Option<TrackingState> {
        crate::marker::read(body, TRACKING)
    }

    pub fn open_tasks(&self) -> impl Iterator<Item = (&String, &Task)> {
        self.tasks.iter().filter(|(_, t)| t.open)
    }
}

/// The hidden marker of a rule's sub-issue.
pub fn rule_marker(service: &str, rule: &str) -> String {
    crate::marker::write(RULE, &serde_json::json!({"service": service, "rule": rule}))
}

/// `(service, rule)` of a sub-issue body's marker.
pub fn parse_rule_marker(body: &str) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Marker {
        service: String,
        rule: String,
    }
    let marker: Marker = crate::marker::read(body, RULE)?;
    Some((marker.service, marker.rule))
}
