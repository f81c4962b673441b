//! The scorecard policy file as written by a platform team (`apiVersion: shipshape.dev/v1`, `kind: Scorecard`).
//!
//! These types are the file format: they are deserialized from YAML (with positions), and the JSON Schema in
//! `policies/schema/` is generated from them. Their meaning (compiled globs, regexes, jq) lives in
//! [`super::compiled`].

use crate::yaml::Located;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const API_VERSION: &str = "shipshape.dev/v1";

/// A readiness scorecard: ordered levels, tiers that require a level, and rules.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "shipshape scorecard policy")]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Always `shipshape.dev/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: Located<String>,
    /// Always `Scorecard`.
    pub kind: Located<String>,
    #[serde(default)]
    pub metadata: Metadata,
    /// Levels from lowest to highest. A service reaches a level when every rule of that level and of every lower
    /// level passes or is excepted.
    #[serde(default = "default_levels")]
    pub levels: Vec<Located<String>>,
    /// Tier number (1 is the most critical) to what the tier requires.
    pub tiers: BTreeMap<Located<String>, TierSpec>,
    /// The tier of a repository that has no catalog entry or whose entry has no `spec.tier`.
    pub default_tier: Located<u32>,
    pub rules: Vec<RuleSpec>,
    /// Time-boxed campaigns: rules every service must pass by a date, whatever its tier's deadline.
    #[serde(default)]
    pub initiatives: Vec<InitiativeSpec>,
    /// Files no rule looks at unless it says `include_ignored: true`: vendored, generated and example code is not
    /// the service's own.
    #[serde(default)]
    pub ignore: IgnoreSpec,
}

/// What every rule leaves out: files under these globs, and what `.gitattributes` marks as vendored or generated.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreSpec {
    /// Globs of paths left out (replaces the default list; `[]` leaves nothing out by path).
    #[serde(default = "default_ignored_paths")]
    pub paths: Vec<Located<String>>,
    /// Leave out what `.gitattributes` files mark `linguist-vendored` or `linguist-generated`.
    #[serde(default = "default_true")]
    pub gitattributes: bool,
}

impl Default for IgnoreSpec {
    fn default() -> Self {
        Self { paths: default_ignored_paths(), gitattributes: true }
    }
}

/// The default `ignore.paths`.
pub const DEFAULT_IGNORED_PATHS: [&str; 5] =
    ["**/vendor/**", "**/third_party/**", "**/node_modules/**", "**/examples/**", "**/example/**"];

fn default_ignored_paths() -> Vec<Located<String>> {
    DEFAULT_IGNORED_PATHS.iter().map(|p| Located::new(p.to_string())).collect()
}

fn default_true() -> bool {
    true
}

fn default_levels() -> Vec<Located<String>> {
    ["bronze", "silver", "gold"].into_iter().map(|l| Located::new(l.to_string())).collect()
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// The level services of this tier must reach.
    pub requires: Located<String>,
    /// Days a newly failing required rule may stay failing before it is overdue.
    #[serde(default = "default_deadline_days")]
    pub deadline_days: u32,
    /// How the pull-request check concludes. Default: `level` for tier 1, `regression` for the others.
    #[serde(default)]
    pub gate: Option<Gate>,
    /// The longest exception an approver may grant for this tier, in days.
    #[serde(default = "default_exception_max_days")]
    pub exception_max_days: Located<u32>,
    #[serde(default)]
    pub description: Option<String>,
}

fn default_deadline_days() -> u32 {
    30
}

fn default_exception_max_days() -> Located<u32> {
    Located::new(90)
}

/// How a pull request's check run concludes for a tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Fail only when the pull request breaks a rule the tier requires or lowers the level.
    Regression,
    /// Fail while the service is below its required level.
    Level,
    /// Never fail (neutral).
    Off,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier (lowercase letters, digits and `-`); exceptions and scripts refer to it.
    pub id: Located<String>,
    pub title: String,
    /// The level this rule belongs to.
    pub level: Located<String>,
    #[serde(default)]
    pub description: String,
    /// What a developer does to make the rule pass.
    pub remediation: String,
    pub check: Located<Check>,
    /// Limits the rule to some services; others do not have to pass it.
    #[serde(default)]
    pub when: Option<When>,
    /// Look at the files the policy's `ignore` leaves out too (vendored and generated ones).
    #[serde(default)]
    pub include_ignored: bool,
}

/// Conditions for a rule to apply. All given conditions must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The rule applies only to services of these tiers.
    #[serde(default)]
    pub tiers: Option<Vec<Located<u32>>>,
    /// The rule applies only to services whose catalog `spec.type` is one of these (e.g. `service`, `website`).
    #[serde(default)]
    pub types: Option<Vec<String>>,
    /// The rule applies only when this check passes on the repository (e.g. it has `*.proto` files).
    #[serde(default)]
    pub check: Option<Box<Located<Check>>>,
}

/// What a rule checks. Exactly one kind per check; combine kinds with `all`, `any` and `not`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Files exist: at least one of `any`, or every pattern of `all`, matches a file.
    File(FileCheck),
    /// Files' text matches (or must not match) a regular expression.
    Content(ContentCheck),
    /// A jq expression over a YAML, JSON or TOML file is true.
    Query(QueryCheck),
    /// CODEOWNERS is present where GitHub reads it, parses, and assigns owners.
    Codeowners(CodeownersCheck),
    /// A jq expression over the service's catalog entry (a Backstage Component) is true.
    Catalog(CatalogCheck),
    /// The default branch is protected (branch protection or a repository ruleset). Needs GitHub facts.
    BranchProtection(BranchProtectionCheck),
    /// Open Dependabot alerts stay within limits. Needs GitHub facts.
    VulnerabilityAlerts(VulnerabilityAlertsCheck),
    /// The PagerDuty service named by the catalog's `pagerduty.com/service-id` annotation has someone on call.
    /// Needs PagerDuty facts.
    Oncall(OncallCheck),
    /// The CI results on the default branch's head commit succeeded: check runs of every app but shipshape's own,
    /// and commit statuses. Needs GitHub facts.
    CiStatus(CiStatusCheck),
    /// The highest-versioned release tag is recent: the service ships. Needs GitHub facts.
    ReleaseAge(ReleaseAgeCheck),
    /// Prometheus has alerting rules whose labels name the service. Needs `SHIPSHAPE_PROMETHEUS_URL`.
    AlertRules(AlertRulesCheck),
    /// Prometheus has recording rules (SLIs, SLO burn rates) whose labels name the service. Needs
    /// `SHIPSHAPE_PROMETHEUS_URL`.
    RecordingRules(RecordingRulesCheck),
    /// A PromQL query, templated from the catalog entry, returns a value within bounds. Needs
    /// `SHIPSHAPE_PROMETHEUS_URL`.
    Promql(PromqlCheck),
    /// GET a URL templated from the catalog entry and test the JSON answer with jq (SonarQube, Snyk, Codecov,
    /// internal tools).
    Http(HttpCheck),
    /// No private key is committed: private-key blocks judged by what their body decodes to (certificates, public
    /// keys and placeholders are not keys), key stores by name; keys under test-fixture directories reported apart.
    PrivateKeys(PrivateKeysCheck),
    /// Every check passes.
    All(Vec<Located<Check>>),
    /// At least one check passes.
    Any(Vec<Located<Check>>),
    /// The check fails.
    Not(Box<Located<Check>>),
}

/// Glob patterns are matched against paths relative to the repository root, with `/` separators: `*` stays within
/// a directory, `**` crosses directories (`README*`, `docs/**/*.md`, `**/openapi.{yaml,json}`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileCheck {
    /// Passes when at least one pattern matches a file.
    #[serde(default)]
    pub any: Vec<Located<String>>,
    /// Passes when every pattern matches a file.
    #[serde(default)]
    pub all: Vec<Located<String>>,
    /// Match patterns regardless of case (`readme.md` matches `README*`).
    #[serde(default)]
    pub ignore_case: bool,
    /// A matching file counts only when it has at least this many bytes (a real README, not a placeholder).
    #[serde(default)]
    pub min_bytes: Option<u64>,
    /// A matching file counts only when it has at least this many words of prose: headings, code, HTML, images,
    /// badges and lines of only links are left out (Markdown is parsed; other files are read as plain text).
    #[serde(default)]
    pub min_words: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentCheck {
    /// Which files to read (glob patterns).
    pub files: Vec<Located<String>>,
    /// Passes when some matching file contains a match of this regular expression.
    #[serde(default)]
    pub matches: Option<Located<String>>,
    /// Passes when no matching file contains a match of this regular expression.
    #[serde(default)]
    pub not_matches: Option<Located<String>>,
    #[serde(default)]
    pub ignore_case: bool,
    /// What to say when it fails, instead of the pattern (the files stay in the evidence).
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateKeysCheck {
    /// Files whose text is searched for `-----BEGIN … PRIVATE KEY-----` blocks (glob patterns).
    pub files: Vec<Located<String>>,
    /// Binary key stores that count as keys by their name alone (e.g. `**/*.p12`, `**/*.jks`).
    #[serde(default)]
    pub stores: Vec<Located<String>>,
    /// Keys in a directory of one of these names (anywhere in the path; a leading or trailing `*` matches any
    /// suffix or prefix: `test*`, `*testing`) are test fixtures.
    #[serde(default = "fixture_dirs")]
    pub fixture_dirs: Vec<String>,
    /// `report` (default): fixture keys are named in the message but do not fail; `fail`: they count like others.
    #[serde(default)]
    pub fixtures: Fixtures,
}

impl PrivateKeysCheck {
    /// The directory names of test fixtures when a policy does not say.
    pub fn default_fixture_dirs() -> Vec<String> {
        fixture_dirs()
    }
}

fn fixture_dirs() -> Vec<String> {
    ["test*", "*tests", "*testing", "*_test", "*-test", "fixtures", "__fixtures__", "__tests__", "spec"]
        .map(String::from)
        .to_vec()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fixtures {
    #[default]
    Report,
    Fail,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryCheck {
    /// Which files to query (glob patterns).
    pub files: Vec<Located<String>>,
    /// A jq expression; the file passes when its first output is neither `false` nor `null`.
    pub jq: Located<String>,
    /// File format; default from the extension (`.yaml`/`.yml`, `.json`, `.toml`).
    #[serde(default)]
    pub format: Option<Format>,
    /// Whether `any` matching file (default) or `all` of them must pass.
    #[serde(default)]
    pub require: Require,
    /// A jq expression that ranks passing files, never the status: the evidence names a passing file on which it
    /// holds (e.g. the workflow that runs the tests) before the others, which stay in path order.
    #[serde(default)]
    pub prefer: Option<Located<String>>,
    /// What to say when it fails, instead of the expression (the files stay in the evidence).
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Yaml,
    Json,
    Toml,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Require {
    #[default]
    Any,
    All,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeownersCheck {
    /// Every file matching these patterns must have an owner.
    #[serde(default)]
    pub paths: Vec<Located<String>>,
    /// Every file in the repository must have an owner.
    #[serde(default)]
    pub every_file: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogCheck {
    /// A jq expression over the catalog entry; passes when the first output is neither `false` nor `null`.
    pub jq: Located<String>,
    /// What to say when it fails (default: the expression).
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchProtectionCheck {
    /// Approving reviews a pull request needs.
    #[serde(default = "one")]
    pub min_approvals: u32,
    /// Status checks must pass before merging.
    #[serde(default = "yes")]
    pub require_status_checks: bool,
    /// Code owners must review.
    #[serde(default)]
    pub require_code_owner_reviews: bool,
}

impl Default for BranchProtectionCheck {
    fn default() -> Self {
        Self { min_approvals: 1, require_status_checks: true, require_code_owner_reviews: false }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilityAlertsCheck {
    /// Most open critical alerts allowed (default 0).
    #[serde(default)]
    pub max_critical: u32,
    /// Most open high alerts allowed (default 0).
    #[serde(default)]
    pub max_high: u32,
    /// Most open medium alerts allowed (default: no limit).
    #[serde(default)]
    pub max_medium: Option<u32>,
    /// Most open low alerts allowed (default: no limit).
    #[serde(default)]
    pub max_low: Option<u32>,
    /// Count open code scanning alerts too, by security severity, where code scanning is enabled (default true).
    #[serde(default = "yes")]
    pub code_scanning: bool,
    /// Most open secret scanning alerts allowed where secret scanning is enabled (default 0; `null`: not read).
    #[serde(default = "some_zero")]
    pub max_secret_alerts: Option<u32>,
}

impl Default for VulnerabilityAlertsCheck {
    fn default() -> Self {
        Self {
            max_critical: 0,
            max_high: 0,
            max_medium: None,
            max_low: None,
            code_scanning: true,
            max_secret_alerts: Some(0),
        }
    }
}

fn some_zero() -> Option<u32> {
    Some(0)
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiStatusCheck {
    /// Also pass while runs are still in progress (default: an unfinished head is not judged, the rule is skipped).
    #[serde(default)]
    pub pending_passes: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseAgeCheck {
    /// Most days since the last release's commit (default 90).
    #[serde(default = "ninety")]
    pub max_days: u32,
}

fn ninety() -> u32 {
    90
}

/// Label names that name a service in Prometheus rules, by default.
fn service_labels() -> Vec<String> {
    ["service", "app", "job", "sloth_service"].map(String::from).to_vec()
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRulesCheck {
    /// Alerting rules needed (default 1).
    #[serde(default = "one")]
    pub min: u32,
    /// Labels whose value is the service's name (default `service`, `app`, `job`, `sloth_service`).
    #[serde(default = "service_labels")]
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingRulesCheck {
    /// Recording rules needed (default 1).
    #[serde(default = "one")]
    pub min: u32,
    /// Only rules whose name matches this regular expression count (e.g. `^slo:` for Sloth's SLIs).
    #[serde(default)]
    pub name_matches: Option<Located<String>>,
    /// Labels whose value is the service's name (default `service`, `app`, `job`, `sloth_service`).
    #[serde(default = "service_labels")]
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromqlCheck {
    /// An instant query; `{{ jq }}` placeholders are filled from the catalog entry (no secrets).
    pub query: Located<String>,
    /// The first sample must be at least this.
    #[serde(default)]
    pub min: Option<f64>,
    /// The first sample must be at most this.
    #[serde(default)]
    pub max: Option<f64>,
    /// What the value is, for messages (e.g. "30-day availability").
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// `http(s)://` URL; `{{ jq }}` placeholders are filled from the catalog entry, URL-encoded (no secrets).
    pub url: Located<String>,
    /// Request headers; values may hold `{{ secret.NAME }}` (from `SHIPSHAPE_SECRET_NAME`) and `{{ jq }}`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, Located<String>>,
    /// A jq expression over the JSON answer; passes when the first output is neither `false` nor `null`.
    pub jq: Located<String>,
    /// What to say when it fails (default: the expression).
    #[serde(default)]
    pub message: Option<String>,
    /// Largest answer read, in bytes (default 1 MiB, at most 4 MiB).
    #[serde(default)]
    pub max_bytes: Option<u32>,
    /// Seconds to wait for the answer (default 10, at most 60).
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OncallCheck {
    /// Levels the service's escalation policy must have.
    #[serde(default = "one")]
    pub min_escalation_levels: u32,
}

impl Default for OncallCheck {
    fn default() -> Self {
        Self { min_escalation_levels: 1 }
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiativeSpec {
    pub id: Located<String>,
    pub title: String,
    /// `YYYY-MM-DD`: every listed rule must pass by then.
    pub deadline: Located<String>,
    pub rules: Vec<Located<String>>,
}
