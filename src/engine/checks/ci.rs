//! The `ci_status` check: the CI results on the default branch's head (check runs of every app but shipshape's own,
//! and commit statuses) are green. Messages name what failed or is still running and where it comes from.

use super::{Ctx, Outcome};
use crate::facts::{CiResult, Fact};

/// Most names one message lists.
const SHOWN: usize = 5;

impl Ctx<'_> {
    pub(super) fn ci(&self, pending_passes: bool) -> Outcome {
        let fact = &self.subject.linked.ci;
        if let Some(missing) = Outcome::missing(fact) {
            return missing;
        }
        let Fact::Known(ci) = fact else { unreachable!() };
        let at = if ci.commit.is_empty() {
            format!("`{}`", ci.branch)
        } else {
            format!("`{}` ({})", ci.branch, ci.commit.get(..7).unwrap_or(&ci.commit))
        };
        let own = if ci.ignored.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = ci.ignored.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
            format!("; shipshape's own check runs are not counted: {}", names.join(", "))
        };
        if !ci.failed.is_empty() {
            return Outcome::fail(format!("CI failed on {at}: {}{own}", listed(&ci.failed)));
        }
        // Nothing failed in what was read, but one source could not be read: undecided.
        if !ci.unread.is_empty() {
            return Outcome::error(ci.unread.join("; "));
        }
        if !ci.pending.is_empty() && !pending_passes {
            return Outcome::skipped(format!(
                "{} CI result(s) still pending on {at}: {}: judged on the next evaluation",
                ci.pending.len(),
                listed(&ci.pending)
            ));
        }
        if ci.passed.is_empty() && ci.pending.is_empty() {
            // Path filters skip workflows on some commits: nothing ran is not a red build (the `ci` rule checks that
            // CI is configured at all).
            return Outcome::skipped(format!(
                "no check run or commit status on the head of {at}{own}: nothing to judge"
            ));
        }
        if ci.passed.is_empty() {
            return Outcome::pass(format!(
                "nothing failed on {at}; {} CI result(s) still pending: {}{own}",
                ci.pending.len(),
                listed(&ci.pending)
            ));
        }
        let pending =
            if ci.pending.is_empty() { String::new() } else { format!(" ({} still pending)", ci.pending.len()) };
        Outcome::pass(format!("{} CI result(s) passed on {at}: {}{pending}{own}", ci.passed.len(), listed(&ci.passed)))
    }
}

/// The first [`SHOWN`] results grouped by source, in order of first appearance:
/// "`build`, `lint` (GitHub Actions); `ci/circleci: test` (commit status from app.circleci.com) and 3 more".
fn listed(results: &[CiResult]) -> String {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for result in results.iter().take(SHOWN) {
        let name = format!("`{}`", result.name);
        match groups.iter_mut().find(|(source, _)| *source == result.source) {
            Some((_, names)) => names.push(name),
            None => groups.push((&result.source, vec![name])),
        }
    }
    let text: Vec<String> = groups.iter().map(|(source, names)| format!("{} ({source})", names.join(", "))).collect();
    let more = if results.len() > SHOWN { format!(" and {} more", results.len() - SHOWN) } else { String::new() };
    format!("{}{more}", text.join("; "))
}
