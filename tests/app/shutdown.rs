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

/// The binary: SIGTERM while it runs makes it drain and exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exits_0_on_sigterm() {
    let fake = crate::fake_github::FakeGitHub::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .arg("serve")
        .env_clear()
        .env("SHIPSHAPE_APP_ID", fake.app_id().to_string())
        .env("SHIPSHAPE_PRIVATE_KEY", crate::fake_github::key::PRIVATE_KEY_PEM)
        .env("SHIPSHAPE_WEBHOOK_SECRET", "webhook-secret-for-tests")
        .env("SHIPSHAPE_CATALOG_REPO", "acme/catalog")
        .env("SHIPSHAPE_GITHUB_API_URL", &fake.url)
        .env("SHIPSHAPE_DATABASE_URL", format!("sqlite://{}", dir.path().join("s.db").display()))
        .env("SHIPSHAPE_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "serve exited before it was ready");
        assert!(Instant::now() < deadline, "serve never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    })
    .await
    .unwrap();
    assert_eq!(status.0.code(), Some(0), "{}", status.1);
    assert!(status.1.contains("shutting down"), "{}", status.1);
}
