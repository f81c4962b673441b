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
