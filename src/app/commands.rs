//! Comment commands (SPEC 5) on service repositories: parsed by [`crate::commands`], allowed for commenters with
//! write permission, acknowledged with 👀, answered with one reply each.
//!
//! Exactly once in effect: a command's answer is recorded once posted, so a retried or redelivered comment neither
//! answers twice nor opens a second catalog pull request (that is also found again by its marker when the database
//! is lost).

use super::catalog_pr::{CatalogChange, CatalogRequest, PullJson, PullLink, RequestKind, branch_name};
use super::{App, AppError, CatalogSnapshot, Reviewed};
use crate::catalog::edit::{self, ExceptionRequest};
use crate::commands::{self, COMMANDS, Command, ExceptionLength, Found, ParseError, ParseErrorKind};
use crate::engine::{Scorecard, Status};
use crate::github::client::{GhError, Installation, segment};
use crate::github::events::{IssueCommentEvent, PrRef, Repository};
use crate::report::render_template;
use crate::store::ns;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

/// The exception length when a request gives none (capped by the tier's `exception_max_days`).
pub const DEFAULT_EXCEPTION_DAYS: u32 = 30;
const REPLY_TEMPLATE: &str = "command_reply.md";

/// Where a command was written.
pub(crate) struct Thread<'a> {
    pub repository: &'a Repository,
    /// The issue or pull request number.
    pub number: u64,
    pub is_pull_request: bool,
    pub comment_id: u64,
    pub comment_url: &'a str,
    pub author: &'a str,
}

impl Thread<'_> {
    fn repo(&self) -> String {
        self.repository.full_name()
    }

    /// A catalog request about `service` asked here.
    fn request(&self, kind: RequestKind, service: &str) -> CatalogRequest {
        CatalogRequest {
            service: Some(service.to_string()),
            repository: Some(self.repo()),
            thread: Some(self.number),
            comment: Some(self.comment_id),
            requested_by: Some(self.author.to_string()),
            ..CatalogRequest::of(kind)
        }
    }
}

/// Why a command could not be done, as the commenter is told.
enum Refusal {
    /// Something the commenter can act on (an unknown rule, a duration too long).
    User(String),
    /// The App failed; retried when transient, otherwise answered with the reason.
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::App(e)
    }
}

impl From<GhError> for Refusal {
    fn from(e: GhError) -> Self {
        Refusal::App(e.into())
    }
}

/// The reply's view (`templates/command_reply.md.hbs`); one outcome is set.
#[derive(Default, Serialize)]
struct ReplyView {
    command: String,
    usage: Option<UsageView>,
    refused: Option<RefusedView>,
    failed: Option<String>,
    opened: Option<OpenedView>,
    existing: Option<OpenedView>,
    rechecked: Option<Vec<RecheckedView>>,
    readiness: Option<String>,
    commands: Option<Vec<CommandView>>,
}

#[derive(Serialize)]
struct UsageView {
    command: Option<&'static str>,
    line: usize,
    column: usize,
    message: String,
    did_you_mean: Option<&'static str>,
    usage: Option<&'static str>,
}

#[derive(Serialize)]
struct RefusedView {
    repository: String,
    login: String,
    permission: String,
}

#[derive(Serialize)]
struct OpenedView {
    url: String,
    exception: Option<String>,
    tier: Option<u32>,
}

#[derive(Serialize)]
struct RecheckedView {
    what: String,
    level: Option<String>,
    tier: u32,
    required_level: String,
    meets_required: bool,
    failing: usize,
    link: Option<String>,
}

#[derive(Serialize)]
struct CommandView {
    usage: &'static str,
    summary: &'static str,
}

fn command_list() -> Vec<CommandView> {
    COMMANDS.iter().map(|c| CommandView { usage: c.usage, summary: c.summary }).collect()
}

/// The reply to a malformed or misspelt command: what is wrong, where, and the usage.
fn usage_view(error: &ParseError) -> UsageView {
    let did_you_mean = match &error.kind {
        ParseErrorKind::Unknown { did_you_mean, .. } => Some(*did_you_mean),
        _ => None,
    };
    let usage = error.command.or(did_you_mean).and_then(commands::spec).map(|s| s.usage);
    UsageView {
        command: error.command,
        line: error.line,
        column: error.column,
        message: error.kind.to_string(),
        did_you_mean,
        usage,
    }
}

/// The commenter's access to the repository, from GitHub (asked once per comment).
#[derive(Clone)]
enum Access {
    Granted,
    Denied { permission: String },
}

impl App {
    /// `issue_comment` created: every command line of the comment, in order.
    pub(crate) async fn handle_comment(&self, event: IssueCommentEvent) -> Result<(), AppError> {
        let found = commands::parse(&event.body);
        if found.is_empty() {
            return Ok(());
        }
        let github = self.installation(event.installation).await?;
        let thread = Thread {
            repository: &event.repository,
            number: event.issue_number.0,
            is_pull_request: event.is_pull_request,
            comment_id: event.comment_id.0,
            comment_url: &event.html_url,
            author: &event.author.login,
        };
        let mut access = None;
        for (index, item) in found.into_iter().enumerate() {
            let name = match &item {
                Ok(found) => found.command.name(),
                Err(e) => e.command.unwrap_or("unknown"),
            };
            let span = tracing::info_span!(
                "command",
                repo = %thread.repo(),
                thread = thread.number,
                comment = thread.comment_id,
                author = %thread.author,
                command = name,
                index
            );
            self.run_command(&github, &thread, index, item, &mut access).instrument(span).await?;
        }
        Ok(())
    }

    async fn run_command(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        index: usize,
        item: Result<Found, ParseError>,
        access: &mut Option<Access>,
    ) -> Result<(), AppError> {
        let key = format!("{}#{}/{index}", thread.repo(), thread.comment_id);
        if self.store.kv_get(ns::COMMAND, &key).await.is_some() {
            tracing::info!("already answered");
            return Ok(());
        }
        let mut view = ReplyView::default();
        match item {
            Err(error) => {
                tracing::info!(error = %error, "malformed command");
                view.command = error.command.unwrap_or_default().to_string();
                view.usage = Some(usage_view(&error));
                self.react(github, thread, "confused").await?;
            }
            Ok(found) => {
                view.command = found.command.name().to_string();
                let known = match access {
                    Some(known) => known.clone(),
                    None => access.insert(self.access(github, thread).await?).clone(),
                };
                match known {
                    Access::Denied { permission } => {
                        tracing::info!(permission = %permission, "refused: no write permission");
                        view.refused = Some(RefusedView {
                            repository: thread.repo(),
                            login: thread.author.to_string(),
                            permission,
                        });
                    }
                    Access::Granted => {
                        self.react(github, thread, "eyes").await?;
                        match self.execute(github, thread, found.command, &mut view).await {
                            Ok(()) => {}
                            Err(Refusal::User(why)) => {
                                tracing::info!(why = %why, "command not done");
                                view.failed = Some(why);
                            }
                            Err(Refusal::App(e @ AppError::Transient { .. })) => return Err(e),
                            Err(Refusal::App(AppError::Permanent(why))) => {
                                tracing::warn!(error = %why, "command failed");
                                view.failed =
                                    Some(format!("{why}. The App's administrators can find this in its log."));
                            }
                        }
                    }
                }
            }
        }
        let body = render_template(REPLY_TEMPLATE, &view)
            .map_err(|e| AppError::Permanent(format!("cannot render the reply: {e:#}")))?;
        self.comment(github, &thread.repo(), thread.number, &body).await?;
        self.store.kv_put(ns::COMMAND, &key, "answered".into()).await;
        tracing::info!("answered");
        Ok(())
    }

    async fn execute(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        command: Command,
        view: &mut ReplyView,
    ) -> Result<(), Refusal> {
        match command {
            Command::RequestException { rule, length, reason } => {
                let (pull, new, expires) =
                    self.command_request_exception(github, thread, &rule, length, &reason).await?;
                let opened = OpenedView { url: pull.html_url, exception: Some(expires.to_string()), tier: None };
                if new { view.opened = Some(opened) } else { view.existing = Some(opened) }
            }
            Command::ChangeTier { tier, reason } => {
                let (pull, new) = self.command_change_tier(github, thread, tier, &reason).await?;
                let opened = OpenedView { url: pull.html_url, exception: None, tier: Some(tier) };
                if new { view.opened = Some(opened) } else { view.existing = Some(opened) }
            }
            Command::Recheck => view.rechecked = Some(self.command_recheck(github, thread).await?),
            Command::Readiness => {
                view.readiness = Some(self.command_readiness(github, thread).await?);
                view.commands = Some(command_list());
            }
        }
        Ok(())
    }

    /// Write, maintain or admin permission on the repository (GitHub's `permission` folds maintain into write).
    async fn access(&self, github: &Installation, thread: &Thread<'_>) -> Result<Access, AppError> {
        #[derive(Deserialize)]
        struct Permission {
            permission: String,
            #[serde(default)]
            role_name: Option<String>,
        }
        let path = format!("/repos/{}/collaborators/{}/permission", thread.repo(), segment(thread.author));
        let found: Result<Permission, GhError> =
            github.get(&path, "GET /repos/{owner}/{repo}/collaborators/{username}/permission").await;
        let permission = match found {
            Ok(p) => p,
            Err(GhError::NotFound { .. }) => return Ok(Access::Denied { permission: "no".into() }),
            Err(e) => return Err(e.into()),
        };
        let allowed = |p: &str| matches!(p, "admin" | "maintain" | "write");
        if allowed(&permission.permission) || permission.role_name.as_deref().is_some_and(allowed) {
            Ok(Access::Granted)
        } else {
            let shown = if permission.permission == "none" { "no".to_string() } else { permission.permission };
            Ok(Access::Denied { permission: shown })
        }
    }

    /// A reaction on the command's comment (GitHub answers 200 for one that is already there).
    async fn react(&self, github: &Installation, thread: &Thread<'_>, content: &str) -> Result<(), AppError> {
        let _: serde_json::Value = github
            .post(
                &format!("/repos/{}/issues/comments/{}/reactions", thread.repo(), thread.comment_id),
                &serde_json::json!({"content": content}),
                "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            )
            .await?;
        Ok(())
    }

    /// The catalog as it stands, refusing the command when the App cannot read it.
    async fn readable_catalog(&self, github: &Installation) -> Result<CatalogSnapshot, Refusal> {
        let snapshot = self.catalog_snapshot(github).await?;
        if snapshot.sha == "none" {
            return Err(Refusal::User(format!(
                "the catalog repository {} cannot be read by this App; ask its administrators to install the App there",
                self.config.catalog_repo
            )));
        }
        Ok(snapshot)
    }

    /// The catalog service of the thread's repository.
    fn service_of<'s>(
        &self,
        snapshot: &'s CatalogSnapshot,
        repo: &str,
    ) -> Result<&'s crate::catalog::Service, Refusal> {
        snapshot.catalog.service_for_repository(repo).ok_or_else(|| {
            Refusal::User(format!(
                "{repo} has no entry in the catalog {}: add `services/<name>.yaml` with the annotation \
                 `github.com/project-slug: {repo}` first",
                self.config.catalog_repo
            ))
        })
    }

    /// The client for catalog writes, refusing the command when the App is not installed there.
    async fn writable_catalog(&self) -> Result<Installation, Refusal> {
        match self.catalog_installation().await {
            Ok(installation) => Ok(installation),
            Err(AppError::Permanent(_)) => Err(Refusal::User(format!(
                "the App is not installed on the catalog repository {}, so it cannot open pull requests there",
                self.config.catalog_repo
            ))),
            Err(e) => Err(Refusal::App(e)),
        }
    }

    /// `/request-exception`: a catalog pull request adding `exceptions/<service>/<rule>.yaml`. Returns the pull
    /// request, whether it is new (or this comment's own from an earlier attempt), and the expiry.
    async fn command_request_exception(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        rule_id: &str,
        length: Option<ExceptionLength>,
        reason: &str,
    ) -> Result<(PullLink, bool, NaiveDate), Refusal> {
        let repo = thread.repo();
        let snapshot = self.readable_catalog(github).await?;
        let service = self.service_of(&snapshot, &repo)?;
        let Some(rule) = snapshot.policy.rule(rule_id) else {
            let hint = crate::diag::suggestion(rule_id, snapshot.policy.rules.iter().map(|r| r.id.as_str()));
            return Err(Refusal::User(format!("the scorecard has no rule `{rule_id}`{hint}")));
        };
        let card = self.default_branch_card(github, thread.repository, false).await?;
        let result = card.rule(rule_id);
        if let Some(result) = result.filter(|r| r.does_not_apply()) {
            return Err(Refusal::User(format!("`{rule_id}` {}: no exception is needed", result.message)));
        }
        let tier = &snapshot.policy.tiers[&card.tier];
        let max = tier.exception_max_days;
        let today = self.clock.today();
        let latest = today + chrono::Days::new(u64::from(max));
        let expires = match length {
            None => today + chrono::Days::new(u64::from(DEFAULT_EXCEPTION_DAYS.min(max))),
            Some(ExceptionLength::Days(days)) => today + chrono::Days::new(u64::from(days)),
            Some(ExceptionLength::Until(date)) => date,
        };
        if expires <= today {
            return Err(Refusal::User(format!("the exception must end after today ({today})")));
        }
        if expires > latest {
            return Err(Refusal::User(format!(
                "tier {} allows exceptions of at most {max} days (until {latest} at the latest); ask for less",
                card.tier
            )));
        }
        let request = CatalogRequest {
            rule: Some(rule_id.to_string()),
            expires: Some(expires),
            ..thread.request(RequestKind::Exception, &service.name)
        };
        let catalog = self.writable_catalog().await?;
        if let Some(found) = self.open_request(&catalog, &request).await? {
            return Ok((found.0, found.1, expires));
        }
        let file = edit::exception_file(&ExceptionRequest {
            service: service.name.clone(),
            rule: rule_id.to_string(),
            reason: reason.to_string(),
            expires,
            requested_by: thread.author.to_string(),
            requested_in: thread.comment_url.to_string(),
        })
        .map_err(|e| Refusal::App(AppError::Permanent(e.to_string())))?;
        let replaces = snapshot.catalog.exceptions_for(&service.name).find(|e| e.rule == rule_id).map(|e| e.expires);
        #[derive(Serialize)]
        struct View<'a> {
            rule: &'a str,
            title: &'a str,
            level: &'a str,
            service: &'a str,
            repository: &'a str,
            tier: u32,
            requested_by: &'a str,
            requested_in: &'a str,
            expires: String,
            days: i64,
            max_days: u32,
            status: &'a str,
            message: Option<&'a str>,
            replaces: Option<String>,
            reason: &'a str,
            remediation: &'a str,
        }
        let body = render_template(
            "exception_pr.md",
            &View {
                rule: rule_id,
                title: &rule.title,
                level: &rule.level,
                service: &service.name,
                repository: &repo,
                tier: card.tier,
                requested_by: thread.author,
                requested_in: thread.comment_url,
                expires: expires.to_string(),
                days: (expires - today).num_days(),
                max_days: max,
                status: result.map_or("not scored", |r| r.status.as_str()),
                message: result.map(|r| r.message.as_str()).filter(|m| !m.is_empty()),
                replaces: replaces.map(|d| d.to_string()),
                reason,
                remediation: &rule.remediation,
            },
        )
        .map_err(|e| Refusal::App(AppError::Permanent(format!("cannot render the pull request: {e:#}"))))?;
        let change = CatalogChange {
            branch: branch_name(&["exception", &service.name, rule_id, &thread.comment_id.to_string()]),
            message: format!(
                "Exception for {rule_id} in {} until {expires}\n\nRequested by {} in {}",
                service.name, thread.author, thread.comment_url
            ),
            files: vec![(edit::exception_path(&service.name, rule_id), Some(file))],
            title: format!("Exception: {} / {rule_id} until {expires}", service.name),
            body,
            request,
        };
        let pull = self.open_catalog_pr(&catalog, &snapshot, change).await?;
        tracing::info!(pull = pull.number, expires = %expires, "exception requested");
        Ok((pull, true, expires))
    }

    /// The open catalog pull request asking for the same thing, and whether it is this comment's own.
    async fn open_request(
        &self,
        catalog: &Installation,
        request: &CatalogRequest,
    ) -> Result<Option<(PullLink, bool)>, AppError> {
        let open = self.open_catalog_requests(catalog).await?;
        Ok(open.into_iter().find(|(_, r)| r.same_subject(request)).map(|(pull, r)| {
            let own = r.comment == request.comment && r.repository == request.repository;
            tracing::info!(pull = pull.number, own, "an open catalog pull request already asks for this");
            (pull, own)
        }))
    }

    /// `/change-tier`: a catalog pull request changing only `spec.tier` of the service's file.
    async fn command_change_tier(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        to: u32,
        reason: &str,
    ) -> Result<(PullLink, bool), Refusal> {
        let repo = thread.repo();
        let head = super::branch_head(github, &repo, &thread.repository.default_branch).await?;
        let (snapshot, facts, linked) = self.default_branch_inputs(github, thread.repository, &head, false).await?;
        let service = self.service_of(&snapshot, &repo)?;
        let policy = &snapshot.policy;
        let Some(to_tier) = policy.tiers.get(&to) else {
            let known: Vec<String> = policy.tiers.keys().map(u32::to_string).collect();
            return Err(Refusal::User(format!("the scorecard has no tier {to} (tiers: {})", known.join(", "))));
        };
        let now = self.score_in(&repo, &facts, &linked, &snapshot.catalog, Reviewed::yes(policy), None);
        if now.tier == to {
            return Err(Refusal::User(format!("{} is already tier {to}", service.name)));
        }
        let from_tier = &policy.tiers[&now.tier];
        let Some(text) = snapshot.files.get(&service.file) else {
            return Err(Refusal::App(AppError::Permanent(format!("{} was not read from the catalog", service.file))));
        };
        let edited = edit::set_tier(&service.file, text, to).map_err(|e| match e {
            edit::EditError::NotEditable { .. } | edit::EditError::Unreadable { .. } => Refusal::User(e.to_string()),
            edit::EditError::Verification { .. } => Refusal::App(AppError::Permanent(e.to_string())),
        })?;
        let request = CatalogRequest { tier: Some(to), ..thread.request(RequestKind::Tier, &service.name) };
        let catalog = self.writable_catalog().await?;
        if let Some(found) = self.open_request(&catalog, &request).await? {
            return Ok(found);
        }
        let after = self.score_in(&repo, &facts, &linked, &snapshot.catalog, Reviewed::yes(policy), Some(to));
        let today = self.clock.today();
        let due = today + chrono::Days::new(u64::from(to_tier.deadline_days));
        #[derive(Serialize)]
        struct Added<'a> {
            id: &'a str,
            title: &'a str,
            level: &'a str,
            status: &'a str,
            due: Option<String>,
        }
        let added: Vec<Added> = after
            .rules
            .iter()
            .filter(|r| r.required && !r.does_not_apply() && now.rule(&r.id).is_none_or(|b| !b.required))
            .map(|r| Added {
                id: &r.id,
                title: &r.title,
                level: &r.level,
                status: r.status.as_str(),
                due: (r.status == Status::Fail).then(|| due.to_string()),
            })
            .collect();
        let removed: Vec<&str> = now
            .rules
            .iter()
            .filter(|r| r.required && after.rule(&r.id).is_some_and(|a| !a.required))
            .map(|r| r.id.as_str())
            .collect();
        #[derive(Serialize)]
        struct View<'a> {
            service: &'a str,
            file: &'a str,
            from: u32,
            to: u32,
            requested_by: &'a str,
            requested_in: &'a str,
            reason: &'a str,
            from_level: &'a str,
            to_level: &'a str,
            from_deadline: u32,
            to_deadline: u32,
            from_max: u32,
            to_max: u32,
            level: Option<&'a str>,
            meets_after: bool,
            added: Vec<Added<'a>>,
            removed: Vec<&'a str>,
        }
        let body = render_template(
            "tier_pr.md",
            &View {
                service: &service.name,
                file: &service.file,
                from: now.tier,
                to,
                requested_by: thread.author,
                requested_in: thread.comment_url,
                reason,
                from_level: &from_tier.requires,
                to_level: &to_tier.requires,
                from_deadline: from_tier.deadline_days,
                to_deadline: to_tier.deadline_days,
                from_max: from_tier.exception_max_days,
                to_max: to_tier.exception_max_days,
                level: now.level.as_deref(),
                meets_after: after.meets_required,
                added,
                removed,
            },
        )
        .map_err(|e| Refusal::App(AppError::Permanent(format!("cannot render the pull request: {e:#}"))))?;
        let change = CatalogChange {
            branch: branch_name(&["tier", &service.name, &thread.comment_id.to_string()]),
            message: format!(
                "Tier of {} from {} to {to}\n\nRequested by {} in {}",
                service.name, now.tier, thread.author, thread.comment_url
            ),
            files: vec![(service.file.clone(), Some(edited))],
            title: format!("Tier change: {} from tier {} to tier {to}", service.name, now.tier),
            body,
            request,
        };
        let pull = self.open_catalog_pr(&catalog, &snapshot, change).await?;
        tracing::info!(pull = pull.number, from = now.tier, to, "tier change requested");
        Ok((pull, true))
    }

    /// `/recheck`: the pull request (when the thread is one) and the default branch, scored again now.
    async fn command_recheck(&self, github: &Installation, thread: &Thread<'_>) -> Result<Vec<RecheckedView>, Refusal> {
        let mut out = Vec::new();
        if thread.is_pull_request
            && let Some(pr) = self.open_pull(github, thread).await?
        {
            self.evaluate_pull_request(github, thread.repository, &pr).await?;
            if let Some(card) = self.stored_card(&thread.repo(), &pr.head_sha).await {
                out.push(recheck_view(format!("This pull request at {}", short(&pr.head_sha)), &card, None));
            }
        }
        let card = self.default_branch_card(github, thread.repository, true).await?;
        let link = self.tracking_issue_url(&thread.repo()).await;
        let head = card.commit.as_deref().unwrap_or_default();
        let what = format!("The default branch `{}` at {}", thread.repository.default_branch, short(head));
        out.push(recheck_view(what, &card, link));
        Ok(out)
    }

    /// `/readiness`: the scorecard of the pull request's head, or of the default branch on an issue.
    async fn command_readiness(&self, github: &Installation, thread: &Thread<'_>) -> Result<String, Refusal> {
        let card = match (thread.is_pull_request, self.open_pull(github, thread).await?) {
            (true, Some(pr)) => match self.stored_card(&thread.repo(), &pr.head_sha).await {
                Some(card) => card,
                None => {
                    self.evaluate_pull_request(github, thread.repository, &pr).await?;
                    self.stored_card(&thread.repo(), &pr.head_sha).await.ok_or_else(|| {
                        Refusal::App(AppError::Permanent("the pull request's scorecard was not stored".into()))
                    })?
                }
            },
            _ => self.default_branch_card(github, thread.repository, false).await?,
        };
        crate::report::render_markdown(&card)
            .map_err(|e| Refusal::App(AppError::Permanent(format!("cannot render the scorecard: {e:#}"))))
    }

    /// The thread's pull request when it is one and still open.
    async fn open_pull(&self, github: &Installation, thread: &Thread<'_>) -> Result<Option<PrRef>, AppError> {
        if !thread.is_pull_request {
            return Ok(None);
        }
        let pull: PullJson = github
            .get(
                &format!("/repos/{}/pulls/{}", thread.repo(), thread.number),
                "GET /repos/{owner}/{repo}/pulls/{pull_number}",
            )
            .await?;
        Ok((pull.state == "open").then(|| pull.pr_ref()))
    }

    async fn stored_card(&self, repo: &str, sha: &str) -> Option<Scorecard> {
        self.store.kv_get(ns::SCORECARD, &format!("{repo}@{sha}")).await.and_then(|j| serde_json::from_str(&j).ok())
    }

    /// The default branch's scorecard now (scored again: the catalog or linked tools may have changed), reading the
    /// linked-tool facts again when `fresh_linked`.
    pub(crate) async fn default_branch_card(
        &self,
        github: &Installation,
        repository: &Repository,
        fresh_linked: bool,
    ) -> Result<Scorecard, AppError> {
        let head = super::branch_head(github, &repository.full_name(), &repository.default_branch).await?;
        self.evaluate_default_branch_with(github, repository, &head, None, fresh_linked).await
    }
}

fn recheck_view(what: String, card: &Scorecard, link: Option<String>) -> RecheckedView {
    RecheckedView {
        what,
        level: card.level.clone(),
        tier: card.tier,
        required_level: card.required_level.clone(),
        meets_required: card.meets_required,
        failing: card.failing_required().count(),
        link,
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}
