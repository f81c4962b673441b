//! Facts from linked tools (GitHub settings and alerts, PagerDuty). They come from outside the repository; when a
//! tool is not configured the fact is missing and rules that need it are `skipped`, never passed or failed.

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

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkedFacts {
    pub branch_protection: Fact<BranchProtection>,
    pub vulnerability_alerts: Fact<Option<AlertCounts>>,
    pub oncall: Fact<OnCall>,
}

impl LinkedFacts {
    /// What `evaluate` knows of linked tools before asking them, given which credentials are set. Reading GitHub
    /// from the command line is not built yet, so with a token the GitHub rules are still skipped, saying so rather
    /// than asking for a variable that is already set. PagerDuty facts are read per service (`providers`).
    pub fn for_cli(github_token_set: bool) -> Self {
        let mut facts = Self::none_configured();
        if github_token_set {
            let why = "SHIPSHAPE_GITHUB_TOKEN is set, but `evaluate` does not read GitHub facts yet".to_string();
            facts.branch_protection = Fact::NotConfigured(why.clone());
            facts.vulnerability_alerts = Fact::NotConfigured(why);
        }
        facts
    }

    /// No linked tool configured, as for `evaluate` without credentials.
    pub fn none_configured() -> Self {
        Self {
            branch_protection: Fact::NotConfigured(
                "GitHub facts need SHIPSHAPE_GITHUB_TOKEN (or the GitHub App)".into(),
            ),
            vulnerability_alerts: Fact::NotConfigured(
                "GitHub facts need SHIPSHAPE_GITHUB_TOKEN (or the GitHub App)".into(),
            ),
            oncall: Fact::NotConfigured("PagerDuty is not configured (set SHIPSHAPE_PAGERDUTY_TOKEN)".into()),
        }
    }
}
