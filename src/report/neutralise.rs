//! Make untrusted text safe to embed in GitHub-flavoured Markdown (check-run summaries, comments, issue bodies).
//!
//! Titles, messages, remediation, exception reasons, paths and service names come from users and policy files. Put
//! into Markdown as they are, `@team` would ping a team, `<details>` or `<img>` would render, and a `|` or a newline
//! would break the table row the text sits in. [`neutralise`] returns text that renders as what was written, on one
//! line, with none of those effects, while keeping the author's Markdown emphasis and `code spans`. [`code_span`]
//! wraps text in a code span that cannot be broken out of.
//!
//! The result is meant for *inline* use: inside a table cell, a list item, a heading or after a label. Do not start a
//! Markdown line with it (`# `, `- ` or `1. ` at the start of the text would then be block syntax).

/// Zero-width space: put after `@` so GitHub sees no mention (`@` must be followed directly by a name).
pub const ZWSP: char = '\u{200B}';

/// Neutralise untrusted text for inline use in GitHub-flavoured Markdown, tables included.
///
/// * `<`, `>` and `&` become entities, so no HTML tag, comment or entity renders;
/// * `@` not preceded by a letter or digit gets a zero-width space after it, so `@user` and `@org/team` do not ping
///   (`ops@example.com` is left alone: GitHub does not treat it as a mention);
/// * `|` is escaped (`\|`), which GitHub renders as `|` both inside and outside tables;
/// * line breaks become `<br>`, other control characters are dropped, tabs become spaces;
/// * backslash escapes keep their meaning; a backslash that escapes nothing is doubled so it cannot escape the
///   character that follows the text;
/// * a complete code span is kept as written (inside it nothing is rendered or linked, so `@org/team` stays copyable)
///   unless it contains `|`; a backtick that closes nothing is escaped so it cannot pair with one outside the text.
pub fn neutralise(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8 + 8);
    let mut prev: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => match chars.get(i + 1).copied() {
                Some(next) if next.is_ascii_punctuation() => {
                    match next {
                        // `\<` renders `<`: the entity renders the same and cannot start a tag.
                        '<' | '>' | '&' => push_entity(&mut out, next),
                        // `\@team` still renders the text `@team`, which GitHub would link.
                        '@' => {
                            out.push('@');
                            out.push(ZWSP);
                        }
                        _ => {
                            out.push('\\');
                            out.push(next);
                        }
                    }
                    prev = Some(next);
                    i += 2;
                    continue;
                }
                // A backslash before a line break is a hard break; the break becomes `<br>` below.
                Some('\n' | '\r') => {}
                _ => out.push_str("\\\\"),
            },
            '`' => {
                let run = run_length(&chars, i);
                match closing_run(&chars, i + run, run) {
                    Some(end) if !chars[i + run..end].contains(&'|') => {
                        let fence: String = chars[i..i + run].iter().collect();
                        out.push_str(&fence);
                        for &inner in &chars[i + run..end] {
                            match inner {
                                '\n' | '\r' | '\t' => out.push(' '),
                                ch if ch.is_control() => {}
                                ch => out.push(ch),
                            }
                        }
                        out.push_str(&fence);
                        prev = Some('`');
                        i = end + run;
                    }
                    _ => {
                        for _ in 0..run {
                            out.push_str("\\`");
                        }
                        prev = Some('`');
                        i += run;
                    }
                }
                continue;
            }
            '<' | '>' | '&' => push_entity(&mut out, c),
            '|' => out.push_str("\\|"),
            '@' => {
                out.push('@');
                if !prev.is_some_and(|p| p.is_ascii_alphanumeric()) {
                    out.push(ZWSP);
                }
            }
            '\r' => {
                if chars.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
        prev = Some(c);
        i += 1;
    }
    out
}

/// Wrap untrusted text in a Markdown code span (for rule ids, paths, commands): rendered verbatim, nothing linked or
/// mentioned. The fence is longer than any backtick run inside, line breaks become spaces. Text containing `|` (which
/// would need an escape that shows outside tables) or nothing visible is returned [`neutralise`]d instead.
pub fn code_span(text: &str) -> String {
    let content: String = text
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    if content.trim().is_empty() || content.contains('|') {
        return neutralise(text);
    }
    let chars: Vec<char> = content.chars().collect();
    let mut longest = 0;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = run_length(&chars, i);
            longest = longest.max(run);
            i += run;
        } else {
            i += 1;
        }
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space from each side when both are spaces, and a backtick next to the fence would join
    // it: pad in either case.
    let pad =
        content.starts_with('`') || content.ends_with('`') || (content.starts_with(' ') && content.ends_with(' '));
    let sp = if pad { " " } else { "" };
    format!("{fence}{sp}{content}{sp}{fence}")
}

fn push_entity(out: &mut String, c: char) {
    out.push_str(match c {
        '<' => "&lt;",
        '>' => "&gt;",
        _ => "&amp;",
    });
}

/// Number of consecutive backticks starting at `start`.
fn run_length(chars: &[char], start: usize) -> usize {
    chars[start..].iter().take_while(|&&c| c == '`').count()
}

/// Start of the first backtick run of exactly `len` backticks at or after `from` (CommonMark's code span closer).
fn closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = run_length(chars, i);
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(s: &str) -> String {
        s.replace('Z', &ZWSP.to_string())
    }

    #[test]
    fn mentions_do_not_ping() {
        assert_eq!(neutralise("ask @team"), z("ask @Zteam"));
        assert_eq!(neutralise("@acme/payments owns it"), z("@Zacme/payments owns it"));
        assert_eq!(neutralise("(@bob)"), z("(@Zbob)"));
        assert_eq!(neutralise(r"\@bob"), z("@Zbob"));
        // Not a mention on GitHub: an `@` after a letter or digit.
        assert_eq!(neutralise("ops@example.com"), "ops@example.com");
    }

    #[test]
    fn html_does_not_render() {
        assert_eq!(neutralise("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(neutralise("a & b &amp; c"), "a &amp; b &amp;amp; c");
        assert_eq!(neutralise("<!-- hidden -->"), "&lt;!-- hidden --&gt;");
        assert_eq!(neutralise(r"\<b>"), "&lt;b&gt;");
    }

    #[test]
    fn tables_and_lines_are_not_broken() {
        assert_eq!(neutralise("a | b"), r"a \| b");
        assert_eq!(neutralise("one\ntwo\r\nthree\rfour"), "one<br>two<br>three<br>four");
        assert_eq!(neutralise("tab\there\u{1b}[31m"), "tab here[31m");
        // An escaped pipe stays one escaped pipe; a backslash before a pipe cannot unescape it.
        assert_eq!(neutralise(r"a \| b"), r"a \| b");
        assert_eq!(neutralise(r"a\\|b"), r"a\\\|b");
        // A trailing backslash must not escape what the template puts after the text.
        assert_eq!(neutralise(r"dir\"), r"dir\\");
        assert_eq!(neutralise(r"C:\x"), r"C:\\x");
        let out = neutralise("x | y\nz | <w>");
        assert!(!out.contains('\n'));
        assert_eq!(out.matches('|').count(), out.matches(r"\|").count());
    }

    #[test]
    fn code_spans_are_kept_but_cannot_escape() {
        assert_eq!(neutralise("add `@acme/sre` to `CODEOWNERS`"), "add `@acme/sre` to `CODEOWNERS`");
        assert_eq!(neutralise("run `a <b>`"), "run `a <b>`");
        assert_eq!(neutralise("``a ` b``"), "``a ` b``");
        assert_eq!(neutralise("`multi\nline`"), "`multi line`");
        // Unclosed: escaped, so it cannot pair with a backtick the template writes after the text.
        assert_eq!(neutralise("it`s <b>"), r"it\`s &lt;b&gt;");
        // A pipe inside a code span would break a table: treat it as text.
        assert_eq!(neutralise("`a|b`"), r"\`a\|b\`");
        // An escaped backtick opens nothing.
        assert_eq!(neutralise(r"\`<i>`"), r"\`&lt;i&gt;\`");
    }

    #[test]
    fn code_span_fences_and_falls_back() {
        assert_eq!(code_span("runbook"), "`runbook`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span(" x "), "`  x  `");
        assert_eq!(code_span("docs/run\nbook.md"), "`docs/run book.md`");
        assert_eq!(code_span("@team <b>"), "`@team <b>`");
        assert_eq!(code_span("a|b"), r"a\|b");
        assert_eq!(code_span(""), "");
    }
}
