//! The text format: for people at a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::engine::{RuleResult, Scorecard, Status};

use super::{group_by_level, location, short_commit, summary_table};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";

/// Indent of a rule line under its level, and of a rule's details under the rule.
const RULE_INDENT: &str = "  ";
const DETAIL_INDENT: &str = "      ";

pub(super) fn render(cards: &[Scorecard], color: bool) -> String {
    let mut out = String::new();
    for (i, card) in cards.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_card(&mut out, card, color);
    }
    if cards.len() > 1 {
        out.push('\n');
        out.push_str(&summary_table(cards));
    }
    out
}

pub(super) fn symbol(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Excepted => "~",
        Status::Skipped => "-",
        Status::Error => "!",
    }
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Pass => GREEN,
        Status::Fail => RED,
        Status::Excepted | Status::Error => YELLOW,
        Status::Skipped => DIM,
    }
}

/// Text from repositories and policy files, made harmless for a terminal: control characters (escape sequences,
/// carriage returns) are dropped; line breaks and tabs stay.
pub(super) fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        Cow::Owned(s.chars().filter(|&c| !c.is_control() || c == '\n' || c == '\t').collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// `code` wrapped in an ANSI sequence when colour is on.
fn paint(color: bool, code: &str, s: &str) -> String {
    if color { format!("{code}{s}{RESET}") } else { s.to_owned() }
}

fn render_card(out: &mut String, card: &Scorecard, color: bool) {
    // Header: repository (service), tier, level reached vs required, verdict.
    let mut head = paint(color, BOLD, &clean(&card.repository));
    if let Some(service) = &card.service {
        let _ = write!(head, " (service {})", clean(service));
    }
    let level = card.level.as_deref().map_or(Cow::Borrowed("none"), clean).into_owned() + &card.unverified_suffix();
    let _ = write!(head, " — tier {} — level {level}, requires {}", card.tier, clean(&card.required_level));
    let verdict = if card.meets_required {
        paint(color, GREEN, "meets required level")
    } else {
        paint(color, RED, "BELOW REQUIRED LEVEL")
    };
    let _ = writeln!(out, "{head} — {verdict}");

    let mut meta = Vec::new();
    if let Some(owner) = &card.owner {
        meta.push(format!("owner {}", clean(owner)));
    }
    if let Some(commit) = &card.commit {
        meta.push(format!("commit {}", clean(short_commit(commit))));
    }
    if !meta.is_empty() {
        let _ = writeln!(out, "{}", meta.join(" · "));
    }

    for group in group_by_level(card) {
        out.push('\n');
        let mut heading = clean(group.name).into_owned();
        if group.required {
            heading.push_str(" (required)");
        }
        let _ = writeln!(out, "{}", paint(color, BOLD, &heading));
        for rule in group.rules {
            render_rule(out, rule, color);
        }
    }

    let s = &card.summary;
    let _ = writeln!(
        out,
        "\nsummary: {} pass, {} fail, {} excepted, {} skipped, {} error",
        s.pass, s.fail, s.excepted, s.skipped, s.error
    );
    let blocking: Vec<String> = card.failing_required().map(|r| clean(&r.id).into_owned()).collect();
    if !blocking.is_empty() {
        let _ = writeln!(out, "to reach {}, fix: {}", clean(&card.required_level), blocking.join(", "));
    }
    if !card.unverified.is_empty() {
        let ids: Vec<String> = card.unverified.iter().map(|id| clean(id).into_owned()).collect();
        let _ = writeln!(out, "unverified (not judged; the level stands without them): {}", ids.join(", "));
    }
    for note in &card.notes {
        push_block(out, "", "note: ", &clean(note));
    }
}

fn render_rule(out: &mut String, rule: &RuleResult, color: bool) {
    let line = format!("{} {} ({})", symbol(rule.status), clean(&rule.title), clean(&rule.id));
    let _ = writeln!(out, "{RULE_INDENT}{}", paint(color, status_color(rule.status), &line));
    let message = clean(&rule.message);
    match rule.status {
        Status::Pass | Status::Fail | Status::Excepted => push_block(out, DETAIL_INDENT, "", &message),
        Status::Skipped => push_block(out, DETAIL_INDENT, "skipped: ", or(&message, "no reason given")),
        Status::Error => push_block(out, DETAIL_INDENT, "error: ", or(&message, "no reason given")),
    }
    if rule.status == Status::Fail {
        push_block(out, DETAIL_INDENT, "fix: ", &clean(&rule.remediation));
    }
    if rule.status == Status::Excepted {
        let text = match &rule.exception {
            Some(e) => {
                let mut t = format!("excepted until {}: {}", clean(&e.expires), clean(&e.reason));
                if !e.approved_in.is_empty() {
                    let _ = write!(t, " (approved in {})", clean(&e.approved_in));
                }
                t
            }
            None => "excepted".to_owned(),
        };
        push_block(out, DETAIL_INDENT, "", &text);
    }
    if rule.status != Status::Pass && !rule.evidence.is_empty() {
        let at: Vec<String> = rule.evidence.iter().map(|e| clean(&location(e)).into_owned()).collect();
        push_block(out, DETAIL_INDENT, "at ", &at.join(", "));
    }
}

fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.trim().is_empty() { default } else { s }
}

/// `indent label first line`, further lines aligned under the first; nothing for empty text.
fn push_block(out: &mut String, indent: &str, label: &str, text: &str) {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return;
    }
    let hang = " ".repeat(label.chars().count());
    for (i, line) in text.lines().enumerate() {
        let prefix = if i == 0 { label } else { &hang };
        let _ = writeln!(out, "{}", format!("{indent}{prefix}{line}").trim_end());
    }
}
