//! What both collectors learn from git itself: whether there is a repository, the `origin` remote's `owner/name`
//! and the HEAD commit.

use super::FactsError;
use git2::{ErrorCode, Repository};
use std::path::Path;

/// The repository `root` is in (or is). A directory in no repository is [`FactsError::NoRepository`]; one git cannot
/// open (not owned by the current user, corrupt) is [`FactsError::NotARepository`] with git's reason.
pub fn discover(root: &Path) -> Result<Repository, FactsError> {
    let path = root.display().to_string();
    Repository::discover(root).map_err(|cause| match cause.code() {
        ErrorCode::NotFound => FactsError::NoRepository { path },
        _ => FactsError::NotARepository { path, cause },
    })
}

/// Checks that `root` is a directory in a git repository, for commands that score repositories (SPEC 2): a plain
/// directory has no history, no `origin` and no tracked files to tell what belongs to it.
pub fn require_repository(root: &Path) -> Result<(), FactsError> {
    let path = || root.display().to_string();
    match std::fs::metadata(root) {
        Err(_) => Err(FactsError::NotFound { path: path() }),
        Ok(meta) if !meta.is_dir() => Err(FactsError::NotADirectory { path: path() }),
        Ok(_) => discover(root).map(drop),
    }
}

/// The top level of the repository holding `path` (its working tree; the repository itself when it is bare), for
/// commands that score whole repositories whatever directory of one they are given (SPEC 2), as git does.
pub fn repository_root(path: &Path) -> Result<std::path::PathBuf, FactsError> {
    require_repository(path)?;
    let repo = discover(path)?;
    Ok(repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf())
}

/// `owner/name` of the `origin` remote, when it has a URL that looks like a GitHub (or GitHub Enterprise) one.
pub(super) fn origin_slug(repo: &Repository) -> Option<String> {
    let remote = repo.find_remote("origin").ok()?;
    parse_slug(remote.url().ok()?)
}

/// The commit HEAD points at; `None` on an unborn branch.
pub(super) fn head_commit(repo: &Repository) -> Option<String> {
    Some(repo.head().ok()?.peel_to_commit().ok()?.id().to_string())
}

/// `owner/name` from a remote URL: the last two path segments, without a trailing `.git`.
///
/// Accepts `https://host/o/r(.git)`, `ssh://[user@]host[:port]/o/r`, `git://…`, and scp-like `user@host:o/r.git`,
/// on any host (GitHub Enterprise lives on company hosts, sometimes under a path prefix). Local paths and `file://`
/// URLs are not GitHub and give `None`.
pub(super) fn parse_slug(url: &str) -> Option<String> {
    let url = url.trim();
    let path = if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") || scheme.is_empty() {
            return None;
        }
        // Drop `[user@]host[:port]`; what follows the first `/` is the path.
        let (host, path) = rest.split_once('/')?;
        if host.is_empty() {
            return None;
        }
        path
    } else {
        // scp-like syntax, as git defines it: a `:` before any `/`. A single letter before the colon is a Windows
        // drive, and anything else without a colon is a local path.
        let colon = url.find(':')?;
        let host = &url[..colon];
        if host.contains('/') || host.rsplit('@').next().is_none_or(|h| h.len() <= 1) {
            return None;
        }
        &url[colon + 1..]
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let name = segments.next_back()?;
    let owner = segments.next_back()?;
    let name = name.strip_suffix(".git").unwrap_or(name);
    let valid = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    (valid(owner) && valid(name)).then(|| format!("{owner}/{name}"))
}
