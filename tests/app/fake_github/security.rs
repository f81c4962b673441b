//! Security and delivery facts: code scanning and secret scanning alerts, the errors GitHub finds in CODEOWNERS,
//! check runs by GitHub Actions (another app than ours) on a commit, and tags (`git/matching-refs`).

use super::handlers::{Handled, app_json, paginate, rebase, repo_access, resolve_commit, with_link};
use super::*;

/// A repository's code scanning setup.
#[derive(Clone, Debug, Default)]
pub enum CodeScanningState<'a> {
    /// No analysis uploaded yet: `GET .../code-scanning/alerts` answers 404 "no analysis found".
    #[default]
    NotSetUp,
    /// GitHub Advanced Security is off: 403.
    Disabled,
    /// Alerts as `(security severity, state)`: severity `low`/`medium`/`high`/`critical` (or `none` for a
    /// code-quality finding), state `open`/`dismissed`/`fixed`. Numbered 1, 2, ... in this order.
    Alerts(Vec<(&'a str, &'a str)>),
}

pub(crate) enum CodeScanning {
    NotSetUp,
    Disabled,
    Alerts(Vec<(String, String)>),
}

/// Answers the security and delivery endpoints; `None` for the others.
pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("GET", "/repos/{owner}/{repo}/code-scanning/alerts") => list_code_scanning_alerts(w, ctx),
        ("GET", "/repos/{owner}/{repo}/secret-scanning/alerts") => list_secret_scanning_alerts(w, ctx),
        ("GET", "/repos/{owner}/{repo}/codeowners/errors") => codeowners_errors(w, ctx),
        ("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}") => matching_refs(w, ctx),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

fn list_code_scanning_alerts(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let alerts = match &repo.code_scanning {
        CodeScanning::NotSetUp => return Err(Reply::error(404, "no analysis found")),
        CodeScanning::Disabled => {
            return Err(Reply::error(
                403,
                "Advanced Security must be enabled for this repository to use code scanning.",
            ));
        }
        CodeScanning::Alerts(alerts) => alerts,
    };
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let example = Spec::global().example("code-scanning-alert-items")[0].clone();
    let items: Vec<Value> = alerts
        .iter()
        .enumerate()
        .filter(|(_, (_, state))| ctx.query("state").is_none_or(|s| s == state))
        .map(|(i, (severity, state))| {
            let number = i as u64 + 1;
            let mut v = rebase(example.clone(), ctx.base, &full_name);
            v["number"] = json!(number);
            v["state"] = json!(state);
            v["url"] = json!(format!("{}/repos/{full_name}/code-scanning/alerts/{number}", ctx.base));
            v["html_url"] = json!(format!("https://github.com/{full_name}/code-scanning/{number}"));
            v["rule"]["security_severity_level"] = if severity == "none" { Value::Null } else { json!(severity) };
            v["fixed_at"] = if state == "fixed" { json!("2026-11-01T00:00:00Z") } else { Value::Null };
            v
        })
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

fn list_secret_scanning_alerts(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let Some(states) = &repo.secret_scanning else {
        return Err(Reply::error(404, "Secret scanning is disabled on this repository."));
    };
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let example = Spec::global().example("secret-scanning-alert-list")[0].clone();
    let items: Vec<Value> = states
        .iter()
        .enumerate()
        .filter(|(_, state)| ctx.query("state").is_none_or(|s| s == state.as_str()))
        .map(|(i, state)| {
            let number = i as u64 + 1;
            let mut v = rebase(example.clone(), ctx.base, &full_name);
            v["number"] = json!(number);
            v["state"] = json!(state);
            v["url"] = json!(format!("{}/repos/{full_name}/secret-scanning/alerts/{number}", ctx.base));
            if state == "open" {
                for field in ["resolution", "resolved_at", "resolved_by", "resolution_comment"] {
                    if v.get(field).is_some() {
                        v[field] = Value::Null;
                    }
                }
            }
            v
        })
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

/// `{"errors": [...]}` as set by [`FakeGitHub::set_codeowners_errors`] when the commit has a CODEOWNERS file where
/// GitHub looks for one; 404 without one (or for an unknown ref).
fn codeowners_errors(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let reference = ctx.query("ref").unwrap_or(&repo.default_branch);
    let sha = resolve_commit(repo, reference).ok_or_else(|| Reply::error(404, "Not Found"))?;
    let tree = &repo.commits[&sha].tree;
    let found = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]
        .iter()
        .any(|path| super::git::lookup(&repo.objects, tree, path).is_some());
    if !found {
        return Err(Reply::error(404, "Not Found"));
    }
    Ok(Reply::json(200, json!({"errors": repo.codeowners_errors})))
}

pub(crate) const ACTIONS_APP_ID: u64 = 15368;

/// Every branch and tag whose full name starts with `refs/{ref}`, by name, as `git-ref` objects.
fn matching_refs(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let prefix = format!("refs/{}", ctx.param("ref"));
    let mut refs: Vec<(String, String)> = repo
        .branches
        .iter()
        .map(|(b, sha)| (format!("heads/{b}"), sha.clone()))
        .chain(repo.other_refs.iter().filter_map(|(r, sha)| Some((r.strip_prefix("refs/")?.to_string(), sha.clone()))))
        .filter(|(r, _)| format!("refs/{r}").starts_with(&prefix))
        .collect();
    refs.sort();
    let items: Vec<Value> = refs.iter().map(|(r, sha)| super::catalog::ref_json(ctx.base, repo, r, sha)).collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

/// The `app` of a check run made by GitHub Actions.
pub(crate) fn actions_app_json(w: &World, base: &str) -> Value {
    let mut app = app_json(w, base);
    app["id"] = json!(ACTIONS_APP_ID);
    app["slug"] = json!("github-actions");
    app["client_id"] = json!("Iv1.actions");
    app["node_id"] = json!("MDM6QXBwMTUzNjg=");
    app["name"] = json!("GitHub Actions");
    app["external_url"] = json!("https://help.github.com/en/actions");
    app["html_url"] = json!("https://github.com/apps/github-actions");
    app
}

impl FakeGitHub {
    /// A lightweight tag `tag` on commit `sha`.
    pub fn add_tag(&self, owner: &str, name: &str, tag: &str, sha: &str) {
        let mut w = self.world();
        let repo = w.repo_mut(owner, name);
        assert!(repo.commits.contains_key(sha), "fake GitHub: no commit {sha} in {owner}/{name}");
        repo.other_refs.insert(format!("refs/tags/{tag}"), sha.to_string());
    }

    /// A token that reads every repository of `installation` for a day, as a personal access token or a CI token
    /// would (what `evaluate` uses with `SHIPSHAPE_GITHUB_TOKEN`).
    pub fn read_token(&self, installation: u64) -> String {
        let mut w = self.world();
        let token = format!("ghp_fake{}", w.id());
        let expires_at = now() + chrono::Duration::days(1);
        w.tokens.insert(token.clone(), Token { installation, expires_at, repository_ids: None });
        token
    }

    pub fn set_code_scanning(&self, owner: &str, name: &str, state: CodeScanningState<'_>) {
        let mut w = self.world();
        w.repo_mut(owner, name).code_scanning = match state {
            CodeScanningState::NotSetUp => CodeScanning::NotSetUp,
            CodeScanningState::Disabled => CodeScanning::Disabled,
            CodeScanningState::Alerts(alerts) => CodeScanning::Alerts(
                alerts
                    .iter()
                    .map(|(severity, state)| {
                        assert!(["none", "low", "medium", "high", "critical"].contains(severity), "{severity:?}");
                        assert!(["open", "dismissed", "fixed"].contains(state), "{state:?}");
                        (severity.to_string(), state.to_string())
                    })
                    .collect(),
            ),
        };
    }

    /// Secret scanning off (`None`) or on with alerts in these states (`open`, `resolved`).
    pub fn set_secret_scanning(&self, owner: &str, name: &str, alerts: Option<&[&str]>) {
        let mut w = self.world();
        w.repo_mut(owner, name).secret_scanning = alerts.map(|a| {
            a.iter()
                .map(|s| {
                    assert!(["open", "resolved"].contains(s), "{s:?}");
                    s.to_string()
                })
                .collect()
        });
    }

    /// What `GET .../codeowners/errors` lists (GitHub's `codeowners-errors` items) for any commit with a CODEOWNERS.
    pub fn set_codeowners_errors(&self, owner: &str, name: &str, errors: Vec<Value>) {
        self.world().repo_mut(owner, name).codeowners_errors = errors;
    }

    /// A GitHub Actions check run `job` on `sha`: `conclusion` `None` while it runs.
    pub fn add_actions_run(&self, owner: &str, name: &str, sha: &str, job: &str, conclusion: Option<&str>) {
        let mut w = self.world();
        let key = repo_key(owner, name);
        let id = w.id();
        let suite_id = w.id();
        let at = timestamp(now());
        w.check_runs.insert(
            id,
            CheckRun {
                id,
                repo: key,
                suite_id,
                name: job.to_string(),
                head_sha: sha.to_string(),
                status: if conclusion.is_some() { "completed" } else { "in_progress" }.to_string(),
                conclusion: conclusion.map(str::to_string),
                started_at: Some(at.clone()),
                completed_at: conclusion.map(|_| at),
                title: None,
                summary: None,
                text: None,
                details_url: Some(format!("https://github.com/{owner}/{name}/actions/runs/{id}")),
                external_id: None,
                actions: Vec::new(),
                annotations: Vec::new(),
                by_actions: true,
                by_app: None,
            },
        );
    }
}
