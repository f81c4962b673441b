//! Credentials in settings (issue 12): a Prometheus URL's `user:password@` is sent as Basic credentials and
//! appears in no log line at any level, not even the HTTP client's; a malformed URL setting or an unreadable key
//! file stops `shipshape serve` with the variable and the reason, never the password.

use crate::e2e::{OWNER, REPO, World, readme, serve_fake};
use crate::linked_tools::captured_logs;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::json;
use shipshape::engine::{Scorecard, Status};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "prom-reader";
const PASSWORD: &str = "prom-basic-pass-83";

/// A Prometheus behind Basic auth that knows an alerting rule for `payments`; it records the `Authorization`
/// headers it was sent.
async fn basic_auth_prometheus() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let rules = move |headers: HeaderMap| {
        let record = record.clone();
        async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            record.lock().unwrap().push(auth.clone());
            let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
            if auth != format!("Basic {expected}") {
                return (axum::http::StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
            }
            let rule = json!({"type": "alerting", "name": "PaymentsDown", "query": "up == 0", "health": "ok",
                              "labels": {"service": "payments"}});
            axum::Json(json!({"status": "success", "data": {"groups": [{"name": "payments", "rules": [rule]}]}}))
                .into_response()
        }
    };
    let app = axum::Router::new().route("/api/v1/rules", axum::routing::get(rules));
    (serve_fake(app).await, seen)
}

const POLICY: &str = "apiVersion: shipshape.dev/v1\nkind: Scorecard\ntiers:\n  1: {requires: bronze}\ndefault_tier: 1\n\
                      rules:\n  - {id: alerts, title: Alerting rules exist, level: bronze, remediation: Add some., \
                      check: {alert_rules: {}}}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_url_with_a_password_is_asked_with_basic_auth_and_the_password_is_never_logged() {
    let logs = captured_logs();
    let (prometheus, seen) = basic_auth_prometheus().await;
    let url = prometheus.replace("http://", &format!("http://{USER}:{PASSWORD}@"));
    let mut world = World::new(1).await;
    let service = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  annotations:\n    \
                   github.com/project-slug: acme/payments\nspec:\n  type: service\n  owner: team-payments\n  tier: 1\n";
    let catalog = world.fake.commit(
        OWNER,
        "catalog",
        &[("services/payments.yaml", service), ("policies/scorecard.yaml", POLICY)],
    );
    world.fake.set_branch(OWNER, "catalog", "main", &catalog);
    let text = readme();
    let head = world.fake.commit(OWNER, REPO, &[("README.md", text.as_str())]);
    world.fake.set_branch(OWNER, REPO, "main", &head);
    world.vars.push(("SHIPSHAPE_PROMETHEUS_URL", url));
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;

    let key = format!("{OWNER}/{REPO}@{head}");
    let entry = world.running().store.kv_get("scorecard", &key).await.unwrap().expect("the default branch was scored");
    let card: Scorecard = serde_json::from_slice(&entry.value).unwrap();
    let alerts = card.rule("alerts").unwrap();
    assert_eq!(alerts.status, Status::Pass, "{}", alerts.message);
    assert!(!seen.lock().unwrap().is_empty() && seen.lock().unwrap().iter().all(|a| a.starts_with("Basic ")));

    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    // The connection pool's lines about Prometheus were captured: they name its authority.
    let host = prometheus.trim_start_matches("http://");
    assert!(logged.lines().any(|l| l.contains("connection for") && l.contains(host)), "no pool line for {host}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for secret in [PASSWORD, &encoded, &format!("{USER}:")] {
        assert!(!logged.contains(secret), "{secret} was logged");
        assert!(!serde_json::to_string(&card).unwrap().contains(secret));
    }
    world.fake.assert_clean();
}

/// `shipshape serve` with `vars` (and a valid key, secret and catalog unless `vars` say otherwise), stopped after
/// 30 seconds: its exit code and standard error.
fn serve(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .arg("serve")
        .env_clear()
        .env("SHIPSHAPE_APP_ID", "7")
        .env("SHIPSHAPE_PRIVATE_KEY", crate::fake_github::key::PRIVATE_KEY_PEM)
        .env("SHIPSHAPE_WEBHOOK_SECRET", "webhook-secret-for-tests")
        .env("SHIPSHAPE_CATALOG_REPO", "acme/catalog")
        .env("SHIPSHAPE_LISTEN", "127.0.0.1:0")
        .envs(vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (code, stderr)
}

#[test]
fn serve_refuses_bad_url_settings_without_printing_their_password() {
    let cases = [
        ("SHIPSHAPE_PROMETHEUS_URL", "htps://reader:hunter2-pass@prom.internal:9090"),
        ("SHIPSHAPE_PROMETHEUS_URL", "http://reader:hunter2/pass@prom.internal:9090"),
        ("SHIPSHAPE_PAGERDUTY_API_URL", "https://someone:hunter2-pass@api.pagerduty.com"),
        ("SHIPSHAPE_GITHUB_API_URL", "https://someone:hunter2-pass@ghe.example.com/api/v3"),
        ("SHIPSHAPE_PUBLIC_URL", "https://someone:hunter2-pass@shipshape.example.com"),
        ("SHIPSHAPE_SLACK_WEBHOOK_URL", "https://someone:hunter2-pass@hooks.slack.com/services/T0/B0/X"),
    ];
    for (name, value) in cases {
        let (code, stderr) = serve(&[(name, value)]);
        assert_eq!(code, Some(2), "{name}={value}: {stderr}");
        assert!(stderr.starts_with(&format!("shipshape: {name}: ")), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{name}: {stderr}");
    }
    // A password and a token for Prometheus: which one is meant?
    let (code, stderr) = serve(&[
        ("SHIPSHAPE_PROMETHEUS_URL", "https://reader:hunter2-pass@prom.internal"),
        ("SHIPSHAPE_PROMETHEUS_TOKEN", "prom-token-hunter3"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("SHIPSHAPE_PROMETHEUS_TOKEN is set too") && !stderr.contains("hunter"), "{stderr}");
}

#[test]
fn serve_refuses_a_private_key_path_that_is_not_a_small_regular_file() {
    let (code, stderr) = serve(&[("SHIPSHAPE_PRIVATE_KEY", ""), ("SHIPSHAPE_PRIVATE_KEY_PATH", "/dev/zero")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "shipshape: SHIPSHAPE_PRIVATE_KEY_PATH: cannot read /dev/zero: not a regular file (a device, pipe or socket)"
    );
}

/// `shipshape serve` against the fake GitHub: the id of another App, or GitHub out of reach, stops it before it listens,
/// with the settings to look at; the right ones let it start (and it is stopped after 30 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_asks_github_who_the_app_is_before_it_listens() {
    let fake = crate::fake_github::FakeGitHub::start().await;
    let url = fake.url.clone();
    assert_ne!(fake.app_id(), 7, "the helper's App id is another App's");
    let (code, stderr) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || serve(&[("SHIPSHAPE_GITHUB_API_URL", url.as_str())])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("shipshape: SHIPSHAPE_APP_ID, SHIPSHAPE_PRIVATE_KEY: GitHub refused"), "{stderr}");
    assert!(!stderr.contains("PRIVATE KEY-----"), "{stderr}");
    let (code, stderr) =
        tokio::task::spawn_blocking(|| serve(&[("SHIPSHAPE_GITHUB_API_URL", "http://127.0.0.1:9")])).await.unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("shipshape: SHIPSHAPE_GITHUB_API_URL: cannot ask GitHub"), "{stderr}");
    let app_id = fake.app_id().to_string();
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        serve(&[
            ("SHIPSHAPE_GITHUB_API_URL", url.as_str()),
            ("SHIPSHAPE_APP_ID", app_id.as_str()),
            ("SHIPSHAPE_DATABASE_URL", "sqlite::memory:"),
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, None, "the right id and key: it starts and runs until stopped: {stderr}");
    assert!(fake.requests().iter().any(|r| r.method == "GET" && r.path == "/app"));
}
