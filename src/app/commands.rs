//! Comment commands (SPEC 5) on service repositories: parsed by [`crate::commands`], allowed for commenters with
//! write permission, acknowledged with 👀, answered with one reply each.
//!
//! Exactly once in effect: a command's answer is recorded once posted, so a retried or redelivered comment neither
//! answers twice nor opens a second catalog pull request (that is also found again by its marker when the database
//! is lost).

mod catalog;
mod reply;
mod scores;

pub use catalog::DEFAULT_EXCEPTION_DAYS;

use super::catalog_pr::{CatalogRequest, RequestKind};
use super::{App, AppError};
use crate::commands::{self, Command, Found, ParseError};
use crate::github::client::{GhError, Installation, segment};
use crate::github::events::{IssueCommentEvent, Repository};
use crate::report::render_template;
use crate::store::ns;
use reply::{OpenedView, RefusedView, ReplyView, command_list, usage_view};
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
}
