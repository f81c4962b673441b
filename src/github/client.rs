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
//! - Every content-creating request (POST, PATCH, PUT, DELETE) of any installation goes through one
//!   [`WriteThrottle`] (GitHub's secondary limit of 80 a minute). Minting tokens is not throttled.
//! - Conditional GETs ([`Installation::get_conditional`]): the `ETag` of an earlier answer is sent as
//!   `If-None-Match`, and a `304 Not Modified` (which GitHub does not count against the rate limit) reuses the
//!   stored body.

use super::events::InstallationId;
use super::path::repo_api;
use super::throttle::WriteThrottle;
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
use std::future::Future;
use std::pin::Pin;
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

/// An earlier answer to a GET, kept to make the next request conditional.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedResponse {
    pub etag: String,
    /// The body (JSON text).
    pub body: String,
    /// The `Link` header, so a cached page still leads to the next one.
    #[serde(default)]
    pub link: Option<String>,
}

/// Where conditional GETs keep their `ETag`s and bodies, by request path.
pub trait ResponseCache: Send + Sync {
    fn load(&self, path: &str) -> Pin<Box<dyn Future<Output = Option<CachedResponse>> + Send + '_>>;
    fn store(&self, path: &str, response: CachedResponse) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// A cache that keeps nothing: every GET is unconditional (the command line, which runs once).
pub struct NoCache;

impl ResponseCache for NoCache {
    fn load(&self, _: &str) -> Pin<Box<dyn Future<Output = Option<CachedResponse>> + Send + '_>> {
        Box::pin(async { None })
    }

    fn store(&self, _: &str, _: CachedResponse) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

/// The App: mints installation tokens and hands out cached installation clients.
pub struct GitHubApp {
    base_url: String,
    app: Octocrab,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn RequestObserver>,
    throttle: Arc<WriteThrottle>,
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
        Ok(Self {
            base_url,
            app,
            clock,
            observer,
            throttle: Arc::new(WriteThrottle::default()),
            installations: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Paces the App's content-creating requests with `throttle` instead of GitHub's 80 a minute.
    pub fn with_write_throttle(mut self, throttle: WriteThrottle) -> Self {
        self.throttle = Arc::new(throttle);
        self
    }

    pub(super) fn app_api(&self) -> Api {
        Api {
            client: self.app.clone(),
            base_url: self.base_url.clone(),
            observer: self.observer.clone(),
            throttle: None,
        }
    }

    /// The App's installations (`GET /app/installations`, as the App).
    pub async fn installations(&self) -> Result<Vec<InstallationId>, GhError> {
        #[derive(serde::Deserialize)]
        struct Listed {
            id: u64,
        }
        let listed: Vec<Listed> =
            self.app_api().get_all("/app/installations?per_page=100", "GET /app/installations", None, None).await?;
        Ok(listed.into_iter().map(|i| InstallationId(i.id)).collect())
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
        let app = self.app_api();
        let path = format!("/app/installations/{id}/access_tokens");
        let reply = app
            .send(
                Method::POST,
                &path,
                Some(&serde_json::json!({})),
                "POST /app/installations/{installation_id}/access_tokens",
                None,
            )
            .await?;
        let token: AccessToken = reply.json("installation token")?;
        let client = builder(&self.base_url).and_then(|b| Ok(b.personal_token(token.token).build()?)).map_err(|e| {
            GhError::Permanent { what: "installation client".into(), status: 0, message: e.to_string() }
        })?;
        let installation = Installation {
            id,
            api: Api {
                client,
                base_url: self.base_url.clone(),
                observer: self.observer.clone(),
                throttle: Some(self.throttle.clone()),
            },
        };
        cache.insert(id, (installation.clone(), token.expires_at));
        Ok(installation)
    }

    /// The client for the installation that covers `repo` (`owner/name`): `GET /repos/{owner}/{repo}/installation`,
    /// as the App. The catalog repository may belong to another installation than the service that asks for a change.
    pub async fn repository_installation(&self, repo: &str) -> Result<Installation, GhError> {
        #[derive(serde::Deserialize)]
        struct Found {
            id: u64,
        }
        let found: Found = self
            .app_api()
            .send::<()>(
                Method::GET,
                &format!("{}/installation", repo_api(repo)),
                None,
                "GET /repos/{owner}/{repo}/installation",
                None,
            )
            .await?
            .json("GET /repos/{owner}/{repo}/installation")?;
        self.installation(InstallationId(found.id)).await
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
        self.api.send::<()>(Method::GET, path, None, endpoint, None).await?.json(endpoint)
    }

    pub async fn get_reply(&self, path: &str, endpoint: &'static str) -> Result<Reply, GhError> {
        self.api.send::<()>(Method::GET, path, None, endpoint, None).await
    }

    /// GET with `If-None-Match` from `cache`: a `304 Not Modified` answers with the stored body.
    pub async fn get_conditional<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &'static str,
        cache: &dyn ResponseCache,
    ) -> Result<T, GhError> {
        self.api.get_conditional(path, endpoint, cache).await?.json(endpoint)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        endpoint: &'static str,
    ) -> Result<T, GhError> {
        self.api.send(Method::POST, path, Some(body), endpoint, None).await?.json(endpoint)
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        endpoint: &'static str,
    ) -> Result<T, GhError> {
        self.api.send(Method::PATCH, path, Some(body), endpoint, None).await?.json(endpoint)
    }

    /// DELETE; the body of the answer (often empty) is ignored.
    pub async fn delete<B: Serialize>(
        &self,
        path: &str,
        body: Option<&B>,
        endpoint: &'static str,
    ) -> Result<(), GhError> {
        self.api.send(Method::DELETE, path, body, endpoint, None).await.map(|_| ())
    }

    /// Every item of a paginated listing (a JSON array per page), following `Link: rel="next"` on the same host.
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str, endpoint: &'static str) -> Result<Vec<T>, GhError> {
        self.api.get_all(path, endpoint, None, None).await
    }

    /// [`Installation::get_all`] with each page requested conditionally.
    pub async fn get_all_conditional<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &'static str,
        cache: &dyn ResponseCache,
    ) -> Result<Vec<T>, GhError> {
        self.api.get_all(path, endpoint, Some(cache), None).await
    }

    /// Every item of a paginated listing whose pages are objects holding the items in `field`
    /// (`GET /installation/repositories` answers `{total_count, repositories: [...]}`).
    pub async fn get_all_in<T: DeserializeOwned>(
        &self,
        path: &str,
        field: &str,
        endpoint: &'static str,
    ) -> Result<Vec<T>, GhError> {
        self.api.get_all(path, endpoint, None, Some(field)).await
    }

    /// [`Installation::get_all_in`] with each page requested conditionally.
    pub async fn get_all_in_conditional<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &'static str,
        field: &str,
        cache: &dyn ResponseCache,
    ) -> Result<Vec<T>, GhError> {
        self.api.get_all(path, endpoint, Some(cache), Some(field)).await
    }

    /// A client with a token of its own (a personal access token or a CI token) instead of the App's: what
    /// `evaluate` uses with `SHIPSHAPE_GITHUB_TOKEN`. Its id is 0; it writes nothing, so it has no write throttle.
    pub fn with_token(base_url: &str, token: &str) -> Result<Installation, GhError> {
        let client = builder(base_url)
            .and_then(|b| Ok(b.personal_token(token.to_string()).build()?))
            .map_err(|e| GhError::Permanent { what: "GitHub client".into(), status: 0, message: e.to_string() })?;
        Ok(Installation {
            id: InstallationId(0),
            api: Api {
                client,
                base_url: base_url.trim_end_matches('/').to_string(),
                observer: Arc::new(NoObserver),
                throttle: None,
            },
        })
    }
}

#[derive(Clone)]
pub(super) struct Api {
    client: Octocrab,
    base_url: String,
    observer: Arc<dyn RequestObserver>,
    /// Paces content-creating requests; `None` for the App's own requests (tokens, installation listings), which
    /// create no content and must not wait behind a sweep's writes.
    throttle: Option<Arc<WriteThrottle>>,
}

impl Api {
    /// Every item of a paginated listing: each page is a JSON array, or an object holding the array in `field`.
    async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &'static str,
        cache: Option<&dyn ResponseCache>,
        field: Option<&str>,
    ) -> Result<Vec<T>, GhError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(path) = next.take() {
            let reply = match cache {
                Some(cache) => self.get_conditional(&path, endpoint, cache).await?,
                None => self.send::<()>(Method::GET, &path, None, endpoint, None).await?,
            };
            let page: Vec<T> = match field {
                None => reply.json(endpoint)?,
                Some(field) => {
                    let mut page: serde_json::Map<String, serde_json::Value> = reply.json(endpoint)?;
                    let listed = page.remove(field).unwrap_or_default();
                    serde_json::from_value(listed).map_err(|e| GhError::Permanent {
                        what: endpoint.into(),
                        status: reply.status.as_u16(),
                        message: format!("unexpected response body: {e}"),
                    })?
                }
            };
            items.extend(page);
            pages += 1;
            if pages >= 100 {
                break; // 10,000 items at 100 a page: enough for any listing we read
            }
            next = next_link(&reply.headers).and_then(|url| self.same_host_path(&url));
        }
        Ok(items)
    }

    async fn get_conditional(
        &self,
        path: &str,
        endpoint: &'static str,
        cache: &dyn ResponseCache,
    ) -> Result<Reply, GhError> {
        let cached = cache.load(path).await;
        let mut headers = HeaderMap::new();
        if let Some(value) = cached.as_ref().and_then(|c| http::HeaderValue::from_str(&c.etag).ok()) {
            headers.insert(http::header::IF_NONE_MATCH, value);
        }
        let mut reply = self.send::<()>(Method::GET, path, None, endpoint, Some(headers)).await?;
        if reply.status == StatusCode::NOT_MODIFIED {
            let Some(cached) = cached else {
                return Err(GhError::Permanent {
                    what: endpoint.into(),
                    status: 304,
                    message: "304 Not Modified to an unconditional request".into(),
                });
            };
            if let Some(link) = cached.link.as_deref().and_then(|l| http::HeaderValue::from_str(l).ok()) {
                reply.headers.insert(http::header::LINK, link);
            }
            reply.body = Bytes::from(cached.body.into_bytes());
            return Ok(reply);
        }
        let etag = reply.headers.get(http::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let (Some(etag), Ok(body)) = (etag, std::str::from_utf8(&reply.body)) {
            let link = reply.headers.get(http::header::LINK).and_then(|v| v.to_str().ok()).map(str::to_string);
            cache.store(path, CachedResponse { etag, body: body.to_string(), link }).await;
        }
        Ok(reply)
    }

    /// `url` as a path (and query) on our base host, or `None` when it points elsewhere (never send the token there).
    fn same_host_path(&self, url: &str) -> Option<String> {
        let origin_end = |u: &str| u.find("://").map(|i| i + 3).map(|i| u[i..].find('/').map_or(u.len(), |j| i + j));
        let base_origin = &self.base_url[..origin_end(&self.base_url)?];
        let rest = url.strip_prefix(base_origin)?;
        rest.starts_with('/').then(|| rest.to_string())
    }

    pub(super) async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        endpoint: &'static str,
        headers: Option<HeaderMap>,
    ) -> Result<Reply, GhError> {
        let idempotent = method != Method::POST;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(throttle) = self.throttle.as_ref().filter(|_| method != Method::GET) {
                let waited = throttle.acquire().await;
                if !waited.is_zero() {
                    tracing::debug!(endpoint, waited_ms = waited.as_millis() as u64, "write paced");
                }
            }
            let response = match method {
                Method::GET => self.client._get_with_headers(path, headers.clone()).await,
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
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
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
pub(super) fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.split(';').any(|p| p.trim() == "rel=\"next\"").then(|| url.trim().trim_matches(['<', '>']).to_string())
    })
}

pub use super::path::segment;

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
}
