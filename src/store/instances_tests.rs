//! Replicas on one store: leases of an instance that stopped beating are taken over, a restart on SQLite takes
//! over its predecessor's at once, and one holder leads at a time. Run on both backends (see `TestDatabase`).

use super::tests::{at, delivery, insert, keyed, test_db};
use super::*;

const LONG_LEASE: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn the_leases_of_an_instance_that_stopped_beating_are_taken_over() {
    let db = test_db().await;
    let s = &db.store;
    s.register_instance("a", "host-a", 1, at(0)).await.unwrap();
    s.register_instance("b", "host-b", 2, at(0)).await.unwrap();
    insert(s, keyed("d1", 0, "acme/api#1", None)).await;
    insert(s, keyed("d2", 1, "acme/api#1", None)).await;
    let taken = s.claim_for(Some("a"), "a-0", at(1), LONG_LEASE).await.unwrap().claimed.unwrap();
    assert_eq!(taken.delivery_id, "d1");

    // a keeps beating: its lease holds, and so does the key.
    s.beat("a", at(20)).await.unwrap();
    s.beat("b", at(20)).await.unwrap();
    assert!(s.claim_for(Some("b"), "b-0", at(40), LONG_LEASE).await.unwrap().claimed.is_none());

    // a stops (SIGKILL); b beats on. Within INSTANCE_DEAD_AFTER of a's last beat nothing moves; after it, b takes
    // the delivery over, long before its hour-long lease would have run out.
    s.beat("b", at(45)).await.unwrap();
    assert!(s.claim_for(Some("b"), "b-0", at(49), LONG_LEASE).await.unwrap().claimed.is_none());
    let over = s.claim_for(Some("b"), "b-0", at(51), LONG_LEASE).await.unwrap().claimed.unwrap();
    assert_eq!((over.delivery_id.as_str(), over.attempt), ("d1", 2), "the same delivery, another attempt");
    // The key is b's now: the next delivery of the pull request waits.
    assert!(s.claim_for(Some("b"), "b-1", at(52), LONG_LEASE).await.unwrap().claimed.is_none());
    // a's worker comes back to life too late: its lease is fenced.
    let lost = s.complete(&taken.lease(), at(53)).await;
    assert!(matches!(lost, Err(StoreError::LeaseLost { .. })), "{lost:?}");
    s.complete(&over.lease(), at(54)).await.unwrap();
    assert_eq!(s.claim_for(Some("b"), "b-1", at(55), LONG_LEASE).await.unwrap().claimed.unwrap().delivery_id, "d2");
}

#[tokio::test]
async fn an_instance_never_takes_over_its_own_leases_when_its_beat_lags_the_clock() {
    let db = test_db().await;
    let s = &db.store;
    s.register_instance("a", "host-a", 1, at(0)).await.unwrap();
    insert(s, keyed("d1", 0, "acme/api#1", None)).await;
    insert(s, keyed("d2", 1, "acme/api#1", None)).await;
    s.claim_for(Some("a"), "a-0", at(1), LONG_LEASE).await.unwrap().claimed.unwrap();
    // The clock stepped a minute ahead before a's next beat: a is running (it claims), so its lease holds and the
    // key's next delivery waits; another instance, by the same clock, takes the lease over.
    assert!(s.claim_for(Some("a"), "a-1", at(61), LONG_LEASE).await.unwrap().claimed.is_none());
    s.register_instance("b", "host-b", 2, at(61)).await.unwrap();
    let over = s.claim_for(Some("b"), "b-0", at(61), LONG_LEASE).await.unwrap().claimed.unwrap();
    assert_eq!((over.delivery_id.as_str(), over.attempt), ("d1", 2));
}

#[tokio::test]
async fn a_lease_without_an_instance_ends_only_when_it_expires() {
    let db = test_db().await;
    let s = &db.store;
    insert(s, delivery("d1", 0)).await;
    s.claim("w", at(1), Duration::from_secs(120)).await.unwrap().unwrap();
    s.register_instance("b", "host-b", 2, at(100)).await.unwrap();
    assert!(s.claim_for(Some("b"), "b-0", at(100), LONG_LEASE).await.unwrap().claimed.is_none());
    assert!(s.claim_for(Some("b"), "b-0", at(122), LONG_LEASE).await.unwrap().claimed.is_some());
}

#[tokio::test]
async fn a_restart_forgets_the_previous_instance_and_takes_over_at_once() {
    let db = test_db().await;
    let s = &db.store;
    s.register_instance("before", "host", 1, at(0)).await.unwrap();
    insert(s, delivery("d1", 0)).await;
    s.claim_for(Some("before"), "before-0", at(1), LONG_LEASE).await.unwrap().claimed.unwrap();

    s.register_instance("after", "host", 1, at(2)).await.unwrap();
    assert!(s.claim_for(Some("after"), "after-0", at(2), LONG_LEASE).await.unwrap().claimed.is_none());
    assert_eq!(s.forget_other_instances("after").await.unwrap(), 1);
    let again = s.claim_for(Some("after"), "after-0", at(2), LONG_LEASE).await.unwrap().claimed.unwrap();
    assert_eq!(again.delivery_id, "d1");
    // A forgotten (or retired) instance learns it from its next beat.
    assert!(!s.beat("before", at(3)).await.unwrap());
    assert!(s.beat("after", at(3)).await.unwrap());
}

#[tokio::test]
async fn one_holder_leads_at_a_time_and_an_expired_lead_is_taken() {
    let db = test_db().await;
    let s = &db.store;
    let ttl = Duration::from_secs(30);
    assert!(s.try_lead(PERIODIC, "a", at(0), ttl).await.unwrap());
    assert!(!s.try_lead(PERIODIC, "b", at(1), ttl).await.unwrap());
    assert!(s.try_lead(PERIODIC, "a", at(20), ttl).await.unwrap(), "renewed");
    assert!(!s.try_lead(PERIODIC, "b", at(40), ttl).await.unwrap(), "the renewal counts from 20");
    assert_eq!(s.leader(PERIODIC, at(40)).await.unwrap().as_deref(), Some("a"));
    assert!(s.try_lead(PERIODIC, "b", at(50), ttl).await.unwrap(), "a stopped renewing");
    assert!(!s.try_lead(PERIODIC, "a", at(51), ttl).await.unwrap());
    s.retire_instance("b").await.unwrap();
    assert_eq!(s.leader(PERIODIC, at(52)).await.unwrap(), None);
    assert!(s.try_lead(PERIODIC, "a", at(52), ttl).await.unwrap(), "a retired leader's lease is free at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_leaders_race_and_one_wins() {
    let db = test_db().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move { s.try_lead(PERIODIC, &format!("r{i}"), at(0), LONG_LEASE).await }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_one_at_a_time() {
    let db = crate::store::test_database::TestDatabase::new().await;
    let opening: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { Store::open(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opening {
        stores.push(open.await.unwrap().expect("every replica opens the store"));
    }
    for (n, s) in stores.iter().enumerate() {
        s.register_instance(&format!("r{n}"), "host", 1, at(0)).await.unwrap();
    }
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&stores[0].pool).await.unwrap();
    let files = std::fs::read_dir(match stores[0].dialect() {
        Dialect::Sqlite => "migrations/sqlite",
        Dialect::Postgres => "migrations/postgres",
    })
    .unwrap()
    .count();
    assert_eq!(applied as usize, files, "each migration applied once");
}
