//! The HTTP edge (SPEC 4): `POST /webhook`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
//!
//! The webhook handler only verifies, records and acknowledges: it checks the size, the HMAC signature of the raw
//! body, the GitHub headers and that the body is JSON, extracts the delivery's metadata with an injected parser,
//! stores the delivery durably and answers 202, then nudges the workers. It never calls GitHub.

mod limits;
mod listen;
pub mod metrics;

#[cfg(test)]
mod burst_tests;
#[cfg(test)]
mod tests;

pub use limits::Limits;

use crate::clock::Clock;
use crate::secret::Secret;
use crate::store::{Disposition, Inserted, NewDelivery, Store};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use limits::{Intake, ReadError};
use metrics::{Metrics, Outcome, RejectReason};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tracing::{Instrument, Span, error, field, info, info_span, warn};

/// Largest accepted webhook body (GitHub caps payloads at 25 MB).
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// How long `/readyz` and `/metrics` wait for the database.
const DB_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the event parser extracts from a verified delivery, to store alongside its payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryMeta {
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    /// `owner/name`.
    pub repository: Option<String>,
    /// Deliveries with the same key are processed one at a time (e.g. `owner/name#42` for a pull request).
    pub serial_key: Option<String>,
    /// The head commit the delivery is about: a later delivery for another head supersedes a queued one.
    pub head_sha: Option<String>,
    /// Whether shipshape acts on this event and action. Unhandled deliveries are recorded as `ignored`.
    pub handled: bool,
}

/// Turns an event name (`X-GitHub-Event`) and raw JSON body into [`DeliveryMeta`]; `Err` is a one-line reason the
/// payload is not a valid payload of that event.
pub type EventParser = Arc<dyn Fn(&str, &[u8]) -> Result<DeliveryMeta, String> + Send + Sync>;

/// Everything the HTTP handlers need.
#[derive(Clone)]
pub struct ServerState {
    pub store: Store,
    pub webhook_secret: Secret,
    pub parser: EventParser,
    /// Nudged after a delivery is queued; the workers wait on it.
    pub notify: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    /// The bounds of the HTTP edge ([`ServerState::with_limits`]).
    limits: Limits,
    intake: Arc<Intake>,
    /// Set when the process is shutting down: `/readyz` answers 503 so that the load balancer sends no more.
    draining: Arc<std::sync::atomic::AtomicBool>,
}

impl ServerState {
    pub fn new(
        store: Store,
        webhook_secret: Secret,
        parser: EventParser,
        notify: Arc<Notify>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> ServerState {
        let limits = Limits::default();
        let intake = Arc::new(Intake::new(&limits));
        let draining = Arc::default();
        ServerState { store, webhook_secret, parser, notify, metrics, clock, limits, intake, draining }
    }

    /// The flag that turns `/readyz` to 503 while the process drains.
    pub fn draining(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.draining.clone()
    }

    /// The same state under other limits than [`Limits::default`].
    pub fn with_limits(self, limits: Limits) -> ServerState {
        let intake = Arc::new(Intake::new(&limits));
        ServerState { limits, intake, ..self }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

impl fmt::Debug for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerState")
            .field("store", &self.store)
            .field("webhook_secret", &self.webhook_secret)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The application's routes.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

/// Serves `router(state)` and `more` routes on `listener` under the state's [`Limits`] until `shutdown` resolves,
/// then stops accepting, lets in-flight requests finish and closes idle connections.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    more: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let metrics = state.metrics.clone();
    listen::serve(listener, router(state).merge(more), &limits, metrics, shutdown).await
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut body = body.into();
    body.push('\n');
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], body).into_response()
}

/// A refused webhook request: counted, logged at debug or warn, answered in one line.
fn reject(state: &ServerState, reason: RejectReason, status: StatusCode, message: &str) -> Response {
    state.metrics.webhook_rejected(reason);
    if status.is_server_error() {
        error!(reason = reason.as_str(), %status, "webhook refused: {message}");
    } else {
        warn!(reason = reason.as_str(), %status, "webhook refused: {message}");
    }
    text(status, message)
}

/// `sha256=<64 hex digits>` to the 32 signature bytes.
fn parse_signature(value: &HeaderValue) -> Option<[u8; 32]> {
    let hex = value.to_str().ok()?.trim().strip_prefix("sha256=")?;
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

/// A GitHub header value that is plain printable ASCII of a sane length.
fn github_header<'h>(headers: &'h HeaderMap, name: &str, valid: impl Fn(u8) -> bool) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty() && value.len() <= 128 && value.bytes().all(valid)).then_some(value)
}

async fn webhook(State(state): State<ServerState>, headers: HeaderMap, body: Body) -> Response {
    let span = info_span!(
        "webhook",
        delivery_id = field::Empty,
        event = field::Empty,
        action = field::Empty,
        repo = field::Empty,
    );
    receive(state, headers, body).instrument(span).await
}

/// Checks the size and signature of a webhook request, reading its body only when there is room for it; the body
/// whose signature matches, or the answer.
async fn read_verified(state: &ServerState, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let too_large =
        |state| reject(state, RejectReason::TooLarge, StatusCode::PAYLOAD_TOO_LARGE, "payload larger than 25 MiB");
    // Too large by its own account: refuse before reading a byte.
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large(state));
    }
    // No usable signature: nothing more to look at.
    let Some(signature_header) = headers.get("x-hub-signature-256") else {
        return Err(reject(state, RejectReason::Signature, StatusCode::UNAUTHORIZED, "missing X-Hub-Signature-256"));
    };
    let Some(signature) = parse_signature(signature_header) else {
        return Err(reject(
            state,
            RejectReason::Signature,
            StatusCode::UNAUTHORIZED,
            "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)",
        ));
    };
    let Some(_admission) = state.intake.admit(declared) else {
        let mut response =
            reject(state, RejectReason::Busy, StatusCode::SERVICE_UNAVAILABLE, "too many deliveries being received");
        let seconds = state.limits.retry_after.as_secs().max(1);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Err(response);
    };
    // Read at most the limit, whatever the headers said (chunked bodies have no Content-Length).
    let secret = state.webhook_secret.expose().as_bytes();
    let timeout = state.limits.body_read_timeout;
    match limits::read_signed(body, declared, secret, &signature, timeout).await {
        Ok((body, true)) => Ok(body),
        Ok((_, false)) => {
            Err(reject(state, RejectReason::Signature, StatusCode::UNAUTHORIZED, "X-Hub-Signature-256 does not match"))
        }
        Err(ReadError::TooLarge) => Err(too_large(state)),
        Err(e @ ReadError::TimedOut(_)) => {
            Err(reject(state, RejectReason::BodyTimeout, StatusCode::REQUEST_TIMEOUT, &e.to_string()))
        }
        Err(e @ ReadError::Broken(_)) => {
            Err(reject(state, RejectReason::BadRequest, StatusCode::BAD_REQUEST, &e.to_string()))
        }
    }
}

async fn receive(state: ServerState, headers: HeaderMap, body: Body) -> Response {
    let body = match read_verified(&state, &headers, body).await {
        Ok(body) => body,
        Err(response) => return response,
    };

    let Some(event) = github_header(&headers, "x-github-event", |b| b.is_ascii_alphanumeric() || b == b'_') else {
        return reject(&state, RejectReason::BadRequest, StatusCode::BAD_REQUEST, "missing or invalid X-GitHub-Event");
    };
    let Some(delivery_id) = github_header(&headers, "x-github-delivery", |b| b.is_ascii_graphic()) else {
        return reject(
            &state,
            RejectReason::BadRequest,
            StatusCode::BAD_REQUEST,
            "missing or invalid X-GitHub-Delivery",
        );
    };
    let span = Span::current();
    span.record("delivery_id", delivery_id);
    span.record("event", event);

    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        return reject(&state, RejectReason::MalformedJson, StatusCode::BAD_REQUEST, &format!("body is not JSON: {e}"));
    }
    let meta = match (state.parser)(event, &body) {
        Ok(meta) => meta,
        Err(e) => {
            let message = format!("not a valid {event} payload: {}", e.replace(['\r', '\n'], " "));
            return reject(&state, RejectReason::UnparseablePayload, StatusCode::BAD_REQUEST, &message);
        }
    };
    if let Some(action) = &meta.action {
        span.record("action", action.as_str());
    }
    if let Some(repo) = &meta.repository {
        span.record("repo", repo.as_str());
    }

    let disposition = if meta.handled {
        Disposition::Queue
    } else {
        let what = match &meta.action {
            Some(action) => format!("{event}.{action}"),
            None => event.to_owned(),
        };
        Disposition::Ignore(format!("{what} is not handled"))
    };
    let queued = disposition == Disposition::Queue;
    let delivery = NewDelivery {
        delivery_id: delivery_id.to_owned(),
        event: event.to_owned(),
        action: meta.action,
        installation_id: meta.installation_id,
        repository: meta.repository,
        serial_key: meta.serial_key,
        head_sha: meta.head_sha,
        payload: body.to_vec(),
        received_at: state.clock.now(),
        disposition,
    };
    match state.store.insert_delivery(&delivery).await {
        Ok(Inserted::New) => {
            state.metrics.delivery_received(event);
            if queued {
                state.notify.notify_one();
                info!(bytes = body.len(), "delivery queued");
                text(StatusCode::ACCEPTED, "queued")
            } else {
                state.metrics.delivery_processed(event, Outcome::Ignored);
                info!("delivery recorded and ignored (event not handled)");
                text(StatusCode::ACCEPTED, "ignored: event not handled")
            }
        }
        Ok(Inserted::Duplicate) => {
            info!("duplicate delivery: already stored");
            text(StatusCode::ACCEPTED, "duplicate delivery: already received")
        }
        Err(e) => {
            error!(error = %e, "cannot store delivery");
            reject(&state, RejectReason::StoreUnavailable, StatusCode::SERVICE_UNAVAILABLE, "cannot store the delivery")
        }
    }
}

async fn healthz() -> Response {
    text(StatusCode::OK, "ok")
}

/// Ready when the deliveries table answers a query: the database is reachable and migrated.
async fn readyz(State(state): State<ServerState>) -> Response {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return text(StatusCode::SERVICE_UNAVAILABLE, "not ready: shutting down");
    }
    match tokio::time::timeout(DB_PROBE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => text(StatusCode::OK, "ready"),
        Ok(Err(e)) => {
            warn!(error = %e, "readiness: the deliveries table cannot be read");
            text(StatusCode::SERVICE_UNAVAILABLE, "not ready: cannot read the deliveries table")
        }
        Err(_) => {
            warn!("readiness: database did not answer in time");
            text(StatusCode::SERVICE_UNAVAILABLE, "not ready: the database did not answer within 2 s")
        }
    }
}

async fn metrics_text(State(state): State<ServerState>) -> Response {
    state.metrics.set_bodies_reading(state.intake.reading());
    match tokio::time::timeout(DB_PROBE_TIMEOUT, state.store.queue_depth()).await {
        Ok(Ok(depth)) => state.metrics.set_queue_depth(depth),
        Ok(Err(e)) => warn!(error = %e, "metrics: cannot read the queue depth"),
        Err(_) => warn!("metrics: the database did not answer in time"),
    }
    ([(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE))], state.metrics.render()).into_response()
}
