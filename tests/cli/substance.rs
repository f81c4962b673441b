//! Verdicts people can trust (issue 13), end to end on the default scorecard: a README and a security policy are
//! judged by what they say, a committed key by what it is, a health check by whose software it checks.

use crate::support::{
    PolicyFile, Repo, evaluate_json, gold_repo, message, rule, status, statuses, test_private_key_pem,
};
use serde_json::json;

/// Scores `repo` with the embedded scorecard (no catalog); returns the card.
fn score(repo: &Repo) -> serde_json::Value {
    evaluate_json(repo, &["--as-of", "2025-06-01"]).1
}

const BADGED_README: &str = r#"<p align="center">
  <img src="docs/logo.svg" alt="Payments" width="240">
</p>

# Payments

[![CI](https://github.com/acme/payments/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/payments/actions/workflows/ci.yml)
[![codecov](https://codecov.io/gh/acme/payments/branch/main/graph/badge.svg)](https://codecov.io/gh/acme/payments)
[![License: Apache 2.0](https://img.shields.io/badge/License-Apache_2.0-blue.svg)](LICENSE)
[![Go Report Card](https://goreportcard.com/badge/github.com/acme/payments)](https://goreportcard.com/report/github.com/acme/payments)

The payments service for the Acme shop.

[Documentation](docs/) · [Changelog](CHANGELOG.md) · [Contributing](CONTRIBUTING.md)
"#;

const GENUINE_README: &str = r#"# Payments

[![CI](https://github.com/acme/payments/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/payments/actions/workflows/ci.yml)

The payments service takes card payments for the Acme shop. It authorises a payment when the order is placed,
captures it when the order ships, and settles with the bank every night.

## Running it

```sh
docker compose up -d db
make run
```

The service listens on port 8080. `make test` runs the unit and integration tests.

## When it breaks

The runbook is in [docs/runbook.md](docs/runbook.md); the team answers in #payments.
"#;

#[test]
fn readme_of_badges_a_logo_and_one_sentence_fails_a_short_real_one_passes() {
    let repo = gold_repo("payments");
    repo.write("README.md", BADGED_README).commit("Badges");
    assert!(BADGED_README.len() > 300, "it passed the old 300-byte limit");
    let card = score(&repo);
    assert_eq!(status(&card, "readme"), "fail", "{}", statuses(&card));
    assert_eq!(
        message(&card, "readme"),
        "`README.md` has 7 words of prose, at least 40 expected (headings, badges, images, code, HTML and lines of \
         only links are not counted)"
    );
    repo.write("README.md", GENUINE_README).commit("Say what it does");
    let card = score(&repo);
    assert_eq!(status(&card, "readme"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "readme"), "found `README.md` with at least 40 words of prose");
}

const PRACTICES_SECURITY: &str = "# Security

Here are some good practices for working on this service:

- Keep dependencies up to date (Dependabot opens the pull requests).
- Never log card numbers or tokens.
- Read the OWASP Top 10: https://owasp.org/www-project-top-ten/
";

const REPORTING_SECURITY: &str = "# Security Policy

## Supported Versions

| Version | Supported          |
| ------- | ------------------ |
| 2.x     | :white_check_mark: |
| < 2.0   | :x:                |

## Reporting a Vulnerability

Please do not open a public issue. Report it privately through
[GitHub's security advisories](https://github.com/acme/payments/security/advisories/new) instead, and expect an
answer within three working days.
";

#[test]
fn security_policy_must_say_how_to_report() {
    let repo = gold_repo("payments");
    repo.write("SECURITY.md", PRACTICES_SECURITY).commit("Security advice");
    let card = score(&repo);
    assert_eq!(status(&card, "security-policy"), "fail", "{}", statuses(&card));
    assert_eq!(
        message(&card, "security-policy"),
        "the security policy names no way to report a vulnerability (looked for an email address, a link next to \
         \"report\", \"contact\" or \"disclose\", a `/security/advisories` link, private vulnerability reporting, a \
         bug bounty platform or a security.txt)"
    );
    repo.remove("SECURITY.md").write(".github/SECURITY.md", REPORTING_SECURITY).commit("Reporting channel");
    let card = score(&repo);
    assert_eq!(status(&card, "security-policy"), "pass", "{}", statuses(&card));
    assert!(message(&card, "security-policy").contains("`.github/SECURITY.md` line 12 matches"), "{}", statuses(&card));
}

/// A self-signed certificate and its public key (`openssl req -x509 -newkey ec`): nothing secret.
const CERTIFICATE_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUdwGzOM+4MH/7tWf3ox2DTC/UpWowCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNcGF5bWVudHMudGVzdDAeFw0yNjEyMDIyMDA3MDZaFw0zNjEx
MjkyMDA3MDZaMBgxFjAUBgNVBAMMDXBheW1lbnRzLnRlc3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAATYAzNJVdMAWk6V5VljdCa1oqAUN2V9dtq2U4Lz6w/jibZR
lcAkcYSDGq5yBsbVU0shj+Y9KECHnxRg8wVnoBwxo1MwUTAdBgNVHQ4EFgQUgXO1
zAowlw5HlzjYoMdxWT1D1kYwHwYDVR0jBBgwFoAUgXO1zAowlw5HlzjYoMdxWT1D
1kYwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA9gPI9QvxY/Wu
SzTLhs1L4jycfN/KYsLPduhDQyyDFiQCIQD24VbFOngUeaHSMOjmw7EA+yZKHrgM
sU1M80vllBb63Q==
-----END CERTIFICATE-----
";

const PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2AMzSVXTAFpOleVZY3QmtaKgFDdl
fXbatlOC8+sP44m2UZXAJHGEgxqucgbG1VNLIY/mPShAh58UYPMFZ6AcMQ==
-----END PUBLIC KEY-----
";

/// A configuration template whose key is a placeholder.
const PLACEHOLDER_CONFIG: &str = "tls:
  # Paste the key from the vault here.
  key: |
    -----BEGIN RSA PRIVATE KEY-----
    xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
    xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
    -----END RSA PRIVATE KEY-----
";

#[test]
fn certificates_public_keys_and_placeholders_are_not_committed_keys() {
    let repo = gold_repo("payments");
    repo.write("certs/ca.pem", CERTIFICATE_PEM)
        .write("keys/jwt-signing.pub.pem", PUBLIC_KEY_PEM)
        .write("config/tls.example.yaml", PLACEHOLDER_CONFIG)
        .commit("Certificates and a config template");
    let card = score(&repo);
    assert_eq!(status(&card, "no-committed-secrets"), "pass", "{}", statuses(&card));
    assert!(
        message(&card, "no-committed-secrets").ends_with(
            "not counted: 2 certificate or public-key block(s), 1 placeholder or incomplete private-key block(s)"
        ),
        "{}",
        message(&card, "no-committed-secrets")
    );
}

#[test]
fn a_real_key_fails_by_its_content_and_one_in_test_fixtures_is_reported_apart() {
    let repo = gold_repo("payments");
    // A key in a file with no telling extension is found by content too, when the file is one the rule reads.
    repo.write("internal/tls/testdata/server.key", &test_private_key_pem()).commit("Test fixture key");
    let card = score(&repo);
    assert_eq!(status(&card, "no-committed-secrets"), "pass", "{}", statuses(&card));
    let reported = message(&card, "no-committed-secrets");
    assert!(
        reported.contains(
            "in test fixtures (reported, not failing): `internal/tls/testdata/server.key` line 1 (PRIVATE KEY)"
        ),
        "{reported}"
    );
    assert_eq!(
        crate::support::rule_result(&card, "no-committed-secrets")["evidence"],
        json!([{"path": "internal/tls/testdata/server.key", "line": 1}])
    );

    repo.write("deploy/tls.pem", &format!("{CERTIFICATE_PEM}{}", test_private_key_pem())).commit("Production key");
    let card = score(&repo);
    assert_eq!(status(&card, "no-committed-secrets"), "fail", "{}", statuses(&card));
    assert!(
        message(&card, "no-committed-secrets").starts_with(
            "1 private key(s) committed: `deploy/tls.pem` line 12 (PRIVATE KEY); in test fixtures (reported, not \
             failing): `internal/tls/testdata/server.key` line 1 (PRIVATE KEY)"
        ),
        "{}",
        message(&card, "no-committed-secrets")
    );

    // A policy can make fixture keys fail too.
    let strict = PolicyFile::new(&[rule(
        "keys",
        "bronze",
        "{private_keys: {files: ['**/*.key'], fixtures: fail, fixture_dirs: [testdata]}}",
    )]);
    let (_, card) = evaluate_json(&repo, &["--policy", &strict.arg()]);
    assert_eq!(status(&card, "keys"), "fail", "{}", statuses(&card));
    assert_eq!(
        message(&card, "keys"),
        "1 private key(s) committed: `internal/tls/testdata/server.key` line 1 (PRIVATE KEY)"
    );
}

#[test]
fn key_stores_count_by_name() {
    let repo = gold_repo("payments");
    repo.write_bytes("deploy/keystore.p12", &[0x30, 0x82, 0x0a, 0x1f, 0x02, 0x01, 0x03, 0x00, 0xff]).commit("Keystore");
    let card = score(&repo);
    assert_eq!(status(&card, "no-committed-secrets"), "fail", "{}", statuses(&card));
    assert_eq!(
        message(&card, "no-committed-secrets"),
        "1 private key(s) committed: `deploy/keystore.p12` (key store, judged by its name)"
    );
}

const COMPOSE_WITH_DEV_DATABASE: &str = "services:
  api:
    build: .
    ports:
      - \"8080:8080\"
    environment:
      DATABASE_URL: postgres://payments:payments@db:5432/payments
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: payments
      POSTGRES_PASSWORD: payments
    healthcheck:
      test: [\"CMD-SHELL\", \"pg_isready -U payments\"]
      interval: 5s
      timeout: 3s
      retries: 10
";

#[test]
fn a_compose_healthcheck_counts_only_for_a_service_the_repository_builds() {
    let repo = gold_repo("payments");
    repo.remove("k8s/deployment.yaml").write("docker-compose.yml", COMPOSE_WITH_DEV_DATABASE).commit("Compose");
    let card = score(&repo);
    assert_eq!(status(&card, "health-check"), "fail", "{}", statuses(&card));
    assert!(
        message(&card, "health-check").contains(
            "no compose service of the repository's own (built with `build:`, or an image that is not a common \
             third-party one such as a database) declares a `healthcheck`: `docker-compose.yml`"
        ),
        "{}",
        message(&card, "health-check")
    );

    let own = COMPOSE_WITH_DEV_DATABASE.replace(
        "    depends_on:\n",
        "    healthcheck:\n      test: [\"CMD\", \"wget\", \"-q\", \"-O-\", \"http://localhost:8080/healthz\"]\n    depends_on:\n",
    );
    repo.write("docker-compose.yml", &own).commit("Health check of the API");
    let card = score(&repo);
    assert_eq!(status(&card, "health-check"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "health-check"), "`docker-compose.yml` passes the query");
}

/// Found in the corpus (spring-petclinic-microservices): the repository's own services run from images its build
/// publishes (`image: springcommunity/spring-petclinic-config-server`), not `build:`; their health checks count, a
/// registry-qualified database image's still does not.
#[test]
fn a_compose_healthcheck_counts_for_the_repositorys_own_image_not_for_a_registry_database() {
    let repo = gold_repo("payments");
    let compose = COMPOSE_WITH_DEV_DATABASE
        .replace("image: postgres:16-alpine", "image: docker.io/library/postgres:16@sha256:0123");
    repo.remove("k8s/deployment.yaml").write("docker-compose.yml", &compose).commit("Compose");
    assert_eq!(status(&score(&repo), "health-check"), "fail");
    let own = compose.replace(
        "    build: .\n",
        "    image: ghcr.io/acme/payments-api:1.4\n    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8080/actuator/health\"]\n",
    );
    repo.write("docker-compose.yml", &own).commit("The published image, with its health check");
    let card = score(&repo);
    assert_eq!(status(&card, "health-check"), "pass", "{}", statuses(&card));
}

/// Found in the corpus (zalando/skipper): the reporting form's URL two lines below "report", a bounty named in words.
#[test]
fn a_security_policy_with_the_form_a_paragraph_below_and_a_bounty_by_name_passes() {
    let repo = gold_repo("payments");
    repo.write(
        "SECURITY.md",
        "We fix security issues as quickly as we can.\n\nIf you would like to report a vulnerability, please fill in \
         this form:\n\nhttps://example.com/report-vulnerability\n",
    )
    .commit("Security policy");
    assert_eq!(status(&score(&repo), "security-policy"), "pass");
    repo.write("SECURITY.md", "Our bug bounty programme runs on HackerOne; ask us to join it.\n").commit("bounty");
    assert_eq!(status(&score(&repo), "security-policy"), "pass");
}
