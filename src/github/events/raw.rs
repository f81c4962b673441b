//! GitHub's payload shapes, only the fields we use, and their conversion into our own event types.

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
pub struct Installation {
    pub id: InstallationId,
}

#[derive(Deserialize)]
pub struct Login {
    pub login: String,
}

#[derive(Deserialize)]
pub struct Repository {
    pub id: RepoId,
    pub owner: Login,
    pub name: String,
    pub default_branch: String,
    pub archived: bool,
    pub fork: bool,
    pub private: bool,
    #[serde(default = "enabled")]
    pub has_issues: bool,
}

fn enabled() -> bool {
    true
}

impl From<Repository> for super::Repository {
    fn from(r: Repository) -> Self {
        Self {
            id: r.id,
            owner: r.owner.login,
            name: r.name,
            default_branch: r.default_branch,
            archived: r.archived,
            fork: r.fork,
            private: r.private,
            has_issues: r.has_issues,
        }
    }
}

#[derive(Deserialize)]
pub struct User {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl From<User> for Actor {
    fn from(u: User) -> Self {
        let is_bot = u.kind.as_deref() == Some("Bot") || u.login.ends_with("[bot]");
        Self { login: u.login, is_bot }
    }
}

#[derive(Deserialize)]
pub struct GitRef {
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
}

#[derive(Deserialize)]
pub struct PrRef {
    pub number: PrNumber,
    pub head: GitRef,
    pub base: GitRef,
}

impl From<PrRef> for super::PrRef {
    fn from(pr: PrRef) -> Self {
        Self {
            number: pr.number,
            head_sha: pr.head.sha,
            head_ref: pr.head.git_ref,
            base_sha: pr.base.sha,
            base_ref: pr.base.git_ref,
        }
    }
}

#[derive(Deserialize)]
pub struct App {
    pub id: u64,
}

fn id_of(installation: Option<Installation>) -> Option<InstallationId> {
    installation.map(|i| i.id)
}

// ---- pull_request ----

#[derive(Deserialize)]
pub struct PullRequest {
    pub number: PrNumber,
    pub head: GitRef,
    pub base: GitRef,
    #[serde(default)]
    pub draft: bool,
    pub state: String,
    #[serde(default)]
    pub merged: Option<bool>,
}

#[derive(Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub installation: Option<Installation>,
    pub repository: Repository,
    pub pull_request: PullRequest,
    pub sender: User,
}

impl From<PullRequestEvent> for super::PullRequestEvent {
    fn from(e: PullRequestEvent) -> Self {
        let pr = e.pull_request;
        Self {
            action: e.action.into(),
            installation: id_of(e.installation),
            repository: e.repository.into(),
            pull_request: super::PullRequest {
                number: pr.number,
                head_sha: pr.head.sha,
                head_ref: pr.head.git_ref,
                base_sha: pr.base.sha,
                base_ref: pr.base.git_ref,
                draft: pr.draft,
                state: pr.state.into(),
                merged: pr.merged.unwrap_or(false),
            },
            sender: e.sender.into(),
        }
    }
}

// ---- check_suite ----

#[derive(Deserialize)]
pub struct CheckSuite {
    pub head_sha: String,
    pub head_branch: Option<String>,
    pub app: App,
    #[serde(default)]
    pub pull_requests: Vec<PrRef>,
}

#[derive(Deserialize)]
pub struct CheckSuiteEvent {
    pub action: String,
    pub installation: Option<Installation>,
    pub repository: Repository,
    pub check_suite: CheckSuite,
    pub sender: Option<User>,
}

impl From<CheckSuiteEvent> for super::CheckSuiteEvent {
    fn from(e: CheckSuiteEvent) -> Self {
        let suite = e.check_suite;
        Self {
            action: e.action.into(),
            installation: id_of(e.installation),
            repository: e.repository.into(),
            head_sha: suite.head_sha,
            head_branch: suite.head_branch,
            app_id: suite.app.id,
            pull_requests: suite.pull_requests.into_iter().map(Into::into).collect(),
            sender: e.sender.map(Into::into),
        }
    }
}

// ---- check_run ----

#[derive(Deserialize)]
pub struct CheckRunSuite {
    pub head_branch: Option<String>,
}

#[derive(Deserialize)]
pub struct CheckRun {
    pub id: CheckRunId,
    pub name: String,
    pub head_sha: String,
    pub app: App,
    pub check_suite: Option<CheckRunSuite>,
    #[serde(default)]
    pub pull_requests: Vec<PrRef>,
}

#[derive(Deserialize)]
pub struct RequestedAction {
    pub identifier: String,
}

#[derive(Deserialize)]
pub struct CheckRunEvent {
    pub action: String,
    pub installation: Option<Installation>,
    pub repository: Repository,
    pub check_run: CheckRun,
    pub requested_action: Option<RequestedAction>,
    pub sender: User,
}

impl CheckRunEvent {
    /// Fails when a `requested_action` delivery lacks the `requested_action` object (its identifier is the
    /// whole point of the delivery).
    pub fn convert(self, event: &str) -> Result<super::CheckRunEvent, EventError> {
        let action = match self.action.as_str() {
            "created" => CheckRunAction::Created,
            "completed" => CheckRunAction::Completed,
            "rerequested" => CheckRunAction::Rerequested,
            "requested_action" => match self.requested_action {
                Some(requested) => CheckRunAction::RequestedAction { identifier: requested.identifier },
                None => {
                    return Err(malformed(event, "missing field `requested_action` (action `requested_action`)"));
                }
            },
            _ => CheckRunAction::Other(self.action),
        };
        let run = self.check_run;
        Ok(super::CheckRunEvent {
            action,
            installation: id_of(self.installation),
            repository: self.repository.into(),
            check_run_id: run.id,
            name: run.name,
            head_sha: run.head_sha,
            head_branch: run.check_suite.and_then(|suite| suite.head_branch),
            app_id: run.app.id,
            pull_requests: run.pull_requests.into_iter().map(Into::into).collect(),
            sender: self.sender.into(),
        })
    }
}

// ---- push ----

#[derive(Deserialize)]
pub struct Commit {
    pub id: String,
}

#[derive(Deserialize)]
pub struct PushEvent {
    pub installation: Option<Installation>,
    pub repository: Repository,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub created: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub forced: bool,
    pub head_commit: Option<Commit>,
    pub sender: Option<User>,
}

impl From<PushEvent> for super::PushEvent {
    fn from(e: PushEvent) -> Self {
        Self {
            installation: id_of(e.installation),
            repository: e.repository.into(),
            git_ref: e.git_ref,
            before: e.before,
            after: e.after,
            created: e.created,
            deleted: e.deleted,
            forced: e.forced,
            head_commit: e.head_commit.map(|c| c.id),
            sender: e.sender.map(Into::into),
        }
    }
}

// ---- issue_comment ----

#[derive(Deserialize)]
pub struct Issue {
    pub number: PrNumber,
    /// Only its presence matters; `IgnoredAny` keeps whatever is inside.
    pub pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub body: Option<String>,
    pub html_url: String,
    pub user: User,
}

#[derive(Deserialize)]
pub struct IssueCommentEvent {
    pub action: String,
    pub installation: Option<Installation>,
    pub repository: Repository,
    pub issue: Issue,
    pub comment: Comment,
}

impl From<IssueCommentEvent> for super::IssueCommentEvent {
    fn from(e: IssueCommentEvent) -> Self {
        Self {
            action: e.action.into(),
            installation: id_of(e.installation),
            repository: e.repository.into(),
            issue_number: e.issue.number,
            is_pull_request: e.issue.pull_request.is_some(),
            comment_id: e.comment.id,
            body: e.comment.body.unwrap_or_default(),
            html_url: e.comment.html_url,
            author: e.comment.user.into(),
        }
    }
}

// ---- installation, installation_repositories ----

#[derive(Deserialize)]
pub struct Account {
    pub login: Option<String>,
    pub slug: Option<String>,
}

#[derive(Deserialize)]
pub struct InstallationWithAccount {
    pub id: InstallationId,
    pub account: Option<Account>,
}

#[derive(Deserialize)]
pub struct InstalledRepo {
    pub id: RepoId,
    pub full_name: String,
}

impl From<InstalledRepo> for super::InstalledRepo {
    fn from(r: InstalledRepo) -> Self {
        Self { id: r.id, full_name: r.full_name }
    }
}

fn repos(list: Vec<InstalledRepo>) -> Vec<super::InstalledRepo> {
    list.into_iter().map(Into::into).collect()
}

#[derive(Deserialize)]
pub struct InstallationEvent {
    pub action: String,
    pub installation: InstallationWithAccount,
    pub repositories: Option<Vec<InstalledRepo>>,
    pub sender: Option<User>,
}

impl From<InstallationEvent> for super::InstallationEvent {
    fn from(e: InstallationEvent) -> Self {
        Self {
            action: e.action.into(),
            installation: e.installation.id,
            account_login: e.installation.account.and_then(|a| a.login.or(a.slug)),
            repositories: e.repositories.map(repos),
            sender: e.sender.map(Into::into),
        }
    }
}

#[derive(Deserialize)]
pub struct InstallationRepositoriesEvent {
    pub action: String,
    pub installation: Installation,
    #[serde(default)]
    pub repositories_added: Vec<InstalledRepo>,
    #[serde(default)]
    pub repositories_removed: Vec<InstalledRepo>,
    pub sender: Option<User>,
}

impl From<InstallationRepositoriesEvent> for super::InstallationRepositoriesEvent {
    fn from(e: InstallationRepositoriesEvent) -> Self {
        Self {
            action: e.action.into(),
            installation: e.installation.id,
            added: repos(e.repositories_added),
            removed: repos(e.repositories_removed),
            sender: e.sender.map(Into::into),
        }
    }
}

// ---- ping ----

#[derive(Deserialize)]
pub struct Hook {
    pub app_id: Option<u64>,
}

#[derive(Deserialize)]
pub struct PingEvent {
    pub zen: String,
    pub hook_id: u64,
    pub hook: Option<Hook>,
    pub installation: Option<Installation>,
    pub repository: Option<Repository>,
}

impl From<PingEvent> for super::PingEvent {
    fn from(e: PingEvent) -> Self {
        Self {
            zen: e.zen,
            hook_id: e.hook_id,
            app_id: e.hook.and_then(|h| h.app_id),
            installation: id_of(e.installation),
            repository: e.repository.map(Into::into),
        }
    }
}
