//! The comment commands that score: `/recheck` and `/readiness`.

use super::reply::{RecheckedView, recheck_view, short};
use super::{Refusal, Thread};
use crate::app::catalog_pr::PullJson;
use crate::app::{App, AppError};
use crate::engine::Scorecard;
use crate::github::client::Installation;
use crate::github::events::{PrRef, Repository};
use crate::github::path::repo_api;
use crate::store::ns;

impl App {
    /// `/recheck`: the pull request (when the thread is one) and the default branch, scored again now.
    pub(super) async fn command_recheck(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
    ) -> Result<Vec<RecheckedView>, Refusal> {
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
    pub(super) async fn command_readiness(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
    ) -> Result<String, Refusal> {
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
                &format!("{}/pulls/{}", repo_api(&thread.repo()), thread.number),
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
        let head = crate::app::branch_head(github, &repository.full_name(), &repository.default_branch).await?;
        self.evaluate_default_branch_with(github, repository, &head, None, fresh_linked).await
    }
}
