//! The scanner behind [`super::parse`].
//!
//! Two layers: [`Blocks`] walks the comment line by line and tells which lines are plain text (not in a fenced or
//! indented code block, a block quote or an HTML comment); [`command_line`] reads one such line. Positions are kept
//! as byte offsets into the line while scanning and turned into 1-based character columns only when an error is
//! made.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    COMMANDS, Command, ExceptionLength, Found, MAX_COMMENT_CHARS, MAX_DAYS, MAX_REASON_CHARS, MAX_RULE_ID_CHARS,
    ParseError, ParseErrorKind,
};

/// The part of `body` that is read, and whether that is not all of it: at most [`MAX_COMMENT_CHARS`] characters,
/// without the line the limit cuts (unless the limit falls just before that line's end).
pub(super) fn bounded(body: &str) -> (&str, bool) {
    let Some((cut, _)) = body.char_indices().nth(MAX_COMMENT_CHARS) else { return (body, false) };
    let read = &body[..cut];
    if body[cut..].starts_with(['\n', '\r']) {
        return (read, true);
    }
    (read.rfind('\n').map_or("", |end| &read[..end]), true)
}

/// Every command line of `text`, in order, found as they are asked for.
pub(super) fn lines(text: &str) -> impl Iterator<Item = Result<Found, ParseError>> + '_ {
    let mut blocks = Blocks::default();
    text.split('\n').enumerate().filter_map(move |(index, line)| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        blocks.is_text(line).then(|| command_line(line, index + 1)).flatten()
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Blocks: code, quotes and HTML comments
// ---------------------------------------------------------------------------------------------------------------

/// What the lines before the current one left open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Blocks {
    #[default]
    Text,
    /// A fenced code block opened by `len` (at least 3) `marker`s (`` ` `` or `~`).
    Fence { marker: u8, len: usize },
    /// An HTML comment whose `-->` has not been seen yet.
    Comment,
}

impl Blocks {
    /// Moves past `line`; true when it is plain text, so may be a command line.
    fn is_text(&mut self, line: &str) -> bool {
        match *self {
            Blocks::Fence { marker, len } => {
                if closes_fence(line, marker, len) {
                    *self = Blocks::Text;
                }
                false
            }
            Blocks::Comment => {
                if !comment_after(line, true) {
                    *self = Blocks::Text;
                }
                false
            }
            Blocks::Text => self.text_line(line),
        }
    }

    fn text_line(&mut self, line: &str) -> bool {
        let (width, rest) = indentation(line);
        if width >= 4 {
            // Indented code: nothing in it counts, not even `<!--`.
            return false;
        }
        if let Some(fence) = opening_fence(rest) {
            *self = fence;
            return false;
        }
        if comment_after(rest, false) {
            *self = Blocks::Comment;
        }
        !rest.starts_with('>')
    }
}

/// The indentation of `line` in columns (a tab moves to the next multiple of 4), and the line after it.
fn indentation(line: &str) -> (usize, &str) {
    let mut width = 0usize;
    for (at, c) in line.char_indices() {
        match c {
            ' ' => width = width.saturating_add(1),
            '\t' => width = (width / 4).saturating_add(1).saturating_mul(4),
            _ => return (width, &line[at..]),
        }
    }
    (width, "")
}

/// The number of `marker` bytes `text` starts with.
fn run_of(text: &str, marker: u8) -> usize {
    text.bytes().take_while(|&b| b == marker).count()
}

/// A code fence opening a block: 3 or more backticks or tildes (an indentation of at most 3 already removed). A
/// backtick fence's info string cannot hold a backtick (```` ```x``` ```` is inline code).
fn opening_fence(rest: &str) -> Option<Blocks> {
    let marker = rest.bytes().next().filter(|&b| b == b'`' || b == b'~')?;
    let len = run_of(rest, marker);
    let info = &rest[len..];
    (len >= 3 && !(marker == b'`' && info.contains('`'))).then_some(Blocks::Fence { marker, len })
}

/// Whether `line` closes a fence of `len` `marker`s: at least as many of the same marker, indented at most 3, and
/// followed only by spaces and tabs.
fn closes_fence(line: &str, marker: u8, len: usize) -> bool {
    let (width, rest) = indentation(line);
    let run = run_of(rest, marker);
    width < 4 && run >= len && rest[run..].trim_start_matches([' ', '\t']).is_empty()
}

/// Whether an HTML comment is open at the end of `line`, given whether one was open at its start.
///
/// `<!-->` and `<!--->` are complete (empty) comments, so `-->` is looked for from the opening's second character.
/// An opening inside an inline code span (`` `<!--` ``) is text.
fn comment_after(line: &str, mut open: bool) -> bool {
    let bytes = line.as_bytes();
    let mut spans = CodeSpans::new(bytes);
    let mut at = 0;
    while at < bytes.len() {
        if open {
            let Some(close) = find(&bytes[at..], b"-->") else { return true };
            at += close + 3;
            open = false;
        } else if bytes[at] == b'`' {
            at = spans.skip(at);
        } else if bytes[at..].starts_with(b"<!--") {
            at += 2;
            open = true;
        } else {
            at += 1;
        }
    }
    open
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// The inline code spans of one line: a run of backticks opens a span that the next run of the same length closes;
/// a run that nothing closes is literal. Worked out once per line, so a line of many runs costs linear time.
struct CodeSpans {
    /// Each run's start, and where scanning resumes after it (past its span, or past the run itself).
    runs: Vec<(usize, usize)>,
    /// The first run not yet passed.
    next: usize,
}

impl CodeSpans {
    fn new(bytes: &[u8]) -> Self {
        let mut runs = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = bytes[at..].iter().take_while(|&&b| b == b'`').count();
            if len > 0 {
                runs.push((at, len));
            }
            at += len.max(1);
        }
        // From the end: the end of the nearest later run of each length.
        let mut later: HashMap<usize, usize> = HashMap::new();
        let mut resume = vec![0; runs.len()];
        for (i, &(start, len)) in runs.iter().enumerate().rev() {
            resume[i] = later.get(&len).copied().unwrap_or(start + len);
            later.insert(len, start + len);
        }
        let runs = runs.into_iter().map(|(start, _)| start).zip(resume).collect();
        Self { runs, next: 0 }
    }

    /// Where scanning resumes after the backtick at `at` (scanning only moves forward).
    fn skip(&mut self, at: usize) -> usize {
        while self.runs.get(self.next).is_some_and(|&(start, _)| start < at) {
            self.next += 1;
        }
        match self.runs.get(self.next) {
            Some(&(start, resume)) if start == at => resume,
            _ => at + 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// One command line
// ---------------------------------------------------------------------------------------------------------------

/// A problem at a byte offset of the line.
type Failure = (usize, ParseErrorKind);

/// The command on a plain-text `line` (1-based `number`), if the line is a command line. A `/word` that is not a
/// command and not close to one (`/cc`, `/etc/passwd` is not even a `/word`) gives `None`.
fn command_line(line: &str, number: usize) -> Option<Result<Found, ParseError>> {
    let (_, rest) = indentation(line);
    let after_slash = rest.strip_prefix('/')?;
    let name_len = after_slash.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
    let (name, args) = after_slash.split_at(name_len);
    if name.is_empty() || args.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    let slash = line.len() - rest.len();
    let error = |at: usize, command, kind| ParseError { line: number, column: column(line, at), command, kind };

    let lowercase = name.to_ascii_lowercase();
    let Some(command) = COMMANDS.iter().map(|c| c.name).find(|c| *c == lowercase) else {
        let did_you_mean = crate::diag::did_you_mean(&lowercase, COMMANDS.iter().map(|c| c.name))?;
        return Some(Err(error(slash, None, ParseErrorKind::Unknown { name: name.to_owned(), did_you_mean })));
    };
    let mut args = Cursor { line, at: line.len() - args.len() };
    let parsed = match command {
        "request-exception" => request_exception(&mut args),
        "change-tier" => change_tier(&mut args),
        "recheck" => no_arguments(&args, command).map(|()| Command::Recheck),
        _ => no_arguments(&args, command).map(|()| Command::Readiness),
    };
    Some(parsed.map(|command| Found { command, line: number }).map_err(|(at, kind)| error(at, Some(command), kind)))
}

/// The 1-based character column of byte offset `at` in `line`.
fn column(line: &str, at: usize) -> usize {
    line.get(..at).map_or(0, |before| before.chars().count()) + 1
}

/// Reads the arguments of a command line word by word.
struct Cursor<'a> {
    line: &'a str,
    /// Byte offset just after what has been read.
    at: usize,
}

impl<'a> Cursor<'a> {
    /// The next word (a run of non-whitespace) and its offset, if any; the cursor does not move when there is none.
    fn word(&mut self) -> Option<(usize, &'a str)> {
        let (start, word) = self.peek()?;
        self.at = start + word.len();
        Some((start, word))
    }

    fn peek(&self) -> Option<(usize, &'a str)> {
        let (start, rest) = self.rest();
        let word = rest.split(char::is_whitespace).next().filter(|w| !w.is_empty())?;
        Some((start, word))
    }

    /// The rest of the line with surrounding whitespace removed, and its offset.
    fn rest(&self) -> (usize, &'a str) {
        let rest = &self.line[self.at..];
        let trimmed = rest.trim_start();
        (self.at + rest.len() - trimmed.len(), trimmed.trim_end())
    }

    /// A missing argument is reported just after what has been read.
    fn missing(&self, what: &'static str) -> Failure {
        (self.at, ParseErrorKind::Missing { what })
    }
}

fn invalid(at: usize, message: String) -> Failure {
    (at, ParseErrorKind::Invalid { message })
}

/// `/request-exception <rule-id> [for <N>d | until <YYYY-MM-DD>] <reason>`
fn request_exception(args: &mut Cursor) -> Result<Command, Failure> {
    let (at, rule) = args.word().ok_or_else(|| args.missing("rule id"))?;
    if !is_rule_id(rule) {
        let message = format!("a rule id is letters, digits, `.`, `_` and `-`, found `{}`", shown(rule));
        return Err(invalid(at, message));
    }
    if rule.len() > MAX_RULE_ID_CHARS {
        let message = format!("a rule id is at most {MAX_RULE_ID_CHARS} characters long, found `{}`", shown(rule));
        return Err(invalid(at, message));
    }
    let length = exception_length(args)?;
    let reason = reason(args)?;
    Ok(Command::RequestException { rule: rule.to_owned(), length, reason })
}

/// `[A-Za-z0-9][A-Za-z0-9._-]*`
fn is_rule_id(word: &str) -> bool {
    word.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `for <N>d` or `until <YYYY-MM-DD>`, when the next word is `for` or `until`.
fn exception_length(args: &mut Cursor) -> Result<Option<ExceptionLength>, Failure> {
    let Some((_, keyword)) = args.peek() else { return Ok(None) };
    if keyword.eq_ignore_ascii_case("for") {
        args.word();
        let (at, token) = args.word().ok_or_else(|| args.missing("number of days"))?;
        days(token).map(|n| Some(ExceptionLength::Days(n))).map_err(|message| invalid(at, message))
    } else if keyword.eq_ignore_ascii_case("until") {
        args.word();
        let (at, token) = args.word().ok_or_else(|| args.missing("date"))?;
        date(token).map(|d| Some(ExceptionLength::Until(d))).map_err(|message| invalid(at, message))
    } else {
        Ok(None)
    }
}

/// `<N>d` with N in 1..=[`MAX_DAYS`].
fn days(token: &str) -> Result<u32, String> {
    let expected = || {
        format!("write the length as `for <N>d` with N from 1 to {MAX_DAYS}, e.g. `for 30d`; found `{}`", shown(token))
    };
    let digits = token.strip_suffix(['d', 'D']).filter(|d| is_number(d)).ok_or_else(expected)?;
    match digits.parse::<u32>() {
        Ok(0) => Err(expected()),
        Ok(n) if n <= MAX_DAYS => Ok(n),
        // Too many digits for a u32 is too many days too.
        _ => Err(format!("an exception lasts at most {MAX_DAYS} days, found `{}`", shown(token))),
    }
}

/// `YYYY-MM-DD`, a date that exists.
fn date(token: &str) -> Result<NaiveDate, String> {
    iso_date(token).ok_or_else(|| format!("`{}` is not a date; write YYYY-MM-DD", shown(token)))
}

fn iso_date(token: &str) -> Option<NaiveDate> {
    if token.len() != 10 || token.get(4..5)? != "-" || token.get(7..8)? != "-" {
        return None;
    }
    let field = |range: std::ops::Range<usize>| token.get(range).filter(|s| is_number(s))?.parse::<u32>().ok();
    let year = i32::try_from(field(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, field(5..7)?, field(8..10)?)
}

/// `/change-tier <tier> <reason>`
fn change_tier(args: &mut Cursor) -> Result<Command, Failure> {
    let (at, token) = args.word().ok_or_else(|| args.missing("tier"))?;
    let tier = tier(token).map_err(|message| invalid(at, message))?;
    let reason = reason(args)?;
    Ok(Command::ChangeTier { tier, reason })
}

fn tier(token: &str) -> Result<u32, String> {
    if !is_number(token) {
        return Err(format!("tier must be a number, found `{}`", shown(token)));
    }
    token.parse().map_err(|_| format!("tier `{}` is too large", shown(token)))
}

/// The rest of the line, trimmed: required, at most [`MAX_REASON_CHARS`] characters, kept as written.
fn reason(args: &Cursor) -> Result<String, Failure> {
    let (at, text) = args.rest();
    if text.is_empty() {
        return Err(args.missing("reason"));
    }
    let chars = text.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err((at, ParseErrorKind::ReasonTooLong { chars, max: MAX_REASON_CHARS }));
    }
    Ok(text.to_owned())
}

/// `/recheck` and `/readiness` take nothing.
fn no_arguments(args: &Cursor, command: &'static str) -> Result<(), Failure> {
    match args.rest() {
        (_, "") => Ok(()),
        (at, _) => Err((at, ParseErrorKind::UnexpectedArguments { command })),
    }
}

/// One or more ASCII digits (no sign: `str::parse` would take `+1`).
fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A word quoted in a message, cut short when it is long.
fn shown(word: &str) -> String {
    const MAX: usize = 40;
    match word.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &word[..cut]),
        None => word.to_owned(),
    }
}
