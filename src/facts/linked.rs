//! Facts from linked tools (GitHub settings, alerts, Actions runs and tags; PagerDuty; Prometheus; `http` checks).
//! They come from outside the repository; when a tool is not configured the fact is missing and rules that need it
//! are `skipped`, never passed or failed.

use std::collections::BTreeMap;

/// A fact that may be unknown, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Fact<T> {
    Known(T),
    /// The tool is not configured (no token, no URL): rules needing it are `skipped`.
    NotConfigured(String),
    /// The tool is configured but did not answer usefully: rules needing it are `error`.
    Unavailable(String),
}

/// Protection of the default branch, from branch protection or repository rulesets, whichever is stricter.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BranchProtection {
    pub branch: String,
    pub protected: bool,
    pub required_approvals: u32,
    pub requires_status_checks: bool,
    pub requires_code_owner_reviews: bool,
}

/// Open Dependabot alerts by severity; `None` in the fact means alerts are disabled for the repository.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertCounts {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
}

impl AlertCounts {
    /// Counts severities `critical`, `high`, `medium` and `low`; others are not counted.
    pub fn of<'a>(severities: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts = Self::default();
        for severity in severities {
            match severity {
                "critical" => counts.critical += 1,
                "high" => counts.high += 1,
                "medium" => counts.medium += 1,
                "low" => counts.low += 1,
                _ => {}
            }
        }
        counts
    }
}

/// The PagerDuty service linked from the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OnCall {
    pub service_id: String,
    pub exists: bool,
    pub disabled: bool,
    pub escalation_levels: u32,
    /// Names of the people on call now.
    pub on_call_now: Vec<String>,
}

/// CI results on the default branch's head commit: the latest check run of every app but shipshape itself, and
/// the commit statuses other CI systems set (`GET .../commits/{ref}/status`, the latest per context).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CiStatus {
    pub branch: String,
    pub commit: String,
    /// Completed check runs that succeeded (or were neutral or skipped), and `success` statuses.
    pub passed: Vec<CiResult>,
    /// Check runs that failed, timed out, were cancelled or need action; `failure` and `error` statuses.
    pub failed: Vec<CiResult>,
    /// Check runs not completed yet; `pending` statuses.
    pub pending: Vec<CiResult>,
    /// shipshape's own check runs on the commit (`Production readiness`, `Catalog validation`): never counted, so
    /// the rule does not judge itself.
    #[serde(default)]
    pub ignored: Vec<String>,
    /// Why one of the two sources could not be read (the other one was); a failure in the other still decides.
    #[serde(default)]
    pub unread: Vec<String>,
}

/// One check run or commit status: its name (a check run's name, a status's context) and where it comes from (the
/// app that made the check run, or `commit status` and the host of its target URL).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CiResult {
    pub name: String,
    pub source: String,
}

/// An error GitHub reports in CODEOWNERS (`GET /repos/{owner}/{repo}/codeowners/errors`) at `commit`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeownersErrors {
    pub commit: String,
    pub errors: Vec<CodeownersError>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeownersError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub message: String,
}

/// The highest-versioned release tag (`v1.2.3`, `release-1.2`, ...; pre-releases left out) and its commit's date.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Release {
    pub tag: String,
    pub commit: String,
    pub date: chrono::DateTime<chrono::Utc>,
}

/// A Prometheus rule (`/api/v1/rules`) whose labels name the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PromRule {
    /// `alerting` or `recording`.
    pub kind: String,
    pub name: String,
    pub group: String,
    pub labels: std::collections::BTreeMap<String, String>,
    /// `ok`, `err` or `unknown`.
    pub health: String,
}

/// The answer of an `http` check's request: 2xx with a JSON body, or 404 (which the rule reports as a failure).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HttpAnswer {
    Json(serde_json::Value),
    NotFound,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkedFacts {
    pub branch_protection: Fact<BranchProtection>,
    /// Dependabot; `None` when disabled.
    pub vulnerability_alerts: Fact<Option<AlertCounts>>,
    /// Code scanning, by security severity; `None` when code scanning is not set up.
    #[serde(default = "github_not_configured")]
    pub code_scanning_alerts: Fact<Option<AlertCounts>>,
    /// Open secret scanning alerts; `None` when secret scanning is disabled.
    #[serde(default = "github_not_configured")]
    pub secret_scanning_alerts: Fact<Option<u32>>,
    #[serde(default = "github_not_configured")]
    pub ci: Fact<CiStatus>,
    #[serde(default = "github_not_configured")]
    pub codeowners_errors: Fact<CodeownersErrors>,
    /// The last release; `None` when the repository has no release tag. Read only for policies that ask.
    #[serde(default = "github_not_configured")]
    pub last_release: Fact<Option<Release>>,
    pub oncall: Fact<OnCall>,
    /// Prometheus rules naming the service.
    #[serde(default = "prometheus_not_configured")]
    pub prometheus_rules: Fact<Vec<PromRule>>,
    /// PromQL instant queries (rendered) and their first sample; `None` when the result is empty.
    #[serde(default)]
    pub promql: BTreeMap<String, Fact<Option<f64>>>,
    /// `http` checks' answers, by [`crate::policy::requests::HttpSpec::key`].
    #[serde(default)]
    pub http: BTreeMap<String, Fact<HttpAnswer>>,
}

pub const GITHUB_NOT_CONFIGURED: &str = "GitHub facts need SHIPSHAPE_GITHUB_TOKEN (or the GitHub App)";
pub const PAGERDUTY_NOT_CONFIGURED: &str = "PagerDuty is not configured (set SHIPSHAPE_PAGERDUTY_TOKEN)";
pub const PROMETHEUS_NOT_CONFIGURED: &str = "Prometheus is not configured (set SHIPSHAPE_PROMETHEUS_URL)";

fn github_not_configured<T>() -> Fact<T> {
    Fact::NotConfigured(GITHUB_NOT_CONFIGURED.into())
}

fn prometheus_not_configured<T>() -> Fact<T> {
    Fact::NotConfigured(PROMETHEUS_NOT_CONFIGURED.into())
}

impl LinkedFacts {
    /// No linked tool configured, as for `evaluate` without credentials. PagerDuty, Prometheus and `http` facts are
    /// filled per service by [`crate::providers::Providers`], GitHub facts by the App or `SHIPSHAPE_GITHUB_TOKEN`.
    pub fn none_configured() -> Self {
        Self {
            branch_protection: github_not_configured(),
            vulnerability_alerts: github_not_configured(),
            code_scanning_alerts: github_not_configured(),
            secret_scanning_alerts: github_not_configured(),
            ci: github_not_configured(),
            codeowners_errors: github_not_configured(),
            last_release: github_not_configured(),
            oncall: Fact::NotConfigured(PAGERDUTY_NOT_CONFIGURED.into()),
            prometheus_rules: prometheus_not_configured(),
            promql: BTreeMap::new(),
            http: BTreeMap::new(),
        }
    }
}
