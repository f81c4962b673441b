//! A fake Slack incoming webhook: an HTTP server on `127.0.0.1:0` that accepts messages POSTed to one webhook URL and
//! answers as Slack does (`200 ok` as text/plain; `400 invalid_payload`, `400 invalid_blocks`; `404 no_service` on
//! other paths), records what it accepted, and can be told to fail the next POST.
//!
//! ```ignore
//! let slack = FakeSlack::start().await;
//! // ... configure the App with slack.url ...
//! assert_eq!(slack.messages()[0]["text"], "Sweep finished");
//! ```

#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

const WEBHOOK_PATH: &str = "/services/T000/B000/XXXX";
/// The block types a message may carry.
const BLOCK_TYPES: &[&str] = &["section", "header", "context", "divider", "actions", "image", "rich_text"];
const MAX_BLOCKS: usize = 50;
const MAX_SECTION_TEXT: usize = 3000;
const MAX_SECTION_FIELDS: usize = 10;
const MAX_FIELD_TEXT: usize = 2000;
const MAX_HEADER_TEXT: usize = 150;
const MAX_CONTEXT_ELEMENTS: usize = 10;
const MAX_ACTIONS_ELEMENTS: usize = 25;
const MAX_BLOCK_ID: usize = 255;

/// One POST the fake received, in order.
#[derive(Clone, Debug)]
pub struct SlackRequest {
    pub path: String,
    /// The body as sent.
    pub body: String,
    /// The status answered.
    pub status: u16,
    /// Answered by [`FakeSlack::fail_next`].
    pub injected: bool,
    pub at: Instant,
}

#[derive(Default)]
struct SlackState {
    messages: Vec<Value>,
    requests: Vec<SlackRequest>,
    failures: Vec<u16>,
}

/// The fake Slack. See the module documentation.
pub struct FakeSlack {
    /// The incoming-webhook URL, e.g. `http://127.0.0.1:40123/services/T000/B000/XXXX`.
    pub url: String,
    state: Arc<Mutex<SlackState>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeSlack {
    /// Starts the server on `127.0.0.1:0` in the current tokio runtime.
    pub async fn start() -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = format!("http://{}{WEBHOOK_PATH}", listener.local_addr().expect("local address"));
        let state = Arc::new(Mutex::new(SlackState::default()));
        let app = axum::Router::new().fallback(serve).with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack server");
        });
        FakeSlack { url, state, server }
    }

    fn state(&self) -> MutexGuard<'_, SlackState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The messages Slack accepted (answered `200 ok`), as JSON, in order.
    pub fn messages(&self) -> Vec<Value> {
        self.state().messages.clone()
    }

    /// Every POST received, accepted or not, in order.
    pub fn requests(&self) -> Vec<SlackRequest> {
        self.state().requests.clone()
    }

    /// The next POST (after any already queued) is answered `status` instead of being handled: 429 comes with
    /// `Retry-After: 1` and body `rate_limited`, others with body `internal_error`. Nothing is recorded as a message.
    pub fn fail_next(&self, status: u16) {
        self.state().failures.push(status);
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn text_reply(status: u16, text: &'static str) -> Response {
    let mut response = text.into_response();
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert("content-type", HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

async fn serve(State(state): State<Arc<Mutex<SlackState>>>, request: Request) -> Response {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if path != WEBHOOK_PATH {
        return text_reply(404, "no_service");
    }
    if parts.method != axum::http::Method::POST {
        return text_reply(405, "invalid_method");
    }
    let bytes = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return text_reply(400, "invalid_payload"),
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut s = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (status, answer, injected) = if !s.failures.is_empty() {
        let status = s.failures.remove(0);
        (status, if status == 429 { "rate_limited" } else { "internal_error" }, true)
    } else {
        match parse(&text, form).and_then(|message| check_message(&message).map(|()| message)) {
            Ok(message) => {
                s.messages.push(message);
                (200, "ok", false)
            }
            Err(error) => (400, error, false),
        }
    };
    s.requests.push(SlackRequest { path, body: text, status, injected, at });
    let mut response = text_reply(status, answer);
    if status == 429 {
        response.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
    }
    response
}

/// The message of a POST body: JSON, or (as Slack also takes) a form with the JSON in `payload`.
fn parse(body: &str, form: bool) -> Result<Value, &'static str> {
    let json = if form {
        let pairs = crate::fake_github::openapi::parse_query(body);
        match pairs.into_iter().find(|(k, _)| k == "payload") {
            Some((_, payload)) => payload,
            None => return Err("invalid_payload"),
        }
    } else {
        body.to_string()
    };
    match serde_json::from_str::<Value>(&json) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err("invalid_payload"),
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

/// A text object: `plain_text` or `mrkdwn` with a non-empty `text` of at most `max` characters.
fn text_object_ok(v: &Value, max: usize, plain_only: bool) -> bool {
    let kind_ok = match v["type"].as_str() {
        Some("plain_text") => true,
        Some("mrkdwn") => !plain_only,
        _ => false,
    };
    kind_ok && v["text"].is_string() && (1..=max).contains(&chars(&v["text"]))
}

fn block_ok(block: &Value) -> bool {
    let Some(kind) = block["type"].as_str().filter(|k| BLOCK_TYPES.contains(k)) else { return false };
    if block.get("block_id").is_some_and(|id| !id.is_string() || chars(id) > MAX_BLOCK_ID) {
        return false;
    }
    let elements = block["elements"].as_array();
    match kind {
        "section" => {
            let text = block.get("text");
            let fields = block.get("fields");
            if text.is_none() && fields.is_none() {
                return false;
            }
            text.is_none_or(|t| text_object_ok(t, MAX_SECTION_TEXT, false))
                && fields.is_none_or(|f| {
                    f.as_array().is_some_and(|f| {
                        f.len() <= MAX_SECTION_FIELDS && f.iter().all(|t| text_object_ok(t, MAX_FIELD_TEXT, false))
                    })
                })
        }
        "header" => text_object_ok(&block["text"], MAX_HEADER_TEXT, true),
        "context" => elements.is_some_and(|e| (1..=MAX_CONTEXT_ELEMENTS).contains(&e.len())),
        "actions" => elements.is_some_and(|e| (1..=MAX_ACTIONS_ELEMENTS).contains(&e.len())),
        "image" => (block["image_url"].is_string() || block["slack_file"].is_object()) && block["alt_text"].is_string(),
        "rich_text" => elements.is_some_and(|e| !e.is_empty()),
        _ => true,
    }
}

/// Slack's checks of a message: some `text` or `blocks` (or `attachments`), and blocks of known types within
/// Block Kit's limits.
pub fn check_message(message: &Value) -> Result<(), &'static str> {
    let has_text = message["text"].as_str().is_some_and(|t| !t.trim().is_empty());
    let blocks = message.get("blocks");
    let has_blocks = blocks.and_then(Value::as_array).is_some_and(|b| !b.is_empty());
    let has_attachments = message["attachments"].as_array().is_some_and(|a| !a.is_empty());
    if !has_text && !has_blocks && !has_attachments {
        return Err("invalid_payload");
    }
    if let Some(blocks) = blocks {
        let Some(blocks) = blocks.as_array() else { return Err("invalid_blocks") };
        if blocks.len() > MAX_BLOCKS || !blocks.iter().all(block_ok) {
            return Err("invalid_blocks");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn section(text: &str) -> Value {
        json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    }

    #[test]
    fn messages_are_checked_like_slack() {
        assert_eq!(check_message(&json!({"text": "hi"})), Ok(()));
        assert_eq!(check_message(&json!({"blocks": [section("x"), {"type": "divider"}]})), Ok(()));
        assert_eq!(check_message(&json!({})), Err("invalid_payload"));
        assert_eq!(check_message(&json!({"text": "", "blocks": []})), Err("invalid_payload"));
        assert_eq!(check_message(&json!({"text": "t", "blocks": [{"type": "table"}]})), Err("invalid_blocks"));
        assert_eq!(check_message(&json!({"text": "t", "blocks": [{"text": "no type"}]})), Err("invalid_blocks"));
        assert_eq!(check_message(&json!({"blocks": [section(&"x".repeat(3000))]})), Ok(()));
        assert_eq!(check_message(&json!({"blocks": [section(&"x".repeat(3001))]})), Err("invalid_blocks"));
        let header = |n: usize| json!({"type": "header", "text": {"type": "plain_text", "text": "h".repeat(n)}});
        assert_eq!(check_message(&json!({"blocks": [header(150)]})), Ok(()));
        assert_eq!(check_message(&json!({"blocks": [header(151)]})), Err("invalid_blocks"));
        let mrkdwn_header = json!({"type": "header", "text": {"type": "mrkdwn", "text": "h"}});
        assert_eq!(check_message(&json!({"blocks": [mrkdwn_header]})), Err("invalid_blocks"));
        let fifty: Vec<Value> = (0..50).map(|_| json!({"type": "divider"})).collect();
        assert_eq!(check_message(&json!({"blocks": fifty})), Ok(()));
        let fifty_one: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
        assert_eq!(check_message(&json!({"blocks": fifty_one})), Err("invalid_blocks"));
        let context = json!({"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}]});
        assert_eq!(check_message(&json!({"blocks": [context]})), Ok(()));
    }
}
