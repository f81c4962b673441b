//! Missed deliveries (SPEC 4): deliveries that failed while the App was down are redelivered after it starts, once
//! per GUID; delivered ones, and ones the App already stored, are not asked for again.

use crate::e2e::{SECRET, World, good_files, with};
use std::time::{Duration, Instant};

async fn until_stored(world: &World, guid: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while world.running().store.delivery(guid).await.unwrap().is_none() {
        if Instant::now() > deadline {
            let deliveries = world.running().store.deliveries().await.unwrap();
            let asked: Vec<String> = world.fake.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
            panic!("{guid} was never redelivered: deliveries {deliveries:#?}, requests {asked:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    world.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_missed_while_the_app_was_down_are_redelivered_once_after_it_starts() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&with(&good_files(), "docs/notes.md", "notes"));
    let opened = world.pull_request("opened", 7, &head, &base);
    // While the App was down: #7 opened (502 from the proxy), and a delivery it took (202) before going down.
    world.fake.add_hook_delivery("guid-missed", "pull_request", &opened, 502);
    let other = world.pull_request("opened", 8, &head, &base);
    world.fake.add_hook_delivery("guid-delivered", "pull_request", &other, 202);
    // One that failed, then succeeded on a redelivery someone asked for by hand.
    world.fake.add_hook_delivery("guid-retried", "pull_request", &other, 500);
    world.fake.add_hook_delivery("guid-retried", "pull_request", &other, 202);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    world.fake.set_hook_target(&url, SECRET);
    world.start_on(listener, 2).await;
    until_stored(&world, "guid-missed").await;
    assert_eq!(world.fake.redelivery_requests(), ["guid-missed"]);
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1, "#7 got its check run from the redelivery: {runs:#?}");
    assert_eq!(runs[0]["head_sha"], head.as_str());

    // Later: a delivery GitHub lists as failed (its answer timed out) though the App stored it, and another look.
    let delivery = "guid-stored";
    let synchronize = world.pull_request("synchronize", 7, &head, &base);
    assert_eq!(world.send("pull_request", delivery, &synchronize).await, 202);
    world.settle().await;
    world.fake.add_hook_delivery(delivery, "pull_request", &synchronize, 504);
    world.running().recover_now().await.unwrap();
    world.settle().await;
    assert_eq!(world.fake.redelivery_requests(), ["guid-missed"], "nothing asked twice, nothing stored asked for");
    let listings = world.fake.requests().iter().filter(|r| r.path.starts_with("/app/hook/deliveries")).count();
    assert!(listings >= 2, "listed at start-up and when asked: {listings}");
    world.fake.assert_clean();
}
