//! `evaluate` reading linked tools: the `oncall` rule scored from a fake PagerDuty (REST API v2 response shapes)
//! reached through `SHIPSHAPE_PAGERDUTY_API_URL`, the `alerts` and `slo-recorded` rules and a `promql` check from a
//! fake Prometheus (HTTP API v1) through `SHIPSHAPE_PROMETHEUS_URL`, and `http` checks with named secrets.

use crate::support::{gold_repo, message, payments_catalog, run_in_env, status, statuses};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const TOKEN: &str = "pd-cli-secret";

/// An HTTP server answering each request with `answer(path, headers)` (`(status line, JSON body)`) on its own
/// thread until the test ends. Returns its base URL.
fn serve(answer: impl Fn(&str, &[String]) -> (&'static str, String) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header.trim().is_empty() {
                    break;
                }
                headers.push(header.trim().to_ascii_lowercase());
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_string();
            let (status, body) = answer(&path, &headers);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A PagerDuty that knows the service `PPAYMENTS` (escalation policy `PEP1`, one level) with `on_call` on call.
fn fake_pagerduty(on_call: &'static [&'static str]) -> String {
    serve(move |path, headers| {
        let authorized = headers.contains(&format!("authorization: token token={TOKEN}").to_ascii_lowercase());
        let oncalls: Vec<String> = on_call
            .iter()
            .map(|name| {
                format!(r#"{{"user": {{"type": "user_reference", "summary": "{name}"}}, "escalation_level": 1}}"#)
            })
            .collect();
        if !authorized {
            ("401 Unauthorized", r#"{"error": {"message": "Unauthorized", "code": 2006}}"#.to_string())
        } else if path == "/services/PPAYMENTS" {
            let service = r#"{"service": {"id": "PPAYMENTS", "status": "active", "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference"}}}"#;
            ("200 OK", service.to_string())
        } else if path == "/escalation_policies/PEP1" {
            ("200 OK", r#"{"escalation_policy": {"id": "PEP1", "escalation_rules": [{"id": "R1"}]}}"#.to_string())
        } else if path.starts_with("/oncalls?escalation_policy_ids%5B%5D=PEP1") {
            ("200 OK", format!(r#"{{"oncalls": [{}], "more": false}}"#, oncalls.join(",")))
        } else {
            ("404 Not Found", r#"{"error": {"message": "Not Found", "code": 2100}}"#.to_string())
        }
    })
}

const PROM_TOKEN: &str = "prom-cli-secret";

/// A Prometheus (HTTP API v1) with `rules`: `(type, name, service label)`, requiring `PROM_TOKEN` as bearer token;
/// instant queries answer `availability` for any query naming `payments`.
fn fake_prometheus(rules: &'static [(&'static str, &'static str, &'static str)], availability: &'static str) -> String {
    serve(move |path, headers| {
        if !headers.contains(&format!("authorization: bearer {PROM_TOKEN}")) {
            return ("401 Unauthorized", "Unauthorized".to_string());
        }
        if path == "/api/v1/rules?exclude_alerts=true" {
            let rules: Vec<String> = rules
                .iter()
                .map(|(kind, name, service)| {
                    format!(
                        r#"{{"type": "{kind}", "name": "{name}", "query": "up == 0", "labels": {{"service": "{service}"}}, "health": "ok", "evaluationTime": 0.001, "lastEvaluation": "2025-06-01T00:00:00Z"}}"#
                    )
                })
                .collect();
            let body = format!(
                r#"{{"status": "success", "data": {{"groups": [{{"name": "svc", "file": "rules.yaml", "interval": 30, "rules": [{}]}}]}}}}"#,
                rules.join(",")
            );
            ("200 OK", body)
        } else if path.starts_with("/api/v1/query?query=") && path.contains("payments") {
            let body = format!(
                r#"{{"status": "success", "data": {{"resultType": "vector", "result": [{{"metric": {{}}, "value": [1748736000, "{availability}"]}}]}}}}"#
            );
            ("200 OK", body)
        } else {
            ("404 Not Found", "404 page not found".to_string())
        }
    })
}

fn evaluate_with(url: &str, token: &str) -> crate::support::Out {
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    run_in_env(
        repo.path(),
        ["evaluate", "--catalog", &catalog.arg(), "--as-of", crate::evaluate::AS_OF, "--format", "json"],
        &[("SHIPSHAPE_PAGERDUTY_TOKEN", token), ("SHIPSHAPE_PAGERDUTY_API_URL", url)],
    )
}

#[test]
fn oncall_passes_when_pagerduty_has_someone_on_call() {
    let out = evaluate_with(&fake_pagerduty(&["Ada Lovelace"]), TOKEN);
    let card = out.json();
    assert_eq!(status(&card, "oncall"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "oncall"), "on call now: Ada Lovelace");
}

#[test]
fn oncall_fails_when_nobody_is_on_call() {
    let out = evaluate_with(&fake_pagerduty(&[]), TOKEN);
    let card = out.json();
    assert_eq!(status(&card, "oncall"), "fail", "{}", statuses(&card));
}

#[test]
fn a_refused_token_is_an_error_with_the_reason_and_never_shown() {
    let out = evaluate_with(&fake_pagerduty(&["Ada"]), "wrong-token");
    let card = out.json();
    assert_eq!(status(&card, "oncall"), "error", "{}", statuses(&card));
    assert_eq!(message(&card, "oncall"), "PagerDuty: the credentials were refused (401)");
    assert!(!out.stdout.contains("wrong-token") && !out.stderr.contains("wrong-token"));
}

#[test]
fn without_pagerduty_oncall_is_skipped_with_the_reason() {
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    let out = run_in_env(
        repo.path(),
        ["evaluate", "--catalog", &catalog.arg(), "--as-of", crate::evaluate::AS_OF, "--format", "json"],
        &[],
    );
    let card = out.json();
    assert_eq!(status(&card, "oncall"), "skipped");
    assert_eq!(message(&card, "oncall"), "PagerDuty is not configured (set SHIPSHAPE_PAGERDUTY_TOKEN)");
}

#[test]
fn a_malformed_pagerduty_url_is_a_configuration_error() {
    let out = evaluate_with("not a url", TOKEN);
    out.expect_code(2);
    assert_eq!(out.stderr, "shipshape: SHIPSHAPE_PAGERDUTY_API_URL: expected an http(s) URL, found \"not a url\"\n");
    assert!(!out.stderr.contains(TOKEN));
}

fn evaluate_in(
    repo: &crate::support::Repo,
    catalog: &crate::support::Dir,
    env: &[(&str, &str)],
) -> crate::support::Out {
    run_in_env(
        repo.path(),
        ["evaluate", "--catalog", &catalog.arg(), "--as-of", crate::evaluate::AS_OF, "--format", "json"],
        env,
    )
}

/// The gold repository without its alerting rules file: only Prometheus can tell whether alerts exist.
fn repo_without_alert_files() -> crate::support::Repo {
    crate::evaluate::gold_repo_without("payments", "monitoring/alerts.yaml")
}

#[test]
fn alerts_are_scored_from_prometheus_rules_naming_the_service() {
    let repo = repo_without_alert_files();
    let catalog = payments_catalog();
    let url = fake_prometheus(
        &[("alerting", "PaymentsDown", "payments"), ("recording", "slo:sli_error:ratio_rate5m", "payments")],
        "0.9995",
    );
    let out =
        evaluate_in(&repo, &catalog, &[("SHIPSHAPE_PROMETHEUS_URL", &url), ("SHIPSHAPE_PROMETHEUS_TOKEN", PROM_TOKEN)]);
    let card = out.json();
    assert_eq!(status(&card, "alerts"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "alerts"), "Prometheus alerting rules for `payments`: `PaymentsDown`");
    assert_eq!(status(&card, "slo-recorded"), "pass", "{}", statuses(&card));
    assert!(!out.stdout.contains(PROM_TOKEN) && !out.stderr.contains(PROM_TOKEN));

    // Rules for other services only: the rule fails, saying which labels were looked for.
    let url = fake_prometheus(&[("alerting", "SearchDown", "search")], "1");
    let card =
        evaluate_in(&repo, &catalog, &[("SHIPSHAPE_PROMETHEUS_URL", &url), ("SHIPSHAPE_PROMETHEUS_TOKEN", PROM_TOKEN)])
            .json();
    assert_eq!(status(&card, "alerts"), "fail", "{}", statuses(&card));
    assert!(message(&card, "alerts").contains("Prometheus has 0 alerting rule(s) labelled service=\"payments\""));
}

#[test]
fn without_prometheus_alerts_are_skipped_with_the_reason() {
    let card = evaluate_in(&repo_without_alert_files(), &payments_catalog(), &[]).json();
    assert_eq!(status(&card, "alerts"), "skipped", "{}", statuses(&card));
    assert_eq!(message(&card, "alerts"), "Prometheus is not configured (set SHIPSHAPE_PROMETHEUS_URL)");
    assert_eq!(message(&card, "slo-recorded"), "Prometheus is not configured (set SHIPSHAPE_PROMETHEUS_URL)");
    // Rule files in the repository still count on their own.
    let card = evaluate_in(&gold_repo("payments"), &payments_catalog(), &[]).json();
    assert_eq!(status(&card, "alerts"), "pass", "{}", statuses(&card));
}

#[test]
fn a_refused_or_unreachable_prometheus_is_an_error_with_the_reason() {
    let repo = repo_without_alert_files();
    let url = fake_prometheus(&[], "1");
    let out = evaluate_in(
        &repo,
        &payments_catalog(),
        &[("SHIPSHAPE_PROMETHEUS_URL", &url), ("SHIPSHAPE_PROMETHEUS_TOKEN", "nope-secret")],
    );
    let card = out.json();
    assert_eq!(status(&card, "alerts"), "error", "{}", statuses(&card));
    assert_eq!(message(&card, "alerts"), "Prometheus: the credentials were refused (401)");
    assert!(!out.stdout.contains("nope-secret"));
    let card = evaluate_in(&repo, &payments_catalog(), &[("SHIPSHAPE_PROMETHEUS_URL", "http://127.0.0.1:9")]).json();
    assert!(message(&card, "alerts").starts_with("Prometheus: unreachable (cannot connect"), "{}", statuses(&card));
    let out = evaluate_in(&repo, &payments_catalog(), &[("SHIPSHAPE_PROMETHEUS_URL", "prometheus:9090")]);
    out.expect_code(2);
    assert!(out.stderr.starts_with("shipshape: SHIPSHAPE_PROMETHEUS_URL: expected an http(s) URL"), "{out:?}");
}

/// A policy with a `promql` availability check and an `http` check against a SonarQube-like endpoint.
fn policy_with_queries(dir: &crate::support::Dir, sonar_url: &str) {
    dir.write(
        "policy.yaml",
        &format!(
            r#"apiVersion: shipshape.dev/v1
kind: Scorecard
tiers:
  1: {{requires: bronze}}
default_tier: 1
rules:
  - id: availability
    title: 30-day availability meets the SLO
    level: bronze
    remediation: Fix the errors.
    check:
      promql:
        query: 'avg_over_time(up{{job="{{{{ .metadata.name }}}}"}}[30d])'
        min: 0.999
        description: 30-day availability
  - id: quality-gate
    title: SonarQube quality gate passes
    level: bronze
    remediation: Fix the issues SonarQube reports.
    check:
      http:
        url: '{sonar_url}/api/qualitygates/project_status?projectKey={{{{ .metadata.name }}}}'
        headers:
          Authorization: 'Bearer {{{{ secret.SONAR_TOKEN }}}}'
        jq: '.projectStatus.status == "OK"'
        message: the SonarQube quality gate is not passing
"#
        ),
    );
}

fn fake_sonar(gate: &'static str) -> String {
    serve(move |path, headers| {
        if !headers.contains(&"authorization: bearer sonar-cli-secret".to_string()) {
            return ("401 Unauthorized", r#"{"errors": [{"msg": "Unauthorized"}]}"#.to_string());
        }
        if path == "/api/qualitygates/project_status?projectKey=payments" {
            ("200 OK", format!(r#"{{"projectStatus": {{"status": "{gate}", "conditions": []}}}}"#))
        } else {
            ("404 Not Found", r#"{"errors": [{"msg": "Project not found"}]}"#.to_string())
        }
    })
}

#[test]
fn promql_and_http_checks_score_from_the_tools() {
    let repo = gold_repo("payments");
    let catalog = payments_catalog();
    let policy = crate::support::Dir::new();
    policy_with_queries(&policy, &fake_sonar("OK"));
    let prometheus = fake_prometheus(&[], "0.9995");
    let env = [
        ("SHIPSHAPE_PROMETHEUS_URL", prometheus.as_str()),
        ("SHIPSHAPE_PROMETHEUS_TOKEN", PROM_TOKEN),
        ("SHIPSHAPE_SECRET_SONAR_TOKEN", "sonar-cli-secret"),
    ];
    let run = |env: &[(&str, &str)]| {
        run_in_env(
            repo.path(),
            [
                "evaluate",
                "--catalog",
                &catalog.arg(),
                "--policy",
                &policy.path().join("policy.yaml").display().to_string(),
                "--as-of",
                crate::evaluate::AS_OF,
                "--format",
                "json",
            ],
            env,
        )
    };
    let out = run(&env);
    let card = out.json();
    assert_eq!(status(&card, "availability"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "availability"), "30-day availability is 0.9995");
    assert_eq!(status(&card, "quality-gate"), "pass", "{}", statuses(&card));
    assert!(!out.stdout.contains("sonar-cli-secret") && !out.stderr.contains("sonar-cli-secret"));

    // Without the secret the http check is skipped, naming the variable; without Prometheus the query is too.
    let card = run(&[]).json();
    assert_eq!(status(&card, "quality-gate"), "skipped", "{}", statuses(&card));
    assert_eq!(message(&card, "quality-gate"), "the secret `SONAR_TOKEN` is not set (SHIPSHAPE_SECRET_SONAR_TOKEN)");
    assert_eq!(message(&card, "availability"), "Prometheus is not configured (set SHIPSHAPE_PROMETHEUS_URL)");

    // A failing gate fails with the rule's message; a refused secret is an error, never shown.
    policy_with_queries(&policy, &fake_sonar("ERROR"));
    let card = run(&env).json();
    assert_eq!(message(&card, "quality-gate"), "the SonarQube quality gate is not passing");
    let out = run(&[("SHIPSHAPE_SECRET_SONAR_TOKEN", "wrong-sonar-secret")]);
    let card = out.json();
    assert_eq!(status(&card, "quality-gate"), "error", "{}", statuses(&card));
    assert!(message(&card, "quality-gate").ends_with(": the credentials were refused (401)"));
    assert!(!out.stdout.contains("wrong-sonar-secret") && !out.stderr.contains("wrong-sonar-secret"));
}
