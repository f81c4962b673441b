//! Comment commands (SPEC 5): `/request-exception`, `/change-tier`, `/recheck`, `/readiness`.
//!
//! Pure: a comment body in, the commands it holds (or why a command line is malformed) out. No I/O, no GitHub.
//! Positions are 1-based line and column (in characters) within the comment body.

use chrono::NaiveDate;

#[cfg(test)]
mod limits_tests;
mod parse;
#[cfg(test)]
mod tests;

/// The longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// The longest rule id accepted, in characters (a reply quotes it).
pub const MAX_RULE_ID_CHARS: usize = 100;
/// The longest exception accepted by the parser, in days (the tier's `exception_max_days` is checked later).
pub const MAX_DAYS: u32 = 3650;

/// The most characters of a comment body that are read: GitHub's own limit for a comment. A longer body (GitHub
/// makes none, a forged or edited payload might) is read up to the last whole line within the limit.
pub const MAX_COMMENT_CHARS: usize = 65_536;
/// The most command lines of one comment that are acted on; the ones after them are named as ignored.
pub const MAX_COMMANDS: usize = 10;

/// One command, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    RequestException { rule: String, length: Option<ExceptionLength>, reason: String },
    ChangeTier { tier: u32, reason: String },
    Recheck,
    Readiness,
}

/// How long an exception is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionLength {
    /// `for <N>d`
    Days(u32),
    /// `until <YYYY-MM-DD>`
    Until(NaiveDate),
}

/// A command found in a comment, with the line it is on (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub command: Command,
    pub line: usize,
}

/// The command lines of a comment, bounded: what [`read`] gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The first [`MAX_COMMANDS`] command lines, in order: `Ok` for commands, `Err` for malformed or misspelt ones.
    pub commands: Vec<Result<Found, ParseError>>,
    /// The command lines after those, in order.
    pub ignored: Vec<Ignored>,
    /// The body is longer than [`MAX_COMMENT_CHARS`]: what follows the limit was not read.
    pub truncated: bool,
}

/// A command line past [`MAX_COMMANDS`]: not parsed further than its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub line: usize,
    /// The command's name without the slash, when it was recognised.
    pub command: Option<&'static str>,
}

/// A command line that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    /// The command's name without the slash, when it was recognised (`request-exception`).
    pub command: Option<&'static str>,
    pub kind: ParseErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// `/rechek`: not a command, but close to one.
    #[error("unknown command `/{name}`")]
    Unknown { name: String, did_you_mean: &'static str },
    /// A required argument is missing (`rule id`, `tier`, `reason`).
    #[error("missing {what}")]
    Missing { what: &'static str },
    /// An argument is there but invalid (a tier that is not a number, `for 0d`, a date that does not exist).
    #[error("{message}")]
    Invalid { message: String },
    /// The reason is longer than [`MAX_REASON_CHARS`].
    #[error("the reason is {chars} characters long; at most {max} are accepted")]
    ReasonTooLong { chars: usize, max: usize },
    /// Words after a command that takes none (`/recheck now`).
    #[error("`/{command}` takes no arguments")]
    UnexpectedArguments { command: &'static str },
}

/// A command's name, its usage line and what it does (for replies and `/readiness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
}

/// Every command, in the order `/readiness` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "request-exception",
        usage: "/request-exception <rule-id> [for <N>d | until <YYYY-MM-DD>] <reason>",
        summary: "opens a catalog pull request for an exception to a rule; its merge is the approval",
    },
    CommandSpec {
        name: "change-tier",
        usage: "/change-tier <tier> <reason>",
        summary: "opens a catalog pull request changing this service's tier",
    },
    CommandSpec {
        name: "recheck",
        usage: "/recheck",
        summary: "scores again now and updates the check run and the tracking issue",
    },
    CommandSpec {
        name: "readiness",
        usage: "/readiness",
        summary: "replies with the current scorecard and these commands",
    },
];

impl Command {
    /// The command's name without the slash.
    pub fn name(&self) -> &'static str {
        match self {
            Command::RequestException { .. } => "request-exception",
            Command::ChangeTier { .. } => "change-tier",
            Command::Recheck => "recheck",
            Command::Readiness => "readiness",
        }
    }
}

/// The spec of a command by name.
pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Every command line of a comment, in order: `Ok` for commands, `Err` for malformed or misspelt ones. Lines in code
/// blocks, quotes and HTML comments are ignored, and so are `/words` that are not close to any command (paths,
/// `/cc`).
///
/// A command line starts, after at most 3 spaces, with `/` and a name of ASCII letters, digits and `-` (any case)
/// followed by whitespace or the end of the line; `/etc/passwd` and `/recheck.` are not command lines. Lines end at
/// `\n` or `\r\n`. Ignored: indented code (4 columns, a tab reaching the next multiple of 4), fenced code
/// (```` ``` ```` or `~~~`, closed by a fence of the same character at least as long; an unclosed fence runs to the
/// end), block quotes (`>`), and HTML comments (`<!--` to `-->`, across lines; `<!--` inside an inline code span is
/// text). Each command line gives one entry. Arguments are separated by whitespace; a reason is the rest of the line,
/// trimmed and kept as written. A missing argument is reported just after what precedes it; a bad one at its first
/// character. Only the first [`MAX_COMMENT_CHARS`] characters are read (see there).
pub fn parse(body: &str) -> Vec<Result<Found, ParseError>> {
    parse::lines(parse::bounded(body).0).collect()
}

/// Whether `body` has a command line at all ([`parse`] would not be empty), reading no further than the first.
pub fn has_command(body: &str) -> bool {
    parse::lines(parse::bounded(body).0).next().is_some()
}

/// The command lines of a comment as the App acts on them: the first [`MAX_COMMANDS`] parsed (as [`parse`] does),
/// the rest only named, and whether the body was longer than [`MAX_COMMENT_CHARS`].
pub fn read(body: &str) -> Comment {
    let (text, truncated) = parse::bounded(body);
    let mut lines = parse::lines(text);
    let commands = lines.by_ref().take(MAX_COMMANDS).collect();
    let ignored = lines
        .map(|item| match item {
            Ok(found) => Ignored { line: found.line, command: Some(found.command.name()) },
            Err(error) => Ignored { line: error.line, command: error.command },
        })
        .collect();
    Comment { commands, ignored, truncated }
}
