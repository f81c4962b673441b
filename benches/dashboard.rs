//! Measures the web over a large history: fills a file-backed store with 1,000 services of one organisation, each
//! with a day record for each of the last 90 days (rule statuses drifting from day to day, as a programme's do),
//! publishes a catalog view naming them all, then serves the real web router on loopback and times, over HTTP:
//!
//! - `/` (signed in with a sealed session cookie), `/services`, `/services/{name}`, `/rules/{id}`, `/teams/{team}`;
//! - `/api/v1/services` (JSON and CSV) and `/api/v1/services/{name}/history` with the API token.
//!
//! Prints latency percentiles per path and the database's size on disk; asserts nothing about time. Run with
//! `cargo bench --bench dashboard`; `SHIPSHAPE_BENCH_SERVICES` (default 1,000), `SHIPSHAPE_BENCH_DAYS` (default 90)
//! and `SHIPSHAPE_BENCH_REQUESTS` (requests per path, default 30) change the sizes.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use shipshape::clock::{Clock, ManualClock};
use shipshape::config::{Secret, SignInConfig};
use shipshape::dashboard::catalog::{CatalogEntry, CatalogView, ExceptionEntry, InitiativeEntry, KV_KEY, RuleEntry};
use shipshape::engine::Status;
use shipshape::policy::Policy;
use shipshape::providers::Breaker;
use shipshape::store::{ServiceDay, Store, ns};
use shipshape::web::access::Viewers;
use shipshape::web::read_model::ReadModel;
use shipshape::web::session::SessionKey;
use shipshape::web::signin::SignIn;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORG: &str = "acme";
const TOKEN: &str = "bench-api-token-0123456789abcdef";
const TEAMS: usize = 25;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let sizes = Sizes {
        services: env("SHIPSHAPE_BENCH_SERVICES", 1_000),
        days: env("SHIPSHAPE_BENCH_DAYS", 90),
        requests: env("SHIPSHAPE_BENCH_REQUESTS", 30),
    };
    runtime.block_on(bench(sizes));
}

struct Sizes {
    services: usize,
    days: usize,
    requests: usize,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn service_name(i: usize) -> String {
    format!("service-{i:04}")
}

/// A small, fixed pseudo-random number from `i` and `day`, so every run fills the same history.
fn mix(i: usize, day: usize, salt: usize) -> u64 {
    let mut x = (i as u64) << 32 ^ (day as u64) << 8 ^ salt as u64;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Service `i` on day `day` (0 = the oldest): each rule passes with a probability rising over the period.
fn record(policy: &Policy, i: usize, day: usize, days: usize, date: NaiveDate) -> ServiceDay {
    let tier = (i % 3) as u32 + 1;
    let mut rules = BTreeMap::new();
    for (r, rule) in policy.rules.iter().enumerate() {
        let chance = 55 + 40 * day / days.max(1);
        let status = if (mix(i, day / 7, r) % 100) < chance as u64 { Status::Pass } else { Status::Fail };
        rules.insert(rule.id.clone(), status);
    }
    let mut level = None;
    for name in &policy.levels {
        let met = policy.rules.iter().filter(|r| r.level == *name).all(|r| rules[&r.id].is_ok());
        if !met {
            break;
        }
        level = Some(name.clone());
    }
    let required_level = policy.levels[(3 - tier as usize).min(policy.levels.len() - 1)].clone();
    let reached = level.as_ref().and_then(|l| policy.levels.iter().position(|x| x == l));
    let required = policy.levels.iter().position(|x| *x == required_level);
    ServiceDay {
        org: ORG.into(),
        service: service_name(i),
        day: date,
        repository: format!("{ORG}/{}", service_name(i)),
        owner: Some(format!("team-{:02}", i % TEAMS)),
        tier,
        level,
        required_level,
        meets_required: reached >= required,
        unverified: 0,
        commit: format!("{:040x}", mix(i, day, 99)),
        rules,
        not_applicable: BTreeSet::new(),
        levels: policy.levels.clone(),
        evaluated_at: date.and_hms_opt(9, 0, 0).unwrap().and_utc(),
    }
}

async fn fill(store: &Store, policy: &Arc<Policy>, sizes: &Sizes) {
    let started = Instant::now();
    let today = now().date_naive();
    for i in 0..sizes.services {
        let writes = (0..sizes.days).map(|day| {
            let (store, policy) = (store.clone(), policy.clone());
            let date = today - TimeDelta::days((sizes.days - 1 - day) as i64);
            let days = sizes.days;
            tokio::spawn(async move { store.record_service_day(&record(&policy, i, day, days, date)).await.unwrap() })
        });
        for write in writes.collect::<Vec<_>>() {
            write.await.unwrap();
        }
    }
    let rows = sizes.services * sizes.days;
    let elapsed = started.elapsed().as_secs_f64();
    println!("filled {rows} day records in {elapsed:.1} s ({:.0}/s)", rows as f64 / elapsed);
}

fn catalog_view(policy: &Policy, services: usize) -> CatalogView {
    let entries = (0..services)
        .map(|i| {
            let entry = CatalogEntry {
                file: format!("services/{}.yaml", service_name(i)),
                repository: Some(format!("{ORG}/{}", service_name(i))),
                owner: Some(format!("team-{:02}", i % TEAMS)),
                tier: Some((i % 3) as u32 + 1),
            };
            (service_name(i), entry)
        })
        .collect();
    let exceptions = (0..services / 20)
        .map(|i| ExceptionEntry {
            service: service_name(i * 20),
            rule: policy.rules[i % policy.rules.len()].id.clone(),
            reason: "the wiki moves next quarter".into(),
            expires: now().date_naive() + TimeDelta::days((i % 60) as i64),
            requested_by: Some("alice".into()),
            requested_in: None,
            file: format!("exceptions/{}/{}.yaml", service_name(i * 20), policy.rules[i % policy.rules.len()].id),
        })
        .collect();
    let initiatives = vec![InitiativeEntry {
        id: "ownership".into(),
        title: "Every service has an owner on call".into(),
        deadline: now().date_naive() + TimeDelta::days(30),
        rules: policy.rules.iter().take(3).map(|r| r.id.clone()).collect(),
    }];
    CatalogView {
        repository: format!("{ORG}/catalog"),
        html_url: Some(format!("https://github.com/{ORG}/catalog")),
        branch: "main".into(),
        sha: "c".repeat(40),
        services: entries,
        exceptions,
        initiatives,
        rules: RuleEntry::of(policy),
        levels: policy.levels.clone(),
    }
}

async fn serve(store: Store, clock: Arc<dyn Clock>, key: SessionKey) -> std::net::SocketAddr {
    let config = SignInConfig {
        client_id: "Iv1.bench".into(),
        client_secret: Secret::new("bench-client-secret"),
        web_url: "http://127.0.0.1:9".into(),
        callback_url: "http://127.0.0.1:9/auth/callback".into(),
        secure: false,
        session_key: None,
    };
    let api_url = "http://127.0.0.1:9";
    let token = Secret::new(TOKEN);
    let viewers = Viewers::new(Some(&token), api_url, Some(key.clone()), clock.clone());
    let sign_in = SignIn::new(config, key, api_url).unwrap();
    let router = shipshape::web::routes(shipshape::web::WebState {
        store: store.clone(),
        viewers: Arc::new(viewers),
        clock: clock.clone(),
        public_badges: false,
        sign_in: Some(Arc::new(sign_in)),
        history: Arc::new(ReadModel::new(store.clone())),
        breaker: Arc::new(Breaker::new(clock.clone())),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

async fn get(client: &reqwest::Client, url: &str, header: (&str, &str)) -> (Duration, usize) {
    let started = Instant::now();
    let response = client.get(url).header(header.0, header.1).send().await.unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    assert!(status.is_success(), "{url}: {status}: {}", String::from_utf8_lossy(&body));
    (started.elapsed(), body.len())
}

/// `requests` timed GETs of `url`, after one that warms the read model (its time is the first).
async fn time(
    client: &reqwest::Client,
    url: &str,
    header: (&str, &str),
    requests: usize,
) -> (Duration, Vec<Duration>, usize) {
    let (first, mut bytes) = get(client, url, header).await;
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let (took, size) = get(client, url, header).await;
        latencies.push(took);
        bytes = size;
    }
    (first, latencies, bytes)
}

fn report(path: &str, first: Duration, mut latencies: Vec<Duration>, bytes: usize) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| ms(latencies[((latencies.len() as f64 - 1.0) * q).round() as usize]);
    println!(
        "{path:<40} first {:>7.1} ms  p50 {:>6.1} ms  p95 {:>6.1} ms  max {:>6.1} ms  {:>7} bytes",
        ms(first),
        at(0.5),
        at(0.95),
        at(1.0),
        bytes
    );
}

fn disk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()
}

async fn bench(sizes: Sizes) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("dashboard.db").display());
    let store = Store::open(&url).await.unwrap();
    let policy = Arc::new(Policy::embedded());
    let before = disk_size(dir.path());
    fill(&store, &policy, &sizes).await;
    let view = catalog_view(&policy, sizes.services);
    store.kv_put_json(ns::WEB, KV_KEY, &view, now()).await.unwrap();
    let rows = (sizes.services * sizes.days) as f64;

    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now()));
    let key = SessionKey::from_secret("bench-session-key-0123456789abcdef0123456789");
    let session = key.start("alice", BTreeSet::from([ORG.to_string()]), now());
    let cookie = format!("shipshape_session={}", key.seal(&session));
    let addr = serve(store.clone(), clock, key).await;
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {TOKEN}");
    let rule = &policy.rules[0].id;
    let one = service_name(sizes.services / 2);
    let pages = [
        "/".to_string(),
        "/?tier=1".to_string(),
        "/services".to_string(),
        format!("/services/{one}"),
        format!("/rules/{rule}"),
        "/teams/team-07".to_string(),
    ];
    let api = [
        "/api/v1/services".to_string(),
        "/api/v1/services.csv".to_string(),
        format!("/api/v1/services/{one}"),
        format!("/api/v1/services/{one}/history"),
    ];
    println!("{} services × {} days, {} requests per path:", sizes.services, sizes.days, sizes.requests);
    for path in &pages {
        let (first, latencies, bytes) =
            time(&client, &format!("http://{addr}{path}"), ("cookie", &cookie), sizes.requests).await;
        report(path, first, latencies, bytes);
    }
    for path in &api {
        let (first, latencies, bytes) =
            time(&client, &format!("http://{addr}{path}"), ("authorization", &bearer), sizes.requests).await;
        report(path, first, latencies, bytes);
    }
    // Evaluations keep arriving: before each request, one service gets a new record of today.
    let mut latencies = Vec::with_capacity(sizes.requests);
    for n in 0..sizes.requests {
        let mut changed = record(&policy, n * 7 % sizes.services, sizes.days, sizes.days, now().date_naive());
        changed.evaluated_at = now() + TimeDelta::seconds(n as i64 + 1);
        store.record_service_day(&changed).await.unwrap();
        latencies.push(get(&client, &format!("http://{addr}/"), ("cookie", &cookie)).await.0);
    }
    let first = latencies[0];
    report("/ after a new record, each time", first, latencies, 0);
    store.close().await;
    let grown = disk_size(dir.path()) - before;
    println!(
        "database on disk: {:.1} MiB, nearly all of it the history ({:.0} bytes per day record)",
        grown as f64 / 1048576.0,
        grown as f64 / rows
    );
}
