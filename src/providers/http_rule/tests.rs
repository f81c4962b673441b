//! `http` checks against a stateful fake tool (a SonarQube-like quality gate endpoint) served over HTTP.

use super::*;
use crate::providers::fake::{Fault, answer};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "sonar-secret-value-99";

#[derive(Default)]
struct World {
    /// project key → quality gate status
    projects: HashMap<String, String>,
    faults: Vec<Fault>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

async fn status(State(w): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let key = q.get("projectKey").cloned().unwrap_or_default();
    let fault = {
        let mut w = w.lock().unwrap();
        w.requests.push(key.clone());
        if w.faults.is_empty() { None } else { Some(w.faults.remove(0)) }
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SECRET}")) {
        return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"errors": [{"msg": "Unauthorized"}]})))
            .into_response();
    }
    if let Some(response) =
        answer(fault, |code| (axum::http::StatusCode::from_u16(code).unwrap(), "busy").into_response()).await
    {
        return response;
    }
    match w.lock().unwrap().projects.get(&key) {
        Some(gate) => axum::Json(json!({"projectStatus": {"status": gate, "conditions": []}})).into_response(),
        None => (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({"errors": [{"msg": "Project not found"}]})))
            .into_response(),
    }
}

async fn fake() -> (String, Shared) {
    let world: Shared = Arc::default();
    world.lock().unwrap().projects.insert("acme:pay ments".into(), "OK".into());
    let app = axum::Router::new()
        .route("/api/qualitygates/project_status", axum::routing::get(status))
        .with_state(world.clone());
    let url = crate::providers::fake::serve(app).await;
    (url, world)
}

fn rules() -> HttpRules {
    let secrets = Secrets::from_vars([("SHIPSHAPE_SECRET_SONAR_TOKEN".to_string(), SECRET.to_string())]);
    let limits =
        Limits { timeout: Duration::from_secs(5), attempts: 3, max_wait: Duration::from_secs(2), ..Limits::default() };
    HttpRules::new(secrets, limits).unwrap()
}

fn request(url: &str, key: &str, token: &str) -> HttpRequest {
    let key = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC);
    HttpRequest {
        url: format!("{url}/api/qualitygates/project_status?projectKey={key}"),
        headers: vec![("Authorization".into(), format!("Bearer {token}"))],
        max_bytes: 1024,
        timeout: Duration::from_millis(500),
    }
}

fn unavailable(fact: &Fact<HttpAnswer>) -> &str {
    crate::providers::fake::unavailable(fact, SECRET)
}

#[tokio::test]
async fn a_json_answer_is_kept_and_a_404_is_an_answer() {
    let (url, world) = fake().await;
    let http = rules();
    let fact = http.fetch(&request(&url, "acme:pay ments", SECRET)).await;
    assert_eq!(fact, Fact::Known(HttpAnswer::Json(json!({"projectStatus": {"status": "OK", "conditions": []}}))));
    assert_eq!(http.fetch(&request(&url, "acme:unknown", SECRET)).await, Fact::Known(HttpAnswer::NotFound));
    assert_eq!(world.lock().unwrap().requests, ["acme:pay ments", "acme:unknown"], "values arrive decoded");
}

#[tokio::test]
async fn refused_credentials_rate_limits_and_server_errors_are_explained() {
    let (url, world) = fake().await;
    let http = rules();
    let fact = http.fetch(&request(&url, "acme:pay ments", "wrong")).await;
    assert!(unavailable(&fact).ends_with(": the credentials were refused (401)"), "{fact:?}");
    world.lock().unwrap().faults = vec![Fault::Status(429, Some(1))];
    let started = std::time::Instant::now();
    assert!(matches!(http.fetch(&request(&url, "acme:pay ments", SECRET)).await, Fact::Known(_)));
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    world.lock().unwrap().faults = vec![Fault::Status(429, Some(300))];
    let fact = http.fetch(&request(&url, "acme:pay ments", SECRET)).await;
    assert!(unavailable(&fact).ends_with(": rate limited (429); retry after 300s"), "{fact:?}");
    world.lock().unwrap().faults = vec![Fault::Status(502, None); 3];
    let fact = http.fetch(&request(&url, "acme:pay ments", SECRET)).await;
    assert!(unavailable(&fact).ends_with(": answered 502"), "{fact:?}");
}

#[tokio::test]
async fn timeouts_non_json_and_oversized_answers_are_unavailable() {
    let (url, world) = fake().await;
    let http = rules();
    world.lock().unwrap().faults = vec![Fault::Slow(Duration::from_secs(2)); 3];
    let fact = http.fetch(&request(&url, "acme:pay ments", SECRET)).await;
    assert!(unavailable(&fact).ends_with(": unreachable (no answer within 500ms)"), "{fact:?}");
    world.lock().unwrap().faults = vec![Fault::Body("<html>login</html>".into())];
    let fact = http.fetch(&request(&url, "acme:pay ments", SECRET)).await;
    assert!(unavailable(&fact).contains(": the answer is not JSON ("), "{fact:?}");
    world.lock().unwrap().faults = vec![Fault::Body(json!({"padding": "x".repeat(4096)}).to_string())];
    let fact = http.fetch(&request(&url, "acme:pay ments", SECRET)).await;
    assert!(unavailable(&fact).ends_with(": the answer is larger than 1024 bytes"), "{fact:?}");
}

#[test]
fn secrets_are_read_by_prefix_shown_by_name_and_redacted() {
    let secrets = Secrets::from_vars([
        ("SHIPSHAPE_SECRET_SONAR_TOKEN".to_string(), SECRET.to_string()),
        ("SHIPSHAPE_SECRET_EMPTY".to_string(), String::new()),
        ("HOME".to_string(), "/root".to_string()),
    ]);
    assert_eq!(secrets.names().collect::<Vec<_>>(), ["SONAR_TOKEN"]);
    assert_eq!(format!("{secrets:?}"), "{\"SONAR_TOKEN\"}");
    assert_eq!(secrets.redact(&format!("echo: {SECRET}!")), "echo: <secret SONAR_TOKEN>!");
    let debug = format!("{:?}", request("http://x", "k", SECRET));
    assert!(!debug.contains(SECRET) && debug.contains("Authorization"), "{debug}");
}

#[tokio::test]
async fn a_url_with_a_password_in_it_is_not_sent_nor_shown() {
    let (url, world) = fake().await;
    let with_password = url.replace("http://", "http://admin:hunter2@");
    let fact = rules().fetch(&request(&with_password, "acme:pay ments", SECRET)).await;
    let why = unavailable(&fact);
    assert!(why.starts_with("GET http://[redacted]@127.0.0.1:"), "{why}");
    assert!(why.ends_with(": not asked: invalid request: the URL holds a user name or password (`user:password@`)"));
    assert!(!why.contains("hunter2"), "{why}");
    assert!(world.lock().unwrap().requests.is_empty(), "nothing was sent");
}
