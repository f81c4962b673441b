use super::*;

fn mark<'a>(attributes: &'a Attributes, path: &str) -> Option<(Mark, &'a str, usize)> {
    attributes.mark(path).map(|m| (m.mark, m.file, m.line))
}

#[test]
fn patterns_are_read_as_git_reads_them() {
    let root = "# generated clients\n\
                *.pb.go linguist-generated=true\n\
                /api/third/*.graphql linguist-vendored\n\
                docs/** linguist-documentation\n\
                web/dist/** -diff linguist-generated\n\
                assets/ linguist-vendored\n";
    let attributes = Attributes::parse([(".gitattributes", root)]);
    assert_eq!(mark(&attributes, "internal/api/payments.pb.go"), Some((Mark::Generated, ".gitattributes", 2)));
    assert_eq!(mark(&attributes, "payments.pb.go"), Some((Mark::Generated, ".gitattributes", 2)));
    assert_eq!(mark(&attributes, "api/third/github.graphql"), Some((Mark::Vendored, ".gitattributes", 3)));
    // Anchored to the file's directory: the same name deeper is not marked, nor is a deeper level under `*`.
    assert_eq!(mark(&attributes, "x/api/third/github.graphql"), None);
    assert_eq!(mark(&attributes, "api/third/more/github.graphql"), None);
    assert_eq!(mark(&attributes, "web/dist/app/main.js"), Some((Mark::Generated, ".gitattributes", 5)));
    // Other attributes say nothing, and a directory pattern matches nothing in an attributes file.
    assert_eq!(mark(&attributes, "docs/index.md"), None);
    assert_eq!(mark(&attributes, "assets/logo.svg"), None);
    assert_eq!(mark(&attributes, "internal/api/payments.go"), None);
    assert!(attributes.problems.is_empty(), "{:?}", attributes.problems);
}

#[test]
fn later_lines_and_deeper_files_win() {
    let root = "gen/** linguist-generated\ngen/keep.go -linguist-generated\nlib/** linguist-vendored\n";
    let nested = "*.js linguist-vendored=false\nown.js !linguist-vendored\n";
    // Given deeper first: the order of the files does not matter.
    let attributes = Attributes::parse([("lib/.gitattributes", nested), (".gitattributes", root)]);
    assert_eq!(mark(&attributes, "gen/client.go"), Some((Mark::Generated, ".gitattributes", 1)));
    assert_eq!(mark(&attributes, "gen/keep.go"), None, "unset by a later line");
    assert_eq!(mark(&attributes, "lib/jquery.min.css"), Some((Mark::Vendored, ".gitattributes", 3)));
    assert_eq!(mark(&attributes, "lib/jquery.js"), None, "the deeper file sets it false");
    assert_eq!(mark(&attributes, "lib/sub/own.js"), None, "unspecified again");
}

#[test]
fn the_line_budget_is_reported_not_silent() {
    let long = "x.txt linguist-generated\n".repeat(MAX_LINES + 5);
    let attributes =
        Attributes::parse([(".gitattributes", long.as_str()), ("a/.gitattributes", "*.c linguist-vendored")]);
    assert_eq!(attributes.problems.len(), 1, "{:?}", attributes.problems);
    assert!(attributes.problems[0].contains(&format!("more than {MAX_LINES} lines")), "{:?}", attributes.problems);
    assert_eq!(mark(&attributes, "a/b.c"), None, "the deeper file came after the budget ran out");
    assert!(mark(&attributes, "x.txt").is_some());
}

#[test]
fn bad_patterns_are_reported_and_the_rest_still_applies() {
    let attributes = Attributes::parse([(".gitattributes", "a[.txt linguist-generated\n*.min.js linguist-vendored\n")]);
    assert_eq!(attributes.problems.len(), 1, "{:?}", attributes.problems);
    assert!(
        attributes.problems[0].starts_with("`.gitattributes` line 1: pattern `a[.txt`"),
        "{:?}",
        attributes.problems
    );
    assert_eq!(mark(&attributes, "static/app.min.js").map(|m| m.0), Some(Mark::Vendored));
}
