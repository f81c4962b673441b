//! Repository facts read from GitHub at a commit: one recursive tree listing, then only the blobs the policy reads,
//! each fetched once ever (blobs are content-addressed, so the cache never goes stale).

use crate::diag::shown_path;
use crate::facts::{Content, FileFacts, MAX_READ_BYTES, ReadPlan, RepoFacts, decode_text};
use crate::github::client::{GhError, Installation};
use crate::github::path::repo_api;
use base64::Engine;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;

/// Where blob contents are kept between evaluations.
pub trait BlobCache: Send + Sync {
    fn get(&self, sha: &str) -> Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send + '_>>;
    fn put(&self, sha: &str, content: Vec<u8>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// The tree listing (GitHub's JSON) kept for `repo` when it is of commit `sha`.
    fn get_tree(&self, _repo: &str, _sha: &str) -> Pin<Box<dyn Future<Output = Option<String>> + Send + '_>> {
        Box::pin(async { None })
    }

    /// Keeps the tree listing of `repo` at `sha` (one per repository: the default branch's head).
    fn put_tree(&self, _repo: &str, _sha: &str, _json: String) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Tree {
    tree: Vec<TreeEntry>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Debug, Deserialize)]
struct TreeEntry {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Blob {
    content: String,
    encoding: String,
}

/// Most blob requests in flight at once for one evaluation.
const CONCURRENT_BLOBS: usize = 6;

/// The facts of `repo` (`owner/name`) at `sha` (a commit). With `keep_tree` (the default branch's head), the tree
/// listing is kept, so scoring the same head again (a sweep) reads nothing from GitHub but new blobs.
pub async fn collect(
    github: &Installation,
    cache: &dyn BlobCache,
    repo: &str,
    sha: &str,
    plan: &ReadPlan,
    keep_tree: bool,
) -> Result<RepoFacts, GhError> {
    let kept = match keep_tree {
        true => cache.get_tree(repo, sha).await.and_then(|json| serde_json::from_str::<Tree>(&json).ok()),
        false => None,
    };
    let tree: Tree = match kept {
        Some(tree) => tree,
        None => {
            let path = format!("{}/git/trees/{sha}?recursive=1", repo_api(repo));
            let reply = github.get_reply(&path, "GET /repos/{owner}/{repo}/git/trees/{tree_sha}").await?;
            let tree: Tree = reply.json("GET /repos/{owner}/{repo}/git/trees/{tree_sha}")?;
            if keep_tree && let Ok(json) = std::str::from_utf8(&reply.body) {
                cache.put_tree(repo, sha, json.to_string()).await;
            }
            tree
        }
    };
    let mut facts =
        RepoFacts { commit: Some(sha.to_string()), origin_slug: Some(repo.to_string()), ..RepoFacts::default() };
    if tree.truncated {
        facts.notes.push("GitHub truncated the file listing (over 100,000 entries): some files were not seen".into());
    }
    let mut wanted = Vec::new();
    for entry in tree.tree {
        match entry.kind.as_str() {
            "blob" => {
                let size = entry.size.unwrap_or(0);
                let mut content = Content::NotRead;
                if plan.wants(&entry.path) {
                    if entry.mode == "120000" {
                        content = Content::OutsideLink;
                        facts.notes.push(format!("did not follow symlink {}", shown_path(&entry.path)));
                    } else if size > MAX_READ_BYTES {
                        content = Content::TooLarge;
                        facts.notes.push(format!(
                            "skipped large file {} ({} KiB)",
                            shown_path(&entry.path),
                            size / 1024
                        ));
                    } else {
                        wanted.push((entry.path.clone(), entry.sha.clone()));
                    }
                }
                facts.files.insert(entry.path, FileFacts { size, content });
            }
            "commit" => facts.notes.push(format!("skipped submodule {}", shown_path(&entry.path))),
            _ => {}
        }
    }

    let mut pending = Vec::new();
    for (path, blob_sha) in wanted {
        match cache.get(&blob_sha).await {
            Some(bytes) => set_content(&mut facts, &path, bytes),
            None => pending.push((path, blob_sha)),
        }
    }
    for chunk in pending.chunks(CONCURRENT_BLOBS) {
        let mut set = tokio::task::JoinSet::new();
        for (path, blob_sha) in chunk.iter().cloned() {
            let github = github.clone();
            let url = format!("{}/git/blobs/{blob_sha}", repo_api(repo));
            set.spawn(async move {
                let blob = github.get::<Blob>(&url, "GET /repos/{owner}/{repo}/git/blobs/{file_sha}").await;
                (path, blob_sha, blob)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (path, blob_sha, blob) = joined.map_err(|e| GhError::Transient {
                what: "blob download".into(),
                message: e.to_string(),
                retry_after: None,
            })?;
            let bytes = decode_blob(blob?)?;
            cache.put(&blob_sha, bytes.clone()).await;
            set_content(&mut facts, &path, bytes);
        }
    }
    Ok(facts)
}

fn set_content(facts: &mut RepoFacts, path: &str, bytes: Vec<u8>) {
    let content = decode_text(bytes);
    if content == Content::Binary {
        facts.notes.push(format!("skipped binary file {}", shown_path(path)));
    }
    if let Some(file) = facts.files.get_mut(path) {
        file.content = content;
    }
}

fn decode_blob(blob: Blob) -> Result<Vec<u8>, GhError> {
    match blob.encoding.as_str() {
        "base64" => {
            let compact: String = blob.content.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(compact).map_err(|e| GhError::Permanent {
                what: "blob".into(),
                status: 200,
                message: format!("invalid base64 content: {e}"),
            })
        }
        "utf-8" => Ok(blob.content.into_bytes()),
        other => {
            Err(GhError::Permanent { what: "blob".into(), status: 200, message: format!("unknown encoding {other}") })
        }
    }
}
