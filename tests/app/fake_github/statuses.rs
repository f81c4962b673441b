//! CI results other systems report on a commit: commit statuses (`GET .../commits/{ref}/status`, the combined status
//! with the latest status of each context) and check runs made by GitHub Apps other than ours (Buildkite, CircleCI
//! Checks, ...).

use super::handlers::{Handled, app_json, paginate, rebase, repo_access, resolve_commit, with_link};
use super::*;

/// A status as set by [`FakeGitHub::set_commit_status`]; a later one of the same context replaces it.
pub(crate) struct CommitStatus {
    id: u64,
    sha: String,
    state: String,
    context: String,
    target_url: Option<String>,
    description: Option<String>,
    created_at: String,
}

/// Another GitHub App that makes check runs.
#[derive(Clone, Debug)]
pub(crate) struct OtherApp {
    pub id: u64,
    pub slug: String,
    pub name: String,
}

/// Answers the commit status endpoints; `None` for the others.
pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("GET", "/repos/{owner}/{repo}/commits/{ref}/status") => combined_status(w, ctx),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

/// GitHub's combined state: `failure` when a status failed or errored, `pending` when one is pending or there is
/// none, else `success`.
fn combined_state(states: &[&str]) -> &'static str {
    if states.iter().any(|s| *s == "failure" || *s == "error") {
        "failure"
    } else if states.is_empty() || states.contains(&"pending") {
        "pending"
    } else {
        "success"
    }
}

fn combined_status(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let sha = resolve_commit(repo, ctx.param("ref")).ok_or_else(|| Reply::error(404, "Not Found"))?;
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let example = Spec::global().example("combined-commit-status");
    let item_example = example["statuses"][0].clone();
    // The latest status of each context, newest first (as GitHub lists them).
    let mut latest: Vec<&CommitStatus> = Vec::new();
    for status in repo.commit_statuses.iter().rev().filter(|s| s.sha == sha) {
        if !latest.iter().any(|s| s.context == status.context) {
            latest.push(status);
        }
    }
    let states: Vec<&str> = latest.iter().map(|s| s.state.as_str()).collect();
    let state = combined_state(&states);
    let items: Vec<Value> = latest
        .iter()
        .map(|s| {
            let mut v = rebase(item_example.clone(), ctx.base, &full_name);
            v["id"] = json!(s.id);
            v["node_id"] = json!(super::handlers::node_id("StatusContext", s.id));
            v["url"] = json!(format!("{}/repos/{full_name}/statuses/{sha}", ctx.base));
            v["state"] = json!(s.state);
            v["context"] = json!(s.context);
            v["target_url"] = json!(s.target_url);
            v["description"] = json!(s.description);
            v["created_at"] = json!(s.created_at);
            v["updated_at"] = json!(s.created_at);
            v
        })
        .collect();
    let total = items.len();
    let (page, link) = paginate(ctx, items);
    let mut v = rebase(example, ctx.base, &full_name);
    v["state"] = json!(state);
    v["sha"] = json!(sha);
    v["total_count"] = json!(total);
    v["statuses"] = Value::Array(page);
    v["repository"]["id"] = json!(repo.id);
    v["repository"]["name"] = json!(repo.name);
    v["repository"]["full_name"] = json!(full_name);
    v["commit_url"] = json!(format!("{}/repos/{full_name}/commits/{sha}", ctx.base));
    v["url"] = json!(format!("{}/repos/{full_name}/commits/{sha}/status", ctx.base));
    Ok(with_link(Reply::json(200, v), link))
}

/// The `app` of a check run made by another GitHub App.
pub(crate) fn other_app_json(w: &World, base: &str, app: &OtherApp) -> Value {
    let mut v = app_json(w, base);
    v["id"] = json!(app.id);
    v["slug"] = json!(app.slug);
    v["client_id"] = json!(format!("Iv1.{}", app.slug));
    v["node_id"] = json!(super::handlers::node_id("App", app.id));
    v["name"] = json!(app.name);
    v["external_url"] = json!(format!("https://{}.example.com", app.slug));
    v["html_url"] = json!(format!("https://github.com/apps/{}", app.slug));
    v
}

impl FakeGitHub {
    /// Sets the status `context` of commit `sha` (as `POST /repos/{owner}/{repo}/statuses/{sha}` would): `state` is
    /// `error`, `failure`, `pending` or `success`; a later status of the same context replaces the earlier one.
    pub fn set_commit_status(
        &self,
        owner: &str,
        name: &str,
        sha: &str,
        context: &str,
        state: &str,
        target_url: Option<&str>,
    ) {
        assert!(["error", "failure", "pending", "success"].contains(&state), "{state:?}");
        let mut w = self.world();
        let id = w.id();
        let repo = w.repo_mut(owner, name);
        assert!(repo.commits.contains_key(sha), "fake GitHub: no commit {sha} in {owner}/{name}");
        repo.commit_statuses.push(CommitStatus {
            id,
            sha: sha.to_string(),
            state: state.to_string(),
            context: context.to_string(),
            target_url: target_url.map(str::to_string),
            description: Some(format!("{context}: {state}")),
            created_at: timestamp(now()),
        });
    }

    /// A check run `job` on `sha` by another GitHub App (`id`, `slug`, `name`): `conclusion` `None` while it runs.
    pub fn add_app_check_run(
        &self,
        owner: &str,
        name: &str,
        sha: &str,
        (id, slug, app_name): (u64, &str, &str),
        job: &str,
        conclusion: Option<&str>,
    ) {
        self.add_actions_run(owner, name, sha, job, conclusion);
        let mut w = self.world();
        let run = w.check_runs.values_mut().next_back().expect("the run just added");
        run.by_actions = false;
        run.by_app = Some(OtherApp { id, slug: slug.to_string(), name: app_name.to_string() });
        run.details_url = Some(format!("https://{slug}.example.com/{owner}/{name}/builds/{}", run.id));
    }
}
