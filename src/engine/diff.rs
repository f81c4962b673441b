//! What changed between two scorecards of the same service (a pull request's base and head).

use super::{Scorecard, Status};
use serde::Serialize;
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScorecardDiff {
    /// Rules that failed before and pass now.
    pub fixed: Vec<String>,
    /// Rules that fail now and did not before (passing, excepted, not applicable or new).
    pub broken: Vec<String>,
    pub level_before: Option<String>,
    pub level_after: Option<String>,
    /// `Greater` when the level went up.
    #[serde(skip)]
    pub level_change: Ordering,
}

impl ScorecardDiff {
    pub fn is_empty(&self) -> bool {
        self.fixed.is_empty() && self.broken.is_empty() && self.level_change == Ordering::Equal
    }

    /// Broken rules that the tier requires.
    pub fn broken_required<'a>(&'a self, after: &'a Scorecard) -> impl Iterator<Item = &'a str> + 'a {
        self.broken.iter().map(String::as_str).filter(|id| after.rule(id).is_some_and(|r| r.required))
    }
}

/// Compares `before` (e.g. the base commit) with `after` (the head commit).
pub fn diff(before: &Scorecard, after: &Scorecard) -> ScorecardDiff {
    let status_before = |id: &str| before.rule(id).map(|r| r.status);
    let fixed = after
        .rules
        .iter()
        .filter(|r| r.status == Status::Pass && status_before(&r.id) == Some(Status::Fail))
        .map(|r| r.id.clone())
        .collect();
    let broken = after
        .rules
        .iter()
        .filter(|r| r.status == Status::Fail && status_before(&r.id) != Some(Status::Fail))
        .map(|r| r.id.clone())
        .collect();
    let index = |card: &Scorecard| card.level.as_ref().and_then(|l| after.levels.iter().position(|x| x == l));
    let level_change = match (index(before), index(after)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(b), Some(a)) => a.cmp(&b),
    };
    ScorecardDiff { fixed, broken, level_before: before.level.clone(), level_after: after.level.clone(), level_change }
}
