//! Comment commands (SPEC 5) on service repositories: parsed by [`crate::commands`], allowed for commenters with
//! write permission, acknowledged with one reaction and answered with one reply per comment.
//!
//! Bounded, so that one comment cannot spend the App's GitHub write budget: at most [`commands::MAX_COMMANDS`]
//! command lines are acted on (the reply names the rest as ignored), a command repeated in the same comment is done
//! once, and a commenter without write permission gets one short refusal whatever the comment holds (no reaction,
//! no usage help).
//!
//! Exactly once in effect: each command's outcome is recorded once done and the comment once answered, so a retried
//! or redelivered comment neither answers twice nor opens a second catalog pull request (that is also found again
//! by its marker when the database is lost).

mod catalog;
mod reply;
mod scores;

pub use catalog::DEFAULT_EXCEPTION_DAYS;

use super::catalog_pr::{CatalogRequest, RequestKind};
use super::{App, AppError};
use crate::commands::{self, Command, Comment, Found, ParseError};
use crate::github::client::{GhError, Installation, segment};
use crate::github::events::{IssueCommentEvent, Repository};
use crate::github::path::repo_api;
use crate::report::render_template;
use crate::store::ns;
use reply::{OpenedView, ReplyView, SectionView, command_list};
use serde::Deserialize;
use tracing::Instrument;

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
    pub(super) fn repo(&self) -> String {
        self.repository.full_name()
    }

    /// What the comment's answer is recorded by (`owner/name#comment_id`).
    fn key(&self) -> String {
        format!("{}#{}", self.repo(), self.comment_id)
    }

    /// A catalog request about `service` asked here.
    pub(super) fn request(&self, kind: RequestKind, service: &str) -> CatalogRequest {
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

/// The commenter's access to the repository, from GitHub (asked once per comment).
#[derive(Clone)]
enum Access {
    Granted,
    Denied { permission: String },
}

impl App {
    /// `issue_comment` created: the comment's first [`commands::MAX_COMMANDS`] command lines, in order, answered by
    /// one reply (see the module's documentation).
    pub(crate) async fn handle_comment(&self, event: IssueCommentEvent) -> Result<(), AppError> {
        let comment = commands::read(&event.body);
        if comment.commands.is_empty() {
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
        let span = tracing::info_span!(
            "comment",
            repo = %thread.repo(),
            thread = thread.number,
            comment = thread.comment_id,
            author = %thread.author,
            commands = comment.commands.len(),
            ignored = comment.ignored.len(),
            truncated = comment.truncated,
        );
        self.answer_comment(&github, &thread, &comment).instrument(span).await
    }

    async fn answer_comment(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        comment: &Comment,
    ) -> Result<(), AppError> {
        let key = thread.key();
        // Until this version every command line was answered on its own, recorded as `…/<index>`.
        let answered_before = self.store.kv_get(ns::COMMAND, &format!("{key}/0")).await.as_deref() == Some("answered");
        if answered_before || self.store.kv_get(ns::COMMAND, &key).await.is_some() {
            tracing::info!("already answered");
            return Ok(());
        }
        let view = match self.access(github, thread).await? {
            Access::Denied { permission } => {
                tracing::info!(permission = %permission, "refused: no write permission");
                reply::refused(thread, permission, comment)
            }
            Access::Granted => self.run_commands(github, thread, comment).await?,
        };
        let body = render_template(REPLY_TEMPLATE, &view)
            .map_err(|e| AppError::Permanent(format!("cannot render the reply: {e:#}")))?;
        self.comment(github, &thread.repo(), thread.number, &body).await?;
        self.store.kv_put(ns::COMMAND, &key, "answered".into()).await;
        tracing::info!(sections = view.sections.len(), "answered");
        Ok(())
    }

    /// For a commenter with write permission: one reaction (👀, or 😕 when no line is a well-formed command), then
    /// each command line in order; a command repeated word for word is done once.
    async fn run_commands(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        comment: &Comment,
    ) -> Result<ReplyView, AppError> {
        let acts = comment.commands.iter().any(Result::is_ok);
        self.react_once(github, thread, if acts { "eyes" } else { "confused" }).await?;
        let mut sections = Vec::with_capacity(comment.commands.len());
        for (index, item) in comment.commands.iter().enumerate() {
            let earlier = item.as_ref().ok().and_then(|found| {
                let mut before = comment.commands[..index].iter().flatten();
                before.find(|e| e.command == found.command).map(|first| (found, first.line))
            });
            let section = match earlier {
                Some((found, first)) => SectionView::same_as(found, first),
                None => {
                    let (name, line) = match item {
                        Ok(found) => (found.command.name(), found.line),
                        Err(e) => (e.command.unwrap_or("unknown"), e.line),
                    };
                    let span = tracing::info_span!("command", command = name, line, index);
                    self.outcome(github, thread, index, item).instrument(span).await?
                }
            };
            sections.push(section);
        }
        Ok(reply::answer(sections, comment))
    }

    /// One command line's section of the reply, kept once done: a delivery retried after a later command failed
    /// does not do it again.
    async fn outcome(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        index: usize,
        item: &Result<Found, ParseError>,
    ) -> Result<SectionView, AppError> {
        let key = format!("{}/{index}", thread.key());
        if let Some(done) = self.store.kv_get(ns::COMMAND, &key).await.and_then(|j| serde_json::from_str(&j).ok()) {
            tracing::info!("done before");
            return Ok(done);
        }
        let section = match item {
            Err(error) => {
                tracing::info!(error = %error, "malformed command");
                SectionView::usage(error)
            }
            Ok(found) => self.run_command(github, thread, found).await?,
        };
        if let Ok(json) = serde_json::to_string(&section) {
            self.store.kv_put(ns::COMMAND, &key, json).await;
        }
        Ok(section)
    }

    async fn run_command(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        found: &Found,
    ) -> Result<SectionView, AppError> {
        let mut view = SectionView::of(found);
        match self.execute(github, thread, found.command.clone(), &mut view).await {
            Ok(()) => {}
            Err(Refusal::User(why)) => {
                tracing::info!(why = %why, "command not done");
                view.failed = Some(why);
            }
            Err(Refusal::App(e @ AppError::Transient { .. })) => return Err(e),
            Err(Refusal::App(AppError::Permanent(why))) => {
                tracing::warn!(error = %why, "command failed");
                view.failed = Some(format!("{why}. The App's administrators can find this in its log."));
            }
        }
        Ok(view)
    }

    async fn execute(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        command: Command,
        view: &mut SectionView,
    ) -> Result<(), Refusal> {
        match command {
            Command::RequestException { rule, length, reason } => {
                let (pull, new, expires) =
                    self.command_request_exception(github, thread, &rule, length, &reason).await?;
                self.remember_exception_request(thread, &rule, &pull, expires).await;
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

    /// Keeps the exception pull request for the service's page on the web.
    async fn remember_exception_request(
        &self,
        thread: &Thread<'_>,
        rule: &str,
        pull: &super::catalog_pr::PullLink,
        expires: chrono::NaiveDate,
    ) {
        use crate::dashboard::catalog::{ExceptionRequest, add_request, requests_key};
        let key = requests_key(&thread.repo());
        let known: Vec<ExceptionRequest> =
            self.store.kv_get(ns::WEB, &key).await.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
        let new = ExceptionRequest {
            rule: rule.to_string(),
            url: pull.html_url.clone(),
            number: pull.number,
            expires,
            requested_by: thread.author.to_string(),
            opened_at: self.clock.now(),
        };
        if let Ok(json) = serde_json::to_string(&add_request(known, new)) {
            self.store.kv_put(ns::WEB, &key, json).await;
        }
    }

    /// Write, maintain or admin permission on the repository (GitHub's `permission` folds maintain into write).
    async fn access(&self, github: &Installation, thread: &Thread<'_>) -> Result<Access, AppError> {
        #[derive(Deserialize)]
        struct Permission {
            permission: String,
            #[serde(default)]
            role_name: Option<String>,
        }
        let path = format!("{}/collaborators/{}/permission", repo_api(&thread.repo()), segment(thread.author));
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

    /// The comment's one reaction, added once (GitHub answers 200 for one that is already there, but it is a write).
    async fn react_once(&self, github: &Installation, thread: &Thread<'_>, content: &str) -> Result<(), AppError> {
        let key = format!("{}/reaction", thread.key());
        if self.store.kv_get(ns::COMMAND, &key).await.is_some() {
            return Ok(());
        }
        let _: serde_json::Value = github
            .post(
                &format!("{}/issues/comments/{}/reactions", repo_api(&thread.repo()), thread.comment_id),
                &serde_json::json!({"content": content}),
                "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            )
            .await?;
        self.store.kv_put(ns::COMMAND, &key, content.into()).await;
        Ok(())
    }
}
