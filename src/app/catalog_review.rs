//! The catalog repository's side: a `Catalog validation` check run on every pull request to it (errors annotated at
//! file and line, and what the change does to each service), what happens when one is merged (the catalog reloaded at
//! the merge commit, affected services scored again, the originating thread answered), and the weekly pull request
//! that removes expired exception files.

use super::catalog_pr::{CatalogChange, CatalogRequest, PullJson, RequestKind, branch_name};
use super::check_run::{Annotation, Conclusion};
use super::sweep::{Job, JobRepository};
use super::{App, AppError, CatalogSnapshot, Reviewed};
use crate::catalog::{Catalog, Service};
use crate::diag::Severity;
use crate::engine::{Scorecard, Status};
use crate::facts::ReadPlan;
use crate::github::client::{GhError, Installation};
use crate::github::events::{PrRef, Repository};
use crate::github::path::repo_api;
use crate::report::render_template;
use crate::store::ns;
use serde::Serialize;
use std::collections::BTreeSet;
use tracing::Instrument;

pub const VALIDATION_NAME: &str = "Catalog validation";
/// Most services scored for one impact preview (a policy change touches them all).
const PREVIEW_LIMIT: usize = 100;
/// Most open pull requests of one service scored again after a catalog merge.
const OPEN_PULLS_LIMIT: usize = 30;

/// What a catalog change does to one service.
#[derive(Serialize)]
struct Impact {
    service: String,
    level_before: Option<String>,
    level_after: Option<String>,
    meets_before: bool,
    meets_after: bool,
    newly_required: Vec<String>,
    newly_failing: Vec<String>,
    newly_excepted: Vec<String>,
    /// Rules the proposed policy could not judge (`error`) that were judged before, with the reason: a jq program
    /// stopped at a limit shows here.
    newly_unjudged: Vec<Unjudged>,
}

#[derive(Serialize)]
struct Unjudged {
    id: String,
    message: String,
}

fn impact(service: &str, before: &Scorecard, after: &Scorecard) -> Impact {
    let was = |id: &str, f: &dyn Fn(&crate::engine::RuleResult) -> bool| before.rule(id).is_some_and(f);
    let ids = |f: &dyn Fn(&crate::engine::RuleResult) -> bool, g: &dyn Fn(&crate::engine::RuleResult) -> bool| {
        after.rules.iter().filter(|r| f(r) && !was(&r.id, g)).map(|r| r.id.clone()).collect::<Vec<_>>()
    };
    Impact {
        service: service.to_string(),
        level_before: before.level.clone(),
        level_after: after.level.clone(),
        meets_before: before.meets_required,
        meets_after: after.meets_required,
        newly_required: ids(&|r| r.required && !r.does_not_apply(), &|r| r.required),
        newly_failing: ids(&|r| r.status == Status::Fail, &|r| r.status == Status::Fail),
        newly_excepted: ids(&|r| r.status == Status::Excepted, &|r| r.status == Status::Excepted),
        newly_unjudged: after
            .rules
            .iter()
            .filter(|r| r.status == Status::Error && !was(&r.id, &|b| b.status == Status::Error))
            .map(|r| Unjudged { id: r.id.clone(), message: r.message.clone() })
            .collect(),
    }
}

/// Services whose entry or exceptions differ between two catalogs (added and removed ones too).
fn changed_services(before: &Catalog, after: &Catalog) -> BTreeSet<String> {
    let exceptions = |c: &Catalog, name: &str| {
        let mut list: Vec<(String, String, String)> =
            c.exceptions_for(name).map(|e| (e.rule.clone(), e.expires.to_string(), e.reason.clone())).collect();
        list.sort();
        list
    };
    let names: BTreeSet<&String> = before.services.keys().chain(after.services.keys()).collect();
    let mut out: BTreeSet<String> = names
        .into_iter()
        .filter(|name| {
            let entry = |c: &Catalog| c.services.get(*name).map(|s| s.entity.clone());
            entry(before) != entry(after) || exceptions(before, name) != exceptions(after, name)
        })
        .cloned()
        .collect();
    // Exceptions for services that are not (yet) in the catalog.
    for e in before.exceptions.iter().chain(&after.exceptions) {
        if exceptions(before, &e.service) != exceptions(after, &e.service) {
            out.insert(e.service.clone());
        }
    }
    out
}

impl App {
    /// A service's repository and the installation that reaches it.
    async fn service_repository(&self, service: &Service) -> Result<(Installation, Repository), String> {
        let slug = service.repository.as_deref().ok_or("no `github.com/project-slug` annotation")?;
        let (github, repo) = self.listed_repository(slug).await?;
        Ok((github, repo.repository()))
    }

    /// The installation that covers `slug` (`owner/name`) and the repository as a sweep lists it.
    async fn listed_repository(&self, slug: &str) -> Result<(Installation, JobRepository), String> {
        let github = match self.github.repository_installation(slug).await {
            Ok(github) => github,
            Err(GhError::NotFound { .. }) => return Err(format!("the App is not installed on {slug}")),
            Err(e) => return Err(e.to_string()),
        };
        // `GET /repos/{owner}/{repo}` has the fields of the installation listing sweeps read.
        let repo: JobRepository =
            github.get(&repo_api(slug), "GET /repos/{owner}/{repo}").await.map_err(|e| e.to_string())?;
        Ok((github, repo))
    }

    /// A push to the catalog's default branch `branch`. The repositories of the services it changed (entry or exceptions,
    /// before and after, so a moved or removed service is scored too) get a job each; a policy change, a new branch
    /// or a catalog that cannot be read sweeps everything. Services a handled merge of `after` already scored are
    /// not scored twice.
    pub(crate) async fn handle_catalog_push(
        &self,
        github: &Installation,
        branch: &str,
        before: &str,
        after: &str,
    ) -> Result<(), AppError> {
        let repo = self.config.catalog_repo.clone();
        let span = tracing::info_span!("catalog_push", repo = %repo, before = %before, after = %after);
        async {
            let everything = Job::Sweep { reason: "catalog changed".into(), installation: None, repositories: None };
            if before.bytes().all(|b| b == b'0') {
                return self.enqueue(format!("catalog-{after}"), everything).await;
            }
            let (old, mut new) = match (self.read_catalog(github, before).await, self.read_catalog(github, after).await)
            {
                (Ok((old, _)), Ok((new, _))) => (old, new),
                (Err(e @ AppError::Transient { .. }), _) | (_, Err(e @ AppError::Transient { .. })) => return Err(e),
                _ => return self.enqueue(format!("catalog-{after}"), everything).await,
            };
            // The jobs below score with this catalog: they need not look for the head and read it again.
            new.branch = branch.to_string();
            *self.catalog.lock().await = Some(new.clone());
            if old.catalog.policy_files != new.catalog.policy_files {
                tracing::info!("the policy changed: every repository is scored again");
                return self.enqueue(format!("catalog-{after}"), everything).await;
            }
            let done: BTreeSet<String> = self
                .store
                .kv_get(ns::CATALOG_MERGE, &format!("{repo}@{after}"))
                .await
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default();
            let mut slugs = BTreeSet::new();
            for name in changed_services(&old.catalog, &new.catalog).difference(&done) {
                for catalog in [&old.catalog, &new.catalog] {
                    if let Some(slug) = catalog.services.get(name).and_then(|s| s.repository.clone()) {
                        slugs.insert(slug.to_ascii_lowercase());
                    }
                }
            }
            tracing::info!(repositories = slugs.len(), already_scored = done.len(), "catalog changed");
            for slug in slugs {
                let (installation, listed) = match self.listed_repository(&slug).await {
                    Ok(found) => found,
                    Err(why) => {
                        tracing::info!(repo = %slug, why = %why, "not scored again");
                        continue;
                    }
                };
                let job = Job::Repository {
                    reason: "catalog changed".into(),
                    installation: installation.id.0,
                    repository: listed,
                };
                self.enqueue(format!("catalog-{after}-{slug}"), job).await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// `Catalog validation` on a pull request to the catalog repository.
    pub(crate) async fn review_catalog_pull_request(&self, github: &Installation, pr: &PrRef) -> Result<(), AppError> {
        let repo = self.config.catalog_repo.clone();
        let span =
            tracing::info_span!("review_catalog_pull_request", repo = %repo, pr = %pr.number, head = %pr.head_sha);
        async {
            let check_id = self.start_named_check_run(github, &repo, &pr.head_sha, VALIDATION_NAME).await?;
            // Every problem of the head's files, checks against its policy included.
            let (head, diags) = self.read_catalog(github, &pr.head_sha).await?;
            let (base, _) = self.read_catalog(github, &pr.base_sha).await?;

            let policy_changed = base.catalog.policy_files != head.catalog.policy_files;
            let changed = changed_services(&base.catalog, &head.catalog);
            let mut preview: Vec<&Service> = if policy_changed {
                head.catalog.services.values().collect()
            } else {
                changed.iter().filter_map(|name| head.catalog.services.get(name)).collect()
            };
            let mut not_scored: Vec<String> = Vec::new();
            if preview.len() > PREVIEW_LIMIT {
                not_scored.push(format!(
                    "{} more service(s) (at most {PREVIEW_LIMIT} are previewed)",
                    preview.len() - PREVIEW_LIMIT
                ));
                preview.truncate(PREVIEW_LIMIT);
            }
            for name in changed.iter().filter(|n| !head.catalog.services.contains_key(*n)) {
                if base.catalog.services.contains_key(name) {
                    not_scored.push(format!("{name} (removed)"));
                }
            }
            let mut impacts = Vec::new();
            for service in preview {
                match self.preview(service, &base, &head).await {
                    Ok((before, after)) => impacts.push(impact(&service.name, &before, &after)),
                    Err(why) => not_scored.push(format!("{} ({why})", service.name)),
                }
            }
            let drops = impacts.iter().filter(|i| i.meets_before && !i.meets_after).count();
            let rises = impacts.iter().filter(|i| !i.meets_before && i.meets_after).count();
            if !policy_changed {
                impacts.retain(|i| changed.contains(&i.service));
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.iter().count() - errors;
            #[derive(Serialize)]
            struct Problem {
                file: String,
                line: usize,
                column: usize,
                message: String,
                warning: bool,
            }
            #[derive(Serialize)]
            struct View {
                errors: usize,
                warnings: usize,
                problems: Vec<Problem>,
                policy_changed: bool,
                drops: usize,
                rises: usize,
                scored: usize,
                impact: Vec<Impact>,
                not_scored: Vec<String>,
            }
            let sorted = diags.sorted();
            let annotations: Vec<Annotation> = sorted
                .iter()
                .map(|d| Annotation {
                    path: d.file.clone(),
                    start_line: d.pos.line.max(1),
                    end_line: d.pos.line.max(1),
                    annotation_level: if d.severity == Severity::Error { "failure" } else { "warning" },
                    title: "Catalog validation".into(),
                    message: d.message.clone(),
                })
                .collect();
            let scored = impacts.len();
            let view = View {
                errors,
                warnings,
                problems: sorted
                    .iter()
                    .map(|d| Problem {
                        file: d.file.clone(),
                        line: d.pos.line,
                        column: d.pos.col,
                        message: d.message.clone(),
                        warning: d.severity == Severity::Warning,
                    })
                    .collect(),
                policy_changed,
                drops,
                rises,
                scored,
                impact: impacts,
                not_scored,
            };
            let summary = render_template("catalog_validation.md", &view)
                .map_err(|e| AppError::Permanent(format!("cannot render the catalog validation: {e:#}")))?;
            let (conclusion, title) = if errors > 0 {
                (Conclusion::Failure, format!("{errors} error(s) in the catalog"))
            } else if policy_changed && drops > 0 {
                (Conclusion::Neutral, format!("Valid; {drops} service(s) would drop below their required level"))
            } else {
                (Conclusion::Success, format!("Valid; {} service(s) changed", changed.len()))
            };
            let output = super::CheckRunOutput { title: &title, summary: &summary, annotations: &annotations };
            self.complete_check_run(github, &repo, check_id, conclusion, output, serde_json::json!({})).await?;
            tracing::info!(
                errors,
                warnings,
                changed = changed.len(),
                policy_changed,
                drops,
                "catalog pull request reviewed"
            );
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// A service scored with the base catalog and policy, and with the pull request's.
    async fn preview(
        &self,
        service: &Service,
        base: &CatalogSnapshot,
        head: &CatalogSnapshot,
    ) -> Result<(Scorecard, Scorecard), String> {
        let (github, repository) = self.service_repository(service).await?;
        let repo = repository.full_name();
        let sha = super::branch_head(&github, &repo, &repository.default_branch).await.map_err(|e| e.to_string())?;
        let linked = self
            .linked_facts(
                &github,
                &repo,
                &repository.default_branch,
                Some(&sha),
                false,
                Some(service),
                // Only the merged policy's requests are sent: a catalog pull request could otherwise point an `http`
                // check holding a secret at any host before anyone approved it. The head policy's new `http` and
                // `promql` checks show as not requested in the preview.
                &[&base.policy],
            )
            .await
            .map_err(|e| e.to_string())?;
        // The pull request's own policy has not been approved yet: its jq runs under the tight limits.
        let unchanged = head.catalog.policy_files == base.catalog.policy_files;
        let mut cards = Vec::new();
        for (snapshot, reviewed) in [(base, true), (head, unchanged)] {
            let plan = ReadPlan::new(snapshot.policy.read_globs.clone());
            let facts = super::remote_facts::collect(&github, self.store.as_ref(), &repo, &sha, &plan, false)
                .await
                .map_err(|e| e.to_string())?;
            let policy = if reviewed { Reviewed::yes(&snapshot.policy) } else { Reviewed::not_yet(&snapshot.policy) };
            cards.push(self.score_in(&repo, &facts, &linked, &snapshot.catalog, policy, None));
        }
        let after = cards.pop().expect("two cards");
        let before = cards.pop().expect("two cards");
        Ok((before, after))
    }

    /// A catalog pull request was closed: when merged, the catalog is reloaded at the merge commit, the services it
    /// touches are scored again (default branch and open pull requests) and the thread that asked is answered.
    pub(crate) async fn handle_catalog_merge(&self, github: &Installation, number: u64) -> Result<(), AppError> {
        let repo = self.config.catalog_repo.clone();
        let span = tracing::info_span!("catalog_merge", repo = %repo, pr = number);
        async {
            let key = format!("{repo}#{number}");
            if self.store.kv_get(ns::CATALOG_MERGE, &key).await.is_some() {
                return Ok(());
            }
            let pull: PullJson = github
                .get(&format!("{}/pulls/{number}", repo_api(&repo)), "GET /repos/{owner}/{repo}/pulls/{pull_number}")
                .await?;
            let Some(merge_sha) = pull.merge_commit_sha.clone().filter(|_| pull.merged) else {
                // Closed without merging: refused. Nothing changes in the catalog; the thread that asked is told.
                return self.answer_closed(&pull).await;
            };
            let (mut merged, _) = self.read_catalog(github, &merge_sha).await?;
            merged.branch = pull.base.git_ref.clone();
            *self.catalog.lock().await = Some(merged.clone());
            let (base, _) = self.read_catalog(github, &pull.base.sha).await?;
            let request = pull.body.as_deref().and_then(CatalogRequest::from_body);
            let mut affected = changed_services(&base.catalog, &merged.catalog);
            if base.catalog.policy_files != merged.catalog.policy_files {
                affected.extend(merged.catalog.services.keys().cloned());
            }
            if let Some(service) = request.as_ref().and_then(|r| r.service.clone()) {
                affected.insert(service);
            }
            tracing::info!(merge = %merge_sha, affected = affected.len(), "catalog reloaded at the merge commit");
            let mut requested_card = None;
            let mut scored = BTreeSet::new();
            for name in affected.iter().take(PREVIEW_LIMIT) {
                let Some(service) = merged.catalog.services.get(name) else { continue };
                let (github, repository) = match self.service_repository(service).await {
                    Ok(found) => found,
                    Err(why) => {
                        tracing::info!(service = %name, why = %why, "not scored again");
                        continue;
                    }
                };
                let card = self.refresh_service(&github, &repository).await?;
                scored.insert(name.clone());
                if request.as_ref().is_some_and(|r| r.service.as_deref() == Some(name.as_str())) {
                    requested_card = Some((github, card));
                }
            }
            if let (Some(request), Some((github, card))) = (&request, requested_card) {
                self.answer_merged(&github, request, &pull, &card).await?;
            }
            // The push of the merge commit need not score these again.
            if let Ok(json) = serde_json::to_string(&scored) {
                self.store.kv_put(ns::CATALOG_MERGE, &format!("{repo}@{merge_sha}"), json).await;
            }
            self.store.kv_put(ns::CATALOG_MERGE, &key, merge_sha).await;
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Scores a service again after a catalog change: its default branch (tracking issue included) and its open pull
    /// requests (check runs refreshed). Returns the default branch's scorecard.
    async fn refresh_service(&self, github: &Installation, repository: &Repository) -> Result<Scorecard, AppError> {
        let repo = repository.full_name();
        let card = self.default_branch_card(github, repository, false).await?;
        let pulls: Vec<PullJson> = github
            .get(
                &format!("{}/pulls?state=open&per_page={OPEN_PULLS_LIMIT}", repo_api(&repo)),
                "GET /repos/{owner}/{repo}/pulls",
            )
            .await?;
        for pull in pulls {
            self.evaluate_pull_request(github, repository, &pull.pr_ref()).await?;
        }
        Ok(card)
    }

    /// The reply on the thread a request came from when its pull request was closed without merging (once per pull
    /// request: a reopened and merged one is still answered as merged).
    async fn answer_closed(&self, pull: &PullJson) -> Result<(), AppError> {
        let Some(request) = pull.body.as_deref().and_then(CatalogRequest::from_body) else { return Ok(()) };
        if !matches!(request.kind, RequestKind::Exception | RequestKind::Tier) || pull.state != "closed" {
            return Ok(());
        }
        let (Some(repo), Some(thread)) = (&request.repository, request.thread) else { return Ok(()) };
        let key = format!("{}#{}@closed", self.config.catalog_repo, pull.number);
        if self.store.kv_get(ns::CATALOG_MERGE, &key).await.is_some() {
            return Ok(());
        }
        #[derive(Serialize)]
        struct View<'a> {
            service: &'a str,
            rule: Option<&'a str>,
            exception: bool,
            tier: Option<u32>,
            url: &'a str,
        }
        let view = View {
            service: request.service.as_deref().unwrap_or_default(),
            rule: request.rule.as_deref(),
            exception: request.kind == RequestKind::Exception,
            tier: (request.kind == RequestKind::Tier).then_some(request.tier).flatten(),
            url: &pull.html_url,
        };
        let body = render_template("catalog_closed.md", &view)
            .map_err(|e| AppError::Permanent(format!("cannot render the reply: {e:#}")))?;
        let github = match self.github.repository_installation(repo).await {
            Ok(github) => github,
            Err(GhError::NotFound { .. }) => {
                tracing::info!(repo = %repo, "the requesting repository is no longer installed: not answered");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        self.comment(&github, repo, thread, &body).await?;
        self.store.kv_put(ns::CATALOG_MERGE, &key, "closed".to_string()).await;
        tracing::info!(thread = %format!("{repo}#{thread}"), "closed request answered");
        Ok(())
    }

    /// The reply on the thread a merged request came from.
    async fn answer_merged(
        &self,
        github: &Installation,
        request: &CatalogRequest,
        pull: &PullJson,
        card: &Scorecard,
    ) -> Result<(), AppError> {
        let (Some(repo), Some(thread)) = (&request.repository, request.thread) else { return Ok(()) };
        #[derive(Serialize)]
        struct View<'a> {
            service: &'a str,
            rule: Option<&'a str>,
            exception: Option<String>,
            tier: Option<u32>,
            required_level: &'a str,
            url: &'a str,
            scored: String,
        }
        let scored = format!(
            "The default branch is now at **{}**; tier {} requires **{}**{}.",
            card.level.as_deref().unwrap_or("no level"),
            card.tier,
            card.required_level,
            if card.meets_required { " ✅" } else { " ❌" }
        );
        let view = View {
            service: request.service.as_deref().unwrap_or_default(),
            rule: request.rule.as_deref(),
            exception: (request.kind == RequestKind::Exception)
                .then(|| request.expires.map(|d| d.to_string()))
                .flatten(),
            tier: (request.kind == RequestKind::Tier).then_some(request.tier).flatten(),
            required_level: &card.required_level,
            url: &pull.html_url,
            scored,
        };
        let body = render_template("catalog_merged.md", &view)
            .map_err(|e| AppError::Permanent(format!("cannot render the reply: {e:#}")))?;
        self.comment(github, repo, thread, &body).await?;
        tracing::info!(thread = %format!("{repo}#{thread}"), "request answered");
        Ok(())
    }

    /// The weekly job: one catalog pull request removing the exception files that have expired (none when there are
    /// none, or when such a pull request is already open).
    pub(crate) async fn cleanup_expired_exceptions(&self) -> Result<(), AppError> {
        let catalog = self.catalog_installation().await?;
        let snapshot = self.catalog_snapshot(&catalog).await?;
        let today = self.clock.today();
        let expired: Vec<&crate::catalog::Exception> =
            snapshot.catalog.exceptions.iter().filter(|e| !e.is_active(today)).collect();
        if expired.is_empty() {
            tracing::info!("no expired exceptions");
            return Ok(());
        }
        let open = self.open_catalog_requests(&catalog).await?;
        if let Some((pull, _)) = open.iter().find(|(_, r)| r.kind == RequestKind::Cleanup) {
            tracing::info!(pull = pull.number, "a removal of expired exceptions is already open");
            return Ok(());
        }
        #[derive(Serialize)]
        struct Row<'a> {
            service: &'a str,
            rule: &'a str,
            expires: String,
            reason: &'a str,
        }
        #[derive(Serialize)]
        struct View<'a> {
            expired: Vec<Row<'a>>,
        }
        let rows = expired
            .iter()
            .map(|e| Row { service: &e.service, rule: &e.rule, expires: e.expires.to_string(), reason: &e.reason })
            .collect();
        let body = render_template("cleanup_pr.md", &View { expired: rows })
            .map_err(|e| AppError::Permanent(format!("cannot render the pull request: {e:#}")))?;
        let change = CatalogChange {
            branch: branch_name(&["cleanup", &today.to_string()]),
            message: format!("Remove {} expired exception(s)", expired.len()),
            files: expired.iter().map(|e| (e.file.clone(), None)).collect(),
            title: format!("Remove {} expired exception(s)", expired.len()),
            body,
            request: CatalogRequest::of(RequestKind::Cleanup),
        };
        let pull = self.open_catalog_pr(&catalog, &snapshot, change).await?;
        tracing::info!(pull = pull.number, expired = expired.len(), "removal of expired exceptions proposed");
        Ok(())
    }
}
