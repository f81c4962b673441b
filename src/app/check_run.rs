//! What the `Production readiness` check run says: its conclusion from the tier's gate, its title, its summary and
//! its annotations.

use crate::engine::{Scorecard, ScorecardDiff, Status};
use crate::facts::RepoFacts;
use crate::policy::model::Gate;
use serde::Serialize;
use std::cmp::Ordering;

pub const NAME: &str = "Production readiness";
/// The identifier of the "Re-check" button.
pub const RECHECK: &str = "recheck";
/// GitHub accepts at most this many annotations per request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
}

/// The check's conclusion (SPEC 3): `level` fails while below the required level; `regression` fails only when the
/// pull request breaks a required rule or lowers the level; `off` is neutral. In every mode, a pull request that
/// fixes a rule and breaks none never fails.
pub fn conclusion(gate: Gate, head: &Scorecard, diff: &ScorecardDiff) -> Conclusion {
    let breaks_required = diff.broken_required(head).next().is_some();
    let lowers_level = diff.level_change == Ordering::Less;
    let only_fixes = !diff.fixed.is_empty() && diff.broken.is_empty();
    match gate {
        Gate::Off => Conclusion::Neutral,
        Gate::Level if head.meets_required => Conclusion::Success,
        Gate::Level if only_fixes => Conclusion::Neutral,
        Gate::Level => Conclusion::Failure,
        Gate::Regression if breaks_required || lowers_level => Conclusion::Failure,
        Gate::Regression => Conclusion::Success,
    }
}

/// `Silver · tier 1 requires Gold · 2 rules to fix`.
pub fn title(card: &Scorecard) -> String {
    let level = card.level.as_deref().map(capitalise).unwrap_or_else(|| "No level".into());
    let to_fix = card.failing_required().count();
    let fix = match to_fix {
        0 => "nothing to fix".to_string(),
        1 => "1 rule to fix".to_string(),
        n => format!("{n} rules to fix"),
    };
    format!("{level} · tier {} requires {} · {fix}", card.tier, capitalise(&card.required_level))
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[derive(Serialize)]
struct RuleChange<'a> {
    id: &'a str,
    title: &'a str,
    message: &'a str,
    required: bool,
}

#[derive(Serialize)]
struct SummaryView<'a> {
    verdict: String,
    has_changes: bool,
    level_changed: bool,
    level_before: Option<&'a str>,
    level_after: Option<&'a str>,
    fixed: Vec<RuleChange<'a>>,
    broken: Vec<RuleChange<'a>>,
    tier: u32,
    scorecard: String,
}

/// The summary: the verdict, what the pull request changes, then the whole scorecard.
pub fn summary(head: &Scorecard, diff: &ScorecardDiff, gate: Gate, conclusion: Conclusion) -> anyhow::Result<String> {
    let rule_change = |id: &String| {
        head.rule(id).map(|r| RuleChange { id: &r.id, title: &r.title, message: &r.message, required: r.required })
    };
    let verdict = match (conclusion, gate) {
        (Conclusion::Success, _) if head.meets_required => "This service meets the level its tier requires.".to_string(),
        (Conclusion::Success, _) => "This pull request breaks no rule the tier requires.".to_string(),
        (Conclusion::Neutral, Gate::Off) => "Readiness is reported but does not gate merging for this tier.".to_string(),
        (Conclusion::Neutral, _) => "Still below the required level, but this pull request only fixes rules.".to_string(),
        (Conclusion::Failure, Gate::Level) => format!(
            "Below the required level: tier {} must reach {} before merging.",
            head.tier, head.required_level
        ),
        (Conclusion::Failure, _) => "This pull request breaks a rule the tier requires or lowers the level.".to_string(),
    };
    let view = SummaryView {
        verdict,
        has_changes: !diff.is_empty(),
        level_changed: diff.level_change != Ordering::Equal,
        level_before: diff.level_before.as_deref(),
        level_after: diff.level_after.as_deref(),
        fixed: diff.fixed.iter().filter_map(rule_change).collect(),
        broken: diff.broken.iter().filter_map(rule_change).collect(),
        tier: head.tier,
        scorecard: crate::report::render_markdown(head)?,
    };
    crate::report::render_check_run(&view)
}

/// An annotation as GitHub's check-run API takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: usize,
    pub end_line: usize,
    pub annotation_level: &'static str,
    pub title: String,
    pub message: String,
}

/// One annotation per failing rule's evidence file that exists at the head commit.
pub fn annotations(card: &Scorecard, head: &RepoFacts) -> Vec<Annotation> {
    let mut out = Vec::new();
    for rule in card.rules.iter().filter(|r| r.status == Status::Fail) {
        for evidence in rule.evidence.iter().filter(|e| head.files.contains_key(&e.path)) {
            let line = evidence.line.unwrap_or(1).max(1);
            out.push(Annotation {
                path: evidence.path.clone(),
                start_line: line,
                end_line: line,
                annotation_level: if rule.required { "failure" } else { "warning" },
                title: truncate(&format!("{} ({})", rule.title, rule.id), 255),
                message: truncate(&format!("{}\n\nHow to fix: {}", rule.message, rule.remediation), 64 * 1024),
            });
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
