//! Outcomes under a contended database: an outcome write that fails is retried until it lands.

use super::*;
use crate::clock::ManualClock;
use crate::store::{DeliveryStatus, Disposition, NewDelivery, StoreOptions};
use chrono::TimeZone;
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_write_that_fails_is_retried_until_it_lands() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("o.db").display());
    let options = StoreOptions { write_timeout: Duration::from_millis(50), ..StoreOptions::default() };
    let store = Store::open_with(&url, &options).await.unwrap();
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()));
    let (notify, metrics) = (Arc::new(Notify::new()), Arc::new(Metrics::new()));
    let (started, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (s, g) = (started.clone(), go.clone());
    let handler = FnHandler(move |_| {
        let (started, go) = (s.clone(), g.clone());
        async move {
            started.notify_one();
            go.notified().await;
            Ok(())
        }
    });
    let config = WorkerConfig {
        workers: 1,
        renew_every: Duration::from_secs(3600),
        poll_interval: Duration::from_millis(10),
        ..WorkerConfig::default()
    };
    let pool =
        WorkerPool::spawn(store.clone(), Arc::new(handler), notify.clone(), metrics.clone(), clock.clone(), config);
    let d = NewDelivery {
        delivery_id: "d1".to_owned(),
        event: "pull_request".to_owned(),
        action: Some("opened".to_owned()),
        installation_id: Some(1),
        repository: Some("acme/api".to_owned()),
        serial_key: Some("acme/api#1".to_owned()),
        head_sha: Some("abc".to_owned()),
        payload: b"{}".to_vec(),
        received_at: clock.now(),
        disposition: Disposition::Queue,
    };
    store.insert_delivery(&d).await.unwrap();
    notify.notify_one();
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();

    // Another process takes SQLite's write lock and keeps it well past the store's write timeout.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    go.notify_one();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.delivery_status("d1").await.unwrap(), Some(DeliveryStatus::Processing), "reads still work");
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.delivery_status("d1").await.unwrap() != Some(DeliveryStatus::Done) {
        assert!(tokio::time::Instant::now() < deadline, "the outcome was never recorded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let record = store.delivery("d1").await.unwrap().unwrap();
    assert_eq!(record.attempts, 1, "recorded by the first attempt, not redone");
    let done = "shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"done\"} 1";
    for _ in 0..200 {
        if metrics.render().lines().any(|l| l == done) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(metrics.render().lines().any(|l| l == done), "{}", metrics.render());
    pool.shutdown(Duration::from_secs(5)).await;
}
