//! The collector against fake tools: what it asks for which policy, and what it shares between services.

use super::*;
use crate::diag::Diagnostics;
use crate::facts::HttpAnswer;
use axum::response::IntoResponse;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const POLICY: &str = r#"apiVersion: shipshape.dev/v1
kind: Scorecard
tiers:
  1: {requires: bronze}
default_tier: 1
rules:
  - id: alerts
    title: Alerts
    level: bronze
    remediation: Add alerts.
    check: {alert_rules: {}}
  - id: availability
    title: Availability
    level: bronze
    remediation: Fix it.
    check: {promql: {query: 'up{job="{{ .metadata.name }}"}', min: 1}}
  - id: gate
    title: Gate
    level: bronze
    remediation: Fix it.
    check:
      http:
        url: 'URL/status?key={{ .metadata.annotations["sonar/key"] }}'
        headers: {Authorization: 'Bearer {{ secret.SONAR }}'}
        jq: '.ok'
"#;

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A Prometheus and a JSON tool on one server, counting rule listings and recording what the tool was sent.
async fn fake() -> (String, Arc<AtomicUsize>, Seen) {
    let listings = Arc::new(AtomicUsize::new(0));
    let seen: Seen = Arc::default();
    let (l, s) = (listings.clone(), seen.clone());
    let app = axum::Router::new()
        .route(
            "/api/v1/rules",
            axum::routing::get(move || {
                l.fetch_add(1, Ordering::SeqCst);
                async {
                    axum::Json(json!({"status": "success", "data": {"groups": [{"name": "g", "rules": [
                        {"type": "alerting", "name": "PayDown", "labels": {"service": "payments"}, "health": "ok"},
                        {"type": "alerting", "name": "SearchDown", "labels": {"service": "search"}, "health": "ok"}]}]}}))
                }
            }),
        )
        .route(
            "/api/v1/query",
            axum::routing::get(|| async {
                axum::Json(json!({"status": "success", "data": {"resultType": "vector", "result": [
                    {"metric": {}, "value": [1, "1"]}]}}))
            }),
        )
        .route(
            "/status",
            axum::routing::get(move |headers: axum::http::HeaderMap, uri: axum::http::Uri| {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                s.lock().unwrap().push((uri.query().unwrap_or_default().to_string(), auth));
                async { axum::Json(json!({"ok": true})).into_response() }
            }),
        );
    let url = crate::providers::fake::serve(app).await;
    (url, listings, seen)
}

fn service(name: &str, key: &str) -> Service {
    let text = format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    \
         sonar/key: '{key}'\nspec:\n  owner: team\n"
    );
    Service::from_entity("catalog-info.yaml", &text, &mut Diagnostics::default()).expect("a valid entity")
}

fn providers(url: &str, secrets: &[(&str, &str)]) -> Providers {
    let config = ProvidersConfig {
        pagerduty: None,
        prometheus: Some((url.to_string(), None)),
        secrets: Secrets::from_vars(secrets.iter().map(|(k, v)| (format!("SHIPSHAPE_SECRET_{k}"), v.to_string()))),
    };
    Providers::new(&config, Limits::default()).unwrap()
}

#[tokio::test]
async fn rules_are_listed_once_for_many_services_and_filtered_to_each() {
    let (url, listings, seen) = fake().await;
    let policy = Policy::parse("p.yaml", &POLICY.replace("URL", &url), &mut Diagnostics::default()).unwrap();
    let providers = providers(&url, &[("SONAR", "sonar-secret")]);
    let now: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
    let payments = service("payments", "acme:pay ments");
    let mut facts = LinkedFacts::none_configured();
    providers.collect(&policy, Some(&payments), "payments", now, &mut facts).await;
    let Fact::Known(rules) = &facts.prometheus_rules else { panic!("{:?}", facts.prometheus_rules) };
    assert_eq!(rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["PayDown"], "only the service's rules");
    assert_eq!(facts.promql.get("up{job=\"payments\"}"), Some(&Fact::Known(Some(1.0))));
    let key = format!("GET {url}/status?key=acme%3Apay%20ments\nAuthorization: Bearer {{{{ secret.SONAR }}}}");
    assert_eq!(facts.http.get(&key), Some(&Fact::Known(HttpAnswer::Json(json!({"ok": true})))), "{:?}", facts.http);
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [("key=acme%3Apay%20ments".to_string(), "Bearer sonar-secret".to_string())]
    );

    // A second service a minute later shares the listing; after five minutes it is read again.
    let search = service("search", "acme:search");
    let mut facts = LinkedFacts::none_configured();
    providers.collect(&policy, Some(&search), "search", now + chrono::TimeDelta::minutes(1), &mut facts).await;
    assert!(matches!(&facts.prometheus_rules, Fact::Known(r) if r.len() == 1 && r[0].name == "SearchDown"));
    assert_eq!(listings.load(Ordering::SeqCst), 1);
    providers.collect(&policy, Some(&search), "search", now + chrono::TimeDelta::minutes(6), &mut facts).await;
    assert_eq!(listings.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_missing_secret_is_not_configured_and_nothing_is_sent() {
    let (url, _, seen) = fake().await;
    let policy = Policy::parse("p.yaml", &POLICY.replace("URL", &url), &mut Diagnostics::default()).unwrap();
    let mut facts = LinkedFacts::none_configured();
    let now = "2026-11-22T08:00:00Z".parse().unwrap();
    providers(&url, &[]).collect(&policy, Some(&service("payments", "k")), "payments", now, &mut facts).await;
    let fact = facts.http.values().next().expect("one http fact");
    assert_eq!(fact, &Fact::NotConfigured("the secret `SONAR` is not set (SHIPSHAPE_SECRET_SONAR)".into()));
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn the_digest_changes_with_what_would_be_asked() {
    let policy = Policy::parse("p.yaml", &POLICY.replace("URL", "https://x"), &mut Diagnostics::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = runtime.enter();
    let providers = Providers::new(&ProvidersConfig::default(), Limits::default()).unwrap();
    let a = providers.request_digest(&policy, Some(&service("payments", "k1")));
    assert_eq!(a, providers.request_digest(&policy, Some(&service("payments", "k1"))));
    assert_ne!(a, providers.request_digest(&policy, Some(&service("payments", "k2"))), "another project key");
    assert_ne!(a, providers.request_digest(&Policy::embedded(), Some(&service("payments", "k1"))), "another policy");
}

#[test]
fn configuration_comes_from_the_variables_and_names_a_bad_one() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let config = ProvidersConfig::from_vars(
        vars(&[("SHIPSHAPE_PAGERDUTY_TOKEN", "pd"), ("SHIPSHAPE_PROMETHEUS_URL", "http://prom:9090/")]),
        [("SHIPSHAPE_SECRET_A".to_string(), "1".to_string())],
    )
    .unwrap();
    assert_eq!(config.pagerduty, Some(("https://api.pagerduty.com".into(), "pd".into())));
    assert_eq!(config.prometheus, Some(("http://prom:9090".into(), None)));
    assert_eq!(config.secrets.get("A").as_deref(), Some("1"));
    let err = ProvidersConfig::from_vars(vars(&[("SHIPSHAPE_PROMETHEUS_URL", "prom:9090")]), []).unwrap_err();
    assert_eq!(err.0, "SHIPSHAPE_PROMETHEUS_URL");
    let none = ProvidersConfig::from_vars(vars(&[("SHIPSHAPE_PAGERDUTY_API_URL", "https://pd.example")]), []).unwrap();
    assert_eq!(none.pagerduty, None, "a URL without a token configures nothing");
}
