//! Shared helpers: run the real binary, build git repositories, catalogs and policy files in temporary directories.

#![allow(dead_code)]

use git2::{IndexAddOption, Repository, Signature};
use serde_json::Value;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// What one run of the binary did.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Debug for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Out {
    /// Standard output parsed as JSON; panics (showing the whole run) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
    }

    /// Asserts the exit code, showing the whole run when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code:\n{self:?}");
        self
    }
}

/// Runs `shipshape ARGS` in `cwd`, with no colour and no linked-tool credentials.
pub fn run_in<I, S>(cwd: &Path, args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_in_env(cwd, args, &[])
}

/// Like [`run_in`], with these environment variables set (after the credentials are cleared).
pub fn run_in_env<I, S>(cwd: &Path, args: I, env: &[(&str, &str)]) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("SHIPSHAPE_GITHUB_TOKEN")
        .env_remove("SHIPSHAPE_PAGERDUTY_TOKEN")
        .env_remove("SHIPSHAPE_PAGERDUTY_API_URL")
        .env_remove("SHIPSHAPE_PROMETHEUS_URL")
        .env_remove("SHIPSHAPE_PROMETHEUS_TOKEN")
        .env_remove("SHIPSHAPE_CATALOG_REPO")
        .env_remove("SHIPSHAPE_GITHUB_API_URL")
        .envs(env.iter().copied())
        .output()
        .expect("the shipshape binary runs");
    Out {
        code: output.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `shipshape ARGS` in a fresh empty directory.
pub fn run<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let cwd = TempDir::new().expect("temp dir");
    run_in(cwd.path(), args)
}

/// A temporary directory of plain files (a catalog checkout, policy files).
pub struct Dir {
    dir: TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    pub fn new() -> Self {
        Self { dir: TempDir::new().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path as a string, for command lines.
    pub fn arg(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Writes `rel` (creating parent directories) and returns its full path.
    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create dirs");
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// `services/<name>.yaml`: a Backstage Component of this tier and type, owned by `team-<name>`, linked to
    /// `acme/<name>` and to the PagerDuty service `P<NAME>`.
    pub fn service(&self, name: &str, tier: u32, kind: &str) -> &Self {
        self.write(&format!("services/{name}.yaml"), &service_yaml(name, Some(tier), kind));
        self
    }

    /// `exceptions/<service>/<rule>.yaml`, approved in `https://github.com/acme/catalog/pull/7`.
    pub fn exception(&self, service: &str, rule: &str, expires: &str) -> &Self {
        self.write(&format!("exceptions/{service}/{rule}.yaml"), &exception_yaml(service, rule, expires));
        self
    }
}

pub const APPROVED_IN: &str = "https://github.com/acme/catalog/pull/7";

pub fn service_yaml(name: &str, tier: Option<u32>, kind: &str) -> String {
    let tier = tier.map(|t| format!("  tier: {t}\n")).unwrap_or_default();
    format!(
        "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  annotations:
    github.com/project-slug: acme/{name}
    pagerduty.com/service-id: P{upper}
spec:
  type: {kind}
  lifecycle: production
  owner: team-{name}
{tier}",
        upper = name.to_uppercase()
    )
}

pub fn exception_yaml(service: &str, rule: &str, expires: &str) -> String {
    format!(
        "apiVersion: shipshape.dev/v1
kind: Exception
service: {service}
rule: {rule}
reason: Waiting for the observability platform migration
expires: {expires}
requested_by: alice
requested_in: {APPROVED_IN}
"
    )
}

/// A git repository in a temporary directory.
pub struct Repo {
    dir: TempDir,
    repo: Repository,
}

impl Repo {
    /// An empty repository whose `origin` is `https://github.com/acme/<name>.git`.
    pub fn new(name: &str) -> Self {
        let repo = Self::without_origin();
        repo.repo.remote("origin", &format!("https://github.com/acme/{name}.git")).expect("add origin");
        repo
    }

    /// An empty repository whose `origin` is `url`.
    pub fn with_origin(url: &str) -> Self {
        let repo = Self::without_origin();
        repo.repo.remote("origin", url).expect("add origin");
        repo
    }

    /// An empty repository with no remote.
    pub fn without_origin() -> Self {
        let dir = TempDir::new().expect("temp dir");
        let repo = Repository::init(dir.path()).expect("git init");
        Self { dir, repo }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path as a string, for command lines.
    pub fn arg(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Writes a file of the working tree (creating parent directories).
    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create dirs");
        std::fs::write(&path, content).expect("write file");
        self
    }

    /// Writes raw bytes to a file of the working tree.
    pub fn write_bytes(&self, rel: &str, content: &[u8]) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create dirs");
        std::fs::write(&path, content).expect("write file");
        self
    }

    /// Creates the symbolic link `rel` pointing at `target`.
    #[cfg(unix)]
    pub fn symlink(&self, rel: &str, target: &Path) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a link has a parent")).expect("create dirs");
        std::os::unix::fs::symlink(target, &path).expect("symlink");
        self
    }

    /// Removes a file of the working tree.
    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.dir.path().join(rel)).expect("remove file");
        self
    }

    /// Stages everything (additions, changes, removals) and commits; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().expect("index");
        index.add_all(["*"], IndexAddOption::DEFAULT, None).expect("git add");
        index.update_all(["*"], None).expect("git add -u");
        index.write().expect("write index");
        let tree = self.repo.find_tree(index.write_tree().expect("write tree")).expect("tree");
        let sig = Signature::now("Test", "test@example.com").expect("signature");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents).expect("commit").to_string()
    }
}

/// A README long enough for the default `readme` rule (at least 300 bytes).
pub fn long_readme() -> String {
    let mut text = String::from("# Payments\n\nThe payments service takes card payments for the shop.\n\n");
    while text.len() < 400 {
        text.push_str("It is run by the payments team; see docs/runbook.md for operations.\n");
    }
    text
}

/// TEST ONLY: a P-256 private key generated for this run (PKCS#8 PEM), so that no key is committed for the tests.
pub fn test_private_key_pem() -> String {
    use base64::Engine;
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("a P-256 key");
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("base64")).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

/// A TLS configuration holding [`test_private_key_pem`] from line 3.
pub fn tls_yaml() -> String {
    let key: String = test_private_key_pem().lines().map(|l| format!("  {l}\n")).collect();
    format!("cert: x\nkey: |\n{key}")
}

pub const CODEOWNERS: &str = "* @acme/payments\n";

pub const WORKFLOW: &str = "name: ci
on:
  pull_request:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: make deploy
";

pub const DEPENDABOT: &str = "version: 2
updates:
  - package-ecosystem: cargo
    directory: /
    schedule:
      interval: weekly
";

pub const K8S_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
spec:
  template:
    spec:
      containers:
        - name: payments
          image: ghcr.io/acme/payments:1.0.0
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8080
";

pub const OPENAPI: &str = "openapi: 3.0.3
info:
  title: Payments
  version: 1.0.0
paths: {}
";

pub const SLO: &str = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: payments-availability
spec:
  service: payments
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
";

pub const ALERTS: &str = "groups:
  - name: payments
    rules:
      - alert: PaymentsErrorBudgetBurn
        expr: slo:sli_error:ratio_rate5m{service=\"payments\"} > 0.01
        for: 5m
";

/// The files of a repository that reaches gold with the embedded scorecard (tier 1, type `service`), with the
/// SLO at `slo/availability.yaml`.
pub const GOLD_FILES: &[(&str, &str)] = &[
    (".github/CODEOWNERS", CODEOWNERS),
    (".github/workflows/ci.yml", WORKFLOW),
    (".github/dependabot.yml", DEPENDABOT),
    ("SECURITY.md", "# Security\n\nReport vulnerabilities to security@acme.example.\n"),
    ("docs/runbook.md", "# Runbook\n\nWhen PaymentsErrorBudgetBurn fires, check the dashboard.\n"),
    ("openapi.yaml", OPENAPI),
    ("k8s/deployment.yaml", K8S_DEPLOYMENT),
    ("slo/availability.yaml", SLO),
    ("monitoring/alerts.yaml", ALERTS),
    ("tests/payments_test.sh", "#!/bin/sh\nexit 0\n"),
    ("src/main.go", "package main\n\nfunc main() {}\n"),
];

/// A committed repository named `name` that reaches gold with the embedded scorecard.
pub fn gold_repo(name: &str) -> Repo {
    let repo = Repo::new(name);
    repo.write("README.md", &long_readme());
    for (path, content) in GOLD_FILES {
        repo.write(path, content);
    }
    repo.commit("Production ready");
    repo
}

/// A catalog with the tier-1 `service` entry `payments` (linked to `acme/payments`).
pub fn payments_catalog() -> Dir {
    let catalog = Dir::new();
    catalog.service("payments", 1, "service");
    catalog
}

/// The head of a custom policy (levels bronze < silver < gold, tiers 1..3 requiring gold, silver, bronze; default
/// tier 3); append rules made with [`rule`].
pub const POLICY_HEAD: &str = "apiVersion: shipshape.dev/v1
kind: Scorecard
levels: [bronze, silver, gold]
tiers:
  1: {requires: gold}
  2: {requires: silver}
  3: {requires: bronze}
default_tier: 3
rules:
";

/// One rule of a custom policy; `check` (and `when`) in YAML flow style, on one line.
pub fn rule(id: &str, level: &str, check: &str) -> String {
    format!("  - id: {id}\n    title: Rule {id}\n    level: {level}\n    remediation: Fix {id}.\n    check: {check}\n")
}

/// A rule with a `when` condition.
pub fn rule_when(id: &str, level: &str, check: &str, when: &str) -> String {
    format!("{}    when: {when}\n", rule(id, level, check))
}

/// A policy file made of [`POLICY_HEAD`] and `rules`, in its own temporary directory.
pub struct PolicyFile {
    dir: Dir,
    pub path: PathBuf,
}

impl PolicyFile {
    pub fn new(rules: &[String]) -> Self {
        let dir = Dir::new();
        let path = dir.write("policy.yaml", &format!("{POLICY_HEAD}{}", rules.concat()));
        Self { dir, path }
    }

    pub fn arg(&self) -> String {
        self.path.display().to_string()
    }
}

/// The result of rule `id` in a scorecard's JSON.
#[track_caller]
pub fn rule_result<'a>(card: &'a Value, id: &str) -> &'a Value {
    card["rules"]
        .as_array()
        .expect("rules is an array")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no rule `{id}` in {card:#}"))
}

/// The status of rule `id`.
#[track_caller]
pub fn status<'a>(card: &'a Value, id: &str) -> &'a str {
    rule_result(card, id)["status"].as_str().expect("status is a string")
}

/// The message of rule `id`.
#[track_caller]
pub fn message<'a>(card: &'a Value, id: &str) -> &'a str {
    rule_result(card, id)["message"].as_str().expect("message is a string")
}

/// Every rule as `id=status`, for readable assertion messages.
pub fn statuses(card: &Value) -> String {
    card["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .map(|r| format!("{}={} ({})", r["id"].as_str().unwrap_or("?"), r["status"], r["message"]))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `evaluate --format json` of one repository with extra arguments; returns the run and its card.
pub fn evaluate_json(repo: &Repo, extra: &[&str]) -> (Out, Value) {
    let mut args = vec!["evaluate".to_string(), repo.arg(), "--format".into(), "json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = run(&args);
    let card = out.json();
    (out, card)
}
