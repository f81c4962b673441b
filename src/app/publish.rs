//! What the App publishes on a commit or a pull request: the check run (found or created, then completed with its
//! output and annotations in batches) and the sticky comment.

use super::check_run::{self, Annotation, Conclusion};
use super::{App, AppError, COMMENT_MARKER};
use crate::engine::{self, Scorecard};
use crate::github::client::Installation;
use crate::github::events::PrRef;
use crate::github::path::repo_api;
use crate::store::ns;
use serde::Deserialize;

/// What a completed check run shows.
pub(super) struct CheckRunOutput<'a> {
    pub(super) title: &'a str,
    pub(super) summary: &'a str,
    pub(super) annotations: &'a [Annotation],
}

impl App {
    /// Finds the `Production readiness` check run for this head or creates it, and marks it in progress.
    pub(super) async fn start_check_run(
        &self,
        github: &Installation,
        repo: &str,
        head_sha: &str,
    ) -> Result<u64, AppError> {
        self.start_named_check_run(github, repo, head_sha, check_run::NAME).await
    }

    /// Finds the check run `name` for this head (by name and head SHA) or creates it, and marks it in progress.
    pub(super) async fn start_named_check_run(
        &self,
        github: &Installation,
        repo: &str,
        head_sha: &str,
        name: &str,
    ) -> Result<u64, AppError> {
        let key =
            if name == check_run::NAME { format!("{repo}@{head_sha}") } else { format!("{repo}@{head_sha}#{name}") };
        let mut id = self.store.kv_get(ns::CHECK_RUN, &key).await.and_then(|v| v.parse::<u64>().ok());
        if id.is_none() {
            #[derive(Deserialize)]
            struct Listing {
                check_runs: Vec<Run>,
            }
            #[derive(Deserialize)]
            struct Run {
                id: u64,
                name: String,
                app: Option<RunApp>,
            }
            #[derive(Deserialize)]
            struct RunApp {
                id: u64,
            }
            let query = crate::github::client::segment(name);
            let listing: Listing = github
                .get(
                    &format!(
                        "{}/commits/{head_sha}/check-runs?check_name={query}&filter=all&per_page=100",
                        repo_api(repo)
                    ),
                    "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
                )
                .await?;
            id = listing
                .check_runs
                .iter()
                .find(|r| r.name == name && r.app.as_ref().is_none_or(|a| a.id == self.config.app_id))
                .map(|r| r.id);
        }
        #[derive(Deserialize)]
        struct Created {
            id: u64,
        }
        let started = serde_json::json!({
            "status": "in_progress",
            "started_at": self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "output": {"title": "Evaluating…", "summary": "shipshape is scoring this commit."},
        });
        let id = match id {
            Some(id) => {
                let _: serde_json::Value = github
                    .patch(
                        &format!("{}/check-runs/{id}", repo_api(repo)),
                        &started,
                        "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
                    )
                    .await?;
                id
            }
            None => {
                let mut body = started;
                body["name"] = name.into();
                body["head_sha"] = head_sha.into();
                let created: Created = github
                    .post(&format!("{}/check-runs", repo_api(repo)), &body, "POST /repos/{owner}/{repo}/check-runs")
                    .await?;
                created.id
            }
        };
        self.store.kv_put(ns::CHECK_RUN, &key, id.to_string()).await;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn finish_check_run(
        &self,
        github: &Installation,
        repo: &str,
        id: u64,
        card: &Scorecard,
        conclusion: Conclusion,
        summary: &str,
        annotations: &[Annotation],
    ) -> Result<(), AppError> {
        let mut extra = serde_json::json!({
            "actions": [{"label": "Re-check", "description": "Score this commit again", "identifier": check_run::RECHECK}],
        });
        if let (Some(public), Some(commit)) = (&self.config.public_url, &card.commit) {
            extra["details_url"] = format!("{}/readiness/{repo}/{commit}", public.trim_end_matches('/')).into();
        }
        let output = CheckRunOutput { title: &check_run::title(card), summary, annotations };
        self.complete_check_run(github, repo, id, conclusion, output, extra).await
    }

    /// Completes a check run with its output (`extra` adds fields such as actions), annotations in batches of
    /// GitHub's maximum per request.
    pub(super) async fn complete_check_run(
        &self,
        github: &Installation,
        repo: &str,
        id: u64,
        conclusion: Conclusion,
        output: CheckRunOutput<'_>,
        extra: serde_json::Value,
    ) -> Result<(), AppError> {
        let CheckRunOutput { title, summary, annotations } = output;
        // However many files a pull request or a catalog change adds, a check run costs a few requests.
        let shown = annotations.len().min(check_run::MAX_ANNOTATIONS);
        let summary = if annotations.len() > shown {
            format!("{summary}\n\n_{} more annotation(s) not shown._", annotations.len() - shown)
        } else {
            summary.to_string()
        };
        let summary = truncate_summary(&summary);
        let mut batches = annotations[..shown].chunks(check_run::ANNOTATIONS_PER_REQUEST);
        let mut body = serde_json::json!({
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "output": {"title": title, "summary": summary, "annotations": batches.next().unwrap_or_default()},
        });
        if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let path = format!("{}/check-runs/{id}", repo_api(repo));
        let endpoint = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}";
        let _: serde_json::Value = github.patch(&path, &body, endpoint).await?;
        for batch in batches {
            let more = serde_json::json!({"output": {"title": title, "summary": summary, "annotations": batch}});
            let _: serde_json::Value = github.patch(&path, &more, endpoint).await?;
        }
        Ok(())
    }

    /// One comment per pull request, only once the pull request changes the scorecard, then updated in place.
    pub(super) async fn sticky_comment(
        &self,
        github: &Installation,
        repo: &str,
        pr: &PrRef,
        head: &Scorecard,
        diff: &engine::ScorecardDiff,
    ) -> Result<(), AppError> {
        let key = format!("{repo}#{}", pr.number);
        let mut existing = self.store.kv_get(ns::STICKY_COMMENT, &key).await.and_then(|v| v.parse::<u64>().ok());
        if existing.is_none() && diff.is_empty() {
            return Ok(()); // nothing to say and nothing said before
        }
        if existing.is_none() {
            #[derive(Deserialize)]
            struct Comment {
                id: u64,
                body: Option<String>,
            }
            let comments: Vec<Comment> = github
                .get_all(
                    &format!("{}/issues/{}/comments?per_page=100", repo_api(repo), pr.number),
                    "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
                )
                .await?;
            existing =
                comments.iter().find(|c| c.body.as_deref().is_some_and(|b| b.contains(COMMENT_MARKER))).map(|c| c.id);
        }
        let body = serde_json::json!({"body": comment_body(head, diff)});
        #[derive(Deserialize)]
        struct Written {
            id: u64,
        }
        let written: Written = match existing {
            Some(id) => {
                github
                    .patch(
                        &format!("{}/issues/comments/{id}", repo_api(repo)),
                        &body,
                        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
                    )
                    .await?
            }
            None => {
                github
                    .post(
                        &format!("{}/issues/{}/comments", repo_api(repo), pr.number),
                        &body,
                        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
                    )
                    .await?
            }
        };
        self.store.kv_put(ns::STICKY_COMMENT, &key, written.id.to_string()).await;
        Ok(())
    }
}

/// The sticky comment's text.
pub fn comment_body(head: &Scorecard, diff: &engine::ScorecardDiff) -> String {
    use crate::report::neutralise::{code_span, neutralise};
    let mut out = format!("{COMMENT_MARKER}\n### Production readiness\n\n");
    if diff.is_empty() {
        out.push_str("The latest push no longer changes the scorecard.\n");
    }
    if diff.level_change != std::cmp::Ordering::Equal {
        let show = |l: &Option<String>| l.as_deref().map(neutralise).unwrap_or_else(|| "none".into());
        out.push_str(&format!("- Level: **{}** → **{}**\n", show(&diff.level_before), show(&diff.level_after)));
    }
    for id in &diff.fixed {
        if let Some(rule) = head.rule(id) {
            out.push_str(&format!("- ✅ Fixes **{}** ({})\n", neutralise(&rule.title), code_span(id)));
        }
    }
    for id in &diff.broken {
        if let Some(rule) = head.rule(id) {
            let required = if rule.required { ", required by this tier" } else { "" };
            out.push_str(&format!(
                "- ❌ Breaks **{}** ({}{required}): {}\n",
                neutralise(&rule.title),
                code_span(id),
                neutralise(&rule.message)
            ));
        }
    }
    out.push_str(
        "\nThe `Production readiness` check run has the whole scorecard. This comment is updated on each push.\n",
    );
    out
}

/// GitHub's limit for a check run's summary is 65,535 characters.
fn truncate_summary(summary: &str) -> String {
    const MAX: usize = 65_000;
    if summary.len() <= MAX {
        return summary.to_string();
    }
    let mut end = MAX;
    while !summary.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n_(cut: the scorecard is longer than GitHub shows)_\n", &summary[..end])
}
