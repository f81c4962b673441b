//! Output formats for scorecards: text for terminals, JSON (the public interface of SPEC section 2), Markdown (also
//! the check-run summary) and SARIF 2.1.0 for GitHub code scanning.

mod markdown;
pub mod neutralise;
mod sarif;
mod text;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, bail};

use crate::engine::{RuleResult, Scorecard};

pub use markdown::{render_check_run, render_markdown, render_template};
pub use sarif::{NO_FILE_URI, SARIF_SCHEMA};

/// An output format of `shipshape evaluate --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Markdown, Format::Sarif];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown `--format` name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`: expected one of text, json, markdown, sarif")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Case-insensitive; surrounding whitespace is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// How to render. The caller decides colour: on only when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours in the text format (other formats ignore it).
    pub color: bool,
}

/// Render one or more scorecards. Every format ends with a newline.
///
/// * `Json`: one object for one card, an array for several; pretty-printed.
/// * `Text`: each card; for several, followed by [`summary_table`].
/// * `Markdown`: each card from `templates/scorecard.md.hbs`, separated by a rule (`---`) for several.
/// * `Sarif`: one SARIF log with one run per card.
pub fn render(format: Format, cards: &[Scorecard], opts: &RenderOptions) -> anyhow::Result<String> {
    if cards.is_empty() {
        bail!("nothing to render: no scorecards");
    }
    match format {
        Format::Json => {
            let mut out = if let [card] = cards {
                serde_json::to_string_pretty(card)
            } else {
                serde_json::to_string_pretty(cards)
            }
            .context("serialising scorecards as JSON")?;
            out.push('\n');
            Ok(out)
        }
        Format::Text => Ok(text::render(cards, opts.color)),
        Format::Markdown => {
            let parts = cards.iter().map(render_markdown).collect::<anyhow::Result<Vec<_>>>()?;
            Ok(parts.join("\n---\n\n"))
        }
        Format::Sarif => sarif::render(cards),
    }
}

/// `evaluate --failing`: each card with only its failing and error rules; in text and Markdown, cards without any
/// are left out (JSON and SARIF keep one entry per repository, so scripts see every repository).
pub fn only_failing(cards: &[Scorecard], format: Format) -> Vec<Scorecard> {
    let keeps_every_card = matches!(format, Format::Json | Format::Sarif);
    cards
        .iter()
        .filter_map(|card| {
            let mut card = card.clone();
            card.rules.retain(|r| matches!(r.status, crate::engine::Status::Fail | crate::engine::Status::Error));
            (keeps_every_card || !card.rules.is_empty()).then_some(card)
        })
        .collect()
}

/// One row per repository (repository, tier, level, required level, whether it meets it, failing rules), columns
/// aligned, with a header row. Plain text, no colour.
pub fn summary_table(cards: &[Scorecard]) -> String {
    let header = ["REPOSITORY", "TIER", "LEVEL", "REQUIRED", "MEETS", "FAIL"].map(String::from);
    let mut rows = vec![header];
    for card in cards {
        rows.push([
            text::clean(&card.repository).into_owned(),
            card.tier.to_string(),
            card.level.as_deref().map_or_else(|| "none".to_owned(), |l| text::clean(l).into_owned()),
            text::clean(&card.required_level).into_owned(),
            if card.meets_required { "yes" } else { "no" }.to_owned(),
            card.summary.fail.to_string(),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The rules of one level, in policy order.
pub(crate) struct LevelGroup<'a> {
    pub name: &'a str,
    /// The tier requires this level (it is at or below the required level).
    pub required: bool,
    pub rules: Vec<&'a RuleResult>,
}

/// Rules grouped by level in the card's `levels` order (lowest first); levels not listed there follow in order of
/// first appearance. Levels without rules are left out.
pub(crate) fn group_by_level(card: &Scorecard) -> Vec<LevelGroup<'_>> {
    let mut names: Vec<&str> = Vec::new();
    for name in card.levels.iter().chain(card.rules.iter().map(|r| &r.level)) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let required_at = card.levels.iter().position(|l| *l == card.required_level);
    names
        .into_iter()
        .filter_map(|name| {
            let rules: Vec<&RuleResult> = card.rules.iter().filter(|r| r.level == name).collect();
            if rules.is_empty() {
                return None;
            }
            let required = match (card.levels.iter().position(|l| l == name), required_at) {
                (Some(at), Some(req)) => at <= req,
                _ => rules.iter().any(|r| r.required),
            };
            Some(LevelGroup { name, required, rules })
        })
        .collect()
}

/// `path` or `path:line`, a path with control characters quoted ([`crate::diag::shown_path`]).
pub(crate) fn location(evidence: &crate::engine::Evidence) -> String {
    let path = crate::diag::shown_path(&evidence.path);
    match evidence.line {
        Some(line) => format!("{path}:{line}"),
        None => path.into_owned(),
    }
}

/// The first 12 characters of a commit id.
pub(crate) fn short_commit(commit: &str) -> &str {
    match commit.char_indices().nth(12) {
        Some((i, _)) => &commit[..i],
        None => commit,
    }
}
