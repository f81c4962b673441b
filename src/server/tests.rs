use super::*;
use crate::clock::ManualClock;
use crate::store::{DeliveryStatus, Store};
use axum::body::{Bytes, HttpBody};
use axum::http::Request;
use chrono::TimeZone;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::BodyExt;
use hyper::body::Frame;
use sha2::Sha256;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tower::ServiceExt;

mod hostile;

pub(super) const SECRET: &str = "It's a Secret to Everybody";

struct Harness {
    _dir: crate::store::test_database::TestDatabase,
    state: ServerState,
}

/// A stand-in for the typed-event parser: pull requests are handled, `ping` is not, `broken` never parses.
pub(super) fn test_parser() -> EventParser {
    Arc::new(|event: &str, body: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        match event {
            "pull_request" => {
                let repo = v["repository"]["full_name"].as_str().ok_or("no repository.full_name")?.to_owned();
                let number = v["number"].as_u64().ok_or("no number")?;
                Ok(DeliveryMeta {
                    action: v["action"].as_str().map(str::to_owned),
                    installation_id: v["installation"]["id"].as_u64(),
                    serial_key: Some(format!("{repo}#{number}")),
                    head_sha: v["pull_request"]["head"]["sha"].as_str().map(str::to_owned),
                    repository: Some(repo),
                    handled: true,
                })
            }
            "broken" => Err("missing field `repository`\nat line 1".to_owned()),
            _ => Ok(DeliveryMeta { action: v["action"].as_str().map(str::to_owned), ..DeliveryMeta::default() }),
        }
    })
}

async fn harness() -> Harness {
    let dir = crate::store::test_database::TestDatabase::new().await;
    let store = Store::open(&dir.url).await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()));
    let state = ServerState::new(
        store,
        Secret::new(SECRET),
        test_parser(),
        Arc::new(Notify::new()),
        Arc::new(Metrics::new()),
        clock,
    );
    Harness { _dir: dir, state }
}

pub(super) fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn pr_body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "action": "opened",
        "number": 7,
        "installation": {"id": 99},
        "repository": {"full_name": "acme/api"},
        "pull_request": {"head": {"sha": "abc123"}},
    }))
    .unwrap()
}

pub(super) fn webhook_request(event: &str, delivery: &str, body: Vec<u8>, signature: Option<String>) -> Request<Body> {
    let mut req = Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery);
    if let Some(signature) = signature {
        req = req.header("x-hub-signature-256", signature);
    }
    req.body(Body::from(body)).unwrap()
}

pub(super) fn signed(event: &str, delivery: &str, body: Vec<u8>) -> Request<Body> {
    let signature = sign(&body);
    webhook_request(event, delivery, body, Some(signature))
}

async fn send(state: &ServerState, req: Request<Body>) -> (StatusCode, String) {
    let response = router(state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn stored(state: &ServerState) -> usize {
    state.store.deliveries().await.unwrap().len()
}

async fn notified(notify: &Notify) -> bool {
    tokio::time::timeout(Duration::from_millis(50), notify.notified()).await.is_ok()
}

#[tokio::test]
async fn a_signed_delivery_is_stored_and_acknowledged() {
    let h = harness().await;
    let (status, body) = send(&h.state, signed("pull_request", "d-1", pr_body())).await;
    assert_eq!((status, body.as_str()), (StatusCode::ACCEPTED, "queued\n"));

    let record = h.state.store.delivery("d-1").await.unwrap().expect("stored");
    assert_eq!(record.status, DeliveryStatus::Queued);
    assert_eq!(record.event, "pull_request");
    assert_eq!(record.action.as_deref(), Some("opened"));
    assert_eq!(record.installation_id, Some(99));
    assert_eq!(record.repository.as_deref(), Some("acme/api"));
    assert_eq!(record.serial_key.as_deref(), Some("acme/api#7"));
    assert_eq!(record.head_sha.as_deref(), Some("abc123"));
    assert_eq!(record.payload_bytes, pr_body().len() as u64);
    assert_eq!(record.received_at, h.state.clock.now());
    // The raw body is what the worker gets.
    let claimed = h.state.store.claim("w", h.state.clock.now(), Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(claimed.payload, pr_body());

    assert!(notified(&h.state.notify).await, "the workers were nudged");
    assert!(h.state.metrics.render().contains("shipshape_deliveries_received_total{event=\"pull_request\"} 1\n"));
}

#[tokio::test]
async fn a_repeated_delivery_is_acknowledged_and_stored_once() {
    let h = harness().await;
    assert_eq!(send(&h.state, signed("pull_request", "d-1", pr_body())).await.0, StatusCode::ACCEPTED);
    assert!(notified(&h.state.notify).await);
    let (status, body) = send(&h.state, signed("pull_request", "d-1", pr_body())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, "duplicate delivery: already received\n");
    assert_eq!(stored(&h.state).await, 1);
    assert!(!notified(&h.state.notify).await, "nothing new to process");
    assert!(h.state.metrics.render().contains("shipshape_deliveries_received_total{event=\"pull_request\"} 1\n"));
}

#[tokio::test]
async fn bad_signatures_are_refused_and_nothing_is_stored() {
    let h = harness().await;
    let other_secret = {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"wrong secret").unwrap();
        mac.update(&pr_body());
        let bytes = mac.finalize().into_bytes();
        format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    let cases = [
        (None, "missing X-Hub-Signature-256\n"),
        (Some(other_secret), "X-Hub-Signature-256 does not match\n"),
        (Some(sign(b"another body")), "X-Hub-Signature-256 does not match\n"),
        (
            Some(sign(&pr_body()).replace("sha256=", "sha1=")),
            "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)\n",
        ),
        (Some("sha256=zz".repeat(8)), "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)\n"),
        (Some(format!("{}00", sign(&pr_body()))), "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)\n"),
        (Some("sha256=".to_owned()), "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)\n"),
    ];
    for (signature, expected) in cases {
        let (status, body) = send(&h.state, webhook_request("pull_request", "d-1", pr_body(), signature.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{signature:?}");
        assert_eq!(body, expected, "{signature:?}");
        assert!(!body.contains(SECRET));
    }
    assert_eq!(stored(&h.state).await, 0);
    assert!(h.state.metrics.render().contains("shipshape_webhook_rejected_total{reason=\"signature\"} 7\n"));

    // The signature is checked before anything else about the request.
    let req = Request::post("/webhook").header("x-hub-signature-256", sign(b"x")).body(Body::from("not json")).unwrap();
    assert_eq!(send(&h.state, req).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signatures_are_case_insensitive_hex() {
    let h = harness().await;
    let signature = sign(&pr_body()).to_uppercase().replace("SHA256=", "sha256=");
    let (status, _) = send(&h.state, webhook_request("pull_request", "d-1", pr_body(), Some(signature))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_bad_request() {
    let h = harness().await;
    let (status, body) = send(&h.state, signed("pull_request", "d-1", b"{\"action\": ".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("body is not JSON: "), "{body}");
    assert_eq!(stored(&h.state).await, 0);
    assert!(h.state.metrics.render().contains("shipshape_webhook_rejected_total{reason=\"malformed_json\"} 1\n"));
}

#[tokio::test]
async fn github_headers_are_required() {
    let h = harness().await;
    let body = pr_body();
    let req = Request::post("/webhook")
        .header("x-hub-signature-256", sign(&body))
        .header("x-github-delivery", "d-1")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(send(&h.state, req).await, (StatusCode::BAD_REQUEST, "missing or invalid X-GitHub-Event\n".to_owned()));
    let req = Request::post("/webhook")
        .header("x-hub-signature-256", sign(&body))
        .header("x-github-event", "pull_request")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(
        send(&h.state, req).await,
        (StatusCode::BAD_REQUEST, "missing or invalid X-GitHub-Delivery\n".to_owned())
    );
    let (status, _) = send(&h.state, signed("pull request", "d-1", body.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stored(&h.state).await, 0);
}

#[tokio::test]
async fn a_payload_the_parser_rejects_is_a_bad_request() {
    let h = harness().await;
    let (status, body) = send(&h.state, signed("broken", "d-1", b"{}".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, "not a valid broken payload: missing field `repository` at line 1\n");
    assert_eq!(stored(&h.state).await, 0);
}

#[tokio::test]
async fn unhandled_events_are_recorded_as_ignored() {
    let h = harness().await;
    let body = br#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#.to_vec();
    let (status, text) = send(&h.state, signed("ping", "d-ping", body)).await;
    assert_eq!((status, text.as_str()), (StatusCode::ACCEPTED, "ignored: event not handled\n"));
    let record = h.state.store.delivery("d-ping").await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Ignored);
    assert_eq!(record.last_error.as_deref(), Some("ping is not handled"));
    assert!(!notified(&h.state.notify).await);
    let metrics = h.state.metrics.render();
    assert!(metrics.contains("shipshape_deliveries_processed_total{event=\"ping\",outcome=\"ignored\"} 1\n"));

    let (status, _) = send(&h.state, signed("issues", "d-issue", br#"{"action": "labeled"}"#.to_vec())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let record = h.state.store.delivery("d-issue").await.unwrap().unwrap();
    assert_eq!(record.last_error.as_deref(), Some("issues.labeled is not handled"));
}

/// A body that yields `chunk` until `total` bytes were produced, counting what was pulled.
struct CountingBody {
    chunk: Bytes,
    remaining: usize,
    pulled: Arc<AtomicUsize>,
}

impl HttpBody for CountingBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.chunk.len().min(self.remaining);
        self.remaining -= n;
        self.pulled.fetch_add(n, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n)))))
    }
}

/// A body that never produces anything, and says whether anyone tried to read it.
struct UntouchedBody(Arc<AtomicBool>);

impl HttpBody for UntouchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.store(true, Ordering::SeqCst);
        Poll::Pending
    }
}

#[tokio::test]
async fn an_oversized_declared_body_is_refused_without_reading_it() {
    let h = harness().await;
    let polled = Arc::new(AtomicBool::new(false));
    let req = Request::post("/webhook")
        .header("content-length", (26 * 1024 * 1024).to_string())
        .header("x-hub-signature-256", sign(b"whatever"))
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "d-big")
        .body(Body::new(UntouchedBody(polled.clone())))
        .unwrap();
    let (status, body) = tokio::time::timeout(Duration::from_secs(5), send(&h.state, req)).await.unwrap();
    assert_eq!((status, body.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload larger than 25 MiB\n"));
    assert!(!polled.load(Ordering::SeqCst), "the body was not read");
    assert_eq!(stored(&h.state).await, 0);
    assert!(h.state.metrics.render().contains("shipshape_webhook_rejected_total{reason=\"too_large\"} 1\n"));
}

#[tokio::test]
async fn an_oversized_streamed_body_is_cut_off_at_the_limit() {
    let h = harness().await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let body = CountingBody {
        chunk: Bytes::from(vec![b' '; 1024 * 1024]),
        remaining: 26 * 1024 * 1024,
        pulled: pulled.clone(),
    };
    let req = Request::post("/webhook")
        .header("x-hub-signature-256", sign(b"whatever"))
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "d-big")
        .body(Body::new(body))
        .unwrap();
    let (status, _) = send(&h.state, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(pulled.load(Ordering::SeqCst) <= MAX_BODY_BYTES + 1024 * 1024, "stopped reading at the limit");
    assert_eq!(stored(&h.state).await, 0);
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_accepted() {
    let h = harness().await;
    // JSON padded with whitespace to exactly 25 MiB.
    let mut body = br#"{"zen":"x"}"#.to_vec();
    body.resize(MAX_BODY_BYTES, b' ');
    let (status, _) = send(&h.state, signed("ping", "d-max", body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_store_failure_is_a_503_so_github_shows_the_delivery_failed() {
    let h = harness().await;
    h.state.store.close().await;
    let (status, body) = send(&h.state, signed("pull_request", "d-1", pr_body())).await;
    assert_eq!((status, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "cannot store the delivery\n"));
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let h = harness().await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(send(&h.state, get("/healthz")).await, (StatusCode::OK, "ok\n".to_owned()));
    assert_eq!(send(&h.state, get("/readyz")).await, (StatusCode::OK, "ready\n".to_owned()));

    send(&h.state, signed("pull_request", "d-1", pr_body())).await;
    let response = router(h.state.clone()).oneshot(get("/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], metrics::CONTENT_TYPE);
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("# TYPE shipshape_queue_depth gauge\nshipshape_queue_depth 1\n"), "{text}");
    assert!(text.contains("# TYPE shipshape_delivery_processing_seconds histogram\n"), "{text}");

    h.state.store.close().await;
    assert_eq!(
        send(&h.state, get("/readyz")).await,
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: cannot read the deliveries table\n".to_owned())
    );
    assert_eq!(send(&h.state, get("/healthz")).await.0, StatusCode::OK, "liveness does not depend on the database");
    assert_eq!(send(&h.state, get("/metrics")).await.0, StatusCode::OK, "metrics still render");
}

#[tokio::test]
async fn wrong_methods_and_paths() {
    let h = harness().await;
    let req = Request::get("/webhook").body(Body::empty()).unwrap();
    assert_eq!(send(&h.state, req).await.0, StatusCode::METHOD_NOT_ALLOWED);
    let req = Request::get("/nope").body(Body::empty()).unwrap();
    assert_eq!(send(&h.state, req).await.0, StatusCode::NOT_FOUND);
}

#[test]
fn state_debug_hides_the_secret() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let h = rt.block_on(harness());
    let text = format!("{:?}", h.state);
    assert!(!text.contains(SECRET), "{text}");
}
