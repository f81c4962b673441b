//! The engine's output: one repository's scorecard. Its JSON form is the public interface of SPEC section 2:
//! fields may be added, never renamed.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Failing, but an active exception from the catalog covers it.
    Excepted,
    /// Not scored: a linked tool is not configured, or the rule does not apply to this service.
    Skipped,
    /// Not scored: a linked tool is configured but failed, or the rule could not be evaluated.
    Error,
}

impl Status {
    /// Counts towards a level (pass or excepted).
    pub fn is_ok(self) -> bool {
        matches!(self, Status::Pass | Status::Excepted)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Excepted => "excepted",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

/// Where a rule's result comes from: a file, and a line in it when known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The exception that covers an `excepted` rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionInfo {
    pub reason: String,
    /// `YYYY-MM-DD`, inclusive.
    pub expires: String,
    /// Where it was approved (the catalog pull request or file).
    pub approved_in: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    pub id: String,
    pub title: String,
    pub level: String,
    pub status: Status,
    pub message: String,
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionInfo>,
    /// What to do when the rule fails.
    pub remediation: String,
    /// Whether the service's tier requires this rule (its level is at or below the required level).
    pub required: bool,
}

/// Starts the message of a rule that is skipped because its `when` leaves this service out.
pub const NOT_APPLICABLE: &str = "does not apply";

/// Starts the message of a rule that reads the catalog entry when no catalog was given.
pub const NO_CATALOG: &str = "no catalog given";

impl RuleResult {
    /// The rule's `when` leaves this service out (as opposed to skipped for a tool that is not configured).
    pub fn does_not_apply(&self) -> bool {
        self.status == Status::Skipped && self.message.starts_with(NOT_APPLICABLE)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub excepted: usize,
    pub skipped: usize,
    pub error: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scorecard {
    /// The catalog service name, when the repository has an entry.
    pub service: Option<String>,
    /// `owner/name` when known, else the path that was scored.
    pub repository: String,
    pub tier: u32,
    pub required_level: String,
    /// The highest level reached; `null` below the lowest level.
    pub level: Option<String>,
    pub meets_required: bool,
    pub rules: Vec<RuleResult>,
    pub summary: Summary,
    /// Owner from the catalog entry (or the repository's own catalog-info.yaml).
    #[serde(default)]
    pub owner: Option<String>,
    /// The commit scored, when known.
    #[serde(default)]
    pub commit: Option<String>,
    /// All levels of the policy, lowest first.
    #[serde(default)]
    pub levels: Vec<String>,
    /// Things the user should know about how this was scored (files skipped, where the tier came from).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Rules at or below the level reached that were not judged (skipped or error, other than "does not apply"):
    /// the level stands without them.
    #[serde(default)]
    pub unverified: Vec<String>,
}

impl Scorecard {
    pub fn rule(&self, id: &str) -> Option<&RuleResult> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// What every report's headline adds to the level reached: "" or ", 2 rules unverified" (SPEC 2).
    pub fn unverified_suffix(&self) -> String {
        match self.unverified.len() {
            0 => String::new(),
            1 => ", 1 rule unverified".to_string(),
            n => format!(", {n} rules unverified"),
        }
    }

    /// Required rules that fail: what stands between the service and its required level.
    pub fn failing_required(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules.iter().filter(|r| r.required && r.status == Status::Fail)
    }
}
