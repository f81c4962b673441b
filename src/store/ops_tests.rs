//! The Ops view's reads: failures in a window and retries, narrowed by organisation; a sweep's progress.

use super::tests::{LEASE, at, delivery, insert, test_db};
use super::*;
use std::str::FromStr;

/// Stores `id` of `repository`, received at `received`, and claims it at once.
async fn claimed(store: &Store, id: &str, repository: Option<&str>, received: i64) -> Claimed {
    let d = NewDelivery { repository: repository.map(str::to_owned), ..delivery(id, received) };
    insert(store, d).await;
    let claimed = store.claim("w1", at(received), LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.delivery_id, id);
    claimed
}

fn ids(list: &[FailedDelivery]) -> Vec<&str> {
    list.iter().map(|d| d.delivery_id.as_str()).collect()
}

#[tokio::test]
async fn failures_in_the_window_newest_first_and_only_for_the_callers_organisations() {
    let db = test_db().await;
    let s = &db.store;
    let old = claimed(s, "old", Some("acme/api"), 0).await;
    s.fail(&old.lease(), at(10), "too old to show").await.unwrap();
    let a1 = claimed(s, "a1", Some("acme/api"), 100).await;
    s.fail(&a1.lease(), at(110), "GitHub refused creating the check run (422): <Validation Failed>").await.unwrap();
    let g1 = claimed(s, "g1", Some("Globex/billing"), 200).await;
    s.fail(&g1.lease(), at(210), "not found: globex/billing").await.unwrap();
    let none = claimed(s, "installation", None, 300).await;
    s.fail(&none.lease(), at(310), "malformed job").await.unwrap();
    let a2 = claimed(s, "a2", Some("acme/web"), 400).await;
    s.fail(&a2.lease(), at(410), "gave up after 5 attempts; last error: 502").await.unwrap();
    let done = claimed(s, "done", Some("acme/api"), 500).await;
    s.complete(&done.lease(), at(510)).await.unwrap();

    let all = s.failed_since(DeliveryScope::Everything, at(100), 100).await.unwrap();
    assert_eq!(all.count, 4);
    assert_eq!(ids(&all.newest), ["a2", "installation", "g1", "a1"]);
    let a1 = &all.newest[3];
    assert_eq!(a1.event, "pull_request");
    assert_eq!(a1.action.as_deref(), Some("synchronize"));
    assert_eq!(a1.repository.as_deref(), Some("acme/api"));
    assert_eq!(a1.attempts, 1);
    assert_eq!(a1.reason.as_deref(), Some("GitHub refused creating the check run (422): <Validation Failed>"));
    assert_eq!((a1.received_at, a1.failed_at, a1.next_attempt_at), (at(100), Some(at(110)), None));

    let acme = ["acme".to_string()];
    let mine = s.failed_since(DeliveryScope::Orgs(&acme), at(100), 100).await.unwrap();
    assert_eq!((mine.count, ids(&mine.newest)), (2, vec!["a2", "a1"]), "no other organisation, nothing without one");
    let globex = ["globex".to_string()];
    let theirs = s.failed_since(DeliveryScope::Orgs(&globex), at(100), 100).await.unwrap();
    assert_eq!(ids(&theirs.newest), ["g1"], "owners compare without case");
    let nobody = s.failed_since(DeliveryScope::Orgs(&[]), at(0), 100).await.unwrap();
    assert_eq!(nobody, FailedWindow::default());
    let like = ["acme/api".to_string(), "%".to_string()];
    assert_eq!(s.failed_since(DeliveryScope::Orgs(&like), at(0), 100).await.unwrap().count, 0, "values, not patterns");

    let limited = s.failed_since(DeliveryScope::Everything, at(0), 2).await.unwrap();
    assert_eq!((limited.count, ids(&limited.newest)), (5, vec!["a2", "installation"]), "the count is not limited");
    assert_eq!(s.failed_since(DeliveryScope::Everything, at(411), 100).await.unwrap().count, 0);
}

#[tokio::test]
async fn retries_waiting_after_an_error_with_when_they_failed_and_when_they_run_again() {
    let db = test_db().await;
    let s = &db.store;
    let a = claimed(s, "a", Some("acme/api"), 0).await;
    s.retry_later(&a.lease(), at(5), at(600), "GitHub is unavailable (POST check-runs): 502").await.unwrap();
    let g = claimed(s, "g", Some("globex/billing"), 10).await;
    s.retry_later(&g.lease(), at(15), at(900), "rate limited").await.unwrap();
    let running = claimed(s, "running", Some("acme/web"), 20).await;
    insert(s, NewDelivery { repository: Some("acme/api".into()), ..delivery("waiting", 30) }).await;

    let all = s.retrying(DeliveryScope::Everything, 100).await.unwrap();
    assert_eq!(ids(&all), ["g", "a"], "never-attempted and running deliveries are not retries");
    let a = &all[1];
    assert_eq!(a.reason.as_deref(), Some("GitHub is unavailable (POST check-runs): 502"));
    assert_eq!((a.attempts, a.failed_at, a.next_attempt_at), (1, Some(at(5)), Some(at(600))));
    let acme = ["acme".to_string()];
    assert_eq!(ids(&s.retrying(DeliveryScope::Orgs(&acme), 100).await.unwrap()), ["a"]);
    assert_eq!(ids(&s.retrying(DeliveryScope::Everything, 1).await.unwrap()), ["g"]);
    assert_eq!(s.queue_depth().await.unwrap(), 4);

    // Retried and failed for good: a failure, no longer a retry.
    let again = s.claim("w1", at(600), LEASE).await.unwrap().unwrap();
    assert_eq!(again.delivery_id, "a");
    s.fail(&again.lease(), at(601), "gave up").await.unwrap();
    assert_eq!(ids(&s.retrying(DeliveryScope::Everything, 100).await.unwrap()), ["g"]);
    let failed = s.failed_since(DeliveryScope::Everything, at(0), 100).await.unwrap();
    assert_eq!((ids(&failed.newest), failed.newest[0].attempts), (vec!["a"], 2));
    assert_eq!(failed.newest[0].failed_at, Some(at(601)));
    s.complete(&running.lease(), at(602)).await.unwrap();
}

#[tokio::test]
async fn a_sweeps_progress_counts_its_own_repository_jobs() {
    let db = test_db().await;
    let s = &db.store;
    assert_eq!(s.sweep_progress("sweep-1").await.unwrap(), SweepProgress::default());
    let done = claimed(s, "sweep-1/11", Some("acme/api"), 0).await;
    s.complete(&done.lease(), at(40)).await.unwrap();
    let failed = claimed(s, "sweep-1/12", Some("acme/web"), 1).await;
    s.fail(&failed.lease(), at(30), "not found").await.unwrap();
    // Another sweep whose id starts the same, and the sweep job itself.
    let other = claimed(s, "sweep-10/11", Some("acme/api"), 3).await;
    s.complete(&other.lease(), at(90)).await.unwrap();
    let job = claimed(s, "sweep-1", None, 4).await;
    s.complete(&job.lease(), at(95)).await.unwrap();
    insert(s, delivery("sweep-1/13", 5)).await;

    let progress = s.sweep_progress("sweep-1").await.unwrap();
    assert_eq!(progress, SweepProgress { finished: 1, failed: 1, pending: 1, last_finished_at: Some(at(40)) });
    let last = s.claim("w1", at(100), LEASE).await.unwrap().unwrap();
    assert_eq!(last.delivery_id, "sweep-1/13");
    s.complete(&last.lease(), at(120)).await.unwrap();
    let progress = s.sweep_progress("sweep-1").await.unwrap();
    assert_eq!(progress, SweepProgress { finished: 2, failed: 1, pending: 0, last_finished_at: Some(at(120)) });
}

#[tokio::test]
async fn the_last_sweep_is_read_back_and_an_unreadable_record_is_none() {
    let db = test_db().await;
    let s = &db.store;
    assert_eq!(s.last_sweep().await.unwrap(), None);
    let run = SweepRun {
        id: "sweep-1".into(),
        reason: "schedule".into(),
        started_at: at(0),
        listed_at: Some(at(3)),
        repositories: Some(2),
        skipped: Some(1),
    };
    s.kv_put_json(ns::SWEEP, SWEEP_RUN_KEY, &run, at(3)).await.unwrap();
    assert_eq!(s.last_sweep().await.unwrap(), Some(run));
    s.kv_put(ns::SWEEP, SWEEP_RUN_KEY, b"{\"id\": 7}", at(4)).await.unwrap();
    assert_eq!(s.last_sweep().await.unwrap(), None);
}

#[tokio::test]
async fn deliveries_that_failed_before_the_migration_failed_when_they_finished() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&all).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().as_ref() < "20261210000000" {
            std::fs::copy(all.join(&name), old.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    {
        let options = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
        for (id, status, attempts, finished) in
            [("gone", "failed", 3, Some(at(50))), ("again", "queued", 1, None), ("fine", "done", 1, Some(at(60)))]
        {
            sqlx::query(
                "INSERT INTO deliveries (delivery_id, event, repository, payload, received_at, status, attempts,
                     next_attempt_at, last_error, finished_at) VALUES (?, 'push', 'acme/api', x'7b7d', ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(millis(at(1)))
            .bind(status)
            .bind(attempts)
            .bind(millis(at(900)))
            .bind(format!("{id}: answered 502"))
            .bind(finished.map(millis))
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    let failed = store.failed_since(DeliveryScope::Everything, at(0), 100).await.unwrap();
    assert_eq!((failed.count, ids(&failed.newest)), (1, vec!["gone"]));
    assert_eq!((failed.newest[0].failed_at, failed.newest[0].attempts), (Some(at(50)), 3));
    let retrying = store.retrying(DeliveryScope::Everything, 100).await.unwrap();
    assert_eq!(ids(&retrying), ["again"]);
    assert_eq!((retrying[0].failed_at, retrying[0].next_attempt_at), (None, Some(at(900))));
}
