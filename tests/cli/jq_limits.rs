//! Hostile jq in a policy: every program is stopped at a limit, its rule is `error` with the reason, the
//! process survives and the other rules are judged.

use crate::support::{PolicyFile, Repo, evaluate_json, message, rule, status, statuses};
use std::time::{Duration, Instant};

fn query(jq: &str) -> String {
    format!("{{query: {{files: [data.json], jq: '{jq}'}}}}")
}

#[test]
fn hostile_programs_are_stopped_and_reported_and_the_others_judged() {
    let cases: &[(&str, &str, &str)] = &[
        ("rec-array", "def f: [f]; f", "recursed too deeply"),
        ("rec-add", "def f: 1 + f; f", "recursed too deeply"),
        ("loop", "def f: f; f", "time limit of 1 s"),
        ("until", "until(false; .)", "time limit of 1 s"),
        ("last-range", "last(range(1e12))", "exceeded its"),
        ("reduce", "reduce range(1e12) as $x (0; . + $x)", "exceeded its"),
        ("collect", "[range(1e12)]", "exceeded its"),
        ("repeat", "\"a\" * 1000000000 | length > 0", "memory limit of 256 MiB"),
        ("repeat-huge", "\"a\" * 100000000000 | length > 0", "memory limit of 256 MiB"),
        // Growing step by step: the memory limit, or the time limit first on a loaded machine.
        ("doubling", "reduce range(40) as $i (\"a\"; . + .) | length > 0", "memory limit of 256 MiB|time limit of 1 s"),
        (
            "deep-tojson",
            "reduce range(3000000) as $i (null; [.]) | tojson | length > 0",
            "recursed too deeply|time limit of 1 s",
        ),
    ];
    let mut rules: Vec<String> = cases.iter().map(|(id, jq, _)| rule(id, "bronze", &query(jq))).collect();
    rules.push(rule("sound", "bronze", &query(".a == 1")));
    rules.push(rule("unsound", "bronze", &query(".a == 2")));
    let policy = PolicyFile::new(&rules);
    let repo = Repo::new("hostile");
    repo.write("data.json", "{\"a\": 1}").commit("data");

    let started = Instant::now();
    let (out, card) = evaluate_json(&repo, &["--policy", &policy.arg()]);
    let took = started.elapsed();
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    for (id, _, reason) in cases {
        assert_eq!(status(&card, id), "error", "{id}: {}", statuses(&card));
        let said = message(&card, id);
        assert!(reason.split('|').any(|r| said.contains(r)), "{id}: {said}");
    }
    assert_eq!(status(&card, "sound"), "pass", "{}", statuses(&card));
    assert_eq!(status(&card, "unsound"), "fail", "{}", statuses(&card));
    // Four programs run out their 1 s; the rest stop sooner. Generous, for a loaded 2-core machine.
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn a_hostile_catalog_check_is_an_error_not_a_crash() {
    let policy = PolicyFile::new(&[
        rule("owner", "bronze", "{catalog: {jq: 'def f: [f]; f'}}"),
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
    ]);
    let catalog = crate::support::payments_catalog();
    let repo = Repo::with_origin("https://github.com/acme/payments.git");
    repo.write("README.md", "# payments\n").commit("readme");
    let (out, card) = evaluate_json(&repo, &["--policy", &policy.arg(), "--catalog", &catalog.arg()]);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    assert_eq!(status(&card, "owner"), "error", "{}", statuses(&card));
    assert!(message(&card, "owner").contains("recursed too deeply"), "{}", message(&card, "owner"));
    assert_eq!(status(&card, "readme"), "pass", "{}", statuses(&card));
}

#[test]
fn a_program_stopped_once_is_not_run_again() {
    let spin = "{query: {files: [data.json], jq: 'def f: f; f'}}";
    let policy = PolicyFile::new(&[rule("first", "bronze", spin), rule("second", "bronze", spin)]);
    let repo = Repo::new("spin");
    repo.write("data.json", "{}").commit("data");
    let (out, card) = evaluate_json(&repo, &["--policy", &policy.arg()]);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    assert_eq!(message(&card, "first"), "`data.json`: jq program exceeded its time limit of 1 s");
    assert_eq!(
        message(&card, "second"),
        "`data.json`: jq program exceeded its time limit of 1 s on an earlier input; it is not run again"
    );
}
