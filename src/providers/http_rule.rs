//! The generic `http` check: GET a URL built from the catalog entry, with headers that may hold named secrets
//! (`SHIPSHAPE_SECRET_<NAME>`), and keep the JSON answer for the check's jq assertion. The answer size and the wait
//! are limited per check; 404 is an answer (the rule fails), while refused credentials, rate limits, timeouts and
//! non-JSON answers make the rule `error` with the reason. Secret values never appear in a reason.

use super::{Failure, Limits};
use crate::facts::{Fact, HttpAnswer};
use crate::http::HttpClient;
use crate::policy::requests::HttpRequest;
use http::{HeaderName, HeaderValue};
use std::collections::BTreeMap;

/// The secrets `http` checks may use, by name. `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Secrets {
    /// Every `SHIPSHAPE_SECRET_<NAME>` variable (non-empty) among `vars`.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(
            vars.into_iter()
                .filter_map(|(k, v)| {
                    let name = k.strip_prefix("SHIPSHAPE_SECRET_")?;
                    (!name.is_empty() && !v.is_empty()).then(|| (name.to_string(), v))
                })
                .collect(),
        )
    }

    /// Every `SHIPSHAPE_SECRET_<NAME>` of the process environment (variables that are not Unicode are left out:
    /// `std::env::vars` would panic on them).
    pub fn from_env() -> Self {
        Self::from_vars(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))))
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// `text` with every secret value replaced by its name.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (name, value) in &self.0 {
            if value.len() >= 4 {
                text = text.replace(value.as_str(), &format!("<secret {name}>"));
            }
        }
        text
    }
}

/// Sends `http` checks' requests.
pub struct HttpRules {
    client: HttpClient,
    limits: Limits,
    secrets: Secrets,
}

impl std::fmt::Debug for HttpRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRules").field("secrets", &self.secrets).finish_non_exhaustive()
    }
}

impl HttpRules {
    pub fn new(secrets: Secrets, limits: Limits) -> anyhow::Result<Self> {
        Ok(Self { client: HttpClient::new(limits.timeout)?, limits, secrets })
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Sends one request and keeps the JSON answer.
    pub async fn fetch(&self, request: &HttpRequest) -> Fact<HttpAnswer> {
        let fact = self.send(request).await;
        match fact {
            Fact::Unavailable(why) => Fact::Unavailable(self.secrets.redact(&why)),
            other => other,
        }
    }

    async fn send(&self, request: &HttpRequest) -> Fact<HttpAnswer> {
        let mut headers = vec![(http::header::ACCEPT, HeaderValue::from_static("application/json"))];
        for (name, value) in &request.headers {
            let (Ok(name), Ok(mut value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            else {
                return Fact::Unavailable(format!("the header `{name}` has a value that cannot be sent"));
            };
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let limits = Limits { timeout: request.timeout, ..self.limits.clone() };
        let body =
            match super::get("http", &self.client, &limits, &request.url, &headers, Some(request.max_bytes)).await {
                Ok(body) => body,
                Err(Failure::NotFound) => return Fact::Known(HttpAnswer::NotFound),
                Err(failure) => return Fact::Unavailable(format!("GET {}: {}", shown(&request.url), failure.reason())),
            };
        match serde_json::from_slice(&body) {
            Ok(json) => Fact::Known(HttpAnswer::Json(json)),
            Err(e) => Fact::Unavailable(format!("GET {}: the answer is not JSON ({e})", shown(&request.url))),
        }
    }
}

/// A request's URL in a message: never with the `user:password@` a policy may have written into it (such a URL is
/// not sent at all).
fn shown(url: &str) -> String {
    crate::http::redact_userinfo(url)
}

#[cfg(test)]
mod tests;
