//! A burst of webhooks (issue 12): 2,000 signed deliveries from 32 concurrent clients into a file-backed database,
//! with workers claiming, handlers writing and outcomes being recorded at the same time. Every delivery is answered
//! 202, stored once (repeats included), processed once, and none is left `processing`.

use super::tests::{signed, test_parser};
use super::*;
use crate::clock::SystemClock;
use crate::store::DeliveryStatus;
use crate::worker::{FnHandler, HandleError, WorkerConfig, WorkerPool};
use std::collections::HashMap;
use std::sync::Mutex;
use tower::ServiceExt;

const DELIVERIES: usize = 2_000;
const CLIENTS: usize = 32;

fn body(number: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "action": "synchronize",
        "number": number,
        "installation": {"id": 99},
        "repository": {"full_name": "acme/api"},
        "pull_request": {"head": {"sha": "abc123"}},
    }))
    .unwrap()
}

/// Posts every delivery (and again every tenth, as GitHub's redeliveries would) from `CLIENTS` tasks; returns the
/// statuses that were not 202.
async fn post_all(state: &ServerState, number: fn(usize) -> usize) -> Vec<(String, StatusCode)> {
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let state = state.clone();
        clients.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            for i in (c..DELIVERIES).step_by(CLIENTS) {
                let id = format!("burst-{i:05}");
                let repeats = if i % 10 == 0 { 2 } else { 1 };
                for _ in 0..repeats {
                    let response = router(state.clone()).oneshot(signed("pull_request", &id, body(number(i))));
                    let status = response.await.unwrap().status();
                    if status != StatusCode::ACCEPTED {
                        refused.push((id.clone(), status));
                    }
                }
            }
            refused
        }));
    }
    let mut refused = Vec::new();
    for client in clients {
        refused.extend(client.await.unwrap());
    }
    refused
}

async fn burst(number: fn(usize) -> usize) {
    let dir = crate::store::test_database::TestDatabase::new().await;
    let store = Store::open(&dir.url).await.unwrap();
    let (notify, metrics) = (Arc::new(Notify::new()), Arc::new(Metrics::new()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = ServerState::new(
        store.clone(),
        Secret::new(super::tests::SECRET),
        test_parser(),
        notify.clone(),
        metrics.clone(),
        clock.clone(),
    );

    // Handlers write to the store too (like the App's caches), and count what they are handed.
    let processed: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (seen, cache) = (processed.clone(), store.clone());
    let handler = FnHandler(move |d: crate::store::Claimed| {
        *seen.lock().unwrap().entry(d.delivery_id.clone()).or_default() += 1;
        let cache = cache.clone();
        async move {
            let key = d.serial_key.unwrap_or_default();
            let write = cache.kv_put("burst", &key, d.delivery_id.as_bytes(), chrono::Utc::now()).await;
            write.map_err(|e| HandleError::transient(e.to_string()))
        }
    });
    let config = WorkerConfig { workers: 4, poll_interval: Duration::from_millis(20), ..WorkerConfig::default() };
    let pool = WorkerPool::spawn(store.clone(), Arc::new(handler), notify, metrics.clone(), clock, config);

    let refused = post_all(&state, number).await;
    assert!(refused.is_empty(), "{} refused, e.g. {:?}", refused.len(), &refused[..refused.len().min(5)]);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let deliveries = loop {
        let deliveries = store.deliveries().await.unwrap();
        if deliveries.iter().all(|d| d.status.is_finished()) {
            break deliveries;
        }
        let pending = deliveries.iter().filter(|d| !d.status.is_finished()).count();
        assert!(tokio::time::Instant::now() < deadline, "{pending} deliveries still queued or processing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    pool.shutdown(Duration::from_secs(5)).await;

    assert_eq!(deliveries.len(), DELIVERIES, "each stored once");
    let unfinished: Vec<_> =
        deliveries.iter().filter(|d| d.status != DeliveryStatus::Done || d.attempts != 1).collect();
    assert!(unfinished.is_empty(), "not done at the first attempt: {:?}", &unfinished[..unfinished.len().min(3)]);
    {
        let processed = processed.lock().unwrap();
        assert_eq!(processed.len(), DELIVERIES);
        assert!(processed.values().all(|&n| n == 1), "a delivery was processed twice");
    }
    // Counted just after each outcome is recorded.
    let done = format!("shipshape_deliveries_processed_total{{event=\"pull_request\",outcome=\"done\"}} {DELIVERIES}");
    for _ in 0..200 {
        if metrics.render().lines().any(|l| l == done) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{}", metrics.render());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_for_one_pull_request_is_stored_and_processed_exactly_once() {
    burst(|_| 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_for_many_pull_requests_is_stored_and_processed_exactly_once() {
    burst(|i| i).await;
}
