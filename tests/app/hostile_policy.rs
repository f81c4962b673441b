//! A catalog pull request proposing a hostile policy: its jq is previewed in the sandbox under the tight
//! limits, the `Catalog validation` run completes, and the App keeps answering.

use crate::commands::{CATALOG, POLICY, Setup, catalog_pull_payload, service};
use crate::e2e::OWNER;
use crate::fake_github::FakePull;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_policy_in_a_catalog_pull_request_is_previewed_within_limits_and_the_app_survives() {
    let s = Setup::new(2).await;
    let fake = s.fake();
    let main = fake.branches(OWNER, CATALOG).into_iter().find(|(b, _)| b == "main").unwrap().1;
    let hostile = [
        ("stack", "def f: [f]; f"),
        ("spin", "def f: f; f"),
        ("alloc", "\"a\" * 100000000000"),
        ("nest", "reduce range(3000000) as $i (null; [.]) | tojson"),
    ];
    let mut policy = POLICY.to_string();
    for (id, jq) in hostile {
        policy.push_str(&format!(
            "  - {{id: {id}, title: Harmless, level: bronze, remediation: None., check: {{catalog: {{jq: '{jq}'}}}}}}\n"
        ));
    }
    let head = fake.commit(
        OWNER,
        CATALOG,
        &[("policies/scorecard.yaml", policy.as_str()), ("services/payments.yaml", &service(2))],
    );
    fake.set_branch(OWNER, CATALOG, "hostile", &head);
    fake.add_pull(OWNER, CATALOG, 43, &head, "hostile", "main");
    let pull = FakePull { base_sha: main, ..fake.pulls(OWNER, CATALOG).into_iter().find(|p| p.number == 43).unwrap() };

    let started = Instant::now();
    s.deliver("pull_request", &catalog_pull_payload("opened", &pull, false)).await;
    let took = started.elapsed();
    let run = fake.check_runs(OWNER, CATALOG).into_iter().find(|r| r["head_sha"] == head.as_str()).expect("a run");
    assert_eq!(run["status"], "completed", "{run:#}");
    let summary = run["output"]["summary"].as_str().unwrap();
    for (id, reason) in [
        ("stack", "recursed too deeply"),
        // The unreviewed limits: whichever of 1,000,000 steps or 250 ms comes first on this machine.
        ("spin", "exceeded its"),
        ("alloc", "memory limit of 256 MiB"),
        // Stopped by steps or time before it has nested deep enough to reach `tojson`.
        ("nest", "jq program"),
    ] {
        let line = summary
            .lines()
            .find(|l| l.contains(&format!("`{id}` could not be judged")))
            .unwrap_or_else(|| panic!("{id} is not reported as unjudged:\n{summary}"));
        assert!(line.contains(reason), "{line}");
        assert!(!line.contains("10000000 ") && !line.contains("of 1 s"), "the reviewed limits were used: {line}");
    }
    // No program runs past the unreviewed time limit (250 ms) and its grace.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let health = reqwest::get(format!("http://{}/healthz", s.world.running().addr)).await.unwrap();
    assert_eq!(health.status(), 200);
    fake.assert_clean();
}
