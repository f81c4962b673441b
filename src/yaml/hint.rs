//! A hint for YAML syntax errors that are usually an indentation mistake: a key one space off, a value indented under
//! a scalar, a tab. The parser's own message names what it expected; the hint names the line and its columns.

use serde_saphyr::granit_parser::ErrorKind;

/// `"; check the indentation of line N: …"` when `kind` is an error that a wrong indentation causes, else `None`.
/// `line` is 1-based, as reported.
pub(super) fn indentation(kind: &ErrorKind, text: &str, line: usize) -> Option<String> {
    let tabs = matches!(
        kind,
        ErrorKind::TabNotAllowed
            | ErrorKind::TabInBlockIndentation
            | ErrorKind::TabInIndentation
            | ErrorKind::TabAtBlockScalarStart
            | ErrorKind::TabInPlainScalar
    );
    let layout = matches!(
        kind,
        ErrorKind::ExpectedBlockMappingKey
            | ErrorKind::ExpectedBlockSequenceEntry
            | ErrorKind::InvalidIndentation
            | ErrorKind::MappingValueNotAllowed
            | ErrorKind::InvalidBlockScalarIndent
            | ErrorKind::UnexpectedEofBlockMapping
            | ErrorKind::UnexpectedEofBlockSequence
    );
    if !tabs && !layout {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let at = line.checked_sub(1).and_then(|i| lines.get(i))?;
    let indent = |l: &str| l.chars().take_while(|c| *c == ' ' || *c == '\t').collect::<String>();
    if tabs || indent(at).contains('\t') {
        return Some(format!(
            "; check the indentation of line {line}: it holds a tab, and YAML indents with spaces only"
        ));
    }
    let column = |l: &str| indent(l).chars().count() + 1;
    let above = lines[..line - 1]
        .iter()
        .enumerate()
        .rev()
        .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    Some(match above {
        Some((i, l)) => format!(
            "; check the indentation of line {line}: it starts at column {}, line {} above it at column {}",
            column(at),
            i + 1,
            column(l)
        ),
        None => format!("; check the indentation of line {line}: it starts at column {}", column(at)),
    })
}

#[cfg(test)]
#[path = "hint_tests.rs"]
mod tests;
