//! The `ci-passing` rule in the App: commit statuses set by CI systems outside GitHub Actions and check runs of other
//! GitHub Apps count, read from the fake GitHub (every request checked against GitHub's OpenAPI description) with
//! few requests; shipshape's own `Production readiness` check run never does.

use crate::e2e::{OWNER, REPO, World, good_files};
use crate::fake_github::{APP_ID, APP_SLUG};
use shipshape::engine::{Scorecard, Status};

const STATUS: &str = "/repos/{owner}/{repo}/commits/{ref}/status";
const CHECK_RUNS: &str = "/repos/{owner}/{repo}/commits/{ref}/check-runs";
const BUILDKITE: (u64, &str, &str) = (9_001, "buildkite", "Buildkite");
const CIRCLECI_URL: &str = "https://app.circleci.com/pipelines/github/acme/payments/812/workflows/5c1e/jobs/1907";
const JENKINS_URL: &str = "https://jenkins.acme.dev/job/payments/job/main/311/";

/// The repository's `main` at a commit of the good files; returns the commit.
fn head(world: &World) -> String {
    let head = world.commit(&good_files());
    world.fake.set_branch(OWNER, REPO, "main", &head);
    head
}

/// A sweep, and the card stored for `head`.
async fn swept(world: &World, head: &str) -> Scorecard {
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let key = format!("{OWNER}/{REPO}@{head}");
    let entry = world.running().store.kv_get("scorecard", &key).await.unwrap().expect("the default branch was scored");
    serde_json::from_slice(&entry.value).unwrap()
}

fn ci_passing(card: &Scorecard) -> (Status, String) {
    let rule = card.rule("ci-passing").expect("the default scorecard has ci-passing");
    (rule.status, rule.message.clone())
}

/// GET requests of the service repository to `template` so far.
fn reads(world: &World, template: &str) -> usize {
    world
        .fake
        .requests()
        .iter()
        .filter(|r| r.template.as_deref() == Some(template) && r.path.contains(&format!("/repos/{OWNER}/{REPO}/")))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_commit_status_from_an_external_ci_fails_ci_passing() {
    let mut world = World::new(1).await;
    let head = head(&world);
    world.fake.add_actions_run(OWNER, REPO, &head, "lint", Some("success"));
    world.fake.set_commit_status(OWNER, REPO, &head, "ci/circleci: test", "failure", Some(CIRCLECI_URL));
    world.fake.set_commit_status(
        OWNER,
        REPO,
        &head,
        "continuous-integration/jenkins/branch",
        "success",
        Some(JENKINS_URL),
    );
    world.start(1).await;
    let card = swept(&world, &head).await;
    assert_eq!(
        ci_passing(&card),
        (
            Status::Fail,
            format!("CI failed on `main` ({}): `ci/circleci: test` (commit status from app.circleci.com)", &head[..7])
        ),
        "{card:#?}"
    );
    // One combined status and one check-run listing for the whole evaluation.
    assert_eq!((reads(&world, STATUS), reads(&world, CHECK_RUNS)), (1, 1));

    // CircleCI re-ran green: the later status of the context replaces the failed one.
    world.fake.set_commit_status(OWNER, REPO, &head, "ci/circleci: test", "success", Some(CIRCLECI_URL));
    let card = swept(&world, &head).await;
    assert_eq!(
        ci_passing(&card),
        (
            Status::Pass,
            format!(
                "3 CI result(s) passed on `main` ({}): `lint` (GitHub Actions); `ci/circleci: test` (commit status \
                 from app.circleci.com); `continuous-integration/jenkins/branch` (commit status from \
                 jenkins.acme.dev)",
                &head[..7]
            )
        )
    );
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_status_is_judged_later_and_every_page_of_statuses_is_read() {
    let mut world = World::new(1).await;
    let head = head(&world);
    // GitHub lists the newest status first: the pending one, set first, is on the second page of 100.
    world.fake.set_commit_status(OWNER, REPO, &head, "deploy/preview", "pending", None);
    for i in 0..120 {
        world.fake.set_commit_status(OWNER, REPO, &head, &format!("lint/shard-{i:03}"), "success", Some(JENKINS_URL));
    }
    world.start(1).await;
    let card = swept(&world, &head).await;
    assert_eq!(
        ci_passing(&card),
        (
            Status::Skipped,
            format!(
                "1 CI result(s) still pending on `main` ({}): `deploy/preview` (commit status): judged on the next \
                 evaluation",
                &head[..7]
            )
        )
    );
    assert_eq!(reads(&world, STATUS), 2, "two pages of statuses");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_run_of_another_app_fails_ci_passing() {
    let mut world = World::new(1).await;
    let head = head(&world);
    world.fake.add_actions_run(OWNER, REPO, &head, "build", Some("success"));
    world.fake.add_app_check_run(OWNER, REPO, &head, BUILDKITE, "payments/integration", Some("failure"));
    world.fake.add_app_check_run(OWNER, REPO, &head, BUILDKITE, "payments/unit", Some("success"));
    world.start(1).await;
    let card = swept(&world, &head).await;
    assert_eq!(
        ci_passing(&card),
        (Status::Fail, format!("CI failed on `main` ({}): `payments/integration` (Buildkite)", &head[..7])),
        "{card:#?}"
    );
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipshape_s_own_failing_check_run_is_not_counted() {
    let mut world = World::new(1).await;
    let head = head(&world);
    world.fake.add_actions_run(OWNER, REPO, &head, "build", Some("success"));
    // What the App concluded on this commit when it was a pull request's head, before the merge.
    world.fake.add_app_check_run(
        OWNER,
        REPO,
        &head,
        (APP_ID, APP_SLUG, "shipshape"),
        "Production readiness",
        Some("failure"),
    );
    world.start(1).await;
    let card = swept(&world, &head).await;
    assert_eq!(
        ci_passing(&card),
        (
            Status::Pass,
            format!(
                "1 CI result(s) passed on `main` ({}): `build` (GitHub Actions); shipshape's own check runs are not \
                 counted: `Production readiness`",
                &head[..7]
            )
        ),
        "{card:#?}"
    );
    // Alone, it leaves nothing to judge rather than a verdict on itself.
    let alone = world.commit(&crate::e2e::with(&good_files(), "docs/notes.md", "notes\n"));
    world.fake.set_branch(OWNER, REPO, "main", &alone);
    world.fake.add_app_check_run(
        OWNER,
        REPO,
        &alone,
        (APP_ID, APP_SLUG, "shipshape"),
        "Production readiness",
        Some("failure"),
    );
    let card = swept(&world, &alone).await;
    let (status, message) = ci_passing(&card);
    assert_eq!(status, Status::Skipped, "{message}");
    assert!(message.starts_with("no check run or commit status on the head of `main`"), "{message}");
    world.fake.assert_clean();
}
