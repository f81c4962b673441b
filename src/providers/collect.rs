//! The linked tools that are not GitHub, configured once (from the environment for `evaluate`, from
//! [`crate::config::ServeConfig`] for `serve`), and the one place that fills their facts for a service, so the
//! command line and the App score the same way.

use super::Limits;
use super::http_rule::{HttpRules, Secrets};
use super::pagerduty::{self, PagerDuty};
use super::prometheus::{Auth, Prometheus};
use crate::catalog::Service;
use crate::facts::{Fact, LinkedFacts, PromRule};
use crate::policy::Policy;
use chrono::{DateTime, Utc};
use sha2::Digest;
use std::sync::Arc;

/// Prometheus rules are read once per this long and shared by every service scored meanwhile (a sweep).
const RULES_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Where the linked tools are and how to authenticate. `Debug` never shows a credential.
#[derive(Clone, Default)]
pub struct ProvidersConfig {
    /// PagerDuty REST base URL and token.
    pub pagerduty: Option<(String, String)>,
    /// Prometheus base URL (never with `user:password@`) and how to authenticate.
    pub prometheus: Option<(String, Option<Auth>)>,
    pub secrets: Secrets,
}

impl std::fmt::Debug for ProvidersConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL may carry `user:password@`: only its scheme and host are shown.
        let shown = |url: &String| match url.split_once("://") {
            Some((scheme, rest)) => format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, host)| host)),
            None => "[not a URL]".to_string(),
        };
        f.debug_struct("ProvidersConfig")
            .field("pagerduty", &self.pagerduty.as_ref().map(|(url, _)| shown(url)))
            .field("prometheus", &self.prometheus.as_ref().map(|(url, _)| shown(url)))
            .field("secrets", &self.secrets)
            .finish()
    }
}

impl ProvidersConfig {
    /// From environment variables (`get` reads one): `SHIPSHAPE_PAGERDUTY_TOKEN` / `_API_URL`,
    /// `SHIPSHAPE_PROMETHEUS_URL` / `_TOKEN`, and every `SHIPSHAPE_SECRET_<NAME>` among `all`. A malformed URL is an
    /// error naming its variable. Prometheus's `user:password@` become Basic credentials (with a token too, an
    /// error); the PagerDuty URL takes none.
    pub fn from_vars(
        get: impl Fn(&str) -> Option<String>,
        all: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, (&'static str, String)> {
        use crate::config::{
            PAGERDUTY_API_URL, PAGERDUTY_TOKEN, PROMETHEUS_TOKEN, PROMETHEUS_URL, parse_http_url, parse_tool_url,
        };
        let get = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let url = |name: &'static str| -> Result<Option<String>, (&'static str, String)> {
            get(name).map(|u| parse_http_url(&u).map_err(|problem| (name, problem))).transpose()
        };
        let pagerduty_url = url(PAGERDUTY_API_URL)?.unwrap_or_else(|| pagerduty::DEFAULT_API_URL.to_string());
        let pagerduty = get(PAGERDUTY_TOKEN).map(|token| (pagerduty_url, token));
        let prometheus = match get(PROMETHEUS_URL) {
            None => None,
            Some(value) => {
                let (url, credentials) = parse_tool_url(&value).map_err(|problem| (PROMETHEUS_URL, problem))?;
                let auth = match (credentials, get(PROMETHEUS_TOKEN)) {
                    (Some(_), Some(_)) => {
                        let problem = format!(
                            "holds a user name and password (`user:password@`) and {PROMETHEUS_TOKEN} is set too; \
                             give one of them"
                        );
                        return Err((PROMETHEUS_URL, problem));
                    }
                    (Some(c), None) => Some(Auth::Basic { user: c.user, password: c.password.expose().to_string() }),
                    (None, token) => token.map(Auth::Bearer),
                };
                Some((url, auth))
            }
        };
        Ok(Self { pagerduty, prometheus, secrets: Secrets::from_vars(all) })
    }
}

type RulesListing = (DateTime<Utc>, Fact<Vec<PromRule>>);

/// The configured clients.
#[derive(Debug)]
pub struct Providers {
    pub pagerduty: Option<PagerDuty>,
    pub prometheus: Option<Prometheus>,
    pub http: HttpRules,
    /// The last rules listing Prometheus gave, and when.
    rules: tokio::sync::Mutex<Option<RulesListing>>,
}

impl Providers {
    /// The clients, sharing one [`super::Breaker`] (the system clock's, unless `limits` brings one).
    pub fn new(config: &ProvidersConfig, mut limits: Limits) -> anyhow::Result<Self> {
        if limits.breaker.is_none() {
            limits.breaker = Some(Arc::new(super::Breaker::new(Arc::new(crate::clock::SystemClock))));
        }
        let pagerduty = match &config.pagerduty {
            Some((url, token)) => Some(PagerDuty::new(url, token, limits.clone())?),
            None => None,
        };
        let prometheus = match &config.prometheus {
            Some((url, auth)) => Some(Prometheus::new(url, auth.clone(), limits.clone())?),
            None => None,
        };
        Ok(Self {
            pagerduty,
            prometheus,
            http: HttpRules::new(config.secrets.clone(), limits)?,
            rules: tokio::sync::Mutex::new(None),
        })
    }

    /// A short digest of what [`Self::collect`] would ask for this service (PagerDuty service, queries, requests),
    /// for caching the facts: a changed catalog entry or policy asks again.
    pub fn request_digest(&self, policy: &Policy, service: Option<&Service>) -> String {
        let entity = service.map(|s| &s.entity);
        let (http, promql) = policy.linked_requests();
        let mut hasher = sha2::Sha256::new();
        hasher.update(service.and_then(|s| s.pagerduty_service.as_deref()).unwrap_or_default());
        hasher.update([0]);
        hasher.update(service.map(|s| s.name.as_str()).unwrap_or_default());
        for key in
            promql.iter().filter_map(|q| q.key(entity).ok()).chain(http.iter().filter_map(|h| h.key(entity).ok()))
        {
            hasher.update([0]);
            hasher.update(key);
        }
        hasher.update([u8::from(policy.reads_prometheus_rules())]);
        let digest = hasher.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Fills the PagerDuty, Prometheus and `http` facts that `policy` needs for one service. `name` is the name
    /// Prometheus labels carry ([`crate::engine::service_name`]); `now` dates the shared rules listing.
    pub async fn collect(
        &self,
        policy: &Policy,
        service: Option<&Service>,
        name: &str,
        now: DateTime<Utc>,
        facts: &mut LinkedFacts,
    ) {
        if let (Some(pagerduty), Some(id)) = (&self.pagerduty, service.and_then(|s| s.pagerduty_service.as_deref())) {
            facts.oncall = pagerduty.oncall(id).await;
        }
        let entity = service.map(|s| &s.entity);
        let (http, promql) = policy.linked_requests();
        if let Some(prometheus) = &self.prometheus {
            facts.prometheus_rules = if policy.reads_prometheus_rules() {
                match self.rules_at(prometheus, now).await {
                    Fact::Known(rules) => {
                        Fact::Known(rules.into_iter().filter(|r| r.labels.values().any(|v| v == name)).collect())
                    }
                    other => other,
                }
            } else {
                Fact::Known(Vec::new())
            };
            for spec in promql {
                if let Ok(query) = spec.key(entity)
                    && !facts.promql.contains_key(&query)
                {
                    let value = prometheus.query(&query).await;
                    facts.promql.insert(query, value);
                }
            }
        }
        let secrets = self.http.secrets();
        for spec in http {
            let Ok(key) = spec.key(entity) else { continue };
            if facts.http.contains_key(&key) {
                continue;
            }
            let fact = match spec.request(entity, &|name| secrets.get(name)) {
                Ok(request) => self.http.fetch(&request).await,
                Err(e @ crate::policy::template::RenderError::SecretNotSet(_)) => Fact::NotConfigured(e.to_string()),
                Err(e) => Fact::Unavailable(e.to_string()),
            };
            facts.http.insert(key, fact);
        }
    }

    async fn rules_at(&self, prometheus: &Prometheus, now: DateTime<Utc>) -> Fact<Vec<PromRule>> {
        let mut memo = self.rules.lock().await;
        if let Some((at, rules)) = memo.as_ref()
            && now - *at < RULES_TTL
            && *at <= now
        {
            return rules.clone();
        }
        let rules = prometheus.rules().await;
        // Only answers are shared; a failure is asked again for the next service.
        if matches!(rules, Fact::Known(_)) {
            *memo = Some((now, rules.clone()));
        }
        rules
    }
}

#[cfg(test)]
mod tests;
