//! The `ci_status` check scored from CI results of every source (check runs of other apps, commit statuses), with
//! shipshape's own check runs left out; and the `prefer` option of `query` checks, which ranks evidence only.

use super::*;
use crate::facts::{CiResult, CiStatus};

fn message<'a>(card: &'a Scorecard, id: &str) -> (Status, &'a str) {
    let r = card.rule(id).unwrap();
    (r.status, r.message.as_str())
}

fn result(name: &str, source: &str) -> CiResult {
    CiResult { name: name.into(), source: source.into() }
}

const CIRCLE: &str = "commit status from app.circleci.com";

fn green() -> CiStatus {
    CiStatus {
        branch: "main".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        passed: vec![
            result("build", "GitHub Actions"),
            result("lint", "GitHub Actions"),
            result("ci/circleci: test", CIRCLE),
        ],
        ..CiStatus::default()
    }
}

fn ci_policy() -> Policy {
    policy(
        &[rule("ci", "bronze", "{ci_status: {}}"), rule("ci-lax", "bronze", "{ci_status: {pending_passes: true}}")]
            .concat(),
    )
}

#[test]
fn ci_status_passes_on_every_source_and_names_them() {
    let p = ci_policy();
    let mut run = Run::new(&p, repo(&[]));
    assert_eq!(message(&run.card(), "ci"), (Status::Skipped, crate::facts::GITHUB_NOT_CONFIGURED));
    run.linked.ci = Fact::Known(green());
    assert_eq!(
        message(&run.card(), "ci"),
        (
            Status::Pass,
            "3 CI result(s) passed on `main` (0123456): `build`, `lint` (GitHub Actions); `ci/circleci: test` (commit \
             status from app.circleci.com)"
        )
    );
}

#[test]
fn a_failing_commit_status_or_third_party_check_fails_ci_status() {
    let p = ci_policy();
    let mut run = Run::new(&p, repo(&[]));
    let mut ci = green();
    ci.failed = vec![result("ci/circleci: test", CIRCLE), result("pipeline", "Buildkite")];
    run.linked.ci = Fact::Known(ci);
    let card = run.card();
    let expected = "CI failed on `main` (0123456): `ci/circleci: test` (commit status from app.circleci.com); \
                    `pipeline` (Buildkite)";
    assert_eq!(message(&card, "ci"), (Status::Fail, expected));
    assert_eq!(message(&card, "ci-lax"), (Status::Fail, expected));
}

#[test]
fn failures_are_listed_up_to_five() {
    let p = ci_policy();
    let mut run = Run::new(&p, repo(&[]));
    let mut ci = green();
    ci.failed = (1..=7).map(|i| result(&format!("job-{i}"), "GitHub Actions")).collect();
    run.linked.ci = Fact::Known(ci);
    assert_eq!(
        message(&run.card(), "ci").1,
        "CI failed on `main` (0123456): `job-1`, `job-2`, `job-3`, `job-4`, `job-5` (GitHub Actions) and 2 more"
    );
}

#[test]
fn shipshape_s_own_check_runs_are_said_not_to_count() {
    let p = ci_policy();
    let mut run = Run::new(&p, repo(&[]));
    run.linked.ci = Fact::Known(CiStatus { ignored: vec!["Production readiness".into()], ..green() });
    let card = run.card();
    let (status, text) = message(&card, "ci");
    assert_eq!(status, Status::Pass);
    assert!(text.ends_with("; shipshape's own check runs are not counted: `Production readiness`"), "{text}");
    // Only its own check run on the commit: nothing to judge, never a verdict on itself.
    run.linked.ci = Fact::Known(CiStatus { passed: vec![], ignored: vec!["Production readiness".into()], ..green() });
    assert_eq!(
        message(&run.card(), "ci"),
        (
            Status::Skipped,
            "no check run or commit status on the head of `main` (0123456); shipshape's own check runs are not \
             counted: `Production readiness`: nothing to judge"
        )
    );
}

#[test]
fn pending_results_wait_unless_pending_passes() {
    let p = ci_policy();
    let mut run = Run::new(&p, repo(&[]));
    run.linked.ci = Fact::Known(CiStatus {
        pending: vec![result("continuous-integration/jenkins/branch", "commit status")],
        ..green()
    });
    let card = run.card();
    assert_eq!(
        message(&card, "ci"),
        (
            Status::Skipped,
            "1 CI result(s) still pending on `main` (0123456): `continuous-integration/jenkins/branch` (commit \
             status): judged on the next evaluation"
        )
    );
    assert_eq!(message(&card, "ci-lax").0, Status::Pass);
    assert!(message(&card, "ci-lax").1.ends_with("(1 still pending)"), "{}", message(&card, "ci-lax").1);
    run.linked.ci = Fact::Known(CiStatus { passed: vec![], ..green() });
    assert_eq!(
        message(&run.card(), "ci"),
        (Status::Skipped, "no check run or commit status on the head of `main` (0123456): nothing to judge")
    );
}

#[test]
fn an_unread_source_leaves_the_rule_undecided_unless_the_other_one_fails() {
    let p = ci_policy();
    let mut run = Run::new(&p, repo(&[]));
    let why = "cannot read the commit statuses of `main`: Resource not accessible by integration (the App needs the \
               Commit statuses: read permission)";
    run.linked.ci = Fact::Known(CiStatus { unread: vec![why.into()], ..green() });
    assert_eq!(message(&run.card(), "ci"), (Status::Error, why));
    run.linked.ci =
        Fact::Known(CiStatus { unread: vec![why.into()], failed: vec![result("build", "GitHub Actions")], ..green() });
    assert_eq!(message(&run.card(), "ci").0, Status::Fail);
}

#[test]
fn prefer_picks_the_evidence_among_passing_files_only() {
    let p = policy(&[
        rule("wf", "bronze", "{query: {files: ['.github/workflows/*.yml'], jq: '.on == \"pull_request\"', prefer: '.name == \"test\"'}}"),
        rule("wf-all", "bronze", "{query: {files: ['.github/workflows/*.yml'], jq: '.on != null', require: all, prefer: '.name == \"test\"'}}"),
    ].concat());
    let files = [
        (".github/workflows/a.yml", "name: scan\non: pull_request\n"),
        (".github/workflows/b.yml", "name: test\non: push\n"),
        (".github/workflows/c.yml", "name: test\non: pull_request\n"),
    ];
    let card = Run::new(&p, repo(&files)).card();
    let wf = card.rule("wf").unwrap();
    assert_eq!((wf.status, wf.message.as_str()), (Status::Pass, "`.github/workflows/c.yml` passes the query"));
    // b.yml is preferred but does not pass under `any`; under `all` every file passes, preferred ones first.
    let all = card.rule("wf-all").unwrap();
    let paths: Vec<&str> = all.evidence.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, [".github/workflows/b.yml", ".github/workflows/c.yml", ".github/workflows/a.yml"]);
    // A prefer expression that fails to run ranks nothing down or up, and never makes the rule fail.
    let p = policy(&rule(
        "wf",
        "bronze",
        "{query: {files: ['.github/workflows/*.yml'], jq: '.on == \"pull_request\"', prefer: '.name | error'}}",
    ));
    let wf = Run::new(&p, repo(&files)).card();
    assert_eq!(message(&wf, "wf"), (Status::Pass, "`.github/workflows/a.yml` passes the query"));
}
