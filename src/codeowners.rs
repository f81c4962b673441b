//! CODEOWNERS: where GitHub finds the file, how it is parsed, and who owns a path.
//!
//! Pure: the caller reads the file and lists the paths; nothing here touches the disk.
//!
//! The rules follow GitHub's "About code owners" documentation:
//!
//! * Each line is a pattern followed by zero or more owners, separated by whitespace. Blank lines are ignored, a line
//!   whose first non-blank character is `#` is a comment, and a `#` that starts a word after the pattern starts a
//!   comment running to the end of the line.
//! * Patterns are gitignore patterns: a leading `/` anchors the pattern at the repository root, as does a `/` in the
//!   middle; a pattern with no `/` (other than a trailing one) matches at any depth; a trailing `/` matches only a
//!   directory, and so everything under it; a pattern that matches a directory owns everything beneath it; `*` and
//!   `?` do not cross `/`, `**` does (`**/logs`, `apps/**`, `a/**/b`). A backslash makes the next character literal,
//!   so `\ ` puts a space in a pattern and `\[` a bracket.
//! * GitHub's one documented departure in matching: a pattern ending in `/*` (`docs/*`) owns only the files directly
//!   in that directory, not files in its subdirectories.
//! * GitHub documents three gitignore features as not working in CODEOWNERS, and they are reported as errors here:
//!   `!` negation, `[ ]` character ranges, and escaping a leading `#` with `\` (`\#file`). Owners must be written
//!   `@username`, `@org/team-name` or as an email address.
//! * GitHub skips a line that contains invalid syntax (and shows the error when the file is viewed on github.com).
//!   [`parse`] does the same: a line with any error contributes no rule, and parsing goes on to report every problem.
//! * The last matching pattern decides the owners of a path. A pattern with no owners makes the paths it matches
//!   unowned.

use std::sync::OnceLock;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// GitHub does not load a CODEOWNERS file of this size or more ("CODEOWNERS files must be under 3 MB in size"). Counted
/// in MiB, so that a file this size is over the limit whichever megabyte GitHub means.
pub const GITHUB_MAX_BYTES: u64 = 3 * 1024 * 1024;

/// Where GitHub looks, in the order it looks.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// Picks the file GitHub would use from a predicate telling whether a path exists: the first of [`LOCATIONS`] that
/// does.
pub fn locate(exists: impl Fn(&str) -> bool) -> Option<&'static str> {
    LOCATIONS.into_iter().find(|path| exists(path))
}

/// A problem on one line of a CODEOWNERS file. `line` and `col` are 1-based; `col` counts characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}:{col}: {message}")]
pub struct CodeownersError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl CodeownersError {
    fn new(line: usize, col: usize, message: impl Into<String>) -> Self {
        Self { line, col, message: message.into() }
    }

    /// This error as a diagnostic against `file` (the path the CODEOWNERS file was read from).
    pub fn to_diagnostic(&self, file: &str) -> crate::diag::Diagnostic {
        crate::diag::Diagnostic::error(file, crate::diag::Pos::new(self.line, self.col), self.message.clone())
    }
}

/// One valid line of a CODEOWNERS file.
#[derive(Debug, Clone)]
pub struct OwnerRule {
    /// 1-based line number in the file.
    pub line: usize,
    /// 1-based column (in characters) where the pattern starts.
    pub col: usize,
    /// The pattern as written in the file, escapes included.
    pub pattern: String,
    /// The owners as written, in order; empty for a rule that un-owns what it matches.
    pub owners: Vec<String>,
    /// The `globset` globs the pattern translates to (one, or two when it also owns what is beneath a directory).
    globs: Vec<Glob>,
    /// Built on first use of [`OwnerRule::matches`]; [`Codeowners::rule_for`] uses the whole-file set instead.
    matcher: OnceLock<GlobSet>,
}

impl OwnerRule {
    /// Whether this rule's pattern matches `path` (relative, `/`-separated), regardless of later rules.
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.get_or_init(|| build_set(&self.globs).unwrap_or_else(|_| GlobSet::empty())).is_match(path)
    }

    /// The `globset` glob strings this rule's pattern was translated to.
    pub fn globs(&self) -> impl Iterator<Item = &str> {
        self.globs.iter().map(Glob::glob)
    }
}

/// A parsed CODEOWNERS file: its valid rules in file order.
#[derive(Debug, Clone)]
pub struct Codeowners {
    rules: Vec<OwnerRule>,
    /// Every rule's globs in one set; `None` only if the combined set failed to build, in which case matching falls
    /// back to trying rules one by one.
    set: Option<GlobSet>,
    /// For each glob in `set`, the index of the rule it came from (non-decreasing).
    glob_rule: Vec<usize>,
}

impl Default for Codeowners {
    fn default() -> Self {
        Self { rules: Vec::new(), set: Some(GlobSet::empty()), glob_rule: Vec::new() }
    }
}

impl Codeowners {
    /// The rule that decides `path` (relative to the repository root, `/`-separated): the last rule in the file whose
    /// pattern matches it.
    pub fn rule_for(&self, path: &str) -> Option<&OwnerRule> {
        let path = normalize(path);
        match &self.set {
            Some(set) => set.matches(path).into_iter().max().map(|glob| &self.rules[self.glob_rule[glob]]),
            None => self.rules.iter().rev().find(|rule| rule.matches(path)),
        }
    }

    /// The owners of `path`; empty when no rule matches it or the rule that decides it lists no owners.
    pub fn owners_of(&self, path: &str) -> &[String] {
        self.rule_for(path).map_or(&[], |rule| &rule.owners)
    }

    /// The valid rules, in file order.
    pub fn rules(&self) -> &[OwnerRule] {
        &self.rules
    }

    /// True when no rule assigns any owner (no rules at all, or only rules without owners).
    pub fn is_empty(&self) -> bool {
        self.rules.iter().all(|rule| rule.owners.is_empty())
    }
}

/// Parses the whole file, collecting every problem (does not stop at the first). Lines with errors contribute no rule,
/// as on GitHub; errors come in file order.
pub fn parse(text: &str) -> (Codeowners, Vec<CodeownersError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(rule) = parse_line(index + 1, line, &mut errors) {
            rules.push(rule);
        }
    }

    let mut glob_rule = Vec::new();
    let mut all = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        for glob in &rule.globs {
            glob_rule.push(index);
            all.push(glob.clone());
        }
    }
    let set = build_set(&all).ok();
    (Codeowners { rules, set, glob_rule }, errors)
}

fn build_set(globs: &[Glob]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob.clone());
    }
    builder.build()
}

fn normalize(path: &str) -> &str {
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.trim_start_matches('/')
}

/// One element of a pattern after escapes are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Question,
    Slash,
}

/// Parses one line; pushes its errors and returns its rule if it has none.
fn parse_line(line_no: usize, line: &str, errors: &mut Vec<CodeownersError>) -> Option<OwnerRule> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = skip_blank(&chars, 0);
    if i == chars.len() || chars[i] == '#' {
        return None;
    }
    let errors_before = errors.len();
    let err = |errors: &mut Vec<CodeownersError>, idx: usize, message: String| {
        errors.push(CodeownersError::new(line_no, idx + 1, message));
    };

    // The pattern: up to the first unescaped whitespace.
    let start = i;
    let mut toks = Vec::new();
    let mut reported_range = false;
    while i < chars.len() && !chars[i].is_whitespace() {
        let c = chars[i];
        match c {
            '\\' => match chars.get(i + 1) {
                None => {
                    err(errors, i, "pattern ends with a lone `\\`; write `\\\\` to match a backslash".into());
                    i += 1;
                }
                Some('#') if i == start => {
                    err(
                        errors,
                        i,
                        "escaping a leading `#` with `\\` is not supported in CODEOWNERS (GitHub documents that it \
                         does not work)"
                            .into(),
                    );
                    toks.push(Tok::Lit('#'));
                    i += 2;
                }
                Some(&next) => {
                    toks.push(if next == '/' { Tok::Slash } else { Tok::Lit(next) });
                    i += 2;
                }
            },
            '!' if i == start => {
                err(errors, i, "`!` negation is not supported in CODEOWNERS".into());
                i += 1;
            }
            '[' | ']' => {
                if !reported_range {
                    err(
                        errors,
                        i,
                        "`[ ]` character ranges are not supported in CODEOWNERS; write `\\[` and `\\]` to match \
                         brackets literally"
                            .into(),
                    );
                    reported_range = true;
                }
                toks.push(Tok::Lit(c));
                i += 1;
            }
            '*' => {
                toks.push(Tok::Star);
                i += 1;
            }
            '?' => {
                toks.push(Tok::Question);
                i += 1;
            }
            '/' => {
                toks.push(Tok::Slash);
                i += 1;
            }
            _ => {
                toks.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    let pattern: String = chars[start..i].iter().collect();

    // The owners: whitespace-separated words up to the end of the line or a word starting with `#`.
    let mut owners = Vec::new();
    loop {
        i = skip_blank(&chars, i);
        if i == chars.len() || chars[i] == '#' {
            break;
        }
        let owner_start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let owner: String = chars[owner_start..i].iter().collect();
        if is_valid_owner(&owner) {
            owners.push(owner);
        } else {
            err(
                errors,
                owner_start,
                format!("invalid owner `{owner}`: expected `@username`, `@org/team-name` or an email address"),
            );
        }
    }

    if errors.len() > errors_before {
        return None;
    }
    let Some(globs) = translate(&toks) else {
        err(errors, start, format!("pattern `{pattern}` matches no files; use `*` to match every file"));
        return None;
    };
    let mut compiled = Vec::with_capacity(globs.len());
    for glob in globs {
        match GlobBuilder::new(&glob).literal_separator(true).backslash_escape(true).build() {
            Ok(glob) => compiled.push(glob),
            Err(e) => {
                err(errors, start, format!("pattern `{pattern}` could not be compiled: {e}"));
                return None;
            }
        }
    }
    Some(OwnerRule { line: line_no, col: start + 1, pattern, owners, globs: compiled, matcher: OnceLock::new() })
}

fn skip_blank(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Translates a pattern to `globset` globs (to be built with `literal_separator(true)`), or `None` for a pattern with
/// no segments (`/`), which matches nothing.
fn translate(toks: &[Tok]) -> Option<Vec<String>> {
    let mut segments: Vec<&[Tok]> = toks.split(|t| *t == Tok::Slash).collect();
    let leading_slash = segments.first().is_some_and(|s| s.is_empty());
    if leading_slash {
        segments.remove(0);
    }
    let trailing_slash = segments.len() > 1 && segments.last().is_some_and(|s| s.is_empty());
    if trailing_slash {
        segments.pop();
    }
    if segments.is_empty() || segments == [&[] as &[Tok]] {
        return None;
    }
    // gitignore: a slash at the start or in the middle anchors the pattern at the root.
    let anchored = leading_slash || segments.len() > 1;

    let is_double_star = |seg: &[Tok]| seg.len() >= 2 && seg.iter().all(|t| *t == Tok::Star);
    let mut parts: Vec<String> = Vec::with_capacity(segments.len() + 1);
    if !anchored && !is_double_star(segments[0]) {
        parts.push("**".into());
    }
    for seg in &segments {
        parts.push(if is_double_star(seg) { "**".into() } else { render_segment(seg) });
    }
    let glob = parts.join("/");

    let last = segments[segments.len() - 1];
    Some(if is_double_star(last) {
        // `apps/**`, `**`: already everything beneath.
        vec![glob]
    } else if trailing_slash {
        // Only a directory matches, so only what is beneath it.
        vec![format!("{glob}/**")]
    } else if last == [Tok::Star] {
        // GitHub: `docs/*` owns the files directly in `docs`, not those in its subdirectories.
        vec![glob]
    } else {
        // The path itself, or everything beneath it when it is a directory.
        vec![format!("{glob}/**"), glob]
    })
}

/// A segment with no `/` and not exactly `**`: runs of `*` are a single `*` (as in gitignore), literals escaped.
fn render_segment(seg: &[Tok]) -> String {
    let mut out = String::new();
    let mut previous_star = false;
    for tok in seg {
        match *tok {
            Tok::Star if previous_star => {}
            Tok::Star => out.push('*'),
            Tok::Question => out.push('?'),
            Tok::Lit(c) => {
                if matches!(c, '\\' | '*' | '?' | '[' | ']' | '{' | '}') {
                    out.push('\\');
                }
                out.push(c);
            }
            Tok::Slash => unreachable!("segments are split on slashes"),
        }
        previous_star = *tok == Tok::Star;
    }
    out
}

/// `@username`, `@org/team-name`, or an email address.
fn is_valid_owner(owner: &str) -> bool {
    match owner.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            None => is_login(rest),
            Some((org, team)) => is_login(org) && is_team_slug(team),
        },
        None => is_email(owner),
    }
}

/// GitHub logins: letters, digits and hyphens, not starting with a hyphen; `_` appears in Enterprise Managed User
/// logins (`name_shortcode`).
fn is_login(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_team_slug(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A plausible address: `local@domain.tld` with a dot-separated domain of letters, digits and hyphens.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.');
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests;
