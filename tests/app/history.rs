//! The service history behind the dashboard (issue 14): each default-branch evaluation of a catalog service updates
//! its record of the day, through the real pipeline (sweeps against the fake GitHub) and the injected clock.

use crate::e2e::{OWNER, REPO, World, good_files, without};
use chrono::{NaiveDate, TimeZone, Utc};
use shipshape::clock::ManualClock;
use shipshape::engine::Status;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_days_default_branch_evaluation_becomes_the_services_record_of_the_day() {
    let mut world = World::new(2).await;
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()));
    world.clock = clock.clone();
    let good = world.commit(&good_files());
    world.fake.set_branch(OWNER, REPO, "main", &good);
    // A repository of the installation that is not in the catalog.
    world.fake.add_repo(crate::e2e::INSTALLATION, OWNER, "scratch", "main");
    let scratch = world.fake.commit(OWNER, "scratch", &[("README.md", "# scratch\n")]);
    world.fake.set_branch(OWNER, "scratch", "main", &scratch);
    world.start(2).await;

    let sweep = |hours: i64| {
        let (world, clock) = (&world, clock.clone());
        async move {
            clock.set(Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap() + chrono::TimeDelta::hours(hours));
            world.running().sweep_now().await.expect("sweep queued");
            world.settle().await;
        }
    };
    sweep(0).await;
    // Later the same day CODEOWNERS is removed: the day keeps the later evaluation.
    let broken = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    world.fake.set_branch(OWNER, REPO, "main", &broken);
    sweep(5).await;
    // Two days later it is back.
    world.fake.set_branch(OWNER, REPO, "main", &good);
    sweep(48).await;

    let store = &world.running().store;
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let days = store.org_days(OWNER, day(1)).await.unwrap();
    let seen: Vec<_> = days.iter().map(|d| (d.day, d.service.as_str(), d.commit.as_str())).collect();
    assert_eq!(seen, [(day(1), "payments", broken.as_str()), (day(3), "payments", good.as_str())], "{days:#?}");
    assert_eq!(days[0].rules.get("codeowners"), Some(&Status::Fail));
    assert_eq!(days[1].rules.get("codeowners"), Some(&Status::Pass));
    assert_eq!((days[0].tier, days[0].required_level.as_str()), (2, "silver"));
    assert_eq!(days[0].owner.as_deref(), Some("team-payments"));
    assert!(days[0].level.is_none() && !days[0].meets_required, "{:?}", days[0]);
    assert_eq!(days[0].repository, format!("{OWNER}/{REPO}"));

    // The service leaves the catalog: its repository is still scored, but gets no more records.
    let catalog = world.fake.commit(OWNER, "catalog", &[("README.md", "# catalog\n")]);
    world.fake.set_branch(OWNER, "catalog", "main", &catalog);
    let pushed = world.commit(&crate::e2e::with(&good_files(), "docs/notes.md", "notes\n"));
    world.fake.set_branch(OWNER, REPO, "main", &pushed);
    sweep(72).await;
    let evaluations = store.evaluations(&format!("{OWNER}/{REPO}"), "refs/heads/main").await.unwrap();
    assert_eq!(evaluations[0].commit_sha, pushed, "the repository was scored on day 4");
    assert_eq!(evaluations[0].evaluated_at.date_naive(), day(4));
    assert_eq!(store.org_days(OWNER, day(4)).await.unwrap(), vec![], "no record once out of the catalog");
    world.fake.assert_clean();
}

/// Records and evaluations are kept 400 days: the scheduler's daily pruning deletes older ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_records_and_evaluations_older_than_400_days_are_pruned_daily() {
    let mut world = World::new(2).await;
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    world.clock = clock.clone();
    // A short sweep interval makes the scheduler look every 100 ms; the manual clock decides when pruning is due.
    world.vars.push(("SHIPSHAPE_SWEEP_INTERVAL", "1s".into()));
    world.start(1).await;
    let store = world.running().store.clone();
    let record = |days_ago: i64| shipshape::store::ServiceDay {
        org: OWNER.into(),
        service: "payments".into(),
        day: (start + chrono::TimeDelta::days(2 - days_ago)).date_naive(),
        repository: format!("{OWNER}/{REPO}"),
        owner: None,
        tier: 2,
        level: Some("bronze".into()),
        required_level: "silver".into(),
        meets_required: false,
        unverified: 0,
        commit: "a".repeat(40),
        rules: [("readme".to_string(), Status::Pass)].into(),
        not_applicable: Default::default(),
        levels: vec!["bronze".into(), "silver".into(), "gold".into()],
        evaluated_at: start,
    };
    // Seen from two days on: one record 401 days old, one 399; the same for two evaluations.
    store.record_service_day(&record(401)).await.unwrap();
    store.record_service_day(&record(399)).await.unwrap();
    let card: shipshape::engine::Scorecard = serde_json::from_value(serde_json::json!({
        "service": "payments", "repository": "acme/payments", "tier": 2, "required_level": "silver",
        "level": "bronze", "meets_required": false, "rules": [],
        "summary": {"pass": 0, "fail": 0, "excepted": 0, "skipped": 0, "error": 0}
    }))
    .unwrap();
    for days_ago in [401, 399] {
        let at = start + chrono::TimeDelta::days(2 - days_ago);
        store.record_evaluation(&card, "refs/heads/main", at).await.unwrap();
    }
    clock.advance(std::time::Duration::from_secs(2 * 86_400));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let since = (start - chrono::TimeDelta::days(500)).date_naive();
    loop {
        let days = store.org_days(OWNER, since).await.unwrap();
        let evaluations = store.evaluations("acme/payments", "refs/heads/main").await.unwrap();
        if days.len() == 1 && evaluations.len() == 1 {
            assert_eq!(days[0].day, record(399).day);
            assert_eq!(evaluations[0].evaluated_at.date_naive(), record(399).day);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not pruned: {days:#?} {evaluations:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
