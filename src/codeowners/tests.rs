use super::*;

/// Parses `text`, failing the test if it has any error.
fn ok(text: &str) -> Codeowners {
    let (owners, errors) = parse(text);
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    owners
}

/// The owners of `path` joined by spaces ("" when unowned), for compact assertions.
fn who(co: &Codeowners, path: &str) -> String {
    co.owners_of(path).join(" ")
}

/// (line, col) of every error.
fn positions(errors: &[CodeownersError]) -> Vec<(usize, usize)> {
    errors.iter().map(|e| (e.line, e.col)).collect()
}

// ---- locate ----

#[test]
fn locate_prefers_dot_github_then_root_then_docs() {
    assert_eq!(locate(|_| true), Some(".github/CODEOWNERS"));
    assert_eq!(locate(|p| p == "CODEOWNERS" || p == "docs/CODEOWNERS"), Some("CODEOWNERS"));
    assert_eq!(locate(|p| p == "docs/CODEOWNERS"), Some("docs/CODEOWNERS"));
    assert_eq!(locate(|p| p == ".github/CODEOWNERS" || p == "docs/CODEOWNERS"), Some(".github/CODEOWNERS"));
    assert_eq!(locate(|_| false), None);
    // Other places GitHub does not read are never picked.
    assert_eq!(locate(|p| p == ".gitlab/CODEOWNERS" || p == "codeowners"), None);
}

#[test]
fn locate_asks_in_order_and_stops_at_the_first_hit() {
    let asked = std::cell::RefCell::new(Vec::new());
    let found = locate(|p| {
        asked.borrow_mut().push(p.to_string());
        p == "CODEOWNERS"
    });
    assert_eq!(found, Some("CODEOWNERS"));
    assert_eq!(*asked.borrow(), [".github/CODEOWNERS", "CODEOWNERS"]);
}

// ---- precedence ----

#[test]
fn last_matching_rule_wins() {
    let co = ok("* @everyone\n*.rs @rustaceans\n/src/ @src-team\n");
    assert_eq!(who(&co, "README.md"), "@everyone");
    assert_eq!(who(&co, "build.rs"), "@rustaceans");
    // Both `*.rs` and `/src/` match; `/src/` comes later.
    assert_eq!(who(&co, "src/main.rs"), "@src-team");
    assert_eq!(co.rule_for("src/main.rs").unwrap().line, 3);

    // Reversed order: now `*.rs` is later and wins inside src too.
    let co = ok("/src/ @src-team\n*.rs @rustaceans\n");
    assert_eq!(who(&co, "src/main.rs"), "@rustaceans");
    assert_eq!(who(&co, "src/notes.md"), "@src-team");
}

#[test]
fn a_later_broad_rule_overrides_an_earlier_specific_one() {
    let co = ok("/docs/ @docs\n* @everyone\n");
    assert_eq!(who(&co, "docs/guide.md"), "@everyone");
}

#[test]
fn no_matching_rule_means_no_owner() {
    let co = ok("/src/ @src-team\n");
    assert!(co.rule_for("README.md").is_none());
    assert!(co.owners_of("README.md").is_empty());
}

// ---- anchoring ----

#[test]
fn leading_slash_anchors_at_the_root() {
    let co = ok("/build @builders\n");
    assert_eq!(who(&co, "build"), "@builders");
    assert_eq!(who(&co, "build/out.txt"), "@builders");
    assert_eq!(who(&co, "sub/build"), "");
    assert_eq!(who(&co, "sub/build/out.txt"), "");
}

#[test]
fn pattern_without_slash_matches_at_any_depth() {
    let co = ok("Makefile @make\n");
    assert_eq!(who(&co, "Makefile"), "@make");
    assert_eq!(who(&co, "a/b/Makefile"), "@make");
    assert_eq!(who(&co, "a/b/Makefile.am"), "");
    assert_eq!(who(&co, "a/bMakefile"), "");
}

#[test]
fn slash_in_the_middle_anchors_at_the_root() {
    let co = ok("docs/api @api\n");
    assert_eq!(who(&co, "docs/api/index.md"), "@api");
    assert_eq!(who(&co, "docs/api"), "@api");
    assert_eq!(who(&co, "site/docs/api/index.md"), "");
}

// ---- directories ----

#[test]
fn a_pattern_naming_a_directory_owns_everything_beneath_it() {
    let co = ok("/docs @docs\n");
    assert_eq!(who(&co, "docs/a/b.md"), "@docs");
    assert_eq!(who(&co, "docs/readme.md"), "@docs");
    // Not a prefix match on names.
    assert_eq!(who(&co, "docs2/readme.md"), "");
    assert_eq!(who(&co, "docs.md"), "");
}

#[test]
fn trailing_slash_matches_directories_at_any_depth_and_not_files() {
    let co = ok("apps/ @octocat\n");
    assert_eq!(who(&co, "apps/web/index.js"), "@octocat");
    assert_eq!(who(&co, "services/apps/x.go"), "@octocat");
    // A file named `apps` is not a directory.
    assert_eq!(who(&co, "apps"), "");
    assert_eq!(who(&co, "lib/apps"), "");
}

#[test]
fn anchored_trailing_slash_owns_the_root_directory_recursively() {
    let co = ok("/build/logs/ @doctocat\n");
    assert_eq!(who(&co, "build/logs/a.log"), "@doctocat");
    assert_eq!(who(&co, "build/logs/2024/01/a.log"), "@doctocat");
    assert_eq!(who(&co, "src/build/logs/a.log"), "");
    assert_eq!(who(&co, "build/a.log"), "");
}

#[test]
fn unanchored_directory_without_slash_also_owns_contents_at_any_depth() {
    let co = ok("vendor @deps\n");
    assert_eq!(who(&co, "vendor/lib.c"), "@deps");
    assert_eq!(who(&co, "third_party/vendor/x/y.c"), "@deps");
}

// ---- wildcards ----

#[test]
fn single_star_does_not_cross_slash_but_double_star_does() {
    let co = ok("/src/*.rs @flat\n/lib/**/*.rs @deep\n");
    assert_eq!(who(&co, "src/main.rs"), "@flat");
    assert_eq!(who(&co, "src/sub/main.rs"), "");
    assert_eq!(who(&co, "lib/a.rs"), "@deep");
    assert_eq!(who(&co, "lib/a/b/c.rs"), "@deep");
    assert_eq!(who(&co, "lib/a/b/c.py"), "");
}

#[test]
fn question_mark_matches_one_character_but_not_slash() {
    let co = ok("/v?.txt @v\n");
    assert_eq!(who(&co, "v1.txt"), "@v");
    assert_eq!(who(&co, "v12.txt"), "");
    assert_eq!(who(&co, "v/.txt"), "");
}

#[test]
fn star_extension_matches_at_any_depth() {
    let co = ok("*.js @js-owner\n");
    assert_eq!(who(&co, "index.js"), "@js-owner");
    assert_eq!(who(&co, "web/src/components/app.js"), "@js-owner");
    assert_eq!(who(&co, "index.jsx"), "");
    assert_eq!(who(&co, "index.js.map"), "");
    assert_eq!(who(&co, ".eslintrc.js"), "@js-owner");
}

#[test]
fn star_alone_matches_everything() {
    let co = ok("* @global\n");
    for path in ["README.md", ".github/workflows/ci.yml", "a/b/c/d/e"] {
        assert_eq!(who(&co, path), "@global", "{path}");
    }
}

#[test]
fn trailing_double_star_owns_everything_inside() {
    let co = ok("apps/** @apps\n");
    assert_eq!(who(&co, "apps/x"), "@apps");
    assert_eq!(who(&co, "apps/x/y/z.ts"), "@apps");
    assert_eq!(who(&co, "lib/apps/x"), "", "`apps/**` contains a slash, so it is anchored");
}

#[test]
fn leading_double_star_matches_a_directory_at_any_depth() {
    let co = ok("**/logs @octocat\n");
    assert_eq!(who(&co, "logs/a.log"), "@octocat");
    assert_eq!(who(&co, "build/logs/a.log"), "@octocat");
    assert_eq!(who(&co, "deeply/nested/logs/x/y.log"), "@octocat");
    assert_eq!(who(&co, "catalogs/a.log"), "");
}

#[test]
fn middle_double_star_matches_zero_or_more_directories() {
    let co = ok("/a/**/b @ab\n");
    assert_eq!(who(&co, "a/b"), "@ab");
    assert_eq!(who(&co, "a/x/b"), "@ab");
    assert_eq!(who(&co, "a/x/y/b/file"), "@ab");
    assert_eq!(who(&co, "a/xb"), "");
}

#[test]
fn dir_star_owns_direct_children_only() {
    // GitHub's example: `docs/*` matches `docs/getting-started.md` but not `docs/build-app/troubleshooting.md`.
    let co = ok("docs/* docs@example.com\n");
    assert_eq!(who(&co, "docs/getting-started.md"), "docs@example.com");
    assert_eq!(who(&co, "docs/build-app/troubleshooting.md"), "");
    assert_eq!(who(&co, "site/docs/getting-started.md"), "");
}

#[test]
fn glob_metacharacters_that_gitignore_treats_literally_are_literal() {
    let co = ok("/{a,b}.txt @braces\n");
    assert_eq!(who(&co, "{a,b}.txt"), "@braces");
    assert_eq!(who(&co, "a.txt"), "");
}

#[test]
fn matching_is_case_sensitive() {
    let co = ok("/Docs/ @docs\n");
    assert_eq!(who(&co, "Docs/a.md"), "@docs");
    assert_eq!(who(&co, "docs/a.md"), "");
}

#[test]
fn leading_dot_slash_in_the_queried_path_is_ignored() {
    let co = ok("/src/ @src\n");
    assert_eq!(who(&co, "./src/a.rs"), "@src");
    assert_eq!(who(&co, "/src/a.rs"), "@src");
}

// ---- un-owning ----

#[test]
fn a_pattern_with_no_owners_unowns_what_it_matches() {
    let co = ok("/apps/ @octocat\n/apps/github\n");
    assert_eq!(who(&co, "apps/main/index.js"), "@octocat");
    assert_eq!(who(&co, "apps/github/index.js"), "");
    // Matched (by the empty rule), which is different from unmatched.
    let rule = co.rule_for("apps/github/index.js").expect("the empty rule decides");
    assert_eq!(rule.line, 2);
    assert!(rule.owners.is_empty());
    assert!(co.rule_for("README.md").is_none());
}

#[test]
fn a_later_rule_can_reassign_an_unowned_subdirectory() {
    let co = ok("/apps/ @octocat\n/apps/github @doctocat\n");
    assert_eq!(who(&co, "apps/github/x"), "@doctocat");
    assert_eq!(who(&co, "apps/other/x"), "@octocat");
}

// ---- comments and escapes ----

#[test]
fn blank_lines_and_comments_are_ignored() {
    let co = ok("# top comment\n\n   \n  # indented comment\n*.md @docs # trailing comment @not-an-owner\n");
    assert_eq!(co.rules().len(), 1);
    assert_eq!(co.rules()[0].line, 5);
    assert_eq!(co.rules()[0].owners, ["@docs"]);
    assert_eq!(who(&co, "a.md"), "@docs");
}

#[test]
fn comment_right_after_the_pattern_leaves_the_rule_without_owners() {
    let co = ok("*.md #@docs\n");
    assert_eq!(co.rules().len(), 1);
    assert!(co.rules()[0].owners.is_empty());
    assert_eq!(co.rule_for("a.md").map(|r| r.line), Some(1));
}

#[test]
fn hash_inside_a_pattern_is_literal() {
    let co = ok("/notes#1.txt @n\n");
    assert_eq!(co.rules()[0].pattern, "/notes#1.txt");
    assert_eq!(who(&co, "notes#1.txt"), "@n");
}

#[test]
fn escaping_a_leading_hash_is_an_error_as_github_documents() {
    let (co, errors) = parse("* @all\n\\#notes.md @n\n");
    assert_eq!(positions(&errors), [(2, 1)]);
    assert!(errors[0].message.contains("leading `#`"), "{}", errors[0].message);
    assert_eq!(co.rules().len(), 1);
    assert_eq!(who(&co, "#notes.md"), "@all");
}

#[test]
fn escaped_space_is_part_of_the_pattern() {
    let co = ok("/My\\ Documents/ @me\n");
    assert_eq!(co.rules()[0].pattern, "/My\\ Documents/");
    assert_eq!(co.rules()[0].owners, ["@me"]);
    assert_eq!(who(&co, "My Documents/a.txt"), "@me");
    assert_eq!(who(&co, "My/a.txt"), "");
}

#[test]
fn escaped_brackets_and_bang_are_literal() {
    let co = ok("/pages/\\[org\\]/ @pages\n\\!important.txt @bang\n");
    assert_eq!(who(&co, "pages/[org]/index.tsx"), "@pages");
    assert_eq!(who(&co, "pages/o/index.tsx"), "");
    assert_eq!(who(&co, "x/!important.txt"), "@bang");
}

#[test]
fn crlf_line_endings_and_bom_are_accepted() {
    let co = ok("\u{feff}* @a\r\n/docs/ @b\r\n");
    assert_eq!(who(&co, "x"), "@a");
    assert_eq!(who(&co, "docs/x"), "@b");
    assert_eq!(co.rules()[1].owners, ["@b"]);
}

#[test]
fn tabs_separate_pattern_and_owners() {
    let co = ok("*.go\t@gophers\t@org/go-team\n");
    assert_eq!(co.rules()[0].owners, ["@gophers", "@org/go-team"]);
}

// ---- owners ----

#[test]
fn users_teams_and_emails_are_valid_owners() {
    let co = ok("* @octocat @my-org/team_name.v2 docs@example.com first.last+tag@sub.example.co.uk @a_b-c\n");
    assert_eq!(
        co.rules()[0].owners,
        ["@octocat", "@my-org/team_name.v2", "docs@example.com", "first.last+tag@sub.example.co.uk", "@a_b-c"]
    );
}

#[test]
fn email_owner_owns_files() {
    let co = ok("*.md docs@example.com\n");
    assert_eq!(co.owners_of("guide/intro.md"), ["docs@example.com".to_string()]);
}

#[test]
fn invalid_owners_are_reported_with_their_column() {
    for (owner, col) in [
        ("octocat", 6),
        ("@", 6),
        ("@-octocat", 6),
        ("@org/", 6),
        ("@org/team/sub", 6),
        ("@/team", 6),
        ("user@localhost", 6),
        ("user@@example.com", 6),
        ("@octo#cat", 6),
    ] {
        let text = format!("*.md {owner}\n");
        let (co, errors) = parse(&text);
        assert_eq!(positions(&errors), [(1, col)], "{owner}");
        assert_eq!(
            errors[0].message,
            format!("invalid owner `{owner}`: expected `@username`, `@org/team-name` or an email address")
        );
        assert!(co.rules().is_empty(), "a line with an error is skipped: {owner}");
    }
}

#[test]
fn every_invalid_owner_on_a_line_is_reported() {
    let (_, errors) = parse("/src/  @ok bad  worse @fine\n");
    assert_eq!(positions(&errors), [(1, 12), (1, 17)]);
    assert!(errors[0].message.contains("`bad`"));
    assert!(errors[1].message.contains("`worse`"));
}

#[test]
fn columns_count_characters_not_bytes() {
    let (_, errors) = parse("/dóc/ nobody\n");
    assert_eq!(positions(&errors), [(1, 7)]);
}

// ---- unsupported pattern syntax ----

#[test]
fn negation_is_an_error() {
    let (co, errors) = parse("!*.md @docs\n");
    assert_eq!(positions(&errors), [(1, 1)]);
    assert!(errors[0].message.contains("negation"));
    assert!(co.rules().is_empty());
}

#[test]
fn negation_after_indentation_reports_the_indented_column() {
    let (_, errors) = parse("   !foo @a\n");
    assert_eq!(positions(&errors), [(1, 4)]);
}

#[test]
fn character_range_is_an_error_at_the_bracket() {
    // The CPython case: `Python/ceval*.[ch]`.
    let (co, errors) = parse("Python/ceval*.[ch] @markshannon\n");
    assert_eq!(positions(&errors), [(1, 15)], "reported once per pattern, at the first bracket");
    assert!(errors[0].message.contains("character ranges"));
    assert!(co.rules().is_empty());
}

#[test]
fn lone_closing_bracket_is_an_error() {
    let (_, errors) = parse("/a]b @x\n");
    assert_eq!(positions(&errors), [(1, 3)]);
}

#[test]
fn trailing_backslash_is_an_error() {
    let (_, errors) = parse("/docs\\\n");
    assert_eq!(positions(&errors), [(1, 6)]);
    assert!(errors[0].message.contains("lone `\\`"));
}

#[test]
fn root_slash_alone_is_an_error() {
    let (co, errors) = parse("/ @everyone\n");
    assert_eq!(positions(&errors), [(1, 1)]);
    assert!(errors[0].message.contains("matches no files"));
    assert!(co.is_empty());
}

#[test]
fn pattern_and_owner_errors_on_one_line_are_all_reported() {
    let (_, errors) = parse("![ab] nobody\n");
    assert_eq!(positions(&errors), [(1, 1), (1, 2), (1, 7)]);
}

#[test]
fn parsing_continues_after_errors() {
    let text = "\
* @everyone
!/secret/ @sec
/docs/ @docs
*.[ch] @c-team
/src/ @src bogus
*.rs @rust
";
    let (co, errors) = parse(text);
    assert_eq!(positions(&errors), [(2, 1), (4, 3), (5, 12)]);
    // The three bad lines contribute no rule; the good ones all work.
    assert_eq!(co.rules().iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3, 6]);
    assert_eq!(who(&co, "docs/x.md"), "@docs");
    assert_eq!(who(&co, "lib/a.rs"), "@rust");
    assert_eq!(who(&co, "secret/key"), "@everyone");
    assert_eq!(who(&co, "src/main.c"), "@everyone", "line 5 was skipped, so /src/ is not owned by @src");
}

#[test]
fn error_display_and_diagnostic() {
    let (_, errors) = parse("\n*.md nobody\n");
    assert_eq!(
        errors[0].to_string(),
        "line 2:6: invalid owner `nobody`: expected `@username`, `@org/team-name` or an email address"
    );
    let diagnostic = errors[0].to_diagnostic(".github/CODEOWNERS");
    assert_eq!(
        diagnostic.to_string(),
        ".github/CODEOWNERS:2:6: invalid owner `nobody`: expected `@username`, `@org/team-name` or an email address"
    );
}

// ---- is_empty, rules ----

#[test]
fn is_empty_means_no_rule_assigns_an_owner() {
    assert!(ok("").is_empty());
    assert!(ok("# only comments\n\n").is_empty());
    assert!(ok("/apps/\n*.md\n").is_empty(), "rules without owners own nothing");
    assert!(!ok("/apps/\n*.md @docs\n").is_empty());
    let (co, errors) = parse("* nobody\n");
    assert_eq!(errors.len(), 1);
    assert!(co.is_empty(), "an invalid line assigns nothing");
    assert!(Codeowners::default().is_empty());
}

#[test]
fn rules_keep_file_order_position_and_text() {
    let co = ok("# header\n  /src/**/*.rs   @a @b  # c\n\n*.md @d\n");
    let rules = co.rules();
    assert_eq!(rules.len(), 2);
    assert_eq!((rules[0].line, rules[0].col, rules[0].pattern.as_str()), (2, 3, "/src/**/*.rs"));
    assert_eq!(rules[0].owners, ["@a", "@b"]);
    assert_eq!((rules[1].line, rules[1].col, rules[1].pattern.as_str()), (4, 1, "*.md"));
}

#[test]
fn rule_matches_on_its_own_ignoring_precedence() {
    let co = ok("/docs/ @docs\n* @all\n");
    let docs = &co.rules()[0];
    assert!(docs.matches("docs/a.md"));
    assert!(!docs.matches("src/a.md"));
    assert_eq!(co.rule_for("docs/a.md").unwrap().line, 2);
}

#[test]
fn glob_translation() {
    let globs = |pattern: &str| -> Vec<String> {
        let co = ok(&format!("{pattern} @x\n"));
        co.rules()[0].globs().map(str::to_string).collect()
    };
    assert_eq!(globs("*.js"), ["**/*.js/**", "**/*.js"]);
    assert_eq!(globs("/docs"), ["docs/**", "docs"]);
    assert_eq!(globs("docs/"), ["**/docs/**"]);
    assert_eq!(globs("/docs/"), ["docs/**"]);
    assert_eq!(globs("docs/*"), ["docs/*"]);
    assert_eq!(globs("apps/**"), ["apps/**"]);
    assert_eq!(globs("**/logs"), ["**/logs/**", "**/logs"]);
    assert_eq!(globs("a**b"), ["**/a*b/**", "**/a*b"]);
    assert_eq!(globs("/a\\*b"), ["a\\*b/**", "a\\*b"]);
}

#[test]
fn escaped_star_is_literal() {
    let co = ok("/a\\*b @lit\n");
    assert_eq!(who(&co, "a*b"), "@lit");
    assert_eq!(who(&co, "axb"), "");
}

#[test]
fn many_paths_against_many_rules() {
    // Not a benchmark: checks the one-set lookup agrees with rule-by-rule matching on a larger file.
    let mut text = String::from("* @root\n");
    for i in 0..200 {
        text.push_str(&format!("/svc{i}/ @team{i}\n*.ext{i} @ext{i}\n"));
    }
    let co = ok(&text);
    assert!(co.set.is_some(), "the whole-file set was built");
    for i in 0..1000 {
        let path = format!("svc{}/src/file{}.ext{}", i % 250, i, i % 300);
        let expected = co.rules().iter().rev().find(|r| r.matches(&path)).map(|r| r.line);
        assert_eq!(co.rule_for(&path).map(|r| r.line), expected, "{path}");
    }
    assert_eq!(who(&co, "svc3/a.ext7"), "@ext7", "`*.ext7` (line 17) comes after `/svc3/` (line 8)");
    assert_eq!(who(&co, "svc9/a.ext2"), "@team9", "`/svc9/` (line 20) comes after `*.ext2` (line 7)");
    assert_eq!(who(&co, "other/a.txt"), "@root");
}
