//! Webhook payloads converted to our own event types at the edge: handlers never see raw JSON.
//!
//! [`parse`] takes the `X-GitHub-Event` header and the body and returns an [`Event`] for the events the App handles
//! ([`HANDLED_EVENTS`]), `None` for the others (they are acknowledged and recorded, not errors). The private `raw`
//! structs below read only the fields we use and ignore the rest, so GitHub adding fields never breaks us; a field we
//! need that is missing or of the wrong type is a [`EventError::Malformed`] naming the field and where it is.
//!
//! Shapes worth knowing (they are all in GitHub's own example payloads):
//!
//! * `installation` is absent from some deliveries (repository webhooks, many examples): [`Event::installation`] is
//!   then `None`. On `installation` and `installation_repositories` events it is required.
//! * The repository owner is `repository.owner.login`; the PR head is `pull_request.head.sha` / `.ref`.
//! * A check run's branch is `check_run.check_suite.head_branch`. GitHub's schema allows `null` there (and on
//!   `check_suite.head_branch`), e.g. when the branch is gone, so it is an `Option`. The pull requests on check
//!   suites and runs carry only number, head and base.
//! * An issue comment is on a pull request exactly when `issue.pull_request` is present.
//! * A bot is `type: "Bot"`; a login ending in `[bot]` counts too.
//! * Unknown actions are kept as `Other(action)`, never an error: GitHub adds actions often.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `X-GitHub-Event` values [`parse`] turns into an [`Event`].
pub const HANDLED_EVENTS: [&str; 8] = [
    "check_run",
    "check_suite",
    "installation",
    "installation_repositories",
    "issue_comment",
    "ping",
    "pull_request",
    "push",
];

macro_rules! id_newtype {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }
    )*};
}

id_newtype! {
    /// A GitHub App installation (`installation.id`).
    InstallationId,
    /// A repository (`repository.id`): stable across renames and transfers, unlike `owner/name`.
    RepoId,
    /// A check run (`check_run.id`).
    CheckRunId,
    /// An issue or pull request comment (`comment.id`).
    CommentId,
    /// A pull request number within its repository (`pull_request.number`, `issue.number`).
    PrNumber,
}

/// A repository as the events carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    pub id: RepoId,
    /// `repository.owner.login`.
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub archived: bool,
    pub fork: bool,
    pub private: bool,
    /// Issues are enabled (`has_issues`; absent in some payloads, then taken as enabled).
    pub has_issues: bool,
}

impl Repository {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// Who did something: a comment's author, an event's sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
    /// `type == "Bot"`, or a login ending in `[bot]` (App bots, `dependabot[bot]`, `github-actions[bot]`).
    pub is_bot: bool,
}

/// A pull request as check suites and check runs list it: number, head and base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrRef {
    pub number: PrNumber,
    pub head_sha: String,
    pub head_ref: String,
    pub base_sha: String,
    pub base_ref: String,
}

/// A repository as installation events list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledRepo {
    pub id: RepoId,
    /// `owner/name`.
    pub full_name: String,
}

/// One delivery the App handles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    PullRequest(PullRequestEvent),
    CheckSuite(CheckSuiteEvent),
    CheckRun(CheckRunEvent),
    Push(PushEvent),
    IssueComment(IssueCommentEvent),
    Installation(InstallationEvent),
    InstallationRepositories(InstallationRepositoriesEvent),
    Ping(PingEvent),
}

/// `pull_request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequestEvent {
    pub action: PrAction,
    pub installation: Option<InstallationId>,
    pub repository: Repository,
    pub pull_request: PullRequest,
    pub sender: Actor,
}

/// The pull request of a `pull_request` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: PrNumber,
    pub head_sha: String,
    pub head_ref: String,
    pub base_sha: String,
    pub base_ref: String,
    /// Absent on old GitHub Enterprise Server versions, then `false`.
    pub draft: bool,
    pub state: PrState,
    /// `null` on some actions, then `false`.
    pub merged: bool,
}

impl PullRequest {
    /// Number, head and base, as check suites and runs list pull requests.
    pub fn pr_ref(&self) -> PrRef {
        PrRef {
            number: self.number,
            head_sha: self.head_sha.clone(),
            head_ref: self.head_ref.clone(),
            base_sha: self.base_sha.clone(),
            base_ref: self.base_ref.clone(),
        }
    }
}

/// `check_suite`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSuiteEvent {
    pub action: CheckSuiteAction,
    pub installation: Option<InstallationId>,
    pub repository: Repository,
    pub head_sha: String,
    /// `None` when GitHub sends `null` (e.g. the branch is gone).
    pub head_branch: Option<String>,
    /// `check_suite.app.id`: the App the suite belongs to.
    pub app_id: u64,
    pub pull_requests: Vec<PrRef>,
    pub sender: Option<Actor>,
}

/// `check_run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRunEvent {
    pub action: CheckRunAction,
    pub installation: Option<InstallationId>,
    pub repository: Repository,
    pub check_run_id: CheckRunId,
    pub name: String,
    pub head_sha: String,
    /// `check_run.check_suite.head_branch`; `None` when GitHub sends `null` (e.g. the branch is gone).
    pub head_branch: Option<String>,
    /// `check_run.app.id`: the App the run belongs to.
    pub app_id: u64,
    /// From `check_run.pull_requests`.
    pub pull_requests: Vec<PrRef>,
    /// Who asked: for `requested_action` and `rerequested`, the user who clicked (their permission matters).
    pub sender: Actor,
}

/// `push`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushEvent {
    pub installation: Option<InstallationId>,
    pub repository: Repository,
    /// The full ref: `refs/heads/main`, `refs/tags/v1`.
    pub git_ref: String,
    pub before: String,
    /// All zeros when the ref was deleted.
    pub after: String,
    pub created: bool,
    pub deleted: bool,
    pub forced: bool,
    /// `head_commit.id`; `None` when the ref was deleted (GitHub sends `head_commit: null`).
    pub head_commit: Option<String>,
    pub sender: Option<Actor>,
}

impl PushEvent {
    /// The branch name when the ref is a branch (`refs/heads/<branch>`).
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }
}

/// `issue_comment` (on issues and pull requests alike).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueCommentEvent {
    pub action: CommentAction,
    pub installation: Option<InstallationId>,
    pub repository: Repository,
    /// The issue or pull request number (they share one sequence).
    pub issue_number: PrNumber,
    /// `issue.pull_request` is present.
    pub is_pull_request: bool,
    pub comment_id: CommentId,
    /// `null` bodies (possible on edits and deletions) become "".
    pub body: String,
    pub html_url: String,
    /// `comment.user`.
    pub author: Actor,
}

/// `installation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallationEvent {
    pub action: InstallationAction,
    pub installation: InstallationId,
    /// `installation.account.login`; enterprise installations have no login, then the account's `slug`.
    pub account_login: Option<String>,
    /// The repositories the installation can access; absent on some actions (`suspend` and `unsuspend` in GitHub's
    /// examples).
    pub repositories: Option<Vec<InstalledRepo>>,
    pub sender: Option<Actor>,
}

/// `installation_repositories`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallationRepositoriesEvent {
    pub action: InstallationRepositoriesAction,
    pub installation: InstallationId,
    pub added: Vec<InstalledRepo>,
    pub removed: Vec<InstalledRepo>,
    pub sender: Option<Actor>,
}

/// `ping`: sent when a hook is created. Organization hooks have no repository; only App hooks have an app id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingEvent {
    pub zen: String,
    pub hook_id: u64,
    /// `hook.app_id`.
    pub app_id: Option<u64>,
    pub installation: Option<InstallationId>,
    pub repository: Option<Repository>,
}

macro_rules! action_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value this version does not know; kept verbatim.
            Other(String),
        }

        impl $name {
            /// The action as GitHub spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(action) => action,
                }
            }
        }

        impl From<String> for $name {
            fn from(action: String) -> Self {
                match action.as_str() {
                    $($text => Self::$variant,)*
                    _ => Self::Other(action),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

action_enum! {
    /// `pull_request` actions.
    PrAction {
        Opened => "opened",
        Synchronize => "synchronize",
        Reopened => "reopened",
        ReadyForReview => "ready_for_review",
        ConvertedToDraft => "converted_to_draft",
        Closed => "closed",
        Edited => "edited",
    }
}

action_enum! {
    /// `pull_request.state`.
    PrState {
        Open => "open",
        Closed => "closed",
    }
}

action_enum! {
    /// `check_suite` actions.
    CheckSuiteAction {
        Requested => "requested",
        Rerequested => "rerequested",
        Completed => "completed",
    }
}

action_enum! {
    /// `issue_comment` actions.
    CommentAction {
        Created => "created",
        Edited => "edited",
        Deleted => "deleted",
    }
}

action_enum! {
    /// `installation` actions.
    InstallationAction {
        Created => "created",
        Deleted => "deleted",
        Suspend => "suspend",
        Unsuspend => "unsuspend",
        NewPermissionsAccepted => "new_permissions_accepted",
    }
}

action_enum! {
    /// `installation_repositories` actions.
    InstallationRepositoriesAction {
        Added => "added",
        Removed => "removed",
    }
}

/// `check_run` actions. `requested_action` carries the identifier of the button the user clicked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CheckRunAction {
    Created,
    Completed,
    Rerequested,
    RequestedAction {
        identifier: String,
    },
    /// An action this version does not know; kept verbatim.
    Other(String),
}

impl CheckRunAction {
    /// The action as GitHub spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Created => "created",
            Self::Completed => "completed",
            Self::Rerequested => "rerequested",
            Self::RequestedAction { .. } => "requested_action",
            Self::Other(action) => action,
        }
    }
}

impl fmt::Display for CheckRunAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a delivery could not be turned into an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The body is not JSON, or a handled event lacks a field we need (or has it with the wrong type). The message
    /// is serde_json's (with line and column) plus the path of the object the problem is in.
    #[error("malformed `{event}` payload: {message}")]
    Malformed { event: String, message: String },
}

/// Parses one delivery. `event` is the `X-GitHub-Event` header.
///
/// `Ok(None)` for events we do not handle (acknowledged and recorded, not errors); their body must still be JSON.
/// `Err` only when the body is not JSON or a handled event lacks a field we need.
pub fn parse(event: &str, body: &[u8]) -> Result<Option<Event>, EventError> {
    let parsed = match event {
        "pull_request" => Event::PullRequest(from_body::<raw::PullRequestEvent>(event, body)?.into()),
        "check_suite" => Event::CheckSuite(from_body::<raw::CheckSuiteEvent>(event, body)?.into()),
        "check_run" => Event::CheckRun(raw::CheckRunEvent::convert(from_body(event, body)?, event)?),
        "push" => Event::Push(from_body::<raw::PushEvent>(event, body)?.into()),
        "issue_comment" => Event::IssueComment(from_body::<raw::IssueCommentEvent>(event, body)?.into()),
        "installation" => Event::Installation(from_body::<raw::InstallationEvent>(event, body)?.into()),
        "installation_repositories" => {
            Event::InstallationRepositories(from_body::<raw::InstallationRepositoriesEvent>(event, body)?.into())
        }
        "ping" => Event::Ping(from_body::<raw::PingEvent>(event, body)?.into()),
        _ => {
            from_body::<serde::de::IgnoredAny>(event, body)?;
            return Ok(None);
        }
    };
    Ok(Some(parsed))
}

impl Event {
    /// The `X-GitHub-Event` name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::PullRequest(_) => "pull_request",
            Event::CheckSuite(_) => "check_suite",
            Event::CheckRun(_) => "check_run",
            Event::Push(_) => "push",
            Event::IssueComment(_) => "issue_comment",
            Event::Installation(_) => "installation",
            Event::InstallationRepositories(_) => "installation_repositories",
            Event::Ping(_) => "ping",
        }
    }

    /// The action as GitHub spells it, for logs and metrics; `None` for `push` and `ping`, which have none.
    pub fn action(&self) -> Option<String> {
        let action = match self {
            Event::PullRequest(e) => e.action.as_str(),
            Event::CheckSuite(e) => e.action.as_str(),
            Event::CheckRun(e) => e.action.as_str(),
            Event::IssueComment(e) => e.action.as_str(),
            Event::Installation(e) => e.action.as_str(),
            Event::InstallationRepositories(e) => e.action.as_str(),
            Event::Push(_) | Event::Ping(_) => return None,
        };
        Some(action.to_string())
    }

    /// The installation the delivery is for; `None` when the payload has none (repository webhooks, pings).
    pub fn installation(&self) -> Option<InstallationId> {
        match self {
            Event::PullRequest(e) => e.installation,
            Event::CheckSuite(e) => e.installation,
            Event::CheckRun(e) => e.installation,
            Event::Push(e) => e.installation,
            Event::IssueComment(e) => e.installation,
            Event::Installation(e) => Some(e.installation),
            Event::InstallationRepositories(e) => Some(e.installation),
            Event::Ping(e) => e.installation,
        }
    }

    /// The repository the delivery is about; `None` for installation events and organization pings.
    pub fn repository(&self) -> Option<&Repository> {
        match self {
            Event::PullRequest(e) => Some(&e.repository),
            Event::CheckSuite(e) => Some(&e.repository),
            Event::CheckRun(e) => Some(&e.repository),
            Event::Push(e) => Some(&e.repository),
            Event::IssueComment(e) => Some(&e.repository),
            Event::Installation(_) | Event::InstallationRepositories(_) => None,
            Event::Ping(e) => e.repository.as_ref(),
        }
    }

    /// Work on the same key is serialised by the workers.
    ///
    /// * `owner/name#<number>` for pull-request work: `pull_request`, a check suite or run with exactly one pull
    ///   request, a comment on a pull request.
    /// * `owner/name@<ref>` for work on a ref, always the full ref so that branches, tags and shas cannot collide:
    ///   `push` (`refs/heads/main`, `refs/tags/v1`); check suites and runs with no pull request (or several) use
    ///   `refs/heads/<head_branch>`, or the head sha when the branch is `null`; a comment on an issue (not a pull
    ///   request) is about the repository's default branch (`/recheck` on the tracking issue re-evaluates it).
    /// * `installation:<id>` for `installation` and `installation_repositories`.
    /// * `None` for `ping`.
    pub fn serial_key(&self) -> Option<String> {
        fn pr_key(repo: &Repository, number: PrNumber) -> String {
            format!("{}#{number}", repo.full_name())
        }
        fn ref_key(repo: &Repository, git_ref: &str) -> String {
            format!("{}@{git_ref}", repo.full_name())
        }
        fn suite_key(repo: &Repository, prs: &[PrRef], branch: Option<&str>, sha: &str) -> String {
            match (prs, branch) {
                ([pr], _) => pr_key(repo, pr.number),
                (_, Some(branch)) => ref_key(repo, &format!("refs/heads/{branch}")),
                (_, None) => ref_key(repo, sha),
            }
        }
        Some(match self {
            Event::PullRequest(e) => pr_key(&e.repository, e.pull_request.number),
            Event::CheckSuite(e) => suite_key(&e.repository, &e.pull_requests, e.head_branch.as_deref(), &e.head_sha),
            Event::CheckRun(e) => suite_key(&e.repository, &e.pull_requests, e.head_branch.as_deref(), &e.head_sha),
            Event::Push(e) => ref_key(&e.repository, &e.git_ref),
            Event::IssueComment(e) if e.is_pull_request => pr_key(&e.repository, e.issue_number),
            Event::IssueComment(e) => ref_key(&e.repository, &format!("refs/heads/{}", e.repository.default_branch)),
            Event::Installation(e) => format!("installation:{}", e.installation),
            Event::InstallationRepositories(e) => format!("installation:{}", e.installation),
            Event::Ping(_) => return None,
        })
    }

    /// The head SHA the work is about, when there is one: a newer delivery for the same [`serial_key`] supersedes
    /// older ones. `None` for comments (the payload has no sha), deleted refs, installation events and pings.
    ///
    /// [`serial_key`]: Event::serial_key
    pub fn head_sha(&self) -> Option<&str> {
        match self {
            Event::PullRequest(e) => Some(&e.pull_request.head_sha),
            Event::CheckSuite(e) => Some(&e.head_sha),
            Event::CheckRun(e) => Some(&e.head_sha),
            Event::Push(e) if e.deleted || is_null_sha(&e.after) => None,
            Event::Push(e) => Some(&e.after),
            Event::IssueComment(_) | Event::Installation(_) | Event::InstallationRepositories(_) | Event::Ping(_) => {
                None
            }
        }
    }
}

/// GitHub's all-zeros sha, the `after` of a deleted ref and the `before` of a created one.
fn is_null_sha(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

fn malformed(event: &str, message: impl Into<String>) -> EventError {
    EventError::Malformed { event: event.to_string(), message: message.into() }
}

/// Deserialises `body`, turning serde_json's error into a [`EventError::Malformed`] that also names the object the
/// problem is in (serde_json gives only line and column).
fn from_body<'de, T: Deserialize<'de>>(event: &str, body: &'de [u8]) -> Result<T, EventError> {
    serde_json::from_slice(body).map_err(|err| {
        let message = match err.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => format!("not JSON: {err}"),
            serde_json::error::Category::Io => err.to_string(),
            serde_json::error::Category::Data => match json_path_at(body, err.line(), err.column()) {
                Some(path) if path.is_empty() => format!("{err} (at the top level)"),
                Some(path) => format!("{err} (in `{path}`)"),
                None => err.to_string(),
            },
        };
        malformed(event, message)
    })
}

/// The path (`pull_request.head`, `check_run.pull_requests[0]`) of what a data error at 1-based `line`/`column`
/// is about. serde_json reports such an error just after the byte it consumed last: the closing `}` of an object
/// that lacks a field (the path is then that object's), or the end of a value of the wrong type (the path is then the
/// value's). `None` when the position is out of range.
fn json_path_at(body: &[u8], line: usize, column: usize) -> Option<String> {
    let mut line_start = 0;
    for _ in 1..line {
        line_start += body.get(line_start..)?.iter().position(|&b| b == b'\n')? + 1;
    }
    // `column` counts bytes from the line start, 1-based, up to and including the last consumed byte.
    let last = (line_start + column).checked_sub(1)?;
    let closes_container = matches!(body.get(last)?, b'}' | b']');
    let text = if closes_container { body.get(..last)? } else { body.get(..=last)? };

    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    // The last string read in an object, which becomes its key when a `:` follows.
    let mut last_string: Option<String> = None;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                let raw = &text[start..i.min(text.len())];
                last_string = Some(
                    serde_json::from_slice::<String>(&[b"\"", raw, b"\""].concat())
                        .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned()),
                );
            }
            b':' => {
                if let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = last_string.take();
                }
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object(key)) => *key = None,
                Some(Frame::Array(index)) => *index += 1,
                None => {}
            },
            b'{' => stack.push(Frame::Object(None)),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }

    // Each open container contributes the member being read; when the error is about the container being closed,
    // the innermost one's last member is not part of it.
    let members = if closes_container { stack.len().saturating_sub(1) } else { stack.len() };
    let mut path = String::new();
    for frame in &stack[..members] {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(index) => path.push_str(&format!("[{index}]")),
        }
    }
    Some(path)
}

/// GitHub's payload shapes, only the fields we use.
mod raw;

#[cfg(test)]
mod tests;
