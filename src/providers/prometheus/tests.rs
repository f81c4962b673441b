//! Against a stateful fake of Prometheus's HTTP API v1 (`/api/v1/rules`, `/api/v1/query`, their documented envelope
//! and shapes), served over HTTP.

use super::*;
use crate::providers::fake::{Fault, answer};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "prom-secret-token-17";

#[derive(Default)]
struct World {
    /// Rule groups as Prometheus lists them.
    groups: Vec<Value>,
    /// PromQL → value (`None`: empty vector).
    series: HashMap<String, Option<String>>,
    /// Whether a bearer token is required.
    auth: bool,
    faults: Vec<Fault>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

fn failure(status: u16, error_type: &str, error: &str) -> Response {
    let code = axum::http::StatusCode::from_u16(status).unwrap();
    (code, axum::Json(json!({"status": "error", "errorType": error_type, "error": error}))).into_response()
}

async fn fault_or_auth(world: &Shared, headers: &HeaderMap, what: String) -> Option<Response> {
    let (fault, auth) = {
        let mut w = world.lock().unwrap();
        w.requests.push(what);
        (if w.faults.is_empty() { None } else { Some(w.faults.remove(0)) }, w.auth)
    };
    if auth && headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return Some((axum::http::StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response());
    }
    answer(fault, |status| failure(status, "unavailable", "fault")).await
}

async fn rules(State(w): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let what = if q.get("exclude_alerts").map(String::as_str) == Some("true") { "rules" } else { "rules with alerts" };
    if let Some(r) = fault_or_auth(&w, &headers, what.into()).await {
        return r;
    }
    let groups = w.lock().unwrap().groups.clone();
    axum::Json(json!({"status": "success", "data": {"groups": groups}})).into_response()
}

async fn query(State(w): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let promql = q.get("query").cloned().unwrap_or_default();
    if let Some(r) = fault_or_auth(&w, &headers, format!("query {promql}")).await {
        return r;
    }
    if promql.contains("((") {
        return failure(400, "bad_data", "invalid parameter \"query\": 1:2: parse error: unexpected \"(\"");
    }
    if promql.starts_with("scalar(") {
        return axum::Json(
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1_700_000_000.0, "42"]}}),
        )
        .into_response();
    }
    let found = w.lock().unwrap().series.get(&promql).cloned();
    let result = match found {
        Some(Some(value)) => json!([{"metric": {"job": "payments"}, "value": [1_700_000_000.123, value]}]),
        _ => json!([]),
    };
    axum::Json(json!({"status": "success", "data": {"resultType": "vector", "result": result}})).into_response()
}

fn alerting(name: &str, labels: Value) -> Value {
    json!({"name": name, "query": "job:errors:ratio5m > 0.01", "duration": 300, "labels": labels,
           "annotations": {"summary": "errors"}, "alerts": [], "health": "ok", "evaluationTime": 0.0003,
           "lastEvaluation": "2026-11-22T07:00:00Z", "state": "inactive", "type": "alerting"})
}

fn recording(name: &str, labels: Value) -> Value {
    json!({"name": name, "query": "sum(rate(http_requests_total[5m]))", "labels": labels, "health": "ok",
           "evaluationTime": 0.0001, "lastEvaluation": "2026-11-22T07:00:00Z", "type": "recording"})
}

async fn fake(auth: bool) -> (String, Shared) {
    let world: Shared = Arc::new(Mutex::new(World { auth, ..World::default() }));
    {
        let mut w = world.lock().unwrap();
        w.groups = vec![
            json!({"name": "payments", "file": "/etc/prometheus/payments.yaml", "interval": 30, "limit": 0,
                   "rules": [alerting("PaymentsErrors", json!({"service": "payments", "severity": "page"})),
                             recording("slo:sli_error:ratio_rate5m", json!({"sloth_service": "payments"}))],
                   "evaluationTime": 0.001, "lastEvaluation": "2026-11-22T07:00:00Z"}),
            json!({"name": "other", "file": "/etc/prometheus/other.yaml", "interval": 30, "limit": 0,
                   "rules": [alerting("OtherDown", json!({"service": "other"}))],
                   "evaluationTime": 0.001, "lastEvaluation": "2026-11-22T07:00:00Z"}),
        ];
        w.series.insert("avg_over_time(up{job=\"payments\"}[30d])".into(), Some("0.9995".into()));
    }
    let app = axum::Router::new()
        .route("/api/v1/rules", axum::routing::get(rules))
        .route("/api/v1/query", axum::routing::get(query))
        .with_state(world.clone());
    let url = crate::providers::fake::serve(app).await;
    (url, world)
}

fn client(url: &str, token: Option<&str>) -> Prometheus {
    let limits = Limits {
        timeout: Duration::from_millis(500),
        attempts: 3,
        max_wait: Duration::from_secs(2),
        ..Limits::default()
    };
    Prometheus::new(url, token.map(|t| super::Auth::Bearer(t.to_string())), limits).unwrap()
}

fn unavailable<T: std::fmt::Debug>(fact: &Fact<T>) -> &str {
    crate::providers::fake::unavailable(fact, TOKEN)
}

#[tokio::test]
async fn rules_are_listed_with_their_group_labels_and_health() {
    let (url, world) = fake(true).await;
    let Fact::Known(rules) = client(&url, Some(TOKEN)).rules().await else { panic!("rules are known") };
    let names: Vec<(&str, &str, &str)> =
        rules.iter().map(|r| (r.kind.as_str(), r.name.as_str(), r.group.as_str())).collect();
    assert_eq!(
        names,
        [
            ("alerting", "PaymentsErrors", "payments"),
            ("recording", "slo:sli_error:ratio_rate5m", "payments"),
            ("alerting", "OtherDown", "other")
        ]
    );
    assert_eq!(rules[0].labels["severity"], "page");
    assert_eq!(rules[0].health, "ok");
    assert_eq!(world.lock().unwrap().requests, ["rules"]);
}

#[tokio::test]
async fn queries_give_the_first_sample_or_none() {
    let (url, _) = fake(false).await;
    let prom = client(&url, None);
    assert_eq!(prom.query("avg_over_time(up{job=\"payments\"}[30d])").await, Fact::Known(Some(0.9995)));
    assert_eq!(prom.query("up{job=\"nothing\"}").await, Fact::Known(None));
    assert_eq!(prom.query("scalar(vector(42))").await, Fact::Known(Some(42.0)));
    // A bad query: Prometheus's own reason, from its error envelope.
    let fact = prom.query("((").await;
    assert_eq!(
        unavailable(&fact),
        "Prometheus: the query failed (bad_data): invalid parameter \"query\": 1:2: parse error: unexpected \"(\""
    );
}

#[tokio::test]
async fn a_missing_or_refused_token_is_unavailable_and_never_shown() {
    let (url, _) = fake(true).await;
    assert_eq!(unavailable(&client(&url, None).rules().await), "Prometheus: the credentials were refused (401)");
    let fact = client(&url, Some("wrong")).query("up").await;
    assert_eq!(unavailable(&fact), "Prometheus: the credentials were refused (401)");
}

#[tokio::test]
async fn a_url_that_is_not_prometheus_is_explained() {
    let (url, _) = fake(false).await;
    let fact = client(&format!("{url}/prometheus"), None).rules().await;
    assert!(
        unavailable(&fact).starts_with("Prometheus: not found (404): SHIPSHAPE_PROMETHEUS_URL should be"),
        "{fact:?}"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_within_the_limits_then_reported() {
    let (url, world) = fake(false).await;
    world.lock().unwrap().faults = vec![Fault::Status(429, Some(1))];
    let started = std::time::Instant::now();
    assert!(matches!(client(&url, None).rules().await, Fact::Known(_)));
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    world.lock().unwrap().faults = vec![Fault::Status(429, Some(120))];
    assert_eq!(unavailable(&client(&url, None).rules().await), "Prometheus: rate limited (429); retry after 120s");
    world.lock().unwrap().faults = vec![Fault::Status(503, None); 3];
    let before = world.lock().unwrap().requests.len();
    assert_eq!(unavailable(&client(&url, None).rules().await), "Prometheus: answered 503");
    assert_eq!(world.lock().unwrap().requests.len() - before, 3, "bounded retries");
}

#[tokio::test]
async fn timeouts_and_malformed_answers_are_unavailable_with_the_reason() {
    let (url, world) = fake(false).await;
    world.lock().unwrap().faults = vec![Fault::Slow(Duration::from_secs(2)); 3];
    assert_eq!(unavailable(&client(&url, None).rules().await), "Prometheus: unreachable (no answer within 500ms)");
    world.lock().unwrap().faults = vec![Fault::Body("{\"status\": \"success\", \"data\": {".into())];
    let fact = client(&url, None).rules().await;
    assert!(unavailable(&fact).starts_with("Prometheus: unexpected answer ("), "{fact:?}");
    let fact = client("http://127.0.0.1:9", Some(TOKEN)).rules().await;
    let why = unavailable(&fact);
    assert!(why.starts_with("Prometheus: unreachable (cannot connect") && !why.contains("127.0.0.1"), "{why}");
}
