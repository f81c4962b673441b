//! The Markdown format, also the body of the `Production readiness` check-run summary: rendered from
//! `templates/scorecard.md.hbs`, which is embedded in the binary.
//!
//! The template gets a view of the scorecard (below) rather than the scorecard itself, so it needs no logic beyond
//! `#if` and `#each`. HTML escaping is off; every string that comes from users or policy files must go through the
//! `safe` helper ([`neutralise`]) or the `code` helper ([`code_span`]).

use std::sync::OnceLock;

use anyhow::Context;
use handlebars::{Handlebars, handlebars_helper};
use serde::Serialize;
use serde_json::Value;

use crate::engine::{RuleResult, Scorecard, Status};

use super::neutralise::{code_span, neutralise};
use super::{group_by_level, location, short_commit};

const TEMPLATE_NAME: &str = "scorecard.md";
const TEMPLATE: &str = include_str!("../../templates/scorecard.md.hbs");
const CHECK_RUN_NAME: &str = "check_run.md";
const CHECK_RUN: &str = include_str!("../../templates/check_run.md.hbs");
/// The other templates (tracking issues, command replies, catalog pull requests), by name.
const TRACKING: [(&str, &str); 14] = [
    ("tracking_issue.md", include_str!("../../templates/tracking_issue.md.hbs")),
    ("rule_issue.md", include_str!("../../templates/rule_issue.md.hbs")),
    ("task_closed.md", include_str!("../../templates/task_closed.md.hbs")),
    ("task_overdue.md", include_str!("../../templates/task_overdue.md.hbs")),
    ("expiry_warning.md", include_str!("../../templates/expiry_warning.md.hbs")),
    ("command_reply.md", include_str!("../../templates/command_reply.md.hbs")),
    ("exception_pr.md", include_str!("../../templates/exception_pr.md.hbs")),
    ("tier_pr.md", include_str!("../../templates/tier_pr.md.hbs")),
    ("catalog_merged.md", include_str!("../../templates/catalog_merged.md.hbs")),
    ("catalog_closed.md", include_str!("../../templates/catalog_closed.md.hbs")),
    ("tracking_reopened.md", include_str!("../../templates/tracking_reopened.md.hbs")),
    ("task_reopened.md", include_str!("../../templates/task_reopened.md.hbs")),
    ("cleanup_pr.md", include_str!("../../templates/cleanup_pr.md.hbs")),
    ("catalog_validation.md", include_str!("../../templates/catalog_validation.md.hbs")),
];

/// Text for a JSON value: strings as they are, `null` as nothing, anything else as JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

handlebars_helper!(safe_helper: |v: Json| neutralise(&value_text(v)));
handlebars_helper!(code_helper: |v: Json| code_span(&value_text(v)));

fn registry() -> &'static Handlebars<'static> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper("safe", Box::new(safe_helper));
        hb.register_helper("code", Box::new(code_helper));
        // The template is part of the binary and covered by tests: failing to parse it is a bug.
        hb.register_template_string(TEMPLATE_NAME, TEMPLATE).expect("templates/scorecard.md.hbs parses");
        hb.register_template_string(CHECK_RUN_NAME, CHECK_RUN).expect("templates/check_run.md.hbs parses");
        for (name, template) in TRACKING {
            hb.register_template_string(name, template).unwrap_or_else(|e| panic!("templates/{name}.hbs: {e}"));
        }
        hb
    })
}

/// Renders `templates/check_run.md.hbs` (the check-run summary) with `view`; user text in the view must be raw (the
/// template neutralises it), except `scorecard`, which is Markdown from [`render_markdown`].
pub fn render_check_run(view: &impl Serialize) -> anyhow::Result<String> {
    let out = registry().render(CHECK_RUN_NAME, view).context("rendering the check-run summary")?;
    Ok(tidy(&out))
}

/// Renders one of the other embedded templates (`tracking_issue.md`, ...) with `view`.
pub fn render_template(name: &str, view: &impl Serialize) -> anyhow::Result<String> {
    let out = registry().render(name, view).with_context(|| format!("rendering templates/{name}.hbs"))?;
    Ok(tidy(&out))
}

fn tidy(out: &str) -> String {
    let mut out = out.to_string();
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    format!("{}\n", out.trim())
}

/// One scorecard as GitHub-flavoured Markdown (the check-run summary).
pub fn render_markdown(card: &Scorecard) -> anyhow::Result<String> {
    let view = CardView::new(card);
    let out = registry().render(TEMPLATE_NAME, &view).context("rendering the Markdown scorecard")?;
    // Tidy up what the template's conditionals leave behind: at most one blank line in a row, one final newline.
    Ok(tidy(&out))
}

pub(super) fn emoji(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Excepted => "🟡",
        Status::Skipped => "⏭️",
        Status::Error => "⚠️",
    }
}

#[derive(Serialize)]
struct CardView<'a> {
    repository: &'a str,
    service: Option<&'a str>,
    owner: Option<&'a str>,
    commit: Option<&'a str>,
    tier: u32,
    required_level: &'a str,
    level: Option<&'a str>,
    meets_required: bool,
    /// "1 required rule fails" / "3 required rules fail"; empty when none.
    blocking_text: String,
    blocking: Vec<&'a str>,
    summary: crate::engine::Summary,
    levels: Vec<LevelView<'a>>,
    failing: Vec<RuleView<'a>>,
    excepted: Vec<RuleView<'a>>,
    not_scored: Vec<RuleView<'a>>,
    notes: &'a [String],
    /// ", 2 rules unverified" or empty.
    unverified_suffix: String,
    unverified: &'a [String],
}

#[derive(Serialize)]
struct LevelView<'a> {
    name: &'a str,
    required: bool,
    rules: Vec<RuleView<'a>>,
}

#[derive(Serialize)]
struct RuleView<'a> {
    id: &'a str,
    title: &'a str,
    level: &'a str,
    emoji: &'static str,
    /// "Skipped" / "Error" for rules that were not scored.
    status_label: &'static str,
    message: &'a str,
    remediation: &'a str,
    required: bool,
    locations: Vec<String>,
    excepted: bool,
    /// Pass, fail or excepted (skipped and error are not scored).
    scored: bool,
    exception: ExceptionView<'a>,
}

#[derive(Serialize, Default)]
struct ExceptionView<'a> {
    reason: &'a str,
    expires: &'a str,
    approved_in: &'a str,
}

impl<'a> RuleView<'a> {
    fn new(rule: &'a RuleResult) -> Self {
        RuleView {
            id: &rule.id,
            title: &rule.title,
            level: &rule.level,
            emoji: emoji(rule.status),
            status_label: match rule.status {
                Status::Pass => "Pass",
                Status::Fail => "Fail",
                Status::Excepted => "Excepted",
                Status::Skipped => "Skipped",
                Status::Error => "Error",
            },
            message: &rule.message,
            remediation: &rule.remediation,
            required: rule.required,
            locations: rule.evidence.iter().map(location).collect(),
            excepted: rule.status == Status::Excepted,
            scored: !matches!(rule.status, Status::Skipped | Status::Error),
            exception: rule.exception.as_ref().map_or_else(ExceptionView::default, |e| ExceptionView {
                reason: &e.reason,
                expires: &e.expires,
                approved_in: &e.approved_in,
            }),
        }
    }
}

impl<'a> CardView<'a> {
    fn new(card: &'a Scorecard) -> Self {
        let groups = group_by_level(card);
        let in_level_order = || groups.iter().flat_map(|g| g.rules.iter().copied());
        let with = |status: Status| in_level_order().filter(move |r| r.status == status);

        // Failing rules: the required ones (what blocks the required level) first, each part in level order.
        let mut failing: Vec<&RuleResult> = with(Status::Fail).filter(|r| r.required).collect();
        failing.extend(with(Status::Fail).filter(|r| !r.required));
        let not_scored = in_level_order().filter(|r| matches!(r.status, Status::Skipped | Status::Error));

        let blocking: Vec<&str> = with(Status::Fail).filter(|r| r.required).map(|r| r.id.as_str()).collect();
        let blocking_text = match blocking.len() {
            0 => String::new(),
            1 => "1 required rule fails".to_owned(),
            n => format!("{n} required rules fail"),
        };
        CardView {
            repository: &card.repository,
            service: card.service.as_deref(),
            owner: card.owner.as_deref(),
            commit: card.commit.as_deref().map(short_commit),
            tier: card.tier,
            required_level: &card.required_level,
            level: card.level.as_deref(),
            meets_required: card.meets_required,
            blocking_text,
            blocking,
            summary: card.summary,
            failing: failing.into_iter().map(RuleView::new).collect(),
            excepted: with(Status::Excepted).map(RuleView::new).collect(),
            not_scored: not_scored.map(RuleView::new).collect(),
            levels: groups
                .iter()
                .map(|g| LevelView {
                    name: g.name,
                    required: g.required,
                    rules: g.rules.iter().map(|r| RuleView::new(r)).collect(),
                })
                .collect(),
            notes: &card.notes,
            unverified_suffix: card.unverified_suffix(),
            unverified: &card.unverified,
        }
    }
}
