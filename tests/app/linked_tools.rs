//! The App scoring linked-tool rules: `oncall` from a fake PagerDuty (REST API v2 response shapes) configured with
//! `SHIPSHAPE_PAGERDUTY_TOKEN` and `SHIPSHAPE_PAGERDUTY_API_URL`; GitHub's code scanning, secret scanning, Actions
//! runs and CODEOWNERS errors from the fake GitHub; Prometheus rules and queries and `http` checks from fake tools;
//! and no credential in logs, errors or anything written to GitHub.

use crate::e2e::{OWNER, REPO, World, good_files, readme, serve_fake};
use crate::fake_github::CodeScanningState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shipshape::engine::{Scorecard, Status};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "pd-app-secret-7";

/// Who is on call for the policy `PEP1` of the service `PPAY`; the fake counts requests.
#[derive(Default)]
struct PagerDutyWorld {
    on_call: Vec<String>,
    requests: usize,
}

type Shared = Arc<Mutex<PagerDutyWorld>>;

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Token token={TOKEN}"))
}

async fn route(State(w): State<Shared>, headers: HeaderMap, Path(path): Path<String>) -> Response {
    w.lock().unwrap().requests += 1;
    if !authorized(&headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"message": "Unauthorized"}})))
            .into_response();
    }
    let body = match path.as_str() {
        "services/PPAY" => json!({"service": {"id": "PPAY", "status": "active",
            "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference"}}}),
        "escalation_policies/PEP1" => json!({"escalation_policy": {"id": "PEP1", "escalation_rules": [{"id": "R1"}]}}),
        "oncalls" => {
            let oncalls: Vec<_> = w
                .lock()
                .unwrap()
                .on_call
                .iter()
                .map(|name| json!({"user": {"summary": name, "type": "user_reference"}, "escalation_level": 1}))
                .collect();
            json!({"oncalls": oncalls, "more": false})
        }
        _ => {
            return (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({"error": {"message": "Not Found"}})))
                .into_response();
        }
    };
    axum::Json(body).into_response()
}

async fn fake_pagerduty(on_call: &[&str]) -> (String, Shared) {
    let world: Shared =
        Arc::new(Mutex::new(PagerDutyWorld { on_call: on_call.iter().map(|s| s.to_string()).collect(), requests: 0 }));
    let app = axum::Router::new().route("/{*path}", axum::routing::get(route)).with_state(world.clone());
    (serve_fake(app).await, world)
}

/// The service `payments` at tier 1 with the PagerDuty service `PPAY`, a README on `main`, the App started with
/// PagerDuty configured (`token`), one sweep done. Returns the default branch's scorecard.
async fn scored_with(url: &str, token: &str) -> (World, Scorecard) {
    let mut world = World::new(1).await;
    let service = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  annotations:\n    \
                   github.com/project-slug: acme/payments\n    pagerduty.com/service-id: PPAY\nspec:\n  type: service\n  \
                   owner: team-payments\n  tier: 1\n";
    let catalog = world.fake.commit(OWNER, "catalog", &[("services/payments.yaml", service)]);
    world.fake.set_branch(OWNER, "catalog", "main", &catalog);
    let readme = readme();
    let head = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str())]);
    world.fake.set_branch(OWNER, REPO, "main", &head);
    world.vars.push(("SHIPSHAPE_PAGERDUTY_TOKEN", token.to_string()));
    world.vars.push(("SHIPSHAPE_PAGERDUTY_API_URL", url.to_string()));
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let key = format!("{OWNER}/{REPO}@{head}");
    let entry = world.running().store.kv_get("scorecard", &key).await.unwrap().expect("the default branch was scored");
    let card = serde_json::from_slice(&entry.value).unwrap();
    (world, card)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_scores_oncall_from_pagerduty() {
    let (url, pagerduty) = fake_pagerduty(&["Ada Lovelace"]).await;
    let (world, card) = scored_with(&url, TOKEN).await;
    let oncall = card.rule("oncall").unwrap();
    assert_eq!((oncall.status, oncall.message.as_str()), (Status::Pass, "on call now: Ada Lovelace"), "{card:#?}");
    assert_eq!(pagerduty.lock().unwrap().requests, 3, "service, escalation policy, on-calls");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_pagerduty_token_is_an_error_in_the_check_and_never_shown() {
    let (url, _) = fake_pagerduty(&["Ada"]).await;
    let (world, card) = scored_with(&url, "wrong-secret-token").await;
    let oncall = card.rule("oncall").unwrap();
    assert_eq!(
        (oncall.status, oncall.message.as_str()),
        (Status::Error, "PagerDuty: the credentials were refused (401)")
    );
    // Nothing the App wrote to GitHub holds the token.
    for request in world.fake.requests() {
        let body = request.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        assert!(!body.contains("wrong-secret-token"), "{request:?}");
    }
    world.fake.assert_clean();
}

/// The scorecard the last sweep stored for the default branch's head `head`.
async fn stored_card(world: &World, head: &str) -> Scorecard {
    let key = format!("{OWNER}/{REPO}@{head}");
    let entry = world.running().store.kv_get("scorecard", &key).await.unwrap().expect("the default branch was scored");
    serde_json::from_slice(&entry.value).unwrap()
}

fn rule<'a>(card: &'a Scorecard, id: &str) -> (Status, &'a str) {
    let r = card.rule(id).unwrap_or_else(|| panic!("no rule {id}"));
    (r.status, r.message.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_scores_code_scanning_secret_scanning_actions_runs_and_codeowners_errors() {
    let mut world = World::new(1).await;
    let head = world.commit(&good_files());
    world.fake.set_branch(OWNER, REPO, "main", &head);
    world.fake.set_code_scanning(
        OWNER,
        REPO,
        CodeScanningState::Alerts(vec![("high", "open"), ("none", "open"), ("critical", "fixed")]),
    );
    world.fake.set_secret_scanning(OWNER, REPO, Some(&["resolved"]));
    world.fake.add_actions_run(OWNER, REPO, &head, "build", Some("failure"));
    world.fake.add_actions_run(OWNER, REPO, &head, "lint", Some("success"));
    world.fake.set_codeowners_errors(
        OWNER,
        REPO,
        vec![json!({"line": 1, "column": 3, "kind": "Unknown owner", "source": "* @acme/payments",
                    "suggestion": null, "path": ".github/CODEOWNERS",
                    "message": "Unknown owner on line 1: make sure @acme/payments exists and has write access to the repository\n\n  * @acme/payments\n    ^"})],
    );
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let card = stored_card(&world, &head).await;
    assert_eq!(
        rule(&card, "vulnerabilities"),
        (Status::Fail, "open code scanning alerts: 1 high (at most 0)"),
        "{card:#?}"
    );
    assert_eq!(
        rule(&card, "ci-passing"),
        (Status::Fail, &*format!("CI failed on `main` ({}): `build` (GitHub Actions)", &head[..7]))
    );
    assert_eq!(
        rule(&card, "codeowners"),
        (
            Status::Fail,
            "GitHub reports `.github/CODEOWNERS` line 1: Unknown owner on line 1: make sure @acme/payments exists and \
             has write access to the repository"
        )
    );
    world.fake.assert_clean();

    // Fixed: the alert closed, the build green, the owner created; secret scanning off is a fact, not a failure.
    world.fake.set_code_scanning(OWNER, REPO, CodeScanningState::Alerts(vec![("high", "fixed")]));
    world.fake.set_secret_scanning(OWNER, REPO, None);
    world.fake.add_actions_run(OWNER, REPO, &head, "build", Some("success"));
    world.fake.set_codeowners_errors(OWNER, REPO, vec![]);
    // A sweep reads linked-tool facts again (conditionally) rather than trusting the cache.
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let recheck_card = stored_card(&world, &head).await;
    assert_eq!(
        rule(&recheck_card, "vulnerabilities"),
        (
            Status::Pass,
            "open Dependabot alerts: 0 critical, 0 high, 0 medium, 1 low; open code scanning alerts: 0 critical, 0 \
             high, 0 medium, 0 low; secret scanning is disabled"
        )
    );
    assert_eq!(rule(&recheck_card, "ci-passing").0, Status::Pass, "{recheck_card:#?}");
    assert_eq!(rule(&recheck_card, "codeowners").0, Status::Pass);
    world.fake.assert_clean();
}

const PROM_TOKEN: &str = "prom-app-secret-31";
const SONAR_SECRET: &str = "sonar-app-secret-47";
const PD_SECRET: &str = "pd-app-secret-refused-59";

/// Everything the process logs, at every level of shipshape's own spans and events and of the HTTP clients' (the
/// connection pool's trace lines name the host it connects to, octocrab's the requests): installed once for the
/// whole test binary (a global subscriber sees the App's worker threads), shared by the tests that read it.
pub(crate) fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        #[derive(Clone)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("shipshape=trace,hyper_util::client=trace,octocrab=trace,info")
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in this binary");
        buffer
    })
    .clone()
}

/// A Prometheus (HTTP API v1) that wants `PROM_TOKEN` and knows an alerting rule for `payments`; and a SonarQube-like
/// tool that wants `SONAR_SECRET` and answers 500 with the request's credentials echoed in its body.
async fn fake_tools() -> (String, String) {
    async fn prometheus(headers: HeaderMap, axum::extract::RawQuery(query): axum::extract::RawQuery) -> Response {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {PROM_TOKEN}")) {
            return (axum::http::StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        }
        match query {
            Some(q) if q.starts_with("query=") => axum::Json(json!({"status": "success", "data": {
                "resultType": "vector", "result": [{"metric": {"job": "payments"}, "value": [1_700_000_000, "0.97"]}]}}))
            .into_response(),
            _ => axum::Json(json!({"status": "success", "data": {"groups": [{"name": "payments", "file": "p.yaml",
                "interval": 30, "rules": [{"type": "alerting", "name": "PaymentsDown", "query": "up == 0",
                "labels": {"service": "payments"}, "health": "ok", "evaluationTime": 0.001,
                "lastEvaluation": "2026-11-22T07:00:00Z"}]}]}}))
            .into_response(),
        }
    }
    async fn sonar(headers: HeaderMap) -> Response {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("{{\"error\": \"boom for {auth}\"}}")).into_response()
    }
    let prometheus = axum::Router::new()
        .route("/api/v1/rules", axum::routing::get(prometheus))
        .route("/api/v1/query", axum::routing::get(prometheus));
    let sonar = axum::Router::new().route("/api/qualitygates/project_status", axum::routing::get(sonar));
    (serve_fake(prometheus).await, serve_fake(sonar).await)
}

/// The catalog's own scorecard: Prometheus alerting rules, a PromQL availability threshold, an `http` check and
/// on-call, for every tier.
fn tool_policy(sonar: &str) -> String {
    format!(
        r#"apiVersion: shipshape.dev/v1
kind: Scorecard
tiers:
  1: {{requires: bronze}}
default_tier: 1
rules:
  - id: alerts
    title: Alerting rules exist
    level: bronze
    remediation: Add alerting rules.
    check: {{alert_rules: {{}}}}
  - id: availability
    title: Availability meets the SLO
    level: bronze
    remediation: Fix the errors.
    check:
      promql:
        query: 'avg_over_time(up{{job="{{{{ .metadata.name }}}}"}}[30d])'
        min: 0.999
        description: 30-day availability
  - id: quality-gate
    title: Quality gate passes
    level: bronze
    remediation: Fix the issues.
    check:
      http:
        url: '{sonar}/api/qualitygates/project_status?projectKey={{{{ .metadata.name }}}}'
        headers: {{Authorization: 'Bearer {{{{ secret.SONAR_TOKEN }}}}'}}
        jq: '.projectStatus.status == "OK"'
  - id: oncall
    title: Someone is on call
    level: bronze
    remediation: Staff it.
    check: {{oncall: {{}}}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_and_http_checks_are_scored_and_no_secret_reaches_logs_errors_or_github() {
    let logs = captured_logs();
    let (prometheus, sonar) = fake_tools().await;
    let (pagerduty, _) = fake_pagerduty(&["Ada"]).await;
    let mut world = World::new(1).await;
    let service = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  annotations:\n    \
                   github.com/project-slug: acme/payments\n    pagerduty.com/service-id: PPAY\nspec:\n  type: service\n  \
                   owner: team-payments\n  tier: 1\n";
    let policy = tool_policy(&sonar);
    let catalog = world.fake.commit(
        OWNER,
        "catalog",
        &[("services/payments.yaml", service), ("policies/scorecard.yaml", policy.as_str())],
    );
    world.fake.set_branch(OWNER, "catalog", "main", &catalog);
    let readme = readme();
    let base = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str())]);
    world.fake.set_branch(OWNER, REPO, "main", &base);
    world.vars.push(("SHIPSHAPE_PROMETHEUS_URL", prometheus));
    world.vars.push(("SHIPSHAPE_PROMETHEUS_TOKEN", PROM_TOKEN.to_string()));
    world.vars.push(("SHIPSHAPE_SECRET_SONAR_TOKEN", SONAR_SECRET.to_string()));
    world.vars.push(("SHIPSHAPE_PAGERDUTY_TOKEN", PD_SECRET.to_string()));
    world.vars.push(("SHIPSHAPE_PAGERDUTY_API_URL", pagerduty));
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;

    let card = stored_card(&world, &base).await;
    assert_eq!(rule(&card, "alerts"), (Status::Pass, "Prometheus alerting rules for `payments`: `PaymentsDown`"));
    assert_eq!(rule(&card, "availability"), (Status::Fail, "30-day availability is 0.97, at least 0.999 expected"));
    let gate = rule(&card, "quality-gate");
    assert_eq!(gate.0, Status::Error, "{card:#?}");
    assert!(gate.1.ends_with("/api/qualitygates/project_status?projectKey=payments: answered 500"), "{}", gate.1);
    assert_eq!(rule(&card, "oncall"), (Status::Error, "PagerDuty: the credentials were refused (401)"));

    // A pull request: its check run and sticky comment carry the same messages.
    let head = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str()), ("docs/runbook.md", "# Runbook\n")]);
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 7, &head, &base)).await, 202);
    world.settle().await;
    let runs = world.fake.check_runs(OWNER, REPO);
    let run = runs.iter().find(|r| r["head_sha"] == head.as_str()).expect("the pull request's check run");
    let text = format!("{}{}", run["output"]["summary"], run["output"]["text"]);
    assert!(text.contains("answered 500") && text.contains("credentials were refused"), "{text}");

    let secrets = [PROM_TOKEN, SONAR_SECRET, PD_SECRET, "webhook-secret-for-tests", "BEGIN RSA PRIVATE KEY"];
    for request in world.fake.requests() {
        let body = request.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        for secret in secrets {
            assert!(!body.contains(secret), "{secret} reached GitHub: {} {}", request.method, request.path);
        }
    }
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(logged.contains("evaluate_default_branch"), "the logs were captured");
    for secret in secrets {
        assert!(!logged.contains(secret), "{secret} was logged");
    }
    let stored = serde_json::to_string(&card).unwrap();
    for secret in secrets {
        assert!(!stored.contains(secret), "{secret} is in the stored scorecard");
    }
    // Operators see the tools' health in /metrics.
    let metrics = reqwest::get(format!("http://{}/metrics", world.running().addr)).await.unwrap().text().await.unwrap();
    for line in [
        "shipshape_linked_tool_requests_total{tool=\"prometheus\",outcome=\"ok\"}",
        "shipshape_linked_tool_requests_total{tool=\"http\",outcome=\"down\"}",
        "shipshape_linked_tool_requests_total{tool=\"pagerduty\",outcome=\"refused\"}",
    ] {
        assert!(metrics.lines().any(|l| l.starts_with(line)), "no {line} in\n{metrics}");
    }
    for secret in secrets {
        assert!(!metrics.contains(secret), "{secret} is in /metrics");
    }
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_facts_that_cannot_be_read_are_errors_with_the_reason() {
    let mut world = World::new(1).await;
    let head = world.commit(&good_files());
    world.fake.set_branch(OWNER, REPO, "main", &head);
    world.fake.set_code_scanning(OWNER, REPO, CodeScanningState::Alerts(vec![]));
    world.fake.set_secret_scanning(OWNER, REPO, Some(&[]));
    // The App was installed before it asked for code scanning: GitHub refuses the read.
    world.fake.fail_next(
        "GET",
        "/repos/{owner}/{repo}/code-scanning/alerts",
        1,
        403,
        &[],
        json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest",
               "status": "403"}),
    );
    // GitHub answers the Actions runs with something that is not a check-run listing.
    world.fake.fail_next(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        1,
        200,
        &[],
        json!({"total_count": 1, "check_runs": "oops"}),
    );
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let card = stored_card(&world, &head).await;
    assert_eq!(
        rule(&card, "vulnerabilities"),
        (
            Status::Error,
            "cannot read code scanning alerts: Resource not accessible by integration (the App needs the Code \
             scanning alerts: read permission)"
        )
    );
    let (status, message) = rule(&card, "ci-passing");
    assert_eq!(status, Status::Error, "{message}");
    assert!(message.starts_with("cannot read the check runs of `main`: "), "{message}");
    assert!(message.contains("unexpected response body"), "{message}");
    // A code scanning setup GitHub reports as disabled is a fact: nothing to count, not an error.
    world.fake.set_code_scanning(OWNER, REPO, CodeScanningState::Disabled);
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let card = stored_card(&world, &head).await;
    assert_eq!(rule(&card, "vulnerabilities").0, Status::Pass, "{card:#?}");
    assert_eq!(rule(&card, "ci-passing").0, Status::Skipped, "no Actions run on the head: {card:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_age_is_read_from_the_highest_version_tag_only_when_a_rule_asks() {
    let mut world = World::new(1).await;
    // The clock of the App: 2023-11-24, ten days after the fake's commits of 2023-11-14.
    let clock = Arc::new(shipshape::clock::ManualClock::new(
        chrono::DateTime::from_timestamp(1_700_000_000 + 10 * 86_400, 0).unwrap(),
    ));
    world.clock = clock.clone();
    let policy = "apiVersion: shipshape.dev/v1\nkind: Scorecard\ntiers:\n  1: {requires: bronze}\ndefault_tier: 1\nrules:\n  \
                  - {id: ships, title: Ships, level: bronze, remediation: Release., check: {release_age: {max_days: 30}}}\n";
    let service = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  annotations:\n    \
                   github.com/project-slug: acme/payments\nspec:\n  type: service\n  owner: team-payments\n  tier: 1\n";
    let catalog = world.fake.commit(
        OWNER,
        "catalog",
        &[("services/payments.yaml", service), ("policies/scorecard.yaml", policy)],
    );
    world.fake.set_branch(OWNER, "catalog", "main", &catalog);
    let readme = readme();
    let old = world.fake.commit_dated(OWNER, REPO, &[("README.md", readme.as_str())], 1_690_000_000);
    let recent = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str()), ("CHANGELOG.md", "1.10\n")]);
    world.fake.set_branch(OWNER, REPO, "main", &recent);
    world.fake.add_tag(OWNER, REPO, "v1.9.0", &old);
    world.fake.add_tag(OWNER, REPO, "v1.10.0", &recent);
    world.fake.add_tag(OWNER, REPO, "v2.0.0-rc.1", &recent);
    world.fake.add_tag(OWNER, REPO, "nightly", &recent);
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let card = stored_card(&world, &recent).await;
    let (status, message) = rule(&card, "ships");
    assert_eq!(status, Status::Pass, "{message}");
    assert!(message.starts_with("last release `v1.10.0` on 2023-11-14"), "{message}");

    // Forty days on, with nothing released since: the rule fails, saying how old the release is.
    clock.advance(std::time::Duration::from_secs(30 * 86_400));
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    let card = stored_card(&world, &recent).await;
    let (status, message) = rule(&card, "ships");
    assert_eq!(status, Status::Fail);
    assert!(message.starts_with("the last release, `v1.10.0` (2023-11-14), is 40 days old"), "{message}");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_not_read_when_no_rule_needs_them() {
    let mut world = World::new(1).await;
    let readme = readme();
    let head = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str())]);
    world.fake.set_branch(OWNER, REPO, "main", &head);
    world.start(1).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    stored_card(&world, &head).await;
    let tag_reads = world.fake.requests().iter().filter(|r| r.path.contains("/git/matching-refs/")).count();
    assert_eq!(tag_reads, 0, "the embedded scorecard has no release_age rule");
}
