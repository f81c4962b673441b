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

/// Annotations sent with one check run (three requests); the summary counts the rest.
pub const MAX_ANNOTATIONS: usize = 150;

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

/// `Silver · tier 1 requires Gold · 2 rules to fix`, `Gold, 2 rules unverified · tier 1 requires Gold · nothing to fix`.
pub fn title(card: &Scorecard) -> String {
    let level = card.level.as_deref().map(capitalise).unwrap_or_else(|| "No level".into()) + &card.unverified_suffix();
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
        (Conclusion::Success, _) if head.meets_required => {
            "This service meets the level its tier requires.".to_string()
        }
        (Conclusion::Success, _) => "This pull request breaks no rule the tier requires.".to_string(),
        (Conclusion::Neutral, Gate::Off) => {
            "Readiness is reported but does not gate merging for this tier.".to_string()
        }
        (Conclusion::Neutral, _) => {
            "Still below the required level, but this pull request only fixes rules.".to_string()
        }
        (Conclusion::Failure, Gate::Level) => {
            format!("Below the required level: tier {} must reach {} before merging.", head.tier, head.required_level)
        }
        (Conclusion::Failure, _) => {
            "This pull request breaks a rule the tier requires or lowers the level.".to_string()
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RuleResult, Summary, diff};

    fn card(level: Option<&str>, statuses: &[(&str, &str, Status)]) -> Scorecard {
        let levels = vec!["bronze".to_string(), "silver".to_string(), "gold".to_string()];
        let rules = statuses
            .iter()
            .map(|(id, level, status)| RuleResult {
                id: id.to_string(),
                title: format!("Rule {id}"),
                level: level.to_string(),
                status: *status,
                message: format!("{id} message"),
                evidence: vec![],
                exception: None,
                remediation: "fix it".into(),
                required: *level != "gold",
            })
            .collect();
        Scorecard {
            service: None,
            repository: "acme/payments".into(),
            tier: 2,
            required_level: "silver".into(),
            level: level.map(str::to_string),
            meets_required: matches!(level, Some("silver" | "gold")),
            rules,
            summary: Summary::default(),
            owner: None,
            commit: Some("abc".into()),
            levels,
            notes: vec![],
            unverified: vec![],
        }
    }

    #[test]
    fn gates_decide_the_conclusion() {
        use Status::*;
        let good = card(Some("silver"), &[("a", "bronze", Pass), ("b", "silver", Pass), ("c", "gold", Fail)]);
        let broken = card(Some("bronze"), &[("a", "bronze", Pass), ("b", "silver", Fail), ("c", "gold", Fail)]);
        let worse_optional = card(Some("silver"), &[("a", "bronze", Pass), ("b", "silver", Pass), ("c", "gold", Fail)]);

        // regression: breaking a required rule fails; the same state without a change passes.
        assert_eq!(conclusion(Gate::Regression, &broken, &diff(&good, &broken)), Conclusion::Failure);
        assert_eq!(conclusion(Gate::Regression, &broken, &diff(&broken, &broken)), Conclusion::Success);
        assert_eq!(conclusion(Gate::Regression, &worse_optional, &diff(&good, &worse_optional)), Conclusion::Success);
        // level: below the required level fails, unless the pull request only fixes rules.
        assert_eq!(conclusion(Gate::Level, &broken, &diff(&broken, &broken)), Conclusion::Failure);
        assert_eq!(conclusion(Gate::Level, &good, &diff(&good, &good)), Conclusion::Success);
        let still_below = card(Some("bronze"), &[("a", "bronze", Pass), ("b", "silver", Fail), ("c", "gold", Pass)]);
        assert_eq!(conclusion(Gate::Level, &still_below, &diff(&broken, &still_below)), Conclusion::Neutral);
        // off: never fails.
        assert_eq!(conclusion(Gate::Off, &broken, &diff(&good, &broken)), Conclusion::Neutral);
    }

    #[test]
    fn titles_name_level_requirement_and_work() {
        use Status::*;
        let c = card(Some("bronze"), &[("a", "bronze", Pass), ("b", "silver", Fail), ("d", "silver", Fail)]);
        assert_eq!(title(&c), "Bronze · tier 2 requires Silver · 2 rules to fix");
        let c = card(None, &[("a", "bronze", Fail)]);
        assert_eq!(title(&c), "No level · tier 2 requires Silver · 1 rule to fix");
        let mut c = card(Some("silver"), &[("a", "bronze", Pass), ("b", "silver", Skipped), ("d", "silver", Pass)]);
        c.unverified = vec!["b".into()];
        assert_eq!(title(&c), "Silver, 1 rule unverified · tier 2 requires Silver · nothing to fix");
    }

    #[test]
    fn summary_says_what_changed_and_neutralises_text() {
        use Status::*;
        let before = card(Some("silver"), &[("a", "bronze", Pass), ("b", "silver", Pass)]);
        let mut after = card(Some("bronze"), &[("a", "bronze", Pass), ("b", "silver", Fail)]);
        after.rules[1].message = "ping @acme/sre <b>now</b>".into();
        let d = diff(&before, &after);
        let text = summary(&after, &d, Gate::Regression, conclusion(Gate::Regression, &after, &d)).unwrap();
        assert!(text.contains("### What this pull request changes"), "{text}");
        assert!(text.contains("❌ Breaks **Rule b** (`b`), required by tier 2"), "{text}");
        assert!(text.contains("Level: **silver** → **bronze**"), "{text}");
        assert!(!text.contains("@acme/sre") && !text.contains("<b>"), "user text must be neutralised: {text}");
        let same = summary(&before, &diff(&before, &before), Gate::Regression, Conclusion::Success).unwrap();
        assert!(same.contains("does not change the scorecard"), "{same}");
    }

    #[test]
    fn annotations_point_at_existing_evidence_files() {
        use Status::*;
        let mut c = card(Some("bronze"), &[("a", "bronze", Fail), ("b", "gold", Fail), ("c", "bronze", Pass)]);
        c.rules[0].evidence = vec![crate::engine::Evidence { path: "config/app.yaml".into(), line: Some(3) }];
        c.rules[1].evidence = vec![
            crate::engine::Evidence { path: "README.md".into(), line: None },
            crate::engine::Evidence { path: "gone.txt".into(), line: None },
        ];
        c.rules[2].evidence = vec![crate::engine::Evidence { path: "README.md".into(), line: None }];
        let mut facts = RepoFacts::default();
        for path in ["config/app.yaml", "README.md"] {
            facts.files.insert(path.into(), Default::default());
        }
        let a = annotations(&c, &facts);
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].path.as_str(), a[0].start_line, a[0].annotation_level), ("config/app.yaml", 3, "failure"));
        assert_eq!((a[1].path.as_str(), a[1].start_line, a[1].annotation_level), ("README.md", 1, "warning"));
    }
}
