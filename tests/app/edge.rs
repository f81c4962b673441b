//! The App's HTTP edge under hostile clients, started as `shipshape serve` starts it (`serve::start`), with short
//! timeouts: stalled connections are closed, bodies beyond the caps are refused while `/healthz` answers, and
//! `/readyz` checks the deliveries table.

use crate::e2e::World;
use shipshape::serve;
use shipshape::server::Limits;
use shipshape::worker::WorkerConfig;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts the App without workers under `limits`.
async fn start(world: &mut World, limits: Limits) {
    let mut config = world.config();
    config.http_limits = limits;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let workers = WorkerConfig { workers: 0, ..WorkerConfig::default() };
    let running = serve::start(&config, listener, world.clock.clone(), workers).await.expect("server starts");
    world.running = Some(running);
}

/// Sends `raw` on a new connection; the status and text of the whole answer.
async fn exchange(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed within 10 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    (answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), answer)
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes()).await
}

fn webhook_head(length: usize, delivery: &str) -> String {
    format!(
        "POST /webhook HTTP/1.1\r\nHost: t\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: {delivery}\r\n\
         X-Hub-Signature-256: sha256={}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        "ab".repeat(32)
    )
}

/// Whether the server closed `stream` within `within`, skipping what it sends first.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut sink = [0u8; 1024];
    let eof = async {
        while let Ok(n) = stream.read(&mut sink).await
            && n > 0
        {}
    };
    tokio::time::timeout(within, eof).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_closes_stalled_connections_and_refuses_bodies_beyond_its_cap() {
    let mut world = World::new(3).await;
    let limits = Limits {
        header_read_timeout: Duration::from_millis(400),
        body_read_timeout: Duration::from_millis(800),
        max_body_reads: 1,
        ..Limits::default()
    };
    start(&mut world, limits.clone()).await;
    let addr = world.running().addr;

    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(b"POST /webhook HTTP/1.1\r\nHost: t\r\nX-Hub").await.unwrap();
    // One upload takes the only slot and stalls after 10 bytes.
    let mut upload = TcpStream::connect(addr).await.unwrap();
    upload.write_all(webhook_head(1000, "d-slow").as_bytes()).await.unwrap();
    upload.write_all(b"{\"zen\": \"x").await.unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
    loop {
        let metrics = get(addr, "/metrics").await.1;
        if metrics.lines().any(|l| l == "shipshape_webhook_bodies_reading 1") {
            break;
        }
        assert!(Instant::now() < deadline, "the upload was never admitted:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (status, answer) = exchange(addr, webhook_head(1000, "d-next").as_bytes()).await;
    assert_eq!(status, 503, "{answer}");
    assert!(answer.to_ascii_lowercase().contains("\r\nretry-after: 5\r\n"), "{answer}");
    assert_eq!(get(addr, "/healthz").await.0, 200, "healthz answers while the webhook intake is full");

    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), upload.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "the stalled body is cut at the body timeout: {answer}");
    assert!(closed_within(&mut stalled, Duration::from_secs(3)).await, "the stalled head is closed");
    assert!(started.elapsed() >= limits.header_read_timeout);

    let delivery = world.next_delivery();
    assert_eq!(world.send("ping", &delivery, br#"{"zen":"x","hook_id":1}"#).await, 202, "the slot was given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_when_the_deliveries_table_is_missing() {
    let mut world = World::new(3).await;
    start(&mut world, Limits::default()).await;
    let addr = world.running().addr;
    assert_eq!(get(addr, "/readyz").await.0, 200);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&world.db.url).await.unwrap();
    sqlx::query("DROP TABLE deliveries").execute(&pool).await.unwrap();
    pool.close().await;

    let (status, answer) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "{answer}");
    assert!(answer.ends_with("not ready: cannot read the deliveries table\n"), "{answer}");
    assert_eq!(get(addr, "/healthz").await.0, 200);
}
