//! Linked-tool checks scored from known, missing and unavailable facts: GitHub security, CODEOWNERS errors,
//! Prometheus rules and queries, and `http` checks.

use super::*;
use crate::facts::{CodeownersError, CodeownersErrors, HttpAnswer, PromRule};

fn prom_rule(kind: &str, name: &str, labels: &[(&str, &str)]) -> PromRule {
    PromRule {
        kind: kind.into(),
        name: name.into(),
        group: "g".into(),
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        health: "ok".into(),
    }
}

fn message<'a>(card: &'a Scorecard, id: &str) -> (Status, &'a str) {
    let r = card.rule(id).unwrap();
    (r.status, r.message.as_str())
}

#[test]
fn vulnerabilities_count_dependabot_code_scanning_and_secret_scanning() {
    let p = policy(&rule("vulns", "bronze", "{vulnerability_alerts: {}}"));
    let mut run = Run::new(&p, repo(&[]));
    run.linked.vulnerability_alerts = Fact::Known(Some(AlertCounts::default()));
    run.linked.code_scanning_alerts = Fact::Known(Some(AlertCounts { high: 2, low: 4, ..AlertCounts::default() }));
    run.linked.secret_scanning_alerts = Fact::Known(Some(0));
    assert_eq!(message(&run.card(), "vulns"), (Status::Fail, "open code scanning alerts: 2 high (at most 0)"));

    // Code scanning not set up and secret scanning disabled are facts; nothing open passes.
    run.linked.code_scanning_alerts = Fact::Known(None);
    run.linked.secret_scanning_alerts = Fact::Known(None);
    let card = run.card();
    assert_eq!(
        message(&card, "vulns"),
        (
            Status::Pass,
            "open Dependabot alerts: 0 critical, 0 high, 0 medium, 0 low; code scanning is not set up; secret \
             scanning is disabled"
        )
    );
    run.linked.secret_scanning_alerts = Fact::Known(Some(1));
    assert_eq!(
        message(&run.card(), "vulns"),
        (Status::Fail, "1 open secret scanning alert(s) (at most 0): rotate the leaked secrets")
    );
    // An unreadable part leaves the rule undecided unless another part already fails.
    run.linked.secret_scanning_alerts = Fact::Unavailable("cannot read secret scanning alerts: 502".into());
    assert_eq!(message(&run.card(), "vulns"), (Status::Error, "cannot read secret scanning alerts: 502"));
    run.linked.vulnerability_alerts = Fact::Known(Some(AlertCounts { critical: 1, ..AlertCounts::default() }));
    assert_eq!(message(&run.card(), "vulns").0, Status::Fail);
    // Opting out of code scanning and secret scanning reads Dependabot only.
    let p = policy(&rule("vulns", "bronze", "{vulnerability_alerts: {code_scanning: false, max_secret_alerts: null}}"));
    let mut run = Run::new(&p, repo(&[]));
    run.linked.vulnerability_alerts = Fact::Known(Some(AlertCounts::default()));
    assert_eq!(message(&run.card(), "vulns").0, Status::Pass);
}

#[test]
fn github_codeowners_errors_count_only_for_the_commit_scored() {
    let p = policy(&rule("owners", "bronze", "{codeowners: {}}"));
    let mut facts = repo(&[(".github/CODEOWNERS", "* @acme/ghosts\n")]);
    facts.commit = Some("c1".into());
    let mut run = Run::new(&p, facts);
    assert_eq!(message(&run.card(), "owners").0, Status::Pass);
    let error = CodeownersError {
        path: ".github/CODEOWNERS".into(),
        line: 1,
        column: 3,
        kind: "Unknown owner".into(),
        message: "Unknown owner on line 1: make sure @acme/ghosts exists and has write access\n\n  * @acme/ghosts\n"
            .into(),
    };
    run.linked.codeowners_errors = Fact::Known(CodeownersErrors { commit: "c0".into(), errors: vec![error.clone()] });
    assert_eq!(message(&run.card(), "owners").0, Status::Pass, "another commit's errors do not apply");
    run.linked.codeowners_errors = Fact::Known(CodeownersErrors { commit: "c1".into(), errors: vec![error] });
    let card = run.card();
    assert_eq!(
        message(&card, "owners"),
        (
            Status::Fail,
            "GitHub reports `.github/CODEOWNERS` line 1: Unknown owner on line 1: make sure @acme/ghosts exists and \
             has write access"
        )
    );
    assert_eq!(card.rule("owners").unwrap().evidence[0].line, Some(1));
    // Unreadable errors leave our own reading in charge.
    run.linked.codeowners_errors = Fact::Unavailable("cannot read".into());
    assert_eq!(message(&run.card(), "owners").0, Status::Pass);
}

#[test]
fn prometheus_rules_must_name_the_service_by_label() {
    let p = policy(
        &[
            rule("alerts", "bronze", "{alert_rules: {}}"),
            rule("slo", "bronze", "{recording_rules: {name_matches: '^slo:', min: 1}}"),
            rule("two", "bronze", "{alert_rules: {min: 2, labels: [team]}}"),
        ]
        .concat(),
    );
    let mut run = Run::new(&p, repo(&[]));
    run.service = Some(service(None));
    let card = run.card();
    assert_eq!(message(&card, "alerts"), (Status::Skipped, crate::facts::PROMETHEUS_NOT_CONFIGURED));
    run.linked.prometheus_rules = Fact::Known(vec![
        prom_rule("alerting", "PaymentsDown", &[("service", "payments")]),
        prom_rule("alerting", "OtherDown", &[("service", "other")]),
        prom_rule("recording", "slo:sli_error:ratio_rate5m", &[("sloth_service", "payments")]),
        prom_rule("recording", "job:requests:rate5m", &[("job", "payments")]),
    ]);
    let card = run.card();
    assert_eq!(message(&card, "alerts"), (Status::Pass, "Prometheus alerting rules for `payments`: `PaymentsDown`"));
    assert_eq!(
        message(&card, "slo"),
        (Status::Pass, "Prometheus recording rules for `payments`: `slo:sli_error:ratio_rate5m`")
    );
    assert_eq!(
        message(&card, "two"),
        (Status::Fail, "Prometheus has 0 alerting rule(s) labelled team=\"payments\", 2 expected")
    );
    // Without a catalog entry the repository's name is the service's name.
    run.service = None;
    run.linked.prometheus_rules = Fact::Known(vec![prom_rule("alerting", "Down", &[("app", "payments")])]);
    assert_eq!(message(&run.card(), "alerts").0, Status::Pass, "acme/payments is `payments`");
    run.linked.prometheus_rules = Fact::Unavailable("Prometheus: answered 503".into());
    assert_eq!(message(&run.card(), "alerts"), (Status::Error, "Prometheus: answered 503"));
}

#[test]
fn promql_compares_the_first_sample_with_its_bounds() {
    let p = policy(&rule(
        "availability",
        "bronze",
        "{promql: {query: 'avg_over_time(up{job=\"{{ .metadata.name }}\"}[30d])', min: 0.999, description: 30-day availability}}",
    ));
    let mut run = Run::new(&p, repo(&[]));
    run.service = Some(service(None));
    assert_eq!(message(&run.card(), "availability"), (Status::Skipped, crate::facts::PROMETHEUS_NOT_CONFIGURED));
    run.linked.prometheus_rules = Fact::Known(vec![]);
    let query = "avg_over_time(up{job=\"payments\"}[30d])".to_string();
    run.linked.promql.insert(query.clone(), Fact::Known(Some(0.9995)));
    assert_eq!(message(&run.card(), "availability"), (Status::Pass, "30-day availability is 0.9995"));
    run.linked.promql.insert(query.clone(), Fact::Known(Some(0.98)));
    assert_eq!(
        message(&run.card(), "availability"),
        (Status::Fail, "30-day availability is 0.98, at least 0.999 expected")
    );
    run.linked.promql.insert(query.clone(), Fact::Known(None));
    assert_eq!(
        message(&run.card(), "availability"),
        (Status::Fail, "30-day availability: Prometheus returned no sample")
    );
    // A failed rules listing does not hide a query that was answered.
    run.linked.prometheus_rules = Fact::Unavailable("Prometheus: answered 503".into());
    assert_eq!(message(&run.card(), "availability").0, Status::Fail);
    run.linked.promql.insert(query, Fact::Unavailable("Prometheus: the query failed (bad_data): x".into()));
    assert_eq!(message(&run.card(), "availability").0, Status::Error);
    run.service = None;
    assert_eq!(
        message(&run.card(), "availability"),
        (
            Status::Fail,
            "cannot build the PromQL query: no catalog entry for this repository to fill it from (add \
             services/<name>.yaml to the catalog)"
        )
    );
}

#[test]
fn http_checks_test_the_answer_with_jq() {
    let p = policy(&rule(
        "sonar",
        "bronze",
        "{http: {url: 'https://sonar.example.com/api/qualitygates/project_status?projectKey={{ .metadata.annotations[\"sonarqube.org/project-key\"] }}', \
          headers: {Authorization: 'Bearer {{ secret.SONAR_TOKEN }}'}, jq: '.projectStatus.status == \"OK\"', message: quality gate failed}}",
    ));
    let mut run = Run::new(&p, repo(&[]));
    let mut svc = service(None);
    svc.entity["metadata"]["annotations"] = json!({"sonarqube.org/project-key": "acme:pay ments"});
    run.service = Some(svc);
    let url = "https://sonar.example.com/api/qualitygates/project_status?projectKey=acme%3Apay%20ments";
    assert_eq!(
        message(&run.card(), "sonar"),
        (Status::Skipped, &*format!("GET {url} was not requested in this evaluation"))
    );
    let key = format!("GET {url}\nAuthorization: Bearer {{{{ secret.SONAR_TOKEN }}}}");
    run.linked.http.insert(key.clone(), Fact::Known(HttpAnswer::Json(json!({"projectStatus": {"status": "OK"}}))));
    assert_eq!(
        message(&run.card(), "sonar"),
        (Status::Pass, &*format!("GET {url}: `.projectStatus.status == \"OK\"` holds"))
    );
    run.linked.http.insert(key.clone(), Fact::Known(HttpAnswer::Json(json!({"projectStatus": {"status": "ERROR"}}))));
    assert_eq!(message(&run.card(), "sonar"), (Status::Fail, "quality gate failed"));
    run.linked.http.insert(key.clone(), Fact::Known(HttpAnswer::NotFound));
    assert_eq!(message(&run.card(), "sonar"), (Status::Fail, &*format!("GET {url} answered 404 Not Found")));
    run.linked
        .http
        .insert(key, Fact::NotConfigured("the secret `SONAR_TOKEN` is not set (SHIPSHAPE_SECRET_SONAR_TOKEN)".into()));
    assert_eq!(message(&run.card(), "sonar").0, Status::Skipped);
    // A catalog entry without the annotation fails, saying which value is missing.
    run.service = Some(service(None));
    assert_eq!(
        message(&run.card(), "sonar"),
        (
            Status::Fail,
            "cannot build the request: `{{ .metadata.annotations[\"sonarqube.org/project-key\"] }}` has no value in \
             the catalog entry"
        )
    );
}

#[test]
fn request_templates_are_validated_with_positions() {
    let text = format!(
        "{HEADER}{}",
        [
            rule("a", "bronze", "{http: {url: 'ftp://x/{{ .a }}', jq: '.ok'}}"),
            rule("b", "bronze", "{http: {url: 'https://x/?t={{ secret.T }}', jq: '.ok'}}"),
            rule("c", "bronze", "{http: {url: 'https://x/', jq: '.ok', timeout_seconds: 600}}"),
            rule("d", "bronze", "{promql: {query: 'up{job=\"{{ .x | ] }}\"}'}}"),
            rule("e", "bronze", "{http: {url: 'https://x/', headers: {'bad header': 'v'}, jq: '.ok'}}"),
            rule("f", "bronze", "{recording_rules: {name_matches: '(', labels: []}}"),
        ]
        .concat()
    );
    let mut diags = Diagnostics::default();
    assert!(Policy::parse("p.yaml", &text, &mut diags).is_none());
    let shown = diags.to_string();
    for expected in [
        "must start with `https://` or `http://`",
        "secrets are only allowed in headers",
        "`timeout_seconds` must be between 1 and 60",
        "a `promql` check needs `min`, `max` or both",
        "`bad header` is not a valid header name",
        "`labels` needs at least one label name",
        "invalid regular expression",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
}

#[test]
fn release_age_counts_days_since_the_last_release() {
    let p = policy(&rule("fresh", "bronze", "{release_age: {max_days: 30}}"));
    let mut run = Run::new(&p, repo(&[]));
    assert_eq!(message(&run.card(), "fresh").0, Status::Skipped);
    run.linked.last_release = Fact::Known(None);
    assert_eq!(
        message(&run.card(), "fresh"),
        (Status::Fail, "no release tag (like `v1.2.3`) on GitHub: nothing shows the service ships")
    );
    let release = |date: &str| crate::facts::Release {
        tag: "v1.4.0".into(),
        commit: "abc".into(),
        date: format!("{date}T12:00:00Z").parse().unwrap(),
    };
    run.linked.last_release = Fact::Known(Some(release("2026-10-23")));
    assert_eq!(message(&run.card(), "fresh"), (Status::Pass, "last release `v1.4.0` on 2026-10-23, 30 day(s) ago"));
    run.linked.last_release = Fact::Known(Some(release("2026-10-22")));
    assert_eq!(
        message(&run.card(), "fresh"),
        (Status::Fail, "the last release, `v1.4.0` (2026-10-22), is 31 days old (at most 30)")
    );
}
