//! Tracking issues: one issue per service in its repository, with one sub-issue (or task-list entry) per failing rule
//! that its tier or an initiative requires, each with a due date, kept in step with the default branch's scorecard.
//!
//! This module is pure: [`plan`] takes the scorecard, the policy, the first-failure dates from the evaluation history,
//! today's date and the state the issue carries, and says what to write; `crate::app::tracking` does the writing.
//! The state lives in the tracking issue itself ([`state::TrackingState`], in a hidden marker), so a lost database
//! finds the same issue again and never opens a second one.
//!
//! Deadlines: a task is due `deadline_days` (its tier's) after the rule started failing, or on an initiative's
//! deadline when that is earlier (initiative-only rules are due on the initiative's deadline). Once due, reminders go
//! out 1, 3, 7 and 14 days after the due date, then every 14 days: never daily.

pub mod plan;
pub mod state;
#[cfg(test)]
mod tests;
pub mod text;

pub use plan::{ExpiryWarning, IssueAction, Plan, PlanInput, TaskAction, plan};
pub use state::{CloseReason, Task, TrackingState};

/// The label on tracking issues and their sub-issues (SPEC 1).
pub const LABEL: &str = "production-readiness";
/// The label on overdue tasks (and on the tracking issue while one is overdue).
pub const OVERDUE_LABEL: &str = "overdue";
/// Days after the due date on which reminders go out; after the last, one every [`REMINDER_REPEAT_DAYS`].
pub const REMINDER_DAYS: [i64; 4] = [1, 3, 7, 14];
pub const REMINDER_REPEAT_DAYS: i64 = 14;
/// An exception's expiry is announced this many days ahead.
pub const EXPIRY_WARNING_DAYS: i64 = 3;

/// Days after the due date of the `n`-th reminder (0-based).
pub fn reminder_offset(n: u32) -> i64 {
    match REMINDER_DAYS.get(n as usize) {
        Some(days) => *days,
        None => REMINDER_DAYS[REMINDER_DAYS.len() - 1] + REMINDER_REPEAT_DAYS * (i64::from(n) - 3),
    }
}

/// How many reminders are due `days_overdue` days after the due date.
pub fn reminders_due(days_overdue: i64) -> u32 {
    let mut n = 0;
    while reminder_offset(n) <= days_overdue {
        n += 1;
    }
    n
}
