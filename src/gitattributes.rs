//! What `.gitattributes` files say about vendored and generated code (`linguist-vendored`, `linguist-generated`),
//! read the way git reads attributes: patterns relative to the file's directory, a pattern without `/` matches a
//! name at any depth below it, a later line overrides an earlier one and a deeper file overrides its parents.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// At most this many attribute lines are read over all `.gitattributes` files of a tree; the rest are reported.
pub const MAX_LINES: usize = 2000;

/// The two attributes that mark files as not the repository's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Vendored,
    Generated,
}

impl Mark {
    pub fn attribute(self) -> &'static str {
        match self {
            Mark::Vendored => "linguist-vendored",
            Mark::Generated => "linguist-generated",
        }
    }
}

/// How one line sets an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Set,
    Unset,
    Unspecified,
}

#[derive(Debug)]
struct Line {
    file: String,
    number: usize,
    vendored: Option<State>,
    generated: Option<State>,
}

/// Where a file was marked: the attribute, the `.gitattributes` file and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marked<'a> {
    pub mark: Mark,
    pub file: &'a str,
    pub line: usize,
}

/// The linguist lines of a tree's `.gitattributes` files, compiled.
#[derive(Debug)]
pub struct Attributes {
    lines: Vec<Line>,
    set: GlobSet,
    /// Lines not read because of [`MAX_LINES`], and patterns that could not be compiled.
    pub problems: Vec<String>,
}

impl Attributes {
    /// Reads the given `.gitattributes` files (path in the tree, text). Order does not matter.
    pub fn parse<'t>(files: impl IntoIterator<Item = (&'t str, &'t str)>) -> Attributes {
        let mut files: Vec<(&str, &str)> = files.into_iter().collect();
        // Parents before children, so that a deeper file's lines come later and win.
        files.sort_by_key(|(path, _)| (path.matches('/').count(), *path));
        let mut lines = Vec::new();
        let mut builder = GlobSetBuilder::new();
        let mut problems = Vec::new();
        let mut read = 0;
        'files: for (path, text) in files {
            let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            for (index, raw) in text.lines().enumerate() {
                read += 1;
                if read > MAX_LINES {
                    problems.push(format!(
                        "`.gitattributes` files hold more than {MAX_LINES} lines: `{path}` from line {} on and any \
                         further file were not read",
                        index + 1
                    ));
                    break 'files;
                }
                let Some((pattern, line)) = linguist_line(raw, path, index + 1) else { continue };
                let glob = GlobBuilder::new(&anchored(dir, pattern)).literal_separator(true).build();
                match glob {
                    Ok(glob) => {
                        builder.add(glob);
                        lines.push(line);
                    }
                    Err(e) => problems.push(format!("`{path}` line {}: pattern `{pattern}`: {}", index + 1, e.kind())),
                }
            }
        }
        let set = builder.build().unwrap_or_else(|_| GlobSet::empty());
        Attributes { lines, set, problems }
    }

    /// Whether `path` is marked vendored or generated, and by which line (vendored first when both are).
    pub fn mark(&self, path: &str) -> Option<Marked<'_>> {
        if self.lines.is_empty() {
            return None;
        }
        let hits = self.set.matches(path);
        for mark in [Mark::Vendored, Mark::Generated] {
            let last = hits.iter().rev().map(|&i| &self.lines[i]).find_map(|line| {
                let state = match mark {
                    Mark::Vendored => line.vendored,
                    Mark::Generated => line.generated,
                };
                state.map(|state| (state, line))
            });
            if let Some((State::Set, line)) = last {
                return Some(Marked { mark, file: &line.file, line: line.number });
            }
        }
        None
    }
}

/// A line that says something about the linguist attributes: its pattern and what it sets. Comments, macro
/// definitions, quoted and negative patterns (forbidden by git) and directory patterns (which match nothing in an
/// attributes file) say nothing.
fn linguist_line<'l>(raw: &'l str, file: &str, number: usize) -> Option<(&'l str, Line)> {
    let mut tokens = raw.split_whitespace();
    let pattern = tokens.next()?;
    if pattern.starts_with(['#', '"', '!']) || pattern.starts_with("[attr]") || pattern.ends_with('/') {
        return None;
    }
    let mut line = Line { file: file.to_string(), number, vendored: None, generated: None };
    for token in tokens {
        let (name, state) = if let Some(name) = token.strip_prefix('-') {
            (name, State::Unset)
        } else if let Some(name) = token.strip_prefix('!') {
            (name, State::Unspecified)
        } else if let Some((name, value)) = token.split_once('=') {
            // Linguist counts any value but `false` as set.
            (name, if value.eq_ignore_ascii_case("false") { State::Unset } else { State::Set })
        } else {
            (token, State::Set)
        };
        match name {
            "linguist-vendored" => line.vendored = Some(state),
            "linguist-generated" => line.generated = Some(state),
            _ => {}
        }
    }
    (line.vendored.is_some() || line.generated.is_some()).then_some((pattern, line))
}

/// The glob, relative to the tree's root, of a pattern written in the `.gitattributes` of `dir`.
fn anchored(dir: &str, pattern: &str) -> String {
    let relative = match pattern.strip_prefix('/') {
        Some(rooted) => rooted.to_string(),
        None if pattern.contains('/') => pattern.to_string(),
        None => format!("**/{pattern}"),
    };
    if dir.is_empty() { relative } else { format!("{dir}/{relative}") }
}

#[cfg(test)]
#[path = "gitattributes/tests.rs"]
mod tests;
