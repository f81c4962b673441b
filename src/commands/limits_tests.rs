//! What one comment can ask for: at most [`MAX_COMMANDS`] command lines acted on, at most [`MAX_COMMENT_CHARS`]
//! characters read.

use super::*;

fn lines_of(line: &str, count: usize) -> String {
    format!("{line}\n").repeat(count)
}

#[test]
fn only_the_first_commands_are_parsed_and_the_rest_are_named() {
    let body = format!("{}/rechek\n/change-tier 1 why\n/etc/passwd\n", lines_of("/recheck", 10));
    let comment = read(&body);
    assert_eq!(comment.commands.len(), MAX_COMMANDS);
    assert!(comment.commands.iter().all(|c| matches!(c, Ok(Found { command: Command::Recheck, .. }))));
    assert_eq!(
        comment.ignored,
        vec![Ignored { line: 11, command: None }, Ignored { line: 12, command: Some("change-tier") }],
        "a misspelt command is ignored without a name; `/etc/passwd` is no command line at all"
    );
    assert!(!comment.truncated);

    let few = read("/recheck\n> /readiness\n/readiness now\n");
    assert_eq!(few.commands.len(), 2);
    assert!(few.ignored.is_empty());
}

#[test]
fn a_flood_of_command_lines_is_read_only_up_to_the_comment_limit() {
    // 20,971 lines of 9 characters: GitHub would not take it; only the whole lines of the first 65,536 characters
    // are read.
    let body = lines_of("/recheck", 20_971);
    let comment = read(&body);
    let whole_lines = MAX_COMMENT_CHARS / "/recheck\n".len();
    assert!(comment.truncated);
    assert_eq!(comment.commands.len(), MAX_COMMANDS);
    assert_eq!(comment.ignored.len(), whole_lines - MAX_COMMANDS);
    assert_eq!(comment.ignored.last(), Some(&Ignored { line: whole_lines, command: Some("recheck") }));
    assert_eq!(parse(&body).len(), whole_lines);
}

#[test]
fn the_line_the_limit_cuts_is_not_read() {
    // A reason cut short by the limit would be a different request: the whole line is left out.
    let filler = "x".repeat(MAX_COMMENT_CHARS - 20);
    let body = format!("{filler}\n/request-exception runbook a reason that runs past the limit\n");
    assert!(parse(&body).is_empty(), "{:?}", parse(&body));
    assert!(read(&body).truncated);

    // A line that ends exactly at the limit is whole: it is read.
    let line = "/recheck";
    let filler = "y".repeat(MAX_COMMENT_CHARS - line.len() - 1);
    let exact = format!("{filler}\n{line}");
    assert_eq!(exact.chars().count(), MAX_COMMENT_CHARS);
    assert_eq!(parse(&exact).len(), 1);
    assert!(!read(&exact).truncated);
    let longer = format!("{exact}\n/readiness\n");
    assert_eq!(parse(&longer).len(), 1, "the limit falls just before the end of `/recheck`'s line");
    assert!(read(&longer).truncated);
}

#[test]
fn the_limit_counts_characters_not_bytes() {
    // Four bytes a character: the limit is GitHub's, in characters, and never cuts a character in two.
    let filler = "🚀".repeat(MAX_COMMENT_CHARS - 10);
    let body = format!("{filler}\n/recheck\n/readiness\n");
    assert_eq!(parse(&body).len(), 1, "`/recheck` ends within the first 65,536 characters");
    let odd = format!("{}é/recheck", "a".repeat(MAX_COMMENT_CHARS - 1));
    assert!(parse(&odd).is_empty());
}

#[test]
fn has_command_agrees_with_parse() {
    for body in ["", "hello", "/recheck", "> /recheck", "text\n/rechek", "/cc @team", "```\n/recheck\n```"] {
        assert_eq!(has_command(body), !parse(body).is_empty(), "{body:?}");
    }
    let late = format!("{}\n/recheck\n", "z".repeat(MAX_COMMENT_CHARS));
    assert!(!has_command(&late), "a command past the limit is not read");
}

#[test]
fn a_rule_id_is_short_enough_to_quote() {
    let long = "r".repeat(MAX_RULE_ID_CHARS + 1);
    let errors = parse(&format!("/request-exception {long} for 3d why\n/request-exception {} why", &long[1..]));
    match errors.as_slice() {
        [Err(e), Ok(_)] => assert_eq!(
            e.kind,
            ParseErrorKind::Invalid {
                message: format!("a rule id is at most 100 characters long, found `{}…`", "r".repeat(40))
            }
        ),
        other => panic!("{other:?}"),
    }
}
