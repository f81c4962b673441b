//! CI results on the default branch's head: the commit statuses other CI systems set (CircleCI, Jenkins, Buildkite,
//! GitLab mirrors, ...: `GET .../commits/{ref}/status`) and the latest check run of every app (GitHub Actions and
//! the others), except shipshape's own, which would make the rule judge itself.
//!
//! Two requests when nothing is paged: the combined status first (it names the commit the branch points at), then
//! that commit's check runs, so both describe the same commit even while the branch moves.

use super::{rate_limited, repo_api};
use crate::facts::{CiResult, CiStatus, Fact};
use crate::github::client::{GhError, Installation, ResponseCache, segment};
use serde::Deserialize;

/// Pages of commit statuses read at most (100 each; GitHub keeps the latest per context).
const MAX_STATUS_PAGES: u64 = 10;

/// Check runs with these names are shipshape's own, whoever runs it (the App, or another installation of it).
const OWN_CHECKS: [&str; 2] = [crate::app::check_run::NAME, crate::app::catalog_review::VALIDATION_NAME];

#[derive(Deserialize)]
struct Combined {
    sha: String,
    total_count: u64,
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    state: String,
    context: String,
    #[serde(default)]
    target_url: Option<String>,
}

#[derive(Deserialize)]
struct Run {
    name: String,
    head_sha: String,
    status: String,
    conclusion: Option<String>,
    app: Option<App>,
}

#[derive(Deserialize)]
struct App {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// The CI results on the head of `branch`. `own_app`: the App's id, whose check runs are never counted.
pub(super) async fn ci_status(
    github: &Installation,
    repo: &str,
    branch: &str,
    own_app: Option<u64>,
    cache: &dyn ResponseCache,
) -> Result<Fact<CiStatus>, GhError> {
    let mut ci = CiStatus { branch: branch.to_string(), ..CiStatus::default() };
    let statuses = match combined_status(github, repo, branch, cache).await {
        Err(e) if rate_limited(&e) => return Err(e),
        Err(GhError::NotFound { .. }) => {
            return Ok(Fact::Unavailable(format!(
                "cannot read the CI results of `{branch}`: the branch was not found"
            )));
        }
        Err(GhError::Forbidden { message, .. }) => Err(format!(
            "cannot read the commit statuses of `{branch}`: {message} (the App needs the Commit statuses: read \
             permission)"
        )),
        Err(e) => Err(format!("cannot read the commit statuses of `{branch}`: {e}")),
        Ok(combined) => Ok(combined),
    };
    // The check runs of the commit the statuses describe; of the branch when the statuses could not be read.
    let at = statuses.as_ref().map(|c| segment(&c.sha)).unwrap_or_else(|_| super::super::path::segments(branch));
    let runs = github
        .get_all_in_conditional::<Run>(
            &format!("{}/commits/{at}/check-runs?filter=latest&per_page=100", repo_api(repo)),
            "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
            "check_runs",
            cache,
        )
        .await;
    let runs = match runs {
        Err(e) if rate_limited(&e) => return Err(e),
        Ok(runs) => Ok(runs),
        Err(GhError::Forbidden { message, .. }) => Err(format!(
            "cannot read the check runs of `{branch}`: {message} (the App needs the Checks: read permission)"
        )),
        Err(e) => Err(format!("cannot read the check runs of `{branch}`: {e}")),
    };
    if let (Err(statuses), Err(runs)) = (&statuses, &runs) {
        return Ok(Fact::Unavailable(format!("{statuses}; {runs}")));
    }
    match statuses {
        Ok(combined) => add_statuses(&mut ci, combined),
        Err(why) => ci.unread.push(why),
    }
    match runs {
        Ok(runs) => add_runs(&mut ci, runs, own_app),
        Err(why) => ci.unread.push(why),
    }
    for list in [&mut ci.passed, &mut ci.failed, &mut ci.pending] {
        list.sort_by(|a, b| (&a.source, &a.name).cmp(&(&b.source, &b.name)));
    }
    Ok(Fact::Known(ci))
}

/// Every commit status of `branch`'s head (the latest per context), at most [`MAX_STATUS_PAGES`] pages.
async fn combined_status(
    github: &Installation,
    repo: &str,
    branch: &str,
    cache: &dyn ResponseCache,
) -> Result<Combined, GhError> {
    let path = format!("{}/commits/{}/status?per_page=100", repo_api(repo), super::super::path::segments(branch));
    let endpoint = "GET /repos/{owner}/{repo}/commits/{ref}/status";
    let mut combined: Combined = github.get_conditional(&path, endpoint, cache).await?;
    let pages = combined.total_count.div_ceil(100).min(MAX_STATUS_PAGES);
    for page in 2..=pages {
        // Later pages by commit, not by branch: the same commit as the first page.
        let path = format!("{}/commits/{}/status?per_page=100&page={page}", repo_api(repo), segment(&combined.sha));
        let next: Combined = github.get_conditional(&path, endpoint, cache).await?;
        if next.statuses.is_empty() {
            break;
        }
        combined.statuses.extend(next.statuses);
    }
    Ok(combined)
}

fn add_statuses(ci: &mut CiStatus, combined: Combined) {
    ci.commit = combined.sha;
    for status in combined.statuses {
        if OWN_CHECKS.contains(&status.context.as_str()) {
            ci.ignored.push(status.context);
            continue;
        }
        let source = match status.target_url.as_deref().and_then(host) {
            Some(host) => format!("commit status from {host}"),
            None => "commit status".to_string(),
        };
        let result = CiResult { name: status.context, source };
        match status.state.as_str() {
            "success" => ci.passed.push(result),
            "pending" => ci.pending.push(result),
            _ => ci.failed.push(result), // `failure`, `error`
        }
    }
}

fn add_runs(ci: &mut CiStatus, runs: Vec<Run>, own_app: Option<u64>) {
    for run in runs {
        let app = run.app.as_ref();
        let ours = own_app.is_some_and(|id| app.and_then(|a| a.id) == Some(id));
        if ours || OWN_CHECKS.contains(&run.name.as_str()) {
            ci.ignored.push(run.name);
            continue;
        }
        if ci.commit.is_empty() {
            ci.commit = run.head_sha;
        }
        let source =
            app.and_then(|a| a.name.clone().or_else(|| a.slug.clone())).unwrap_or_else(|| "a GitHub App".to_string());
        let result = CiResult { name: run.name, source };
        match (run.status.as_str(), run.conclusion.as_deref()) {
            ("completed", Some("success" | "neutral" | "skipped")) => ci.passed.push(result),
            ("completed", _) => ci.failed.push(result),
            _ => ci.pending.push(result),
        }
    }
    ci.ignored.sort();
    ci.ignored.dedup();
}

/// The host of a status's target URL (never its user information, which may hold a credential).
fn host(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    uri.scheme()?;
    uri.host().map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_names_the_host_of_its_target_url_and_nothing_more() {
        assert_eq!(host("https://app.circleci.com/pipelines/gh/acme/payments/42").as_deref(), Some("app.circleci.com"));
        assert_eq!(
            host("https://ci:s3cret@Jenkins.acme.dev:8443/job/payments/7/").as_deref(),
            Some("jenkins.acme.dev")
        );
        assert_eq!(host("not a url"), None);
        assert_eq!(host("/relative/path"), None);
    }

    #[test]
    fn own_check_runs_are_ignored_by_name_and_by_app() {
        let run = |name: &str, app: u64, conclusion: &str| Run {
            name: name.into(),
            head_sha: "c0ffee".into(),
            status: "completed".into(),
            conclusion: Some(conclusion.into()),
            app: Some(App { id: Some(app), slug: None, name: Some(format!("app {app}")) }),
        };
        let mut ci = CiStatus::default();
        let runs = vec![
            run("Production readiness", 999, "failure"),
            run("Catalog validation", 999, "failure"),
            run("shipshape (renamed)", 7, "failure"),
            run("build", 15368, "success"),
            run("deploy-preview", 42, "action_required"),
        ];
        add_runs(&mut ci, runs, Some(7));
        assert_eq!(ci.ignored, ["Catalog validation", "Production readiness", "shipshape (renamed)"]);
        assert_eq!(ci.passed, [CiResult { name: "build".into(), source: "app 15368".into() }]);
        assert_eq!(ci.failed, [CiResult { name: "deploy-preview".into(), source: "app 42".into() }]);
        assert_eq!(ci.commit, "c0ffee");
    }
}
