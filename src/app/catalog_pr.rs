//! Pull requests the App opens against the catalog repository (exceptions, tier changes, removal of expired
//! exceptions). The approvers' review and merge of such a pull request is the approval.
//!
//! Each pull request body carries a hidden [`CatalogRequest`] marker: it finds an open request again (one pull request
//! per service and rule, even across redeliveries and a lost database) and, once merged, tells the App which thread
//! to answer. Files are written through the git data API (tree, commit, ref) on a branch named after the request, so
//! a retried attempt rewrites the same branch instead of adding another.

use super::{App, AppError, CatalogSnapshot};
use crate::github::client::{GhError, Installation, segment};
use crate::github::events::PrRef;
use crate::github::path::repo_api;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The marker kind in catalog pull request bodies.
const MARKER: &str = "request";

/// What a catalog pull request of the App asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Exception,
    Tier,
    /// Removal of expired exception files.
    Cleanup,
}

/// The hidden marker of a catalog pull request: what it asks for and where it was asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRequest {
    pub kind: RequestKind,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub expires: Option<NaiveDate>,
    #[serde(default)]
    pub tier: Option<u32>,
    /// The service repository the command was written in (`owner/name`).
    #[serde(default)]
    pub repository: Option<String>,
    /// The issue or pull request number of that thread.
    #[serde(default)]
    pub thread: Option<u64>,
    /// The comment that asked.
    #[serde(default)]
    pub comment: Option<u64>,
    #[serde(default)]
    pub requested_by: Option<String>,
}

impl CatalogRequest {
    /// A request of `kind` with nothing else known yet.
    pub fn of(kind: RequestKind) -> Self {
        Self {
            kind,
            service: None,
            rule: None,
            expires: None,
            tier: None,
            repository: None,
            thread: None,
            comment: None,
            requested_by: None,
        }
    }

    pub fn marker(&self) -> String {
        crate::marker::write(MARKER, self)
    }

    pub fn from_body(body: &str) -> Option<CatalogRequest> {
        crate::marker::read(body, MARKER)
    }

    /// Asks for the same change as `other` (same kind and service, and rule for exceptions).
    pub fn same_subject(&self, other: &CatalogRequest) -> bool {
        self.kind == other.kind && self.service == other.service && self.rule == other.rule
    }
}

/// A pull request, as replies link it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullLink {
    pub number: u64,
    pub html_url: String,
}

/// One change to propose: files to write (`Some`) or delete (`None`), on `branch`, with a pull request.
pub struct CatalogChange {
    pub branch: String,
    pub message: String,
    pub files: Vec<(String, Option<String>)>,
    pub title: String,
    /// The body, without the marker (added here).
    pub body: String,
    pub request: CatalogRequest,
}

/// A pull request as GitHub's pull request endpoints return it (the fields the App uses).
#[derive(Deserialize)]
pub(crate) struct PullJson {
    pub number: u64,
    pub state: String,
    pub head: PullEnd,
    pub base: PullEnd,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub merged: bool,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    pub html_url: String,
    #[serde(default)]
    pub user: Option<UserJson>,
}

#[derive(Deserialize)]
pub(crate) struct PullEnd {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
}

#[derive(Deserialize)]
pub(crate) struct UserJson {
    #[serde(rename = "type", default)]
    kind: String,
}

impl PullJson {
    pub(crate) fn pr_ref(&self) -> PrRef {
        PrRef {
            number: crate::github::events::PrNumber(self.number),
            head_sha: self.head.sha.clone(),
            head_ref: self.head.git_ref.clone(),
            base_sha: self.base.sha.clone(),
            base_ref: self.base.git_ref.clone(),
        }
    }

    fn link(&self) -> PullLink {
        PullLink { number: self.number, html_url: self.html_url.clone() }
    }
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct CommitJson {
    tree: Sha,
}

/// A branch name git and GitHub accept, from request parts (letters, digits, `.`, `_`, `-`; no `..`).
pub fn branch_name(parts: &[&str]) -> String {
    let clean = |part: &str| {
        let mut out: String =
            part.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect();
        while out.contains("..") {
            out = out.replace("..", ".");
        }
        let out = out.trim_matches('.').trim_end_matches(".lock").to_string();
        if out.is_empty() { "-".to_string() } else { out }
    };
    let mut name = String::from("shipshape");
    for part in parts {
        name.push('/');
        name.push_str(&clean(part));
    }
    name
}

impl App {
    /// The client of the installation that covers the catalog repository.
    pub(crate) async fn catalog_installation(&self) -> Result<Installation, AppError> {
        Ok(self.github.repository_installation(&self.config.catalog_repo).await?)
    }

    /// Open catalog pull requests opened by the App, with their markers.
    pub(crate) async fn open_catalog_requests(
        &self,
        catalog: &Installation,
    ) -> Result<Vec<(PullLink, CatalogRequest)>, AppError> {
        let repo = &self.config.catalog_repo;
        let pulls: Vec<PullJson> = catalog
            .get_all(&format!("{}/pulls?state=open&per_page=100", repo_api(repo)), "GET /repos/{owner}/{repo}/pulls")
            .await?;
        Ok(pulls
            .into_iter()
            .filter(|p| p.user.as_ref().is_some_and(|u| u.kind == "Bot"))
            .filter_map(|p| {
                let request = CatalogRequest::from_body(p.body.as_deref()?)?;
                Some((p.link(), request))
            })
            .collect())
    }

    /// Writes `change` on its branch (from the catalog head of `snapshot`) and opens its pull request; an open pull
    /// request from that branch is returned as it is.
    pub(crate) async fn open_catalog_pr(
        &self,
        catalog: &Installation,
        snapshot: &CatalogSnapshot,
        change: CatalogChange,
    ) -> Result<PullLink, AppError> {
        let repo = &self.config.catalog_repo;
        let base: CommitJson = catalog
            .get(
                &format!("{}/git/commits/{}", repo_api(repo), snapshot.sha),
                "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
            )
            .await?;
        let entries: Vec<serde_json::Value> = change
            .files
            .iter()
            .map(|(path, content)| match content {
                Some(text) => json!({"path": path, "mode": "100644", "type": "blob", "content": text}),
                None => json!({"path": path, "mode": "100644", "type": "blob", "sha": null}),
            })
            .collect();
        let tree: Sha = catalog
            .post(
                &format!("{}/git/trees", repo_api(repo)),
                &json!({"base_tree": base.tree.sha, "tree": entries}),
                "POST /repos/{owner}/{repo}/git/trees",
            )
            .await?;
        let commit: Sha = catalog
            .post(
                &format!("{}/git/commits", repo_api(repo)),
                &json!({"message": change.message, "tree": tree.sha, "parents": [snapshot.sha]}),
                "POST /repos/{owner}/{repo}/git/commits",
            )
            .await?;
        let created: Result<serde_json::Value, GhError> = catalog
            .post(
                &format!("{}/git/refs", repo_api(repo)),
                &json!({"ref": format!("refs/heads/{}", change.branch), "sha": commit.sha}),
                "POST /repos/{owner}/{repo}/git/refs",
            )
            .await;
        match created {
            Ok(_) => {}
            // The branch is left from an earlier attempt at this same request: point it at this commit.
            Err(GhError::Permanent { status: 422, .. }) => {
                let _: serde_json::Value = catalog
                    .patch(
                        &format!("{}/git/refs/heads/{}", repo_api(repo), crate::github::path::segments(&change.branch)),
                        &json!({"sha": commit.sha, "force": true}),
                        "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
                    )
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        let body = format!("{}\n\n{}\n", change.body.trim_end(), change.request.marker());
        let opened: Result<PullJson, GhError> = catalog
            .post(
                &format!("{}/pulls", repo_api(repo)),
                &json!({
                    "title": change.title,
                    "head": change.branch,
                    "base": snapshot.branch,
                    "body": body,
                    "maintainer_can_modify": true,
                }),
                "POST /repos/{owner}/{repo}/pulls",
            )
            .await;
        match opened {
            Ok(pull) => Ok(pull.link()),
            Err(GhError::Permanent { status: 422, message, .. }) => {
                // "A pull request already exists": an earlier attempt opened it.
                let owner = repo.split('/').next().unwrap_or_default();
                let head = segment(&format!("{owner}:{}", change.branch));
                let found: Vec<PullJson> = catalog
                    .get(
                        &format!("{}/pulls?state=open&head={head}&per_page=1", repo_api(repo)),
                        "GET /repos/{owner}/{repo}/pulls",
                    )
                    .await?;
                match found.into_iter().next() {
                    Some(pull) => Ok(pull.link()),
                    None => Err(AppError::Permanent(format!("GitHub refused the catalog pull request: {message}"))),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_valid_refs_whatever_the_names() {
        assert_eq!(branch_name(&["exception", "payments", "oncall", "42"]), "shipshape/exception/payments/oncall/42");
        assert_eq!(branch_name(&["tier", "a b/c..d~^:?*[", "1"]), "shipshape/tier/a-b-c.d------/1");
        assert_eq!(branch_name(&["x", "..", "y.lock"]), "shipshape/x/-/y");
    }

    #[test]
    fn the_marker_reads_back() {
        let request = CatalogRequest {
            kind: RequestKind::Exception,
            service: Some("payments".into()),
            rule: Some("on-call".into()),
            expires: NaiveDate::from_ymd_opt(2026, 12, 1),
            tier: None,
            repository: Some("acme/payments".into()),
            thread: Some(7),
            comment: Some(99),
            requested_by: Some("octo-cat".into()),
        };
        let body = format!("text\n\n{}\n", request.marker());
        assert_eq!(CatalogRequest::from_body(&body), Some(request.clone()));
        let mut other = request.clone();
        other.comment = Some(100);
        assert!(request.same_subject(&other));
        other.rule = Some("slo".into());
        assert!(!request.same_subject(&other));
    }
}
