//! Names from payloads in request paths (issue 12): a repository and a default branch whose names hold `?`, `#`,
//! `%`, spaces and `..` reach the fake GitHub (which routes by the decoded path and checks every request against
//! GitHub's OpenAPI description) as the right repository and branch, for a pull request and for a sweep.

use crate::e2e::{INSTALLATION, OWNER, World, fixture, readme};
use serde_json::json;

/// Not names GitHub would allow for a repository (its own are letters, digits, `.`, `-` and `_`), but payloads are
/// input: the App must not let them turn into a query string, a fragment or another path.
const NAME: &str = "pay ments?tab=1#top%2e..x";
const BRANCH: &str = "release/50% off #2?..y";

fn pull_request_payload(head: &str, base: &str) -> Vec<u8> {
    let mut payload = fixture("pull_request", "opened.payload.json");
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    let point = |repo: &mut serde_json::Value| {
        repo["name"] = NAME.into();
        repo["full_name"] = format!("{OWNER}/{NAME}").into();
        repo["owner"]["login"] = OWNER.into();
        repo["default_branch"] = BRANCH.into();
        repo["archived"] = false.into();
    };
    point(&mut payload["repository"]);
    let pr = &mut payload["pull_request"];
    pr["number"] = 7.into();
    pr["draft"] = false.into();
    pr["head"]["sha"] = head.into();
    pr["head"]["ref"] = "feature/#7 %".into();
    pr["base"]["sha"] = base.into();
    pr["base"]["ref"] = BRANCH.into();
    point(&mut pr["base"]["repo"]);
    serde_json::to_vec(&payload).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_repository_and_branch_names_reach_github_as_the_right_paths() {
    let mut world = World::new(1).await;
    let fake = &world.fake;
    fake.add_repo(INSTALLATION, OWNER, NAME, BRANCH);
    let text = readme();
    let base = fake.commit(OWNER, NAME, &[("README.md", text.as_str())]);
    fake.set_branch(OWNER, NAME, BRANCH, &base);
    let head = fake.commit(OWNER, NAME, &[("README.md", text.as_str()), ("docs/a b?.md", "x\n")]);
    fake.set_branch(OWNER, NAME, "feature/#7 %", &head);
    fake.add_pull(OWNER, NAME, 7, &head, "feature/#7 %", BRANCH);
    world.start(1).await;
    let fake = &world.fake;

    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &pull_request_payload(&head, &base)).await, 202);
    world.settle().await;
    let runs = fake.check_runs(OWNER, NAME);
    let run = runs.iter().find(|r| r["head_sha"] == head.as_str()).expect("a check run on the odd repository");
    assert_eq!(run["status"], "completed", "{run:#}");

    // The sweep scores the default branch: its head is read by the branch's name.
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let encoded = "/repos/acme/pay%20ments%3Ftab%3D1%23top%252e..x";
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().any(|p| p == &format!("{encoded}/check-runs")), "{paths:#?}");
    assert!(
        paths.iter().any(|p| p == &format!("{encoded}/git/ref/heads/release/50%25%20off%20%232%3F..y")),
        "{paths:#?}"
    );
    assert!(paths.iter().all(|p| !p.contains("pay ments") && !p.contains('#')), "{paths:#?}");
    let key = format!("{OWNER}/{NAME}@{base}");
    assert!(world.running().store.kv_get("scorecard", &key).await.unwrap().is_some(), "the default branch was scored");
    fake.assert_clean();
}
