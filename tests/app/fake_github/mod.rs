//! A stateful fake GitHub for the App's tests (the approach of rust-lang/bors): an HTTP server on `127.0.0.1:0` that
//! speaks GitHub's REST wire format for the endpoints the App uses, backed by a shared, mutable [`World`], so the real
//! octocrab client can be pointed at it.
//!
//! Every request is checked against GitHub's OpenAPI description (`shared/fixtures/github-openapi/`): an unknown
//! method + path, an undeclared or ill-typed query parameter or a request body that does not fit the operation's schema
//! is a *violation*. So is a response of the fake itself that does not fit the declared response schema (the fake's
//! answers are built from the description's own examples). [`FakeGitHub::violations`] lists them, and dropping a
//! `FakeGitHub` that saw any panics, so a test cannot forget to look.
//!
//! ```ignore
//! let fake = FakeGitHub::start().await;
//! fake.add_installation(7, "acme");
//! fake.add_repo(7, "acme", "widgets", "main");
//! let sha = fake.commit("acme", "widgets", &[("README.md", "hi\n")]);
//! fake.set_branch("acme", "widgets", "main", &sha);
//! // ... point the App at fake.url, with fake.app_id() and fake.private_key_pem() ...
//! assert!(fake.violations().is_empty());
//! ```

#![allow(dead_code)]

mod catalog;
mod git;
mod handlers;
pub(crate) mod hooks;
mod issues;
pub mod key;
pub mod openapi;
mod security;
mod statuses;
pub(crate) mod users;
pub mod web;

pub use security::CodeScanningState;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use octocrab::jsonwebtoken::{self, Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use self::openapi::{Spec, parse_query};

/// The App id of the fake's GitHub App.
pub const APP_ID: u64 = 424_242;
/// The App's slug; comments and check runs it creates are by `shipshape-test[bot]`.
pub const APP_SLUG: &str = "shipshape-test";
const DOCS: &str = "https://docs.github.com/rest";

/// How a request authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// No `Authorization` header.
    None,
    /// A valid App JWT (RS256, signed with [`FakeGitHub::private_key_pem`]).
    AppJwt,
    /// A live installation access token minted by the fake.
    InstallationToken,
    /// A user's OAuth token ([`FakeGitHub::add_user`]).
    UserToken,
    /// Something was sent but it was not valid (bad signature, expired or unknown token, ...).
    Invalid,
}

/// One request the fake received, in order.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The OpenAPI path template, e.g. `/repos/{owner}/{repo}/check-runs/{check_run_id}`; `None` for unknown paths.
    pub template: Option<String>,
    /// The concrete path as sent (not decoded), e.g. `/repos/acme/widgets/check-runs/1001`.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    pub status: u16,
    pub auth: AuthKind,
    /// The installation whose token was used, if any.
    pub installation: Option<u64>,
    pub body: Option<Value>,
    /// Request headers (lower-case names), the `Authorization` value replaced by `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// Answered by [`FakeGitHub::fail_next`] instead of real handling.
    pub injected: bool,
    /// When the fake received it (for counting writes in a sliding window).
    pub at: std::time::Instant,
}

/// An issue as the fake holds it (see [`FakeGitHub::issues`]): plain cloned data, no JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeIssue {
    pub number: u64,
    /// The issue's id (what `sub_issue_id` takes), not its number.
    pub id: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// `completed`, `not_planned`, `duplicate`, `reopened` or none.
    pub state_reason: Option<String>,
    /// Label names, in the order they were added.
    pub labels: Vec<String>,
    /// The parent issue's number, when this is a sub-issue.
    pub parent: Option<u64>,
    /// The author's login, e.g. `shipshape-test[bot]`.
    pub user: String,
    /// `YYYY-MM-DDTHH:MM:SSZ` when closed.
    pub closed_at: Option<String>,
}

/// A pull request as the fake holds it (see [`FakeGitHub::pulls`]): plain cloned data, no JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    /// The description (empty when there is none).
    pub body: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    /// The base branch's head while the pull request is open; where it was when the pull request was closed or
    /// merged after that (as GitHub reports `base.sha`).
    pub base_sha: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    /// The author's login, e.g. `shipshape-test[bot]` for one the App opened, `octocat` for [`FakeGitHub::add_pull`].
    pub user: String,
}

/// A repository's Dependabot alerts setting.
#[derive(Clone, Debug)]
pub enum DependabotState<'a> {
    /// `GET .../dependabot/alerts` answers 403 "Dependabot alerts are disabled for this repository."
    Disabled,
    /// Enabled, with these alerts as `(severity, state)`: severity `low`/`medium`/`high`/`critical`, state
    /// `open`/`fixed`/`dismissed`/`auto_dismissed`. They are numbered 1, 2, ... in this order (older first).
    Alerts(Vec<(&'a str, &'a str)>),
}

/// The fake's state. Handlers mutate it under the one lock; tests reach it through [`FakeGitHub`]'s methods.
pub(crate) struct World {
    app_id: u64,
    decoding_key: DecodingKey,
    next_id: u64,
    clock: i64,
    installations: BTreeMap<u64, Installation>,
    tokens: HashMap<String, Token>,
    /// Users by their OAuth token ([`FakeGitHub::add_user`]).
    pub(crate) users: HashMap<String, users::User>,
    /// GitHub's web sign-in ([`web`]).
    pub(crate) web: web::Web,
    /// The App's webhook deliveries ([`hooks`]).
    pub(crate) hooks: hooks::Hooks,
    /// Requests whose path contains this answer only after the delay ([`FakeGitHub::slow_down`]).
    slow: Option<(String, std::time::Duration)>,
    /// Keyed by lower-case `(owner, name)`: GitHub's names are case-insensitive.
    repos: BTreeMap<(String, String), Repo>,
    check_runs: BTreeMap<u64, CheckRun>,
    comments: BTreeMap<u64, Comment>,
    /// Reactions to issue comments, by reaction id (in the order they were made).
    reactions: BTreeMap<u64, Reaction>,
    check_suites: HashMap<(u64, String), u64>,
    requests: Vec<RecordedRequest>,
    violations: Vec<String>,
    faults: Vec<Fault>,
    rate_limit: u64,
    rate_remaining: u64,
    rate_reset: i64,
}

pub(crate) struct Installation {
    id: u64,
    account: String,
    account_id: u64,
    created_at: DateTime<Utc>,
}

pub(crate) struct Token {
    installation: u64,
    expires_at: DateTime<Utc>,
    /// `None`: every repository of the installation.
    repository_ids: Option<BTreeSet<u64>>,
}

pub(crate) struct Repo {
    id: u64,
    installation: u64,
    owner: String,
    name: String,
    default_branch: String,
    created_at: DateTime<Utc>,
    pushed_at: DateTime<Utc>,
    archived: bool,
    fork: bool,
    has_issues: bool,
    sub_issues_available: bool,
    branches: BTreeMap<String, String>,
    commits: HashMap<String, Commit>,
    objects: git::Objects,
    protection: BTreeMap<String, Value>,
    rules: BTreeMap<String, Vec<Value>>,
    /// `None`: Dependabot alerts disabled.
    dependabot: Option<Vec<Alert>>,
    code_scanning: security::CodeScanning,
    /// `None`: secret scanning disabled; else the alerts' states.
    secret_scanning: Option<Vec<String>>,
    codeowners_errors: Vec<Value>,
    pulls: BTreeMap<u64, Pull>,
    /// Issues and pull requests (every pull request is an issue too), by number: one number sequence.
    issues: BTreeMap<u64, Issue>,
    /// Keyed by lower-case name: GitHub's label names are case-insensitive.
    labels: BTreeMap<String, Label>,
    /// Collaborators' roles (`admin`, `maintain`, `write`, `triage`, `read`) by lower-case login, with the login as
    /// it was spelled.
    permissions: BTreeMap<String, (String, String)>,
    /// References other than branches (`refs/tags/v1`, ...) by full name.
    other_refs: BTreeMap<String, String>,
    /// Commit statuses in the order they were set (see [`FakeGitHub::set_commit_status`]).
    commit_statuses: Vec<statuses::CommitStatus>,
}

pub(crate) struct Issue {
    id: u64,
    number: u64,
    /// The issue of a pull request (its state lives in [`Pull::state`]).
    pull: bool,
    title: String,
    body: Option<String>,
    state: String,
    state_reason: Option<String>,
    /// Label names as the repository spells them, in the order added.
    labels: Vec<String>,
    assignees: Vec<String>,
    user: String,
    parent: Option<u64>,
    /// Sub-issue numbers, in the order added.
    sub_issues: Vec<u64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    closed_by: Option<String>,
}

pub(crate) struct Label {
    id: u64,
    name: String,
    color: String,
    description: Option<String>,
}

impl Issue {
    fn new(id: u64, number: u64, title: &str, body: Option<String>, user: &str) -> Issue {
        let at = now();
        Issue {
            id,
            number,
            pull: false,
            title: title.to_string(),
            body,
            state: "open".into(),
            state_reason: None,
            labels: Vec::new(),
            assignees: Vec::new(),
            user: user.to_string(),
            parent: None,
            sub_issues: Vec::new(),
            created_at: at,
            updated_at: at,
            closed_at: None,
            closed_by: None,
        }
    }

    /// GitHub's rules: closing sets `closed_at` and `state_reason` (default `completed`); reopening clears
    /// `closed_at` and sets `state_reason` `reopened`; the reason is ignored when the state does not change.
    fn set_state(&mut self, state: &str, reason: Option<&str>, by: &str) {
        let at = now();
        if state == "closed" && self.state != "closed" {
            self.closed_at = Some(at);
            self.closed_by = Some(by.to_string());
            self.state_reason = Some(reason.unwrap_or("completed").to_string());
        } else if state == "open" && self.state != "open" {
            self.closed_at = None;
            self.closed_by = None;
            self.state_reason = Some("reopened".into());
        }
        self.state = state.to_string();
        self.updated_at = at;
    }

    fn fake(&self) -> FakeIssue {
        FakeIssue {
            number: self.number,
            id: self.id,
            title: self.title.clone(),
            body: self.body.clone(),
            state: self.state.clone(),
            state_reason: self.state_reason.clone(),
            labels: self.labels.clone(),
            parent: self.parent,
            user: self.user.clone(),
            closed_at: self.closed_at.map(timestamp),
        }
    }
}

impl Repo {
    /// Points `branch` at `sha`. When that moves the branch, `pushed_at` becomes now (at least a second after the
    /// previous value, so each push is visible in GitHub's one-second timestamps) and open pull requests from the
    /// branch follow it, as on GitHub.
    fn move_branch(&mut self, branch: &str, sha: &str) {
        if self.branches.insert(branch.to_string(), sha.to_string()).as_deref() == Some(sha) {
            return;
        }
        let at = now();
        self.pushed_at = at.max(self.pushed_at + chrono::Duration::seconds(1));
        for pull in self.pulls.values_mut().filter(|p| p.state == "open" && p.head_ref == branch) {
            pull.head_sha = sha.to_string();
            pull.updated_at = at;
        }
    }

    /// Opens or closes pull request `number` (its issue too): a closed one keeps the base's sha of that moment.
    fn set_pull_state(&mut self, number: u64, state: &str, reason: Option<&str>, by: &str) {
        let base_sha = self.pulls.get(&number).and_then(|p| self.branches.get(&p.base_ref).cloned());
        if let Some(issue) = self.issues.get_mut(&number) {
            issue.set_state(state, reason, by);
        }
        let Some(pull) = self.pulls.get_mut(&number) else { return };
        let at = now();
        if state == "closed" && pull.state != "closed" {
            pull.closed_at = Some(at);
            pull.base_sha = pull.base_sha.take().or(base_sha);
        } else if state == "open" && pull.state != "open" {
            pull.closed_at = None;
            pull.base_sha = None;
        }
        pull.state = state.to_string();
        pull.updated_at = at;
    }

    /// The next issue or pull request number.
    fn next_number(&self) -> u64 {
        let pulls = self.pulls.keys().next_back().copied().unwrap_or(0);
        let issues = self.issues.keys().next_back().copied().unwrap_or(0);
        pulls.max(issues) + 1
    }
}

pub(crate) struct Commit {
    sha: String,
    tree: String,
    /// Parent commit ids, in order (none for a root commit).
    parents: Vec<String>,
    author: git::Signature,
    committer: git::Signature,
    /// The message as in the commit object.
    message: String,
}

impl Commit {
    /// The message as the REST API shows it: without the final newline git's tools end it with.
    fn api_message(&self) -> &str {
        self.message.strip_suffix('\n').unwrap_or(&self.message)
    }
}

pub(crate) struct Alert {
    number: u64,
    severity: String,
    state: String,
    created_at: DateTime<Utc>,
}

pub(crate) struct Pull {
    id: u64,
    number: u64,
    head_sha: String,
    head_ref: String,
    base_ref: String,
    state: String,
    title: String,
    body: Option<String>,
    /// The author's login.
    user: String,
    draft: bool,
    maintainer_can_modify: bool,
    merged: bool,
    merge_commit_sha: Option<String>,
    merged_at: Option<DateTime<Utc>>,
    merged_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Where the base branch was when the pull request was closed; `None` while open (it follows the branch).
    base_sha: Option<String>,
}

impl Pull {
    fn new(id: u64, number: u64, head_ref: &str, head_sha: &str, base_ref: &str, title: &str, user: &str) -> Pull {
        let at = now();
        Pull {
            id,
            number,
            head_sha: head_sha.to_string(),
            head_ref: head_ref.to_string(),
            base_ref: base_ref.to_string(),
            state: "open".into(),
            title: title.to_string(),
            body: None,
            user: user.to_string(),
            draft: false,
            maintainer_can_modify: false,
            merged: false,
            merge_commit_sha: None,
            merged_at: None,
            merged_by: None,
            closed_at: None,
            created_at: at,
            updated_at: at,
            base_sha: None,
        }
    }

    /// `base.sha`: the base branch's head while open (the head's sha when there is no such branch), frozen when
    /// closed.
    fn base_sha(&self, repo: &Repo) -> String {
        self.base_sha
            .clone()
            .or_else(|| repo.branches.get(&self.base_ref).cloned())
            .unwrap_or_else(|| self.head_sha.clone())
    }

    fn fake(&self, repo: &Repo) -> FakePull {
        FakePull {
            number: self.number,
            title: self.title.clone(),
            body: self.body.clone().unwrap_or_default(),
            head_ref: self.head_ref.clone(),
            head_sha: self.head_sha.clone(),
            base_ref: self.base_ref.clone(),
            base_sha: self.base_sha(repo),
            state: self.state.clone(),
            merged: self.merged,
            merge_commit_sha: self.merge_commit_sha.clone(),
            user: self.user.clone(),
        }
    }
}

/// A reaction to an issue comment.
pub(crate) struct Reaction {
    id: u64,
    comment_id: u64,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket` or `eyes`.
    content: String,
    /// Who reacted (the App's bot for reactions made through the API).
    user: String,
    created_at: String,
}

#[derive(Clone)]
pub(crate) struct CheckRun {
    id: u64,
    repo: (String, String),
    suite_id: u64,
    name: String,
    head_sha: String,
    status: String,
    conclusion: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    text: Option<String>,
    details_url: Option<String>,
    external_id: Option<String>,
    actions: Vec<Value>,
    annotations: Vec<Value>,
    /// Made by GitHub Actions rather than the App.
    by_actions: bool,
    /// Made by another GitHub App (neither Actions nor ours).
    by_app: Option<statuses::OtherApp>,
}

pub(crate) struct Comment {
    id: u64,
    repo: (String, String),
    issue_number: u64,
    /// The author's login: the App's bot for comments made through the API.
    user: String,
    body: String,
    created_at: String,
    updated_at: String,
}

struct Fault {
    method: String,
    template: String,
    remaining: usize,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

/// Who is calling, as established from the `Authorization` header.
#[derive(Clone, Debug)]
pub(crate) enum Caller {
    None,
    App,
    Installation {
        id: u64,
        repository_ids: Option<BTreeSet<u64>>,
    },
    /// A user signed in with a user token.
    User {
        login: String,
    },
    Invalid(String),
}

impl Caller {
    fn kind(&self) -> AuthKind {
        match self {
            Caller::None => AuthKind::None,
            Caller::App => AuthKind::AppJwt,
            Caller::Installation { .. } => AuthKind::InstallationToken,
            Caller::User { .. } => AuthKind::UserToken,
            Caller::Invalid(_) => AuthKind::Invalid,
        }
    }
}

/// A response about to be sent.
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, headers: Vec::new(), body: Some(body) }
    }

    /// An error in GitHub's shape: `{"message", "documentation_url", "status"}`.
    fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}))
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What a handler gets to see of a request.
pub(crate) struct Ctx<'a> {
    base: &'a str,
    method: &'a str,
    template: &'a str,
    path: &'a str,
    params: &'a BTreeMap<String, String>,
    query: &'a [(String, String)],
    body: Option<&'a Value>,
    caller: &'a Caller,
    spec: &'static Spec,
}

impl Ctx<'_> {
    fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn repo_key(owner: &str, name: &str) -> (String, String) {
    (owner.to_lowercase(), name.to_lowercase())
}

impl World {
    fn new() -> World {
        World {
            app_id: APP_ID,
            decoding_key: DecodingKey::from_rsa_pem(key::PUBLIC_KEY_PEM.as_bytes()).expect("test public key"),
            next_id: 1000,
            clock: 1_700_000_000,
            installations: BTreeMap::new(),
            tokens: HashMap::new(),
            users: HashMap::new(),
            web: web::Web::default(),
            hooks: hooks::Hooks::default(),
            slow: None,
            repos: BTreeMap::new(),
            check_runs: BTreeMap::new(),
            comments: BTreeMap::new(),
            reactions: BTreeMap::new(),
            check_suites: HashMap::new(),
            requests: Vec::new(),
            violations: Vec::new(),
            faults: Vec::new(),
            rate_limit: 5000,
            rate_remaining: 5000,
            rate_reset: now().timestamp() + 3600,
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The repository's spelling of label `name`, creating the label (colour `ededed`, as GitHub does) when the
    /// repository has none of that name.
    fn ensure_label(&mut self, key: &(String, String), name: &str) -> String {
        let lower = name.to_lowercase();
        if let Some(label) = self.repos[key].labels.get(&lower) {
            return label.name.clone();
        }
        let id = self.id();
        let label = Label { id, name: name.to_string(), color: "ededed".into(), description: None };
        self.repos.get_mut(key).expect("repository").labels.insert(lower, label);
        name.to_string()
    }

    fn repo_mut(&mut self, owner: &str, name: &str) -> &mut Repo {
        self.repos
            .get_mut(&repo_key(owner, name))
            .unwrap_or_else(|| panic!("fake GitHub: no repository {owner}/{name}"))
    }

    /// A fresh installation token: `ghs_` and 36 characters from a hash of the time and a counter.
    fn new_token(&mut self) -> String {
        let seed = format!("{:?}/{}/{:p}", std::time::SystemTime::now(), self.id(), self);
        let digest = Sha256::digest(seed.as_bytes());
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let tail: String =
            digest.iter().chain(digest.iter()).take(36).map(|b| ALPHABET[*b as usize % 62] as char).collect();
        format!("ghs_{tail}")
    }

    fn authenticate(&self, headers: &HeaderMap) -> Caller {
        let Some(value) = headers.get("authorization") else { return Caller::None };
        let Ok(value) = value.to_str() else { return Caller::Invalid("unreadable Authorization header".into()) };
        let credential = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") => {
                rest.trim()
            }
            _ => return Caller::Invalid(format!("unsupported Authorization scheme in {value:?}")),
        };
        if credential.split('.').count() == 3 {
            return self.verify_jwt(credential);
        }
        if let Some(user) = self.users.get(credential) {
            return Caller::User { login: user.login.clone() };
        }
        match self.tokens.get(credential) {
            Some(token) if token.expires_at > now() => {
                Caller::Installation { id: token.installation, repository_ids: token.repository_ids.clone() }
            }
            Some(_) => Caller::Invalid("installation token expired".into()),
            None => Caller::Invalid("unknown token".into()),
        }
    }

    /// GitHub's rules for App JWTs: RS256 signed with the App's key, `iss` the App id (number or string), `iat` not
    /// in the future (60 s of drift allowed), `exp` in the future and at most 10 minutes ahead.
    fn verify_jwt(&self, jwt: &str) -> Caller {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = match jsonwebtoken::decode::<Value>(jwt, &self.decoding_key, &validation) {
            Ok(data) => data.claims,
            Err(e) => return Caller::Invalid(format!("A JSON web token could not be decoded ({e})")),
        };
        let iss_ok = match &claims["iss"] {
            Value::Number(n) => n.as_u64() == Some(self.app_id),
            Value::String(s) => s == &self.app_id.to_string(),
            _ => false,
        };
        if !iss_ok {
            return Caller::Invalid(format!("'Issuer' claim ('iss') must be the App id {}", self.app_id));
        }
        let now = now().timestamp();
        let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
            return Caller::Invalid("'Issued at' and 'Expiration time' claims must be integers".into());
        };
        if iat > now + 60 {
            return Caller::Invalid(
                "'Issued at' claim ('iat') must be an Integer representing a time in the past".into(),
            );
        }
        if exp <= now {
            return Caller::Invalid("'Expiration time' claim ('exp') must be in the future".into());
        }
        if exp > now + 600 + 60 {
            return Caller::Invalid("'Expiration time' claim ('exp') is too far in the future".into());
        }
        Caller::App
    }
}

struct Inner {
    url: String,
    world: Mutex<World>,
}

/// The fake GitHub. See the module documentation.
pub struct FakeGitHub {
    /// Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash): the App's GitHub API base.
    pub url: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeGitHub {
    /// Starts the server on `127.0.0.1:0` in the current tokio runtime. Loads GitHub's OpenAPI description first
    /// (panics when it is missing).
    pub async fn start() -> FakeGitHub {
        Spec::global();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let inner = Arc::new(Inner { url: url.clone(), world: Mutex::new(World::new()) });
        let app = axum::Router::new().fallback(serve).with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake GitHub server");
        });
        FakeGitHub { url, inner, server }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.inner.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers requests whose path contains `part` only after `delay` (a slow GitHub).
    pub fn slow_down(&self, part: &str, delay: std::time::Duration) {
        self.world().slow = Some((part.to_string(), delay));
    }

    pub fn app_id(&self) -> u64 {
        APP_ID
    }

    /// TEST ONLY RSA private key (PKCS#1 PEM) of the App; the fake verifies App JWTs with its public half.
    pub fn private_key_pem(&self) -> &'static str {
        key::PRIVATE_KEY_PEM
    }

    /// An installation of the App on the account `account` (an organization).
    pub fn add_installation(&self, id: u64, account: &str) {
        let mut w = self.world();
        let account_id = w.id();
        w.installations.insert(id, Installation { id, account: account.to_string(), account_id, created_at: now() });
    }

    /// A repository `owner/name` of the installation, with no commits yet; returns its id.
    pub fn add_repo(&self, installation: u64, owner: &str, name: &str, default_branch: &str) -> u64 {
        let mut w = self.world();
        assert!(w.installations.contains_key(&installation), "fake GitHub: no installation {installation}");
        let id = w.id();
        let repo = Repo {
            id,
            installation,
            owner: owner.to_string(),
            name: name.to_string(),
            default_branch: default_branch.to_string(),
            created_at: now(),
            pushed_at: now(),
            archived: false,
            fork: false,
            has_issues: true,
            sub_issues_available: true,
            branches: BTreeMap::new(),
            commits: HashMap::new(),
            objects: git::Objects::default(),
            protection: BTreeMap::new(),
            rules: BTreeMap::new(),
            dependabot: Some(Vec::new()),
            code_scanning: security::CodeScanning::NotSetUp,
            secret_scanning: None,
            codeowners_errors: Vec::new(),
            pulls: BTreeMap::new(),
            issues: BTreeMap::new(),
            labels: BTreeMap::new(),
            permissions: BTreeMap::new(),
            other_refs: BTreeMap::new(),
            commit_statuses: Vec::new(),
        };
        w.repos.insert(repo_key(owner, name), repo);
        id
    }

    /// A parentless commit holding exactly these files `(path, content)`; returns its sha. Blob, tree and commit ids
    /// are real git object ids. Does not move any branch: see [`FakeGitHub::set_branch`].
    pub fn commit(&self, owner: &str, name: &str, files: &[(&str, &str)]) -> String {
        let timestamp = {
            let mut w = self.world();
            w.clock += 1;
            w.clock
        };
        self.commit_dated(owner, name, files, timestamp)
    }

    /// A commit like [`FakeGitHub::commit`] dated `timestamp` (seconds since the epoch) rather than by the fake's clock.
    pub fn commit_dated(&self, owner: &str, name: &str, files: &[(&str, &str)], timestamp: i64) -> String {
        let mut w = self.world();
        let repo = w.repo_mut(owner, name);
        let tree = git::build_tree(files, &mut repo.objects);
        let message = format!("commit {} of {owner}/{name}", repo.commits.len() + 1);
        let sha = git::commit_sha(&tree, timestamp, &message);
        let who = git::Signature::test(timestamp);
        let commit = Commit {
            sha: sha.clone(),
            tree,
            parents: Vec::new(),
            author: who.clone(),
            committer: who,
            message: format!("{message}\n"),
        };
        repo.commits.insert(sha.clone(), commit);
        sha
    }

    /// Points `branch` at `sha` (a commit made with [`FakeGitHub::commit`] or through the API). When that moves the
    /// branch, the repository's `pushed_at` becomes now (at least a second after the previous value, so each push is
    /// visible in GitHub's one-second timestamps), and open pull requests from that branch get it as their head.
    pub fn set_branch(&self, owner: &str, name: &str, branch: &str, sha: &str) {
        let mut w = self.world();
        let repo = w.repo_mut(owner, name);
        assert!(repo.commits.contains_key(sha), "fake GitHub: no commit {sha} in {owner}/{name}");
        repo.move_branch(branch, sha);
    }

    /// Sets the repository's `pushed_at` (e.g. long ago, for a dormant repository).
    pub fn set_pushed_at(&self, owner: &str, name: &str, at: DateTime<Utc>) {
        self.world().repo_mut(owner, name).pushed_at = at;
    }

    /// The id of repository `owner/name`.
    pub fn repo_id(&self, owner: &str, name: &str) -> u64 {
        self.world().repo_mut(owner, name).id
    }

    /// `archived` in the repository's JSON; an archived repository answers writes 403 "Repository was archived so
    /// is read-only.", as GitHub does.
    pub fn set_archived(&self, owner: &str, name: &str, archived: bool) {
        self.world().repo_mut(owner, name).archived = archived;
    }

    /// `fork` in the repository's JSON.
    pub fn set_fork(&self, owner: &str, name: &str, fork: bool) {
        self.world().repo_mut(owner, name).fork = fork;
    }

    /// `has_issues` in the repository's JSON; when false, the issue endpoints answer 410 "Issues are disabled for
    /// this repo" (pull requests stay reachable).
    pub fn set_has_issues(&self, owner: &str, name: &str, has_issues: bool) {
        self.world().repo_mut(owner, name).has_issues = has_issues;
    }

    /// Whether the sub-issue endpoints exist for this repository (as on a GitHub Enterprise Server without them):
    /// when false they answer 404 "Not Found" and issue JSON has no `sub_issues_summary`/`parent_issue_url`.
    pub fn set_sub_issues_available(&self, owner: &str, name: &str, available: bool) {
        self.world().repo_mut(owner, name).sub_issues_available = available;
    }

    /// The branch protection `GET .../branches/{branch}/protection` returns (GitHub's JSON), or none (404 "Branch
    /// not protected"). The JSON is checked against GitHub's schema when it is served.
    pub fn set_branch_protection(&self, owner: &str, name: &str, branch: &str, protection: Option<Value>) {
        let mut w = self.world();
        let repo = w.repo_mut(owner, name);
        match protection {
            Some(p) => repo.protection.insert(branch.to_string(), p),
            None => repo.protection.remove(branch),
        };
    }

    /// The items `GET .../rules/branches/{branch}` returns.
    pub fn set_rules(&self, owner: &str, name: &str, branch: &str, rules: Vec<Value>) {
        let mut w = self.world();
        w.repo_mut(owner, name).rules.insert(branch.to_string(), rules);
    }

    pub fn set_dependabot(&self, owner: &str, name: &str, state: DependabotState<'_>) {
        let mut w = self.world();
        let base = now() - chrono::Duration::days(30);
        let repo = w.repo_mut(owner, name);
        repo.dependabot = match state {
            DependabotState::Disabled => None,
            DependabotState::Alerts(alerts) => Some(
                alerts
                    .iter()
                    .enumerate()
                    .map(|(i, (severity, state))| {
                        assert!(["low", "medium", "high", "critical"].contains(severity), "severity {severity:?}");
                        assert!(["open", "fixed", "dismissed", "auto_dismissed"].contains(state), "state {state:?}");
                        Alert {
                            number: i as u64 + 1,
                            severity: severity.to_string(),
                            state: state.to_string(),
                            created_at: base + chrono::Duration::hours(i as i64),
                        }
                    })
                    .collect(),
            ),
        };
    }

    /// An open pull request `Pull request {number}` by `octocat` (replacing any of that number). The branches need
    /// not exist; while the base branch does not, `base.sha` is the head's sha.
    pub fn add_pull(&self, owner: &str, name: &str, number: u64, head_sha: &str, head_ref: &str, base_ref: &str) {
        let mut w = self.world();
        let id = w.id();
        let repo = w.repo_mut(owner, name);
        let pull = Pull::new(id, number, head_ref, head_sha, base_ref, &format!("Pull request {number}"), "octocat");
        repo.pulls.insert(number, pull);
        let issue_id = w.id();
        let mut issue = Issue::new(issue_id, number, &format!("Pull request {number}"), None, "octocat");
        issue.pull = true;
        w.repo_mut(owner, name).issues.insert(number, issue);
    }

    /// An open issue `Issue {number}` by `octocat`, with no labels.
    pub fn add_issue(&self, owner: &str, name: &str, number: u64) {
        let mut w = self.world();
        let id = w.id();
        let issue = Issue::new(id, number, &format!("Issue {number}"), None, "octocat");
        w.repo_mut(owner, name).issues.insert(number, issue);
    }

    /// An open issue by `user` (e.g. `octocat`, or `shipshape-test[bot]` for one the App made earlier), numbered
    /// next in the repository's sequence (shared with pull requests); labels missing from the repository are
    /// created. Returns its number.
    pub fn create_issue(&self, owner: &str, name: &str, title: &str, body: &str, labels: &[&str], user: &str) -> u64 {
        let mut w = self.world();
        let id = w.id();
        let key = repo_key(owner, name);
        let labels = labels.iter().map(|l| w.ensure_label(&key, l)).collect();
        let repo = w.repo_mut(owner, name);
        let number = repo.next_number();
        let mut issue = Issue::new(id, number, title, Some(body.to_string()), user);
        issue.labels = labels;
        repo.issues.insert(number, issue);
        number
    }

    /// Closes (`state` `closed`, `state_reason` default `completed`) or reopens (`open`, `state_reason`
    /// `reopened`) an issue as a person would, by `octocat`.
    pub fn set_issue_state(&self, owner: &str, name: &str, number: u64, state: &str, state_reason: Option<&str>) {
        let mut w = self.world();
        let repo = w.repo_mut(owner, name);
        if repo.pulls.contains_key(&number) {
            return repo.set_pull_state(number, state, state_reason, "octocat");
        }
        let issue = repo.issues.get_mut(&number).unwrap_or_else(|| panic!("fake GitHub: no issue {number}"));
        issue.set_state(state, state_reason, "octocat");
    }

    /// The repository's issues (not pull requests), by number.
    pub fn issues(&self, owner: &str, name: &str) -> Vec<FakeIssue> {
        let w = self.world();
        let Some(repo) = w.repos.get(&repo_key(owner, name)) else { return Vec::new() };
        repo.issues.values().filter(|i| !i.pull).map(Issue::fake).collect()
    }

    /// The numbers of an issue's sub-issues, in the order they were added.
    pub fn sub_issues(&self, owner: &str, name: &str, parent_number: u64) -> Vec<u64> {
        let w = self.world();
        let repo = w.repos.get(&repo_key(owner, name));
        repo.and_then(|r| r.issues.get(&parent_number)).map(|i| i.sub_issues.clone()).unwrap_or_default()
    }

    /// The repository's labels as `(name, color, description)`, by lower-case name.
    pub fn labels(&self, owner: &str, name: &str) -> Vec<(String, String, Option<String>)> {
        let w = self.world();
        let Some(repo) = w.repos.get(&repo_key(owner, name)) else { return Vec::new() };
        repo.labels.values().map(|l| (l.name.clone(), l.color.clone(), l.description.clone())).collect()
    }

    /// Gives `login` a role on the repository, as `GET .../collaborators/{username}/permission` reports it: `admin`,
    /// `maintain`, `write`, `triage` or `read` (GitHub's `permission` is then `admin`, `write`, `write`, `read` and
    /// `read`); `none` takes it away again. Logins are case-insensitive.
    pub fn set_permission(&self, owner: &str, name: &str, login: &str, role: &str) {
        assert!(
            ["admin", "maintain", "write", "triage", "read", "none"].contains(&role),
            "fake GitHub: unknown role {role:?} (admin, maintain, write, triage, read or none)"
        );
        let mut w = self.world();
        let permissions = &mut w.repo_mut(owner, name).permissions;
        if role == "none" {
            permissions.remove(&login.to_lowercase());
        } else {
            permissions.insert(login.to_lowercase(), (login.to_string(), role.to_string()));
        }
    }

    /// A comment by a person (`login`) on issue or pull request `issue_number`, as the one an `issue_comment` webhook
    /// is about; returns its id. It is listed with the App's comments ([`FakeGitHub::issue_comments`], `GET
    /// .../comments`), with `user` the person.
    pub fn add_user_comment(&self, owner: &str, name: &str, issue_number: u64, login: &str, body: &str) -> u64 {
        let mut w = self.world();
        let id = w.id();
        let key = repo_key(owner, name);
        let repo = w.repo_mut(owner, name);
        let issue = repo
            .issues
            .get_mut(&issue_number)
            .unwrap_or_else(|| panic!("fake GitHub: no issue or pull request {issue_number} in {owner}/{name}"));
        let at = now();
        issue.updated_at = at;
        let at = timestamp(at);
        let comment = Comment {
            id,
            repo: key,
            issue_number,
            user: login.to_string(),
            body: body.to_string(),
            created_at: at.clone(),
            updated_at: at,
        };
        w.comments.insert(id, comment);
        id
    }

    /// The contents (`+1`, `eyes`, ...) of the reactions to an issue comment, oldest first.
    pub fn comment_reactions(&self, owner: &str, name: &str, comment_id: u64) -> Vec<String> {
        let w = self.world();
        let key = repo_key(owner, name);
        if w.comments.get(&comment_id).is_none_or(|c| c.repo != key) {
            return Vec::new();
        }
        w.reactions.values().filter(|r| r.comment_id == comment_id).map(|r| r.content.clone()).collect()
    }

    /// The repository's pull requests, by number.
    pub fn pulls(&self, owner: &str, name: &str) -> Vec<FakePull> {
        let w = self.world();
        let Some(repo) = w.repos.get(&repo_key(owner, name)) else { return Vec::new() };
        repo.pulls.values().map(|p| p.fake(repo)).collect()
    }

    /// Merges open pull request `number` as GitHub's merge button does when there is no conflict: a merge commit
    /// (parents: the base branch's head, then the pull request's head) whose tree is the head's changes since the
    /// merge base applied to the base branch, file by file (when the base did not move, the head's tree); the base
    /// branch moves to it, and the pull request is closed and merged (`merged_by` `octocat`). Returns the merge
    /// commit's sha. Sends no webhook: the test sends `pull_request` `closed` and `push` itself.
    pub fn merge_pull(&self, owner: &str, name: &str, number: u64) -> String {
        let mut w = self.world();
        let key = repo_key(owner, name);
        assert!(w.repos.contains_key(&key), "fake GitHub: no repository {owner}/{name}");
        catalog::merge(&mut w, &key, number)
    }

    /// Closes pull request `number` without merging it, as a person (`octocat`) would.
    pub fn close_pull(&self, owner: &str, name: &str, number: u64) {
        let mut w = self.world();
        let repo = w.repo_mut(owner, name);
        assert!(repo.pulls.contains_key(&number), "fake GitHub: no pull request {number} in {owner}/{name}");
        repo.set_pull_state(number, "closed", None, "octocat");
    }

    /// The text of the file at `path` in `git_ref` (a branch name, `heads/...`, or a commit sha, full or abbreviated
    /// to 7+); `None` when there is no such commit or file, or the file is not UTF-8.
    pub fn file_at(&self, owner: &str, name: &str, git_ref: &str, path: &str) -> Option<String> {
        let w = self.world();
        let repo = w.repos.get(&repo_key(owner, name))?;
        let sha = handlers::resolve_commit(repo, git_ref)?;
        let blob = git::lookup(&repo.objects, &repo.commits[&sha].tree, path)?;
        String::from_utf8(repo.objects.blobs.get(&blob)?.clone()).ok()
    }

    /// The repository's branches as `(name, sha)`, by name.
    pub fn branches(&self, owner: &str, name: &str) -> Vec<(String, String)> {
        let w = self.world();
        let Some(repo) = w.repos.get(&repo_key(owner, name)) else { return Vec::new() };
        repo.branches.iter().map(|(b, sha)| (b.clone(), sha.clone())).collect()
    }

    /// Fault injection: the next `times` requests matching `method` and the OpenAPI path `template` (e.g. `("POST",
    /// "/repos/{owner}/{repo}/check-runs")`) are answered `status` with `headers` and `body` (`Value::Null`: no body)
    /// instead of being handled; then real handling resumes. The usual rate-limit headers are sent too, and
    /// `headers` override them. See [`FakeGitHub::secondary_rate_limit_body`].
    pub fn fail_next(
        &self,
        method: &str,
        template: &str,
        times: usize,
        status: u16,
        headers: &[(&str, &str)],
        body: Value,
    ) {
        assert!(
            Spec::global().has_operation(method, template),
            "fake GitHub: fail_next for {method} {template}, which is not an operation of the OpenAPI description"
        );
        self.world().faults.push(Fault {
            method: method.to_uppercase(),
            template: template.to_string(),
            remaining: times,
            status,
            headers: headers.iter().map(|(k, v)| (k.to_lowercase(), v.to_string())).collect(),
            body,
        });
    }

    /// The body GitHub sends with a secondary rate limit (403 or 429, usually with `retry-after`).
    pub fn secondary_rate_limit_body() -> Value {
        json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. \
                        If you reach out to GitHub Support for help, please include the request ID \
                        0000:0000:0000000:0000000:00000000.",
            "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/\
                                  rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "403"
        })
    }

    /// Sets the primary rate limit's remaining budget; at 0 requests are answered 403 "API rate limit exceeded".
    /// The hourly budget (`x-ratelimit-limit`), and all of it remaining.
    pub fn set_rate_limit(&self, limit: u64) {
        let mut w = self.world();
        w.rate_limit = limit;
        w.rate_remaining = limit;
    }

    pub fn set_rate_limit_remaining(&self, remaining: u64) {
        self.world().rate_remaining = remaining;
    }

    /// Expires every installation token minted so far (they then answer 401 "Bad credentials").
    pub fn expire_tokens(&self) {
        let past = now() - chrono::Duration::seconds(1);
        for token in self.world().tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.world().requests.clone()
    }

    /// The repository's check runs as `GET .../check-runs/{id}` returns them, plus the `actions` last sent for each
    /// (GitHub does not return those), oldest first.
    pub fn check_runs(&self, owner: &str, name: &str) -> Vec<Value> {
        let w = self.world();
        let key = repo_key(owner, name);
        w.check_runs
            .values()
            .filter(|r| r.repo == key)
            .map(|r| {
                let mut v = handlers::check_run_json(&w, &self.url, r);
                v["actions"] = Value::Array(r.actions.clone());
                v
            })
            .collect()
    }

    /// The annotations of a check run as `GET .../check-runs/{id}/annotations` returns them, in order.
    pub fn annotations(&self, check_run_id: u64) -> Vec<Value> {
        let w = self.world();
        w.check_runs.get(&check_run_id).map(|r| r.annotations.clone()).unwrap_or_default()
    }

    /// The comments on an issue or pull request as GitHub returns them, oldest first.
    pub fn issue_comments(&self, owner: &str, name: &str, number: u64) -> Vec<Value> {
        let w = self.world();
        let key = repo_key(owner, name);
        w.comments
            .values()
            .filter(|c| c.repo == key && c.issue_number == number)
            .map(|c| handlers::comment_json(&w, &self.url, c))
            .collect()
    }

    /// Every OpenAPI violation seen so far: requests that do not fit GitHub's description, and responses of the
    /// fake that do not fit it.
    pub fn violations(&self) -> Vec<String> {
        self.world().violations.clone()
    }

    /// Returns the violations seen so far and forgets them (for tests that provoke some on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.world().violations)
    }

    /// Panics, listing them, if any violation was seen.
    #[track_caller]
    pub fn assert_clean(&self) {
        let violations = self.violations();
        assert!(violations.is_empty(), "fake GitHub saw OpenAPI violations:\n  {}", violations.join("\n  "));
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
        if std::thread::panicking() {
            return;
        }
        let violations = std::mem::take(&mut self.world().violations);
        if !violations.is_empty() {
            panic!(
                "fake GitHub dropped with {} unexamined OpenAPI violation(s) (use take_violations() for expected \
                 ones):\n  {}",
                violations.len(),
                violations.join("\n  ")
            );
        }
    }
}

async fn serve(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    if let Some(response) = web::route(&inner, parts.method.as_str(), &parts.uri, &body) {
        return response;
    }
    let slow = inner.world.lock().unwrap_or_else(|p| p.into_inner()).slow.clone();
    if let Some((part, delay)) = slow.filter(|(part, _)| parts.uri.path().contains(part.as_str())) {
        tracing::debug!(path = %parts.uri.path(), part, "fake GitHub: answering late");
        tokio::time::sleep(delay).await;
    }
    let reply = dispatch(&inner, parts.method.as_str(), &parts.uri, &parts.headers, &body);
    let mut response = match &reply.body {
        Some(body) => {
            let mut r = serde_json::to_string(body).expect("JSON").into_response();
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
            r
        }
        None => ().into_response(),
    };
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Conditional requests: a weak `ETag` (a hash of the body) on a GET answered 200, and `304 Not Modified` without a
/// body when the request's `If-None-Match` names it (or is `*`).
fn conditional(reply: &mut Reply, headers: &HeaderMap) {
    let Some(body) = &reply.body else { return };
    let digest = Sha256::digest(serde_json::to_vec(body).expect("JSON"));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("W/\"{hex}\"");
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let matches = headers
        .get_all("if-none-match")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || strip(t) == strip(&etag));
    reply.headers.push(("etag".into(), etag));
    if matches {
        reply.status = 304;
        reply.body = None;
    }
}

fn dispatch(inner: &Inner, method: &str, uri: &axum::http::Uri, headers: &HeaderMap, body: &[u8]) -> Reply {
    let at = std::time::Instant::now();
    let spec = Spec::global();
    let path = uri.path();
    let query = uri.query().map(parse_query).unwrap_or_default();
    let mut w = inner.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let caller = w.authenticate(headers);
    let mut violations = Vec::new();
    let found = spec.find(method, path);
    let label = match &found {
        Some(m) => format!("{method} {}", m.op.template),
        None => format!("{method} {path}"),
    };
    let body_json: Result<Option<Value>, String> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        serde_json::from_slice(body).map(Some).map_err(|e| e.to_string())
    };
    let mut injected = false;
    let reply = match (&found, &body_json) {
        (None, _) => {
            violations.push(format!("unknown endpoint {method} {path}"));
            Reply::error(404, "Not Found")
        }
        (Some(_), Err(e)) => {
            violations.push(format!("{label}: request body is not JSON ({e})"));
            Reply::error(400, "Problems parsing JSON")
        }
        (Some(m), Ok(body_json)) => {
            for problem in spec.check_query(m, &query) {
                violations.push(format!("{label}: {problem}"));
            }
            let body_problems = spec.check_body(m, body_json.as_ref());
            for problem in &body_problems {
                violations.push(format!("{label}: {problem}"));
            }
            let fault = w
                .faults
                .iter_mut()
                .find(|f| f.remaining > 0 && f.method.eq_ignore_ascii_case(method) && f.template == m.op.template);
            if let Some(fault) = fault {
                fault.remaining -= 1;
                injected = true;
                let mut reply = Reply {
                    status: fault.status,
                    headers: fault.headers.clone(),
                    body: (!fault.body.is_null()).then(|| fault.body.clone()),
                };
                if fault.status == 204 || fault.status == 304 {
                    reply.body = None;
                }
                w.faults.retain(|f| f.remaining > 0);
                reply
            } else if w.rate_remaining == 0
                && matches!(caller, Caller::App | Caller::Installation { .. } | Caller::User { .. })
            {
                let who = match &caller {
                    Caller::Installation { id, .. } => format!("installation ID {id}"),
                    Caller::User { login } => format!("user {login}"),
                    _ => format!("app ID {}", w.app_id),
                };
                Reply::json(
                    403,
                    json!({"message": format!("API rate limit exceeded for {who}."),
                           "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                           "status": "403"}),
                )
            } else if !body_problems.is_empty() {
                Reply::error(422, &format!("Invalid request.\n\n{}", body_problems.join("\n")))
            } else {
                let ctx = Ctx {
                    base: &inner.url,
                    method,
                    template: &m.op.template,
                    path,
                    params: &m.params,
                    query: &query,
                    body: body_json.as_ref(),
                    caller: &caller,
                    spec,
                };
                match handlers::route(&mut w, &ctx) {
                    Some(reply) => reply,
                    None => {
                        violations.push(format!("{label}: in GitHub's description but not implemented by the fake"));
                        Reply::error(404, "Not Found")
                    }
                }
            }
        }
    };
    if let (Some(m), false) = (&found, injected) {
        for problem in spec.check_response(m, reply.status, reply.body.as_ref()) {
            violations.push(format!("fake response to {label} ({}): {problem}", reply.status));
        }
    }
    let mut reply = reply;
    if method.eq_ignore_ascii_case("GET") && reply.status == 200 && !injected {
        conditional(&mut reply, headers);
    }
    // GitHub: a 304 does not count against the primary rate limit.
    let counted = matches!(caller, Caller::App | Caller::Installation { .. }) && !injected && reply.status != 304;
    if counted {
        w.rate_remaining = w.rate_remaining.saturating_sub(1);
    }
    let mut decorated = vec![
        ("x-ratelimit-limit".to_string(), w.rate_limit.to_string()),
        ("x-ratelimit-remaining".to_string(), w.rate_remaining.to_string()),
        ("x-ratelimit-reset".to_string(), w.rate_reset.to_string()),
        ("x-ratelimit-used".to_string(), (w.rate_limit - w.rate_remaining.min(w.rate_limit)).to_string()),
        ("x-ratelimit-resource".to_string(), "core".to_string()),
        ("x-github-media-type".to_string(), "github.v3; format=json".to_string()),
        ("x-github-api-version-selected".to_string(), "2022-11-28".to_string()),
        ("x-github-request-id".to_string(), format!("FAKE:{:X}", w.requests.len() + 1)),
    ];
    decorated.retain(|(k, _)| !reply.headers.iter().any(|(h, _)| h == k));
    decorated.append(&mut reply.headers);
    reply.headers = decorated;
    let installation = match &caller {
        Caller::Installation { id, .. } => Some(*id),
        _ => None,
    };
    let recorded_headers = headers
        .iter()
        .map(|(k, v)| {
            let value = if k == "authorization" { "<redacted>".into() } else { v.to_str().unwrap_or("").to_string() };
            (k.as_str().to_string(), value)
        })
        .collect();
    w.requests.push(RecordedRequest {
        method: method.to_string(),
        template: found.as_ref().map(|m| m.op.template.clone()),
        path: path.to_string(),
        query,
        status: reply.status,
        auth: caller.kind(),
        installation,
        body: body_json.ok().flatten(),
        headers: recorded_headers,
        injected,
        at,
    });
    w.violations.extend(violations);
    reply
}
