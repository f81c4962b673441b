//! Measures claiming from a deep delivery queue: fills a file-backed SQLite store with queued deliveries (half of
//! them for one pull request, the rest spread over pull requests of ten deliveries each), then times
//! [`Store::claim`] in three situations:
//!
//! - `blocked`: the busy pull request's oldest delivery is being processed, the others claim around it;
//! - `drain`: the oldest deliveries, the busy pull request's among them, claimed and completed one after another;
//! - `supersede`: a new head arrives for the busy pull request, and the next claim sets its queue aside.
//!
//! Prints latency percentiles; asserts nothing about time. Run with `cargo bench --bench claims`;
//! `SHIPSHAPE_BENCH_QUEUED` sets the queue depth (default 100,000), `SHIPSHAPE_BENCH_CLAIMS` the claims timed per
//! phase (default 500).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use shipshape::store::{Disposition, NewDelivery, Store};
use std::time::{Duration, Instant};

const LEASE: Duration = Duration::from_secs(3600);
const HOT: &str = "acme/api#1";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench(env("SHIPSHAPE_BENCH_QUEUED", 100_000), env("SHIPSHAPE_BENCH_CLAIMS", 500)));
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn delivery(i: usize, key: String, sha: &str) -> NewDelivery {
    NewDelivery {
        delivery_id: format!("d-{i:07}"),
        event: "pull_request".to_owned(),
        action: Some("synchronize".to_owned()),
        installation_id: Some(1),
        repository: Some("acme/api".to_owned()),
        serial_key: Some(key),
        head_sha: Some(sha.to_owned()),
        payload: format!(r#"{{"action":"synchronize","number":{i}}}"#).into_bytes(),
        received_at: t0() + TimeDelta::milliseconds(i as i64),
        disposition: Disposition::Queue,
    }
}

/// Even deliveries go to the busy pull request, odd ones to pull requests of ten deliveries each.
fn nth(i: usize) -> NewDelivery {
    if i.is_multiple_of(2) {
        delivery(i, HOT.to_owned(), "aaaa")
    } else {
        let pr = 2 + i / 20;
        delivery(i, format!("acme/api#{pr}"), &format!("{pr:040x}"))
    }
}

async fn fill(store: &Store, queued: usize) {
    let started = Instant::now();
    for chunk in (0..queued).collect::<Vec<_>>().chunks(1024) {
        let inserts = chunk.iter().map(|&i| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_delivery(&nth(i)).await.unwrap() })
        });
        for insert in inserts.collect::<Vec<_>>() {
            insert.await.unwrap();
        }
    }
    let elapsed = started.elapsed();
    println!(
        "filled {queued} queued deliveries in {:.1} s ({:.0}/s)",
        elapsed.as_secs_f64(),
        queued as f64 / elapsed.as_secs_f64()
    );
}

fn report(phase: &str, mut latencies: Vec<Duration>) {
    if latencies.is_empty() {
        println!("{phase}: nothing claimed");
        return;
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{phase}: {} claims; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap()),
    );
}

/// Claims and completes up to `claims` deliveries, timing each claim; returns the latencies and what was claimed.
async fn claim_many(store: &Store, worker: &str, now: DateTime<Utc>, claims: usize) -> (Vec<Duration>, Vec<String>) {
    let mut latencies = Vec::with_capacity(claims);
    let mut keys = Vec::with_capacity(claims);
    for _ in 0..claims {
        let t = Instant::now();
        let Some(claimed) = store.claim(worker, now, LEASE).await.unwrap() else { break };
        latencies.push(t.elapsed());
        keys.push(claimed.serial_key.clone().unwrap_or_default());
        store.complete(&claimed.lease(), now).await.unwrap();
    }
    (latencies, keys)
}

async fn bench(queued: usize, claims: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("claims.db").display())).await.unwrap();
    fill(&store, queued).await;
    let now = t0() + TimeDelta::hours(1);

    // The busy pull request's oldest delivery is running: everyone else claims around it.
    let holder = store.claim("holder", now, LEASE).await.unwrap().expect("a delivery to hold");
    assert_eq!(holder.serial_key.as_deref(), Some(HOT));
    let (latencies, keys) = claim_many(&store, "w", now, claims).await;
    assert!(keys.iter().all(|k| k != HOT), "the busy pull request is claimed twice at once");
    report("blocked (one busy key holds half the queue)", latencies);
    store.complete(&holder.lease(), now).await.unwrap();

    // The oldest first, the busy pull request's among them.
    let mut serial = Vec::new();
    for _ in 0..claims {
        let t = Instant::now();
        let Some(claimed) = store.claim("w", now, LEASE).await.unwrap() else { break };
        serial.push(t.elapsed());
        store.complete(&claimed.lease(), now).await.unwrap();
    }
    report("drain (claim, complete, claim ...)", serial);

    // A new head for the busy pull request makes its whole queue stale: set aside by a claim (the first, or the
    // first that reaches the busy pull request).
    let mut newest = delivery(queued, HOT.to_owned(), "bbbb");
    newest.received_at = now;
    store.insert_delivery(&newest).await.unwrap();
    for _ in 0..claims {
        let t = Instant::now();
        let outcome = store.claim_reporting("w", now, LEASE).await.unwrap();
        let elapsed = t.elapsed();
        if let Some(claimed) = &outcome.claimed {
            store.complete(&claimed.lease(), now).await.unwrap();
        }
        if !outcome.superseded.is_empty() || outcome.claimed.is_none() {
            println!(
                "supersede: one claim set {} deliveries aside in {:.2} ms",
                outcome.superseded.len(),
                elapsed.as_secs_f64() * 1000.0
            );
            break;
        }
    }
    println!("queue depth afterwards: {}", store.queue_depth().await.unwrap());
    store.close().await;
}
