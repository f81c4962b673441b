//! The requests to linked tools that a policy's `http` and `promql` checks make, compiled. The engine renders them to
//! find the fact it needs, the collectors ([`crate::providers`]) render them to fetch it: both through [`Self::key`],
//! so they agree on which answer belongs to which check.

use super::template::{Encoding, RenderError, Template};
use crate::jq::Jq;
use serde_json::Value;
use std::time::Duration;

/// Default and largest answer an `http` check reads.
pub const HTTP_DEFAULT_MAX_BYTES: usize = 1024 * 1024;
pub const HTTP_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Default and longest wait of an `http` check.
pub const HTTP_DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const HTTP_MAX_TIMEOUT_SECONDS: u32 = 60;

#[derive(Debug)]
pub struct HttpSpec {
    pub url: Template,
    /// Header name (validated) and value template.
    pub headers: Vec<(String, Template)>,
    pub jq: Jq,
    pub message: Option<String>,
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// An `http` request for one service, ready to send. Its `Debug` never shows header values (they may hold secrets).
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest").field("url", &self.url).field("headers", &names).finish_non_exhaustive()
    }
}

fn no_secret(_: &str) -> Option<String> {
    None
}

impl HttpSpec {
    /// The fact key for this check and service: the method, the rendered URL and the headers with secrets by name.
    pub fn key(&self, entity: Option<&Value>) -> Result<String, RenderError> {
        let url = self.url.render(entity, &no_secret, Encoding::Url)?;
        let mut key = format!("GET {url}");
        for (name, value) in &self.headers {
            let shown = value.render(entity, &|s| Some(format!("{{{{ secret.{s} }}}}")), Encoding::Plain)?;
            key.push_str(&format!("\n{name}: {shown}"));
        }
        Ok(key)
    }

    /// The request to send for a service, with secrets from `secret`.
    pub fn request(
        &self,
        entity: Option<&Value>,
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HttpRequest, RenderError> {
        let url = self.url.render(entity, &no_secret, Encoding::Url)?;
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| Ok((name.clone(), value.render(entity, secret, Encoding::Plain)?)))
            .collect::<Result<_, RenderError>>()?;
        Ok(HttpRequest { url, headers, max_bytes: self.max_bytes, timeout: self.timeout })
    }

    /// The URL for messages (no secrets can be in it; a `user:password@` written in the policy is redacted).
    pub fn shown_url(&self, entity: Option<&Value>) -> String {
        let url = self.url.render(entity, &no_secret, Encoding::Url).unwrap_or_else(|_| self.url.source().to_string());
        crate::http::redact_userinfo(&url)
    }
}

#[derive(Debug)]
pub struct PromqlSpec {
    pub query: Template,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub description: Option<String>,
}

impl PromqlSpec {
    /// The query for a service, which is also its fact key.
    pub fn key(&self, entity: Option<&Value>) -> Result<String, RenderError> {
        self.query.render(entity, &no_secret, Encoding::Plain)
    }
}
