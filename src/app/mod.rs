//! The GitHub App's behaviour: what each event does. Handlers get typed events ([`crate::github::events`]) and talk
//! to GitHub through [`crate::github::client`]; the scoring itself is the same pure engine the CLI uses.

pub mod catalog_pr;
pub mod catalog_review;
pub mod check_run;
pub mod commands;
pub mod persist;
mod publish;
mod recovery;
pub mod remote_facts;
pub mod sweep;
pub mod tracking;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::dashboard::CatalogView;
use crate::diag::Diagnostics;
use crate::engine::{self, Scorecard, Subject};
use crate::facts::{LinkedFacts, ReadPlan};
use crate::github::client::{GhError, GitHubApp, Installation, ResponseCache};
use crate::github::events::{CheckRunAction, CheckSuiteAction, Event, PrAction, PrRef, Repository};
use crate::github::path::repo_api;
use crate::policy::Policy;
use crate::store::ns;
use chrono::{DateTime, Utc};
use publish::CheckRunOutput;
pub use publish::comment_body;
use remote_facts::BlobCache;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Small persistent key-value caches (check run ids, comment ids, scorecards, linked facts).
pub trait KvStore: Send + Sync {
    fn kv_get(&self, namespace: &str, key: &str) -> Pin<Box<dyn Future<Output = Option<String>> + Send + '_>>;
    fn kv_put(&self, namespace: &str, key: &str, value: String) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The evaluation history.
pub trait HistoryStore: Send + Sync {
    /// Records a scorecard of `git_ref`; a failure is logged, never fatal to the evaluation.
    fn record(&self, card: &Scorecard, git_ref: &str) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Records a catalog service's default-branch scorecard as its record of the day (the dashboard's history).
    fn record_day(&self, card: &Scorecard) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// For each rule whose latest status on `git_ref` is `fail`, when its current run of failures started.
    fn failing_since(
        &self,
        repository: &str,
        git_ref: &str,
    ) -> Pin<Box<dyn Future<Output = BTreeMap<String, DateTime<Utc>>> + Send + '_>>;
}

/// The deliveries the App has accepted.
pub trait DeliveryLedger: Send + Sync {
    /// Whether a delivery with this id (GitHub's GUID, the `X-GitHub-Delivery` header) was ever accepted.
    fn delivery_known(&self, guid: &str) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + '_>>;
}

/// Everything the App keeps between deliveries.
pub trait AppStore: BlobCache + KvStore + HistoryStore + ResponseCache + DeliveryLedger {}
impl<T: BlobCache + KvStore + HistoryStore + ResponseCache + DeliveryLedger> AppStore for T {}

/// Why handling an event did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// Try again later (GitHub unavailable or rate limited).
    #[error("{reason}")]
    Transient { reason: String, retry_after: Option<Duration> },
    /// Retrying will not help (repository gone, request refused).
    #[error("{0}")]
    Permanent(String),
}

/// Starts the reason of a transient error caused by a refused token (the cached token is dropped).
const TOKEN_REFUSED: &str = "token refused: ";

impl From<GhError> for AppError {
    fn from(e: GhError) -> Self {
        match e {
            GhError::Transient { retry_after, .. } => AppError::Transient { reason: e.to_string(), retry_after },
            GhError::Unauthorized { .. } => {
                AppError::Transient { reason: format!("{TOKEN_REFUSED}{e}"), retry_after: None }
            }
            other => AppError::Permanent(other.to_string()),
        }
    }
}

/// How long linked-tool facts (branch protection, alerts) are reused before they are read again.
const LINKED_FACTS_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// How long the catalog's head commit is trusted before asking GitHub again.
const CATALOG_HEAD_TTL: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Marks the App's sticky pull-request comment.
pub const COMMENT_MARKER: &str = "<!-- shipshape:production-readiness -->";

pub struct AppConfig {
    pub app_id: u64,
    /// `owner/name` of the catalog repository.
    pub catalog_repo: String,
    /// Base URL for links in check runs.
    pub public_url: Option<String>,
    /// Where tier-1 degradations are announced.
    pub slack: Option<crate::slack::Slack>,
    /// PagerDuty, Prometheus and `http` checks.
    pub providers: crate::providers::Providers,
}

pub struct App {
    config: AppConfig,
    github: Arc<GitHubApp>,
    store: Arc<dyn AppStore>,
    clock: Arc<dyn Clock>,
    catalog: tokio::sync::Mutex<Option<CatalogSnapshot>>,
    jobs: Option<Arc<dyn sweep::JobQueue>>,
}

/// What the Slack notifier remembers of a tier-1 service.
#[derive(Serialize, Deserialize)]
struct SlackRecord {
    meets_required: bool,
    level: Option<String>,
}

/// The catalog and the policy at one commit of the catalog repository.
#[derive(Clone)]
pub(crate) struct CatalogSnapshot {
    /// The catalog commit (`none` when the catalog repository cannot be read).
    sha: String,
    /// The catalog repository's default branch.
    branch: String,
    /// The catalog repository's web address (GitHub's `html_url`).
    html_url: Option<String>,
    checked_at: chrono::DateTime<chrono::Utc>,
    catalog: Arc<Catalog>,
    policy: Arc<Policy>,
    notes: Vec<String>,
    /// The catalog files read (path relative to the catalog root → text), for minimal edits.
    files: Arc<BTreeMap<String, String>>,
}

impl App {
    pub fn new(config: AppConfig, github: Arc<GitHubApp>, store: Arc<dyn AppStore>, clock: Arc<dyn Clock>) -> Self {
        Self { config, github, store, clock, catalog: tokio::sync::Mutex::new(None), jobs: None }
    }

    /// Lets the App queue its own jobs (sweeps).
    pub fn with_jobs(mut self, jobs: Arc<dyn sweep::JobQueue>) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// Handles one event. Events and actions that need no work succeed at once.
    pub async fn handle_event(&self, event: Event) -> Result<(), AppError> {
        if !acts_on(&event, self.config.app_id, &self.config.catalog_repo) {
            return Ok(());
        }
        let installation = event.installation();
        let result = self.dispatch(event).await;
        if let (Err(AppError::Transient { reason, .. }), Some(id)) = (&result, installation)
            && reason.starts_with(TOKEN_REFUSED)
        {
            // Mint a new token on the retry instead of repeating the refused one.
            self.github.forget(id).await;
        }
        result
    }

    async fn dispatch(&self, event: Event) -> Result<(), AppError> {
        match event {
            Event::PullRequest(e) if e.repository.full_name().eq_ignore_ascii_case(&self.config.catalog_repo) => {
                let installation = self.installation(e.installation).await?;
                match e.action {
                    PrAction::Closed => self.handle_catalog_merge(&installation, e.pull_request.number.0).await,
                    _ => self.review_catalog_pull_request(&installation, &e.pull_request.pr_ref()).await,
                }
            }
            // A merged pull request of a service is scored by the push to its default branch.
            Event::PullRequest(e) if e.action == PrAction::Closed => Ok(()),
            Event::PullRequest(e) => {
                let installation = self.installation(e.installation).await?;
                self.evaluate_pull_request(&installation, &e.repository, &e.pull_request.pr_ref()).await
            }
            Event::IssueComment(e) if e.repository.full_name().eq_ignore_ascii_case(&self.config.catalog_repo) => {
                tracing::debug!("commands are for service repositories, not the catalog");
                Ok(())
            }
            Event::IssueComment(e) => self.handle_comment(e).await,
            Event::CheckSuite(e) => {
                let installation = self.installation(e.installation).await?;
                for pr in &e.pull_requests {
                    self.evaluate_pull_request(&installation, &e.repository, pr).await?;
                }
                Ok(())
            }
            Event::CheckRun(e) => {
                let installation = self.installation(e.installation).await?;
                for pr in &e.pull_requests {
                    self.evaluate_pull_request(&installation, &e.repository, pr).await?;
                }
                Ok(())
            }
            Event::Push(e) if e.repository.full_name().eq_ignore_ascii_case(&self.config.catalog_repo) => {
                // The catalog changed: the services it changed (or, for a policy change, all) are scored again.
                *self.catalog.lock().await = None;
                let installation = self.installation(e.installation).await?;
                self.handle_catalog_push(&installation, &e.repository.default_branch, &e.before, &e.after).await
            }
            Event::Push(e) => {
                let installation = self.installation(e.installation).await?;
                self.evaluate_default_branch_with(&installation, &e.repository, &e.after, None, false).await.map(|_| ())
            }
            Event::Installation(e) => {
                let repositories = e.repositories.map(|r| r.iter().map(|r| r.id.0).collect());
                let job = sweep::Job::Sweep {
                    reason: format!("installation {}", e.action),
                    installation: Some(e.installation.0),
                    repositories,
                };
                self.enqueue(format!("installation-{}-{}", e.installation, self.clock.now().timestamp_millis()), job)
                    .await
            }
            Event::InstallationRepositories(e) => {
                let ids: Vec<u64> = e.added.iter().map(|r| r.id.0).collect();
                let key = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
                let job = sweep::Job::Sweep {
                    reason: "repositories added".into(),
                    installation: Some(e.installation.0),
                    repositories: Some(ids),
                };
                self.enqueue(format!("installation-{}-added-{key}", e.installation), job).await
            }
            _ => Ok(()),
        }
    }

    /// Scores the default branch at `sha` and records it in the history (readiness decays: pushes re-score).
    pub async fn evaluate_default_branch(
        &self,
        github: &Installation,
        repository: &Repository,
        sha: &str,
    ) -> Result<Scorecard, AppError> {
        self.evaluate_default_branch_with(github, repository, sha, None, false).await
    }

    /// [`App::evaluate_default_branch`], then the tracking issue and the Slack alert. `pushed_at` is the listing's
    /// (sweeps); `fresh_linked` reads the linked-tool facts again (conditionally) instead of trusting the cache.
    pub async fn evaluate_default_branch_with(
        &self,
        github: &Installation,
        repository: &Repository,
        sha: &str,
        pushed_at: Option<String>,
        fresh_linked: bool,
    ) -> Result<Scorecard, AppError> {
        let repo = repository.full_name();
        let span = tracing::info_span!("evaluate_default_branch", repo = %repo, commit = %sha);
        async {
            let (snapshot, facts, linked) = self.default_branch_inputs(github, repository, sha, fresh_linked).await?;
            let mut card = self.score(&repo, &facts, &linked, &snapshot);
            card.notes.extend(snapshot.notes.iter().cloned());
            self.store.record(&card, &format!("refs/heads/{}", repository.default_branch)).await;
            if let Ok(json) = serde_json::to_string(&card) {
                self.store.kv_put(ns::SCORECARD, &format!("{repo}@{sha}"), json).await;
            }
            self.remember_head(&repo, sha, pushed_at).await;
            tracing::info!(level = ?card.level, meets_required = card.meets_required, "default branch evaluated");
            // Tracking issues and alerts are for catalog services: an unregistered repository is scored (and its pull
            // requests checked) but gets no issue, so installing the App on a whole organisation files nothing there.
            let is_service = snapshot.catalog.service_for_repository(&repo).is_some();
            if is_service {
                self.store.record_day(&card).await;
            }
            if is_service && !repository.archived && !repository.fork {
                if repository.has_issues {
                    self.track(github, repository, &card, &snapshot.policy).await?;
                } else {
                    tracing::info!("issues are disabled: no tracking issue");
                }
                self.alert_degradation(repository, &card).await;
            }
            Ok(card)
        }
        .instrument(span)
        .await
    }

    /// One Slack message when a tier-1 service drops below its required level (not on every evaluation while it
    /// stays below). A message Slack did not take is tried again at the next evaluation.
    async fn alert_degradation(&self, repository: &Repository, card: &Scorecard) {
        let repo = repository.full_name();
        if card.tier != 1 {
            return;
        }
        let previous: Option<SlackRecord> =
            self.store.kv_get(ns::SLACK, &repo).await.and_then(|j| serde_json::from_str(&j).ok());
        let record = SlackRecord { meets_required: card.meets_required, level: card.level.clone() };
        let dropped = previous.as_ref().is_some_and(|p| p.meets_required) && !card.meets_required;
        if dropped && let Some(slack) = &self.config.slack {
            // GitHub's own addresses (right on GitHub Enterprise Server too): the issue's, and its repository's.
            let mut links = Vec::new();
            if let Some(url) = self.tracking_issue_url(&repo).await {
                if let Some((repository_url, _)) = url.rsplit_once("/issues/") {
                    links.push(("Repository".to_string(), repository_url.to_string()));
                }
                links.insert(0, ("Tracking issue".to_string(), url));
            }
            let previous_level = previous.as_ref().and_then(|p| p.level.as_deref());
            let message = crate::slack::degradation_message(card, previous_level, &links);
            match slack.post(&message).await {
                Ok(()) => tracing::info!(repo = %repo, "degradation announced on Slack"),
                Err(e) => {
                    // Keep the previous record: the next evaluation tries again.
                    tracing::warn!(repo = %repo, error = %e, "Slack message not sent; will retry");
                    return;
                }
            }
        }
        if let Ok(json) = serde_json::to_string(&record) {
            self.store.kv_put(ns::SLACK, &repo, json).await;
        }
    }

    fn cache(&self) -> &dyn ResponseCache {
        self.store.as_ref()
    }

    async fn installation(&self, id: Option<crate::github::events::InstallationId>) -> Result<Installation, AppError> {
        let id = id.ok_or_else(|| AppError::Permanent("the event names no installation".into()))?;
        Ok(self.github.installation(id).await?)
    }

    /// Scores the pull request's head against its base and reports it in the `Production readiness` check run.
    pub async fn evaluate_pull_request(
        &self,
        github: &Installation,
        repository: &Repository,
        pr: &PrRef,
    ) -> Result<(), AppError> {
        let repo = repository.full_name();
        let span = tracing::info_span!("evaluate_pull_request", repo = %repo, pr = %pr.number, head = %pr.head_sha);
        async {
        if repository.archived {
            tracing::info!("repository archived: not evaluated");
            return Ok(());
        }
        let check_id = self.start_check_run(github, &repo, &pr.head_sha).await?;

        let snapshot = self.catalog_snapshot(github).await?;
        let plan = ReadPlan::new(snapshot.policy.read_globs.clone());
        let service = snapshot.catalog.service_for_repository(&repo);
        let linked =
            self.linked_facts(github, &repo, &pr.base_ref, None, false, service, &[&snapshot.policy]).await?;
        let base = self.scorecard(github, &repo, &pr.base_sha, &snapshot, &plan, &linked).await?;
        let head_facts = remote_facts::collect(github, self.store.as_ref(), &repo, &pr.head_sha, &plan, false).await?;
        let mut head = self.score(&repo, &head_facts, &linked, &snapshot);
        head.notes.extend(snapshot.notes.iter().cloned());

        let diff = engine::diff(&base, &head);
        let gate = snapshot.policy.tiers[&head.tier].gate;
        let conclusion = check_run::conclusion(gate, &head, &diff);
        let summary = check_run::summary(&head, &diff, gate, conclusion)
            .map_err(|e| AppError::Permanent(format!("cannot render the check run: {e:#}")))?;
        let annotations = check_run::annotations(&head, &head_facts);
        self.finish_check_run(github, &repo, check_id, &head, conclusion, &summary, &annotations).await?;
        if let Ok(json) = serde_json::to_string(&head) {
            self.store.kv_put(ns::SCORECARD, &format!("{repo}@{}", pr.head_sha), json).await;
        }
        self.store.record(&head, &format!("refs/pull/{}/head", pr.number)).await;
        self.sticky_comment(github, &repo, pr, &head, &diff).await?;
        tracing::info!(level = ?head.level, conclusion = ?conclusion, fixed = diff.fixed.len(), broken = diff.broken.len(), "evaluated");
        Ok(())
        }
        .instrument(span)
        .await
    }

    fn score(
        &self,
        repo: &str,
        facts: &crate::facts::RepoFacts,
        linked: &LinkedFacts,
        snapshot: &CatalogSnapshot,
    ) -> Scorecard {
        self.score_in(repo, facts, linked, &snapshot.catalog, Reviewed::yes(&snapshot.policy), None)
    }

    /// Scores with a given catalog and policy (a catalog pull request's, a proposed tier).
    fn score_in(
        &self,
        repo: &str,
        facts: &crate::facts::RepoFacts,
        linked: &LinkedFacts,
        catalog: &Catalog,
        policy: Reviewed<'_>,
        tier_override: Option<u32>,
    ) -> Scorecard {
        let service = catalog.service_for_repository(repo);
        let exceptions = service.map(|s| catalog.exceptions_for(&s.name).collect()).unwrap_or_default();
        let subject = Subject {
            repository: repo.to_string(),
            facts,
            linked,
            service,
            catalog_given: true,
            exceptions,
            tier_override,
            today: self.clock.today(),
            jq_limits: policy.jq_limits,
        };
        let policy = policy.policy;
        // Scoring is CPU work, and a policy's jq may run up to its time limit: off the runtime's worker threads.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| engine::evaluate(policy, &subject))
            }
            _ => engine::evaluate(policy, &subject),
        }
    }

    /// What a default-branch evaluation of `sha` starts from: the catalog, the commit's facts and the linked-tool
    /// facts (read again, conditionally, when `fresh_linked`).
    async fn default_branch_inputs(
        &self,
        github: &Installation,
        repository: &Repository,
        sha: &str,
        fresh_linked: bool,
    ) -> Result<(CatalogSnapshot, crate::facts::RepoFacts, LinkedFacts), AppError> {
        let repo = repository.full_name();
        let snapshot = self.catalog_snapshot(github).await?;
        let plan = ReadPlan::new(snapshot.policy.read_globs.clone());
        let service = snapshot.catalog.service_for_repository(&repo);
        let facts = remote_facts::collect(github, self.store.as_ref(), &repo, sha, &plan, true).await?;
        // GitHub's CODEOWNERS errors are asked for only when the commit has a CODEOWNERS file (a 404 costs budget).
        let codeowners_at = Some(sha).filter(|_| crate::codeowners::locate(|p| facts.files.contains_key(p)).is_some());
        let linked = self
            .linked_facts(
                github,
                &repo,
                &repository.default_branch,
                codeowners_at,
                fresh_linked,
                service,
                &[&snapshot.policy],
            )
            .await?;
        Ok((snapshot, facts, linked))
    }

    /// The scorecard of a commit, from the cache when this commit was scored with this catalog before.
    async fn scorecard(
        &self,
        github: &Installation,
        repo: &str,
        sha: &str,
        snapshot: &CatalogSnapshot,
        plan: &ReadPlan,
        linked: &LinkedFacts,
    ) -> Result<Scorecard, AppError> {
        let key = format!("{repo}@{sha}#{}#{}", snapshot.sha, self.clock.today());
        if let Some(card) =
            self.store.kv_get(ns::BASE_SCORECARD, &key).await.and_then(|j| serde_json::from_str(&j).ok())
        {
            return Ok(card);
        }
        let facts = remote_facts::collect(github, self.store.as_ref(), repo, sha, plan, false).await?;
        let card = self.score(repo, &facts, linked, snapshot);
        if let Ok(json) = serde_json::to_string(&card) {
            self.store.kv_put(ns::BASE_SCORECARD, &key, json).await;
        }
        Ok(card)
    }

    /// The catalog at its default branch's head, re-read only when that head moved. It is read with the installation
    /// that covers the catalog repository, whichever installation's repository is being scored: the snapshot is
    /// shared, so another organisation's installation (which cannot read the catalog) must not decide it.
    async fn catalog_snapshot(&self, scoring: &Installation) -> Result<CatalogSnapshot, AppError> {
        let mut cached = self.catalog.lock().await;
        let now = self.clock.now();
        if let Some(snapshot) = cached.as_ref().filter(|s| now - s.checked_at < CATALOG_HEAD_TTL) {
            return Ok(snapshot.clone());
        }
        let catalog_repo = &self.config.catalog_repo;
        let owner_installation = match self.github.repository_installation(catalog_repo).await {
            Ok(installation) => Some(installation),
            Err(GhError::NotFound { .. } | GhError::Forbidden { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let github = owner_installation.as_ref().unwrap_or(scoring);
        #[derive(Deserialize)]
        struct Repo {
            default_branch: String,
            html_url: Option<String>,
        }
        let repo = match cached.as_ref().map(|s| (s.branch.clone(), s.html_url.clone())) {
            Some((branch, html_url)) if !branch.is_empty() => Ok((branch, html_url)),
            _ => github
                .get::<Repo>(&repo_api(catalog_repo), "GET /repos/{owner}/{repo}")
                .await
                .map(|r| (r.default_branch, r.html_url)),
        };
        let head = match repo {
            Ok((branch, html_url)) => {
                branch_head(github, catalog_repo, &branch).await.map(|sha| ((branch, html_url), sha))
            }
            Err(e) => Err(e),
        };
        let ((branch, html_url), head) = match head {
            Ok(found) => found,
            Err(GhError::NotFound { .. } | GhError::Forbidden { .. }) => {
                let snapshot = CatalogSnapshot {
                    sha: "none".into(),
                    branch: String::new(),
                    html_url: None,
                    checked_at: now,
                    catalog: Arc::new(Catalog::default()),
                    policy: Arc::new(Policy::embedded()),
                    notes: vec![format!(
                        "the catalog repository {catalog_repo} is not readable by this installation: no tiers, owners or exceptions"
                    )],
                    files: Arc::default(),
                };
                *cached = Some(snapshot.clone());
                return Ok(snapshot);
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(snapshot) = cached.as_mut().filter(|s| s.sha == head) {
            snapshot.checked_at = now;
            return Ok(snapshot.clone());
        }
        let mut snapshot = self.load_catalog(github, &head).await?;
        snapshot.branch = branch;
        snapshot.html_url = html_url;
        self.publish_catalog_view(&snapshot).await;
        *cached = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Publishes what the web shows of a newly read catalog (every replica's web reads the same record).
    async fn publish_catalog_view(&self, snapshot: &CatalogSnapshot) {
        let (repo, url) = (&self.config.catalog_repo, snapshot.html_url.clone());
        let view = CatalogView::new(repo, url, &snapshot.branch, &snapshot.sha, &snapshot.catalog, &snapshot.policy);
        match serde_json::to_string(&view) {
            Ok(json) => self.store.kv_put(ns::WEB, crate::dashboard::catalog::KV_KEY, json).await,
            Err(e) => tracing::warn!(error = %e, "catalog view not published"),
        }
    }

    async fn load_catalog(&self, github: &Installation, sha: &str) -> Result<CatalogSnapshot, AppError> {
        let (snapshot, diags) = self.read_catalog(github, sha).await?;
        for d in diags.iter().filter(|d| d.is_error() && snapshot.catalog.is_left_out(&d.file)) {
            tracing::warn!(catalog = %self.config.catalog_repo, problem = %d, "catalog file left out");
        }
        Ok(snapshot)
    }

    /// The catalog and policy at `sha` of the catalog repository, with every problem found in its files (paths
    /// relative to the catalog root), checks against the policy included. Files with errors are left out (and named
    /// in the snapshot's notes); a broken policy falls back to the default one.
    async fn read_catalog(&self, github: &Installation, sha: &str) -> Result<(CatalogSnapshot, Diagnostics), AppError> {
        let catalog_repo = &self.config.catalog_repo;
        let plan = ReadPlan::new(catalog_globs());
        let facts = remote_facts::collect(github, self.store.as_ref(), catalog_repo, sha, &plan, false).await?;
        let files: std::collections::BTreeMap<String, String> =
            facts.files.keys().filter_map(|p| Some((p.clone(), facts.text(p)?.to_string()))).collect();
        let mut diags = Diagnostics::default();
        let mut catalog = Catalog::from_files("", &files, &mut diags);
        let mut notes = Vec::new();
        let policy = match catalog.policy_files.iter().next() {
            Some((path, text)) if catalog.policy_files.len() == 1 => Policy::parse(path, text, &mut diags)
                .unwrap_or_else(|| {
                    notes.push(format!("{catalog_repo}/{path} has errors: the default scorecard was used"));
                    Policy::embedded()
                }),
            Some(_) => {
                notes.push(format!("{catalog_repo}/policies/ holds several files: the default scorecard was used"));
                Policy::embedded()
            }
            None => Policy::embedded(),
        };
        let today = self.clock.today();
        diags.extend(crate::validate::cross_check(Some(&policy), &catalog, today).iter().cloned());
        // Reported, but scoring honours an approved exception however long: its file is not left out.
        let too_long = crate::validate::exception_lengths(&policy, &catalog, today);
        catalog.leave_out(&diags);
        diags.extend(too_long.iter().cloned());
        notes.extend(catalog.left_out_notes(catalog_repo, None, None, None));
        let snapshot = CatalogSnapshot {
            sha: sha.to_string(),
            branch: String::new(),
            html_url: None,
            checked_at: self.clock.now(),
            catalog: Arc::new(catalog),
            policy: Arc::new(policy),
            notes,
            files: Arc::new(files),
        };
        Ok((snapshot, diags))
    }

    /// The linked-tool facts of a repository's default branch `branch` (GitHub's CODEOWNERS errors are read for
    /// commit `sha` when given) for `service`, with what `policies` ask of PagerDuty, Prometheus and `http`
    /// checks. Cached for [`LINKED_FACTS_TTL`] unless `fresh`.
    #[allow(clippy::too_many_arguments)]
    async fn linked_facts(
        &self,
        github: &Installation,
        repo: &str,
        branch: &str,
        sha: Option<&str>,
        fresh: bool,
        service: Option<&crate::catalog::Service>,
        policies: &[&Policy],
    ) -> Result<LinkedFacts, AppError> {
        #[derive(Serialize, Deserialize)]
        struct Cached {
            at: chrono::DateTime<chrono::Utc>,
            facts: LinkedFacts,
        }
        let providers = &self.config.providers;
        let digests: Vec<String> = policies.iter().map(|p| providers.request_digest(p, service)).collect();
        let key = format!("{repo}:{branch}:{}:{}", sha.unwrap_or("-"), digests.join("+"));
        let now = self.clock.now();
        if let Some(cached) =
            self.store.kv_get(ns::LINKED_FACTS, &key).await.and_then(|j| serde_json::from_str::<Cached>(&j).ok())
            && now - cached.at < LINKED_FACTS_TTL
            && !fresh
        {
            return Ok(cached.facts);
        }
        let wanted = crate::github::facts::Wanted {
            releases: policies.iter().any(|p| p.reads_releases()),
            own_app: Some(self.config.app_id),
        };
        let mut facts =
            Box::pin(crate::github::facts::collect(github, repo, branch, sha, wanted, self.cache())).await?;
        let name = engine::service_name(service, repo);
        for policy in policies {
            Box::pin(providers.collect(policy, service, name, now, &mut facts)).await;
        }
        if let Ok(json) = serde_json::to_string(&Cached { at: now, facts: facts.clone() }) {
            self.store.kv_put(ns::LINKED_FACTS, &key, json).await;
        }
        Ok(facts)
    }
}

/// The commit at the head of `branch` of `repo` (`GET …/git/ref/heads/…`, the lightest answer that has it).
async fn branch_head(github: &Installation, repo: &str, branch: &str) -> Result<String, GhError> {
    #[derive(Deserialize)]
    struct Ref {
        object: Object,
    }
    #[derive(Deserialize)]
    struct Object {
        sha: String,
    }
    let path = format!("{}/git/ref/heads/{}", repo_api(repo), crate::github::path::segments(branch));
    let found: Ref = github.get(&path, "GET /repos/{owner}/{repo}/git/ref/{ref}").await?;
    Ok(found.object.sha)
}

/// Whether the App does anything for this event (others are acknowledged and recorded as ignored). `catalog_repo`
/// (`owner/name`): a catalog pull request closed without merging is a refusal to answer.
pub fn acts_on(event: &Event, app_id: u64, catalog_repo: &str) -> bool {
    match event {
        Event::Push(e) => {
            e.branch() == Some(e.repository.default_branch.as_str())
                && !e.deleted
                && !e.repository.archived
                && e.after.bytes().any(|b| b != b'0')
        }
        Event::PullRequest(e) => {
            matches!(e.action, PrAction::Opened | PrAction::Synchronize | PrAction::Reopened | PrAction::ReadyForReview)
                || (e.action == PrAction::Closed
                    && (e.pull_request.merged || e.repository.full_name().eq_ignore_ascii_case(catalog_repo)))
        }
        Event::IssueComment(e) => {
            e.action == crate::github::events::CommentAction::Created
                && !e.author.is_bot
                && crate::commands::has_command(&e.body)
        }
        Event::CheckSuite(e) => {
            matches!(e.action, CheckSuiteAction::Requested | CheckSuiteAction::Rerequested)
                && e.app_id == app_id
                && !e.pull_requests.is_empty()
        }
        Event::Installation(e) => {
            use crate::github::events::InstallationAction as A;
            matches!(e.action, A::Created | A::NewPermissionsAccepted | A::Unsuspend)
        }
        Event::InstallationRepositories(e) => !e.added.is_empty(),
        Event::CheckRun(e) => {
            let recheck = match &e.action {
                CheckRunAction::Rerequested => true,
                CheckRunAction::RequestedAction { identifier } => identifier == check_run::RECHECK,
                _ => false,
            };
            recheck && e.name == check_run::NAME && e.app_id == app_id && !e.pull_requests.is_empty()
        }
        _ => false,
    }
}

/// The catalog files the App reads.
fn catalog_globs() -> globset::GlobSet {
    let mut set = globset::GlobSetBuilder::new();
    for pattern in ["services/*.{yaml,yml}", "exceptions/*/*.{yaml,yml}", "policies/*.{yaml,yml}"] {
        set.add(globset::GlobBuilder::new(pattern).literal_separator(true).build().expect("valid glob"));
    }
    set.build().expect("valid glob set")
}

/// A policy to score with, and whether anyone approved it: the policy of a catalog pull request that is not merged
/// yet runs its jq under [`crate::jq::Limits::UNREVIEWED`].
#[derive(Clone, Copy)]
pub(crate) struct Reviewed<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) jq_limits: crate::jq::Limits,
}

impl<'a> Reviewed<'a> {
    pub(crate) fn yes(policy: &'a Policy) -> Self {
        Reviewed { policy, jq_limits: crate::jq::Limits::REVIEWED }
    }

    pub(crate) fn not_yet(policy: &'a Policy) -> Self {
        Reviewed { policy, jq_limits: crate::jq::Limits::UNREVIEWED }
    }
}
