//! Prometheus (HTTP API v1, an optional bearer token or Basic credentials): the alerting and recording rules it has loaded
//! (`GET /api/v1/rules`) and instant queries (`GET /api/v1/query`). Works with anything that serves the same API
//! (Thanos, Mimir, VictoriaMetrics, Grafana Cloud's Prometheus endpoint).

use super::{Failure, Limits};
use crate::facts::{Fact, PromRule};
use crate::http::HttpClient;
use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// The rules listing of a large installation runs to megabytes; it is read once per five minutes.
const RULES_MAX_BYTES: usize = 32 * 1024 * 1024;
/// An instant query's answer for one number.
const QUERY_MAX_BYTES: usize = 4 * 1024 * 1024;

/// How Prometheus is asked: with a bearer token (`SHIPSHAPE_PROMETHEUS_TOKEN`), or with the user and password
/// `SHIPSHAPE_PROMETHEUS_URL` held (taken out of the URL, sent as Basic credentials). `Debug` shows no secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Bearer(String),
    Basic { user: String, password: String },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer([redacted])"),
            Auth::Basic { user, .. } => write!(f, "Basic({user:?}, [redacted])"),
        }
    }
}

impl Auth {
    /// The `Authorization` header, marked sensitive.
    fn header(&self) -> Result<HeaderValue, String> {
        use base64::Engine;
        let text = match self {
            Auth::Bearer(token) => format!("Bearer {token}"),
            Auth::Basic { user, password } => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
            }
        };
        let mut value =
            HeaderValue::from_str(&text).map_err(|_| "the token is not a valid header value".to_string())?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// A configured Prometheus client.
pub struct Prometheus {
    client: HttpClient,
    base_url: String,
    auth: Option<Auth>,
    limits: Limits,
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prometheus").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// The envelope of every API answer.
#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

impl Prometheus {
    /// `base_url` holds no `user:password@` ([`crate::config`] takes it out as [`Auth::Basic`]).
    pub fn new(base_url: &str, auth: Option<Auth>, limits: Limits) -> anyhow::Result<Self> {
        Ok(Self {
            client: HttpClient::new(limits.timeout)?,
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
            limits,
        })
    }

    /// Every rule Prometheus has loaded, alerting and recording.
    pub async fn rules(&self) -> Fact<Vec<PromRule>> {
        #[derive(Deserialize)]
        struct Data {
            groups: Vec<Group>,
        }
        #[derive(Deserialize)]
        struct Group {
            name: String,
            #[serde(default)]
            rules: Vec<Rule>,
        }
        #[derive(Deserialize)]
        struct Rule {
            #[serde(rename = "type")]
            kind: String,
            name: String,
            #[serde(default)]
            labels: BTreeMap<String, String>,
            #[serde(default)]
            health: String,
        }
        // Active alerts are left out of the listing (Prometheus 2.49+; older ones ignore the parameter): only the
        // rules are needed, and a busy server's alerts can be most of the answer.
        match self.get::<Data>("/api/v1/rules?exclude_alerts=true", RULES_MAX_BYTES).await {
            Ok(data) => Fact::Known(
                data.groups
                    .into_iter()
                    .flat_map(|g| {
                        let group = g.name;
                        g.rules.into_iter().map(move |r| PromRule {
                            kind: r.kind,
                            name: r.name,
                            group: group.clone(),
                            labels: r.labels,
                            health: r.health,
                        })
                    })
                    .collect(),
            ),
            Err(why) => Fact::Unavailable(format!("Prometheus: {why}")),
        }
    }

    /// The first sample of an instant query (a scalar, or the first series of a vector); `None` when empty.
    pub async fn query(&self, promql: &str) -> Fact<Option<f64>> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(rename = "resultType")]
            result_type: String,
            result: serde_json::Value,
        }
        #[derive(Deserialize)]
        struct Sample {
            value: (f64, String),
        }
        let encoded = percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC);
        let data = match self.get::<Data>(&format!("/api/v1/query?query={encoded}"), QUERY_MAX_BYTES).await {
            Ok(data) => data,
            Err(why) => return Fact::Unavailable(format!("Prometheus: {why}")),
        };
        let sample = match data.result_type.as_str() {
            "vector" => {
                serde_json::from_value::<Vec<Sample>>(data.result).map(|s| s.into_iter().next().map(|s| s.value))
            }
            "scalar" => serde_json::from_value::<(f64, String)>(data.result).map(Some),
            other => {
                return Fact::Unavailable(format!(
                    "Prometheus: the query returned a {other}, not a single number (use an instant vector or scalar)"
                ));
            }
        };
        match sample {
            Ok(None) => Fact::Known(None),
            Ok(Some((_, text))) => match text.parse::<f64>() {
                Ok(value) => Fact::Known(Some(value)),
                Err(_) => Fact::Unavailable(format!("Prometheus: the sample `{text}` is not a number")),
            },
            Err(e) => Fact::Unavailable(format!("Prometheus: unexpected answer ({e})")),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, max_bytes: usize) -> Result<T, String> {
        let mut headers: Vec<(HeaderName, HeaderValue)> =
            vec![(http::header::ACCEPT, HeaderValue::from_static("application/json"))];
        if let Some(auth) = &self.auth {
            headers.push((http::header::AUTHORIZATION, auth.header()?));
        }
        let url = format!("{}{path}", self.base_url);
        let body = match super::get("prometheus", &self.client, &self.limits, &url, &headers, Some(max_bytes)).await {
            Ok(body) => body,
            Err(Failure::NotFound) => {
                return Err("not found (404): SHIPSHAPE_PROMETHEUS_URL should be the server's base URL, the one \
                            that serves /api/v1/"
                    .into());
            }
            // Prometheus explains a bad query in the usual envelope.
            Err(Failure::Refused { body, .. }) => body,
            Err(failure) => return Err(failure.reason()),
        };
        let envelope: Envelope<T> = serde_json::from_slice(&body).map_err(|e| format!("unexpected answer ({e})"))?;
        match (envelope.status.as_str(), envelope.data) {
            ("success", Some(data)) => Ok(data),
            _ => Err(format!(
                "the query failed ({}): {}",
                envelope.error_type.as_deref().unwrap_or("error"),
                envelope.error.as_deref().unwrap_or("no reason given")
            )),
        }
    }
}

#[cfg(test)]
mod tests;
