//! Writes the tracking issue of a service, as planned by [`crate::tracking::plan`], after each evaluation of its
//! default branch.
//!
//! Idempotent: the state written so far is saved after every write (in the key-value store, and in the issue's own
//! hidden marker at the end), so a retried delivery continues where the last attempt stopped. With the database
//! lost, the issue is found again by its label and marker, and sub-issues by theirs.

use super::{App, AppError};
use crate::engine::Scorecard;
use crate::github::client::{GhError, Installation};
use crate::github::events::Repository;
use crate::github::path::repo_api;
use crate::policy::Policy;
use crate::store::ns;
use crate::tracking::text::{self, owner_mention};
use crate::tracking::{self, IssueAction, LABEL, OVERDUE_LABEL, PlanInput, TaskAction, TrackingState};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What the key-value store remembers of a repository's tracking issue.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Record {
    /// `None`: looked for, there is none.
    issue: Option<u64>,
    /// The issue's web address (GitHub's `html_url`: right for GitHub Enterprise Server too).
    #[serde(default)]
    html_url: Option<String>,
    open: bool,
    title: String,
    body: String,
    state: TrackingState,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    id: u64,
    state: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<UserJson>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
    #[serde(default)]
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct UserJson {
    #[serde(rename = "type", default)]
    kind: String,
}

/// What [`App::read_back`] learned.
#[derive(Default)]
struct ReadBack {
    closed_by_hand: bool,
    /// Rules whose sub-issue someone closed.
    closed_tasks: std::collections::BTreeSet<String>,
    /// The sub-issues as listed, when they were.
    sub_issues: Option<Vec<IssueJson>>,
}

const ISSUES: &str = "POST /repos/{owner}/{repo}/issues";
const ISSUE: &str = "PATCH /repos/{owner}/{repo}/issues/{issue_number}";
const COMMENTS: &str = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments";
const LABELS: &str = "POST /repos/{owner}/{repo}/issues/{issue_number}/labels";
const SUB_ISSUES: &str = "GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues";

fn render_error(e: anyhow::Error) -> AppError {
    AppError::Permanent(format!("cannot render tracking issue text: {e:#}"))
}

impl App {
    /// Brings the tracking issue of `repository`'s service in line with `card` (its default branch's scorecard). The
    /// caller decides whether the repository gets one (a catalog service, not archived or a fork, issues enabled).
    pub(crate) async fn track(
        &self,
        github: &Installation,
        repository: &Repository,
        card: &Scorecard,
        policy: &Policy,
    ) -> Result<(), AppError> {
        let repo = repository.full_name();
        let service = card.service.clone().unwrap_or_else(|| repo.clone());
        let mut record = match self.tracking_record(&repo).await {
            Some(record) => record,
            None => self.find_tracking_issue(github, &repo, &service).await?,
        };
        let ReadBack { closed_by_hand, closed_tasks, mut sub_issues } =
            self.read_back(github, &repo, &mut record).await?;
        let today = self.clock.today();
        let failing_since = self
            .store
            .failing_since(&repo, &format!("refs/heads/{}", repository.default_branch))
            .await
            .into_iter()
            .map(|(rule, at)| (rule, at.date_naive()))
            .collect();
        let plan = tracking::plan(&PlanInput {
            card,
            policy,
            today,
            failing_since: &failing_since,
            previous: &record.state,
            issue_open: record.issue.map(|_| record.open),
        });
        let mut target = plan.state.clone();
        let org = &repository.owner;
        let mention = card.owner.as_deref().and_then(|o| owner_mention(o, org));

        // The tracking issue first: sub-issues need a parent.
        if plan.issue == IssueAction::Create {
            let body = text::issue_body(card, policy, &target, today).map_err(render_error)?;
            let title = text::issue_title(card);
            let created: IssueJson = github
                .post(
                    &format!("{}/issues", repo_api(&repo)),
                    &json!({"title": title, "body": body, "labels": [LABEL]}),
                    ISSUES,
                )
                .await?;
            tracing::info!(repo = %repo, issue = created.number, "tracking issue created");
            // Start from the marker just written: tasks are added one by one as their sub-issues exist.
            record = Record {
                issue: Some(created.number),
                html_url: created.html_url,
                open: true,
                title,
                body,
                state: TrackingState { service: target.service.clone(), task_list: false, ..TrackingState::default() },
            };
            self.save(&repo, &record).await;
        }
        let Some(parent) = record.issue else {
            // No issue and none needed: remember that it was looked for, so the next sweep does not look again.
            self.save(&repo, &record).await;
            return Ok(());
        };

        // Sub-issues: are they available here, and which exist already (adopted after a lost write)?
        let needs_new = plan.tasks.iter().any(|a| matches!(a, TaskAction::Open { reopen: false, .. }));
        let mut existing_subs: Vec<IssueJson> = Vec::new();
        if needs_new && !record.state.task_list {
            let listed = match sub_issues.take() {
                Some(subs) => Ok(subs),
                None => {
                    github
                        .get_all::<IssueJson>(
                            &format!("{}/issues/{parent}/sub_issues?per_page=100", repo_api(&repo)),
                            SUB_ISSUES,
                        )
                        .await
                }
            };
            match listed {
                Ok(subs) => existing_subs = subs,
                Err(GhError::NotFound { .. } | GhError::Permanent { status: 422, .. }) => {
                    tracing::info!(repo = %repo, "sub-issues are unavailable: tasks go in a task list");
                    record.state.task_list = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
        target.task_list = record.state.task_list;
        let mut attached = existing_subs.len().max(record.state.tasks.values().filter(|t| t.attached).count());

        for action in &plan.tasks {
            let rule = match action {
                TaskAction::Open { rule, .. }
                | TaskAction::Close { rule, .. }
                | TaskAction::Reschedule { rule }
                | TaskAction::Remind { rule, .. } => rule.clone(),
            };
            let mut task = target.tasks.get(&rule).cloned().expect("planned tasks are in the target state");
            match action {
                TaskAction::Open { reopen, .. } => {
                    if target.task_list {
                        // Listed in the tracking issue's body; nothing else to write.
                    } else if *reopen && let Some(number) = task.issue {
                        let body = text::task_body(card, policy, &rule, &task, None).map_err(render_error)?;
                        let _: serde_json::Value = github
                            .patch(
                                &format!("{}/issues/{number}", repo_api(&repo)),
                                &json!({"state": "open", "title": text::task_title(&task), "body": body}),
                                ISSUE,
                            )
                            .await?;
                        if closed_tasks.contains(&rule) {
                            let comment = text::task_reopened_comment(&rule).map_err(render_error)?;
                            let _: serde_json::Value = github
                                .post(
                                    &format!("{}/issues/{number}/comments", repo_api(&repo)),
                                    &json!({"body": comment}),
                                    COMMENTS,
                                )
                                .await?;
                        }
                    } else {
                        let adopted = existing_subs.iter().find(|s| {
                            s.body.as_deref().and_then(tracking::state::parse_rule_marker)
                                == Some((service.clone(), rule.clone()))
                        });
                        let (number, id, is_attached) = match adopted {
                            Some(sub) => (sub.number, sub.id, true),
                            None => {
                                let body = text::task_body(card, policy, &rule, &task, mention.clone())
                                    .map_err(render_error)?;
                                let created: IssueJson = github
                                    .post(
                                        &format!("{}/issues", repo_api(&repo)),
                                        &json!({"title": text::task_title(&task), "body": body, "labels": [LABEL]}),
                                        ISSUES,
                                    )
                                    .await?;
                                let is_attached =
                                    attached < 100 && self.attach(github, &repo, parent, created.id).await?;
                                if is_attached {
                                    attached += 1;
                                }
                                (created.number, created.id, is_attached)
                            }
                        };
                        if adopted.is_some_and(|s| s.state != "open") {
                            let _: serde_json::Value = github
                                .patch(
                                    &format!("{}/issues/{number}", repo_api(&repo)),
                                    &json!({"state": "open"}),
                                    ISSUE,
                                )
                                .await?;
                        }
                        task.issue = Some(number);
                        task.issue_id = Some(id);
                        task.attached = is_attached;
                    }
                }
                TaskAction::Close { reason, .. } => {
                    if let Some(number) = task.issue.filter(|_| !target.task_list) {
                        let comment = text::closed_comment(&rule, reason).map_err(render_error)?;
                        self.comment(github, &repo, number, &comment).await?;
                        let _: serde_json::Value = github
                            .patch(
                                &format!("{}/issues/{number}", repo_api(&repo)),
                                &json!({"state": "closed", "state_reason": reason.state_reason()}),
                                ISSUE,
                            )
                            .await?;
                    }
                }
                TaskAction::Reschedule { .. } => {
                    if let Some(number) = task.issue.filter(|_| !target.task_list) {
                        let body = text::task_body(card, policy, &rule, &task, None).map_err(render_error)?;
                        let _: serde_json::Value = github
                            .patch(
                                &format!("{}/issues/{number}", repo_api(&repo)),
                                &json!({"title": text::task_title(&task), "body": body}),
                                ISSUE,
                            )
                            .await?;
                    }
                }
                TaskAction::Remind { days_overdue, .. } => {
                    let on = task.issue.filter(|_| !target.task_list && task.attached);
                    let comment = text::overdue_comment(&rule, &task, *days_overdue, mention.clone(), on.is_none())
                        .map_err(render_error)?;
                    match on {
                        Some(number) => {
                            if !task.overdue_label {
                                self.label(github, &repo, number, OVERDUE_LABEL).await?;
                                task.overdue_label = true;
                            }
                            self.comment(github, &repo, number, &comment).await?;
                        }
                        None => self.comment(github, &repo, parent, &comment).await?,
                    }
                    tracing::info!(repo = %repo, rule = %rule, days_overdue, "overdue reminder sent");
                }
            }
            // Done: the task's new state is what the marker will say.
            target.tasks.insert(rule.clone(), task.clone());
            record.state.tasks.insert(rule, task);
            self.save(&repo, &record).await;
        }

        for warning in &plan.warnings {
            let comment = text::expiry_comment(warning, today).map_err(render_error)?;
            self.comment(github, &repo, parent, &comment).await?;
            record.state.expiry_warnings.insert(format!("{}@{}", warning.rule, warning.expires));
            self.save(&repo, &record).await;
        }
        target.expiry_warnings = record.state.expiry_warnings.clone();

        // The tracking issue's labels, title, body and state.
        let overdue = target.open_tasks().any(|(_, t)| today > t.due);
        if overdue != target.overdue_label {
            if overdue {
                self.label(github, &repo, parent, OVERDUE_LABEL).await?;
            } else {
                match github
                    .delete::<()>(
                        &format!("{}/issues/{parent}/labels/{OVERDUE_LABEL}", repo_api(&repo)),
                        None,
                        "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
                    )
                    .await
                {
                    Ok(()) | Err(GhError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            target.overdue_label = overdue;
        }
        let title = text::issue_title(card);
        let body = text::issue_body(card, policy, &target, today).map_err(render_error)?;
        let open = match plan.issue {
            IssueAction::Create | IssueAction::Reopen => true,
            IssueAction::Close => false,
            IssueAction::Keep | IssueAction::None => record.open,
        };
        let mut patch = serde_json::Map::new();
        if title != record.title {
            patch.insert("title".into(), title.clone().into());
        }
        if body != record.body {
            patch.insert("body".into(), body.clone().into());
        }
        if open != record.open {
            patch.insert("state".into(), if open { "open" } else { "closed" }.into());
            if !open {
                patch.insert("state_reason".into(), "completed".into());
            }
        }
        if !patch.is_empty() {
            let _: serde_json::Value = github
                .patch(&format!("{}/issues/{parent}", repo_api(&repo)), &serde_json::Value::Object(patch), ISSUE)
                .await?;
            if open != record.open {
                tracing::info!(repo = %repo, issue = parent, open, "tracking issue {}", if open { "reopened" } else { "closed" });
            }
        }
        if closed_by_hand && open {
            let failing = card.rules.iter().filter(|r| r.required && r.status == crate::engine::Status::Fail).count();
            let comment = text::reopened_comment(&service, failing).map_err(render_error)?;
            let _: serde_json::Value = github
                .post(&format!("{}/issues/{parent}/comments", repo_api(&repo)), &json!({"body": comment}), COMMENTS)
                .await?;
        }
        record = Record { issue: Some(parent), open, title, body, state: target, ..record };
        self.save(&repo, &record).await;
        Ok(())
    }

    /// What people did to the issues since the last write: a tracking issue closed (then `record.open` is false) or
    /// deleted (then `record` starts over), sub-issues closed while their task was open (those tasks are marked
    /// closed). Conditional GETs: free while nothing changed. The sub-issue listing is kept for adopting sub-issues.
    async fn read_back(&self, github: &Installation, repo: &str, record: &mut Record) -> Result<ReadBack, AppError> {
        let mut back = ReadBack::default();
        let Some(number) = record.issue.filter(|_| record.open) else { return Ok(back) };
        let read = github
            .get_conditional::<IssueJson>(
                &format!("{}/issues/{number}", repo_api(repo)),
                "GET /repos/{owner}/{repo}/issues/{issue_number}",
                self.cache(),
            )
            .await;
        match read {
            Ok(issue) if issue.state == "closed" => {
                tracing::info!(repo = %repo, issue = number, "tracking issue closed on GitHub");
                record.open = false;
                back.closed_by_hand = true;
                return Ok(back);
            }
            Ok(_) => {}
            Err(GhError::NotFound { .. } | GhError::Permanent { status: 410, .. }) => {
                tracing::info!(repo = %repo, issue = number, "tracking issue deleted: a new one will be made");
                *record = Record { state: TrackingState::default(), ..Record::default() };
                return Ok(back);
            }
            Err(e) => return Err(e.into()),
        }
        if record.state.task_list || !record.state.tasks.values().any(|t| t.open && t.issue.is_some()) {
            return Ok(back);
        }
        let listed = github
            .get_all_conditional::<IssueJson>(
                &format!("{}/issues/{number}/sub_issues?per_page=100", repo_api(repo)),
                SUB_ISSUES,
                self.cache(),
            )
            .await;
        let subs = match listed {
            Ok(subs) => subs,
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                tracing::info!(repo = %repo, error = %e, "sub-issues not read back");
                return Ok(back);
            }
        };
        for sub in subs.iter().filter(|s| s.state == "closed") {
            for (rule, task) in record.state.tasks.iter_mut().filter(|(_, t)| t.open && t.issue == Some(sub.number)) {
                tracing::info!(repo = %repo, issue = sub.number, rule = %rule, "task closed on GitHub");
                task.open = false;
                back.closed_tasks.insert(rule.clone());
            }
        }
        back.sub_issues = Some(subs);
        Ok(back)
    }

    async fn tracking_record(&self, repo: &str) -> Option<Record> {
        serde_json::from_str(&self.store.kv_get(ns::TRACKING, repo).await?).ok()
    }

    /// The web address of the service's tracking issue in `repo`, when it has one.
    pub(crate) async fn tracking_issue_url(&self, repo: &str) -> Option<String> {
        self.tracking_record(repo).await?.html_url
    }

    /// The tracking issue of `service` in `repo`, found by its label and marker (after the database was lost, or
    /// the first time).
    async fn find_tracking_issue(&self, github: &Installation, repo: &str, service: &str) -> Result<Record, AppError> {
        let issues: Vec<IssueJson> = github
            .get_all(
                &format!("{}/issues?labels={LABEL}&state=all&per_page=100", repo_api(repo)),
                "GET /repos/{owner}/{repo}/issues",
            )
            .await?;
        let mut found: Vec<(IssueJson, TrackingState)> = issues
            .into_iter()
            .filter(|i| i.pull_request.is_none())
            .filter(|i| i.user.as_ref().is_none_or(|u| u.kind == "Bot"))
            .filter_map(|i| {
                let state = TrackingState::from_body(i.body.as_deref()?)?;
                (state.service == service).then_some((i, state))
            })
            .collect();
        // An open one first, then the newest.
        found.sort_by_key(|(i, _)| (i.state == "open", i.number));
        Ok(match found.pop() {
            Some((issue, state)) => {
                tracing::info!(repo = %repo, issue = issue.number, "tracking issue found by its marker");
                Record {
                    issue: Some(issue.number),
                    html_url: issue.html_url,
                    open: issue.state == "open",
                    title: issue.title,
                    body: issue.body.unwrap_or_default(),
                    state,
                }
            }
            None => Record::default(),
        })
    }

    /// Makes `sub_issue_id` a sub-issue of `parent`; `false` when GitHub refuses (unavailable, or the limit).
    async fn attach(
        &self,
        github: &Installation,
        repo: &str,
        parent: u64,
        sub_issue_id: u64,
    ) -> Result<bool, AppError> {
        let result: Result<serde_json::Value, GhError> = github
            .post(
                &format!("{}/issues/{parent}/sub_issues", repo_api(repo)),
                &json!({"sub_issue_id": sub_issue_id}),
                "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues",
            )
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(GhError::NotFound { .. } | GhError::Permanent { status: 422, .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A new comment on an issue or pull request.
    pub(crate) async fn comment(
        &self,
        github: &Installation,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<(), AppError> {
        let _: serde_json::Value = github
            .post(&format!("{}/issues/{number}/comments", repo_api(repo)), &json!({"body": body}), COMMENTS)
            .await?;
        Ok(())
    }

    async fn label(&self, github: &Installation, repo: &str, number: u64, label: &str) -> Result<(), AppError> {
        let _: serde_json::Value = github
            .post(&format!("{}/issues/{number}/labels", repo_api(repo)), &json!({"labels": [label]}), LABELS)
            .await?;
        Ok(())
    }

    async fn save(&self, repo: &str, record: &Record) {
        if let Ok(json) = serde_json::to_string(record) {
            self.store.kv_put(ns::TRACKING, repo, json).await;
        }
    }
}
