//! Facts from a commit, read from the object database without a checkout.

use super::remote::origin_slug;
use super::worktree::{Found, Link, content_of};
use super::{Content, FactsError, FileFacts, MAX_READ_BYTES, ReadPlan, RepoFacts};
use crate::diag::shown_path;
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::path::Path;

const LINK_MODE: i32 = 0o120000;

pub fn collect_rev(root: &Path, rev: &str, plan: &ReadPlan) -> Result<RepoFacts, FactsError> {
    let display = root.display().to_string();
    let git = |cause| FactsError::Git { path: display.clone(), cause };
    let repo = super::remote::discover(root)?;
    let commit = repo
        .revparse_single(rev)
        .and_then(|object| object.peel_to_commit())
        .map_err(|cause| FactsError::BadRevision { path: display.clone(), rev: rev.to_string(), cause })?;
    let mut tree = commit.tree().map_err(git)?;
    // A root below the top of the working tree is scored as that directory of the commit, like the working tree is.
    if let Some(prefix) = subdirectory(&repo, root) {
        tree =
            tree.get_path(Path::new(&prefix)).and_then(|entry| entry.to_object(&repo)?.peel_to_tree()).map_err(git)?;
    }

    let mut found = Found::default();
    let mut blobs = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(name) = entry.name() else {
            let note = format!(
                "skipped an entry of {}: name is not UTF-8",
                if dir.is_empty() { "/".into() } else { shown_path(dir) }
            );
            found.notes.push((dir.to_string(), note));
            return TreeWalkResult::Skip;
        };
        let path = format!("{dir}{name}");
        match entry.kind() {
            Some(ObjectType::Blob) => blobs.push((path, entry.id(), entry.filemode() == LINK_MODE)),
            Some(ObjectType::Commit) => {
                let note = format!("skipped submodule {} (commit {:.12})", shown_path(&path), entry.id());
                found.notes.push((path, note));
            }
            _ => {}
        }
        TreeWalkResult::Ok
    })
    .map_err(git)?;

    let odb = repo.odb().map_err(git)?;
    for (path, id, is_link) in blobs {
        let (size, _) = odb.read_header(id).map_err(git)?;
        let size = size as u64;
        if is_link {
            let blob = repo.find_blob(id).map_err(git)?;
            let target = std::str::from_utf8(blob.content()).ok().map(str::to_string);
            found.links.push((path, Link { target, size }));
            continue;
        }
        let content = if !plan.wants(&path) {
            Content::NotRead
        } else {
            read_blob(&repo, id, size).unwrap_or_else(|err| {
                found.notes.push((path.clone(), format!("cannot read {}: {err}", shown_path(&path))));
                Content::NotRead
            })
        };
        found.files.push((path, FileFacts { size, content }));
    }

    let (files, notes) = found.into_listing().finish(plan, |path, size| {
        let entry = tree.get_path(Path::new(path)).map_err(|e| e.message().to_string())?;
        read_blob(&repo, entry.id(), size)
    });
    Ok(RepoFacts { files, origin_slug: origin_slug(&repo), commit: Some(commit.id().to_string()), notes })
}

fn read_blob(repo: &Repository, id: Oid, size: u64) -> Result<Content, String> {
    if size > MAX_READ_BYTES {
        return Ok(Content::TooLarge);
    }
    let blob = repo.find_blob(id).map_err(|e| e.message().to_string())?;
    Ok(content_of(blob.content().to_vec()))
}

/// `a/b` when `root` is `<workdir>/a/b`; `None` at the top of the working tree, for bare repositories, and when the
/// paths cannot be compared.
fn subdirectory(repo: &Repository, root: &Path) -> Option<String> {
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let relative = root.strip_prefix(&workdir).ok()?;
    let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    (!joined.is_empty()).then_some(joined)
}
