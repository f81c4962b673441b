//! Verdicts on substance (issue 13): documents judged by their words of prose, security policies by their reporting
//! channel, private keys by what their blocks decode to, health checks by whose software they check.

use super::*;
use crate::engine::checks::keys::{Found, Scan, scan};
use crate::engine::checks::words::prose_words;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};

/// A title, two badges, a logo, one sentence and a line of links: 7 words of prose.
const PLACEHOLDER_README: &str = r#"# Payments

[![CI](https://github.com/acme/payments/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/payments/actions)
[![Coverage](https://codecov.io/gh/acme/payments/branch/main/graph/badge.svg)](https://codecov.io/gh/acme/payments)

<p align="center"><img src="docs/logo.png" width="200" alt="Payments logo"></p>

Payments takes card payments for the shop.

```sh
make run
```

[Docs](docs/) | [Runbook](docs/runbook.md) | [Dashboards](https://grafana.acme.example/d/payments)
"#;

/// Short but genuine: what it does, how to run it, where to look.
const SHORT_README: &str = r#"# Payments

[![CI](https://github.com/acme/payments/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/payments/actions)

Payments takes card payments for the shop: it authorises them with the card network, captures them when the
order ships and settles with the bank every night.

## Running locally

```sh
make run
```

It listens on port 8080; `make test` runs the tests against a local Postgres.

## Operations

- [Runbook](docs/runbook.md)
- Dashboards are in [Grafana](https://grafana.acme.example/d/payments); alerts page #payments-oncall.
"#;

/// TEST ONLY: an OpenSSH Ed25519 key made for these tests (`ssh-keygen -t ed25519 -N ""`); it guards nothing.
const TEST_OPENSSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBGsLQX7fCvqGgay87zxeK7CvQjM+NC6YZxodY7nwqPPQAAAJh1OhsddTob
HQAAAAtzc2gtZWQyNTUxOQAAACBGsLQX7fCvqGgay87zxeK7CvQjM+NC6YZxodY7nwqPPQ
AAAECN21FOXKEpBXzB6ebwpJUGiblDIsSQQf9tf0GVw436GUawtBft8K+oaBrLzvPF4rsK
9CMz40LphnGh1jufCo89AAAAE1RFU1QgT05MWSBzaGlwc2hhcGUBAg==
-----END OPENSSH PRIVATE KEY-----
";

/// A self-signed certificate (`openssl req -x509 -newkey ec`), its public key and a certificate request.
const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
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
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2AMzSVXTAFpOleVZY3QmtaKgFDdl
fXbatlOC8+sP44m2UZXAJHGEgxqucgbG1VNLIY/mPShAh58UYPMFZ6AcMQ==
-----END PUBLIC KEY-----
-----BEGIN CERTIFICATE REQUEST-----
MIHSMHoCAQAwGDEWMBQGA1UEAwwNcGF5bWVudHMudGVzdDBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABNgDM0lV0wBaTpXlWWN0JrWioBQ3ZX122rZTgvPrD+OJtlGV
wCRxhIMarnIGxtVTSyGP5j0oQIefFGDzBWegHDGgADAKBggqhkjOPQQDAgNIADBF
AiBNQCsZQqLvqGa+5dP8BODgicCEPycdx7n2CUC2P8nsagIhAMvT8EvuHUJDQ0b4
tqU5ZYL59VO9LM0SMeJOgAH1N+/E
-----END CERTIFICATE REQUEST-----
";

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// A P-256 key generated now (PKCS#8), so no real key is ever committed.
fn ec_key() -> String {
    let rng = SystemRandom::new();
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    pem("PRIVATE KEY", der.as_ref())
}

fn ed25519_key() -> String {
    pem("PRIVATE KEY", Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap().as_ref())
}

fn words(path: &str, text: &str) -> usize {
    prose_words(path, text, usize::MAX)
}

// ------------------------------------------------------------------------------------------------ words of prose

#[test]
fn markdown_prose_leaves_out_headings_badges_images_html_code_and_link_lines() {
    assert_eq!(words("README.md", PLACEHOLDER_README), 7);
    // The link-only list item is left out; the one with prose around its link counts whole.
    assert_eq!(words("README.md", SHORT_README), 46);
    assert_eq!(words("README.md", "---\ntitle: Payments service front matter\n---\n\nOne two three.\n"), 3);
    assert_eq!(words("README.md", "| Setting | Meaning |\n| --- | --- |\n| `PORT` | where it listens |\n"), 5);
    assert_eq!(words("README.md", "See https://acme.example/docs\n\nhttps://acme.example/only\n"), 2);
    assert_eq!(words("README.md", &"word ".repeat(1000),), 1000);
    assert_eq!(prose_words("README.md", &"word\n".repeat(1000), 40), 40, "counting stops at the limit");
}

#[test]
fn plain_text_prose_leaves_out_markup_lines() {
    let rst = "Payments\n========\n\n.. image:: https://github.com/acme/payments/actions/workflows/ci.yml/badge.svg\n   \
               :target: https://github.com/acme/payments/actions\n\n|coverage|\n\nPayments takes card payments.\n\n\
               Run it with::\n\n    make run\n    make test\n\nThat is all.\n";
    assert_eq!(words("README.rst", rst), 4 + 3 + 3);
    let adoc = "= Payments\n:toc:\n\nimage::docs/logo.png[Logo]\n\nPayments takes card payments.\n\n[source,sh]\n----\n\
                make run\n----\n\n// a comment\nThat is all.\n";
    assert_eq!(words("README.adoc", adoc), 4 + 3);
    assert_eq!(words("README", "PAYMENTS\n--------\nTakes card payments.\n"), 3);
}

#[test]
fn min_words_judges_prose_and_says_what_it_counted() {
    let p = policy(
        &[
            rule("readme", "bronze", "{file: {any: [README.md, README.rst], min_words: 40}}"),
            rule("docs", "bronze", "{file: {all: [README.md, docs/guide.md], min_words: 5, min_bytes: 10}}"),
        ]
        .concat(),
    );
    let card = Run::new(&p, repo(&[("README.md", PLACEHOLDER_README)])).card();
    let readme = card.rule("readme").unwrap();
    assert_eq!(readme.status, Status::Fail);
    assert_eq!(
        readme.message,
        "`README.md` has 7 words of prose, at least 40 expected (headings, badges, images, code, HTML and lines of \
         only links are not counted)"
    );
    assert_eq!(readme.evidence, vec![Evidence { path: "README.md".into(), line: None }]);
    assert_eq!(card.rule("docs").unwrap().message, "no file matches `docs/guide.md`");

    let card = Run::new(&p, repo(&[("README.md", SHORT_README), ("docs/guide.md", "tiny")])).card();
    assert_eq!(card.rule("readme").unwrap().message, "found `README.md` with at least 40 words of prose");
    assert_eq!(card.rule("docs").unwrap().message, "`docs/guide.md` has only 4 bytes (at least 10 expected)");

    // A README that cannot be read might have passed: not judged.
    let mut facts = repo(&[]);
    facts.files.insert("README.md".into(), FileFacts { size: 2 << 20, content: Content::TooLarge });
    let card = Run::new(&p, facts).card();
    assert_eq!(status(&card, "readme"), Status::Error);
    assert!(card.rule("readme").unwrap().message.contains("over the 1 MiB limit"));
}

#[test]
fn min_words_files_are_read_and_others_only_listed() {
    let p = policy(
        &[
            rule("r", "bronze", "{file: {any: [README.md], min_words: 1}}"),
            rule("l", "bronze", "{file: {any: [LICENSE]}}"),
        ]
        .concat(),
    );
    assert!(p.read_globs.is_match("README.md"));
    assert!(!p.read_globs.is_match("LICENSE"));
}

// ------------------------------------------------------------------------------------------------ the default rules

fn embedded_card(files: &[(&str, &str)]) -> Scorecard {
    let p = Policy::embedded();
    Run::new(&p, repo(files)).card()
}

fn outcome(card: &Scorecard, id: &str) -> (Status, String) {
    let r = card.rule(id).unwrap();
    (r.status, r.message.clone())
}

#[test]
fn readme_rule_fails_a_title_badges_and_one_sentence_and_passes_a_short_real_one() {
    assert_eq!(status(&embedded_card(&[("README.md", PLACEHOLDER_README)]), "readme"), Status::Fail);
    assert_eq!(status(&embedded_card(&[("README.md", SHORT_README)]), "readme"), Status::Pass);
    assert_eq!(status(&embedded_card(&[("readme.rst", &"Takes card payments. ".repeat(14))]), "readme"), Status::Pass);
}

#[test]
fn security_policy_must_name_a_reporting_channel() {
    let practices = "# Security\n\nHere are some good practices:\n\n- keep dependencies up to date\n- never commit \
                     secrets\n- read https://owasp.org/www-project-top-ten/\n";
    let (status_, message) = outcome(&embedded_card(&[("SECURITY.md", practices)]), "security-policy");
    assert_eq!(status_, Status::Fail);
    assert!(
        message.starts_with("the security policy names no way to report a vulnerability (looked for an email"),
        "{message}"
    );
    for channel in [
        "Report vulnerabilities to security@acme.example, not in public issues.",
        "Use [GitHub's form](https://github.com/acme/payments/security/advisories/new).",
        "We use GitHub's private vulnerability reporting.",
        "Please report a vulnerability through our\n[disclosure form](https://acme.example/security).",
        "Our bug bounty runs on https://hackerone.com/acme.",
        "Contacts are in https://acme.example/.well-known/security.txt",
    ] {
        let text = format!("# Security policy\n\n## Reporting a vulnerability\n\n{channel}\n");
        let card = embedded_card(&[(".github/SECURITY.md", &text)]);
        assert_eq!(
            outcome(&card, "security-policy").0,
            Status::Pass,
            "{channel}: {:?}",
            outcome(&card, "security-policy")
        );
    }
    let (status_, message) = outcome(&embedded_card(&[]), "security-policy");
    assert_eq!(
        (status_, message.as_str()),
        (Status::Fail, "no file matches `SECURITY.md`, `.github/SECURITY.md`, `docs/SECURITY.md`")
    );
}

const COMPOSE_DB_ONLY: &str = "services:
  api:
    build: .
    ports: [\"8080:8080\"]
  db:
    image: postgres:16
    healthcheck:
      test: [\"CMD-SHELL\", \"pg_isready -U postgres\"]
      interval: 5s
";

#[test]
fn health_check_counts_only_the_services_the_repository_builds() {
    let (status_, message) = outcome(&embedded_card(&[("docker-compose.yml", COMPOSE_DB_ONLY)]), "health-check");
    assert_eq!(status_, Status::Fail);
    assert!(
        message.contains("no compose service of the repository's own (built with `build:`, or an image that is not a common third-party one such as a database) declares a `healthcheck`"),
        "{message}"
    );
    assert!(message.contains("`docker-compose.yml`"), "the file is named: {message}");

    let own = COMPOSE_DB_ONLY.replace(
        "    ports: [\"8080:8080\"]\n",
        "    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8080/healthz\"]\n",
    );
    assert_eq!(status(&embedded_card(&[("compose.yaml", &own)]), "health-check"), Status::Pass);
    let disabled = own.replace("test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8080/healthz\"]", "disable: true");
    assert_eq!(status(&embedded_card(&[("compose.yaml", &disabled)]), "health-check"), Status::Fail);

    let helm = "spec:\n  containers:\n    - name: {{ .Chart.Name }}\n      livenessProbe:\n        httpGet: {path: /healthz, port: http}\n";
    assert_eq!(
        status(&embedded_card(&[("charts/payments/templates/deployment.yaml", helm)]), "health-check"),
        Status::Pass
    );
    let dockerfile =
        "FROM alpine\nHEALTHCHECK --interval=30s --timeout=3s \\\n  CMD wget -q -O- http://localhost:8080/healthz\n";
    assert_eq!(status(&embedded_card(&[("Dockerfile", dockerfile)]), "health-check"), Status::Pass);
    assert_eq!(
        status(&embedded_card(&[("Dockerfile", "FROM postgres:16\nHEALTHCHECK NONE\n")]), "health-check"),
        Status::Fail
    );
}

// ------------------------------------------------------------------------------------------------ private keys

#[test]
fn certificates_public_keys_and_requests_are_not_private_keys() {
    assert_eq!(scan(CERTIFICATE), Scan { keys: vec![], public: 3, placeholders: 0 });
}

#[test]
fn a_certificate_alone_is_named_as_not_counted_without_empty_parts() {
    let card = embedded_card(&[("deploy/tls/ca.pem", CERTIFICATE)]);
    let (status, message) = outcome(&card, "no-committed-secrets");
    assert_eq!(status, Status::Pass, "{message}");
    assert!(message.ends_with("; not counted: 3 certificate or public-key block(s)"), "{message}");
}

#[test]
fn placeholders_and_incomplete_blocks_are_not_private_keys() {
    let text = "-----BEGIN RSA PRIVATE KEY-----\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\
                -----END RSA PRIVATE KEY-----\n\
                -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC...\n-----END PRIVATE KEY-----\n\
                key: \"-----BEGIN EC PRIVATE KEY-----\\n<your key here>\\n-----END EC PRIVATE KEY-----\"\n\
                -----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n\
                -----BEGIN RSA PRIVATE KEY-----\n";
    assert_eq!(scan(text), Scan { keys: vec![], public: 0, placeholders: 5 });
}

#[test]
fn real_private_keys_are_found_wherever_they_are_embedded() {
    let ec = ec_key();
    let indented: String = ed25519_key().lines().map(|l| format!("    {l}\n")).collect();
    let json = format!("{{\"key\": \"{}\"}}\n", ec.trim_end().replace('\n', "\\n"));
    let text = format!("{ec}tls:\n  key: |\n{indented}{json}{TEST_OPENSSH_KEY}# -----BEGIN PUBLIC KEY----- is fine\n");
    let found = scan(&text);
    let lines = |n: usize| ec.lines().count() * n;
    assert_eq!(
        found.keys,
        vec![
            Found { line: 1, label: "PRIVATE KEY".into() },
            Found { line: lines(1) + 3, label: "PRIVATE KEY".into() },
            Found { line: lines(1) + 3 + indented.lines().count(), label: "PRIVATE KEY".into() },
            Found { line: lines(1) + 4 + indented.lines().count(), label: "OPENSSH PRIVATE KEY".into() },
        ]
    );
}

fn keys_policy(extra: &str) -> Policy {
    let check = format!("{{private_keys: {{files: ['**/*.pem', '**/*.yaml'], stores: ['**/*.p12']{extra}}}}}");
    policy(&rule("keys", "bronze", &check))
}

#[test]
fn keys_in_test_fixtures_are_reported_apart_unless_fixtures_fail() {
    let ec = ec_key();
    let files = [
        ("certs/ca.pem", CERTIFICATE),
        ("internal/tls/testdata/server.pem", ec.as_str()),
        ("src/test/resources/client.p12", "binary"),
    ];
    let p = keys_policy("");
    let card = Run::new(&p, repo(&files)).card();
    let keys = card.rule("keys").unwrap();
    assert_eq!(keys.status, Status::Pass);
    assert_eq!(
        keys.message,
        "no private key in 2 file(s) read; in test fixtures (reported, not failing): `src/test/resources/client.p12` \
         (key store, judged by its name), `internal/tls/testdata/server.pem` line 1 (PRIVATE KEY); not counted: 3 \
         certificate or public-key block(s)"
    );
    assert_eq!(keys.evidence.len(), 2, "fixture keys are named in the evidence");

    let strict = keys_policy(", fixtures: fail");
    assert_eq!(status(&Run::new(&strict, repo(&files)).card(), "keys"), Status::Fail);

    let mut leaked = files.to_vec();
    leaked.push(("deploy/prod.pem", ec.as_str()));
    let card = Run::new(&p, repo(&leaked)).card();
    let keys = card.rule("keys").unwrap();
    assert_eq!(keys.status, Status::Fail);
    assert!(
        keys.message
            .starts_with("1 private key(s) committed: `deploy/prod.pem` line 1 (PRIVATE KEY); in test fixtures"),
        "{}",
        keys.message
    );
    assert_eq!(
        keys.evidence,
        vec![Evidence { path: "deploy/prod.pem".into(), line: Some(1) }],
        "only what fails is annotated"
    );
}

#[test]
fn fixture_dirs_must_be_directory_names() {
    let text =
        format!("{HEADER}{}", rule("keys", "bronze", "{private_keys: {files: ['**'], fixture_dirs: ['src/test']}}"));
    let mut diags = Diagnostics::default();
    assert!(Policy::parse("test.yaml", &text, &mut diags).is_none());
    assert!(
        diags.to_string().contains("`fixture_dirs` holds directory names without `/`, found `src/test`"),
        "{diags}"
    );
}

#[test]
fn a_file_of_unclosed_markers_is_scanned_in_one_pass() {
    let text = "-----BEGIN RSA PRIVATE KEY-----\n".repeat((crate::facts::MAX_READ_BYTES / 32) as usize);
    let start = std::time::Instant::now();
    let found = scan(&text);
    assert_eq!((found.keys.len(), found.placeholders), (0, text.lines().count()));
    assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
}

#[test]
fn a_check_message_replaces_the_generated_failure_and_names_the_files() {
    let p = policy(&rule(
        "no-todo",
        "bronze",
        "{content: {files: ['**/*.py'], not_matches: 'TODO', message: 'TODOs left in the code'}}",
    ));
    let card = Run::new(&p, repo(&[("a.py", "x = 1  # TODO\n"), ("b.py", "\n\n# TODO\n")])).card();
    assert_eq!(card.rule("no-todo").unwrap().message, "TODOs left in the code: `a.py` line 1, `b.py` line 3");
    let card = Run::new(&p, repo(&[("a.py", "x = 1\n")])).card();
    assert_eq!(card.rule("no-todo").unwrap().message, "1 file(s) checked, none contains the forbidden pattern");
}
