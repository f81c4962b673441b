//! A catalog with bad files on the App's side (issue 13, items 14 and 15): the `Catalog validation` check on a
//! catalog pull request reports every problem of each bad file at its position (typos as warnings), and scoring
//! leaves the bad files out, naming them in the scorecard's notes.

use crate::commands::{CATALOG, POLICY, Setup, catalog_pull_payload, service};
use crate::e2e::{OWNER, REPO};
use crate::fake_github::FakePull;

/// `billing` without `kind` and `spec` (line 1 is the mapping both are missing from).
const BILLING: &str = "apiVersion: backstage.io/v1alpha1
metadata:
  name: billing
  annotations:
    github.com/project-slug: acme/billing
";

/// An exception for `uptime-report`, a rule the policy does not have.
const DROPPED_RULE: &str = "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: payments\nrule: uptime-report\n\
                            reason: replaced by SLOs\nexpires: 2026-11-20\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_validation_reports_each_bad_file_and_scoring_names_them() {
    let s = Setup::new(2).await;
    let fake = s.fake();
    let main = fake.branches(OWNER, CATALOG).into_iter().find(|(b, _)| b == "main").unwrap().1;
    // `lifecycle` misspelt in payments (line 12, col 3): a warning, the entry stays.
    let payments = service(2).replace("  lifecycle:", "  lifecyle:");
    let files = [
        ("policies/scorecard.yaml", POLICY),
        ("services/payments.yaml", payments.as_str()),
        ("services/billing.yaml", BILLING),
        ("exceptions/payments/uptime-report.yaml", DROPPED_RULE),
    ];
    let head = fake.commit(OWNER, CATALOG, &files);
    fake.set_branch(OWNER, CATALOG, "partial", &head);
    fake.add_pull(OWNER, CATALOG, 50, &head, "partial", "main");
    let pull =
        FakePull { base_sha: main.clone(), ..fake.pulls(OWNER, CATALOG).into_iter().find(|p| p.number == 50).unwrap() };
    s.deliver("pull_request", &catalog_pull_payload("opened", &pull, false)).await;

    let run = fake.check_runs(OWNER, CATALOG).into_iter().find(|r| r["name"] == "Catalog validation").expect("a run");
    assert_eq!(run["conclusion"], "failure", "{run:#}");
    let annotations: Vec<(String, u64, String, String)> = fake
        .annotations(run["id"].as_u64().unwrap())
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap().to_string();
            (text("path"), a["start_line"].as_u64().unwrap(), text("annotation_level"), text("message"))
        })
        .collect();
    let expected = [
        ("exceptions/payments/uptime-report.yaml", 4, "failure", "exception for unknown rule `uptime-report`"),
        ("services/billing.yaml", 1, "failure", "missing required key `kind`"),
        ("services/billing.yaml", 1, "failure", "missing required key `spec`"),
        (
            "services/payments.yaml",
            12,
            "warning",
            "unknown key `spec.lifecyle`: did you mean `lifecycle`? (shipshape does not read it)",
        ),
    ];
    let expected: Vec<(String, u64, String, String)> =
        expected.iter().map(|(p, l, a, m)| (p.to_string(), *l, a.to_string(), m.to_string())).collect();
    assert_eq!(annotations, expected);

    // Merged as it is (say, by an administrator): the service repository is scored with the rest of the catalog,
    // and its check run says what was left out.
    fake.set_branch(OWNER, CATALOG, "main", &head);
    s.deliver("pull_request", &s.world.pull_request("synchronize", 7, &s.head, &s.base)).await;
    let run = fake
        .check_runs(OWNER, REPO)
        .into_iter()
        .rfind(|r| r["name"] == "Production readiness" && r["head_sha"] == s.head.as_str())
        .expect("a check run");
    let summary = run["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("services/billing.yaml"), "{summary}");
    assert!(summary.contains("exceptions/payments/uptime-report.yaml"), "{summary}");
    s.fake().assert_clean();
}
