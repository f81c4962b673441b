use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/// The commands of `body` with their lines; fails on any error.
fn commands(body: &str) -> Vec<(usize, Command)> {
    parse(body)
        .into_iter()
        .map(|r| r.map(|f| (f.line, f.command)).unwrap_or_else(|e| panic!("{body:?}: unexpected error {e}")))
        .collect()
}

/// The one command of a one-command `body`.
fn command(body: &str) -> Command {
    match commands(body).as_slice() {
        [(1, command)] => command.clone(),
        other => panic!("{body:?}: expected one command on line 1, got {other:?}"),
    }
}

/// The one error of `body`.
fn error(body: &str) -> ParseError {
    match parse(body).as_slice() {
        [Err(e)] => e.clone(),
        other => panic!("{body:?}: expected one error, got {other:?}"),
    }
}

/// Asserts the one error of `body`: line, column, command and kind.
#[track_caller]
fn assert_error(body: &str, line: usize, column: usize, command: Option<&'static str>, kind: ParseErrorKind) {
    assert_eq!(error(body), ParseError { line, column, command, kind }, "{body:?}");
}

fn missing(what: &'static str) -> ParseErrorKind {
    ParseErrorKind::Missing { what }
}

fn invalid(message: &str) -> ParseErrorKind {
    ParseErrorKind::Invalid { message: message.to_owned() }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn exception(rule: &str, length: Option<ExceptionLength>, reason: &str) -> Command {
    Command::RequestException { rule: rule.to_owned(), length, reason: reason.to_owned() }
}

fn tier(tier: u32, reason: &str) -> Command {
    Command::ChangeTier { tier, reason: reason.to_owned() }
}

const RE: Option<&str> = Some("request-exception");
const CT: Option<&str> = Some("change-tier");
const DAYS_FORM: &str = "write the length as `for <N>d` with N from 1 to 3650, e.g. `for 30d`";

// ---------------------------------------------------------------------------------------------------------------
// Commands that parse
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn recheck_and_readiness() {
    assert_eq!(command("/recheck"), Command::Recheck);
    assert_eq!(command("/readiness"), Command::Readiness);
    assert_eq!(command("/recheck   \t"), Command::Recheck);
}

#[test]
fn names_are_case_insensitive() {
    assert_eq!(command("/Recheck"), Command::Recheck);
    assert_eq!(command("/READINESS"), Command::Readiness);
    assert_eq!(command("/Change-Tier 2 why"), tier(2, "why"));
    assert_eq!(command("/REQUEST-EXCEPTION r1 why"), exception("r1", None, "why"));
}

#[test]
fn up_to_three_spaces_before_the_slash() {
    assert_eq!(command(" /recheck"), Command::Recheck);
    assert_eq!(command("   /recheck"), Command::Recheck);
}

#[test]
fn request_exception_without_a_length() {
    assert_eq!(
        command("/request-exception logs.structured_2-b we ship logs elsewhere"),
        exception("logs.structured_2-b", None, "we ship logs elsewhere")
    );
    // The rule id is kept as written.
    assert_eq!(command("/request-exception SLO.1 x"), exception("SLO.1", None, "x"));
    // A reason that merely starts like a keyword.
    assert_eq!(command("/request-exception r1 forever, sorry"), exception("r1", None, "forever, sorry"));
}

#[test]
fn request_exception_for_days() {
    let days = |n| Some(ExceptionLength::Days(n));
    assert_eq!(command("/request-exception r1 for 30d migrating"), exception("r1", days(30), "migrating"));
    assert_eq!(command("/request-exception r1 FOR 1D x"), exception("r1", days(1), "x"));
    assert_eq!(command("/request-exception r1 for 3650d x"), exception("r1", days(3650), "x"));
    assert_eq!(command("/request-exception r1 for 007d x"), exception("r1", days(7), "x"));
    // Only one length is read; the reason may start with `for` after it.
    assert_eq!(
        command("/request-exception r1 for 30d for the migration"),
        exception("r1", days(30), "for the migration")
    );
}

#[test]
fn request_exception_until_a_date() {
    let until = |y, m, d| Some(ExceptionLength::Until(date(y, m, d)));
    assert_eq!(command("/request-exception r1 until 2026-03-01 why"), exception("r1", until(2026, 3, 1), "why"));
    assert_eq!(command("/request-exception r1 Until 2028-02-29 why"), exception("r1", until(2028, 2, 29), "why"));
}

#[test]
fn change_tier() {
    assert_eq!(command("/change-tier 2 moving to the edge"), tier(2, "moving to the edge"));
    assert_eq!(command("/change-tier 0 x"), tier(0, "x"));
    assert_eq!(command("/change-tier 4294967295 x"), tier(u32::MAX, "x"));
}

#[test]
fn reason_is_the_rest_of_the_line_trimmed_and_verbatim() {
    assert_eq!(command("/change-tier 2   two  spaces `and` <b>html</b>  \t"), tier(2, "two  spaces `and` <b>html</b>"));
    assert_eq!(command("/change-tier\t2\tx"), tier(2, "x"));
    assert_eq!(
        command("/request-exception r1 @someone #12 <!-- hi -->"),
        exception("r1", None, "@someone #12 <!-- hi -->")
    );
}

#[test]
fn unicode_reason_is_counted_in_characters() {
    let reason = "é".repeat(MAX_REASON_CHARS);
    assert_eq!(command(&format!("/change-tier 2 {reason}")), tier(2, &reason));
    let body = format!("/change-tier 2 {reason}é");
    assert_error(&body, 1, 16, CT, ParseErrorKind::ReasonTooLong { chars: 501, max: 500 });
    assert_eq!(command("/change-tier 1 déjà vu 🦀 日本"), tier(1, "déjà vu 🦀 日本"));
}

#[test]
fn columns_count_characters() {
    // U+3000 IDEOGRAPHIC SPACE is whitespace and 3 bytes long.
    assert_error(
        "/recheck\u{3000}now",
        1,
        10,
        Some("recheck"),
        ParseErrorKind::UnexpectedArguments { command: "recheck" },
    );
    assert_error("/change-tier\u{3000}\u{3000}ü reason", 1, 15, CT, invalid("tier must be a number, found `ü`"));
}

#[test]
fn multiple_commands_in_order() {
    let body = "Thanks!\n/recheck\n\n/change-tier x why\n/request-exception r1 for 10d why\n/rechek\n/readiness";
    let results = parse(body);
    assert_eq!(results.len(), 5, "{results:?}");
    assert_eq!(results[0], Ok(Found { command: Command::Recheck, line: 2 }));
    assert_eq!(results[1].as_ref().unwrap_err().line, 4);
    assert_eq!(results[2], Ok(Found { command: exception("r1", Some(ExceptionLength::Days(10)), "why"), line: 5 }));
    assert_eq!(results[3].as_ref().unwrap_err().line, 6);
    assert_eq!(results[4], Ok(Found { command: Command::Readiness, line: 7 }));
}

#[test]
fn crlf_bodies() {
    let body = "hello\r\n/recheck\r\n/change-tier 2 why\r\n/request-exception r1 until 2026-01-31\r\n";
    let results = parse(body);
    assert_eq!(results[0], Ok(Found { command: Command::Recheck, line: 2 }));
    assert_eq!(results[1], Ok(Found { command: tier(2, "why"), line: 3 }));
    assert_eq!(results[2], Err(ParseError { line: 4, column: 39, command: RE, kind: missing("reason") }));
    assert_eq!(results.len(), 3);
    // A stray `\r` is whitespace.
    assert_eq!(command("/recheck\r\r\n"), Command::Recheck);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn errors_display_their_position() {
    let e = error("Please:\n/request-exception r/1 because");
    assert_eq!((e.line, e.column), (2, 20));
    assert_eq!(e.to_string(), "line 2, column 20: a rule id is letters, digits, `.`, `_` and `-`, found `r/1`");
    assert_eq!(error("/rechek").to_string(), "line 1, column 1: unknown command `/rechek`");
}

#[test]
fn unknown_close_name_suggests_the_command() {
    let unknown = |name: &str, did_you_mean| ParseErrorKind::Unknown { name: name.to_owned(), did_you_mean };
    assert_error("/rechek", 1, 1, None, unknown("rechek", "recheck"));
    assert_error("  /Rechek please", 1, 3, None, unknown("Rechek", "recheck"));
    assert_error("/readyness", 1, 1, None, unknown("readyness", "readiness"));
    assert_error("/request-exceptoin r1 x", 1, 1, None, unknown("request-exceptoin", "request-exception"));
    assert_error("/request r1 x", 1, 1, None, unknown("request", "request-exception"));
    assert_error("/change-teir 1 x", 1, 1, None, unknown("change-teir", "change-tier"));
}

#[test]
fn words_that_are_not_commands_are_ignored() {
    for body in [
        "/cc @someone",
        "/assign @me",
        "/etc/passwd",
        "/ recheck",
        "//recheck",
        "/",
        "/recheck.",
        "/recheck,now",
        "/réchéck",
        "please /recheck",
        "\u{a0}/recheck",
        "",
        "\n\n",
    ] {
        assert_eq!(parse(body), [], "{body:?}");
    }
}

#[test]
fn no_arguments_for_recheck_and_readiness() {
    let unexpected = |command| ParseErrorKind::UnexpectedArguments { command };
    assert_error("/recheck now", 1, 10, Some("recheck"), unexpected("recheck"));
    assert_error(" /readiness   please", 1, 15, Some("readiness"), unexpected("readiness"));
}

#[test]
fn change_tier_errors() {
    assert_error("/change-tier", 1, 13, CT, missing("tier"));
    assert_error("/change-tier   ", 1, 13, CT, missing("tier"));
    assert_error("/change-tier t1 why", 1, 14, CT, invalid("tier must be a number, found `t1`"));
    assert_error("/change-tier tier 1 why", 1, 14, CT, invalid("tier must be a number, found `tier`"));
    assert_error("/change-tier +1 why", 1, 14, CT, invalid("tier must be a number, found `+1`"));
    assert_error("/change-tier -1 why", 1, 14, CT, invalid("tier must be a number, found `-1`"));
    assert_error("/change-tier 4294967296 why", 1, 14, CT, invalid("tier `4294967296` is too large"));
    assert_error("/change-tier 2", 1, 15, CT, missing("reason"));
    assert_error("/change-tier 2 \t ", 1, 15, CT, missing("reason"));
    let long = "x".repeat(MAX_REASON_CHARS + 1);
    assert_error(
        &format!("/change-tier 2  {long} "),
        1,
        17,
        CT,
        ParseErrorKind::ReasonTooLong { chars: 501, max: 500 },
    );
}

#[test]
fn request_exception_rule_id_errors() {
    assert_error("/request-exception", 1, 19, RE, missing("rule id"));
    assert_error("/request-exception   ", 1, 19, RE, missing("rule id"));
    let bad = |found: &str| invalid(&format!("a rule id is letters, digits, `.`, `_` and `-`, found `{found}`"));
    assert_error("/request-exception -r1 why", 1, 20, RE, bad("-r1"));
    assert_error("/request-exception .r1 why", 1, 20, RE, bad(".r1"));
    assert_error("/request-exception r/1 why", 1, 20, RE, bad("r/1"));
    assert_error("/request-exception règle why", 1, 20, RE, bad("règle"));
    // A long word is cut short in the message.
    let long = format!("{}/", "r".repeat(60));
    assert_error(&format!("/request-exception {long} why"), 1, 20, RE, bad(&format!("{}…", "r".repeat(40))));
}

#[test]
fn request_exception_length_errors() {
    // `/request-exception r1 for ` is 26 characters: the token after `for` is at column 27.
    for token in ["0d", "30", "30days", "x", "-1d", "+1d", "d", "1.5d", "٣d"] {
        let body = format!("/request-exception r1 for {token} why");
        assert_error(&body, 1, 27, RE, invalid(&format!("{DAYS_FORM}; found `{token}`")));
    }
    for token in ["3651d", "99999999999999d"] {
        let body = format!("/request-exception r1 for {token} why");
        assert_error(&body, 1, 27, RE, invalid(&format!("an exception lasts at most 3650 days, found `{token}`")));
    }
    assert_error("/request-exception r1 for", 1, 26, RE, missing("number of days"));
    assert_error("/request-exception r1 for   ", 1, 26, RE, missing("number of days"));
    assert_error("/request-exception r1 for 30d", 1, 30, RE, missing("reason"));
}

#[test]
fn request_exception_date_errors() {
    // `/request-exception r1 until ` is 28 characters.
    for token in
        ["2026-02-30", "2026-13-01", "2026-2-3", "26-02-03", "tomorrow", "2026-01-é1", "20é-01-01", "+026-01-01"]
    {
        let body = format!("/request-exception r1 until {token} why");
        assert_error(&body, 1, 29, RE, invalid(&format!("`{token}` is not a date; write YYYY-MM-DD")));
    }
    assert_error("/request-exception r1 until", 1, 28, RE, missing("date"));
    assert_error("/request-exception r1 until 2026-01-01", 1, 39, RE, missing("reason"));
}

#[test]
fn request_exception_reason_errors() {
    assert_error("/request-exception r1", 1, 22, RE, missing("reason"));
    assert_error("/request-exception r1  ", 1, 22, RE, missing("reason"));
    let long = "ü".repeat(MAX_REASON_CHARS + 1);
    let body = format!("/request-exception r1 for 3d {long}");
    assert_error(&body, 1, 30, RE, ParseErrorKind::ReasonTooLong { chars: 501, max: 500 });
}

// ---------------------------------------------------------------------------------------------------------------
// Ignored lines
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn code_fences_are_ignored() {
    assert_eq!(commands("```\n/recheck\n```\n/readiness"), [(4, Command::Readiness)]);
    assert_eq!(commands("```sh\n/recheck\n```"), []);
    assert_eq!(commands("   ```\n/recheck\n  ```\n/readiness"), [(4, Command::Readiness)]);
    // A closing fence is at least as long as the opening one, of the same character, with nothing after it.
    assert_eq!(commands("````\n```\n/recheck\n````\n/readiness"), [(5, Command::Readiness)]);
    assert_eq!(commands("```\n~~~\n/recheck\n```` \n/readiness"), [(5, Command::Readiness)]);
    assert_eq!(commands("```\n``` x\n/recheck"), []);
    assert_eq!(commands("```\n    ```\n/recheck"), []);
    // An unclosed fence runs to the end.
    assert_eq!(commands("text\n```\n/recheck\n/readiness"), []);
    // Inline code is not a fence.
    assert_eq!(commands("```x```\n/recheck"), [(2, Command::Recheck)]);
    assert_eq!(commands("``\n/recheck"), [(2, Command::Recheck)]);
}

#[test]
fn tilde_fences_are_ignored() {
    assert_eq!(commands("~~~\n/recheck\n```\n/recheck\n~~~\n/readiness"), [(6, Command::Readiness)]);
    assert_eq!(commands("~~~~ text with ` backticks\n/recheck\n~~~~~\n/readiness"), [(4, Command::Readiness)]);
}

#[test]
fn indented_code_is_ignored() {
    assert_eq!(commands("    /recheck"), []);
    assert_eq!(commands("\t/recheck"), []);
    assert_eq!(commands("  \t/recheck"), []);
    assert_eq!(commands("        /change-tier x"), []);
}

#[test]
fn quotes_are_ignored() {
    assert_eq!(commands("> /recheck"), []);
    assert_eq!(commands(">/recheck"), []);
    assert_eq!(commands("   > /change-tier x"), []);
    assert_eq!(commands("> quoted\n> /recheck\n/readiness"), [(3, Command::Readiness)]);
    // A fence in a quote ends with the quote.
    assert_eq!(commands("> ```\n/recheck"), [(2, Command::Recheck)]);
}

#[test]
fn html_comments_are_ignored() {
    assert_eq!(commands("<!--\n/recheck\n-->\n/readiness"), [(4, Command::Readiness)]);
    assert_eq!(commands("<!-- /recheck -->"), []);
    assert_eq!(commands("<!-- a -->\n/recheck"), [(2, Command::Recheck)]);
    assert_eq!(commands("text <!-- open\n/recheck\nclose --> more\n/readiness"), [(4, Command::Readiness)]);
    assert_eq!(commands("<!-- a --> <!-- b\n/recheck\n-->\n/readiness"), [(4, Command::Readiness)]);
    // Unclosed: runs to the end.
    assert_eq!(commands("<!--\n/recheck\n/readiness"), []);
    // `<!-->` and `<!--->` are empty comments.
    assert_eq!(commands("<!-->\n/recheck\n<!--->\n/readiness"), [(2, Command::Recheck), (4, Command::Readiness)]);
    // In code, `<!--` is text.
    assert_eq!(commands("Write `<!--` to hide text\n/recheck"), [(2, Command::Recheck)]);
    assert_eq!(commands("```\n<!--\n```\n/recheck"), [(4, Command::Recheck)]);
    assert_eq!(commands("    <!--\n/recheck"), [(2, Command::Recheck)]);
    // In a comment, a fence is text.
    assert_eq!(commands("<!--\n```\n-->\n/recheck"), [(4, Command::Recheck)]);
    // A comment opened after a command hides the lines after it.
    assert_eq!(error("/recheck <!--\n/readiness\n-->").line, 1);
}

#[test]
fn odd_input_does_not_panic() {
    for body in ["\r", "/\r", "\r/recheck", "\r\n\r\n", "\u{feff}/recheck", "/recheck\u{0}", "/request-exception 🦀"]
    {
        let _ = parse(body);
    }
    // As long as a comment can be (a longer line is not read at all).
    let huge = format!("/change-tier 1 {}", "x ".repeat(MAX_COMMENT_CHARS / 2 - 8));
    assert!(matches!(error(&huge).kind, ParseErrorKind::ReasonTooLong { .. }));
    let backticks: String = (1..350).map(|n| format!("{} ", "`".repeat(n))).collect();
    assert_eq!(commands(&format!("{backticks}\n/recheck")), [(2, Command::Recheck)]);
}

#[test]
fn specs_name_their_usage() {
    for spec in COMMANDS {
        assert_eq!(super::spec(spec.name), Some(spec));
        assert!(spec.usage.starts_with(&format!("/{} ", spec.name)) || spec.usage == format!("/{}", spec.name));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

/// Cases per property, unless `SHIPSHAPE_FUZZ_CASES` (or `PROPTEST_CASES`) says otherwise.
const DEFAULT_CASES: u32 = 6_000;

fn config() -> ProptestConfig {
    let cases = ["SHIPSHAPE_FUZZ_CASES", "PROPTEST_CASES"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok()?.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    // No regression files: a failure prints its minimal input, which belongs in a unit test above.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Pieces likely to hit the scanner's edge cases.
const FRAGMENTS: &[&str] = &[
    "/",
    "/recheck",
    "/readiness",
    "/change-tier",
    "/request-exception",
    "/rechek",
    "/cc",
    "recheck",
    "for",
    "until",
    "FOR",
    "30d",
    "0d",
    "3651d",
    "99999999999d",
    "2026-02-30",
    "2026-03-01",
    "1",
    "t1",
    "r1",
    "a.b_c-d",
    "-",
    "x",
    "reason",
    " ",
    "  ",
    "   ",
    "    ",
    "\t",
    "\n",
    "\n",
    "\r\n",
    "\r",
    "```",
    "~~~",
    "````",
    "`",
    ">",
    "<!--",
    "-->",
    "<!-->",
    "é",
    "日本",
    "🦀",
    "\u{a0}",
    "\u{3000}",
    "\u{301}",
    "\u{2028}",
    "\u{feff}",
    "\0",
];

fn fragments(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..max).prop_map(|parts| parts.concat())
}

fn any_string() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..200).prop_map(String::from_iter)
}

/// The lines of `body` as the parser numbers them.
fn lines(body: &str) -> Vec<&str> {
    body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect()
}

/// What holds for every body: one entry per command line, in order, at positions within the body.
fn check_positions(body: &str) -> Result<(), TestCaseError> {
    let lines = lines(body);
    let mut previous = 0;
    for result in parse(body) {
        let (line, column) = match &result {
            Ok(found) => (found.line, 1),
            Err(e) => (e.line, e.column),
        };
        prop_assert!(line > previous && line <= lines.len(), "{body:?}: {result:?}");
        let text = lines[line - 1];
        prop_assert!(text.trim_start_matches(' ').starts_with('/'), "{body:?}: {result:?}");
        prop_assert!(column >= 1 && column <= text.chars().count() + 1, "{body:?}: {result:?}");
        previous = line;
    }
    // `\r\n` and `\n` give the same result.
    if !body.contains('\r') {
        prop_assert_eq!(parse(&body.replace('\n', "\r\n")), parse(body));
    }
    Ok(())
}

const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn rule_id() -> impl Strategy<Value = String> {
    let first: Vec<char> = ALNUM.chars().collect();
    let rest: Vec<char> = ALNUM.chars().chain("._-".chars()).collect();
    (prop::sample::select(first), prop::collection::vec(prop::sample::select(rest), 0..40))
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0..=9999i32, 1..=12u32, 1..=31u32)
        .prop_filter_map("a date that exists", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn length() -> impl Strategy<Value = Option<ExceptionLength>> {
    prop_oneof![
        Just(None),
        (1..=MAX_DAYS).prop_map(|n| Some(ExceptionLength::Days(n))),
        any_date().prop_map(|d| Some(ExceptionLength::Until(d))),
    ]
}

/// A reason the parser must give back as is: no control characters, no surrounding whitespace, within the limit,
/// and, after a rule id with no length, not starting with the word `for` or `until`. `<!--` is broken up: it would
/// hide the lines after the command.
fn reason(after_rule_id: bool) -> impl Strategy<Value = String> {
    let char = any::<char>().prop_map(|c| if c.is_control() { 'x' } else { c });
    prop::collection::vec(char, 1..=MAX_REASON_CHARS).prop_map(move |chars| {
        let text = String::from_iter(chars).replace("<!--", "<! --");
        let mut text = text.trim().to_owned();
        let first = text.split(char::is_whitespace).next().unwrap_or("");
        if text.is_empty()
            || (after_rule_id && (first.eq_ignore_ascii_case("for") || first.eq_ignore_ascii_case("until")))
        {
            text.insert_str(0, "so ");
        }
        let cut = text.char_indices().nth(MAX_REASON_CHARS).map_or(text.len(), |(at, _)| at);
        text[..cut].trim_end().to_owned()
    })
}

fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Recheck),
        Just(Command::Readiness),
        (any::<u32>(), reason(false)).prop_map(|(tier, reason)| Command::ChangeTier { tier, reason }),
        (rule_id(), length())
            .prop_flat_map(|(rule, length)| (Just(rule), Just(length), reason(length.is_none())))
            .prop_map(|(rule, length, reason)| Command::RequestException { rule, length, reason }),
    ]
}

/// How a command line is written: indentation, the case of the name's letters, separators, trailing whitespace.
#[derive(Clone, Debug)]
struct Style {
    indent: usize,
    upper: Vec<bool>,
    separators: Vec<&'static str>,
    trailing: &'static str,
}

fn style() -> impl Strategy<Value = Style> {
    let separator = prop::sample::select(&[" ", "  ", "\t", " \t ", "\u{a0}"][..]);
    (
        0..=3usize,
        prop::collection::vec(any::<bool>(), 17),
        prop::collection::vec(separator, 4),
        prop::sample::select(&["", " ", "\t", "  "][..]),
    )
        .prop_map(|(indent, upper, separators, trailing)| Style { indent, upper, separators, trailing })
}

fn render(command: &Command, style: &Style) -> String {
    let name: String = command
        .name()
        .chars()
        .zip(style.upper.iter().chain(std::iter::repeat(&false)))
        .map(|(c, &upper)| if upper { c.to_ascii_uppercase() } else { c })
        .collect();
    let mut words = vec![format!("{}/{name}", " ".repeat(style.indent))];
    match command {
        Command::RequestException { rule, length, reason } => {
            words.push(rule.clone());
            match length {
                Some(ExceptionLength::Days(n)) => words.extend(["for".to_owned(), format!("{n}d")]),
                Some(ExceptionLength::Until(d)) => words.extend(["until".to_owned(), d.format("%Y-%m-%d").to_string()]),
                None => {}
            }
            words.push(reason.clone());
        }
        Command::ChangeTier { tier, reason } => words.extend([tier.to_string(), reason.clone()]),
        Command::Recheck | Command::Readiness => {}
    }
    let mut line = String::new();
    for (word, separator) in words.iter().zip(std::iter::once(&"").chain(&style.separators)) {
        line.push_str(separator);
        line.push_str(word);
    }
    line.push_str(style.trailing);
    line
}

/// Lines with no command for the parser, some holding commands it must skip. Each chunk leaves no block open.
const FILLER: &[&str] = &[
    "",
    "Thanks for the review!",
    "- a list item /recheck",
    "# Heading",
    "1. see /etc/passwd",
    "déjà vu 🦀 日本",
    "/cc @someone",
    "/path/to/file",
    "/",
    "please /recheck",
    "```\n/recheck\n```",
    "~~~~ sh\n/change-tier 1 x\n```\n~~~~",
    "> /recheck",
    "   > /readiness now",
    "<!--\n/readiness\n-->",
    "<!-- /recheck --> text",
    "    /recheck",
    "\t/request-exception r1 x",
    "`<!--` is text",
];

fn filler() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(FILLER), 0..8)
}

/// The longest run of `marker` in `text`.
fn longest_run(text: &str, marker: char) -> usize {
    text.split(|c| c != marker).map(str::len).max().unwrap_or(0)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics_on_any_string(body in any_string()) {
        check_positions(&body)?;
    }

    #[test]
    fn never_panics_on_edge_fragments(body in fragments(60)) {
        check_positions(&body)?;
    }

    #[test]
    fn a_rendered_command_parses_back(
        command in any_command(),
        style in style(),
        before in filler(),
        after in filler(),
        crlf in any::<bool>(),
    ) {
        let line = render(&command, &style);
        let newline = if crlf { "\r\n" } else { "\n" };
        let chunks: Vec<&str> = before.iter().copied().chain([line.as_str()]).chain(after.iter().copied()).collect();
        let body = chunks.join("\n");
        let body = body.replace('\n', newline);
        let number = before.iter().map(|chunk| chunk.split('\n').count()).sum::<usize>() + 1;
        prop_assert_eq!(parse(&body), vec![Ok(Found { command, line: number })], "{:?}", body);
    }

    #[test]
    fn nothing_in_a_code_fence_counts(
        content in fragments(60),
        tilde in any::<bool>(),
        indent in 0..=3usize,
        extra in 0..3usize,
        closed in any::<bool>(),
    ) {
        let marker = if tilde { '~' } else { '`' };
        // Longer than any run in the content, so only the closing fence closes it.
        let fence = marker.to_string().repeat((longest_run(&content, marker) + 1).max(3) + extra);
        let mut body = format!("{}{fence}\n{content}", " ".repeat(indent));
        if closed {
            body.push_str(&format!("\n{fence}\n/readiness"));
            let last = lines(&body).len();
            prop_assert_eq!(parse(&body), vec![Ok(Found { command: Command::Readiness, line: last })], "{:?}", body);
        } else {
            prop_assert_eq!(parse(&body), vec![], "{:?}", body);
        }
    }

    #[test]
    fn nothing_in_a_quote_or_indented_code_counts(
        content in fragments(60),
        indent in 0..=3usize,
        code in prop::sample::select(&["    ", "\t", "  \t", "     "][..]),
    ) {
        let quoted: Vec<String> = content.split('\n').map(|l| format!("{}>{l}", " ".repeat(indent))).collect();
        let quoted = quoted.join("\n");
        prop_assert_eq!(parse(&quoted), vec![], "{:?}", quoted);
        let indented: Vec<String> = content.split('\n').map(|l| format!("{code}{l}")).collect();
        let indented = indented.join("\n");
        prop_assert_eq!(parse(&indented), vec![], "{:?}", indented);
    }

    #[test]
    fn nothing_in_an_html_comment_counts(content in fragments(60), indent in 0..=3usize) {
        let mut content = content;
        while content.contains("-->") {
            content = content.replace("-->", "");
        }
        let body = format!("{}<!--\n{content}\n-->\n/readiness", " ".repeat(indent));
        let last = lines(&body).len();
        prop_assert_eq!(parse(&body), vec![Ok(Found { command: Command::Readiness, line: last })], "{:?}", body);
    }
}
