//! The views of a command's reply (`templates/command_reply.md.hbs`).

use crate::commands::{self, COMMANDS, ParseError, ParseErrorKind};
use crate::engine::Scorecard;
use serde::Serialize;

/// The reply's view (`templates/command_reply.md.hbs`); one outcome is set.
#[derive(Default, Serialize)]
pub(super) struct ReplyView {
    pub(super) command: String,
    pub(super) usage: Option<UsageView>,
    pub(super) refused: Option<RefusedView>,
    pub(super) failed: Option<String>,
    pub(super) opened: Option<OpenedView>,
    pub(super) existing: Option<OpenedView>,
    pub(super) rechecked: Option<Vec<RecheckedView>>,
    pub(super) readiness: Option<String>,
    pub(super) commands: Option<Vec<CommandView>>,
}

#[derive(Serialize)]
pub(super) struct UsageView {
    pub(super) command: Option<&'static str>,
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) message: String,
    pub(super) did_you_mean: Option<&'static str>,
    pub(super) usage: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct RefusedView {
    pub(super) repository: String,
    pub(super) login: String,
    pub(super) permission: String,
}

#[derive(Serialize)]
pub(super) struct OpenedView {
    pub(super) url: String,
    pub(super) exception: Option<String>,
    pub(super) tier: Option<u32>,
}

#[derive(Serialize)]
pub(super) struct RecheckedView {
    pub(super) what: String,
    pub(super) level: Option<String>,
    pub(super) tier: u32,
    pub(super) required_level: String,
    pub(super) meets_required: bool,
    pub(super) failing: usize,
    pub(super) link: Option<String>,
}

#[derive(Serialize)]
pub(super) struct CommandView {
    pub(super) usage: &'static str,
    pub(super) summary: &'static str,
}

pub(super) fn command_list() -> Vec<CommandView> {
    COMMANDS.iter().map(|c| CommandView { usage: c.usage, summary: c.summary }).collect()
}

/// The reply to a malformed or misspelt command: what is wrong, where, and the usage.
pub(super) fn usage_view(error: &ParseError) -> UsageView {
    let did_you_mean = match &error.kind {
        ParseErrorKind::Unknown { did_you_mean, .. } => Some(*did_you_mean),
        _ => None,
    };
    let usage = error.command.or(did_you_mean).and_then(commands::spec).map(|s| s.usage);
    UsageView {
        command: error.command,
        line: error.line,
        column: error.column,
        message: error.kind.to_string(),
        did_you_mean,
        usage,
    }
}

pub(super) fn recheck_view(what: String, card: &Scorecard, link: Option<String>) -> RecheckedView {
    RecheckedView {
        what,
        level: card.level.clone(),
        tier: card.tier,
        required_level: card.required_level.clone(),
        meets_required: card.meets_required,
        failing: card.failing_required().count(),
        link,
    }
}

pub(super) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}
