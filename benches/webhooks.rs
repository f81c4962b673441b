//! Measures the webhook edge: signed `pull_request` deliveries POSTed to a running `shipshape serve` (real router,
//! signature check, parsing, durable SQLite insert, 202), from 32 concurrent clients on the same machine. Workers are
//! off, so this is the intake alone. Prints throughput and latency percentiles; asserts nothing about time.
//! Run with `cargo bench --bench webhooks`.

#[path = "../tests/app/fake_github/key.rs"]
#[allow(dead_code)]
mod key;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use shipshape::config::ServeConfig;
use shipshape::worker::WorkerConfig;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DELIVERIES: usize = 10_000;
const CLIENTS: usize = 32;
const SECRET: &str = "bench-secret";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<&str, String> = HashMap::from([
        ("SHIPSHAPE_APP_ID", "1".to_string()),
        ("SHIPSHAPE_PRIVATE_KEY", key::PRIVATE_KEY_PEM.to_string()),
        ("SHIPSHAPE_WEBHOOK_SECRET", SECRET.to_string()),
        ("SHIPSHAPE_CATALOG_REPO", "acme/catalog".to_string()),
        ("SHIPSHAPE_GITHUB_API_URL", "http://127.0.0.1:9".to_string()),
        ("SHIPSHAPE_DATABASE_URL", format!("sqlite://{}", dir.path().join("bench.db").display())),
    ]);
    let config = ServeConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let workers = WorkerConfig { workers: 0, ..WorkerConfig::default() };
    let running =
        shipshape::serve::start(&config, listener, Arc::new(shipshape::clock::SystemClock), workers).await.unwrap();
    let url = format!("http://{}/webhook", running.addr);

    let payload = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/github-webhooks/pull_request/opened.payload.json"),
    )
    .unwrap_or_else(|_| br#"{"action":"opened","number":1}"#.to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&payload);
    let signature: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let signature = format!("sha256={signature}");
    println!("payload: {} bytes (GitHub's pull_request.opened example)", payload.len());

    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, url, payload, signature) = (client.clone(), url.clone(), payload.clone(), signature.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for i in (c..DELIVERIES).step_by(CLIENTS) {
                let t = Instant::now();
                let status = client
                    .post(&url)
                    .header("X-GitHub-Event", "pull_request")
                    .header("X-GitHub-Delivery", format!("bench-{i}"))
                    .header("X-Hub-Signature-256", &signature)
                    .header("Content-Type", "application/json")
                    .body(payload.clone())
                    .send()
                    .await
                    .expect("request")
                    .status();
                assert_eq!(status.as_u16(), 202);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(DELIVERIES);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let stored = running.store.deliveries().await.unwrap().len();
    println!(
        "{DELIVERIES} deliveries from {CLIENTS} clients in {:.2} s: {:.0} accepted/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {stored} stored",
        elapsed.as_secs_f64(),
        DELIVERIES as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.90).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0,
    );
    running.stop(Duration::from_secs(1)).await;
}
