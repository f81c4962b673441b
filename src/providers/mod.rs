//! Fact providers for linked tools outside GitHub. Each is configured by a base URL and credentials, has a timeout
//! and bounded retries, and answers with a [`crate::facts::linked::Fact`] that tells "not configured" (rules
//! `skipped`), "unavailable" (rules `error`, with the reason) and a real answer apart, never a silent pass or fail.
//! Credentials never appear in a fact's reason, an error or a log line.

pub mod collect;
pub mod http_rule;
pub mod pagerduty;
pub mod prometheus;

pub use collect::{Providers, ProvidersConfig};

use crate::clock::Clock;
use crate::http::{HttpClient, HttpError, retry_after};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How a provider talks to its tool.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Per request.
    pub timeout: Duration,
    /// Attempts of one request (rate limits and 5xx are retried).
    pub attempts: u32,
    /// The longest `Retry-After` waited out; a longer one makes the fact unavailable.
    pub max_wait: Duration,
    /// Stops asking a host that keeps failing (shared by every client that holds it).
    pub breaker: Option<Arc<Breaker>>,
    /// Told the outcome of every request (for metrics).
    pub observer: Option<Arc<dyn ToolObserver>>,
}

/// Told about every linked-tool request: the tool (`pagerduty`, `prometheus`, `http`) and the outcome (`ok`,
/// `not_found`, `refused`, `down`, `not_asked`).
pub trait ToolObserver: Send + Sync + std::fmt::Debug {
    fn linked_tool_request(&self, tool: &'static str, outcome: &'static str);
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 3,
            max_wait: Duration::from_secs(5),
            breaker: None,
            observer: None,
        }
    }
}

/// A circuit breaker per host: after [`Breaker::TRIP_AFTER`] requests in a row that found the host unreachable,
/// timing out, failing (5xx) or rate limiting, it is not asked for [`Breaker::OPEN_FOR`] (by the injected clock),
/// so a tool that is down costs a sweep one failed request per host rather than one per service. Then one request
/// is let through; if it fails too, the host is left alone again at once.
pub struct Breaker {
    clock: Arc<dyn Clock>,
    hosts: std::sync::Mutex<HashMap<String, HostState>>,
}

#[derive(Default)]
struct HostState {
    failures: u32,
    open_until: Option<DateTime<Utc>>,
    /// It tripped before: one more failure opens it again.
    tripped: bool,
    /// When the current run of failures began.
    failing_since: Option<DateTime<Utc>>,
    /// The tool that asked last and how its request failed.
    last: Option<(&'static str, DownKind)>,
}

/// How a request found its host failing: the kind and the status only, never a URL, a header or the tool's own
/// words (which may echo a credential, or name a repository).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownKind {
    Unreachable,
    TimedOut,
    /// 429.
    RateLimited,
    /// 5xx, with the status.
    ServerError(u16),
}

impl std::fmt::Display for DownKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownKind::Unreachable => f.write_str("unreachable"),
            DownKind::TimedOut => f.write_str("timed out"),
            DownKind::RateLimited => f.write_str("rate limited (429)"),
            DownKind::ServerError(status) => write!(f, "answered {status}"),
        }
    }
}

/// Whether a tripped host is left alone (`open`) or will be asked once more at the next request (`half_open`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// A host the [`Breaker`] tripped for, as [`Breaker::down`] reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ToolDown {
    /// The linked tool that asked last: `pagerduty`, `prometheus` or `http`.
    pub tool: &'static str,
    /// Scheme and authority, without credentials: `https://sonar.example.com`.
    pub host: String,
    pub state: BreakerState,
    /// When the current run of failures began.
    pub since: DateTime<Utc>,
    /// From when the host is asked again.
    pub retry_at: DateTime<Utc>,
    /// How the last request failed: kind and status only (`answered 503`, `timed out`).
    pub last_error: String,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker").finish_non_exhaustive()
    }
}

impl Breaker {
    pub const TRIP_AFTER: u32 = 3;
    pub const OPEN_FOR: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock, hosts: Default::default() }
    }

    /// The scheme and authority of `url`: what is counted together.
    fn host(url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        format!("{scheme}://{}", authority.to_ascii_lowercase())
    }

    /// `Err` with the reason while `url`'s host is left alone.
    fn check(&self, url: &str) -> Result<(), String> {
        let now = self.clock.now();
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        match hosts.get(&Self::host(url)).and_then(|h| h.open_until) {
            Some(until) if now < until => Err(format!(
                "not asked: the last requests to this host failed; asked again from {} UTC",
                until.format("%H:%M:%S")
            )),
            _ => Ok(()),
        }
    }

    /// Counts a request of `tool` to `url`'s host: `failed` says how it found the host failing (`None`: it answered).
    fn record(&self, url: &str, tool: &'static str, failed: Option<DownKind>) {
        let now = self.clock.now();
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let host = Self::host(url);
        let state = hosts.entry(host.clone()).or_default();
        let Some(kind) = failed else {
            *state = HostState::default();
            return;
        };
        state.failures += 1;
        state.failing_since.get_or_insert(now);
        state.last = Some((tool, kind));
        if state.tripped || state.failures >= Self::TRIP_AFTER {
            state.open_until = Some(now + Self::OPEN_FOR);
            state.tripped = true;
            state.failures = 0;
            tracing::warn!(host = %host, until = %(now + Self::OPEN_FOR), "linked tool failing: left alone for a while");
        }
    }

    /// The hosts it tripped for and has not seen answer since, by host: left alone until `retry_at` (`open`), or
    /// to be asked once more (`half_open`). Read-only.
    pub fn down(&self) -> Vec<ToolDown> {
        let now = self.clock.now();
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let mut down: Vec<ToolDown> = hosts
            .iter()
            .filter_map(|(host, state)| {
                let until = state.open_until.filter(|_| state.tripped)?;
                let (tool, kind) = state.last?;
                Some(ToolDown {
                    tool,
                    host: host.clone(),
                    state: if now < until { BreakerState::Open } else { BreakerState::HalfOpen },
                    since: state.failing_since.unwrap_or(until - Self::OPEN_FOR),
                    retry_at: until,
                    last_error: kind.to_string(),
                })
            })
            .collect();
        down.sort_by(|a, b| a.host.cmp(&b.host));
        down
    }
}

/// Why one request gave no usable answer. The reason never holds a credential or the request's URL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    NotFound,
    Unavailable(String),
    /// The host is failing: unreachable, timing out, 5xx or rate limiting (what the [`Breaker`] counts). `reason`
    /// is for the rule's message; the breaker keeps only `kind`.
    Down {
        reason: String,
        kind: DownKind,
    },
    /// 400 or 422: the tool understood the request and refused it; its body often says why.
    Refused {
        status: u16,
        body: Bytes,
    },
}

impl Failure {
    /// Why, for a fact's reason (a 404 is "not found" here; providers that give it a meaning branch first).
    pub fn reason(self) -> String {
        match self {
            Failure::NotFound => "not found (404)".into(),
            Failure::Unavailable(why) | Failure::Down { reason: why, .. } => why,
            Failure::Refused { status, .. } => format!("refused the request ({status})"),
        }
    }
}

/// GET `url` with `headers`, for the body of a 2xx answer; rate limits (429, with `Retry-After` up to `limits.max_wait`), 5xx, timeouts and
/// connection failures are retried up to `limits.attempts` times. `timeout` and `max_bytes` override the client's.
pub(crate) async fn get(
    tool: &'static str,
    client: &HttpClient,
    limits: &Limits,
    url: &str,
    headers: &[(HeaderName, HeaderValue)],
    max_bytes: Option<usize>,
) -> Result<Bytes, Failure> {
    let observe = |outcome: &'static str| {
        if let Some(observer) = &limits.observer {
            observer.linked_tool_request(tool, outcome);
        }
    };
    if let Some(breaker) = &limits.breaker
        && let Err(why) = breaker.check(url)
    {
        observe("not_asked");
        return Err(Failure::Unavailable(why));
    }
    let outcome = send(client, limits, url, headers, max_bytes).await;
    if let Some(breaker) = &limits.breaker {
        let failed = match &outcome {
            Err(Failure::Down { kind, .. }) => Some(*kind),
            _ => None,
        };
        breaker.record(url, tool, failed);
    }
    observe(match &outcome {
        Ok(_) => "ok",
        Err(Failure::NotFound) => "not_found",
        Err(Failure::Down { .. }) => "down",
        Err(Failure::Unavailable(_) | Failure::Refused { .. }) => "refused",
    });
    outcome
}

async fn send(
    client: &HttpClient,
    limits: &Limits,
    url: &str,
    headers: &[(HeaderName, HeaderValue)],
    max_bytes: Option<usize>,
) -> Result<Bytes, Failure> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header(http::header::USER_AGENT, concat!("shipshape/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request =
            request.body(Full::new(Bytes::new())).map_err(|_| Failure::Unavailable("the URL is not valid".into()))?;
        let response = match client.send_limited(request, limits.timeout, max_bytes).await {
            Ok(response) => response,
            Err(e @ (HttpError::Timeout(_) | HttpError::Connect(_))) if attempt < limits.attempts => {
                tracing::debug!(error = %e, attempt, "linked-tool request retried");
                continue;
            }
            Err(HttpError::TooLarge(limit)) => {
                return Err(Failure::Unavailable(format!("the answer is larger than {limit} bytes")));
            }
            // Not sent (a URL with `user:password@`): the host is not failing.
            Err(e @ HttpError::Request(_)) => return Err(Failure::Unavailable(format!("not asked: {e}"))),
            Err(e) => {
                let kind = if matches!(e, HttpError::Timeout(_)) { DownKind::TimedOut } else { DownKind::Unreachable };
                return Err(Failure::Down { reason: format!("unreachable ({e})"), kind });
            }
        };
        let status = response.status;
        let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        if retryable && attempt < limits.attempts {
            let wait = retry_after(&response.headers).unwrap_or(Duration::from_millis(200));
            if wait <= limits.max_wait {
                tokio::time::sleep(wait).await;
                continue;
            }
        }
        return match status {
            s if s.is_success() => Ok(response.body),
            StatusCode::NOT_FOUND => Err(Failure::NotFound),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                Err(Failure::Refused { status: status.as_u16(), body: response.body })
            }
            StatusCode::UNAUTHORIZED => Err(Failure::Unavailable("the credentials were refused (401)".into())),
            StatusCode::FORBIDDEN => Err(Failure::Unavailable("the credentials may not read this (403)".into())),
            StatusCode::TOO_MANY_REQUESTS => {
                let after = retry_after(&response.headers).map(|d| format!("; retry after {}s", d.as_secs()));
                let reason = format!("rate limited (429){}", after.unwrap_or_default());
                Err(Failure::Down { reason, kind: DownKind::RateLimited })
            }
            s if s.is_server_error() => Err(Failure::Down {
                reason: format!("answered {}", s.as_u16()),
                kind: DownKind::ServerError(s.as_u16()),
            }),
            s => Err(Failure::Unavailable(format!("answered {}", s.as_u16()))),
        };
    }
}

/// A path segment, percent-encoded.
pub(crate) fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
