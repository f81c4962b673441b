//! Facts about a repository: what the engine scores. Collecting them is I/O (a working tree, a git commit, GitHub,
//! PagerDuty); the engine only reads these plain values.

mod gitrev;
mod linked;
mod remote;
#[cfg(test)]
mod tests;
mod worktree;

pub use gitrev::collect_rev;
pub use linked::{
    AlertCounts, BranchProtection, CiResult, CiStatus, CodeownersError, CodeownersErrors, Fact, GITHUB_NOT_CONFIGURED,
    HttpAnswer, LinkedFacts, OnCall, PAGERDUTY_NOT_CONFIGURED, PROMETHEUS_NOT_CONFIGURED, PromRule, Release,
};
pub use remote::{repository_root, require_repository};
pub use worktree::collect_worktree;

use globset::GlobSet;
use std::collections::BTreeMap;

/// Files larger than this are listed but never read.
pub const MAX_READ_BYTES: u64 = 1024 * 1024;

/// Everything the engine knows about one revision of a repository's files.
#[derive(Clone, Debug, Default)]
pub struct RepoFacts {
    /// Every file (not directory) of the tree, by path relative to the root with `/` separators.
    pub files: BTreeMap<String, FileFacts>,
    /// `owner/name` parsed from the `origin` remote when it points at GitHub.
    pub origin_slug: Option<String>,
    /// The commit scored (`--rev`), or HEAD for a working tree when there is one.
    pub commit: Option<String>,
    /// Things the collector wants the user to know (files skipped as too large or binary, unreadable entries).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFacts {
    pub size: u64,
    /// The text, when a content rule needs this file and it could be read.
    pub content: Content,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Content {
    /// No rule needed the content, so it was not read.
    #[default]
    NotRead,
    Text(String),
    /// Over [`MAX_READ_BYTES`].
    TooLarge,
    /// Contains NUL bytes or is not UTF-8.
    Binary,
    /// A symlink whose target is outside the repository (or dangling): never followed.
    OutsideLink,
}

impl RepoFacts {
    pub fn text(&self, path: &str) -> Option<&str> {
        match &self.files.get(path)?.content {
            Content::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Which files' contents the policy needs; everything else is only listed.
#[derive(Clone, Debug)]
pub struct ReadPlan {
    pub globs: GlobSet,
}

impl ReadPlan {
    pub fn new(globs: GlobSet) -> Self {
        Self { globs }
    }

    pub fn nothing() -> Self {
        Self { globs: GlobSet::empty() }
    }

    pub fn wants(&self, path: &str) -> bool {
        self.globs.is_match(path)
    }
}

/// Errors reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("{path}: no such directory")]
    NotFound { path: String },
    #[error("{path}: not a directory")]
    NotADirectory { path: String },
    #[error("not a git repository: {path}")]
    NoRepository { path: String },
    #[error("{path}: not a git repository: {}", .cause.message())]
    NotARepository { path: String, cause: git2::Error },
    #[error("{path}: cannot resolve revision `{rev}`: {}", .cause.message())]
    BadRevision { path: String, rev: String, cause: git2::Error },
    #[error("{path}: {}", .cause.message())]
    Git { path: String, cause: git2::Error },
    #[error("{path}: {cause}")]
    Walk { path: String, cause: ignore::Error },
}

/// Bytes that look like text: no NUL in the first 8 KiB and valid UTF-8.
pub fn decode_text(bytes: Vec<u8>) -> Content {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Content::Binary;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Content::Text(text),
        Err(_) => Content::Binary,
    }
}
