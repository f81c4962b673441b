//! The views of the one reply a comment gets (`templates/command_reply.md.hbs`): a section per command line acted
//! on, the lines ignored past the limit, or the refusal of a commenter without write permission.

use super::Thread;
use crate::commands::{self, COMMANDS, Comment, Found, MAX_COMMANDS, MAX_COMMENT_CHARS, ParseError, ParseErrorKind};
use crate::engine::Scorecard;
use serde::{Deserialize, Serialize};

/// The most ignored command lines the reply names; it counts the others.
const NAMED_IGNORED: usize = 10;

/// The whole reply.
#[derive(Default, Serialize)]
pub(super) struct ReplyView {
    /// One per command line acted on, in order.
    pub(super) sections: Vec<SectionView>,
    /// More than one section: each is headed by its command and line.
    pub(super) several: bool,
    pub(super) refused: Option<RefusedView>,
    pub(super) ignored: Option<IgnoredView>,
    /// The comment is longer than this many characters: the rest was not read.
    pub(super) truncated: Option<usize>,
}

/// What one command line did; one outcome is set. Kept once the command is done, so a retried delivery answers
/// with it rather than doing the command again.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct SectionView {
    /// The command's name without the slash; empty for a misspelt one.
    pub(super) command: String,
    pub(super) line: usize,
    /// The same command is on this earlier line: done once, answered there.
    pub(super) same_as: Option<usize>,
    pub(super) usage: Option<UsageView>,
    pub(super) failed: Option<String>,
    pub(super) opened: Option<OpenedView>,
    pub(super) existing: Option<OpenedView>,
    pub(super) rechecked: Option<Vec<RecheckedView>>,
    pub(super) readiness: Option<String>,
    pub(super) commands: Option<Vec<CommandView>>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct UsageView {
    pub(super) command: Option<String>,
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) message: String,
    pub(super) did_you_mean: Option<String>,
    pub(super) usage: Option<String>,
}

/// Nothing was done: the commenter may not run commands here.
#[derive(Serialize)]
pub(super) struct RefusedView {
    pub(super) repository: String,
    pub(super) login: String,
    pub(super) permission: String,
    /// The commands the comment names, each once, in order (misspelt ones are not named).
    pub(super) commands: Vec<&'static str>,
    pub(super) several: bool,
}

/// The command lines past [`MAX_COMMANDS`].
#[derive(Serialize)]
pub(super) struct IgnoredView {
    pub(super) max: usize,
    pub(super) count: usize,
    /// The first [`NAMED_IGNORED`] of them.
    pub(super) named: Vec<IgnoredLine>,
    /// How many more there are.
    pub(super) more: usize,
}

#[derive(Serialize)]
pub(super) struct IgnoredLine {
    pub(super) line: usize,
    pub(super) command: Option<&'static str>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct OpenedView {
    pub(super) url: String,
    pub(super) exception: Option<String>,
    pub(super) tier: Option<u32>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct RecheckedView {
    pub(super) what: String,
    pub(super) level: Option<String>,
    pub(super) tier: u32,
    pub(super) required_level: String,
    pub(super) meets_required: bool,
    pub(super) failing: usize,
    pub(super) link: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct CommandView {
    pub(super) usage: String,
    pub(super) summary: String,
}

pub(super) fn command_list() -> Vec<CommandView> {
    COMMANDS.iter().map(|c| CommandView { usage: c.usage.into(), summary: c.summary.into() }).collect()
}

impl SectionView {
    pub(super) fn of(found: &Found) -> Self {
        Self { command: found.command.name().into(), line: found.line, ..Self::default() }
    }

    /// The command on `found`'s line repeats the one on line `first`.
    pub(super) fn same_as(found: &Found, first: usize) -> Self {
        Self { same_as: Some(first), ..Self::of(found) }
    }

    /// A malformed or misspelt command: what is wrong, where, and the usage.
    pub(super) fn usage(error: &ParseError) -> Self {
        let did_you_mean = match &error.kind {
            ParseErrorKind::Unknown { did_you_mean, .. } => Some(*did_you_mean),
            _ => None,
        };
        let usage = error.command.or(did_you_mean).and_then(commands::spec).map(|s| s.usage.into());
        let view = UsageView {
            command: error.command.map(Into::into),
            line: error.line,
            column: error.column,
            message: error.kind.to_string(),
            did_you_mean: did_you_mean.map(Into::into),
            usage,
        };
        Self {
            command: error.command.unwrap_or_default().into(),
            line: error.line,
            usage: Some(view),
            ..Self::default()
        }
    }
}

/// The reply of a commenter with write permission: `sections`, and what of `comment` was not acted on.
pub(super) fn answer(sections: Vec<SectionView>, comment: &Comment) -> ReplyView {
    let ignored = (!comment.ignored.is_empty()).then(|| IgnoredView {
        max: MAX_COMMANDS,
        count: comment.ignored.len(),
        named: comment
            .ignored
            .iter()
            .take(NAMED_IGNORED)
            .map(|i| IgnoredLine { line: i.line, command: i.command })
            .collect(),
        more: comment.ignored.len().saturating_sub(NAMED_IGNORED),
    });
    ReplyView {
        several: sections.len() > 1,
        sections,
        ignored,
        truncated: comment.truncated.then_some(MAX_COMMENT_CHARS),
        ..ReplyView::default()
    }
}

/// The one reply of a commenter without write permission: nothing was done, whatever the comment held.
pub(super) fn refused(thread: &Thread<'_>, permission: String, comment: &Comment) -> ReplyView {
    let mut names: Vec<&'static str> = Vec::new();
    for item in &comment.commands {
        let name = match item {
            Ok(found) => Some(found.command.name()),
            Err(error) => error.command,
        };
        if let Some(name) = name.filter(|n| !names.contains(n)) {
            names.push(name);
        }
    }
    let refused = RefusedView {
        repository: thread.repo(),
        login: thread.author.to_string(),
        permission,
        several: names.len() > 1,
        commands: names,
    };
    ReplyView { refused: Some(refused), ..ReplyView::default() }
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
