//! Against a stateful fake of PagerDuty's REST API v2 (its documented response shapes), served over HTTP.

use super::*;
use crate::providers::fake::{Fault, answer};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "pd-secret-token-42";

#[derive(Default)]
struct World {
    /// service id → (status, escalation policy id)
    services: HashMap<String, (String, String)>,
    /// policy id → number of escalation rules
    policies: HashMap<String, usize>,
    /// policy id → (user, level)
    oncalls: HashMap<String, Vec<(String, u32)>>,
    faults: Vec<Fault>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

fn error(status: u16, message: &str) -> Response {
    let code = axum::http::StatusCode::from_u16(status).unwrap();
    (code, axum::Json(json!({"error": {"message": message, "code": 2100}}))).into_response()
}

async fn fault_or_auth(world: &Shared, headers: &HeaderMap, what: String) -> Option<Response> {
    let fault = {
        let mut w = world.lock().unwrap();
        w.requests.push(what);
        if w.faults.is_empty() { None } else { Some(w.faults.remove(0)) }
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Token token={TOKEN}")) {
        return Some(error(401, "Unauthorized"));
    }
    answer(fault, |status| error(status, "fault")).await
}

async fn service(State(w): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = fault_or_auth(&w, &headers, format!("service {id}")).await {
        return r;
    }
    let found = w.lock().unwrap().services.get(&id).cloned();
    match found {
        Some((status, policy)) => axum::Json(json!({"service": {
            "id": id, "type": "service", "name": "Payments", "status": status,
            "escalation_policy": {"id": policy, "type": "escalation_policy_reference", "summary": "Payments"},
        }}))
        .into_response(),
        None => error(404, "Not Found"),
    }
}

async fn policy(State(w): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = fault_or_auth(&w, &headers, format!("policy {id}")).await {
        return r;
    }
    let rules = w.lock().unwrap().policies.get(&id).copied();
    match rules {
        Some(n) => {
            let rules: Vec<Value> = (0..n)
                .map(|i| json!({"id": format!("R{i}"), "escalation_delay_in_minutes": 30, "targets": []}))
                .collect();
            axum::Json(json!({"escalation_policy": {"id": id, "type": "escalation_policy", "escalation_rules": rules}}))
                .into_response()
        }
        None => error(404, "Not Found"),
    }
}

async fn oncalls(State(w): State<Shared>, headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let ids: Vec<String> = q.iter().filter(|(k, _)| k == "escalation_policy_ids[]").map(|(_, v)| v.clone()).collect();
    if let Some(r) = fault_or_auth(&w, &headers, format!("oncalls {ids:?}")).await {
        return r;
    }
    let w = w.lock().unwrap();
    let oncalls: Vec<Value> = ids
        .iter()
        .flat_map(|id| w.oncalls.get(id).cloned().unwrap_or_default())
        .map(|(user, level)| {
            json!({"user": {"id": "PU", "type": "user_reference", "summary": user}, "escalation_level": level})
        })
        .collect();
    axum::Json(json!({"oncalls": oncalls, "limit": 100, "offset": 0, "more": false})).into_response()
}

async fn fake() -> (String, Shared) {
    let world: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/services/{id}", axum::routing::get(service))
        .route("/escalation_policies/{id}", axum::routing::get(policy))
        .route("/oncalls", axum::routing::get(oncalls))
        .with_state(world.clone());
    let url = crate::providers::fake::serve(app).await;
    {
        let mut w = world.lock().unwrap();
        w.services.insert("PABC123".into(), ("active".into(), "PEP1".into()));
        w.policies.insert("PEP1".into(), 2);
        w.oncalls.insert("PEP1".into(), vec![("Ada".into(), 1), ("Grace".into(), 2)]);
    }
    (url, world)
}

fn client(url: &str, token: &str) -> PagerDuty {
    let limits = Limits {
        timeout: Duration::from_millis(500),
        attempts: 3,
        max_wait: Duration::from_secs(2),
        ..Limits::default()
    };
    PagerDuty::new(url, token, limits).unwrap()
}

fn unavailable(fact: &Fact<OnCall>) -> &str {
    super::super::fake::unavailable(fact, TOKEN)
}

#[tokio::test]
async fn a_service_with_someone_on_call_is_known_with_its_levels() {
    let (url, world) = fake().await;
    let fact = client(&url, TOKEN).oncall("PABC123").await;
    let expected = OnCall {
        service_id: "PABC123".into(),
        exists: true,
        disabled: false,
        escalation_levels: 2,
        on_call_now: vec!["Ada".into()],
    };
    assert_eq!(fact, Fact::Known(expected));
    assert_eq!(world.lock().unwrap().requests, ["service PABC123", "policy PEP1", "oncalls [\"PEP1\"]"]);
}

#[tokio::test]
async fn missing_and_disabled_services_and_empty_rotations_are_told_apart() {
    let (url, world) = fake().await;
    let pd = client(&url, TOKEN);
    let Fact::Known(missing) = pd.oncall("PNOPE").await else { panic!("a 404 is an answer") };
    assert!(!missing.exists);
    world.lock().unwrap().services.insert("POFF".into(), ("disabled".into(), "PEP2".into()));
    world.lock().unwrap().policies.insert("PEP2".into(), 1);
    let Fact::Known(off) = pd.oncall("POFF").await else { panic!() };
    assert!(off.exists && off.disabled && off.on_call_now.is_empty() && off.escalation_levels == 1, "{off:?}");
}

#[tokio::test]
async fn a_refused_token_is_unavailable_and_never_shown() {
    let (url, _) = fake().await;
    let fact = client(&url, "wrong-token").oncall("PABC123").await;
    assert_eq!(unavailable(&fact), "PagerDuty: the credentials were refused (401)");
}

#[tokio::test]
async fn rate_limits_are_waited_out_within_the_limits_then_reported() {
    let (url, world) = fake().await;
    world.lock().unwrap().faults = vec![Fault::Status(429, Some(1))];
    let started = std::time::Instant::now();
    assert!(matches!(client(&url, TOKEN).oncall("PABC123").await, Fact::Known(_)));
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    // Longer than the longest wait: reported at once, with the wait PagerDuty asked for.
    world.lock().unwrap().faults = vec![Fault::Status(429, Some(60))];
    let fact = client(&url, TOKEN).oncall("PABC123").await;
    assert_eq!(unavailable(&fact), "PagerDuty: rate limited (429); retry after 60s");
    // Every attempt refused: bounded.
    world.lock().unwrap().faults = vec![Fault::Status(503, None); 3];
    let before = world.lock().unwrap().requests.len();
    let fact = client(&url, TOKEN).oncall("PABC123").await;
    assert_eq!(unavailable(&fact), "PagerDuty: answered 503");
    assert_eq!(world.lock().unwrap().requests.len() - before, 3);
}

#[tokio::test]
async fn timeouts_and_malformed_answers_are_unavailable_with_the_reason() {
    let (url, world) = fake().await;
    world.lock().unwrap().faults = vec![Fault::Slow(Duration::from_secs(2)); 3];
    let fact = client(&url, TOKEN).oncall("PABC123").await;
    assert_eq!(unavailable(&fact), "PagerDuty: unreachable (no answer within 500ms)");
    world.lock().unwrap().faults = vec![Fault::Body("{\"service\": [".into())];
    let fact = client(&url, TOKEN).oncall("PABC123").await;
    assert!(unavailable(&fact).starts_with("PagerDuty: unexpected answer ("), "{fact:?}");
    // Nothing listens: unreachable, and the URL (which may hold credentials) is not in the reason.
    let fact = client("http://127.0.0.1:9", TOKEN).oncall("PABC123").await;
    let why = unavailable(&fact);
    assert!(why.starts_with("PagerDuty: unreachable (cannot connect") && !why.contains("127.0.0.1"), "{why}");
}
