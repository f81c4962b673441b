//! PagerDuty (REST API v2, token auth): whether the service named by the catalog's `pagerduty.com/service-id`
//! exists and is enabled, how many levels its escalation policy has, and who is on call now.

use super::{Failure, Limits, segment};
use crate::facts::{Fact, OnCall};
use crate::http::HttpClient;
use http::HeaderValue;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub const DEFAULT_API_URL: &str = "https://api.pagerduty.com";

/// A configured PagerDuty client.
pub struct PagerDuty {
    client: HttpClient,
    base_url: String,
    token: String,
    limits: Limits,
}

impl std::fmt::Debug for PagerDuty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDuty").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl PagerDuty {
    pub fn new(base_url: &str, token: &str, limits: Limits) -> anyhow::Result<Self> {
        Ok(Self {
            client: HttpClient::new(limits.timeout)?,
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            limits,
        })
    }

    /// The on-call fact of `service_id`: `Known` with `exists: false` when PagerDuty has no such service.
    pub async fn oncall(&self, service_id: &str) -> Fact<OnCall> {
        match self.read(service_id).await {
            Ok(oncall) => Fact::Known(oncall),
            Err(Failure::NotFound) => {
                Fact::Known(OnCall { service_id: service_id.to_string(), exists: false, ..OnCall::default() })
            }
            Err(failure) => Fact::Unavailable(format!("PagerDuty: {}", failure.reason())),
        }
    }

    async fn read(&self, service_id: &str) -> Result<OnCall, Failure> {
        #[derive(Deserialize)]
        struct ServiceReply {
            service: Service,
        }
        #[derive(Deserialize)]
        struct Service {
            status: String,
            escalation_policy: Reference,
        }
        #[derive(Deserialize)]
        struct Reference {
            id: String,
        }
        #[derive(Deserialize)]
        struct PolicyReply {
            escalation_policy: Policy,
        }
        #[derive(Deserialize)]
        struct Policy {
            #[serde(default)]
            escalation_rules: Vec<serde_json::Value>,
        }
        #[derive(Deserialize)]
        struct OncallsReply {
            oncalls: Vec<Oncall>,
        }
        #[derive(Deserialize)]
        struct Oncall {
            user: Summary,
            #[serde(default)]
            escalation_level: u32,
        }
        #[derive(Deserialize)]
        struct Summary {
            #[serde(default)]
            summary: String,
        }
        let id = segment(service_id);
        let service: ServiceReply = self.get(&format!("/services/{id}")).await?;
        let policy_id = segment(&service.service.escalation_policy.id);
        let policy: PolicyReply = match self.get(&format!("/escalation_policies/{policy_id}")).await {
            Err(Failure::NotFound) => {
                return Err(Failure::Unavailable("the service's escalation policy was not found".into()));
            }
            other => other?,
        };
        let oncalls: OncallsReply =
            self.get(&format!("/oncalls?escalation_policy_ids%5B%5D={policy_id}&limit=100")).await?;
        let mut on_call_now: Vec<String> = oncalls
            .oncalls
            .into_iter()
            .filter(|o| o.escalation_level <= 1)
            .map(|o| o.user.summary)
            .filter(|s| !s.is_empty())
            .collect();
        on_call_now.sort();
        on_call_now.dedup();
        Ok(OnCall {
            service_id: service_id.to_string(),
            exists: true,
            disabled: service.service.status == "disabled",
            escalation_levels: policy.escalation_policy.escalation_rules.len() as u32,
            on_call_now,
        })
    }

    /// GET `path` as JSON, with the token; rate limits and 5xx retried within the limits.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let auth = HeaderValue::from_str(&format!("Token token={}", self.token))
            .map_err(|_| Failure::Unavailable("the token is not a valid header value".into()))?;
        let headers = [
            (http::header::ACCEPT, HeaderValue::from_static("application/vnd.pagerduty+json;version=2")),
            (http::header::AUTHORIZATION, auth),
        ];
        let body =
            super::get("pagerduty", &self.client, &self.limits, &format!("{}{path}", self.base_url), &headers, None)
                .await?;
        serde_json::from_slice(&body).map_err(|e| Failure::Unavailable(format!("unexpected answer ({e})")))
    }
}

#[cfg(test)]
mod tests;
