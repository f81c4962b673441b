//! Diagnostics: problems found in user files, each with a file, a position and a message.
//!
//! Every input error a user can make (policy, catalog, exceptions) ends up here, so the command line can print
//! all of them at once as `file:line:col: message`, the format editors and CI annotations understand.

use std::borrow::Cow;
use std::fmt;

/// A file name as shown in messages and reports: as it is, unless it holds a control character (a newline, a tab, an
/// escape); then quoted and escaped like a Rust string (`"a\nb.md"`), as git quotes such names, so that a file name
/// can neither break a line of a report nor pass for a line of its own.
pub fn shown_path(path: &str) -> Cow<'_, str> {
    if path.chars().any(char::is_control) { Cow::Owned(format!("{path:?}")) } else { Cow::Borrowed(path) }
}

/// A 1-based line and column in a text file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub const fn new(line: usize, col: usize) -> Self {
        Self { line, col }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub pos: Pos,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, pos: Pos, message: impl Into<String>) -> Self {
        Self { file: file.into(), pos, severity: Severity::Error, message: message.into() }
    }

    pub fn warning(file: impl Into<String>, pos: Pos, message: impl Into<String>) -> Self {
        Self { file: file.into(), pos, severity: Severity::Warning, message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Pos { line, col } = self.pos;
        match self.severity {
            Severity::Error => write!(f, "{}:{line}:{col}: {}", shown_path(&self.file), self.message),
            Severity::Warning => write!(f, "{}:{line}:{col}: warning: {}", shown_path(&self.file), self.message),
        }
    }
}

/// Diagnostics collected while loading a set of files. Loading goes on after an error so that a user sees every
/// problem in one run, up to [`PER_FILE`] a file: a crafted file cannot print (or annotate) without end.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    shown: Vec<Diagnostic>,
    /// Per file: how many are shown.
    counts: std::collections::BTreeMap<String, usize>,
    /// Per file: how many more there were, and whether one of them was an error.
    more: std::collections::BTreeMap<String, (usize, bool)>,
}

/// Diagnostics kept for one file; the rest are counted.
pub const PER_FILE: usize = 100;

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        let count = self.counts.entry(d.file.clone()).or_default();
        if *count < PER_FILE {
            *count += 1;
            self.shown.push(d);
        } else {
            let more = self.more.entry(d.file.clone()).or_default();
            more.0 += 1;
            more.1 |= d.is_error();
        }
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        for d in other {
            self.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.shown.iter().any(Diagnostic::is_error) || self.more.values().any(|(_, error)| *error)
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// Sorted by file, then position, so output is stable; a file with more than [`PER_FILE`] ends with one line
    /// that counts the rest.
    pub fn sorted(self) -> Vec<Diagnostic> {
        let mut all = self.shown;
        all.sort_by(|a, b| (&a.file, a.pos, &a.message).cmp(&(&b.file, b.pos, &b.message)));
        all.dedup();
        for (file, (count, error)) in self.more {
            let at = all.iter().rev().find(|d| d.file == file).map(|d| d.pos).unwrap_or(Pos { line: 1, col: 1 });
            let message = format!("{count} more problem(s) in this file not shown");
            let severity = if error { Severity::Error } else { Severity::Warning };
            let index = all.iter().rposition(|d| d.file == file).map(|i| i + 1).unwrap_or(all.len());
            all.insert(index, Diagnostic { file, pos: at, severity, message });
        }
        all
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.shown.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.clone().sorted() {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// "did you mean `x`?" for a misspelt name, when a candidate is close enough to be a likely typo.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The message suffix for [`did_you_mean`], empty when there is no good candidate.
pub fn suggestion<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(input, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}
