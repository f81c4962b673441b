use super::*;
use crate::catalog::{Exception, Service};
use crate::diag::{Diagnostics, Pos};
use crate::facts::{AlertCounts, BranchProtection, Content, Fact, FileFacts, LinkedFacts, OnCall, RepoFacts};
use crate::policy::Policy;
use chrono::NaiveDate;
use serde_json::json;

mod ci;
mod corpus_cases;
mod hostile;
mod ignore;
mod levels;
mod linked;
mod scope;
mod substance;

const HEADER: &str = "apiVersion: shipshape.dev/v1
kind: Scorecard
tiers:
  1: {requires: gold}
  2: {requires: silver}
  3: {requires: bronze}
default_tier: 3
rules:
";

fn policy(rules: &str) -> Policy {
    let text = format!("{HEADER}{rules}");
    let mut diags = Diagnostics::default();
    let policy = Policy::parse("test.yaml", &text, &mut diags);
    assert!(!diags.has_errors(), "{diags}");
    policy.unwrap()
}

fn rule(id: &str, level: &str, check: &str) -> String {
    format!("  - id: {id}\n    title: {id}\n    level: {level}\n    remediation: fix {id}\n    check: {check}\n")
}

fn repo(files: &[(&str, &str)]) -> RepoFacts {
    let mut facts = RepoFacts::default();
    for (path, text) in files {
        facts
            .files
            .insert(path.to_string(), FileFacts { size: text.len() as u64, content: Content::Text(text.to_string()) });
    }
    facts
}

fn service(tier: Option<u32>) -> Service {
    Service {
        name: "payments".into(),
        file: "services/payments.yaml".into(),
        owner: Some("team-payments".into()),
        kind: Some("service".into()),
        tier,
        tier_pos: Pos::default(),
        ignored_tier: None,
        repository: Some("acme/payments".into()),
        pagerduty_service: Some("PABC123".into()),
        entity: json!({"metadata": {"name": "payments"}, "spec": {"owner": "team-payments", "type": "service"}}),
    }
}

fn exception(rule: &str, expires: &str) -> Exception {
    Exception {
        service: "payments".into(),
        rule: rule.into(),
        reason: "migrating".into(),
        expires: expires.parse().unwrap(),
        requested_by: Some("octocat".into()),
        requested_in: Some("https://github.com/acme/catalog/pull/7".into()),
        file: format!("exceptions/payments/{rule}.yaml"),
        rule_pos: Pos::default(),
        service_pos: Pos::default(),
        expires_pos: Pos::default(),
    }
}

fn today() -> NaiveDate {
    "2026-11-22".parse().unwrap()
}

struct Run<'a> {
    facts: RepoFacts,
    linked: LinkedFacts,
    service: Option<Service>,
    /// Whether a catalog was given (default yes: a missing entry fails the catalog rules).
    catalog_given: bool,
    exceptions: Vec<Exception>,
    tier: Option<u32>,
    today: NaiveDate,
    policy: &'a Policy,
}

impl<'a> Run<'a> {
    fn new(policy: &'a Policy, facts: RepoFacts) -> Self {
        Self {
            facts,
            linked: LinkedFacts::none_configured(),
            service: None,
            catalog_given: true,
            exceptions: Vec::new(),
            tier: None,
            today: today(),
            policy,
        }
    }

    fn card(&self) -> Scorecard {
        let subject = Subject {
            repository: "acme/payments".into(),
            facts: &self.facts,
            linked: &self.linked,
            service: self.service.as_ref(),
            catalog_given: self.catalog_given,
            exceptions: self.exceptions.iter().collect(),
            tier_override: self.tier,
            today: self.today,
            jq_limits: crate::jq::Limits::REVIEWED,
        };
        evaluate(self.policy, &subject)
    }
}

fn status(card: &Scorecard, id: &str) -> Status {
    card.rule(id).unwrap_or_else(|| panic!("no rule {id}")).status
}

fn three_levels() -> Policy {
    policy(
        &[
            rule("readme", "bronze", "{file: {any: [README.md]}}"),
            rule("runbook", "silver", "{file: {any: [docs/runbook.md]}}"),
            rule("slo", "gold", "{file: {any: [slo.yaml]}}"),
        ]
        .concat(),
    )
}

#[test]
fn level_is_the_highest_whose_rules_and_lower_ones_pass() {
    let p = three_levels();
    let all = Run::new(&p, repo(&[("README.md", "x"), ("docs/runbook.md", "x"), ("slo.yaml", "x")])).card();
    assert_eq!(all.level.as_deref(), Some("gold"));
    let no_runbook = Run::new(&p, repo(&[("README.md", "x"), ("slo.yaml", "x")])).card();
    assert_eq!(
        no_runbook.level.as_deref(),
        Some("bronze"),
        "a gold rule passing does not lift past a failing silver one"
    );
    let nothing = Run::new(&p, repo(&[])).card();
    assert_eq!(nothing.level, None);
    assert!(!nothing.meets_required);
    assert_eq!(nothing.summary, Summary { pass: 0, fail: 3, excepted: 0, skipped: 0, error: 0 });
}

#[test]
fn tier_comes_from_override_then_catalog_then_default() {
    let p = three_levels();
    let mut run = Run::new(&p, repo(&[("README.md", "x"), ("docs/runbook.md", "x")]));
    let card = run.card();
    assert_eq!((card.tier, card.required_level.as_str(), card.meets_required), (3, "bronze", true));
    assert!(card.notes.iter().any(|n| n.contains("default tier 3")), "{:?}", card.notes);

    run.service = Some(service(Some(1)));
    let card = run.card();
    assert_eq!((card.tier, card.required_level.as_str(), card.meets_required), (1, "gold", false));
    assert_eq!(card.owner.as_deref(), Some("team-payments"));
    assert!(card.rule("slo").unwrap().required && card.rule("readme").unwrap().required);

    run.tier = Some(2);
    let card = run.card();
    assert_eq!((card.tier, card.meets_required), (2, true));
    assert!(!card.rule("slo").unwrap().required);

    run.tier = None;
    run.service = Some(service(Some(9)));
    let card = run.card();
    assert_eq!(card.tier, 3);
    assert!(card.notes.iter().any(|n| n.contains("tier 9") && n.contains("not defined")), "{:?}", card.notes);
}

#[test]
fn exceptions_apply_through_their_expiry_date_inclusive() {
    let p = three_levels();
    let mut run = Run::new(&p, repo(&[("README.md", "x"), ("slo.yaml", "x")]));
    run.service = Some(service(Some(1)));
    run.exceptions = vec![exception("runbook", "2026-11-22")];

    let card = run.card();
    let runbook = card.rule("runbook").unwrap();
    assert_eq!(runbook.status, Status::Excepted);
    let info = runbook.exception.as_ref().unwrap();
    assert_eq!((info.expires.as_str(), info.reason.as_str()), ("2026-11-22", "migrating"));
    assert_eq!(info.approved_in, "https://github.com/acme/catalog/pull/7");
    assert_eq!(card.level.as_deref(), Some("gold"), "an excepted rule counts towards the level");
    assert!(card.meets_required);

    run.today = "2026-11-23".parse().unwrap();
    let card = run.card();
    let runbook = card.rule("runbook").unwrap();
    assert_eq!(runbook.status, Status::Fail);
    assert!(runbook.message.ends_with("(exception expired on 2026-11-22)"), "{}", runbook.message);
    assert_eq!(card.level.as_deref(), Some("bronze"));
}

#[test]
fn an_exception_for_a_passing_rule_changes_nothing() {
    let p = three_levels();
    let mut run = Run::new(&p, repo(&[("README.md", "x")]));
    run.exceptions = vec![exception("readme", "2030-01-01")];
    let card = run.card();
    assert_eq!(status(&card, "readme"), Status::Pass);
    assert!(card.rule("readme").unwrap().exception.is_none());
}

#[test]
fn skipped_and_error_rules_neither_block_nor_count() {
    let p = policy(
        &[
            rule("readme", "bronze", "{file: {any: [README.md]}}"),
            rule("bp", "silver", "{branch_protection: {}}"),
            rule("vulns", "silver", "{vulnerability_alerts: {}}"),
        ]
        .concat(),
    );
    let mut run = Run::new(&p, repo(&[("README.md", "x")]));
    run.linked.vulnerability_alerts = Fact::Unavailable("GitHub answered 502".into());
    let card = run.card();
    assert_eq!(status(&card, "bp"), Status::Skipped);
    assert!(card.rule("bp").unwrap().message.contains("SHIPSHAPE_GITHUB_TOKEN"));
    assert_eq!(status(&card, "vulns"), Status::Error);
    assert_eq!(card.rule("vulns").unwrap().message, "GitHub answered 502");
    assert_eq!(
        card.level.as_deref(),
        Some("bronze"),
        "silver has no judged rule, so neither silver nor gold is reached"
    );
    assert!(card.unverified.is_empty(), "nothing unjudged at or below bronze: {:?}", card.unverified);
    assert!(card.notes.iter().any(|n| n.contains("level silver is not reached: none of its rules could be judged")));
}

#[test]
fn when_filters_on_tier_type_and_repository_facts() {
    let p = policy(
        &[
            rule("t1-only", "bronze", "{file: {any: [nope]}}"),
            "    when: {tiers: [1]}\n".to_string(),
            rule("services-only", "bronze", "{file: {any: [nope]}}"),
            "    when: {types: [website]}\n".to_string(),
            rule("proto-docs", "bronze", "{file: {any: [docs/api.md]}}"),
            "    when: {check: {file: {any: ['**/*.proto']}}}\n".to_string(),
        ]
        .concat(),
    );
    let mut run = Run::new(&p, repo(&[("README.md", "x")]));
    run.service = Some(service(Some(2)));
    let card = run.card();
    for id in ["t1-only", "services-only", "proto-docs"] {
        let r = card.rule(id).unwrap();
        assert_eq!(r.status, Status::Skipped, "{id}");
        assert!(r.message.starts_with("does not apply"), "{id}: {}", r.message);
    }
    assert!(card.rule("services-only").unwrap().message.contains("this one is `service`"));

    run.service = Some(service(Some(1)));
    run.facts = repo(&[("api/v1/pay.proto", "syntax")]);
    let card = run.card();
    assert_eq!(status(&card, "t1-only"), Status::Fail);
    assert_eq!(status(&card, "proto-docs"), Status::Fail, "has protos, so the rule applies");
}

#[test]
fn file_checks_any_all_case_and_size() {
    let p = policy(
        &[
            rule("any", "bronze", "{file: {any: ['README*', 'docs/README.md']}}"),
            rule("all", "bronze", "{file: {all: [LICENSE, 'docs/*.md']}}"),
            rule("case", "bronze", "{file: {any: [readme.md], ignore_case: true}}"),
            rule("big", "bronze", "{file: {any: [README.md], min_bytes: 10}}"),
            rule("root-only", "bronze", "{file: {any: ['*.md']}}"),
        ]
        .concat(),
    );
    let card = Run::new(&p, repo(&[("README.md", "short"), ("LICENSE", "MIT"), ("sub/x.md", "")])).card();
    assert_eq!(status(&card, "any"), Status::Pass);
    assert_eq!(card.rule("any").unwrap().evidence, vec![Evidence { path: "README.md".into(), line: None }]);
    assert_eq!(status(&card, "all"), Status::Fail);
    assert_eq!(card.rule("all").unwrap().message, "no file matches `docs/*.md`");
    assert_eq!(status(&card, "case"), Status::Pass);
    assert_eq!(status(&card, "big"), Status::Fail);
    assert_eq!(card.rule("big").unwrap().message, "`README.md` has only 5 bytes (at least 10 expected)");
    assert_eq!(status(&card, "root-only"), Status::Pass);
    let card = Run::new(&p, repo(&[("sub/x.md", "")])).card();
    assert_eq!(status(&card, "root-only"), Status::Fail, "`*` does not cross directories");
}

#[test]
fn content_checks_report_the_line() {
    let p = policy(
        &[
            rule("has-probe", "bronze", "{content: {files: ['**/*.yaml'], matches: '^\\s*readinessProbe:'}}"),
            rule("no-keys", "bronze", "{content: {files: ['**/*.yaml'], not_matches: 'BEGIN PRIVATE KEY'}}"),
            rule("ci", "bronze", "{content: {files: ['ci/*.yml'], matches: 'x'}}"),
        ]
        .concat(),
    );
    let files = [
        ("k8s/deploy.yaml", "kind: Deployment\nspec:\n  readinessProbe:\n"),
        ("a.yaml", "k: |\n  BEGIN PRIVATE KEY\n"),
    ];
    let card = Run::new(&p, repo(&files)).card();
    let probe = card.rule("has-probe").unwrap();
    assert_eq!(probe.status, Status::Pass);
    assert_eq!(probe.evidence, vec![Evidence { path: "k8s/deploy.yaml".into(), line: Some(3) }]);
    let keys = card.rule("no-keys").unwrap();
    assert_eq!(keys.status, Status::Fail);
    assert_eq!(keys.evidence, vec![Evidence { path: "a.yaml".into(), line: Some(2) }]);
    assert_eq!(keys.message, "/BEGIN PRIVATE KEY/ found in `a.yaml` line 2");
    assert_eq!(card.rule("ci").unwrap().message, "no file matches `ci/*.yml`");
}

#[test]
fn query_checks_read_yaml_json_and_toml() {
    let p = policy(
        &[
            rule("wf", "bronze", "{query: {files: ['.github/workflows/*.yml'], jq: '.on | has(\"pull_request\")'}}"),
            rule("pkg", "bronze", "{query: {files: [package.json], jq: '.scripts.test != null'}}"),
            rule("cargo", "bronze", "{query: {files: [Cargo.toml], jq: '.package.edition == \"2024\"'}}"),
            rule(
                "all-wf",
                "bronze",
                "{query: {files: ['.github/workflows/*.yml'], jq: '.name != null', require: all}}",
            ),
        ]
        .concat(),
    );
    let files = [
        (".github/workflows/a.yml", "name: a\non:\n  pull_request: {}\n"),
        (".github/workflows/b.yml", "on: push\n"),
        ("package.json", r#"{"scripts": {"test": "jest"}}"#),
        ("Cargo.toml", "[package]\nedition = \"2021\"\n"),
    ];
    let card = Run::new(&p, repo(&files)).card();
    assert_eq!(status(&card, "wf"), Status::Pass);
    assert_eq!(status(&card, "pkg"), Status::Pass);
    assert_eq!(status(&card, "cargo"), Status::Fail);
    assert_eq!(card.rule("cargo").unwrap().message, "`Cargo.toml`: `.package.edition == \"2024\"` does not hold");
    let all = card.rule("all-wf").unwrap();
    assert_eq!(all.status, Status::Fail);
    assert_eq!(all.evidence[0].path, ".github/workflows/b.yml");

    // A YAML stream passes when one of its documents does.
    let p2 = policy(&rule("slo", "bronze", "{query: {files: ['slo.yaml'], jq: '.kind == \"SLO\"'}}"));
    let card = Run::new(&p2, repo(&[("slo.yaml", "kind: Service\n---\nkind: SLO\n")])).card();
    assert_eq!(status(&card, "slo"), Status::Pass);
    let card = Run::new(&p2, repo(&[("slo.yaml", "kind: Service\n---\nkind: Other\n")])).card();
    assert_eq!(status(&card, "slo"), Status::Fail);

    let card = Run::new(&p, repo(&[("package.json", "{not json")])).card();
    let pkg = card.rule("pkg").unwrap();
    assert_eq!(pkg.status, Status::Fail);
    assert!(pkg.message.contains("cannot parse as JSON"), "{}", pkg.message);
}

#[test]
fn codeowners_checks_presence_errors_and_coverage() {
    let p = policy(
        &[
            rule("present", "bronze", "{codeowners: {}}"),
            rule("src", "bronze", "{codeowners: {paths: ['src/**']}}"),
            rule("every", "bronze", "{codeowners: {every_file: true}}"),
        ]
        .concat(),
    );
    let card = Run::new(&p, repo(&[("src/a.rs", "")])).card();
    assert_eq!(card.rule("present").unwrap().message, "no CODEOWNERS file in `.github/`, the root or `docs/`");

    let files = [(".github/CODEOWNERS", "/src/ @acme/core\n"), ("src/a.rs", ""), ("README.md", "")];
    let card = Run::new(&p, repo(&files)).card();
    assert_eq!(status(&card, "present"), Status::Pass);
    assert_eq!(status(&card, "src"), Status::Pass);
    let every = card.rule("every").unwrap();
    assert_eq!(every.status, Status::Fail);
    assert_eq!(every.message, "2 file(s) have no code owner, e.g. `.github/CODEOWNERS`, `README.md`");

    let files = [("CODEOWNERS", "* @acme/core\n*.md not-an-owner\n")];
    let card = Run::new(&p, repo(&files)).card();
    let present = card.rule("present").unwrap();
    assert_eq!(present.status, Status::Fail);
    assert_eq!(present.evidence, vec![Evidence { path: "CODEOWNERS".into(), line: Some(2) }]);
    assert!(present.message.starts_with("`CODEOWNERS` line 2:"), "{}", present.message);
}

#[test]
fn catalog_checks_need_an_entry() {
    let p = policy(&rule("owner", "bronze", "{catalog: {jq: '.spec.owner != null', message: no owner}}"));
    let mut run = Run::new(&p, repo(&[]));
    let card = run.card();
    assert_eq!(status(&card, "owner"), Status::Fail);
    assert!(card.rule("owner").unwrap().message.starts_with("no catalog entry"));
    run.service = Some(service(None));
    assert_eq!(status(&run.card(), "owner"), Status::Pass);
    run.service.as_mut().unwrap().entity = json!({"spec": {}});
    assert_eq!(run.card().rule("owner").unwrap().message, "no owner");
}

#[test]
fn linked_tool_checks_use_known_facts() {
    let p = policy(
        &[
            rule("bp", "bronze", "{branch_protection: {min_approvals: 2}}"),
            rule("vulns", "bronze", "{vulnerability_alerts: {max_high: 1}}"),
            rule("oncall", "bronze", "{oncall: {min_escalation_levels: 2}}"),
        ]
        .concat(),
    );
    let mut run = Run::new(&p, repo(&[]));
    run.service = Some(service(None));
    run.linked = LinkedFacts {
        branch_protection: Fact::Known(BranchProtection {
            branch: "main".into(),
            protected: true,
            required_approvals: 1,
            requires_status_checks: true,
            requires_code_owner_reviews: false,
        }),
        vulnerability_alerts: Fact::Known(Some(AlertCounts { critical: 0, high: 1, medium: 9, low: 0 })),
        oncall: Fact::Known(OnCall {
            service_id: "PABC123".into(),
            exists: true,
            disabled: false,
            escalation_levels: 2,
            on_call_now: vec!["Ada".into()],
        }),
        code_scanning_alerts: Fact::Known(None),
        secret_scanning_alerts: Fact::Known(Some(0)),
        ..LinkedFacts::none_configured()
    };
    let card = run.card();
    assert_eq!(card.rule("bp").unwrap().message, "branch `main`: 1 approving review(s) required, 2 expected");
    assert_eq!(status(&card, "vulns"), Status::Pass);
    assert_eq!(card.rule("oncall").unwrap().message, "on call now: Ada");

    run.linked.vulnerability_alerts = Fact::Known(None);
    run.linked.oncall = Fact::Known(OnCall {
        on_call_now: vec![],
        ..OnCall { exists: true, escalation_levels: 3, ..OnCall::default() }
    });
    let card = run.card();
    assert_eq!(card.rule("vulns").unwrap().message, "Dependabot alerts are disabled, so vulnerabilities go unnoticed");
    assert_eq!(card.rule("oncall").unwrap().message, "nobody is on call for `PABC123` right now");

    run.service.as_mut().unwrap().pagerduty_service = None;
    let card = run.card();
    assert_eq!(status(&card, "oncall"), Status::Fail, "no PagerDuty link is a fact, not a missing tool");
}

#[test]
fn combinators_decide_and_propagate_undecided() {
    let p = policy(
        &[
            rule("all-fail", "bronze", "{all: [{file: {any: [a]}}, {file: {any: [missing]}}]}"),
            rule("any-pass", "bronze", "{any: [{file: {any: [missing]}}, {file: {any: [a]}}]}"),
            rule("not", "bronze", "{not: {file: {any: ['**/.env']}}}"),
            rule("any-skip", "bronze", "{any: [{file: {any: [missing]}}, {branch_protection: {}}]}"),
            rule("all-skip-fail", "bronze", "{all: [{branch_protection: {}}, {file: {any: [missing]}}]}"),
        ]
        .concat(),
    );
    let card = Run::new(&p, repo(&[("a", ""), ("config/.env", "")])).card();
    assert_eq!(status(&card, "all-fail"), Status::Fail);
    assert_eq!(card.rule("all-fail").unwrap().message, "no file matches `missing`");
    assert_eq!(status(&card, "any-pass"), Status::Pass);
    let not = card.rule("not").unwrap();
    assert_eq!(not.status, Status::Fail);
    assert_eq!(not.evidence[0].path, "config/.env");
    assert_eq!(status(&card, "any-skip"), Status::Skipped, "cannot tell whether `any` passes");
    assert_eq!(status(&card, "all-skip-fail"), Status::Fail, "a failure decides `all`");
}

#[test]
fn diff_names_fixed_and_broken_rules_and_the_level_change() {
    let p = three_levels();
    let base = Run::new(&p, repo(&[("README.md", "x"), ("slo.yaml", "x")])).card();
    let head = Run::new(&p, repo(&[("docs/runbook.md", "x"), ("slo.yaml", "x")])).card();
    let d = diff(&base, &head);
    assert_eq!(d.fixed, vec!["runbook"]);
    assert_eq!(d.broken, vec!["readme"]);
    assert_eq!((d.level_before.as_deref(), d.level_after.as_deref()), (Some("bronze"), None));
    assert_eq!(d.level_change, std::cmp::Ordering::Less);
    assert!(!d.is_empty());
    assert_eq!(d.broken_required(&head).collect::<Vec<_>>(), vec!["readme"]);
    assert!(diff(&base, &base).is_empty());
}

#[test]
fn embedded_policy_loads_with_the_spec_rule_ids() {
    let p = Policy::embedded();
    for id in [
        "owner",
        "codeowners",
        "readme",
        "runbook",
        "api-spec",
        "slo",
        "alerts",
        "oncall",
        "ci",
        "branch-protection",
        "vulnerabilities",
        "security-policy",
        "dependency-updates",
    ] {
        assert!(p.rule(id).is_some(), "embedded scorecard lacks rule `{id}`");
    }
    assert!(p.rules.len() >= 15);
    assert_eq!(p.levels, ["bronze", "silver", "gold"]);
    assert_eq!([1, 2, 3].map(|t| p.tiers[&t].requires.clone()), ["gold", "silver", "bronze"]);
    assert_eq!([1, 2, 3].map(|t| p.tiers[&t].gate), [Gate::Level, Gate::Regression, Gate::Regression]);
    for level in &p.levels {
        assert!(p.rules.iter().any(|r| &r.level == level), "no rule at {level}");
    }
    assert!(p.rules.iter().all(|r| r.remediation.len() > 40), "every rule has an actionable remediation");
}

use crate::policy::model::Gate;
