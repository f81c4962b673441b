//! The GitHub REST client: App authentication, one cached client per installation, and our own retry policy.
//!
//! - The App authenticates with a JWT (octocrab signs it); each installation gets a token minted once and cached
//!   with its client until five minutes before it expires, never one per delivery.
//! - Installation clients are built with the token as a static `Authorization` header bound to the configured base
//!   URL. octocrab's own installation auth only sends the token to `api.github.com` or to relative URLs, so with
//!   GitHub Enterprise Server (or a test server) page 2+ of a paginated listing, which GitHub links with absolute
//!   URLs, would go out without it. We also follow `Link: rel="next"` ourselves, only on the same host.
//! - octocrab's retry layer is not enabled. Idempotent requests (GET, PATCH of a whole resource) are retried here on
//!   5xx with a short backoff; any request is retried after a rate limit (429, or 403 with `Retry-After` or an
//!   exhausted quota: GitHub did not process it) when the wait is short; otherwise the error is `Transient` with the
//!   wait GitHub asked for, and the worker retries the delivery later. A POST that got a 5xx is never repeated
//!   blindly: GitHub may have acted on it, so the handler looks the resource up before creating it again.

use super::events::InstallationId;
use crate::clock::Clock;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::{Octocrab, OctocrabBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Attempts of one request before giving up to the worker.
const MAX_ATTEMPTS: u32 = 3;
/// Longest wait we sit out inside a request; longer ones go back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(5);
/// Tokens are replaced this long before they expire.
const TOKEN_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
const TIMEOUT: Duration = Duration::from_secs(30);

/// What went wrong talking to GitHub, as callers need to branch on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GhError {
    /// Worth retrying later: 5xx, rate limits, network trouble.
    #[error("GitHub is unavailable ({what}): {message}")]
    Transient { what: String, message: String, retry_after: Option<Duration> },
    /// 401: the token was refused (expired early, revoked, or the installation is gone).
    #[error("GitHub refused the credentials ({what}): {message}")]
    Unauthorized { what: String, message: String },
    /// 404.
    #[error("not found: {what}")]
    NotFound { what: String, message: String },
    /// 403 that is not a rate limit: a missing permission or a disabled feature.
    #[error("forbidden ({what}): {message}")]
    Forbidden { what: String, message: String },
    /// Other 4xx (422 and friends): retrying will not help.
    #[error("GitHub refused {what} ({status}): {message}")]
    Permanent { what: String, status: u16, message: String },
}

impl GhError {
    pub fn is_transient(&self) -> bool {
        matches!(self, GhError::Transient { .. })
    }
}

/// Told about every response (for metrics).
pub trait RequestObserver: Send + Sync {
    fn github_request(&self, endpoint: &str, status: u16, rate_limit_remaining: Option<u64>);
}

/// An observer that ignores everything.
pub struct NoObserver;

impl RequestObserver for NoObserver {
    fn github_request(&self, _: &str, _: u16, _: Option<u64>) {}
}

/// A response with a 2xx status.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, GhError> {
        serde_json::from_slice(&self.body).map_err(|e| GhError::Permanent {
            what: what.to_string(),
            status: self.status.as_u16(),
            message: format!("unexpected response body: {e}"),
        })
    }
}

/// The App: mints installation tokens and hands out cached installation clients.
pub struct GitHubApp {
    base_url: String,
    app: Octocrab,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn RequestObserver>,
    installations: tokio::sync::Mutex<HashMap<InstallationId, (Installation, DateTime<Utc>)>>,
}

impl fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubApp").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct AccessToken {
    token: String,
    expires_at: DateTime<Utc>,
}

impl GitHubApp {
    /// `private_key_pem` is the App's key (PKCS#1 or PKCS#8 PEM).
    pub fn new(
        base_url: &str,
        app_id: u64,
        private_key_pem: &str,
        clock: Arc<dyn Clock>,
        observer: Arc<dyn RequestObserver>,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let key = octocrab::EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
            .context("the private key is not a PEM-encoded RSA key")?;
        let base_url = base_url.trim_end_matches('/').to_string();
        let app = builder(&base_url)?.app(app_id.into(), key).build().context("cannot build the GitHub client")?;
        Ok(Self { base_url, app, clock, observer, installations: tokio::sync::Mutex::new(HashMap::new()) })
    }

    /// The client for an installation, minting a token only when there is none or it is about to expire.
    pub async fn installation(&self, id: InstallationId) -> Result<Installation, GhError> {
        let mut cache = self.installations.lock().await;
        let now = self.clock.now();
        if let Some((client, expires_at)) = cache.get(&id)
            && *expires_at - TOKEN_MARGIN > now
        {
            return Ok(client.clone());
        }
        let app = Api { client: self.app.clone(), base_url: self.base_url.clone(), observer: self.observer.clone() };
        let path = format!("/app/installations/{id}/access_tokens");
        let reply = app
            .send(
                Method::POST,
                &path,
                Some(&serde_json::json!({})),
                "POST /app/installations/{installation_id}/access_tokens",
            )
            .await?;
        let token: AccessToken = reply.json("installation token")?;
        let client = builder(&self.base_url).and_then(|b| Ok(b.personal_token(token.token).build()?)).map_err(|e| {
            GhError::Permanent { what: "installation client".into(), status: 0, message: e.to_string() }
        })?;
        let installation =
            Installation { id, api: Api { client, base_url: self.base_url.clone(), observer: self.observer.clone() } };
        cache.insert(id, (installation.clone(), token.expires_at));
        Ok(installation)
    }

    /// Forgets an installation's token (after a 401, or when the installation is deleted).
    pub async fn forget(&self, id: InstallationId) {
        self.installations.lock().await.remove(&id);
    }
}

fn builder(
    base_url: &str,
) -> anyhow::Result<
    OctocrabBuilder<octocrab::NoSvc, octocrab::DefaultOctocrabBuilderConfig, octocrab::NoAuth, octocrab::NotLayerReady>,
> {
    Ok(OctocrabBuilder::new()
        .base_uri(base_url)?
        .set_connect_timeout(Some(TIMEOUT))
        .set_read_timeout(Some(TIMEOUT))
        .set_write_timeout(Some(TIMEOUT)))
}

/// A client authenticated as one installation. Cheap to clone.
#[derive(Clone)]
pub struct Installation {
    pub id: InstallationId,
    api: Api,
}

impl fmt::Debug for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Installation").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Installation {
    /// GET a JSON document. `endpoint` is the path template, for metrics and messages.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, endpoint: &'static str) -> Result<T, GhError> {
        self.api.send::<()>(Method::GET, path, None, endpoint).await?.json(endpoint)
    }

    pub async fn get_reply(&self, path: &str, endpoint: &'static str) -> Result<Reply, GhError> {
        self.api.send::<()>(Method::GET, path, None, endpoint).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        endpoint: &'static str,
    ) -> Result<T, GhError> {
        self.api.send(Method::POST, path, Some(body), endpoint).await?.json(endpoint)
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        endpoint: &'static str,
    ) -> Result<T, GhError> {
        self.api.send(Method::PATCH, path, Some(body), endpoint).await?.json(endpoint)
    }

    /// Every item of a paginated listing (a JSON array per page), following `Link: rel="next"` on the same host.
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str, endpoint: &'static str) -> Result<Vec<T>, GhError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(path) = next.take() {
            let reply = self.api.send::<()>(Method::GET, &path, None, endpoint).await?;
            items.extend(reply.json::<Vec<T>>(endpoint)?);
            pages += 1;
            if pages >= 100 {
                break; // 10,000 items at 100 a page: enough for any listing we read
            }
            next = next_link(&reply.headers).and_then(|url| self.api.same_host_path(&url));
        }
        Ok(items)
    }
}

#[derive(Clone)]
struct Api {
    client: Octocrab,
    base_url: String,
    observer: Arc<dyn RequestObserver>,
}

impl Api {
    /// `url` as a path (and query) on our base host, or `None` when it points elsewhere (never send the token there).
    fn same_host_path(&self, url: &str) -> Option<String> {
        let origin_end = |u: &str| u.find("://").map(|i| i + 3).map(|i| u[i..].find('/').map_or(u.len(), |j| i + j));
        let base_origin = &self.base_url[..origin_end(&self.base_url)?];
        let rest = url.strip_prefix(base_origin)?;
        rest.starts_with('/').then(|| rest.to_string())
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        endpoint: &'static str,
    ) -> Result<Reply, GhError> {
        let idempotent = method != Method::POST;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let response = match method {
                Method::GET => self.client._get(path).await,
                Method::POST => self.client._post(path, body).await,
                Method::PATCH => self.client._patch(path, body).await,
                Method::PUT => self.client._put(path, body).await,
                Method::DELETE => self.client._delete(path, body).await,
                _ => unreachable!("we only send GET, POST, PATCH, PUT and DELETE"),
            };
            let response = match response {
                Ok(response) => response,
                Err(e) => {
                    let error = GhError::Transient { what: endpoint.into(), message: e.to_string(), retry_after: None };
                    if idempotent && attempt < MAX_ATTEMPTS {
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(error);
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let body = match response.into_body().collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) => {
                    if idempotent && attempt < MAX_ATTEMPTS {
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(GhError::Transient {
                        what: endpoint.into(),
                        message: e.to_string(),
                        retry_after: None,
                    });
                }
            };
            let remaining = header_u64(&headers, "x-ratelimit-remaining");
            self.observer.github_request(endpoint, status.as_u16(), remaining);
            if status.is_success() {
                return Ok(Reply { status, headers, body });
            }
            let message = error_message(&body);
            if let Some(wait) = rate_limit_wait(status, &headers, &message) {
                // GitHub did not act on a rate-limited request: repeating it is safe for any method.
                if wait <= MAX_INLINE_WAIT && attempt < MAX_ATTEMPTS {
                    tracing::info!(endpoint, wait_ms = wait.as_millis() as u64, "rate limited by GitHub; waiting");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(GhError::Transient { what: endpoint.into(), message, retry_after: Some(wait) });
            }
            if status.is_server_error() {
                if idempotent && attempt < MAX_ATTEMPTS {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                return Err(GhError::Transient { what: endpoint.into(), message, retry_after: None });
            }
            return Err(match status {
                StatusCode::UNAUTHORIZED => GhError::Unauthorized { what: endpoint.into(), message },
                StatusCode::NOT_FOUND => GhError::NotFound { what: endpoint.into(), message },
                StatusCode::FORBIDDEN => GhError::Forbidden { what: endpoint.into(), message },
                other => GhError::Permanent { what: endpoint.into(), status: other.as_u16(), message },
            });
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 2u64.pow(attempt.saturating_sub(1)))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// How long GitHub asks us to wait, when this response is a rate limit (primary or secondary).
fn rate_limit_wait(status: StatusCode, headers: &HeaderMap, message: &str) -> Option<Duration> {
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (headers.contains_key("retry-after")
                || header_u64(headers, "x-ratelimit-remaining") == Some(0)
                || message.to_ascii_lowercase().contains("rate limit")));
    if !limited {
        return None;
    }
    if let Some(seconds) = header_u64(headers, "retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    if let Some(reset) = header_u64(headers, "x-ratelimit-reset") {
        let now = Utc::now().timestamp().max(0) as u64;
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
    }
    // GitHub's advice for a secondary limit without headers: wait at least a minute.
    Some(Duration::from_secs(60))
}

/// GitHub's `message` from an error body, or the body itself (cut short).
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => e.message,
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.split(';').any(|p| p.trim() == "rel=\"next\"").then(|| url.trim().trim_matches(['<', '>']).to_string())
    })
}

/// Percent-encodes one path segment (a branch name, a file path's segment).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LINK,
            r#"<https://ghe.example.com/api/v3/x?page=3>; rel="last", <https://ghe.example.com/api/v3/x?page=2>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&headers).as_deref(), Some("https://ghe.example.com/api/v3/x?page=2"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn rate_limits_are_told_apart_from_permission_errors() {
        let mut headers = HeaderMap::new();
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &headers, "Resource not accessible by integration"), None);
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &headers, "You have exceeded a secondary rate limit"),
            Some(Duration::from_secs(60))
        );
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &headers, ""), Some(Duration::from_secs(7)));
        assert_eq!(rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &headers, ""), Some(Duration::from_secs(7)));
        assert_eq!(rate_limit_wait(StatusCode::BAD_GATEWAY, &headers, ""), None);
    }

    #[test]
    fn error_messages_come_from_githubs_body() {
        assert_eq!(error_message(br#"{"message":"Not Found","documentation_url":"x"}"#), "Not Found");
        assert_eq!(error_message(b"<html>bad gateway</html>"), "<html>bad gateway</html>");
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("feature/x y"), "feature%2Fx%20y");
    }
}
