//! Linked-tool facts from GitHub: protection of the base branch (branch protection and repository rulesets) and open
//! Dependabot alerts. "Not protected", "alerts disabled" and missing permissions are facts, not failures of the
//! evaluation. Every read is a conditional request: an unchanged setting costs a `304 Not Modified`, which GitHub does
//! not count against the rate limit.

use crate::facts::{AlertCounts, BranchProtection, Fact, LinkedFacts};
use crate::github::client::{GhError, Installation, ResponseCache, segment};
use serde::Deserialize;
use serde_json::Value;

/// Reads what the linked-tool rules need for `repo` (`owner/name`) with `branch` as the protected branch.
///
/// A rate limit is not a fact about the repository: it fails the collection (`Transient`, with GitHub's wait), so the
/// evaluation is retried when the budget is back instead of recording the rules as `error`.
pub async fn collect(
    github: &Installation,
    repo: &str,
    branch: &str,
    cache: &dyn ResponseCache,
) -> Result<LinkedFacts, GhError> {
    let (protection, alerts) =
        tokio::join!(branch_protection(github, repo, branch, cache), dependabot_alerts(github, repo, cache));
    Ok(LinkedFacts {
        branch_protection: protection?,
        vulnerability_alerts: alerts?,
        oncall: Fact::NotConfigured("PagerDuty is not configured (set SHIPSHAPE_PAGERDUTY_TOKEN)".into()),
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
    let b = segment(branch);
    let protection_path = format!("/repos/{repo}/branches/{b}/protection");
    let rules_path = format!("/repos/{repo}/rules/branches/{b}?per_page=100");
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

async fn dependabot_alerts(
    github: &Installation,
    repo: &str,
    cache: &dyn ResponseCache,
) -> Result<Fact<Option<AlertCounts>>, GhError> {
    let alerts = github
        .get_all_conditional::<Alert>(
            &format!("/repos/{repo}/dependabot/alerts?state=open&per_page=100"),
            "GET /repos/{owner}/{repo}/dependabot/alerts",
            cache,
        )
        .await;
    Ok(match alerts {
        Err(e) if rate_limited(&e) => return Err(e),
        Ok(alerts) => {
            let mut counts = AlertCounts::default();
            for alert in alerts {
                let severity = alert.security_advisory.or(alert.security_vulnerability).map(|s| s.severity);
                match severity.as_deref() {
                    Some("critical") => counts.critical += 1,
                    Some("high") => counts.high += 1,
                    Some("medium" | "moderate") => counts.medium += 1,
                    _ => counts.low += 1,
                }
            }
            Fact::Known(Some(counts))
        }
        Err(GhError::Forbidden { message, .. }) if message.to_ascii_lowercase().contains("disabled") => {
            Fact::Known(None)
        }
        Err(GhError::Forbidden { message, .. }) => Fact::Unavailable(format!(
            "cannot read Dependabot alerts: {message} (the App needs the Dependabot alerts: read permission)"
        )),
        Err(GhError::NotFound { .. }) => Fact::Known(None),
        Err(e) => Fact::Unavailable(format!("cannot read Dependabot alerts: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
