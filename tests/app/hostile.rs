//! Hostile pull requests (issue 12): a YAML alias bomb in a workflow gets a completed check run that names the file,
//! and the App goes on to score the next pull request.

use crate::e2e::{OWNER, REPO, World, good_files, with};
use std::time::{Duration, Instant};

#[path = "../common/hostile_inputs.rs"]
mod hostile_inputs;
use hostile_inputs::billion_laughs;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_request_adding_an_alias_bomb_workflow_gets_a_check_run_naming_the_file() {
    let mut world = World::new(3).await;
    let base = world.commit(&good_files());
    let bomb = world.commit(&with(&good_files(), ".github/workflows/ci.yml", &billion_laughs()));
    let fine = world.commit(&with(&good_files(), "docs/notes.md", "notes"));
    world.start(2).await;
    let started = Instant::now();
    for (number, head) in [(5, &bomb), (6, &fine)] {
        let delivery = world.next_delivery();
        let body = world.pull_request("opened", number, head, &base);
        assert_eq!(world.send("pull_request", &delivery, &body).await, 202);
    }
    world.settle().await;
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());

    let runs = world.fake.check_runs(OWNER, REPO);
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let bombed = runs.iter().find(|r| r["head_sha"] == bomb.as_str()).expect("a check run for the bomb");
    assert_eq!(bombed["status"], "completed");
    // `ci` is a bronze rule tier 3 requires, and the pull request breaks it.
    assert_eq!(bombed["conclusion"], "failure", "{:#?}", bombed["output"]);
    let summary = bombed["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("`.github/workflows/ci.yml`: too complex to read: more than 250000 values"), "{summary}");
    let annotations = world.fake.annotations(bombed["id"].as_u64().unwrap());
    assert!(annotations.iter().any(|a| a["path"] == ".github/workflows/ci.yml"), "{annotations:#?}");

    let other = runs.iter().find(|r| r["head_sha"] == fine.as_str()).expect("the next pull request is scored");
    assert_eq!((&other["status"], &other["conclusion"]), (&"completed".into(), &"success".into()), "{other:#?}");
    world.fake.assert_clean();
}

/// A pull request adding hundreds of offending files under a policy of many rules gets one check run with at most
/// 150 annotations (three requests), and the summary says how many were left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_request_with_hundreds_of_findings_costs_a_few_check_run_requests() {
    let mut world = World::new(3).await;
    let mut policy = String::from(
        "apiVersion: shipshape.dev/v1\nkind: Scorecard\ndefault_tier: 3\ntiers:\n  3: {requires: bronze}\nrules:\n",
    );
    for n in 0..10 {
        policy.push_str(&format!(
            "  - {{id: no-key-{n}, title: No key {n}, level: bronze, remediation: Remove it., check: {{content: \
             {{files: ['deploy/**'], not_matches: 'PRIVATE KEY'}}}}}}\n"
        ));
    }
    let service = world.fake.file_at(OWNER, "catalog", "main", "services/payments.yaml").unwrap();
    let catalog = world.fake.commit(
        OWNER,
        "catalog",
        &[("policies/scorecard.yaml", policy.as_str()), ("services/payments.yaml", &service)],
    );
    world.fake.set_branch(OWNER, "catalog", "main", &catalog);
    let base = world.commit(&good_files());
    let mut files = good_files();
    files.extend((0..30).map(|n| (format!("deploy/k{n}.txt"), "-----BEGIN RSA PRIVATE KEY-----\n".to_string())));
    let head = world.commit(&files);
    world.start(2).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 5, &head, &base)).await, 202);
    world.settle().await;

    let run = world.fake.check_runs(OWNER, REPO).into_iter().find(|r| r["head_sha"] == head.as_str()).unwrap();
    assert_eq!(run["status"], "completed", "{run:#}");
    // Ten failing rules with twenty pieces of evidence each: 200 annotations, 150 of them sent.
    let annotations = world.fake.annotations(run["id"].as_u64().unwrap());
    assert_eq!(annotations.len(), 150, "{} annotations", annotations.len());
    let summary = run["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("50 more annotation(s) not shown"), "{summary}");
    let patches = world
        .fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "PATCH" && r.template.as_deref() == Some("/repos/{owner}/{repo}/check-runs/{check_run_id}")
        })
        .count();
    assert_eq!(patches, 3, "PATCH requests to the check run");
    world.fake.assert_clean();
}
