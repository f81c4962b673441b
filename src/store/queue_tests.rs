//! The queue under depth: query plans, one candidate per key, head generations, writes through one connection, and
//! the migration of existing rows.

use super::queue::{GENERATION_START_SQL, LINE_FRONT_SQL, NEWEST_GENERATION_SQL, SUPERSEDE_SQL, candidate_sql};
use super::tests::{LEASE, at, claim_id, delivery, insert, keyed, sqlite_db, status, test_db};
use super::*;
use sqlx::Row;
use sqlx::sqlite::SqlitePoolOptions;
use std::str::FromStr;
use std::sync::Arc;

/// `EXPLAIN QUERY PLAN` as (id, parent, detail).
async fn plan(store: &Store, sql: &str) -> Vec<(i64, i64, String)> {
    let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(&store.writes).await.unwrap();
    rows.iter().map(|r| (r.get("id"), r.get("parent"), r.get("detail"))).collect()
}

fn full_scans(plan: &[(i64, i64, String)]) -> Vec<String> {
    plan.iter()
        .map(|(_, _, detail)| detail.clone())
        .filter(|d| d.starts_with("SCAN d") || d.starts_with("SCAN o") || d.starts_with("SCAN deliveries"))
        .filter(|d| !d.contains(" INDEX "))
        .collect()
}

#[tokio::test]
async fn claim_queries_use_indexes_and_never_sort_the_queue() {
    let db = sqlite_db().await;
    let candidate = plan(&db.store, candidate_sql(Dialect::Sqlite)).await;
    let text = candidate.iter().map(|(_, _, d)| d.as_str()).collect::<Vec<_>>().join("\n");
    assert!(full_scans(&candidate).is_empty(), "{text}");
    // The queued candidates are walked in arrival order along their index, not collected and sorted: nothing
    // under the index scan's co-routine sorts.
    let (_, parent, _) = candidate
        .iter()
        .find(|(_, _, d)| d == "SCAN d USING INDEX deliveries_candidates")
        .unwrap_or_else(|| panic!("{text}"));
    let sorts_under = candidate.iter().any(|(_, p, d)| p == parent && d.starts_with("USE TEMP B-TREE"));
    assert!(!sorts_under, "{text}");
    // Whether a key is held is one index search, not a walk through the key's history.
    assert!(
        text.contains("SEARCH o USING COVERING INDEX deliveries_leased_keys (serial_key=? AND lease_until>?)"),
        "{text}"
    );

    for (sql, index) in [
        (NEWEST_GENERATION_SQL, "deliveries_head_generations"),
        (GENERATION_START_SQL, "deliveries_head_generations"),
        (SUPERSEDE_SQL, "deliveries_queued_by_key"),
        (LINE_FRONT_SQL, "deliveries_queued_by_key"),
    ] {
        let plan = plan(&db.store, sql).await;
        let text = plan.iter().map(|(_, _, d)| d.as_str()).collect::<Vec<_>>().join("\n");
        assert!(full_scans(&plan).is_empty(), "{sql}\n{text}");
        assert!(
            text.contains(&format!("SEARCH deliveries USING INDEX {index} (serial_key=?"))
                || text.contains(&format!("SEARCH deliveries USING COVERING INDEX {index} (serial_key=?")),
            "{sql}\n{text}"
        );
        assert!(!text.contains("TEMP B-TREE"), "{sql}\n{text}");
    }
}

/// The never-attempted queued deliveries of `key` at the front of its line.
async fn fronts(store: &Store, key: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT delivery_id FROM deliveries WHERE serial_key = $1 AND status = 'queued' AND behind = 0")
        .bind(key)
        .fetch_all(&store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_busy_key_offers_one_candidate_and_keeps_its_order() {
    let db = test_db().await;
    for i in 0..30 {
        insert(&db.store, keyed(&format!("k-{i:02}"), i, "acme/api#1", Some("aaa"))).await;
    }
    insert(&db.store, keyed("other", 40, "acme/api#2", Some("bbb"))).await;
    assert_eq!(fronts(&db.store, "acme/api#1").await, ["k-00"]);

    let first = db.store.claim("w1", at(50), LEASE).await.unwrap().unwrap();
    assert_eq!(first.delivery_id, "k-00");
    // The next in line moved up; it waits while the key is held, the other key does not.
    assert_eq!(fronts(&db.store, "acme/api#1").await, ["k-01"]);
    assert_eq!(claim_id(&db.store, "w2", at(50)).await.as_deref(), Some("other"));
    assert_eq!(claim_id(&db.store, "w2", at(50)).await, None);
    db.store.complete(&first.lease(), at(51)).await.unwrap();
    for i in 1..30 {
        let c = db.store.claim("w1", at(52), LEASE).await.unwrap().unwrap();
        assert_eq!(c.delivery_id, format!("k-{i:02}"));
        assert_eq!(claim_id(&db.store, "w2", at(52)).await, None, "the key is held");
        db.store.complete(&c.lease(), at(52)).await.unwrap();
    }
    assert!(fronts(&db.store, "acme/api#1").await.is_empty());
}

#[tokio::test]
async fn a_retry_does_not_hold_up_younger_deliveries_of_its_key() {
    let db = test_db().await;
    for (id, received) in [("a", 1), ("b", 2), ("c", 3)] {
        insert(&db.store, keyed(id, received, "k", None)).await;
    }
    let a = db.store.claim("w1", at(10), LEASE).await.unwrap().unwrap();
    db.store.retry_later(&a.lease(), at(10), at(600), "GitHub answered 502").await.unwrap();
    let b = db.store.claim("w1", at(11), LEASE).await.unwrap().unwrap();
    assert_eq!(b.delivery_id, "b");
    db.store.complete(&b.lease(), at(12)).await.unwrap();
    // Both due at 600: arrival order again, the retried one first.
    assert_eq!(claim_id(&db.store, "w1", at(600)).await.as_deref(), Some("a"));
    assert_eq!(claim_id(&db.store, "w2", at(600)).await, None, "one at a time");
}

#[tokio::test]
async fn a_delivery_stored_out_of_order_goes_to_the_front_of_its_line() {
    let db = test_db().await;
    insert(&db.store, keyed("second", 2, "k", None)).await;
    insert(&db.store, keyed("third", 3, "k", None)).await;
    insert(&db.store, keyed("first", 1, "k", None)).await;
    assert_eq!(fronts(&db.store, "k").await, ["first"]);
    for expected in ["first", "second", "third"] {
        let c = db.store.claim("w1", at(10), LEASE).await.unwrap().unwrap();
        assert_eq!(c.delivery_id, expected);
        db.store.complete(&c.lease(), at(10)).await.unwrap();
    }
}

#[tokio::test]
async fn a_head_that_comes_back_still_supersedes_everything_older() {
    let db = test_db().await;
    // A, then B, then A again (a force-push back): the first A is stale (B is newer), and B is stale.
    insert(&db.store, keyed("a1", 1, "k", Some("aaa"))).await;
    insert(&db.store, keyed("b2", 2, "k", Some("bbb"))).await;
    insert(&db.store, keyed("a3", 3, "k", Some("aaa"))).await;
    let outcome = db.store.claim_reporting("w1", at(10), LEASE).await.unwrap();
    let mut superseded: Vec<_> = outcome.superseded.iter().map(|s| s.delivery_id.as_str()).collect();
    superseded.sort();
    assert_eq!(superseded, ["a1", "b2"]);
    assert_eq!(outcome.claimed.unwrap().delivery_id, "a3");
}

#[tokio::test]
async fn heads_stored_out_of_order_are_judged_by_arrival() {
    let db = test_db().await;
    // Received A (1), B (2), A (3), but B is stored last: the deliveries after it are renumbered.
    insert(&db.store, keyed("a1", 1, "k", Some("aaa"))).await;
    insert(&db.store, keyed("a3", 3, "k", Some("aaa"))).await;
    insert(&db.store, keyed("b2", 2, "k", Some("bbb"))).await;
    let outcome = db.store.claim_reporting("w1", at(10), LEASE).await.unwrap();
    let mut superseded: Vec<_> = outcome.superseded.iter().map(|s| s.delivery_id.as_str()).collect();
    superseded.sort();
    assert_eq!(superseded, ["a1", "b2"]);
    assert_eq!(outcome.claimed.unwrap().delivery_id, "a3");

    // And a late delivery for an older head is stale on arrival.
    insert(&db.store, keyed("c4", 4, "j", Some("ccc"))).await;
    insert(&db.store, keyed("d5", 5, "j", Some("ddd"))).await;
    insert(&db.store, keyed("c3", 3, "j", Some("ccc"))).await;
    let outcome = db.store.claim_reporting("w1", at(10), LEASE).await.unwrap();
    let mut superseded: Vec<_> = outcome.superseded.iter().map(|s| s.delivery_id.as_str()).collect();
    superseded.sort();
    assert_eq!(superseded, ["c3", "c4"]);
    assert_eq!(outcome.claimed.unwrap().delivery_id, "d5");
}

#[tokio::test]
async fn stale_deliveries_of_a_busy_key_are_set_aside_when_its_line_moves() {
    let db = test_db().await;
    insert(&db.store, keyed("running", 1, "k", Some("aaa"))).await;
    insert(&db.store, keyed("waiting", 2, "k", Some("aaa"))).await;
    let running = db.store.claim("w1", at(3), LEASE).await.unwrap().unwrap();
    insert(&db.store, keyed("newest", 4, "k", Some("bbb"))).await;
    let outcome = db.store.claim_reporting("w2", at(5), LEASE).await.unwrap();
    assert!(outcome.claimed.is_none() && outcome.superseded.is_empty(), "{outcome:?}");
    db.store.complete(&running.lease(), at(6)).await.unwrap();
    let outcome = db.store.claim_reporting("w2", at(7), LEASE).await.unwrap();
    assert_eq!(outcome.superseded.iter().map(|s| s.delivery_id.as_str()).collect::<Vec<_>>(), ["waiting"]);
    assert_eq!(outcome.claimed.unwrap().delivery_id, "newest");
}

#[tokio::test]
async fn a_claim_that_sets_many_keys_aside_returns_and_the_next_one_goes_on() {
    let db = test_db().await;
    let keys = 40;
    for k in 0..keys {
        insert(&db.store, keyed(&format!("old-{k:02}"), k, &format!("k{k:02}"), Some("aaa"))).await;
    }
    for k in 0..keys {
        insert(&db.store, keyed(&format!("new-{k:02}"), 100 + k, &format!("k{k:02}"), Some("bbb"))).await;
    }
    let mut superseded = 0;
    let mut claimed = Vec::new();
    for _ in 0..10 {
        let outcome = db.store.claim_reporting("w1", at(200), LEASE).await.unwrap();
        superseded += outcome.superseded.len();
        match outcome.claimed {
            Some(c) => claimed.push(c.delivery_id),
            None if outcome.superseded.is_empty() => break,
            None => {}
        }
    }
    assert_eq!(superseded, keys as usize);
    assert_eq!(claimed.first().map(String::as_str), Some("new-00"));
}

#[tokio::test]
async fn reads_cannot_write_and_writes_go_through_one_connection() {
    let db = sqlite_db().await;
    let refused = sqlx::query("DELETE FROM kv").execute(&db.store.pool).await;
    assert!(refused.is_err(), "the read pool is query_only");
    assert_eq!(db.store.writes.options().get_max_connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_database_refuses_fails_alone() {
    let db = test_db().await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = db.store.clone();
        let mut d = delivery(&format!("d{i:02}"), i);
        if i == 20 {
            d.installation_id = Some(u64::MAX);
        }
        tasks.push(tokio::spawn(async move { store.insert_delivery(&d).await }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        assert_eq!(result.is_err(), i == 20, "d{i:02}: {result:?}");
    }
    assert_eq!(db.store.deliveries().await.unwrap().len(), 63);
}

#[tokio::test]
async fn existing_deliveries_are_lined_up_and_numbered_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    for file in ["20250101000000_initial.sql", "20261122000000_history.sql"] {
        let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite").join(file);
        std::fs::copy(from, old.join(file)).unwrap();
    }
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
        for (id, received, sha, status) in [
            ("a", 1, "aaa", "done"),
            ("b", 2, "bbb", "queued"),
            ("c", 3, "bbb", "queued"),
            ("d", 4, "ccc", "queued"),
            ("e", 5, "ccc", "queued"),
        ] {
            let finished = (status == "done").then_some(received);
            sqlx::query(
                "INSERT INTO deliveries (delivery_id, event, serial_key, head_sha, payload, received_at, status,
                     next_attempt_at, finished_at) VALUES (?, 'pull_request', 'k', ?, x'7b7d', ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(sha)
            .bind(millis(at(received)))
            .bind(status)
            .bind(millis(at(received)))
            .bind(finished.map(|r| millis(at(r))))
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    let numbered: Vec<(String, i64, bool)> =
        sqlx::query("SELECT delivery_id, head_generation, behind FROM deliveries ORDER BY received_at")
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get::<i64, _>(2) != 0))
            .collect();
    let expected = [("a", 0, false), ("b", 1, false), ("c", 1, true), ("d", 2, true), ("e", 2, true)];
    assert_eq!(numbered, expected.map(|(id, g, b)| (id.to_owned(), g, b)));
    let outcome = store.claim_reporting("w1", at(10), LEASE).await.unwrap();
    assert_eq!(outcome.superseded.len(), 2, "{outcome:?}");
    assert_eq!(outcome.claimed.unwrap().delivery_id, "d");
    assert_eq!(status(&store, "e").await, DeliveryStatus::Queued);
    assert_eq!(claim_id(&store, "w2", at(10)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_under_a_burst_never_fail() {
    const DELIVERIES: usize = 2_000;
    let db = test_db().await;
    let inserting = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut inserts = Vec::new();
    for c in 0..32 {
        let store = db.store.clone();
        inserts.push(tokio::spawn(async move {
            for i in (c..DELIVERIES).step_by(32) {
                let key = format!("acme/api#{}", i % 50);
                insert(&store, keyed(&format!("d{i:05}"), 0, &key, Some("aaa"))).await;
            }
        }));
    }
    let mut workers = Vec::new();
    for w in 0..8 {
        let (store, inserting) = (db.store.clone(), inserting.clone());
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                // Every write unwrapped: none may fail, however many wait for the write connection.
                match store.claim(&format!("w{w}"), at(10), LEASE).await.unwrap() {
                    Some(c) => {
                        store.kv_put("burst", &c.delivery_id, b"1", at(10)).await.unwrap();
                        store.complete(&c.lease(), at(10)).await.unwrap();
                        done += 1;
                    }
                    None if !inserting.load(std::sync::atomic::Ordering::SeqCst) => return done,
                    None => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
                }
            }
        }));
    }
    for task in inserts {
        task.await.unwrap();
    }
    inserting.store(false, std::sync::atomic::Ordering::SeqCst);
    let mut done = 0;
    for task in workers {
        done += task.await.unwrap();
    }
    assert_eq!(done, DELIVERIES);
    assert_eq!(db.store.queue_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn a_deep_stale_backlog_is_set_aside_a_chunk_per_claim() {
    let db = test_db().await;
    let mut inserts = Vec::new();
    for i in 0..2_500 {
        let store = db.store.clone();
        inserts.push(tokio::spawn(
            async move { insert(&store, keyed(&format!("old-{i:04}"), 1, "k", Some("aaa"))).await },
        ));
    }
    for task in inserts {
        task.await.unwrap();
    }
    insert(&db.store, keyed("newest", 2, "k", Some("bbb"))).await;
    let mut chunks = Vec::new();
    let claimed = loop {
        let outcome = db.store.claim_reporting("w1", at(10), LEASE).await.unwrap();
        chunks.push(outcome.superseded.len());
        if let Some(c) = outcome.claimed {
            break c;
        }
        assert!(chunks.len() < 10, "{chunks:?}");
    };
    assert_eq!(chunks, [1000, 1000, 500]);
    assert_eq!(claimed.delivery_id, "newest");
}

#[tokio::test]
async fn a_delivery_stored_long_after_its_arrival_renumbers_every_later_one() {
    let db = test_db().await;
    for i in 0..40 {
        insert(&db.store, keyed(&format!("x{i:02}"), 10 + i, "k", Some("xxx"))).await;
    }
    // Received before all of them (a page of newer deliveries and more to walk past), for another head: stale.
    insert(&db.store, keyed("early", 5, "k", Some("eee"))).await;
    let outcome = db.store.claim_reporting("w1", at(100), LEASE).await.unwrap();
    assert_eq!(outcome.superseded.iter().map(|s| s.delivery_id.as_str()).collect::<Vec<_>>(), ["early"]);
    assert_eq!(outcome.claimed.unwrap().delivery_id, "x00");
}
