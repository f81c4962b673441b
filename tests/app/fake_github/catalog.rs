//! What catalog pull requests and comment commands need: collaborators' permissions, reactions to issue comments,
//! git data writes (blobs, trees, commits and references, with real object ids) and opening pull requests. The test
//! side merges and closes pull requests ([`FakeGitHub::merge_pull`], [`FakeGitHub::close_pull`]).
//!
//! Git data writes into a repository without branches answer 409 "Git Repository is empty.", as GitHub does.

use std::collections::{HashSet, VecDeque};

use base64::prelude::{BASE64_STANDARD, Engine};
use serde_json::{Value, json};

use super::git::{EntryKind, Flat, FlatFile, Signature};
use super::handlers::{
    Handled, comment_json, id_param, node_id, paginate, person_json, pull_json, rebase, repo_access, resolve_commit,
    tree_diff, with_link,
};
use super::issues::{caller_login, check_lengths, login_json};
use super::*;

/// GitHub's repository roles from least to most access, with the legacy `permission` each maps to.
const ROLES: [(&str, &str); 5] =
    [("read", "read"), ("triage", "read"), ("write", "write"), ("maintain", "write"), ("admin", "admin")];

pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") => get_permission(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => get_comment(w, ctx),
        ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions") => create_reaction(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions") => list_reactions(w, ctx),
        ("POST", "/repos/{owner}/{repo}/git/blobs") => create_blob(w, ctx),
        ("POST", "/repos/{owner}/{repo}/git/trees") => {
            // Submodule entries are not modelled: a request with one is reported as not implemented.
            let tree = ctx.body.and_then(|b| b["tree"].as_array());
            if tree.into_iter().flatten().any(|e| e["type"] == "commit" || e["mode"] == "160000") {
                return None;
            }
            create_tree(w, ctx)
        }
        ("POST", "/repos/{owner}/{repo}/git/commits") => create_commit(w, ctx),
        ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}") => get_git_commit(w, ctx),
        ("POST", "/repos/{owner}/{repo}/git/refs") => create_ref(w, ctx),
        ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}") => update_ref(w, ctx),
        ("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}") => delete_ref(w, ctx),
        ("POST", "/repos/{owner}/{repo}/pulls") => {
            // Converting an issue and cross-repository heads are not modelled: reported as not implemented.
            if ctx.body.is_some_and(|b| b.get("issue").is_some() || b.get("head_repo").is_some()) {
                return None;
            }
            create_pull(w, ctx)
        }
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

// ---------------------------------------------------------------------------------------------------------------
// Errors and lookups

/// GitHub's 422 "Validation Failed" with these `errors`.
fn validation_errors(errors: Vec<Value>) -> Reply {
    Reply::json(
        422,
        json!({"message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422"}),
    )
}

/// A `custom` validation error of a pull request, as GitHub words them ("No commits between main and x").
fn pull_error(message: &str) -> Reply {
    validation_errors(vec![json!({"resource": "PullRequest", "code": "custom", "message": message})])
}

/// The repository of the request for a git data write: 409 "Git Repository is empty." when it has no branch.
fn git_writable(w: &World, ctx: &Ctx<'_>) -> Result<(String, String), Reply> {
    let key = repo_access(w, ctx)?;
    if w.repos[&key].branches.is_empty() {
        return Err(Reply::error(409, "Git Repository is empty."));
    }
    Ok(key)
}

fn api_base(base: &str, repo: &Repo) -> String {
    format!("{base}/repos/{}/{}", repo.owner, repo.name)
}

/// Every commit reachable from `sha`, itself included.
fn ancestors(repo: &Repo, sha: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([sha.to_string()]);
    while let Some(next) = queue.pop_front() {
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(commit) = repo.commits.get(&next) {
            queue.extend(commit.parents.iter().cloned());
        }
    }
    seen
}

/// The nearest common ancestor of `a` and `b` (by breadth-first search from `b`), if they have one.
fn merge_base(repo: &Repo, a: &str, b: &str) -> Option<String> {
    let of_a = ancestors(repo, a);
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([b.to_string()]);
    while let Some(next) = queue.pop_front() {
        if of_a.contains(&next) {
            return Some(next);
        }
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(commit) = repo.commits.get(&next) {
            queue.extend(commit.parents.iter().cloned());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------------------------
// Collaborators

/// A collaborator's permission. A login with no role (the fake does not tell people without access from logins that
/// do not exist) answers `none`, as GitHub does for a person without access to a private repository.
fn get_permission(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let asked = ctx.param("username");
    let (login, role) = match repo.permissions.get(&asked.to_lowercase()) {
        Some((login, role)) => (login.clone(), role.clone()),
        None => (asked.to_string(), "none".to_string()),
    };
    let rank = |r: &str| ROLES.iter().position(|(name, _)| *name == r);
    let have = rank(&role);
    let at_least = |r: &str| have.is_some_and(|have| rank(r).is_some_and(|need| have >= need));
    let permission = have.map(|i| ROLES[i].1).unwrap_or("none");
    let mut user = login_json(ctx.base, &login);
    user["permissions"] = json!({
        "admin": at_least("admin"), "maintain": at_least("maintain"), "push": at_least("write"),
        "triage": at_least("triage"), "pull": at_least("read")
    });
    user["role_name"] = json!(role);
    let example = Spec::global().example("repository-collaborator-permission-response-if-user-has-admin-permissions");
    let mut v = rebase(example, ctx.base, &format!("{}/{}", repo.owner, repo.name));
    v["permission"] = json!(permission);
    v["role_name"] = json!(role);
    v["user"] = user;
    Ok(Reply::json(200, v))
}

// ---------------------------------------------------------------------------------------------------------------
// Comments and their reactions

fn find_comment(w: &World, ctx: &Ctx<'_>, key: &(String, String)) -> Result<u64, Reply> {
    let id = id_param(ctx, "comment_id")?;
    match w.comments.get(&id) {
        Some(c) if &c.repo == key => Ok(id),
        _ => Err(Reply::error(404, "Not Found")),
    }
}

fn get_comment(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let id = find_comment(w, ctx, &key)?;
    Ok(Reply::json(200, comment_json(w, ctx.base, &w.comments[&id])))
}

fn reaction_json(base: &str, r: &Reaction) -> Value {
    let mut v = rebase(Spec::global().example("reaction"), base, "octocat/Hello-World");
    v["id"] = json!(r.id);
    v["node_id"] = json!(node_id("Reaction", r.id));
    v["user"] = login_json(base, &r.user);
    v["content"] = json!(r.content);
    v["created_at"] = json!(r.created_at);
    v
}

/// 201 with a new reaction of the App's bot; 200 with the existing one when the bot already reacted so.
fn create_reaction(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let comment_id = find_comment(w, ctx, &key)?;
    let content = ctx.body.and_then(|b| b["content"].as_str()).unwrap_or_default().to_string();
    let user = caller_login();
    let existing = w.reactions.values().find(|r| r.comment_id == comment_id && r.user == user && r.content == content);
    if let Some(existing) = existing {
        return Ok(Reply::json(200, reaction_json(ctx.base, existing)));
    }
    let id = w.id();
    let reaction = Reaction { id, comment_id, content, user, created_at: timestamp(now()) };
    let v = reaction_json(ctx.base, &reaction);
    w.reactions.insert(id, reaction);
    Ok(Reply::json(201, v))
}

fn list_reactions(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let comment_id = find_comment(w, ctx, &key)?;
    let items: Vec<Value> = w
        .reactions
        .values()
        .filter(|r| r.comment_id == comment_id)
        .filter(|r| ctx.query("content").is_none_or(|c| c == r.content))
        .map(|r| reaction_json(ctx.base, r))
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

// ---------------------------------------------------------------------------------------------------------------
// Blobs and trees

fn create_blob(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = git_writable(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let content = body["content"].as_str().unwrap_or_default();
    let bytes = match body["encoding"].as_str().unwrap_or("utf-8") {
        "utf-8" => content.as_bytes().to_vec(),
        "base64" => {
            let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            BASE64_STANDARD.decode(compact).map_err(|_| {
                validation_errors(vec![json!({"resource": "Blob", "field": "content", "code": "invalid",
                                               "message": "content is not valid Base64"})])
            })?
        }
        other => {
            let message = format!("encoding {other:?} is not supported (utf-8 or base64)");
            return Err(validation_errors(vec![
                json!({"resource": "Blob", "field": "encoding", "code": "invalid", "message": message}),
            ]));
        }
    };
    let repo = w.repos.get_mut(&key).expect("repository");
    let sha = repo.objects.add_blob(&bytes);
    let url = format!("{}/git/blobs/{sha}", api_base(ctx.base, repo));
    Ok(Reply::json(201, json!({"sha": sha, "url": url})).header("location", url))
}

/// Removes the file at `path` and everything under `path/`; whether anything was there.
fn remove_path(flat: &mut Flat, path: &str) -> bool {
    let prefix = format!("{path}/");
    let before = flat.len();
    flat.retain(|p, _| p != path && !p.starts_with(&prefix));
    flat.len() != before
}

/// Makes room for an entry at `path`: whatever is there, and files where its parent directories go.
fn clear_for(flat: &mut Flat, path: &str) {
    remove_path(flat, path);
    let mut at = 0;
    while let Some(i) = path[at..].find('/') {
        flat.remove(&path[..at + i]);
        at += i + 1;
    }
}

/// Applies one item of a create-tree request's `tree` to the files.
fn apply_tree_item(objects: &mut git::Objects, flat: &mut Flat, item: &Value) -> Result<(), Reply> {
    let path = item["path"].as_str().unwrap_or_default();
    if !git::valid_path(path) {
        return Err(Reply::error(422, &format!("tree.path {path:?} contains a malformed path component")));
    }
    let mode = item["mode"].as_str().ok_or_else(|| Reply::error(422, "Must supply a valid tree.mode"))?;
    let kind = item["type"].as_str().ok_or_else(|| Reply::error(422, "Must supply a valid tree.type"))?;
    if !matches!((kind, mode), ("blob", "100644" | "100755" | "120000") | ("tree", "040000")) {
        return Err(Reply::error(422, &format!("tree.mode {mode} does not fit tree.type {kind}")));
    }
    let sha_given = item.get("sha").is_some_and(|s| !s.is_null());
    let sha = item["sha"].as_str().map(str::to_lowercase);
    let content = item["content"].as_str();
    if sha_given && content.is_some() {
        return Err(Reply::error(422, "Must supply either tree.sha or tree.content, not both"));
    }
    if let Some(text) = content {
        if kind != "blob" {
            return Err(Reply::error(422, "tree.content can only be given for a blob"));
        }
        let sha = objects.add_blob(text.as_bytes());
        clear_for(flat, path);
        flat.insert(path.to_string(), FlatFile { mode: mode.to_string(), sha });
        return Ok(());
    }
    match (sha, item.get("sha")) {
        (Some(sha), _) if kind == "blob" => {
            if !objects.blobs.contains_key(&sha) {
                return Err(Reply::error(422, &format!("tree.sha {sha} is not a valid blob")));
            }
            clear_for(flat, path);
            flat.insert(path.to_string(), FlatFile { mode: mode.to_string(), sha });
            Ok(())
        }
        (Some(sha), _) => {
            if !objects.trees.contains_key(&sha) {
                return Err(Reply::error(422, &format!("tree.sha {sha} is not a valid tree")));
            }
            clear_for(flat, path);
            for (sub, file) in git::flatten(objects, &sha) {
                flat.insert(format!("{path}/{sub}"), file);
            }
            Ok(())
        }
        // `"sha": null` deletes the path; GitHub refuses to delete what is not there.
        (None, Some(Value::Null)) if remove_path(flat, path) => Ok(()),
        (None, Some(Value::Null)) => Err(Reply::error(422, "GitRPC::BadObjectState")),
        _ => Err(Reply::error(422, "Must supply either tree.sha or tree.content")),
    }
}

fn tree_listing(api: &str, entries: &[git::TreeEntry]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| match e.kind {
            EntryKind::Blob => json!({
                "path": e.name, "mode": e.api_mode(), "type": "blob", "sha": e.sha, "size": e.size.unwrap_or(0),
                "url": format!("{api}/git/blobs/{}", e.sha)
            }),
            EntryKind::Tree => json!({
                "path": e.name, "mode": e.api_mode(), "type": "tree", "sha": e.sha,
                "url": format!("{api}/git/trees/{}", e.sha)
            }),
        })
        .collect()
}

/// A tree from `base_tree`'s files (or none) changed by the request's items in order; answers its top level.
fn create_tree(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = git_writable(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let repo = w.repos.get_mut(&key).expect("repository");
    let mut flat = match body["base_tree"].as_str().map(str::to_lowercase) {
        Some(base) if repo.objects.trees.contains_key(&base) => git::flatten(&repo.objects, &base),
        Some(_) => return Err(Reply::error(422, "base_tree is not a valid tree oid")),
        None => Flat::new(),
    };
    for item in body["tree"].as_array().into_iter().flatten() {
        apply_tree_item(&mut repo.objects, &mut flat, item)?;
    }
    let sha = git::write_flat(&flat, &mut repo.objects);
    let api = api_base(ctx.base, repo);
    let url = format!("{api}/git/trees/{sha}");
    let entries = tree_listing(&api, &repo.objects.trees[&sha]);
    Ok(Reply::json(201, json!({"sha": sha, "url": url, "tree": entries, "truncated": false})).header("location", url))
}

// ---------------------------------------------------------------------------------------------------------------
// Commits

/// The identity of commits the App makes without naming an author.
fn bot_signature(time: i64) -> Signature {
    Signature {
        name: caller_login(),
        email: format!("{}+{}@users.noreply.github.com", handlers::BOT_ID, caller_login()),
        time,
        offset_minutes: 0,
    }
}

/// An `author` or `committer` object of a request over `default` (fields left out keep the default's).
fn signature(v: &Value, default: &Signature) -> Result<Signature, Reply> {
    let mut who = default.clone();
    if let Some(name) = v["name"].as_str() {
        who.name = name.to_string();
    }
    if let Some(email) = v["email"].as_str() {
        who.email = email.to_string();
    }
    if let Some(date) = v["date"].as_str() {
        let parsed = DateTime::parse_from_rfc3339(date).map_err(|_| {
            validation_errors(vec![json!({"resource": "Commit", "field": "date", "code": "invalid",
                                           "message": format!("{date:?} is not a valid date-time")})])
        })?;
        who.time = parsed.timestamp();
        who.offset_minutes = parsed.offset().local_minus_utc() / 60;
    }
    Ok(who)
}

fn git_commit_json(base: &str, repo: &Repo, commit: &Commit) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let api = api_base(base, repo);
    let mut v = rebase(Spec::global().example("git-commit"), base, &full_name);
    v["sha"] = json!(commit.sha);
    v["node_id"] = json!(node_id("Commit", &commit.sha));
    v["url"] = json!(format!("{api}/git/commits/{}", commit.sha));
    v["html_url"] = json!(format!("https://github.com/{full_name}/commit/{}", commit.sha));
    v["author"] = person_json(&commit.author);
    v["committer"] = person_json(&commit.committer);
    v["message"] = json!(commit.api_message());
    v["tree"] = json!({"sha": commit.tree, "url": format!("{api}/git/trees/{}", commit.tree)});
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|p| {
            json!({"sha": p, "url": format!("{api}/git/commits/{p}"),
                   "html_url": format!("https://github.com/{full_name}/commit/{p}")})
        })
        .collect();
    v["parents"] = Value::Array(parents);
    v["verification"] =
        json!({"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null});
    v
}

fn create_commit(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = git_writable(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let repo = &w.repos[&key];
    let tree = body["tree"].as_str().unwrap_or_default().to_lowercase();
    if !repo.objects.trees.contains_key(&tree) {
        return Err(Reply::error(422, "Tree SHA does not exist"));
    }
    let parents: Vec<String> =
        body["parents"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_lowercase).collect();
    if parents.iter().any(|p| !repo.commits.contains_key(p)) {
        return Err(Reply::error(422, "Parent SHA does not exist or is not a commit object"));
    }
    let author = signature(&body["author"], &bot_signature(now().timestamp()))?;
    let committer = signature(&body["committer"], &author)?;
    let message = body["message"].as_str().unwrap_or_default().to_string();
    let sha = git::commit_id(&tree, &parents, &author, &committer, &message);
    let commit = Commit { sha: sha.clone(), tree, parents, author, committer, message };
    let repo = w.repos.get_mut(&key).expect("repository");
    let v = git_commit_json(ctx.base, repo, &commit);
    repo.commits.insert(sha, commit);
    let location = v["url"].as_str().unwrap_or_default().to_string();
    Ok(Reply::json(201, v).header("location", location))
}

fn get_git_commit(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let wanted = ctx.param("commit_sha");
    let sha = Some(wanted)
        .filter(|s| s.chars().all(|c| c.is_ascii_hexdigit()))
        .and_then(|s| resolve_commit(repo, s))
        .ok_or_else(|| Reply::error(404, "Not Found"))?;
    Ok(Reply::json(200, git_commit_json(ctx.base, repo, &repo.commits[&sha])))
}

// ---------------------------------------------------------------------------------------------------------------
// References

/// What a reference named as the API's paths name them (`heads/main`, `tags/v1`) points at.
pub(crate) fn ref_target(repo: &Repo, reference: &str) -> Option<String> {
    match reference.strip_prefix("heads/") {
        Some(branch) => repo.branches.get(branch).cloned(),
        None => repo.other_refs.get(&format!("refs/{reference}")).cloned(),
    }
}

/// A `git-ref` for `reference` (`heads/main`) pointing at commit `sha`.
pub(crate) fn ref_json(base: &str, repo: &Repo, reference: &str, sha: &str) -> Value {
    let api = api_base(base, repo);
    let mut v = rebase(Spec::global().example("git-ref"), base, &format!("{}/{}", repo.owner, repo.name));
    v["ref"] = json!(format!("refs/{reference}"));
    v["node_id"] = json!(node_id("Ref", format!("refs/{reference}")));
    v["url"] = json!(format!("{api}/git/refs/{reference}"));
    v["object"] = json!({"type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}")});
    v
}

/// Whether git accepts `name` (after `refs/`) as a reference name.
fn valid_ref_name(name: &str) -> bool {
    let bad = |c: char| c.is_control() || c.is_whitespace() || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\');
    !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && !name.chars().any(bad)
        && name.split('/').all(|p| !p.is_empty() && !p.starts_with('.') && !p.ends_with(".lock"))
}

/// Points `reference` (`heads/x`, `tags/v1`) at `sha`: branches move as [`Repo::move_branch`] moves them.
fn set_ref(repo: &mut Repo, reference: &str, sha: &str) {
    match reference.strip_prefix("heads/") {
        Some(branch) => repo.move_branch(branch, sha),
        None => {
            repo.other_refs.insert(format!("refs/{reference}"), sha.to_string());
        }
    }
}

fn create_ref(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = git_writable(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let name = body["ref"].as_str().unwrap_or_default();
    let sha = body["sha"].as_str().unwrap_or_default().to_lowercase();
    let Some(reference) = name.strip_prefix("refs/").filter(|r| r.contains('/')) else {
        return Err(Reply::error(422, "Reference name must start with 'refs/' and have at least two slashes."));
    };
    if !valid_ref_name(reference) {
        return Err(Reply::error(422, &format!("{name} is not a valid ref name.")));
    }
    let repo = w.repos.get_mut(&key).expect("repository");
    if !repo.commits.contains_key(&sha) {
        return Err(Reply::error(422, "Object does not exist"));
    }
    if ref_target(repo, reference).is_some() {
        return Err(Reply::error(422, "Reference already exists"));
    }
    set_ref(repo, reference, &sha);
    let v = ref_json(ctx.base, repo, reference, &sha);
    let location = v["url"].as_str().unwrap_or_default().to_string();
    Ok(Reply::json(201, v).header("location", location))
}

/// Moves a reference; without `force`, only forward (the new commit must descend from the old one).
fn update_ref(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let reference = ctx.param("ref");
    let body = ctx.body.cloned().unwrap_or_default();
    let sha = body["sha"].as_str().unwrap_or_default().to_lowercase();
    let force = body["force"].as_bool().unwrap_or(false);
    let repo = w.repos.get_mut(&key).expect("repository");
    let old = ref_target(repo, reference).ok_or_else(|| Reply::error(422, "Reference does not exist"))?;
    if !repo.commits.contains_key(&sha) {
        return Err(Reply::error(422, "Object does not exist"));
    }
    if !force && !ancestors(repo, &sha).contains(&old) {
        return Err(Reply::error(422, "Update is not a fast forward"));
    }
    set_ref(repo, reference, &sha);
    Ok(Reply::json(200, ref_json(ctx.base, repo, reference, &sha)))
}

/// Deletes a reference. Deleting a branch closes the open pull requests from or into it, as GitHub does.
fn delete_ref(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let reference = ctx.param("ref");
    let repo = w.repos.get_mut(&key).expect("repository");
    if ref_target(repo, reference).is_none() {
        return Err(Reply::error(422, "Reference does not exist"));
    }
    match reference.strip_prefix("heads/") {
        Some(branch) if branch == repo.default_branch => {
            return Err(Reply::error(422, "Cannot delete the default branch"));
        }
        Some(branch) => {
            repo.branches.remove(branch);
            let affected: Vec<u64> = repo
                .pulls
                .values()
                .filter(|p| p.state == "open" && (p.head_ref == branch || p.base_ref == branch))
                .map(|p| p.number)
                .collect();
            for number in affected {
                repo.set_pull_state(number, "closed", None, &caller_login());
            }
        }
        None => {
            repo.other_refs.remove(&format!("refs/{reference}"));
        }
    }
    Ok(Reply { status: 204, headers: Vec::new(), body: None })
}

// ---------------------------------------------------------------------------------------------------------------
// Pull requests

/// A `pull-request` as `GET .../pulls/{n}` and `POST .../pulls` answer it.
pub(crate) fn full_pull_json(w: &World, base: &str, repo: &Repo, p: &Pull) -> Value {
    let mut v = pull_json(w, base, repo, p, Spec::global().example("pull-request"));
    let key = repo_key(&repo.owner, &repo.name);
    let comments = w.comments.values().filter(|c| c.repo == key && c.issue_number == p.number).count();
    let base_sha = p.base_sha(repo);
    let (mut commits, mut additions, mut deletions, mut changed) = (0, 0, 0, 0);
    if let Some(head) = repo.commits.get(&p.head_sha) {
        let reachable = ancestors(repo, &base_sha);
        commits = ancestors(repo, &p.head_sha).iter().filter(|c| !reachable.contains(*c)).count();
        let since = merge_base(repo, &p.head_sha, &base_sha).and_then(|m| repo.commits.get(&m)).map(|c| &c.tree);
        for change in tree_diff(repo, since.map(String::as_str), &head.tree) {
            additions += change.additions;
            deletions += change.deletions;
            changed += 1;
        }
    }
    v["merged"] = json!(p.merged);
    v["mergeable"] = Value::Null;
    v["rebaseable"] = Value::Null;
    v["mergeable_state"] = json!("unknown");
    v["merged_by"] = p.merged_by.as_deref().map(|l| login_json(base, l)).unwrap_or(Value::Null);
    v["comments"] = json!(comments);
    v["review_comments"] = json!(0);
    v["maintainer_can_modify"] = json!(p.maintainer_can_modify);
    v["commits"] = json!(commits);
    v["additions"] = json!(additions);
    v["deletions"] = json!(deletions);
    v["changed_files"] = json!(changed);
    v
}

/// Opens a pull request by the App's bot, numbered in the issue sequence; GitHub's validation errors when a branch
/// is missing, an open pull request for the same head and base exists, or the head has nothing beyond the base.
fn create_pull(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let title = body["title"].as_str().unwrap_or_default().to_string();
    if title.trim().is_empty() {
        return Err(validation_errors(vec![json!({"resource": "Issue", "field": "title", "code": "missing_field"})]));
    }
    let text = body["body"].as_str().map(str::to_string);
    check_lengths("PullRequest", Some(&title), text.as_deref())?;
    let head = body["head"].as_str().unwrap_or_default();
    let base_ref = body["base"].as_str().unwrap_or_default().to_string();
    let repo = &w.repos[&key];
    let (head_owner, head_ref) = head.split_once(':').unwrap_or((repo.owner.as_str(), head));
    let head_sha = Some(head_ref)
        .filter(|_| head_owner.eq_ignore_ascii_case(&repo.owner))
        .and_then(|b| repo.branches.get(b).cloned());
    let base_sha = repo.branches.get(&base_ref).cloned();
    let mut errors = Vec::new();
    if head_sha.is_none() {
        errors.push(json!({"resource": "PullRequest", "field": "head", "code": "invalid"}));
    }
    if base_sha.is_none() {
        errors.push(json!({"resource": "PullRequest", "field": "base", "code": "invalid"}));
    }
    let (Some(head_sha), Some(base_sha)) = (head_sha, base_sha) else { return Err(validation_errors(errors)) };
    if repo.pulls.values().any(|p| p.state == "open" && p.head_ref == head_ref && p.base_ref == base_ref) {
        return Err(pull_error(&format!("A pull request already exists for {}:{head_ref}.", repo.owner)));
    }
    if ancestors(repo, &base_sha).contains(&head_sha) {
        return Err(pull_error(&format!("No commits between {base_ref} and {head}")));
    }
    let head_ref = head_ref.to_string();
    let (id, issue_id) = (w.id(), w.id());
    let repo = w.repos.get_mut(&key).expect("repository");
    let number = repo.next_number();
    let mut pull = Pull::new(id, number, &head_ref, &head_sha, &base_ref, &title, &caller_login());
    pull.body = text.clone();
    pull.draft = body["draft"].as_bool().unwrap_or(false);
    pull.maintainer_can_modify = body["maintainer_can_modify"].as_bool().unwrap_or(false);
    let mut issue = Issue::new(issue_id, number, &title, text, &caller_login());
    issue.pull = true;
    repo.pulls.insert(number, pull);
    repo.issues.insert(number, issue);
    let repo = &w.repos[&key];
    let v = full_pull_json(w, ctx.base, repo, &repo.pulls[&number]);
    let location = v["url"].as_str().unwrap_or_default().to_string();
    Ok(Reply::json(201, v).header("location", location))
}

/// Merges open pull request `number` of repository `key` (see [`FakeGitHub::merge_pull`]); returns the merge
/// commit's sha.
pub(crate) fn merge(w: &mut World, key: &(String, String), number: u64) -> String {
    let repo = w.repos.get_mut(key).expect("repository");
    let pull = repo.pulls.get(&number).unwrap_or_else(|| panic!("fake GitHub: no pull request {number}"));
    assert_eq!(pull.state, "open", "fake GitHub: pull request {number} is not open");
    let (head, head_ref, base_ref, title) =
        (pull.head_sha.clone(), pull.head_ref.clone(), pull.base_ref.clone(), pull.title.clone());
    let base_head = repo
        .branches
        .get(&base_ref)
        .cloned()
        .unwrap_or_else(|| panic!("fake GitHub: pull request {number}'s base branch {base_ref} does not exist"));
    let head_commit = repo
        .commits
        .get(&head)
        .unwrap_or_else(|| panic!("fake GitHub: pull request {number}'s head {head} is unknown"));
    let tree = if ancestors(repo, &head).contains(&base_head) {
        head_commit.tree.clone()
    } else {
        // A file-level three-way merge: what the head changed since the merge base wins, the rest is the base's.
        let since = merge_base(repo, &head, &base_head).map(|m| repo.commits[&m].tree.clone());
        let old = since.map(|t| git::flatten(&repo.objects, &t)).unwrap_or_default();
        let theirs = git::flatten(&repo.objects, &head_commit.tree);
        let mut merged = git::flatten(&repo.objects, &repo.commits[&base_head].tree);
        for path in old.keys().chain(theirs.keys()) {
            if old.get(path) != theirs.get(path) {
                match theirs.get(path) {
                    Some(file) => {
                        clear_for(&mut merged, path);
                        merged.insert(path.clone(), file.clone());
                    }
                    None => {
                        merged.remove(path);
                    }
                }
            }
        }
        git::write_flat(&merged, &mut repo.objects)
    };
    let time = now().timestamp();
    let merger = Signature { name: "octocat".into(), email: "octocat@github.com".into(), time, offset_minutes: 0 };
    let committer = Signature { name: "GitHub".into(), email: "noreply@github.com".into(), time, offset_minutes: 0 };
    let message = format!("Merge pull request #{number} from {}/{head_ref}\n\n{title}", repo.owner);
    let parents = vec![base_head, head];
    let sha = git::commit_id(&tree, &parents, &merger, &committer, &message);
    let commit = Commit { sha: sha.clone(), tree, parents, author: merger, committer, message };
    repo.commits.insert(sha.clone(), commit);
    repo.set_pull_state(number, "closed", None, "octocat");
    let pull = repo.pulls.get_mut(&number).expect("pull request");
    pull.merged = true;
    pull.merge_commit_sha = Some(sha.clone());
    pull.merged_at = pull.closed_at;
    pull.merged_by = Some("octocat".into());
    repo.move_branch(&base_ref, &sha);
    sha
}
