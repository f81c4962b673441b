//! The command line as a user meets it: `--help` lists the formats, `--version` names the commit, `completions`
//! prints a script for each shell, and `--failing` keeps long multi-repository runs short.

use crate::support::{PolicyFile, Repo, rule, run};
use serde_json::Value;

#[test]
fn evaluate_help_lists_the_formats() {
    let out = run(["evaluate", "--help"]);
    out.expect_code(0);
    assert!(out.stdout.contains("[possible values: text, json, markdown, sarif]"), "{out:?}");
    assert!(out.stdout.contains("--failing"), "{out:?}");
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = run(["--version"]);
    out.expect_code(0);
    let line = out.stdout.trim();
    let (name, rest) = line.split_once(' ').expect("name and version");
    assert_eq!(name, "shipshape");
    assert!(rest.starts_with(env!("CARGO_PKG_VERSION")), "{line}");
    let commit = rest.split_once("(commit ").and_then(|(_, c)| c.strip_suffix(')')).expect("a commit in parentheses");
    // Built from this checkout: the commit is the head's (12 hex digits) when git is there.
    let head = std::process::Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output().ok();
    match head.filter(|h| h.status.success()) {
        Some(head) => assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim(), "{line}"),
        None => assert_eq!(commit, "unknown", "{line}"),
    }
}

#[test]
fn completions_are_printed_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef shipshape"),
        ("fish", "complete -c shipshape"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[shipshape]"),
    ] {
        let out = run(["completions", shell]);
        out.expect_code(0);
        assert!(out.stdout.contains(marker), "{shell}: {}", &out.stdout[..out.stdout.len().min(300)]);
        assert!(out.stdout.contains("evaluate"), "{shell} completes subcommands");
    }
    let out = run(["completions", "tcsh"]);
    out.expect_code(2);
    assert!(out.stderr.contains("possible values: bash, elvish, fish, powershell, zsh"), "{out:?}");
}

#[test]
fn failing_prints_only_what_fails() {
    let good = Repo::new("good");
    good.write("README.md", "# good\n").write("RUNBOOK.md", "# runbook\n").commit("init");
    let bad = Repo::new("bad");
    bad.write("README.md", "# bad\n").commit("init");
    let policy = PolicyFile::new(&[
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
        rule("runbook", "bronze", "{file: {any: [RUNBOOK.md]}}"),
    ]);
    let args = |extra: &[&str]| {
        let mut args = vec!["evaluate".to_string(), good.arg(), bad.arg(), "--policy".into(), policy.arg()];
        args.extend(extra.iter().map(|s| s.to_string()));
        run(args)
    };

    let text = args(&["--failing"]);
    text.expect_code(1);
    assert!(text.stdout.contains("Rule runbook (runbook)"), "{text:?}");
    assert!(!text.stdout.contains("Rule readme"), "passing rules are left out: {text:?}");
    assert!(!text.stdout.contains("good —"), "a repository with nothing failing is left out: {text:?}");

    let json = args(&["--failing", "--format", "json"]);
    json.expect_code(1);
    let cards = json.json();
    let cards = cards.as_array().expect("one object per repository");
    assert_eq!(cards.len(), 2, "JSON keeps every repository");
    let ids = |card: &Value| card["rules"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&cards[0]), Vec::<Value>::new());
    assert_eq!(ids(&cards[1]), vec![Value::from("runbook")]);
    assert_eq!(cards[1]["summary"]["pass"], 1, "the summary still counts every rule");

    let only_good = run(["evaluate", &good.arg(), "--policy", &policy.arg(), "--failing"]);
    only_good.expect_code(0);
    assert_eq!(only_good.stdout, "nothing fails: 1 repository scored, every rule passes, is excepted or was skipped\n");
}
