//! `min_words`: a document of substance, judged by its words of prose rather than its bytes.
//!
//! Markdown is parsed (CommonMark with GitHub's tables); headings, code blocks and inline code, HTML, images (so
//! badges), front matter and lines whose words are all inside links or bare URLs are not prose. Other files
//! (`.rst`, `.adoc`, `.txt`, no extension) are read as plain text, leaving out their markup lines: headings and their
//! underlines, directives and image macros, literal and listing blocks, comments.

use super::{Ctx, Outcome};
use crate::diag::shown_path as shown;
use crate::facts::Content;
use crate::policy::GlobId;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// What is not counted, for messages.
const LEFT_OUT: &str = "headings, badges, images, code, HTML and lines of only links are not counted";

/// Words of prose in `text`, counting no further than `limit`; `path` picks Markdown or plain text.
pub fn prose_words(path: &str, text: &str, limit: usize) -> usize {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" | "mkdn" => markdown_words(text, limit),
        "rst" | "rest" => plain_words(text, Markup::Rst, limit),
        "adoc" | "asciidoc" | "asc" => plain_words(text, Markup::Asciidoc, limit),
        _ => plain_words(text, Markup::None, limit),
    }
}

/// A token is a word when it has a letter or digit; a URL is a link, not prose.
fn classify(token: &str) -> Option<bool> {
    // `|name|` is a reStructuredText substitution (usually a badge).
    let substitution = token.len() > 2 && token.starts_with('|') && token.ends_with('|');
    if substitution || !token.chars().any(char::is_alphanumeric) {
        return None;
    }
    let lower = token.trim_start_matches(['(', '<', '[']).to_ascii_lowercase();
    let url = lower.contains("://") || lower.starts_with("www.") || lower.starts_with("mailto:");
    Some(!url)
}

/// Words of one line (or table row), kept only when some of them are prose outside links.
#[derive(Default)]
struct Line {
    prose: usize,
    linked: usize,
}

impl Line {
    fn add(&mut self, text: &str, in_link: bool) {
        for token in text.split_whitespace() {
            match classify(token) {
                Some(true) if !in_link => self.prose += 1,
                Some(_) => self.linked += 1,
                None => {}
            }
        }
    }

    fn take(&mut self) -> usize {
        let line = std::mem::take(self);
        if line.prose > 0 { line.prose + line.linked } else { 0 }
    }
}

fn markdown_words(text: &str, limit: usize) -> usize {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let (mut hidden, mut links, mut total) = (0usize, 0usize, 0usize);
    let mut line = Line::default();
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(Tag::Heading { .. } | Tag::Image { .. } | Tag::CodeBlock(_) | Tag::MetadataBlock(_)) => {
                hidden += 1
            }
            Event::End(TagEnd::Heading(_) | TagEnd::Image | TagEnd::CodeBlock | TagEnd::MetadataBlock(_)) => {
                hidden = hidden.saturating_sub(1)
            }
            Event::Start(Tag::Link { .. }) => links += 1,
            Event::End(TagEnd::Link) => links = links.saturating_sub(1),
            Event::Text(t) if hidden == 0 => line.add(&t, links > 0),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_)
                | TagEnd::FootnoteDefinition
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition,
            ) => total += line.take(),
            // Inline code, HTML, math, footnote marks, rules: not prose.
            _ => {}
        }
        if total >= limit {
            return total;
        }
    }
    total + line.take()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Markup {
    None,
    Rst,
    Asciidoc,
}

/// A line of only punctuation: a heading underline, a rule, a table border, a block delimiter.
fn is_rule(line: &str) -> bool {
    !line.is_empty() && line.chars().all(|c| c.is_ascii_punctuation())
}

fn plain_words(text: &str, markup: Markup, limit: usize) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut total = 0;
    // The closing delimiter of the block being skipped; for reStructuredText an indented block is skipped instead.
    let mut fence: Option<&str> = None;
    let mut indented_block = false;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if let Some(close) = fence {
            if line.starts_with(close) {
                fence = None;
            }
            continue;
        }
        if indented_block {
            if line.is_empty() || raw.starts_with([' ', '\t']) {
                continue;
            }
            indented_block = false;
        }
        let next_is_underline = lines.get(i + 1).is_some_and(|n| is_rule(n.trim()) && n.trim().len() >= 3);
        let skip = match markup {
            _ if line.starts_with("```") || line.starts_with("~~~") => {
                fence = Some(&line[..3]);
                true
            }
            Markup::Asciidoc if ["----", "....", "++++", "////"].iter().any(|d| line.starts_with(d)) => {
                fence = Some(&line[..4]);
                true
            }
            Markup::Rst if line.starts_with("..") => {
                indented_block = true;
                true
            }
            Markup::Rst if line.ends_with("::") => {
                indented_block = true;
                false
            }
            Markup::Rst => next_is_underline,
            Markup::Asciidoc => {
                line.starts_with('=')
                    || line.starts_with("image:")
                    || line.starts_with("//")
                    || line.starts_with(':')
                    || (line.starts_with('[') && line.ends_with(']'))
            }
            Markup::None => next_is_underline,
        };
        if skip || is_rule(line) {
            continue;
        }
        let mut words = Line::default();
        words.add(line, false);
        total += words.take();
        if total >= limit {
            return total;
        }
    }
    total
}

/// One file's words, or why they could not be counted.
fn counted(path: &str, content: &Content, limit: usize) -> Result<usize, String> {
    match content {
        Content::Text(text) => Ok(prose_words(path, text, limit)),
        Content::TooLarge => Err("it is over the 1 MiB limit for files read".into()),
        Content::Binary => Err("it is not UTF-8 text".into()),
        Content::OutsideLink => Err("it is a symlink to outside the repository, not followed".into()),
        Content::NotRead => Err("its content was not fetched".into()),
    }
}

impl Ctx<'_> {
    /// A `file` check with `min_words`: a matching file counts when it has `min_bytes` and `min_words` words of prose.
    pub(super) fn substantial_file(
        &self,
        any: &[GlobId],
        all: &[GlobId],
        min_bytes: Option<u64>,
        min_words: u32,
    ) -> Outcome {
        let groups: Vec<&[GlobId]> =
            if any.is_empty() { all.iter().map(std::slice::from_ref).collect() } else { vec![any] };
        let mut found = Vec::new();
        for globs in groups {
            match self.substantial_in(globs, min_bytes, min_words) {
                Ok(path) => found.push(path),
                Err(outcome) => return outcome,
            }
        }
        let names: Vec<String> = found.iter().map(|p| format!("`{}`", shown(p))).collect();
        let mut outcome = Outcome::pass(format!("found {} with at least {min_words} words of prose", names.join(", ")));
        for path in found {
            outcome = outcome.at(path, None);
        }
        outcome
    }

    /// The first file matching `globs` that is big enough, or the outcome that says why none is: the file with the
    /// most words falls short, or a file could not be read (`error`: it might have passed).
    fn substantial_in(&self, globs: &[GlobId], min_bytes: Option<u64>, min_words: u32) -> Result<&str, Outcome> {
        let files = self.files(globs);
        let mut best: Option<(&str, usize)> = None;
        let mut unread = None;
        let mut small = None;
        for path in files.iter().copied() {
            let file = &self.subject.facts.files[path];
            if min_bytes.is_some_and(|min| file.size < min) {
                small.get_or_insert((path, file.size));
                continue;
            }
            match counted(path, &file.content, min_words as usize) {
                Ok(n) if n >= min_words as usize => return Ok(path),
                Ok(n) if best.is_none_or(|(_, most)| n > most) => best = Some((path, n)),
                Ok(_) => {}
                Err(why) => {
                    unread.get_or_insert((path, why));
                }
            }
        }
        if let Some((path, why)) = unread {
            let message = format!("`{}` was not read ({why}), so its words cannot be counted", shown(path));
            return Err(Outcome::error(message).at(path, None));
        }
        if let Some((path, n)) = best {
            let words = if n == 1 { "word" } else { "words" };
            let message =
                format!("`{}` has {n} {words} of prose, at least {min_words} expected ({LEFT_OUT})", shown(path));
            return Err(Outcome::fail(message).at(path, None));
        }
        Err(Outcome::fail(match small {
            Some((path, size)) => {
                format!("`{}` has only {size} bytes (at least {} expected)", shown(path), min_bytes.unwrap_or(0))
            }
            None => format!("no file matches {}", self.patterns(globs)),
        }))
    }
}
