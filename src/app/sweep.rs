//! Continuous readiness: the periodic sweep of every repository of every installation, and the internal jobs it (and
//! installation and catalog events) fan out into.
//!
//! Jobs go through the same durable queue as webhook deliveries (event [`JOB_EVENT`]), so a sweep survives a crash,
//! its jobs are deduplicated by id, and a repository's job is serialised with the pushes to its default branch (same
//! serial key). A repository job spends, when nothing changed, only the conditional reads of its linked-tool facts:
//! the head comes from the listing's `pushed_at`, the tree and blobs from the cache, and the tracking issue is not
//! touched.

use super::{App, AppError};
use crate::github::client::{GhError, Installation};
use crate::github::events::{InstallationId, RepoId, Repository};
use crate::store::{SWEEP_RUN_KEY, SweepRun, ns};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use tracing::Instrument;

/// The event name of internal jobs in the delivery queue (GitHub never sends it; the webhook edge ignores it).
pub const JOB_EVENT: &str = "shipshape.job";

/// Work the App gives itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// List repositories and queue a [`Job::Repository`] for each: every installation, or one, or some of its
    /// repositories.
    Sweep {
        reason: String,
        #[serde(default)]
        installation: Option<u64>,
        #[serde(default)]
        repositories: Option<Vec<u64>>,
    },
    /// Score one repository's default branch and update its tracking issue.
    Repository { reason: String, installation: u64, repository: JobRepository },
    /// Propose the removal of expired exception files from the catalog (weekly).
    Cleanup { reason: String },
    /// Ask GitHub to redeliver the deliveries that failed while the App could not take them (SPEC 4).
    Recover { reason: String },
}

/// A repository as listed by `GET /installation/repositories`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRepository {
    pub id: u64,
    pub full_name: String,
    pub default_branch: String,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub fork: bool,
    #[serde(default = "yes")]
    pub has_issues: bool,
    #[serde(default)]
    pub private: bool,
    /// Changes on every push to any branch: when it has not changed, neither has the default branch.
    #[serde(default)]
    pub pushed_at: Option<String>,
}

fn yes() -> bool {
    true
}

impl JobRepository {
    pub(crate) fn repository(&self) -> Repository {
        let (owner, name) = self.full_name.split_once('/').unwrap_or(("", &self.full_name));
        Repository {
            id: RepoId(self.id),
            owner: owner.to_string(),
            name: name.to_string(),
            default_branch: self.default_branch.clone(),
            archived: self.archived,
            fork: self.fork,
            private: self.private,
            has_issues: self.has_issues,
        }
    }
}

impl Job {
    /// Work on the same key runs one at a time: a repository job shares its key with pushes to the default branch.
    pub fn serial_key(&self) -> String {
        match self {
            Job::Sweep { .. } => "sweep".into(),
            Job::Cleanup { .. } => "cleanup".into(),
            Job::Recover { .. } => "recover".into(),
            Job::Repository { repository, .. } => {
                format!("{}@refs/heads/{}", repository.full_name, repository.default_branch)
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Job::Sweep { .. } => "sweep",
            Job::Cleanup { .. } => "cleanup",
            Job::Recover { .. } => "recover",
            Job::Repository { .. } => "repository",
        }
    }
}

/// Where the App queues jobs (the delivery queue).
pub trait JobQueue: Send + Sync {
    /// Queues `job` under `id`; an id already queued or done is not queued again.
    fn enqueue(&self, id: String, job: Job) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// What the last default-branch evaluation saw of the head.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct HeadRecord {
    sha: String,
    pushed_at: Option<String>,
}

impl App {
    /// Runs an internal job; `id` is its delivery id.
    pub async fn handle_job(&self, id: &str, job: Job) -> Result<(), AppError> {
        match job {
            Job::Sweep { reason, installation, repositories } => {
                let span = tracing::info_span!("sweep", job = %id, reason = %reason);
                self.sweep(id, &reason, installation, repositories.as_deref()).instrument(span).await
            }
            Job::Cleanup { reason } => {
                let span = tracing::info_span!("cleanup", job = %id, reason = %reason);
                self.cleanup_expired_exceptions().instrument(span).await
            }
            Job::Recover { reason } => {
                let span = tracing::info_span!("recover_deliveries", job = %id, reason = %reason);
                self.recover_deliveries().instrument(span).await
            }
            Job::Repository { installation, repository, reason } => {
                let span =
                    tracing::info_span!("sweep_repository", job = %id, repo = %repository.full_name, reason = %reason);
                async {
                    let github = self.github.installation(InstallationId(installation)).await?;
                    self.sweep_repository(&github, &repository).await
                }
                .instrument(span)
                .await
            }
        }
    }

    /// Queues a repository job for every repository to sweep. A sweep of every installation is recorded as the
    /// last sweep (the Ops view), when it starts and when its jobs are queued.
    async fn sweep(
        &self,
        id: &str,
        reason: &str,
        only_installation: Option<u64>,
        only: Option<&[u64]>,
    ) -> Result<(), AppError> {
        let run = match (only_installation, only) {
            (None, None) => Some(self.sweep_started(id, reason).await),
            _ => None,
        };
        let installations = match only_installation {
            Some(one) => vec![InstallationId(one)],
            None => self.github.installations().await?,
        };
        let (mut queued, mut skipped) = (0usize, 0usize);
        for installation in installations {
            let github = match self.github.installation(installation).await {
                Ok(github) => github,
                Err(e) => {
                    tracing::warn!(installation = %installation, error = %e, "installation not swept");
                    continue;
                }
            };
            let repositories: Vec<JobRepository> = github
                .get_all_in("/installation/repositories?per_page=100", "repositories", "GET /installation/repositories")
                .await?;
            for repository in repositories {
                if only.is_some_and(|ids| !ids.contains(&repository.id)) {
                    continue;
                }
                if repository.full_name.eq_ignore_ascii_case(&self.config.catalog_repo) {
                    continue; // the catalog is not a service; its changes trigger sweeps of their own
                }
                if repository.archived || repository.fork {
                    tracing::debug!(repo = %repository.full_name, archived = repository.archived, fork = repository.fork, "skipped");
                    skipped += 1;
                    continue;
                }
                if !repository.has_issues {
                    tracing::info!(repo = %repository.full_name, "issues are disabled: not swept");
                    skipped += 1;
                    continue;
                }
                let job_id = format!("{id}/{}", repository.id);
                let job = Job::Repository { reason: "sweep".into(), installation: installation.0, repository };
                self.enqueue(job_id, job).await?;
                queued += 1;
            }
        }
        tracing::info!(queued, skipped, "sweep queued");
        if let Some(run) = run {
            let listed = SweepRun {
                listed_at: Some(self.clock.now()),
                repositories: Some(queued as u64),
                skipped: Some(skipped as u64),
                ..run
            };
            self.put_sweep(&listed).await;
        }
        Ok(())
    }

    /// Records that the sweep `id` started now; a sweep job tried again keeps its first start.
    async fn sweep_started(&self, id: &str, reason: &str) -> SweepRun {
        let earlier: Option<SweepRun> =
            self.store.kv_get(ns::SWEEP, SWEEP_RUN_KEY).await.and_then(|j| serde_json::from_str(&j).ok());
        let started_at = match earlier {
            Some(run) if run.id == id => run.started_at,
            _ => self.clock.now(),
        };
        let run = SweepRun {
            id: id.into(),
            reason: reason.into(),
            started_at,
            listed_at: None,
            repositories: None,
            skipped: None,
        };
        self.put_sweep(&run).await;
        run
    }

    async fn put_sweep(&self, run: &SweepRun) {
        if let Ok(json) = serde_json::to_string(run) {
            self.store.kv_put(ns::SWEEP, SWEEP_RUN_KEY, json).await;
        }
    }

    /// Scores a repository's default branch, reusing what has not changed.
    async fn sweep_repository(&self, github: &Installation, listed: &JobRepository) -> Result<(), AppError> {
        let repo = &listed.full_name;
        let known: Option<HeadRecord> =
            self.store.kv_get(ns::DEFAULT_HEAD, repo).await.and_then(|j| serde_json::from_str(&j).ok());
        let sha = match known {
            Some(head) if listed.pushed_at.is_some() && head.pushed_at == listed.pushed_at => head.sha,
            _ => match super::branch_head(github, repo, &listed.default_branch).await {
                Ok(sha) => sha,
                Err(GhError::NotFound { .. }) => {
                    tracing::info!(repo = %repo, "empty repository: nothing to score");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            },
        };
        self.evaluate_default_branch_with(github, &listed.repository(), &sha, listed.pushed_at.clone(), true).await?;
        Ok(())
    }

    /// Remembers the default branch's head (and `pushed_at` when known) after an evaluation.
    pub(crate) async fn remember_head(&self, repo: &str, sha: &str, pushed_at: Option<String>) {
        let record = HeadRecord { sha: sha.to_string(), pushed_at };
        if let Ok(json) = serde_json::to_string(&record) {
            self.store.kv_put(ns::DEFAULT_HEAD, repo, json).await;
        }
    }

    /// Queues a job (installation and catalog events).
    pub(crate) async fn enqueue(&self, id: String, job: Job) -> Result<(), AppError> {
        let queue = self.jobs.as_ref().ok_or_else(|| AppError::Permanent("no job queue".into()))?;
        queue.enqueue(id, job).await.map_err(|e| AppError::Transient { reason: e, retry_after: None })
    }
}

/// When the next periodic sweep is due, given when the last one started.
pub fn next_sweep(last: DateTime<Utc>, interval: std::time::Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(interval)
        .ok()
        .and_then(|interval| last.checked_add_signed(interval))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
