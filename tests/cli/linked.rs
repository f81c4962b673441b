//! `evaluate` reading linked tools: the `oncall` rule scored from a fake PagerDuty (REST API v2 response shapes)
//! reached through `SHIPSHAPE_PAGERDUTY_API_URL`.

use crate::support::{gold_repo, message, payments_catalog, run_in_env, status, statuses};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const TOKEN: &str = "pd-cli-secret";

/// A PagerDuty that knows the service `PPAYMENTS` (escalation policy `PEP1`, one level) with `on_call` on call;
/// answers every request on its own thread until the test ends. Returns its base URL.
fn fake_pagerduty(on_call: &'static [&'static str]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut authorized = false;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header.trim().is_empty() {
                    break;
                }
                authorized |= header.trim().eq_ignore_ascii_case(&format!("authorization: Token token={TOKEN}"));
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_string();
            let oncalls: Vec<String> = on_call
                .iter()
                .map(|name| {
                    format!(r#"{{"user": {{"type": "user_reference", "summary": "{name}"}}, "escalation_level": 1}}"#)
                })
                .collect();
            let (status, body) = if !authorized {
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
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
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
    assert_eq!(message(&card, "oncall"), "PagerDuty: the token was refused (401)");
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
