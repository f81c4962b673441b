//! A small HTTPS client for the services that are not GitHub (Slack's incoming webhooks; linked tools): hyper with
//! rustls and the system's root certificates, a timeout on every request and a cap on the response size. GitHub has
//! its own client ([`crate::github::client`]).

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Answers larger than this are refused.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Connection refused, DNS, TLS...: the URL is never part of the message (it may hold a credential).
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("invalid request: {0}")]
    Request(String),
}

/// A response: status, headers and the whole body.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct HttpClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { client, timeout })
    }

    /// Sends `body` (JSON) with `method` to `url`.
    pub async fn send_json(&self, method: Method, url: &str, body: &serde_json::Value) -> Result<Response, HttpError> {
        let request = Request::builder()
            .method(method)
            .uri(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, concat!("shipshape/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| HttpError::Request(e.to_string()))?;
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<Response, HttpError> {
        self.send_limited(request, self.timeout, None).await
    }

    /// Sends `request` with its own timeout and answer size limit (default [`MAX_RESPONSE_BYTES`]). A URL with a
    /// user name or password in it is not sent: the connection pool would log it.
    pub async fn send_limited(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
        max_bytes: Option<usize>,
    ) -> Result<Response, HttpError> {
        if request.uri().authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(HttpError::Request("the URL holds a user name or password (`user:password@`)".into()));
        }
        let limit = max_bytes.unwrap_or(MAX_RESPONSE_BYTES);
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| HttpError::Connect(connect_reason(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, limit).collect().await.map_err(|_| HttpError::TooLarge(limit))?;
            Ok(Response { status: parts.status, headers: parts.headers, body: body.to_bytes() })
        };
        tokio::time::timeout(timeout, exchange).await.map_err(|_| HttpError::Timeout(timeout))?
    }
}

/// The cause of a connection error without the URL (hyper's messages do not include it; its sources might).
fn connect_reason(e: &hyper_util::client::legacy::Error) -> String {
    let mut reason = if e.is_connect() { "connection failed".to_string() } else { "request failed".to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !text.contains("://") {
            reason = format!("{reason}: {text}");
        }
        source = s.source();
    }
    reason
}

/// `url` with whatever stands before an `@` in it (a `user:password@`) replaced by `[redacted]`: for messages and
/// logs. Heuristic, for text that may not even parse as a URL: everything between the scheme's `://` (or the start)
/// and the last `@` goes, so a password holding `/`, `#` or `@` is hidden too.
pub fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &url[..start], &url[start + at + 1..]),
        None => url.to_owned(),
    }
}

/// `Retry-After` in seconds, when present.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_redacted_even_from_text_that_is_not_a_url() {
        assert_eq!(redact_userinfo("https://prom.example/api"), "https://prom.example/api");
        assert_eq!(redact_userinfo("https://u:hunter2@prom.example/x"), "https://[redacted]@prom.example/x");
        assert_eq!(redact_userinfo("htp//u:hun/ter#2@prom"), "[redacted]@prom");
        assert_eq!(redact_userinfo("http://u:p@ss@h:9090"), "http://[redacted]@h:9090");
        assert_eq!(redact_userinfo("u:pw@"), "[redacted]@");
    }

    #[tokio::test]
    async fn a_url_with_userinfo_is_never_sent() {
        let client = HttpClient::new(Duration::from_secs(1)).unwrap();
        // Nothing listens there: were it sent, the error would be a connection failure.
        let request =
            Request::builder().uri("http://user:hunter2@127.0.0.1:9/x").body(Full::new(Bytes::new())).unwrap();
        let error = client.send(request).await.unwrap_err();
        assert!(matches!(&error, HttpError::Request(_)), "{error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
