//! The App scoring linked-tool rules: `oncall` from a fake PagerDuty (REST API v2 response shapes) configured with
//! `SHIPSHAPE_PAGERDUTY_TOKEN` and `SHIPSHAPE_PAGERDUTY_API_URL`.

use crate::e2e::{OWNER, REPO, World, readme};
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, world)
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
