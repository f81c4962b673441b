//! Draining (SPEC 4): on a stop, `/readyz` answers 503 at once, the delivery being processed finishes, and a
//! webhook that arrives meanwhile is still stored (202) for after the restart.

use crate::e2e::{World, good_files, with};
use shipshape::store::DeliveryStatus;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_answers_not_ready_lets_the_running_delivery_finish_and_still_stores_webhooks() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&with(&good_files(), "docs/notes.md", "notes"));
    world.start(2).await;
    world.settle().await; // the look for missed deliveries queued at start-up
    world.fake.slow_down("/check-runs", Duration::from_millis(1500));
    let opened = world.pull_request("opened", 7, &head, &base);
    assert_eq!(world.send("pull_request", "d-running", &opened).await, 202);
    let store = world.running().store.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.delivery("d-running").await.unwrap().unwrap().status != DeliveryStatus::Processing {
        assert!(Instant::now() < deadline, "the delivery never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let addr = world.running().addr;
    let stopping = tokio::spawn(world.running.take().unwrap().stop(Duration::from_secs(30)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    assert_eq!(ready.text().await.unwrap(), "not ready: shutting down\n");
    let synchronize = world.pull_request("synchronize", 8, &head, &base);
    assert_eq!(world.send_to(addr, "pull_request", "d-late", &synchronize).await, 202, "still stored while draining");
    stopping.await.unwrap();

    assert_eq!(store.delivery("d-running").await.unwrap().unwrap().status, DeliveryStatus::Done);
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["status"], "completed");
    assert_eq!(
        store.delivery("d-late").await.unwrap().unwrap().status,
        DeliveryStatus::Queued,
        "for after the restart"
    );
    assert!(reqwest::get(format!("http://{addr}/healthz")).await.is_err(), "the server stopped");
}
