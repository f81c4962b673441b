//! Files the policy's `ignore` leaves out (vendored and generated code), and how evidence says so.

use super::{Ctx, Outcome};
use crate::diag::shown_path as shown;
use crate::engine::Status;
use crate::facts::RepoFacts;
use crate::gitattributes::Attributes;
use crate::policy::{GlobId, Policy};
use std::collections::{BTreeMap, BTreeSet};

/// Left-out files named in one message at most.
const SHOWN: usize = 3;

/// Which files are left out, and why.
#[derive(Default)]
pub(super) struct LeftOut<'a> {
    /// Path to the reason, e.g. "under `**/vendor/**`" or "`.gitattributes` line 3: linguist-generated".
    pub reasons: BTreeMap<&'a str, String>,
    /// Problems reading `.gitattributes`, for the scorecard's notes.
    pub notes: Vec<String>,
}

impl<'a> LeftOut<'a> {
    pub fn of(policy: &Policy, facts: &'a RepoFacts) -> Self {
        let ignore = &policy.ignore;
        let attributes = ignore.gitattributes.then(|| {
            Attributes::parse(
                facts
                    .files
                    .keys()
                    .filter(|p| *p == ".gitattributes" || p.ends_with("/.gitattributes"))
                    .filter_map(|p| Some((p.as_str(), facts.text(p)?))),
            )
        });
        let mut reasons = BTreeMap::new();
        for path in facts.files.keys() {
            let reason = if let Some(pattern) = ignore.pattern_of(path) {
                format!("under `{pattern}`")
            } else if let Some(marked) = attributes.as_ref().and_then(|a| a.mark(path)) {
                format!("`{}` line {}: {}", shown(marked.file), marked.line, marked.mark.attribute())
            } else {
                continue;
            };
            reasons.insert(path.as_str(), reason);
        }
        let notes = attributes.map(|a| a.problems).unwrap_or_default();
        Self { reasons, notes }
    }
}

impl Ctx<'_> {
    /// Adds to a check's message the files its globs matched but `ignore` left out, when they could have changed
    /// the verdict: a failure (a left-out file might have passed it), or the pass of a check that looks for
    /// something bad (a left-out file might hold it).
    pub(super) fn with_left_out(&self, outcome: Outcome, globs: &[&[GlobId]], looks_for_bad: bool) -> Outcome {
        let relevant = match outcome.status {
            Status::Fail => true,
            Status::Pass => looks_for_bad,
            _ => false,
        };
        if !relevant || self.include_ignored.get() {
            return outcome;
        }
        let files: BTreeSet<&str> =
            globs.iter().flat_map(|ids| ids.iter().flat_map(|&id| self.left_out[id].iter().copied())).collect();
        if files.is_empty() {
            return outcome;
        }
        let named: Vec<String> =
            files.iter().take(SHOWN).map(|p| format!("`{}` ({})", shown(p), self.scope.reasons[p])).collect();
        let more = if files.len() > SHOWN { format!(" and {} more", files.len() - SHOWN) } else { String::new() };
        let message =
            format!("{}; left out as vendored, generated or example code: {}{more}", outcome.message, named.join(", "));
        Outcome { message, ..outcome }
    }

    /// Whether `path` counts for the rule being checked.
    pub(super) fn counts(&self, path: &str) -> bool {
        self.include_ignored.get() || !self.scope.reasons.contains_key(path)
    }
}
