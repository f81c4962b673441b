//! `shipshape initiatives`: progress of time-boxed campaigns over several repositories, by rule and by team, and the
//! exit status (1 only for overdue work).

use crate::support::{Dir, Out, PolicyFile, Repo, rule, rule_when, run, service_yaml};
use serde_json::{Value, json};

/// Rules of the fleet's policy: `slo` and `branch` (a linked tool: skipped without a token) apply to tier 1 only.
fn rules() -> Vec<String> {
    vec![
        rule("readme", "bronze", "{file: {any: [README.md]}}"),
        rule("codeowners", "bronze", "{file: {any: [.github/CODEOWNERS]}}"),
        rule("runbook", "silver", "{file: {any: [docs/runbook.md]}}"),
        rule_when("slo", "gold", r#"{file: {any: ["slo/*.yaml"]}}"#, "{tiers: [1]}"),
        rule_when("branch", "gold", "{branch_protection: {}}", "{tiers: [1]}"),
    ]
}

const INITIATIVES: &str = "initiatives:
  - id: q1-ownership
    title: Every service owned and documented
    deadline: 2025-03-31
    rules: [readme, codeowners]
  - id: q3-reliability
    title: Runbooks and SLOs
    deadline: 2025-09-30
    rules: [runbook, slo, branch]
";

/// q1-ownership is 62 days overdue on this date; q3-reliability is due in 121 days.
const AS_OF: &str = "2025-06-01";

fn policy() -> PolicyFile {
    let mut parts = rules();
    parts.push(INITIATIVES.to_string());
    PolicyFile::new(&parts)
}

/// `services/<name>.yaml` linked to `acme/<name>`, owned by `owner`.
fn service(catalog: &Dir, name: &str, tier: u32, owner: &str) {
    let yaml =
        service_yaml(name, Some(tier), "service").replace(&format!("owner: team-{name}"), &format!("owner: {owner}"));
    catalog.write(&format!("services/{name}.yaml"), &yaml);
}

/// The fleet: four repositories, two teams and one repository the catalog does not know.
///
/// | repository | team | tier | q1-ownership (readme, codeowners) | q3-reliability (runbook, slo, branch) |
/// | payments | team-payments | 1 | done | unknown: branch skipped (no token) |
/// | checkout | team-payments | 2 | failing: codeowners | done (slo, branch do not apply) |
/// | search | team-search | 3 | done: codeowners excepted | failing: runbook |
/// | legacy | none (no catalog entry) | 3 (default) | failing: readme, codeowners | done |
struct Fleet {
    catalog: Dir,
    policy: PolicyFile,
    payments: Repo,
    checkout: Repo,
    search: Repo,
    legacy: Repo,
}

fn repo(name: &str, files: &[&str]) -> Repo {
    let repo = Repo::new(name);
    for file in files {
        repo.write(file, &format!("{file} of {name}\n"));
    }
    repo.write(".gitignore", "*.tmp\n");
    repo.commit("Initial commit");
    repo
}

fn fleet() -> Fleet {
    let catalog = Dir::new();
    service(&catalog, "payments", 1, "team-payments");
    service(&catalog, "checkout", 2, "team-payments");
    service(&catalog, "search", 3, "team-search");
    catalog.exception("search", "codeowners", "2025-12-31");
    Fleet {
        catalog,
        policy: policy(),
        payments: repo("payments", &["README.md", ".github/CODEOWNERS", "docs/runbook.md", "slo/availability.yaml"]),
        checkout: repo("checkout", &["README.md", "docs/runbook.md"]),
        search: repo("search", &["README.md"]),
        legacy: repo("legacy", &["docs/runbook.md"]),
    }
}

impl Fleet {
    /// `initiatives --policy P --catalog C EXTRA... REPOS...` (every repository when `repos` is empty).
    fn run(&self, extra: &[&str], repos: &[&Repo]) -> Out {
        let all = [&self.payments, &self.checkout, &self.search, &self.legacy];
        let repos = if repos.is_empty() { &all[..] } else { repos };
        let mut args = vec!["initiatives".to_string(), "--policy".into(), self.policy.arg()];
        args.extend(["--catalog".to_string(), self.catalog.arg()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(repos.iter().map(|r| r.arg()));
        run(&args)
    }

    fn json(&self, extra: &[&str], repos: &[&Repo]) -> (Out, Value) {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let out = self.run(&args, repos);
        let json = out.json();
        (out, json)
    }
}

#[test]
fn json_reports_each_initiative_by_rule_and_team() {
    let fleet = fleet();
    let (out, report) = fleet.json(&["--as-of", AS_OF], &[]);
    out.expect_code(1);
    assert_eq!(
        report,
        json!({
            "as_of": "2025-06-01",
            "initiatives": [
                {
                    "id": "q1-ownership",
                    "title": "Every service owned and documented",
                    "deadline": "2025-03-31",
                    "days_left": -62,
                    "overdue": true,
                    "services": {"total": 4, "done": 2, "failing": 2, "unknown": 0},
                    "rules": [
                        {"id": "readme", "title": "Rule readme", "failing": 1, "unknown": 0},
                        {"id": "codeowners", "title": "Rule codeowners", "failing": 2, "unknown": 0},
                    ],
                    "teams": [
                        {
                            "team": "team-payments", "total": 2, "done": 1,
                            "failing": [{"service": "checkout", "repository": "acme/checkout", "rules": ["codeowners"]}],
                            "unknown": [],
                        },
                        {"team": "team-search", "total": 1, "done": 1, "failing": [], "unknown": []},
                        {
                            "team": null, "total": 1, "done": 0,
                            "failing": [{"service": null, "repository": "acme/legacy", "rules": ["readme", "codeowners"]}],
                            "unknown": [],
                        },
                    ],
                },
                {
                    "id": "q3-reliability",
                    "title": "Runbooks and SLOs",
                    "deadline": "2025-09-30",
                    "days_left": 121,
                    "overdue": false,
                    "services": {"total": 4, "done": 2, "failing": 1, "unknown": 1},
                    "rules": [
                        {"id": "runbook", "title": "Rule runbook", "failing": 1, "unknown": 0},
                        {"id": "slo", "title": "Rule slo", "failing": 0, "unknown": 0},
                        {"id": "branch", "title": "Rule branch", "failing": 0, "unknown": 1},
                    ],
                    "teams": [
                        {
                            "team": "team-payments", "total": 2, "done": 1, "failing": [],
                            "unknown": [{"service": "payments", "repository": "acme/payments", "rules": ["branch"]}],
                        },
                        {
                            "team": "team-search", "total": 1, "done": 0,
                            "failing": [{"service": "search", "repository": "acme/search", "rules": ["runbook"]}],
                            "unknown": [],
                        },
                        {"team": null, "total": 1, "done": 1, "failing": [], "unknown": []},
                    ],
                },
            ],
        }),
        "{out:?}"
    );
}

#[test]
fn text_shows_deadlines_counts_rules_and_teams() {
    let fleet = fleet();
    let out = fleet.run(&["--as-of", AS_OF], &[]);
    out.expect_code(1);
    let text = &out.stdout;
    for line in [
        "Initiatives as of 2025-06-01 (4 services)\n",
        "\nEvery service owned and documented (q1-ownership)\n  deadline 2025-03-31: overdue by 62 days\n  \
         2 of 4 services done, 2 failing, 0 unknown\n",
        "\n  RULE        FAILING  UNKNOWN  TITLE\n  readme      1        0        Rule readme\n  \
         codeowners  2        0        Rule codeowners\n",
        "\nRunbooks and SLOs (q3-reliability)\n  deadline 2025-09-30: 121 days left\n  \
         2 of 4 services done, 1 failing, 1 unknown\n",
        "\n  branch   0        1        Rule branch\n",
        "\nTeams\n  TEAM           INITIATIVE      DONE  NOT DONE       RULES\n",
        "\n  team-payments  q1-ownership    1/2   ✗ checkout     codeowners\n",
        "\n  team-payments  q3-reliability  1/2   ? payments     branch\n",
        "\n  team-search    q1-ownership    1/1\n",
        "\n  team-search    q3-reliability  0/1   ✗ search       runbook\n",
        "\n  (no owner)     q1-ownership    0/1   ✗ acme/legacy  readme, codeowners\n",
        "\n  (no owner)     q3-reliability  1/1\n",
        "\n\noverdue: q1-ownership (2 services failing)\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{out:?}");
    }
    assert!(!text.contains('\x1b'), "no colour off a terminal: {text:?}");
}

#[test]
fn failing_before_the_deadline_is_not_a_failure() {
    let fleet = fleet();
    // Three months earlier, q1-ownership is 30 days from its deadline: nothing is overdue yet.
    let (out, report) = fleet.json(&["--as-of", "2025-03-01"], &[]);
    out.expect_code(0);
    assert_eq!(report["initiatives"][0]["days_left"], 30);
    assert_eq!(report["initiatives"][0]["overdue"], false);
    assert_eq!(report["initiatives"][0]["services"]["failing"], 2);

    // On the deadline day it is still in time.
    let out = fleet.run(&["--as-of", "2025-03-31"], &[]);
    out.expect_code(0);
    assert!(out.stdout.contains("  deadline 2025-03-31: due today\n"), "{out:?}");
    assert!(out.stdout.ends_with("\nno overdue work\n"), "{out:?}");
}

#[test]
fn overdue_initiative_with_every_service_done_exits_zero() {
    let fleet = fleet();
    // payments and search are done with q1-ownership (search by its exception); search fails q3-reliability, which
    // is not due yet.
    let (out, report) = fleet.json(&["--as-of", AS_OF], &[&fleet.payments, &fleet.search]);
    out.expect_code(0);
    let q1 = &report["initiatives"][0];
    assert_eq!(q1["services"], json!({"total": 2, "done": 2, "failing": 0, "unknown": 0}));
    assert_eq!((q1["days_left"].as_i64(), &q1["overdue"]), (Some(-62), &json!(false)));
    assert_eq!(report["initiatives"][1]["services"]["failing"], 1);

    let out = fleet.run(&["--as-of", AS_OF], &[&fleet.payments, &fleet.search]);
    out.expect_code(0);
    assert!(out.stdout.contains("  deadline 2025-03-31: deadline passed 62 days ago\n"), "{out:?}");
}

#[test]
fn an_expired_exception_no_longer_counts_as_done() {
    let fleet = fleet();
    let (out, report) = fleet.json(&["--as-of", "2026-01-01"], &[&fleet.payments, &fleet.search]);
    out.expect_code(1);
    let q1 = &report["initiatives"][0];
    assert_eq!(q1["services"], json!({"total": 2, "done": 1, "failing": 1, "unknown": 0}));
    assert_eq!(
        q1["teams"][1]["failing"],
        json!([{"service": "search", "repository": "acme/search", "rules": ["codeowners"]}])
    );
    assert!(out.stderr.contains("expired on 2025-12-31"), "the expiry warning is shown: {out:?}");
}

#[test]
fn a_policy_without_initiatives_says_so_and_exits_zero() {
    let repo = repo("payments", &["README.md"]);
    let policy = PolicyFile::new(&rules());
    let out = run(["initiatives", "--policy", &policy.arg(), &repo.arg()]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        format!("{} defines no initiatives: nothing to track (add `initiatives:` to the policy)\n", policy.arg())
    );

    let out = run(["initiatives", "--policy", &policy.arg(), "--format", "json", "--as-of", AS_OF, &repo.arg()]);
    out.expect_code(0);
    assert_eq!(out.json(), json!({"as_of": "2025-06-01", "initiatives": []}));
    assert!(out.stderr.contains("defines no initiatives"), "{out:?}");
}

#[test]
fn usage_config_and_input_errors_exit_two() {
    let fleet = fleet();
    let bad_date = fleet.run(&["--as-of", "2025-02-30"], &[]);
    bad_date.expect_code(2);
    assert!(bad_date.stderr.contains("`2025-02-30` is not a date written YYYY-MM-DD"), "{bad_date:?}");

    let bad_format = fleet.run(&["--format", "sarif"], &[]);
    bad_format.expect_code(2);
    assert!(bad_format.stderr.contains("sarif"), "{bad_format:?}");

    let nowhere = Dir::new();
    let missing = nowhere.path().join("missing").display().to_string();
    let out = run(["initiatives", "--policy", &fleet.policy.arg(), &fleet.payments.arg(), &missing]);
    out.expect_code(2);
    assert!(out.stderr.contains("no such directory"), "{out:?}");
    assert_eq!(out.stdout, "", "no partial report: {out:?}");

    // An initiative naming an unknown rule is a policy error, pointed at.
    let mut parts = rules();
    parts.push("initiatives:\n  - id: q1\n    title: Q1\n    deadline: 2025-03-31\n    rules: [readmy]\n".into());
    let broken = PolicyFile::new(&parts);
    let out = run(["initiatives", "--policy", &broken.arg(), &fleet.payments.arg()]);
    out.expect_code(2);
    assert!(out.stderr.contains("initiative `q1` names unknown rule `readmy` (did you mean `readme`?)"), "{out:?}");
    assert_eq!(out.stdout, "");
}
