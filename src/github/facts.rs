//! Linked-tool facts from GitHub: protection of the default branch (branch protection and repository rulesets), open
//! Dependabot, code scanning and secret scanning alerts, the CI results on the default branch's head (commit statuses
//! and check runs, see [`ci`]) and the errors GitHub finds in CODEOWNERS. "Not protected", "alerts disabled" and missing permissions are facts, not
//! failures of the evaluation. Every read is a conditional request: an unchanged setting costs a `304 Not Modified`, which GitHub does
//! not count against the rate limit.

use super::path::repo_api;
use crate::facts::{AlertCounts, BranchProtection, CodeownersError, CodeownersErrors, Fact, LinkedFacts, Release};
use crate::github::client::{GhError, Installation, ResponseCache, segment};
use serde::Deserialize;
use serde_json::Value;

mod ci;

/// What to read beyond the facts every scorecard uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wanted {
    /// The last release (tags and one commit): only when a policy has a `release_age` check.
    pub releases: bool,
    /// The App's id: its check runs on the default branch are not CI results (`None` for a token).
    pub own_app: Option<u64>,
}

/// Reads what the linked-tool rules need for `repo` (`owner/name`) with `branch` as the default branch, at `sha` when
/// known (CODEOWNERS errors are only read for a known commit).
///
/// A rate limit is not a fact about the repository: it fails the collection (`Transient`, with GitHub's wait), so the
/// evaluation is retried when the budget is back instead of recording the rules as `error`.
pub async fn collect(
    github: &Installation,
    repo: &str,
    branch: &str,
    sha: Option<&str>,
    wanted: Wanted,
    cache: &dyn ResponseCache,
) -> Result<LinkedFacts, GhError> {
    // Each read on the heap: seven request state machines side by side overflow a worker thread's stack otherwise.
    let (protection, alerts, code_scanning, secret_scanning, ci, codeowners, release) = tokio::join!(
        Box::pin(branch_protection(github, repo, branch, cache)),
        Box::pin(dependabot_alerts(github, repo, cache)),
        Box::pin(code_scanning_alerts(github, repo, cache)),
        Box::pin(secret_scanning_alerts(github, repo, cache)),
        Box::pin(ci::ci_status(github, repo, branch, wanted.own_app, cache)),
        Box::pin(codeowners_errors(github, repo, sha, cache)),
        Box::pin(last_release(github, repo, wanted.releases, cache)),
    );
    Ok(LinkedFacts {
        branch_protection: protection?,
        vulnerability_alerts: alerts?,
        code_scanning_alerts: code_scanning?,
        secret_scanning_alerts: secret_scanning?,
        ci: ci?,
        codeowners_errors: codeowners?,
        last_release: release?,
        ..LinkedFacts::none_configured()
    })
}

/// The version in a release tag's name: `v1.2.3`, `1.2`, `release-2.0.1`, `api/v3.1.0`; `None` for anything else,
/// pre-releases (`v2.0.0-rc.1`) included.
fn release_version(tag: &str) -> Option<(u64, u64, u64)> {
    let start = tag.find(|c: char| c.is_ascii_digit())?;
    let (prefix, version) = tag.split_at(start);
    if !(prefix.is_empty() || prefix.ends_with(['v', 'V', '-', '_', '/', '@'])) {
        return None;
    }
    let mut parts = version.split('.');
    let number = |p: Option<&str>| -> Option<u64> {
        let p = p?;
        (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit())).then(|| p.parse().ok()).flatten()
    };
    let major = number(parts.next())?;
    let minor = number(parts.next())?;
    let patch = match parts.next() {
        None => 0,
        some => number(some)?,
    };
    parts.next().is_none().then_some((major, minor, patch))
}

/// The highest-versioned release tag and the date of its commit: `GET .../git/matching-refs/tags`, then
/// `GET .../commits/{tag}` (which also resolves annotated tags to their commit).
async fn last_release(
    github: &Installation,
    repo: &str,
    wanted: bool,
    cache: &dyn ResponseCache,
) -> Result<Fact<Option<Release>>, GhError> {
    #[derive(Deserialize)]
    struct Ref {
        #[serde(rename = "ref")]
        name: String,
    }
    #[derive(Deserialize)]
    struct Commit {
        sha: String,
        commit: CommitDetail,
    }
    #[derive(Deserialize)]
    struct CommitDetail {
        committer: Option<Person>,
        author: Option<Person>,
    }
    #[derive(Deserialize)]
    struct Person {
        date: Option<chrono::DateTime<chrono::Utc>>,
    }
    if !wanted {
        return Ok(Fact::NotConfigured("the last release is not read: no rule of this scorecard asks for it".into()));
    }
    let refs = github
        .get_all_conditional::<Ref>(
            &format!("{}/git/matching-refs/tags", repo_api(repo)),
            "GET /repos/{owner}/{repo}/git/matching-refs/{ref}",
            cache,
        )
        .await;
    let refs = match refs {
        Err(e) if rate_limited(&e) => return Err(e),
        Err(e) => return Ok(Fact::Unavailable(format!("cannot list the release tags: {e}"))),
        Ok(refs) => refs,
    };
    let newest = refs
        .iter()
        .filter_map(|r| r.name.strip_prefix("refs/tags/"))
        .filter_map(|tag| release_version(tag).map(|v| (v, tag)))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)));
    let Some((_, tag)) = newest else { return Ok(Fact::Known(None)) };
    let commit = github
        .get_conditional::<Commit>(
            &format!("{}/commits/{}", repo_api(repo), super::path::segments(tag)),
            "GET /repos/{owner}/{repo}/commits/{ref}",
            cache,
        )
        .await;
    Ok(match commit {
        Err(e) if rate_limited(&e) => return Err(e),
        Err(e) => Fact::Unavailable(format!("cannot read the commit of release tag `{tag}`: {e}")),
        Ok(commit) => {
            let date = commit.commit.committer.and_then(|p| p.date).or(commit.commit.author.and_then(|p| p.date));
            match date {
                Some(date) => Fact::Known(Some(Release { tag: tag.to_string(), commit: commit.sha, date })),
                None => Fact::Unavailable(format!("the commit of release tag `{tag}` has no date")),
            }
        }
    })
}

/// A 403 that means "this feature is off for the repository" rather than "the App may not look".
fn feature_disabled(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["disabled", "not enabled", "advanced security must be enabled", "no analysis found"].iter().any(|s| m.contains(s))
}

/// Open alerts of one kind (`dependabot`, `code-scanning`, `secret-scanning`): `None` when the feature is off or not
/// set up for the repository (GitHub answers 404, or 403 saying so), unavailable naming `permission` when the App may
/// not read them. A rate limit fails the collection.
async fn open_alerts<T: serde::de::DeserializeOwned>(
    github: &Installation,
    repo: &str,
    kind: &str,
    endpoint: &'static str,
    (what, permission): (&str, &str),
    cache: &dyn ResponseCache,
) -> Result<Fact<Option<Vec<T>>>, GhError> {
    let alerts = github
        .get_all_conditional::<T>(&format!("{}/{kind}/alerts?state=open&per_page=100", repo_api(repo)), endpoint, cache)
        .await;
    Ok(match alerts {
        Err(e) if rate_limited(&e) => return Err(e),
        Ok(alerts) => Fact::Known(Some(alerts)),
        Err(GhError::NotFound { .. }) => Fact::Known(None),
        Err(GhError::Forbidden { message, .. }) if feature_disabled(&message) => Fact::Known(None),
        Err(GhError::Forbidden { message, .. }) => Fact::Unavailable(format!(
            "cannot read {what}: {message} (the App needs the {permission}: read permission)"
        )),
        Err(e) => Fact::Unavailable(format!("cannot read {what}: {e}")),
    })
}

fn map_known<T, U>(fact: Fact<Option<T>>, f: impl FnOnce(T) -> U) -> Fact<Option<U>> {
    match fact {
        Fact::Known(known) => Fact::Known(known.map(f)),
        Fact::NotConfigured(why) => Fact::NotConfigured(why),
        Fact::Unavailable(why) => Fact::Unavailable(why),
    }
}

async fn code_scanning_alerts(
    github: &Installation,
    repo: &str,
    cache: &dyn ResponseCache,
) -> Result<Fact<Option<AlertCounts>>, GhError> {
    #[derive(Deserialize)]
    struct Alert {
        rule: Rule,
    }
    #[derive(Deserialize)]
    struct Rule {
        #[serde(default)]
        security_severity_level: Option<String>,
    }
    let what = ("code scanning alerts", "Code scanning alerts");
    let alerts = open_alerts::<Alert>(
        github,
        repo,
        "code-scanning",
        "GET /repos/{owner}/{repo}/code-scanning/alerts",
        what,
        cache,
    );
    // Only security alerts count; code-quality findings have no security severity.
    Ok(map_known(alerts.await?, |alerts| {
        AlertCounts::of(alerts.iter().filter_map(|a| a.rule.security_severity_level.as_deref()))
    }))
}

async fn secret_scanning_alerts(
    github: &Installation,
    repo: &str,
    cache: &dyn ResponseCache,
) -> Result<Fact<Option<u32>>, GhError> {
    // 404: "Repository is public or secret scanning is disabled for the repository."
    let what = ("secret scanning alerts", "Secret scanning alerts");
    let endpoint = "GET /repos/{owner}/{repo}/secret-scanning/alerts";
    let alerts = open_alerts::<serde::de::IgnoredAny>(github, repo, "secret-scanning", endpoint, what, cache).await?;
    Ok(map_known(alerts, |alerts| alerts.len() as u32))
}

async fn codeowners_errors(
    github: &Installation,
    repo: &str,
    sha: Option<&str>,
    cache: &dyn ResponseCache,
) -> Result<Fact<CodeownersErrors>, GhError> {
    #[derive(Deserialize)]
    struct Listing {
        errors: Vec<Error>,
    }
    #[derive(Deserialize)]
    struct Error {
        line: usize,
        column: usize,
        kind: String,
        #[serde(default)]
        message: Option<String>,
        path: String,
    }
    let Some(sha) = sha else {
        return Ok(Fact::NotConfigured(
            "CODEOWNERS errors are read for a known commit that has a CODEOWNERS file only".into(),
        ));
    };
    let listing = github
        .get_conditional::<Listing>(
            &format!("{}/codeowners/errors?ref={}", repo_api(repo), segment(sha)),
            "GET /repos/{owner}/{repo}/codeowners/errors",
            cache,
        )
        .await;
    Ok(match listing {
        Err(e) if rate_limited(&e) => return Err(e),
        Ok(listing) => Fact::Known(CodeownersErrors {
            commit: sha.to_string(),
            errors: listing
                .errors
                .into_iter()
                .map(|e| CodeownersError {
                    message: e.message.unwrap_or_else(|| e.kind.clone()),
                    path: e.path,
                    line: e.line,
                    column: e.column,
                    kind: e.kind,
                })
                .collect(),
        }),
        // No CODEOWNERS file at that commit (our own check says so), or a commit GitHub does not have.
        Err(GhError::NotFound { .. }) => Fact::Known(CodeownersErrors { commit: sha.to_string(), errors: Vec::new() }),
        Err(e) => Fact::Unavailable(format!("cannot read GitHub's CODEOWNERS errors: {e}")),
    })
}

/// A rate-limited answer (GitHub said when to come back).
fn rate_limited(e: &GhError) -> bool {
    matches!(e, GhError::Transient { retry_after: Some(_), .. })
}

async fn branch_protection(
    github: &Installation,
    repo: &str,
    branch: &str,
    cache: &dyn ResponseCache,
) -> Result<Fact<BranchProtection>, GhError> {
    let b = super::path::segments(branch);
    let protection_path = format!("{}/branches/{b}/protection", repo_api(repo));
    let rules_path = format!("{}/rules/branches/{b}?per_page=100", repo_api(repo));
    let (classic, rules) = tokio::join!(
        github.get_conditional::<Value>(
            &protection_path,
            "GET /repos/{owner}/{repo}/branches/{branch}/protection",
            cache
        ),
        github.get_conditional::<Vec<Value>>(&rules_path, "GET /repos/{owner}/{repo}/rules/branches/{branch}", cache),
    );
    let mut facts = BranchProtection { branch: branch.to_string(), ..BranchProtection::default() };
    for result in [classic.as_ref().err(), rules.as_ref().err()].into_iter().flatten() {
        if rate_limited(result) {
            return Err(result.clone());
        }
    }
    match classic {
        Ok(p) => {
            facts.protected = true;
            if let Some(reviews) = p.get("required_pull_request_reviews").filter(|r| !r.is_null()) {
                facts.required_approvals = reviews["required_approving_review_count"].as_u64().unwrap_or(0) as u32;
                facts.requires_code_owner_reviews = reviews["require_code_owner_reviews"].as_bool().unwrap_or(false);
            }
            facts.requires_status_checks = p.get("required_status_checks").is_some_and(|c| !c.is_null());
        }
        Err(GhError::NotFound { .. }) => {} // "Branch not protected" (or no such branch): rulesets may still apply
        Err(GhError::Forbidden { message, .. }) => {
            return Ok(Fact::Unavailable(format!(
                "cannot read branch protection: {message} (the App needs the Administration: read permission)"
            )));
        }
        Err(e) => return Ok(Fact::Unavailable(format!("cannot read branch protection: {e}"))),
    }
    match rules {
        Ok(rules) => merge_rules(&mut facts, &rules),
        Err(GhError::NotFound { .. }) => {}
        Err(e) => return Ok(Fact::Unavailable(format!("cannot read repository rulesets: {e}"))),
    }
    Ok(Fact::Known(facts))
}

/// Rulesets add to branch protection; the stricter setting wins.
fn merge_rules(facts: &mut BranchProtection, rules: &[Value]) {
    for rule in rules {
        let parameters = &rule["parameters"];
        match rule["type"].as_str() {
            Some("pull_request") => {
                facts.protected = true;
                let approvals = parameters["required_approving_review_count"].as_u64().unwrap_or(0) as u32;
                facts.required_approvals = facts.required_approvals.max(approvals);
                facts.requires_code_owner_reviews |= parameters["require_code_owner_review"].as_bool().unwrap_or(false);
            }
            Some("required_status_checks") => {
                facts.protected = true;
                facts.requires_status_checks = true;
            }
            Some("deletion" | "non_fast_forward" | "update" | "required_linear_history" | "required_signatures") => {
                facts.protected = true;
            }
            _ => {}
        }
    }
}

async fn dependabot_alerts(
    github: &Installation,
    repo: &str,
    cache: &dyn ResponseCache,
) -> Result<Fact<Option<AlertCounts>>, GhError> {
    #[derive(Deserialize)]
    struct Alert {
        #[serde(default)]
        security_advisory: Option<Severity>,
        #[serde(default)]
        security_vulnerability: Option<Severity>,
    }
    #[derive(Deserialize)]
    struct Severity {
        severity: String,
    }
    let what = ("Dependabot alerts", "Dependabot alerts");
    let alerts =
        open_alerts::<Alert>(github, repo, "dependabot", "GET /repos/{owner}/{repo}/dependabot/alerts", what, cache);
    /// Dependabot says `moderate` for medium; an alert without a severity counts as low.
    fn severity(alert: &Alert) -> &str {
        let given = alert.security_advisory.as_ref().or(alert.security_vulnerability.as_ref());
        match given.map(|s| s.severity.as_str()) {
            Some("moderate") => "medium",
            Some(level @ ("critical" | "high" | "medium")) => level,
            _ => "low",
        }
    }
    Ok(map_known(alerts.await?, |alerts| AlertCounts::of(alerts.iter().map(severity))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn release_versions_are_read_from_tag_names() {
        assert_eq!(release_version("v1.2.3"), Some((1, 2, 3)));
        assert_eq!(release_version("1.10"), Some((1, 10, 0)));
        assert_eq!(release_version("release-2.0.1"), Some((2, 0, 1)));
        assert_eq!(release_version("api/v3.1.0"), Some((3, 1, 0)));
        assert_eq!(release_version("payments@4.0.0"), Some((4, 0, 0)));
        for not_a_release in ["v2.0.0-rc.1", "nightly", "v1", "build42.1", "v1.2.3.4", "v1..2", ""] {
            assert_eq!(release_version(not_a_release), None, "{not_a_release}");
        }
        assert!(release_version("v1.10.0") > release_version("v1.9.9"));
    }

    #[test]
    fn rulesets_make_protection_stricter() {
        let mut facts = BranchProtection { branch: "main".into(), required_approvals: 1, ..Default::default() };
        merge_rules(
            &mut facts,
            &[
                json!({"type": "pull_request", "parameters": {"required_approving_review_count": 2, "require_code_owner_review": true}}),
                json!({"type": "required_status_checks", "parameters": {"required_status_checks": []}}),
                json!({"type": "creation"}),
            ],
        );
        assert!(facts.protected && facts.requires_status_checks && facts.requires_code_owner_reviews);
        assert_eq!(facts.required_approvals, 2);
    }
}
