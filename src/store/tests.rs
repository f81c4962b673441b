use super::*;
pub(crate) use crate::store::test_database::TestDatabase;
use chrono::TimeZone;
use std::collections::HashSet;

pub(super) const LEASE: Duration = Duration::from_secs(60);

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

pub(super) fn at(seconds: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(seconds)
}

pub(super) struct TestDb {
    pub(super) _db: TestDatabase,
    pub(super) url: String,
    pub(super) store: Store,
}

/// A store on this run's backend (see [`TestDatabase`]): the suite every backend passes.
pub(super) async fn test_db() -> TestDb {
    open_test_db(TestDatabase::new().await).await
}

/// A SQLite store whatever the run's backend, for tests of SQLite itself.
pub(super) async fn sqlite_db() -> TestDb {
    open_test_db(TestDatabase::sqlite()).await
}

async fn open_test_db(db: TestDatabase) -> TestDb {
    let url = db.url.clone();
    let store = Store::open(&url).await.unwrap();
    TestDb { _db: db, url, store }
}

pub(super) fn delivery(id: &str, received: i64) -> NewDelivery {
    NewDelivery {
        delivery_id: id.to_owned(),
        event: "pull_request".to_owned(),
        action: Some("synchronize".to_owned()),
        installation_id: Some(42),
        repository: Some("acme/api".to_owned()),
        serial_key: None,
        head_sha: None,
        payload: format!(r#"{{"id":"{id}"}}"#).into_bytes(),
        received_at: at(received),
        disposition: Disposition::Queue,
    }
}

pub(super) fn keyed(id: &str, received: i64, key: &str, sha: Option<&str>) -> NewDelivery {
    NewDelivery { serial_key: Some(key.to_owned()), head_sha: sha.map(str::to_owned), ..delivery(id, received) }
}

pub(super) async fn insert(store: &Store, d: NewDelivery) {
    assert_eq!(store.insert_delivery(&d).await.unwrap(), Inserted::New);
}

pub(super) async fn claim_id(store: &Store, worker: &str, now: DateTime<Utc>) -> Option<String> {
    store.claim(worker, now, LEASE).await.unwrap().map(|c| c.delivery_id)
}

pub(super) async fn status(store: &Store, id: &str) -> DeliveryStatus {
    store.delivery_status(id).await.unwrap().expect("delivery stored")
}

#[tokio::test]
async fn duplicate_delivery_ids_are_stored_once() {
    let db = test_db().await;
    let d = delivery("d1", 0);
    assert_eq!(db.store.insert_delivery(&d).await.unwrap(), Inserted::New);
    let again = NewDelivery { payload: b"{}".to_vec(), ..delivery("d1", 5) };
    assert_eq!(db.store.insert_delivery(&again).await.unwrap(), Inserted::Duplicate);

    let all = db.store.deliveries().await.unwrap();
    assert_eq!(all.len(), 1);
    let record = &all[0];
    assert_eq!(record.received_at, at(0), "the first copy is kept");
    assert_eq!(record.payload_bytes, d.payload.len() as u64);
    assert_eq!(record.status, DeliveryStatus::Queued);
    assert_eq!(record.installation_id, Some(42));
    assert_eq!(db.store.queue_depth().await.unwrap(), 1);
}

#[tokio::test]
async fn claims_take_the_oldest_due_delivery_first() {
    let db = test_db().await;
    // Inserted out of order on purpose.
    insert(&db.store, delivery("second", 2)).await;
    insert(&db.store, delivery("first", 1)).await;
    insert(&db.store, delivery("third", 3)).await;
    insert(&db.store, delivery("future", 100)).await;

    let claimed = db.store.claim("w1", at(10), LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.delivery_id, "first");
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.payload, br#"{"id":"first"}"#);
    assert_eq!(claimed.lease_owner, "w1");
    assert_eq!(claimed.lease_until, at(70));
    assert_eq!(claimed.event, "pull_request");
    assert_eq!(claimed.repository.as_deref(), Some("acme/api"));
    assert_eq!(claim_id(&db.store, "w1", at(10)).await.as_deref(), Some("second"));
    assert_eq!(claim_id(&db.store, "w1", at(10)).await.as_deref(), Some("third"));
    // Not due yet: received after `now`.
    assert_eq!(claim_id(&db.store, "w1", at(10)).await, None);
    assert_eq!(claim_id(&db.store, "w1", at(69)).await, None, "the others are leased until 70");
    insert(&db.store, delivery("late", 50)).await;
    assert_eq!(claim_id(&db.store, "w1", at(60)).await.as_deref(), Some("late"));
    assert_eq!(db.store.queue_depth().await.unwrap(), 5, "processing deliveries still count");
}

#[tokio::test]
async fn an_expired_lease_makes_the_delivery_claimable_again() {
    let db = test_db().await;
    insert(&db.store, delivery("d1", 0)).await;
    let first = db.store.claim("w1", at(0), LEASE).await.unwrap().unwrap();
    // w1 "crashes": no complete. Within the lease nobody else gets it.
    assert_eq!(claim_id(&db.store, "w2", at(59)).await, None);

    let second = db.store.claim("w2", at(61), LEASE).await.unwrap().unwrap();
    assert_eq!(second.delivery_id, "d1");
    assert_eq!(second.attempt, 2);
    assert_eq!(second.lease_owner, "w2");

    // The first worker comes back: its lease is gone, it cannot finish w2's attempt.
    let err = db.store.complete(&first.lease(), at(62)).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { ref delivery_id, attempt: 1, .. } if delivery_id == "d1"), "{err}");
    assert!(matches!(db.store.extend_lease(&first.lease(), at(200)).await, Err(StoreError::LeaseLost { .. })));
    assert_eq!(status(&db.store, "d1").await, DeliveryStatus::Processing);

    db.store.complete(&second.lease(), at(63)).await.unwrap();
    let record = db.store.delivery("d1").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Done);
    assert_eq!(record.attempts, 2);
    assert_eq!(record.finished_at, Some(at(63)));
    assert_eq!(record.lease_owner, None);
    assert_eq!(db.store.queue_depth().await.unwrap(), 0);
    // Finished twice? No.
    assert!(matches!(db.store.complete(&second.lease(), at(64)).await, Err(StoreError::LeaseLost { .. })));
}

#[tokio::test]
async fn extending_a_lease_keeps_the_delivery_away_from_other_workers() {
    let db = test_db().await;
    insert(&db.store, delivery("d1", 0)).await;
    let claimed = db.store.claim("w1", at(0), LEASE).await.unwrap().unwrap();
    db.store.extend_lease(&claimed.lease(), at(120)).await.unwrap();
    assert_eq!(claim_id(&db.store, "w2", at(90)).await, None);
    assert_eq!(claim_id(&db.store, "w2", at(120)).await.as_deref(), Some("d1"));
}

#[tokio::test]
async fn deliveries_with_the_same_key_are_serialised() {
    let db = test_db().await;
    insert(&db.store, keyed("k1-a", 1, "acme/api#7", Some("aaa"))).await;
    insert(&db.store, keyed("k1-b", 2, "acme/api#7", None)).await;
    insert(&db.store, keyed("k2-a", 3, "acme/api#8", Some("ccc"))).await;
    insert(&db.store, delivery("unkeyed", 4)).await;

    let first = db.store.claim("w1", at(10), LEASE).await.unwrap().unwrap();
    assert_eq!(first.delivery_id, "k1-a");
    // k1-b waits for k1-a; the other key and the unkeyed delivery do not.
    assert_eq!(claim_id(&db.store, "w2", at(10)).await.as_deref(), Some("k2-a"));
    assert_eq!(claim_id(&db.store, "w3", at(10)).await.as_deref(), Some("unkeyed"));
    assert_eq!(claim_id(&db.store, "w4", at(10)).await, None);

    db.store.complete(&first.lease(), at(11)).await.unwrap();
    assert_eq!(claim_id(&db.store, "w4", at(12)).await.as_deref(), Some("k1-b"));
}

#[tokio::test]
async fn an_expired_lease_does_not_block_its_key() {
    let db = test_db().await;
    insert(&db.store, keyed("a", 1, "k", None)).await;
    insert(&db.store, keyed("b", 2, "k", None)).await;
    let a = db.store.claim("w1", at(10), LEASE).await.unwrap().unwrap();
    assert_eq!(claim_id(&db.store, "w2", at(20)).await, None);
    // After expiry the crashed delivery is retried first (oldest), then its successor once it is done.
    let again = db.store.claim("w2", at(100), LEASE).await.unwrap().unwrap();
    assert_eq!(again.delivery_id, "a");
    assert_eq!(claim_id(&db.store, "w3", at(100)).await, None);
    db.store.complete(&again.lease(), at(101)).await.unwrap();
    assert!(db.store.complete(&a.lease(), at(101)).await.is_err());
    assert_eq!(claim_id(&db.store, "w3", at(102)).await.as_deref(), Some("b"));
}

#[tokio::test]
async fn newer_heads_supersede_queued_deliveries() {
    let db = test_db().await;
    insert(&db.store, keyed("old-head", 1, "acme/api#7", Some("aaa"))).await;
    insert(&db.store, keyed("comment", 2, "acme/api#7", None)).await;
    insert(&db.store, keyed("same-head", 3, "acme/api#7", Some("bbb"))).await;
    insert(&db.store, keyed("new-head", 4, "acme/api#7", Some("bbb"))).await;
    insert(&db.store, keyed("other-pr", 5, "acme/api#8", Some("aaa"))).await;

    let outcome = db.store.claim_reporting("w1", at(10), LEASE).await.unwrap();
    assert_eq!(
        outcome.superseded,
        vec![Superseded {
            delivery_id: "old-head".into(),
            event: "pull_request".into(),
            serial_key: "acme/api#7".into(),
            head_sha: "aaa".into(),
        }]
    );
    // The oldest remaining delivery of the key is the comment (no head SHA: never superseded).
    assert_eq!(outcome.claimed.unwrap().delivery_id, "comment");
    let record = db.store.delivery("old-head").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Superseded);
    assert_eq!(record.finished_at, Some(at(10)));
    assert_eq!(record.attempts, 0);
    for id in ["same-head", "new-head", "other-pr"] {
        assert_eq!(status(&db.store, id).await, DeliveryStatus::Queued, "{id}");
    }
}

#[tokio::test]
async fn running_deliveries_are_not_superseded() {
    let db = test_db().await;
    insert(&db.store, keyed("old", 1, "k", Some("aaa"))).await;
    let old = db.store.claim("w1", at(2), LEASE).await.unwrap().unwrap();
    insert(&db.store, keyed("new", 3, "k", Some("bbb"))).await;
    let outcome = db.store.claim_reporting("w2", at(4), LEASE).await.unwrap();
    assert!(outcome.superseded.is_empty());
    assert!(outcome.claimed.is_none(), "the key is busy");
    // If the old one is put back for a retry, the newer head supersedes it at the next claim.
    db.store.retry_later(&old.lease(), at(5), at(5), "boom").await.unwrap();
    let outcome = db.store.claim_reporting("w2", at(6), LEASE).await.unwrap();
    assert_eq!(outcome.superseded.len(), 1);
    assert_eq!(outcome.claimed.unwrap().delivery_id, "new");
    assert_eq!(status(&db.store, "old").await, DeliveryStatus::Superseded);
}

#[tokio::test]
async fn a_retry_waits_until_its_time() {
    let db = test_db().await;
    insert(&db.store, delivery("d1", 0)).await;
    let claimed = db.store.claim("w1", at(0), LEASE).await.unwrap().unwrap();
    db.store.retry_later(&claimed.lease(), at(0), at(600), "GitHub answered 502").await.unwrap();

    let record = db.store.delivery("d1").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Queued);
    assert_eq!(record.next_attempt_at, at(600));
    assert_eq!(record.last_error.as_deref(), Some("GitHub answered 502"));
    assert_eq!(record.lease_owner, None);

    assert_eq!(claim_id(&db.store, "w1", at(599)).await, None);
    let again = db.store.claim("w1", at(600), LEASE).await.unwrap().unwrap();
    assert_eq!(again.attempt, 2);
    assert_eq!(again.last_error.as_deref(), Some("GitHub answered 502"));
}

#[tokio::test]
async fn failed_and_ignored_deliveries_are_final() {
    let db = test_db().await;
    insert(&db.store, delivery("bad", 0)).await;
    insert(&db.store, delivery("pointless", 1)).await;
    let bad = db.store.claim("w1", at(2), LEASE).await.unwrap().unwrap();
    db.store.fail(&bad.lease(), at(3), "payload has no repository").await.unwrap();
    let pointless = db.store.claim("w1", at(2), LEASE).await.unwrap().unwrap();
    db.store.ignore(&pointless.lease(), at(3), "repository archived").await.unwrap();

    assert_eq!(claim_id(&db.store, "w1", at(1_000_000)).await, None);
    let record = db.store.delivery("bad").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Failed);
    assert_eq!(record.last_error.as_deref(), Some("payload has no repository"));
    assert_eq!(record.finished_at, Some(at(3)));
    assert_eq!(status(&db.store, "pointless").await, DeliveryStatus::Ignored);
    assert!(db.store.retry_later(&bad.lease(), at(4), at(4), "again").await.is_err());
    assert_eq!(db.store.queue_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn ignored_deliveries_are_recorded_but_never_queued() {
    let db = test_db().await;
    let d = NewDelivery { disposition: Disposition::Ignore("event not handled".into()), ..delivery("d1", 0) };
    assert_eq!(db.store.insert_delivery(&d).await.unwrap(), Inserted::New);
    assert_eq!(db.store.insert_delivery(&d).await.unwrap(), Inserted::Duplicate);
    let record = db.store.delivery("d1").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Ignored);
    assert_eq!(record.last_error.as_deref(), Some("event not handled"));
    assert_eq!(record.finished_at, Some(at(0)));
    assert_eq!(claim_id(&db.store, "w1", at(10)).await, None);
    assert_eq!(db.store.queue_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn queued_and_running_work_survives_a_restart() {
    let db = test_db().await;
    insert(&db.store, delivery("running", 0)).await;
    insert(&db.store, delivery("waiting", 1)).await;
    let running = db.store.claim("w1", at(2), LEASE).await.unwrap().unwrap();
    assert_eq!(running.delivery_id, "running");
    db.store.close().await;
    drop(db.store);

    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), 2);
    assert_eq!(claim_id(&store, "w9", at(3)).await.as_deref(), Some("waiting"));
    // The delivery that was running when the process died comes back once its lease expires.
    let recovered = store.claim("w9", at(2 + 60), LEASE).await.unwrap().unwrap();
    assert_eq!(recovered.delivery_id, "running");
    assert_eq!(recovered.attempt, 2);
    assert_eq!(recovered.payload, br#"{"id":"running"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_hand_out_a_delivery_twice() {
    let db = test_db().await;
    for i in 0..40 {
        insert(&db.store, delivery(&format!("d{i:02}"), i)).await;
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(c) = store.claim(&format!("w{w}"), at(100), LEASE).await.unwrap() {
                store.complete(&c.lease(), at(100)).await.unwrap();
                mine.push(c.delivery_id);
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(seen.insert(id.clone()), "{id} claimed twice");
        }
    }
    assert_eq!(seen.len(), 40);
}

#[tokio::test]
async fn pruning_removes_only_old_finished_deliveries() {
    let db = test_db().await;
    insert(&db.store, delivery("old", 0)).await;
    insert(&db.store, delivery("queued", 1)).await;
    let old = db.store.claim("w1", at(0), LEASE).await.unwrap().unwrap();
    db.store.complete(&old.lease(), at(5)).await.unwrap();
    assert_eq!(db.store.prune_finished(at(5)).await.unwrap(), 0);
    assert_eq!(db.store.prune_finished(at(6)).await.unwrap(), 1);
    assert_eq!(db.store.delivery_status("old").await.unwrap(), None);
    assert_eq!(status(&db.store, "queued").await, DeliveryStatus::Queued);
}

#[tokio::test]
async fn pruning_a_namespace_removes_only_its_old_entries() {
    let db = test_db().await;
    db.store.kv_put("cache", "old", b"1", at(0)).await.unwrap();
    db.store.kv_put("cache", "new", b"2", at(10)).await.unwrap();
    db.store.kv_put("state", "old", b"3", at(0)).await.unwrap();
    assert_eq!(db.store.prune_kv("cache", at(5)).await.unwrap(), 1);
    assert!(db.store.kv_get("cache", "old").await.unwrap().is_none());
    assert!(db.store.kv_get("cache", "new").await.unwrap().is_some());
    assert!(db.store.kv_get("state", "old").await.unwrap().is_some(), "other namespaces are left alone");
}

#[tokio::test]
async fn blobs_are_content_addressed() {
    let db = test_db().await;
    assert_eq!(db.store.get_blob("abc").await.unwrap(), None);
    db.store.put_blob("abc", b"hello").await.unwrap();
    db.store.put_blob("abc", b"ignored: same sha, same content").await.unwrap();
    assert_eq!(db.store.get_blob("abc").await.unwrap().as_deref(), Some(&b"hello"[..]));
    let big = vec![7u8; 3 * 1024 * 1024];
    db.store.put_blob("big", &big).await.unwrap();
    assert_eq!(db.store.get_blob("big").await.unwrap(), Some(big));
}

#[tokio::test]
async fn key_value_entries() {
    let db = test_db().await;
    assert_eq!(db.store.kv_get(ns::CHECK_RUN, "acme/api@aaa").await.unwrap(), None);
    db.store.kv_put(ns::CHECK_RUN, "acme/api@aaa", b"1001", at(0)).await.unwrap();
    db.store.kv_put(ns::CHECK_RUN, "acme/api@aaa", b"1002", at(5)).await.unwrap();
    db.store.kv_put(ns::STICKY_COMMENT, "acme/api@aaa", b"other namespace", at(5)).await.unwrap();
    assert_eq!(
        db.store.kv_get(ns::CHECK_RUN, "acme/api@aaa").await.unwrap(),
        Some(KvEntry { value: b"1002".to_vec(), updated_at: at(5) })
    );

    db.store.kv_put_json(ns::LINKED_FACTS, "acme/api", &serde_json::json!({"oncall": true}), at(7)).await.unwrap();
    let (value, updated): (serde_json::Value, _) =
        db.store.kv_get_json(ns::LINKED_FACTS, "acme/api").await.unwrap().unwrap();
    assert_eq!(value, serde_json::json!({"oncall": true}));
    assert_eq!(updated, at(7));
    assert!(matches!(
        db.store.kv_get_json::<Vec<u32>>(ns::LINKED_FACTS, "acme/api").await,
        Err(StoreError::Decode { .. })
    ));

    assert!(db.store.kv_delete(ns::CHECK_RUN, "acme/api@aaa").await.unwrap());
    assert!(!db.store.kv_delete(ns::CHECK_RUN, "acme/api@aaa").await.unwrap());
    assert_eq!(db.store.kv_get(ns::CHECK_RUN, "acme/api@aaa").await.unwrap(), None);
    assert!(db.store.kv_get(ns::STICKY_COMMENT, "acme/api@aaa").await.unwrap().is_some());
}

#[tokio::test]
async fn opening_in_memory_and_refusing_other_databases() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.ping().await.unwrap();
    insert(&store, delivery("d1", 0)).await;
    assert_eq!(claim_id(&store, "w1", at(1)).await.as_deref(), Some("d1"));
    assert!(matches!(Store::open("mysql://localhost/x").await, Err(StoreError::UnsupportedUrl)));
}

#[tokio::test]
async fn the_database_uses_wal_and_full_sync() {
    let db = sqlite_db().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&db.store.pool).await.unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&db.store.pool).await.unwrap();
    assert_eq!(sync, 2, "FULL");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&db.store.pool).await.unwrap();
    assert_eq!(fk, 1);
}
