//! The endpoints: each reads and changes the [`World`] and answers in GitHub's wire format. Response bodies start from
//! the OpenAPI description's own examples (their URLs moved to the fake's host and repository) with the world's
//! values filled in, and are checked against the declared response schema by the dispatcher.

use base64::prelude::{BASE64_STANDARD, Engine};
use serde_json::{Value, json};

use super::git::EntryKind;
use super::*;

const APP_HOMEPAGE: &str = "https://shipshape.invalid";
pub(crate) const BOT_ID: u64 = 41_898_282;

pub(crate) type Handled = Result<Reply, Reply>;

/// Answers a request for an operation the fake implements; `None` for the others.
pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("POST", "/app/installations/{installation_id}/access_tokens") => create_installation_token(w, ctx),
        ("GET", "/app/installations/{installation_id}") => get_installation(w, ctx),
        ("GET", "/repos/{owner}/{repo}/installation") => get_repo_installation(w, ctx),
        ("GET", "/repos/{owner}/{repo}") => get_repo(w, ctx),
        ("GET", "/repos/{owner}/{repo}/commits/{ref}") => get_commit(w, ctx),
        ("GET", "/repos/{owner}/{repo}/git/ref/{ref}") => get_ref(w, ctx),
        ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}") => get_tree(w, ctx),
        ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}") => get_blob(w, ctx),
        ("GET", "/repos/{owner}/{repo}/branches/{branch}/protection") => get_protection(w, ctx),
        ("GET", "/repos/{owner}/{repo}/rules/branches/{branch}") => get_rules(w, ctx),
        ("GET", "/repos/{owner}/{repo}/dependabot/alerts") => list_dependabot_alerts(w, ctx),
        ("POST", "/repos/{owner}/{repo}/check-runs") => create_check_run(w, ctx),
        ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}") => update_check_run(w, ctx),
        ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}") => get_check_run(w, ctx),
        ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations") => list_annotations(w, ctx),
        ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs") => list_check_runs_for_ref(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => list_comments(w, ctx),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => create_comment(w, ctx),
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => update_comment(w, ctx),
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}") => get_pull(w, ctx),
        ("GET", "/repos/{owner}/{repo}/pulls") => list_pulls(w, ctx),
        ("GET", "/app/installations") => list_installations(w, ctx),
        ("GET", "/installation/repositories") => list_installation_repos(w, ctx),
        _ => {
            return issues::route(w, ctx)
                .or_else(|| catalog::route(w, ctx))
                .or_else(|| security::route(w, ctx))
                .or_else(|| statuses::route(w, ctx))
                .or_else(|| users::route(w, ctx))
                .or_else(|| hooks::route(w, ctx));
        }
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

// ---------------------------------------------------------------------------------------------------------------
// Authentication and lookups

pub(crate) fn require_app(ctx: &Ctx<'_>) -> Result<(), Reply> {
    match ctx.caller {
        Caller::App => Ok(()),
        Caller::Invalid(msg) if msg.starts_with("A JSON web token") || msg.starts_with('\'') => {
            Err(Reply::error(401, msg))
        }
        _ => Err(Reply::error(401, "A JSON web token could not be decoded")),
    }
}

/// The repository of the request, if the caller's installation token reaches it (404 otherwise, as GitHub does).
/// Writes to an archived repository are refused 403, as GitHub refuses them.
pub(crate) fn repo_access(w: &World, ctx: &Ctx<'_>) -> Result<(String, String), Reply> {
    let (installation, repository_ids) = match ctx.caller {
        Caller::Installation { id, repository_ids } => (*id, repository_ids),
        Caller::None => return Err(Reply::error(401, "Requires authentication")),
        Caller::App | Caller::Invalid(_) => return Err(Reply::error(401, "Bad credentials")),
        // The fake models no user's repository access: what a user token reaches is not found.
        Caller::User { .. } => return Err(Reply::error(404, "Not Found")),
    };
    let key = repo_key(ctx.param("owner"), ctx.param("repo"));
    match w.repos.get(&key) {
        Some(repo)
            if repo.installation == installation
                && repository_ids.as_ref().is_none_or(|ids| ids.contains(&repo.id)) =>
        {
            if repo.archived && ctx.method != "GET" {
                return Err(Reply::error(403, "Repository was archived so is read-only."));
            }
            Ok(key)
        }
        _ => Err(Reply::error(404, "Not Found")),
    }
}

pub(crate) fn id_param(ctx: &Ctx<'_>, name: &str) -> Result<u64, Reply> {
    ctx.param(name).parse().map_err(|_| Reply::error(404, "Not Found"))
}

/// A commit sha for `reference`: a commit sha (full or abbreviated to 7+), a branch (`main`, `heads/main`,
/// `refs/heads/main`).
pub(crate) fn resolve_commit(repo: &Repo, reference: &str) -> Option<String> {
    let branch = reference.strip_prefix("refs/").unwrap_or(reference);
    let branch = branch.strip_prefix("heads/").unwrap_or(branch);
    if let Some(sha) = repo.branches.get(branch) {
        return Some(sha.clone());
    }
    let tag = reference.strip_prefix("refs/tags/").or_else(|| reference.strip_prefix("tags/")).unwrap_or(reference);
    if let Some(sha) = repo.other_refs.get(&format!("refs/tags/{tag}")) {
        return Some(sha.clone());
    }
    if reference.len() >= 7 && reference.chars().all(|c| c.is_ascii_hexdigit()) {
        let lower = reference.to_lowercase();
        let mut found = repo.commits.keys().filter(|sha| sha.starts_with(&lower));
        if let (Some(sha), None) = (found.next(), found.next()) {
            return Some(sha.clone());
        }
    }
    None
}

fn no_commit(reference: &str) -> Reply {
    Reply::error(422, &format!("No commit found for SHA: {reference}"))
}

// ---------------------------------------------------------------------------------------------------------------
// JSON shapes

/// Moves an example's URLs and names to the fake's host and the given repository.
pub(crate) fn rebase(mut v: Value, base: &str, full_name: &str) -> Value {
    fn walk(v: &mut Value, base: &str, full_name: &str) {
        match v {
            Value::String(s) => {
                let mut t = s.replace("https://api.github.com", base);
                for example_repo in ["octocat/Hello-World", "github/hello-world", "octocat/example"] {
                    t = t.replace(example_repo, full_name);
                }
                *s = t;
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, base, full_name)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, base, full_name)),
            _ => {}
        }
    }
    walk(&mut v, base, full_name);
    v
}

pub(crate) fn node_id(kind: &str, id: impl std::fmt::Display) -> String {
    BASE64_STANDARD.encode(format!("{kind}:{id}"))
}

/// A `simple-user`.
pub(crate) fn user_json(base: &str, login: &str, id: u64, kind: &str) -> Value {
    let users = format!("{base}/users/{login}");
    json!({
        "login": login, "id": id, "node_id": node_id(kind, id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), "gravatar_id": "",
        "url": users, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{users}/followers"), "following_url": format!("{users}/following{{/other_user}}"),
        "gists_url": format!("{users}/gists{{/gist_id}}"), "starred_url": format!("{users}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{users}/subscriptions"), "organizations_url": format!("{users}/orgs"),
        "repos_url": format!("{users}/repos"), "events_url": format!("{users}/events{{/privacy}}"),
        "received_events_url": format!("{users}/received_events"), "type": kind, "site_admin": false,
        "user_view_type": "public"
    })
}

pub(crate) fn bot_json(base: &str) -> Value {
    user_json(base, &format!("{APP_SLUG}[bot]"), BOT_ID, "Bot")
}

pub(crate) fn owner_json(w: &World, base: &str, login: &str) -> Value {
    let id = w
        .installations
        .values()
        .find(|i| i.account.eq_ignore_ascii_case(login))
        .map(|i| i.account_id)
        .unwrap_or(BOT_ID + 1);
    user_json(base, login, id, "Organization")
}

/// The App as `integration`.
pub(crate) fn app_json(w: &World, base: &str) -> Value {
    let mut app = rebase(Spec::global().example("check-run")["app"].clone(), base, "shipshape/shipshape");
    app["id"] = json!(w.app_id);
    app["slug"] = json!(APP_SLUG);
    app["client_id"] = json!(format!("Iv1.fake{}", w.app_id));
    app["node_id"] = json!(node_id("Integration", w.app_id));
    app["name"] = json!("Shipshape (test)");
    app["external_url"] = json!(APP_HOMEPAGE);
    app["html_url"] = json!(format!("https://github.com/apps/{APP_SLUG}"));
    app["permissions"] = default_permissions();
    app
}

fn default_permissions() -> Value {
    json!({
        "administration": "read", "checks": "write", "contents": "write", "issues": "write", "metadata": "read",
        "pull_requests": "write", "vulnerability_alerts": "read", "security_events": "read",
        "secret_scanning_alerts": "read", "statuses": "read"
    })
}

pub(crate) fn installation_json(w: &World, base: &str, inst: &Installation) -> Value {
    let mut v = rebase(Spec::global().example("installation"), base, "octocat/Hello-World");
    v["id"] = json!(inst.id);
    v["account"] = user_json(base, &inst.account, inst.account_id, "Organization");
    v["access_tokens_url"] = json!(format!("{base}/app/installations/{}/access_tokens", inst.id));
    v["repositories_url"] = json!(format!("{base}/installation/repositories"));
    v["html_url"] =
        json!(format!("https://github.com/organizations/{}/settings/installations/{}", inst.account, inst.id));
    v["app_id"] = json!(w.app_id);
    v["app_slug"] = json!(APP_SLUG);
    v["client_id"] = json!(format!("Iv1.fake{}", w.app_id));
    v["target_id"] = json!(inst.account_id);
    v["target_type"] = json!("Organization");
    v["permissions"] = default_permissions();
    v["events"] = json!(["check_run", "check_suite", "issue_comment", "pull_request", "push"]);
    v["repository_selection"] = json!("all");
    v["created_at"] = json!(timestamp(inst.created_at));
    v["updated_at"] = json!(timestamp(inst.created_at));
    v["single_file_name"] = Value::Null;
    v["has_multiple_single_files"] = json!(false);
    v["single_file_paths"] = json!([]);
    v
}

/// Repository fields shared by `full-repository`, `repository` and `minimal-repository` examples.
pub(crate) fn fill_repo(w: &World, base: &str, repo: &Repo, mut v: Value) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    v = rebase(v, base, &full_name);
    v["id"] = json!(repo.id);
    v["node_id"] = json!(node_id("Repository", repo.id));
    v["name"] = json!(repo.name);
    v["full_name"] = json!(full_name);
    v["owner"] = owner_json(w, base, &repo.owner);
    v["private"] = json!(true);
    v["visibility"] = json!("private");
    v["fork"] = json!(repo.fork);
    v["description"] = Value::Null;
    v["default_branch"] = json!(repo.default_branch);
    v["created_at"] = json!(timestamp(repo.created_at));
    v["updated_at"] = json!(timestamp(repo.created_at));
    v["pushed_at"] = json!(timestamp(repo.pushed_at));
    v["archived"] = json!(repo.archived);
    v["disabled"] = json!(false);
    v["has_issues"] = json!(repo.has_issues);
    let open = repo.issues.values().filter(|i| issues::current_state(repo, i) == "open").count();
    if v.get("open_issues_count").is_some() {
        v["open_issues_count"] = json!(open);
        v["open_issues"] = json!(open);
    }
    if let Some(map) = v.as_object_mut() {
        for key in ["parent", "source", "template_repository", "organization"] {
            map.remove(key);
        }
        map.insert("license".into(), Value::Null);
        map.insert("language".into(), Value::Null);
    }
    v
}

fn repo_json(w: &World, base: &str, repo: &Repo) -> Value {
    let mut v = fill_repo(w, base, repo, Spec::global().example("full-repository-default-response"));
    v["permissions"] = json!({"admin": false, "maintain": false, "push": false, "triage": false, "pull": true});
    v
}

/// A commit's author or committer as the REST API shows it (the date in UTC).
pub(crate) fn person_json(who: &git::Signature) -> Value {
    let date = timestamp(DateTime::from_timestamp(who.time, 0).unwrap_or_default());
    json!({"name": who.name, "email": who.email, "date": date})
}

/// Lines of a text, as a diff counts them.
fn lines(content: &[u8]) -> Vec<&[u8]> {
    content.split_inclusive(|c| *c == b'\n').collect()
}

/// `(additions, deletions)` between two versions of a file: lines of one not matched in the other (as a multiset).
pub(crate) fn line_changes(old: &[u8], new: &[u8]) -> (usize, usize) {
    let mut remaining: HashMap<&[u8], usize> = HashMap::new();
    for line in lines(old) {
        *remaining.entry(line).or_default() += 1;
    }
    let mut additions = 0;
    for line in lines(new) {
        match remaining.get_mut(line) {
            Some(n) if *n > 0 => *n -= 1,
            _ => additions += 1,
        }
    }
    (additions, remaining.values().sum())
}

/// A file changed between two trees.
pub(crate) struct FileChange {
    pub path: String,
    /// `added`, `removed` or `modified`.
    pub status: &'static str,
    /// The new blob's id (the old one's for a removed file).
    pub sha: String,
    pub additions: usize,
    pub deletions: usize,
}

/// The files changed from tree `old` (none: the empty tree) to tree `new`, by path.
pub(crate) fn tree_diff(repo: &Repo, old: Option<&str>, new: &str) -> Vec<FileChange> {
    let before = old.map(|t| git::flatten(&repo.objects, t)).unwrap_or_default();
    let after = git::flatten(&repo.objects, new);
    let blob = |sha: &str| repo.objects.blobs.get(sha).map(Vec::as_slice).unwrap_or_default();
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let (status, old, new) = match (before.get(path), after.get(path)) {
            (None, Some(b)) => ("added", None, b),
            (Some(a), None) => ("removed", None, a),
            (Some(a), Some(b)) if a != b => ("modified", Some(a), b),
            _ => continue,
        };
        let (additions, deletions) = match (status, old) {
            ("removed", _) => line_changes(blob(&new.sha), b""),
            (_, Some(old)) => line_changes(blob(&old.sha), blob(&new.sha)),
            _ => line_changes(b"", blob(&new.sha)),
        };
        out.push(FileChange { path: path.clone(), status, sha: new.sha.clone(), additions, deletions });
    }
    out
}

fn commit_json(base: &str, repo: &Repo, commit: &Commit) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let mut v = rebase(Spec::global().example("commit"), base, &full_name);
    let api = format!("{base}/repos/{full_name}");
    v["sha"] = json!(commit.sha);
    v["node_id"] = json!(node_id("Commit", &commit.sha));
    v["url"] = json!(format!("{api}/commits/{}", commit.sha));
    v["html_url"] = json!(format!("https://github.com/{full_name}/commit/{}", commit.sha));
    v["comments_url"] = json!(format!("{api}/commits/{}/comments", commit.sha));
    v["commit"]["url"] = json!(format!("{api}/git/commits/{}", commit.sha));
    v["commit"]["author"] = person_json(&commit.author);
    v["commit"]["committer"] = person_json(&commit.committer);
    v["commit"]["message"] = json!(commit.api_message());
    v["commit"]["tree"] = json!({"sha": commit.tree, "url": format!("{api}/git/trees/{}", commit.tree)});
    v["commit"]["comment_count"] = json!(0);
    v["author"] = Value::Null;
    v["committer"] = Value::Null;
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|p| {
            json!({"sha": p, "url": format!("{api}/commits/{p}"),
                   "html_url": format!("https://github.com/{full_name}/commit/{p}")})
        })
        .collect();
    v["parents"] = Value::Array(parents);
    // The changes against the first parent (against nothing for a root commit), as GitHub lists them.
    let old_tree = commit.parents.first().and_then(|p| repo.commits.get(p)).map(|c| c.tree.as_str());
    let (mut additions, mut deletions) = (0, 0);
    let files: Vec<Value> = tree_diff(repo, old_tree, &commit.tree)
        .into_iter()
        .map(|FileChange { path, status, sha, additions: add, deletions: del }| {
            additions += add;
            deletions += del;
            json!({
                "sha": sha, "filename": path, "status": status, "additions": add, "deletions": del,
                "changes": add + del,
                "blob_url": format!("https://github.com/{full_name}/blob/{}/{path}", commit.sha),
                "raw_url": format!("https://github.com/{full_name}/raw/{}/{path}", commit.sha),
                "contents_url": format!("{api}/contents/{path}?ref={}", commit.sha)
            })
        })
        .collect();
    v["stats"] = json!({"total": additions + deletions, "additions": additions, "deletions": deletions});
    v["files"] = Value::Array(files);
    v
}

/// Visits the entries under `tree` depth-first in git order (a directory before its contents), with their paths.
fn walk_tree(repo: &Repo, tree: &str, prefix: &str, recursive: bool, visit: &mut dyn FnMut(&str, &git::TreeEntry)) {
    let Some(entries) = repo.objects.trees.get(tree) else { return };
    for entry in entries {
        let path = format!("{prefix}{}", entry.name);
        visit(&path, entry);
        if recursive && entry.kind == EntryKind::Tree {
            walk_tree(repo, &entry.sha, &format!("{path}/"), true, visit);
        }
    }
}

pub(crate) fn check_run_json(w: &World, base: &str, run: &CheckRun) -> Value {
    let repo = &w.repos[&run.repo];
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let api = format!("{base}/repos/{full_name}");
    let mut v = rebase(Spec::global().example("check-run"), base, &full_name);
    v["id"] = json!(run.id);
    v["node_id"] = json!(node_id("CheckRun", run.id));
    v["name"] = json!(run.name);
    v["head_sha"] = json!(run.head_sha);
    v["external_id"] = json!(run.external_id.clone().unwrap_or_default());
    v["url"] = json!(format!("{api}/check-runs/{}", run.id));
    v["html_url"] = json!(format!("https://github.com/{full_name}/runs/{}", run.id));
    v["details_url"] = json!(run.details_url.clone().unwrap_or_else(|| APP_HOMEPAGE.to_string()));
    v["status"] = json!(run.status);
    v["conclusion"] = json!(run.conclusion);
    v["started_at"] = json!(run.started_at);
    v["completed_at"] = json!(run.completed_at);
    v["output"] = json!({
        "title": run.title, "summary": run.summary, "text": run.text,
        "annotations_count": run.annotations.len(),
        "annotations_url": format!("{api}/check-runs/{}/annotations", run.id)
    });
    v["check_suite"] = json!({"id": run.suite_id});
    v["app"] = match (&run.by_app, run.by_actions) {
        (Some(other), _) => statuses::other_app_json(w, base, other),
        (None, true) => security::actions_app_json(w, base),
        (None, false) => app_json(w, base),
    };
    let pulls: Vec<Value> = repo
        .pulls
        .values()
        .filter(|p| p.state == "open" && p.head_sha == run.head_sha)
        .map(|p| {
            let side = |r: &str, sha: &str| {
                json!({"ref": r, "sha": sha, "repo": {"id": repo.id, "url": api, "name": repo.name}})
            };
            let base_sha = repo.branches.get(&p.base_ref).cloned().unwrap_or_default();
            json!({
                "id": p.id, "number": p.number, "url": format!("{api}/pulls/{}", p.number),
                "head": side(&p.head_ref, &p.head_sha), "base": side(&p.base_ref, &base_sha)
            })
        })
        .collect();
    v["pull_requests"] = Value::Array(pulls);
    if let Some(map) = v.as_object_mut() {
        map.remove("deployment");
    }
    v
}

pub(crate) fn comment_json(w: &World, base: &str, c: &Comment) -> Value {
    let repo = &w.repos[&c.repo];
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let api = format!("{base}/repos/{full_name}");
    let kind = if repo.pulls.contains_key(&c.issue_number) { "pull" } else { "issues" };
    let mut v = rebase(Spec::global().example("issue-comment"), base, &full_name);
    v["id"] = json!(c.id);
    v["node_id"] = json!(node_id("IssueComment", c.id));
    v["url"] = json!(format!("{api}/issues/comments/{}", c.id));
    v["html_url"] = json!(format!("https://github.com/{full_name}/{kind}/{}#issuecomment-{}", c.issue_number, c.id));
    v["body"] = json!(c.body);
    let bot = c.user == format!("{APP_SLUG}[bot]");
    v["user"] = issues::login_json(base, &c.user);
    v["created_at"] = json!(c.created_at);
    v["updated_at"] = json!(c.updated_at);
    v["issue_url"] = json!(format!("{api}/issues/{}", c.issue_number));
    // The fake has no organization membership: anyone with a role on the repository counts as a member.
    let member = repo.permissions.contains_key(&c.user.to_lowercase());
    v["author_association"] = json!(if member && !bot { "MEMBER" } else { "NONE" });
    v["performed_via_github_app"] = if bot { app_json(w, base) } else { Value::Null };
    v
}

/// A pull request from `example` (`pull-request` or an item of `pull-request-simple-items`).
pub(crate) fn pull_json(w: &World, base: &str, repo: &Repo, p: &Pull, example: Value) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let api = format!("{base}/repos/{full_name}");
    let html = format!("https://github.com/{full_name}/pull/{}", p.number);
    let n = p.number;
    let mut v = rebase(example, base, &full_name);
    v["id"] = json!(p.id);
    v["node_id"] = json!(node_id("PullRequest", p.id));
    v["number"] = json!(n);
    v["state"] = json!(p.state);
    v["url"] = json!(format!("{api}/pulls/{n}"));
    v["html_url"] = json!(html);
    v["diff_url"] = json!(format!("{html}.diff"));
    v["patch_url"] = json!(format!("{html}.patch"));
    v["issue_url"] = json!(format!("{api}/issues/{n}"));
    v["commits_url"] = json!(format!("{api}/pulls/{n}/commits"));
    v["review_comments_url"] = json!(format!("{api}/pulls/{n}/comments"));
    v["comments_url"] = json!(format!("{api}/issues/{n}/comments"));
    v["statuses_url"] = json!(format!("{api}/statuses/{}", p.head_sha));
    v["_links"] = json!({
        "self": {"href": format!("{api}/pulls/{n}")}, "html": {"href": html},
        "issue": {"href": format!("{api}/issues/{n}")}, "comments": {"href": format!("{api}/issues/{n}/comments")},
        "review_comments": {"href": format!("{api}/pulls/{n}/comments")},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{api}/pulls/{n}/commits")},
        "statuses": {"href": format!("{api}/statuses/{}", p.head_sha)}
    });
    v["title"] = json!(p.title);
    v["body"] = json!(p.body);
    v["user"] = issues::login_json(base, &p.user);
    let bot = p.user == format!("{APP_SLUG}[bot]");
    v["author_association"] = json!(if bot { "NONE" } else { "MEMBER" });
    let minimal = fill_repo(w, base, repo, v["head"]["repo"].clone());
    let base_sha = p.base_sha(repo);
    for (side, r, sha) in [("head", &p.head_ref, &p.head_sha), ("base", &p.base_ref, &base_sha)] {
        v[side]["ref"] = json!(r);
        v[side]["sha"] = json!(sha);
        v[side]["label"] = json!(format!("{}:{r}", repo.owner));
        v[side]["repo"] = minimal.clone();
        v[side]["user"] = owner_json(w, base, &repo.owner);
    }
    let labels = repo.issues.get(&n).map(|i| i.labels.clone()).unwrap_or_default();
    v["labels"] = Value::Array(issues::labels_json(base, repo, &labels));
    // (The description's own example lists a requested team without the `type` its schema requires.)
    v["requested_reviewers"] = json!([]);
    v["requested_teams"] = json!([]);
    v["assignee"] = Value::Null;
    v["assignees"] = json!([]);
    v["milestone"] = Value::Null;
    v["locked"] = json!(false);
    v["active_lock_reason"] = Value::Null;
    v["auto_merge"] = Value::Null;
    v["draft"] = json!(p.draft);
    v["created_at"] = json!(timestamp(p.created_at));
    v["updated_at"] = json!(timestamp(p.updated_at));
    v["merged_at"] = json!(p.merged_at.map(timestamp));
    v["closed_at"] = json!(p.closed_at.map(timestamp));
    v["merge_commit_sha"] = json!(p.merge_commit_sha);
    v
}

fn alert_json(base: &str, repo: &Repo, a: &Alert) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let examples = Spec::global().example("dependabot-alerts-for-repository");
    let mut v = rebase(examples[0].clone(), base, &full_name);
    let created = timestamp(a.created_at);
    let updated = timestamp(a.created_at + chrono::Duration::minutes(5));
    v["number"] = json!(a.number);
    v["state"] = json!(a.state);
    v["url"] = json!(format!("{base}/repos/{full_name}/dependabot/alerts/{}", a.number));
    v["html_url"] = json!(format!("https://github.com/{full_name}/security/dependabot/{}", a.number));
    v["created_at"] = json!(created);
    v["updated_at"] = json!(updated);
    v["security_advisory"]["severity"] = json!(a.severity);
    // (The description's own example has the percentile as a string; its schema says number.)
    v["security_advisory"]["epss"] = json!({"percentage": 0.00045, "percentile": 0.16001});
    v["security_vulnerability"]["severity"] = json!(a.severity);
    let dismissed = a.state == "dismissed";
    v["dismissed_at"] = if dismissed { json!(updated) } else { Value::Null };
    v["dismissed_by"] = if dismissed { user_json(base, "octocat", 1, "User") } else { Value::Null };
    v["dismissed_reason"] = if dismissed { json!("tolerable_risk") } else { Value::Null };
    v["dismissed_comment"] = if dismissed { json!("Accepted.") } else { Value::Null };
    v["fixed_at"] = if a.state == "fixed" { json!(updated) } else { Value::Null };
    v["auto_dismissed_at"] = if a.state == "auto_dismissed" { json!(updated) } else { Value::Null };
    v
}

// ---------------------------------------------------------------------------------------------------------------
// Pagination

fn encode_query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An absolute URL on the fake's host for this request's path with its query, where `set` replaces (or adds)
/// parameters and `drop` removes them.
fn page_url(ctx: &Ctx<'_>, set: &[(&str, String)], drop: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !set.iter().any(|(s, _)| s == k) && !drop.contains(&k.as_str()))
        .cloned()
        .collect();
    pairs.extend(set.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", encode_query_value(k), encode_query_value(v))).collect();
    format!("{}{}?{}", ctx.base, ctx.path, query.join("&"))
}

fn per_page(ctx: &Ctx<'_>) -> usize {
    ctx.query("per_page").and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(30).min(100)
}

/// GitHub's page-number pagination: `per_page` (default 30, at most 100) and `page`, with a `Link` header of
/// `prev`, `next`, `last` and `first` as they apply.
pub(crate) fn paginate(ctx: &Ctx<'_>, items: Vec<Value>) -> (Vec<Value>, Option<String>) {
    let per_page = per_page(ctx);
    let page = ctx.query("page").and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let link = |p: usize, rel: &str| {
        format!(
            "<{}>; rel=\"{rel}\"",
            page_url(ctx, &[("per_page", per_page.to_string()), ("page", p.to_string())], &[])
        )
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link((page - 1).min(last), "prev"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    (slice, (!links.is_empty()).then(|| links.join(", ")))
}

pub(crate) fn with_link(reply: Reply, link: Option<String>) -> Reply {
    match link {
        Some(link) => reply.header("link", link),
        None => reply,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// App endpoints (App JWT)

fn create_installation_token(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let id = id_param(ctx, "installation_id")?;
    if !w.installations.contains_key(&id) {
        return Err(Reply::error(404, "Not Found"));
    }
    let body = ctx.body.cloned().unwrap_or(json!({}));
    let names: Vec<&str> = body["repositories"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let ids: Vec<u64> = body["repository_ids"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
    let installation_repos: Vec<&Repo> = w.repos.values().filter(|r| r.installation == id).collect();
    let mut scope: Option<BTreeSet<u64>> = None;
    if !names.is_empty() || !ids.is_empty() {
        let mut set = BTreeSet::new();
        for name in &names {
            match installation_repos.iter().find(|r| r.name.eq_ignore_ascii_case(name)) {
                Some(r) => set.insert(r.id),
                None => return Err(not_accessible()),
            };
        }
        for rid in &ids {
            if !installation_repos.iter().any(|r| r.id == *rid) {
                return Err(not_accessible());
            }
            set.insert(*rid);
        }
        scope = Some(set);
    }
    let mut permissions = default_permissions();
    if let Some(requested) = body["permissions"].as_object() {
        let granted = permissions.as_object().cloned().unwrap_or_default();
        for (k, v) in requested {
            let ok = matches!(
                (granted.get(k).and_then(Value::as_str), v.as_str()),
                (Some("write"), Some("read" | "write")) | (Some("read"), Some("read"))
            );
            if !ok {
                return Err(Reply::error(
                    422,
                    &format!("The permissions requested are not granted to this installation. ({k})"),
                ));
            }
        }
        permissions = Value::Object(requested.clone());
    }
    let repositories: Option<Vec<Value>> = scope.as_ref().map(|set| {
        let template = Spec::global().example("installation-token")["repositories"][0].clone();
        installation_repos
            .iter()
            .filter(|r| set.contains(&r.id))
            .map(|r| fill_repo(w, ctx.base, r, template.clone()))
            .collect()
    });
    let token = w.new_token();
    let expires_at = now() + chrono::Duration::hours(1);
    w.tokens.insert(token.clone(), Token { installation: id, expires_at, repository_ids: scope.clone() });
    let mut v = json!({
        "token": token, "expires_at": timestamp(expires_at), "permissions": permissions,
        "repository_selection": if scope.is_some() { "selected" } else { "all" }
    });
    if let Some(repositories) = repositories {
        v["repositories"] = Value::Array(repositories);
    }
    Ok(Reply::json(201, v))
}

fn not_accessible() -> Reply {
    Reply::error(
        422,
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
    )
}

fn get_installation(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let id = id_param(ctx, "installation_id")?;
    let inst = w.installations.get(&id).ok_or_else(|| Reply::error(404, "Not Found"))?;
    Ok(Reply::json(200, installation_json(w, ctx.base, inst)))
}

fn get_repo_installation(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let repo =
        w.repos.get(&repo_key(ctx.param("owner"), ctx.param("repo"))).ok_or_else(|| Reply::error(404, "Not Found"))?;
    let inst = &w.installations[&repo.installation];
    Ok(Reply::json(200, installation_json(w, ctx.base, inst)))
}

// ---------------------------------------------------------------------------------------------------------------
// Repository contents (installation token)

fn get_repo(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    Ok(Reply::json(200, repo_json(w, ctx.base, &w.repos[&key])))
}

fn get_commit(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let sha = resolve_commit(repo, ctx.param("ref")).ok_or_else(|| no_commit(ctx.param("ref")))?;
    Ok(Reply::json(200, commit_json(ctx.base, repo, &repo.commits[&sha])))
}

fn get_ref(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let reference = ctx.param("ref");
    let sha = catalog::ref_target(repo, reference).ok_or_else(|| Reply::error(404, "Not Found"))?;
    Ok(Reply::json(200, catalog::ref_json(ctx.base, repo, reference, &sha)))
}

fn get_tree(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let wanted = ctx.param("tree_sha");
    let tree = if repo.objects.trees.contains_key(wanted) {
        wanted.to_string()
    } else {
        let sha = resolve_commit(repo, wanted).ok_or_else(|| Reply::error(404, "Not Found"))?;
        repo.commits[&sha].tree.clone()
    };
    let api = format!("{}/repos/{}/{}", ctx.base, repo.owner, repo.name);
    // GitHub: any value of `recursive` (even "0" or "false") means recursive; leave it out for one level.
    let recursive = ctx.query("recursive").is_some();
    let mut entries = Vec::new();
    walk_tree(repo, &tree, "", recursive, &mut |path, e| {
        let mut item = json!({"path": path, "mode": e.api_mode(), "sha": e.sha});
        match e.kind {
            EntryKind::Blob => {
                item["type"] = json!("blob");
                item["size"] = json!(e.size.unwrap_or(0));
                item["url"] = json!(format!("{api}/git/blobs/{}", e.sha));
            }
            EntryKind::Tree => {
                item["type"] = json!("tree");
                item["url"] = json!(format!("{api}/git/trees/{}", e.sha));
            }
        }
        entries.push(item);
    });
    Ok(Reply::json(
        200,
        json!({"sha": tree, "url": format!("{api}/git/trees/{tree}"), "tree": entries, "truncated": false}),
    ))
}

/// Base64 as GitHub sends blob content: a newline after every 60 characters and at the end.
pub(crate) fn github_base64(content: &[u8]) -> String {
    let encoded = BASE64_STANDARD.encode(content);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

fn get_blob(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let sha = ctx.param("file_sha").to_lowercase();
    let content = repo.objects.blobs.get(&sha).ok_or_else(|| Reply::error(404, "Not Found"))?;
    Ok(Reply::json(
        200,
        json!({
            "sha": sha, "node_id": node_id("Blob", &sha), "size": content.len(),
            "url": format!("{}/repos/{}/{}/git/blobs/{sha}", ctx.base, repo.owner, repo.name),
            "content": github_base64(content), "encoding": "base64"
        }),
    ))
}

fn get_protection(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let branch = ctx.param("branch");
    match repo.protection.get(branch) {
        Some(protection) => {
            let mut v = protection.clone();
            if v.get("url").is_none() && v.is_object() {
                v["url"] =
                    json!(format!("{}/repos/{}/{}/branches/{branch}/protection", ctx.base, repo.owner, repo.name));
            }
            Ok(Reply::json(200, v))
        }
        None if !repo.branches.contains_key(branch) => Err(Reply::error(404, "Branch not found")),
        None => Err(Reply::error(404, "Branch not protected")),
    }
}

fn get_rules(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let rules = w.repos[&key].rules.get(ctx.param("branch")).cloned().unwrap_or_default();
    let (page, link) = paginate(ctx, rules);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

/// Cursor pagination, as GitHub's Dependabot alerts endpoints do today: `per_page` with `after`/`before` cursors and
/// a `Link` header with `next` (and `prev`) but no `last`; `page` is answered 400.
fn list_dependabot_alerts(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let Some(alerts) = &repo.dependabot else {
        return Err(Reply::error(403, "Dependabot alerts are disabled for this repository."));
    };
    if ctx.query("page").is_some() {
        return Err(Reply::error(400, "Pagination using the `page` parameter is not supported."));
    }
    let listed = |name: &str| -> Option<Vec<String>> {
        ctx.query(name).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    };
    let states = listed("state");
    let severities = listed("severity");
    let mut selected: Vec<&Alert> = alerts
        .iter()
        .filter(|a| states.as_ref().is_none_or(|s| s.contains(&a.state)))
        .filter(|a| severities.as_ref().is_none_or(|s| s.contains(&a.severity)))
        .collect();
    if ctx.query("direction") != Some("asc") {
        selected.reverse();
    }
    let cursor_of = |a: &Alert| BASE64_STANDARD.encode(format!("cursor:v2:{}", a.number));
    let position = |cursor: &str| selected.iter().position(|a| cursor_of(a) == cursor);
    let per_page = per_page(ctx);
    let (start, end) = if let Some(after) = ctx.query("after").filter(|c| !c.is_empty()) {
        let at = position(after).ok_or_else(|| Reply::error(400, "Invalid cursor."))?;
        (at + 1, (at + 1 + per_page).min(selected.len()))
    } else if let Some(before) = ctx.query("before").filter(|c| !c.is_empty()) {
        let at = position(before).ok_or_else(|| Reply::error(400, "Invalid cursor."))?;
        (at.saturating_sub(per_page), at)
    } else {
        (0, per_page.min(selected.len()))
    };
    let page: Vec<Value> = selected[start..end].iter().map(|a| alert_json(ctx.base, repo, a)).collect();
    let mut links = Vec::new();
    let cursors = ["after", "before"];
    if start > 0 {
        let url =
            page_url(ctx, &[("per_page", per_page.to_string()), ("before", cursor_of(selected[start]))], &cursors);
        links.push(format!("<{url}>; rel=\"prev\""));
    }
    if end < selected.len() && end > 0 {
        let url =
            page_url(ctx, &[("per_page", per_page.to_string()), ("after", cursor_of(selected[end - 1]))], &cursors);
        links.push(format!("<{url}>; rel=\"next\""));
    }
    Ok(with_link(Reply::json(200, Value::Array(page)), (!links.is_empty()).then(|| links.join(", "))))
}

// ---------------------------------------------------------------------------------------------------------------
// Check runs

fn take_annotations(body: &Value) -> Result<Vec<Value>, Reply> {
    let annotations = body["output"]["annotations"].as_array().cloned().unwrap_or_default();
    if annotations.len() > 50 {
        return Err(Reply::error(422, "Invalid request.\n\nOnly 50 annotations are allowed per request."));
    }
    Ok(annotations)
}

fn stored_annotation(full_name: &str, head_sha: &str, a: &Value) -> Value {
    let path = a["path"].as_str().unwrap_or_default();
    json!({
        "path": path, "start_line": a["start_line"], "end_line": a["end_line"],
        "start_column": a.get("start_column").cloned().unwrap_or(Value::Null),
        "end_column": a.get("end_column").cloned().unwrap_or(Value::Null),
        "annotation_level": a["annotation_level"], "title": a.get("title").cloned().unwrap_or(Value::Null),
        "message": a["message"], "raw_details": a.get("raw_details").cloned().unwrap_or(Value::Null),
        "blob_href": format!("https://github.com/{full_name}/blob/{head_sha}/{path}")
    })
}

/// Applies the fields of a create or update body (GitHub: a `conclusion` completes the run).
fn apply_check_run_fields(run: &mut CheckRun, body: &Value) -> Result<(), Reply> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(v) = text("name") {
        run.name = v;
    }
    if let Some(v) = text("details_url") {
        run.details_url = Some(v);
    }
    if let Some(v) = text("external_id") {
        run.external_id = Some(v);
    }
    if let Some(v) = text("started_at") {
        run.started_at = Some(v);
    }
    if let Some(v) = text("status") {
        run.status = v;
    }
    if let Some(v) = text("conclusion") {
        run.conclusion = Some(v);
        run.status = "completed".into();
    }
    if let Some(v) = text("completed_at") {
        run.completed_at = Some(v);
    }
    if run.status == "completed" {
        if run.conclusion.is_none() {
            return Err(Reply::error(
                422,
                "Invalid request.\n\n`conclusion` is required when `status` is `completed`.",
            ));
        }
        if run.completed_at.is_none() {
            run.completed_at = Some(timestamp(now()));
        }
    }
    if let Some(output) = body.get("output").filter(|o| o.is_object()) {
        let field = |k: &str| output.get(k).and_then(Value::as_str).map(str::to_string);
        run.title = field("title").or(run.title.take());
        run.summary = field("summary").or(run.summary.take());
        run.text = field("text").or(run.text.take());
    }
    if let Some(actions) = body.get("actions").and_then(Value::as_array) {
        run.actions = actions.clone();
    }
    Ok(())
}

fn create_check_run(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let head_sha = body["head_sha"].as_str().unwrap_or_default().to_string();
    let repo = &w.repos[&key];
    if !repo.commits.contains_key(&head_sha) {
        return Err(no_commit(&head_sha));
    }
    let (repo_id, full_name) = (repo.id, format!("{}/{}", repo.owner, repo.name));
    let annotations = take_annotations(&body)?;
    let id = w.id();
    let suite_id = match w.check_suites.get(&(repo_id, head_sha.clone())) {
        Some(id) => *id,
        None => {
            let suite = w.id();
            w.check_suites.insert((repo_id, head_sha.clone()), suite);
            suite
        }
    };
    let mut run = CheckRun {
        id,
        repo: key,
        suite_id,
        name: String::new(),
        head_sha: head_sha.clone(),
        status: "queued".into(),
        conclusion: None,
        started_at: None,
        completed_at: None,
        title: None,
        summary: None,
        text: None,
        details_url: None,
        external_id: None,
        actions: Vec::new(),
        annotations: Vec::new(),
        by_actions: false,
        by_app: None,
    };
    apply_check_run_fields(&mut run, &body)?;
    if run.started_at.is_none() {
        run.started_at = Some(timestamp(now()));
    }
    run.annotations = annotations.iter().map(|a| stored_annotation(&full_name, &head_sha, a)).collect();
    let v = check_run_json(w, ctx.base, &run);
    w.check_runs.insert(id, run);
    Ok(Reply::json(201, v))
}

fn find_check_run(w: &World, ctx: &Ctx<'_>, key: &(String, String)) -> Result<u64, Reply> {
    let id = id_param(ctx, "check_run_id")?;
    match w.check_runs.get(&id) {
        Some(run) if &run.repo == key => Ok(id),
        _ => Err(Reply::error(404, "Not Found")),
    }
}

fn update_check_run(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let id = find_check_run(w, ctx, &key)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let annotations = take_annotations(&body)?;
    let full_name = {
        let repo = &w.repos[&key];
        format!("{}/{}", repo.owner, repo.name)
    };
    let mut run = w.check_runs.remove(&id).expect("check run");
    let mut updated = run.clone();
    let result = apply_check_run_fields(&mut updated, &body);
    if result.is_ok() {
        let head_sha = updated.head_sha.clone();
        updated.annotations.extend(annotations.iter().map(|a| stored_annotation(&full_name, &head_sha, a)));
        run = updated;
    }
    let v = check_run_json(w, ctx.base, &run);
    w.check_runs.insert(id, run);
    result?;
    Ok(Reply::json(200, v))
}

fn get_check_run(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let id = find_check_run(w, ctx, &key)?;
    Ok(Reply::json(200, check_run_json(w, ctx.base, &w.check_runs[&id])))
}

fn list_annotations(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let id = find_check_run(w, ctx, &key)?;
    let (page, link) = paginate(ctx, w.check_runs[&id].annotations.clone());
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

/// The id of the app that made `run`.
fn run_app_id(w: &World, run: &CheckRun) -> u64 {
    match (&run.by_app, run.by_actions) {
        (Some(other), _) => other.id,
        (None, true) => security::ACTIONS_APP_ID,
        (None, false) => w.app_id,
    }
}

fn list_check_runs_for_ref(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let sha = resolve_commit(repo, ctx.param("ref")).ok_or_else(|| no_commit(ctx.param("ref")))?;
    let app_id = ctx.query("app_id").and_then(|v| v.parse::<u64>().ok());
    let mut runs: Vec<&CheckRun> = w
        .check_runs
        .values()
        .filter(|r| r.repo == key && r.head_sha == sha)
        .filter(|r| ctx.query("check_name").is_none_or(|n| n == r.name))
        .filter(|r| ctx.query("status").is_none_or(|s| s == r.status))
        .filter(|r| app_id.is_none_or(|id| id == run_app_id(w, r)))
        .collect();
    runs.reverse();
    if ctx.query("filter") != Some("all") {
        // `latest`: the most recent run of each name.
        let mut seen = BTreeSet::new();
        runs.retain(|r| seen.insert(r.name.clone()));
    }
    let total = runs.len();
    let items: Vec<Value> = runs.iter().map(|r| check_run_json(w, ctx.base, r)).collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, json!({"total_count": total, "check_runs": page})), link))
}

// ---------------------------------------------------------------------------------------------------------------
// Issue comments and pull requests

fn list_comments(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = issues::find_issue(w, ctx, &key)?;
    let items: Vec<Value> = w
        .comments
        .values()
        .filter(|c| c.repo == key && c.issue_number == number)
        .map(|c| comment_json(w, ctx.base, c))
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

fn create_comment(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = issues::find_issue(w, ctx, &key)?;
    let body = ctx.body.and_then(|b| b["body"].as_str()).unwrap_or_default().to_string();
    issues::check_lengths("IssueComment", None, Some(&body))?;
    let id = w.id();
    let now = now();
    if let Some(issue) = w.repos.get_mut(&key).and_then(|r| r.issues.get_mut(&number)) {
        issue.updated_at = now;
    }
    let at = timestamp(now);
    let user = format!("{APP_SLUG}[bot]");
    let comment = Comment { id, repo: key, issue_number: number, user, body, created_at: at.clone(), updated_at: at };
    let v = comment_json(w, ctx.base, &comment);
    w.comments.insert(id, comment);
    let location = v["url"].as_str().unwrap_or_default().to_string();
    Ok(Reply::json(201, v).header("location", location))
}

fn update_comment(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let id = id_param(ctx, "comment_id")?;
    let body = ctx.body.and_then(|b| b["body"].as_str()).unwrap_or_default().to_string();
    issues::check_lengths("IssueComment", None, Some(&body))?;
    match w.comments.get_mut(&id) {
        Some(c) if c.repo == key => {
            c.body = body;
            c.updated_at = timestamp(now());
        }
        _ => return Err(Reply::error(404, "Not Found")),
    }
    Ok(Reply::json(200, comment_json(w, ctx.base, &w.comments[&id])))
}

fn get_pull(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let number = id_param(ctx, "pull_number")?;
    let pull = repo.pulls.get(&number).ok_or_else(|| Reply::error(404, "Not Found"))?;
    Ok(Reply::json(200, catalog::full_pull_json(w, ctx.base, repo, pull)))
}

fn list_pulls(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let state = ctx.query("state").unwrap_or("open");
    let template = Spec::global().example("pull-request-simple-items")[0].clone();
    let items: Vec<Value> = repo
        .pulls
        .values()
        .rev()
        .filter(|p| state == "all" || p.state == state)
        .filter(|p| {
            ctx.query("head").is_none_or(|head| match head.split_once(':') {
                Some((owner, branch)) => owner.eq_ignore_ascii_case(&repo.owner) && branch == p.head_ref,
                None => head == p.head_ref,
            })
        })
        .filter(|p| ctx.query("base").is_none_or(|b| b == p.base_ref))
        .map(|p| pull_json(w, ctx.base, repo, p, template.clone()))
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

// ---------------------------------------------------------------------------------------------------------------
// Installations and their repositories

fn list_installations(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let since = ctx.query("since").and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let items: Vec<Value> = w
        .installations
        .values()
        .filter(|i| since.is_none_or(|s| i.created_at >= s))
        .map(|i| installation_json(w, ctx.base, i))
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

/// The repositories an installation token reaches (all of the installation's, or the token's selection), by full
/// name.
fn list_installation_repos(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let (installation, repository_ids) = match ctx.caller {
        Caller::Installation { id, repository_ids } => (*id, repository_ids),
        Caller::None => return Err(Reply::error(401, "Requires authentication")),
        Caller::App | Caller::Invalid(_) => return Err(Reply::error(401, "Bad credentials")),
        Caller::User { .. } => return Err(Reply::error(403, "Resource not accessible by user")),
    };
    let template = Spec::global().example("repository-paginated-2")["repositories"][0].clone();
    let items: Vec<Value> = w
        .repos
        .values()
        .filter(|r| r.installation == installation)
        .filter(|r| repository_ids.as_ref().is_none_or(|ids| ids.contains(&r.id)))
        .map(|r| {
            let mut v = fill_repo(w, ctx.base, r, template.clone());
            v["custom_properties"] = json!({});
            v
        })
        .collect();
    let total = items.len();
    let (page, link) = paginate(ctx, items);
    let selection = if repository_ids.is_some() { "selected" } else { "all" };
    Ok(with_link(
        Reply::json(200, json!({"total_count": total, "repository_selection": selection, "repositories": page})),
        link,
    ))
}
