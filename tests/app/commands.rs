//! Comment commands and the GitOps catalog end to end: `/request-exception` and `/change-tier` into catalog pull
//! requests, refusals and usage replies, `/recheck` and `/readiness`, the `Catalog validation` check run, what a
//! catalog merge does, and the weekly removal of expired exceptions, against the fake GitHub (OpenAPI-checked).

use crate::e2e::{INSTALLATION, OWNER, REPO, World, fixture, point_at_repo, readme};
use crate::fake_github::{FakeGitHub, FakePull};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use shipshape::catalog::Catalog;
use shipshape::clock::ManualClock;
use shipshape::diag::Diagnostics;
use shipshape::engine::{Scorecard, Status};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const CATALOG: &str = "catalog";

pub(crate) const POLICY: &str = "apiVersion: shipshape.dev/v1
kind: Scorecard
default_tier: 3
tiers:
  1: {requires: silver, deadline_days: 10, exception_max_days: 30}
  2: {requires: silver, deadline_days: 30, exception_max_days: 60}
  3: {requires: bronze, deadline_days: 30, exception_max_days: 90}
rules:
  - {id: readme, title: Has a README, level: bronze, remediation: Write a README., check: {file: {any: [README.md]}}}
  - {id: runbook, title: Has a runbook, level: silver, remediation: Write RUNBOOK.md., check: {file: {any: [RUNBOOK.md]}}}
  - {id: security-policy, title: Has a security policy, level: silver, remediation: Add SECURITY.md., check: {file: {any: [SECURITY.md]}}}
  - {id: slo, title: Has SLOs, level: gold, remediation: Add slo.yaml., check: {file: {any: [slo.yaml]}}}
";

pub(crate) fn service(tier: u32) -> String {
    format!(
        "# Payments API\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  \
         annotations:\n    github.com/project-slug: acme/payments  # the service repository\nspec:\n  type: service\n  \
         owner: team-payments\n  tier: {tier}  # reviewed by SRE\n  lifecycle: production\n"
    )
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

/// A service repository `acme/payments` with a README only, an open pull request #7 on it, the catalog with
/// [`POLICY`] and the service at `tier`, and a clock on [`today`].
pub(crate) struct Setup {
    pub(crate) world: World,
    pub(crate) head: String,
    pub(crate) base: String,
    /// The world's clock, to move on.
    pub(crate) clock: Arc<ManualClock>,
    comments: u64,
}

impl Setup {
    pub(crate) async fn new(tier: u32) -> Setup {
        Setup::with_vars(tier, Vec::new()).await
    }

    /// [`Setup::new`] with more configuration variables.
    pub(crate) async fn with_vars(tier: u32, vars: Vec<(&'static str, String)>) -> Setup {
        let mut world = World::new(tier).await;
        world.vars.extend(vars);
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()));
        world.clock = clock.clone();
        let catalog = world.fake.commit(
            OWNER,
            CATALOG,
            &[("policies/scorecard.yaml", POLICY), ("services/payments.yaml", service(tier).as_str())],
        );
        world.fake.set_branch(OWNER, CATALOG, "main", &catalog);
        let readme = readme();
        let base = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str())]);
        world.fake.set_branch(OWNER, REPO, "main", &base);
        let head = world.fake.commit(OWNER, REPO, &[("README.md", readme.as_str()), ("docs/notes.md", "notes\n")]);
        world.fake.set_branch(OWNER, REPO, "feature", &head);
        world.fake.add_pull(OWNER, REPO, 7, &head, "feature", "main");
        world.fake.set_permission(OWNER, REPO, "alice", "write");
        world.fake.set_permission(OWNER, REPO, "maya", "maintain");
        world.fake.set_permission(OWNER, REPO, "rita", "read");
        world.start(2).await;
        Setup { world, head, base, clock, comments: 0 }
    }

    pub(crate) fn fake(&self) -> &FakeGitHub {
        &self.world.fake
    }

    /// `login` comments `body` on issue or pull request `number` (created in the fake, then its webhook sent).
    /// Returns the comment id and the payload (to redeliver).
    pub(crate) async fn comment(&mut self, number: u64, login: &str, body: &str) -> (u64, Vec<u8>) {
        let id = self.fake().add_user_comment(OWNER, REPO, number, login, body);
        self.comments += 1;
        let payload = comment_payload(number, id, login, body, number == 7);
        self.deliver("issue_comment", &payload).await;
        (id, payload)
    }

    pub(crate) async fn deliver(&self, event: &str, payload: &[u8]) {
        let delivery = self.world.next_delivery();
        assert_eq!(self.world.send(event, &delivery, payload).await, 202);
        self.world.settle().await;
        let record = self.world.running().store.delivery(&delivery).await.unwrap().unwrap();
        assert!(
            matches!(record.status, shipshape::store::DeliveryStatus::Done | shipshape::store::DeliveryStatus::Ignored),
            "{record:?}"
        );
    }

    /// The App's replies on issue or pull request `number` of the service repository.
    pub(crate) fn replies(&self, number: u64) -> Vec<String> {
        self.fake()
            .issue_comments(OWNER, REPO, number)
            .iter()
            .filter(|c| c["user"]["type"] == "Bot")
            .filter(|c| !c["body"].as_str().unwrap_or_default().contains("<!-- shipshape:production-readiness -->"))
            .map(|c| c["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub(crate) fn catalog_pulls(&self) -> Vec<FakePull> {
        self.fake().pulls(OWNER, CATALOG).into_iter().filter(|p| p.user.ends_with("[bot]")).collect()
    }

    /// Merges a catalog pull request as GitHub would and sends the `pull_request` closed and `push` webhooks.
    async fn merge(&self, number: u64) -> String {
        let pull = self.catalog_pulls().into_iter().find(|p| p.number == number).expect("the pull request");
        let merge = self.fake().merge_pull(OWNER, CATALOG, number);
        self.deliver("pull_request", &catalog_pull_payload("closed", &pull, true)).await;
        self.deliver("push", &catalog_push_payload(&pull.base_sha, &merge)).await;
        merge
    }

    /// The pull request head's scorecard as the App stored it.
    async fn stored_card(&self, sha: &str) -> Scorecard {
        let key = format!("{OWNER}/{REPO}@{sha}");
        let entry = self.world.running().store.kv_get("scorecard", &key).await.unwrap().expect("a stored scorecard");
        serde_json::from_slice(&entry.value).unwrap()
    }
}

pub(crate) fn comment_payload(number: u64, id: u64, login: &str, body: &str, pull_request: bool) -> Vec<u8> {
    let mut payload = fixture("issue_comment", "created.payload.json");
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    point_at_repo(&mut payload["repository"]);
    payload["issue"]["number"] = number.into();
    if pull_request {
        payload["issue"]["pull_request"] =
            json!({"url": format!("https://api.github.com/repos/{OWNER}/{REPO}/pulls/{number}")});
    } else if let Some(issue) = payload["issue"].as_object_mut() {
        issue.remove("pull_request");
    }
    let comment = &mut payload["comment"];
    comment["id"] = id.into();
    comment["body"] = body.into();
    comment["html_url"] = format!("https://github.com/{OWNER}/{REPO}/pull/{number}#issuecomment-{id}").into();
    comment["user"]["login"] = login.into();
    comment["user"]["type"] = if login.ends_with("[bot]") { "Bot" } else { "User" }.into();
    serde_json::to_vec(&payload).unwrap()
}

fn point_at_catalog(repo: &mut Value) {
    point_at_repo(repo);
    repo["name"] = CATALOG.into();
    repo["full_name"] = format!("{OWNER}/{CATALOG}").into();
}

pub(crate) fn catalog_pull_payload(action: &str, pull: &FakePull, merged: bool) -> Vec<u8> {
    let mut payload = fixture("pull_request", "opened.payload.json");
    payload["action"] = action.into();
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    point_at_catalog(&mut payload["repository"]);
    let pr = &mut payload["pull_request"];
    pr["number"] = pull.number.into();
    pr["draft"] = false.into();
    pr["merged"] = merged.into();
    pr["state"] = if action == "closed" { "closed" } else { "open" }.into();
    pr["head"]["sha"] = pull.head_sha.clone().into();
    pr["head"]["ref"] = pull.head_ref.clone().into();
    pr["base"]["sha"] = pull.base_sha.clone().into();
    pr["base"]["ref"] = pull.base_ref.clone().into();
    point_at_catalog(&mut pr["base"]["repo"]);
    serde_json::to_vec(&payload).unwrap()
}

fn catalog_push_payload(before: &str, after: &str) -> Vec<u8> {
    let mut payload = fixture("push", "with-installation.payload.json");
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    point_at_catalog(&mut payload["repository"]);
    payload["ref"] = "refs/heads/main".into();
    payload["before"] = before.into();
    payload["after"] = after.into();
    payload["deleted"] = false.into();
    payload["head_commit"]["id"] = after.into();
    serde_json::to_vec(&payload).unwrap()
}

fn exception_file(rule: &str, expires: &str) -> String {
    format!(
        "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: payments\nrule: {rule}\nreason: wiki move\nexpires: {expires}\n"
    )
}

/// Parses catalog files with the product's own reader: the exceptions it finds, with its problems.
fn read_catalog(files: &[(&str, String)]) -> (Catalog, Diagnostics) {
    let files: BTreeMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.clone())).collect();
    let mut diags = Diagnostics::default();
    let catalog = Catalog::from_files("", &files, &mut diags);
    (catalog, diags)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_request_becomes_a_catalog_pull_request_and_its_merge_the_approval() {
    let mut s = Setup::new(2).await;
    let reason = "Runbook moves to the new wiki in December: see @acme/sre <b>plan</b>";
    let (id, payload) =
        s.comment(7, "alice", &format!("Thanks!\n\n/request-exception runbook for 14d {reason}\n")).await;

    // 👀, one catalog pull request, and a reply that links it.
    assert_eq!(s.fake().comment_reactions(OWNER, REPO, id), vec!["eyes".to_string()]);
    let pulls = s.catalog_pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pull = &pulls[0];
    assert_eq!((pull.base_ref.as_str(), pull.state.as_str()), ("main", "open"));
    assert_eq!(pull.head_ref, format!("shipshape/exception/payments/runbook/{id}"));
    assert_eq!(pull.title, "Exception: payments / runbook until 2026-11-16");
    let replies = s.replies(7);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let url = format!("/{OWNER}/{CATALOG}/pull/{}", pull.number);
    assert!(replies[0].contains(&url) && replies[0].contains("until 2026-11-16"), "{}", replies[0]);

    // The file parses, with the product's own reader, to exactly the requested exception; nothing else changed.
    let file = s.fake().file_at(OWNER, CATALOG, &pull.head_ref, "exceptions/payments/runbook.yaml").expect("file");
    let (catalog, diags) = read_catalog(&[
        ("policies/scorecard.yaml", POLICY.to_string()),
        ("services/payments.yaml", service(2)),
        ("exceptions/payments/runbook.yaml", file.clone()),
    ]);
    assert!(diags.is_empty(), "{diags}");
    assert_eq!(catalog.exceptions.len(), 1);
    let exception = &catalog.exceptions[0];
    assert_eq!((exception.service.as_str(), exception.rule.as_str()), ("payments", "runbook"));
    assert_eq!(exception.reason, reason, "user text is data: {file}");
    assert_eq!(exception.expires, today() + chrono::Days::new(14));
    assert_eq!(exception.requested_by.as_deref(), Some("alice"));
    assert_eq!(
        exception.requested_in.as_deref(),
        Some(format!("https://github.com/{OWNER}/{REPO}/pull/7#issuecomment-{id}").as_str())
    );
    assert_eq!(s.fake().file_at(OWNER, CATALOG, &pull.head_ref, "services/payments.yaml"), Some(service(2)));
    // The body: who, why (neutralised: no ping, no HTML), until when, the rule's status and remediation.
    let body = &pull.body;
    assert!(body.contains("`alice`") && body.contains("2026-11-16") && body.contains("Write RUNBOOK.md."), "{body}");
    assert!(body.contains("fail") && !body.contains("@acme/sre") && !body.contains("<b>"), "{body}");

    // The same comment redelivered: no second pull request, no second reply.
    s.deliver("issue_comment", &payload).await;
    assert_eq!(s.catalog_pulls().len(), 1);
    assert_eq!(s.replies(7).len(), 1);
    // Someone else asks for the same exception while it is open: linked to the open one.
    s.comment(7, "maya", "/request-exception runbook until 2026-11-30 same here").await;
    assert_eq!(s.catalog_pulls().len(), 1);
    let replies = s.replies(7);
    assert_eq!(replies.len(), 2);
    assert!(replies[1].contains("already requested") && replies[1].contains(&url), "{}", replies[1]);

    // Before the merge the rule fails on the pull request; the merge is the approval.
    s.deliver("pull_request", &s.world.pull_request("synchronize", 7, &s.head, &s.base)).await;
    assert_eq!(s.stored_card(&s.head).await.rule("runbook").unwrap().status, Status::Fail);
    let merge = s.merge(pull.number).await;
    let card = s.stored_card(&s.head).await;
    let runbook = card.rule("runbook").unwrap();
    // The merge scored the service; the push of the merge commit does not score it again.
    let deliveries = s.world.running().store.deliveries().await.unwrap();
    assert!(!deliveries.iter().any(|d| d.delivery_id.starts_with(&format!("catalog-{merge}"))), "{deliveries:#?}");
    assert_eq!(runbook.status, Status::Excepted, "{card:#?}");
    assert_eq!(runbook.exception.as_ref().unwrap().expires, "2026-11-16");
    let run = s.fake().check_runs(OWNER, REPO).into_iter().find(|r| r["head_sha"] == s.head.as_str()).unwrap();
    assert!(run["output"]["summary"].as_str().unwrap().contains("Excepted until 2026-11-16"), "{run:#}");
    // The default branch was scored again too: the runbook task of the tracking issue is closed as not planned.
    let task = s
        .fake()
        .issues(OWNER, REPO)
        .into_iter()
        .find(|i| i.body.as_deref().is_some_and(|b| b.contains("\"rule\":\"runbook\"")))
        .expect("the runbook sub-issue");
    assert_eq!((task.state.as_str(), task.state_reason.as_deref()), ("closed", Some("not_planned")), "{task:#?}");
    let replies = s.replies(7);
    assert_eq!(replies.len(), 3, "{replies:#?}");
    assert!(replies[2].contains("Exception approved") && replies[2].contains("2026-11-16"), "{}", replies[2]);
    // A redelivered merge answers nothing more.
    let merged = s.catalog_pulls().into_iter().find(|p| p.number == pull.number).unwrap();
    s.deliver("pull_request", &catalog_pull_payload("closed", &merged, true)).await;
    assert_eq!(s.replies(7).len(), 3);
    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commenters_without_write_permission_are_refused_and_bots_ignored() {
    let mut s = Setup::new(2).await;
    let (id, _) = s.comment(7, "rita", "/request-exception runbook for 14d please").await;
    let replies = s.replies(7);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert!(replies[0].contains("needs write, maintain or admin permission"), "{}", replies[0]);
    assert!(replies[0].contains("`rita` has read permission"), "{}", replies[0]);
    assert!(s.fake().comment_reactions(OWNER, REPO, id).is_empty(), "no 👀 for a refused command");
    // Someone GitHub does not know as a collaborator at all.
    s.comment(7, "stranger", "/change-tier 1 trust me").await;
    assert!(s.replies(7)[1].contains("`stranger` has no permission here"), "{}", s.replies(7)[1]);
    // Bots, the App included, are ignored.
    s.comment(7, "dependabot[bot]", "/recheck").await;
    assert_eq!(s.replies(7).len(), 2);
    assert!(s.catalog_pulls().is_empty());
    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_commands_get_their_usage_and_out_of_bounds_requests_say_why() {
    let mut s = Setup::new(2).await;
    let (id, _) = s.comment(7, "alice", "/request-exception runbook for 14 days").await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("line 1, column 32"), "{reply}");
    assert!(
        reply.contains("Usage: `/request-exception <rule-id> [for <N>d | until <YYYY-MM-DD>] <reason>`"),
        "{reply}"
    );
    assert_eq!(s.fake().comment_reactions(OWNER, REPO, id), vec!["confused".to_string()]);

    s.comment(7, "alice", "/rechek").await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("Did you mean `/recheck`?"), "{reply}");

    // Quoted and fenced commands are not commands.
    s.comment(7, "alice", "> /recheck\n\n```\n/recheck\n```\n").await;
    assert_eq!(s.replies(7).len(), 2);

    // Well-formed but not allowed: longer than the tier allows, an unknown rule, a rule that does not apply.
    s.comment(7, "alice", "/request-exception runbook for 61d busy").await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("tier 2 allows exceptions of at most 60 days (until 2027-01-01"), "{reply}");
    s.comment(7, "alice", "/request-exception runbok for 10d typo").await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("no rule `runbok` (did you mean `runbook`?)"), "{reply}");
    s.comment(7, "alice", "/change-tier 9 why not").await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("no tier 9 (tiers: 1, 2, 3)"), "{reply}");
    assert!(s.catalog_pulls().is_empty());
    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_change_is_a_minimal_diff_with_the_rules_the_new_tier_adds() {
    let mut s = Setup::new(3).await;
    s.comment(7, "maya", "/change-tier 1 now customer facing").await;
    let pulls = s.catalog_pulls();
    assert_eq!(pulls.len(), 1, "{:#?}", s.replies(7));
    let pull = &pulls[0];
    assert_eq!(pull.title, "Tier change: payments from tier 3 to tier 1");
    let edited = s.fake().file_at(OWNER, CATALOG, &pull.head_ref, "services/payments.yaml").unwrap();
    let before = service(3);
    let changed: Vec<(&str, &str)> = before.lines().zip(edited.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(changed, vec![("  tier: 3  # reviewed by SRE", "  tier: 1  # reviewed by SRE")]);
    assert_eq!(edited.lines().count(), before.lines().count());
    // The body lists the rules tier 1 adds and which fail now, with the deadline that would start.
    let body = &pull.body;
    for line in [
        "| **Has a runbook** (`runbook`) | silver | fail | 2026-11-12 |",
        "| **Has a security policy** (`security-policy`) | silver | fail | 2026-11-12 |",
    ] {
        assert!(body.contains(line), "{line}\n{body}");
    }
    assert!(!body.contains("`slo`"), "gold is not required by tier 1: {body}");
    assert!(body.contains("**bronze** → **silver**"), "{body}");
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("Tier 1 applies once"), "{reply}");

    // Merged: the catalog says tier 1 and the thread is told.
    s.merge(pull.number).await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("Tier changed") && reply.contains("tier **1**") && reply.contains("**silver**"), "{reply}");
    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recheck_and_readiness_answer_with_the_scorecard() {
    let mut s = Setup::new(2).await;
    s.comment(7, "alice", "/recheck").await;
    let reply = s.replies(7).pop().unwrap();
    assert!(reply.contains("Re-checked"), "{reply}");
    assert!(reply.contains(&format!("This pull request at {}", &s.head[..7])), "{reply}");
    assert!(reply.contains("The default branch `main`"), "{reply}");
    let run = s.fake().check_runs(OWNER, REPO).into_iter().find(|r| r["head_sha"] == s.head.as_str());
    assert_eq!(run.expect("the pull request's check run")["status"], "completed");
    // The tracking issue was written by the default branch's evaluation, and the reply links it.
    let tracking = s.fake().issues(OWNER, REPO).into_iter().find(|i| i.labels.contains(&"production-readiness".into()));
    let tracking = tracking.expect("a tracking issue");
    assert!(reply.contains(&format!("/issues/{}", tracking.number)), "{reply}");

    // `/readiness` on the tracking issue: the default branch's scorecard and the commands.
    s.comment(tracking.number, "alice", "/readiness").await;
    let reply = s.replies(tracking.number).pop().unwrap();
    assert!(reply.contains("Has a runbook") && reply.contains("/request-exception <rule-id>"), "{reply}");
    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_pull_requests_are_validated_with_annotations_and_an_impact_preview() {
    let s = Setup::new(2).await;
    let fake = s.fake();
    let main = fake.branches(OWNER, CATALOG).into_iter().find(|(b, _)| b == "main").unwrap().1;
    // Broken YAML in a new service file: the annotation is on the line of the error.
    let broken = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: search\nspec:\n  tier: [1\n";
    let head = fake.commit(
        OWNER,
        CATALOG,
        &[
            ("policies/scorecard.yaml", POLICY),
            ("services/payments.yaml", &service(2)),
            ("services/search.yaml", broken),
            ("services/billing.yaml", &service(1).replace("name: payments", "name: billing")),
            ("exceptions/payments/runbok.yaml", &exception_file("runbok", "2026-12-01")),
            ("exceptions/payments/security-policy.yaml", &exception_file("security-policy", "2027-06-01")),
        ],
    );
    fake.set_branch(OWNER, CATALOG, "broken", &head);
    fake.add_pull(OWNER, CATALOG, 40, &head, "broken", "main");
    let pull =
        FakePull { base_sha: main.clone(), ..fake.pulls(OWNER, CATALOG).into_iter().find(|p| p.number == 40).unwrap() };
    s.deliver("pull_request", &catalog_pull_payload("opened", &pull, false)).await;
    let run = fake.check_runs(OWNER, CATALOG).into_iter().find(|r| r["name"] == "Catalog validation").expect("a run");
    assert_eq!((run["status"].as_str(), run["conclusion"].as_str()), (Some("completed"), Some("failure")), "{run:#}");
    let annotations: Vec<(String, u64, String)> = fake
        .annotations(run["id"].as_u64().unwrap())
        .iter()
        .map(|a| {
            assert_eq!(a["annotation_level"], "failure", "{a:#}");
            (
                a["path"].as_str().unwrap().into(),
                a["start_line"].as_u64().unwrap(),
                a["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, String)> = vec![
        (
            "exceptions/payments/runbok.yaml".into(),
            4,
            "exception for unknown rule `runbok` (did you mean `runbook`?)".into(),
        ),
        (
            "exceptions/payments/security-policy.yaml".into(),
            6,
            "expires 2027-06-01 is further away than tier 2 allows (60 days: 2027-01-01 at the latest)".into(),
        ),
        ("services/billing.yaml".into(), 7, "repository `acme/payments` is also claimed by service `payments`".into()),
        ("services/payments.yaml".into(), 7, "repository `acme/payments` is also claimed by service `billing`".into()),
    ];
    assert_eq!(annotations[..4], expected[..], "{annotations:#?}");
    // The unclosed list: the annotation is on its line.
    assert_eq!(annotations.len(), 5, "{annotations:#?}");
    assert_eq!((annotations[4].0.as_str(), annotations[4].1), ("services/search.yaml", 6), "{annotations:#?}");

    // A valid exception: success, and the preview shows the rule newly excepted for the service.
    let exception = "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: payments\nrule: runbook\nreason: wiki move\n\
                     expires: 2026-12-01\nrequested_by: alice\n";
    let head = fake.commit(
        OWNER,
        CATALOG,
        &[
            ("policies/scorecard.yaml", POLICY),
            ("services/payments.yaml", &service(2)),
            ("exceptions/payments/runbook.yaml", exception),
        ],
    );
    fake.set_branch(OWNER, CATALOG, "exception", &head);
    fake.add_pull(OWNER, CATALOG, 41, &head, "exception", "main");
    let pull =
        FakePull { base_sha: main.clone(), ..fake.pulls(OWNER, CATALOG).into_iter().find(|p| p.number == 41).unwrap() };
    s.deliver("pull_request", &catalog_pull_payload("opened", &pull, false)).await;
    let run = fake.check_runs(OWNER, CATALOG).into_iter().find(|r| r["head_sha"] == head.as_str()).unwrap();
    assert_eq!(run["conclusion"], "success", "{run:#}");
    let summary = run["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("| `payments` | bronze → bronze | no → no |  |  | `runbook` |"), "{summary}");
    assert!(summary.contains("Newly excepted"), "{summary}");

    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_previews_how_many_services_would_drop_below_their_level() {
    // Tier 3 requires bronze, which the README alone meets.
    let s = Setup::new(3).await;
    let fake = s.fake();
    let main = fake.branches(OWNER, CATALOG).into_iter().find(|(b, _)| b == "main").unwrap().1;
    let stricter = POLICY
        .replace("level: silver, remediation: Write RUNBOOK.md.", "level: bronze, remediation: Write RUNBOOK.md.");
    let head = fake.commit(
        OWNER,
        CATALOG,
        &[("policies/scorecard.yaml", stricter.as_str()), ("services/payments.yaml", &service(3))],
    );
    fake.set_branch(OWNER, CATALOG, "policy", &head);
    fake.add_pull(OWNER, CATALOG, 42, &head, "policy", "main");
    let pull = FakePull { base_sha: main, ..fake.pulls(OWNER, CATALOG).into_iter().find(|p| p.number == 42).unwrap() };
    s.deliver("pull_request", &catalog_pull_payload("opened", &pull, false)).await;
    let run = fake.check_runs(OWNER, CATALOG).into_iter().find(|r| r["head_sha"] == head.as_str()).unwrap();
    assert_eq!(run["conclusion"], "neutral", "{run:#}");
    assert_eq!(run["output"]["title"], "Valid; 1 service(s) would drop below their required level");
    let summary = run["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("**1** of 1 service(s) would drop below their required level"), "{summary}");
    // `runbook` failed before too (not required then): newly required, not newly failing.
    assert!(summary.contains("| `payments` | bronze → none | yes → no | `runbook` |  |  |"), "{summary}");
    s.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_exceptions_are_removed_by_one_weekly_pull_request() {
    let s = Setup::new(2).await;
    let expired = |rule: &str, expires: &str| {
        format!(
            "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: payments\nrule: {rule}\nreason: old\nexpires: {expires}\n"
        )
    };
    let sha = s.fake().commit(
        OWNER,
        CATALOG,
        &[
            ("policies/scorecard.yaml", POLICY),
            ("services/payments.yaml", &service(2)),
            ("exceptions/payments/runbook.yaml", &expired("runbook", "2026-10-01")),
            ("exceptions/payments/slo.yaml", &expired("slo", "2026-11-30")),
        ],
    );
    s.fake().set_branch(OWNER, CATALOG, "main", &sha);
    s.world.running().cleanup_now().await.unwrap();
    s.world.settle().await;
    let pulls = s.catalog_pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pull = &pulls[0];
    assert_eq!(s.fake().file_at(OWNER, CATALOG, &pull.head_ref, "exceptions/payments/runbook.yaml"), None);
    assert!(s.fake().file_at(OWNER, CATALOG, &pull.head_ref, "exceptions/payments/slo.yaml").is_some());
    assert!(pull.body.contains("| `payments` | `runbook` | 2026-10-01 | old |"), "{}", pull.body);
    // The next week, while it is still open: no second one.
    s.world.running().cleanup_now().await.unwrap();
    s.world.settle().await;
    assert_eq!(s.catalog_pulls().len(), 1);
    s.fake().assert_clean();
}

/// A catalog pull request is scored for its preview, but only the merged policy's requests leave the App: a new
/// `http` check holding a secret is not sent anywhere before the pull request is approved and merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_pull_request_cannot_send_a_secret_anywhere_before_it_is_merged() {
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { axum::Json(serde_json::json!({"ok": true})) }
    });
    let elsewhere = crate::e2e::serve_fake(app).await;

    let s = Setup::with_vars(2, vec![("SHIPSHAPE_SECRET_SONAR_TOKEN", "sonar-secret-for-review".to_string())]).await;
    let fake = s.fake();
    let main = fake.branches(OWNER, CATALOG).into_iter().find(|(b, _)| b == "main").unwrap().1;
    let policy = format!(
        "{POLICY}  - {{id: exfil, title: Looks harmless, level: bronze, remediation: None., check: {{http: {{url: \
         '{elsewhere}/collect', headers: {{Authorization: '{{{{ secret.SONAR_TOKEN }}}}'}}, jq: '.ok'}}}}}}\n"
    );
    let head = fake.commit(
        OWNER,
        CATALOG,
        &[("policies/scorecard.yaml", policy.as_str()), ("services/payments.yaml", &service(2))],
    );
    fake.set_branch(OWNER, CATALOG, "innocent", &head);
    fake.add_pull(OWNER, CATALOG, 41, &head, "innocent", "main");
    let pull =
        FakePull { base_sha: main.clone(), ..fake.pulls(OWNER, CATALOG).into_iter().find(|p| p.number == 41).unwrap() };
    s.deliver("pull_request", &catalog_pull_payload("opened", &pull, false)).await;
    let run = fake.check_runs(OWNER, CATALOG).into_iter().find(|r| r["name"] == "Catalog validation").expect("a run");
    assert_eq!(run["status"], "completed", "{run:#}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "the unreviewed check was sent");
    fake.assert_clean();
}

/// A request whose catalog pull request is closed without merging is refused: the thread that asked is told once,
/// and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_closed_without_merging_is_answered_as_refused() {
    let mut s = Setup::new(2).await;
    s.comment(7, "alice", "/request-exception runbook for 14d wiki move").await;
    s.comment(7, "maya", "/change-tier 3 internal tool now").await;
    let pulls = s.catalog_pulls();
    assert_eq!(pulls.len(), 2, "{pulls:#?}");
    for pull in &pulls {
        s.fake().close_pull(OWNER, CATALOG, pull.number);
        let closed = s.catalog_pulls().into_iter().find(|p| p.number == pull.number).unwrap();
        s.deliver("pull_request", &catalog_pull_payload("closed", &closed, false)).await;
        // Redelivered: answered once.
        s.deliver("pull_request", &catalog_pull_payload("closed", &closed, false)).await;
    }
    let replies = s.replies(7);
    assert_eq!(replies.len(), 4, "two requests, two refusals: {replies:#?}");
    let exception = replies.iter().find(|r| r.contains("Exception not granted")).expect("the exception's answer");
    assert!(exception.contains("`runbook`") && exception.contains("closed without merging"), "{exception}");
    assert!(exception.contains(&format!("/{OWNER}/{CATALOG}/pull/")), "{exception}");
    let tier = replies.iter().find(|r| r.contains("Tier not changed")).expect("the tier change's answer");
    assert!(tier.contains("tier **3**"), "{tier}");
    s.deliver("pull_request", &s.world.pull_request("synchronize", 7, &s.head, &s.base)).await;
    assert_eq!(s.stored_card(&s.head).await.rule("runbook").map(|r| r.status), Some(Status::Fail), "nothing excepted");
    s.fake().assert_clean();
}

/// A push to the catalog scores again only the repositories of the services it changed; a policy change scores
/// every repository.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_push_scores_only_the_services_it_changed() {
    let s = Setup::new(2).await;
    let fake = s.fake();
    fake.add_repo(INSTALLATION, OWNER, "search", "main");
    let readme = readme();
    let search_head = fake.commit(OWNER, "search", &[("README.md", readme.as_str())]);
    fake.set_branch(OWNER, "search", "main", &search_head);
    let search = service(2).replace("name: payments", "name: search").replace("acme/payments", "acme/search");
    let files = |extra: &[(&'static str, String)]| {
        let mut files: Vec<(&str, String)> = vec![
            ("policies/scorecard.yaml", POLICY.to_string()),
            ("services/payments.yaml", service(2)),
            ("services/search.yaml", search.clone()),
        ];
        files.extend(extra.iter().cloned());
        files
    };
    let commit = |files: Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        fake.commit(OWNER, CATALOG, &pairs)
    };
    let before = commit(files(&[]));
    fake.set_branch(OWNER, CATALOG, "main", &before);
    // An exception for payments, pushed directly.
    let after = commit(files(&[("exceptions/payments/runbook.yaml", exception_file("runbook", "2026-11-20"))]));
    fake.set_branch(OWNER, CATALOG, "main", &after);
    s.deliver("push", &catalog_push_payload(&before, &after)).await;
    let store = s.world.running().store.clone();
    let jobs: Vec<String> = store
        .deliveries()
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.delivery_id.starts_with("catalog-"))
        .map(|d| d.delivery_id)
        .collect();
    assert_eq!(jobs, [format!("catalog-{after}-acme/payments")], "only the changed service");
    let history = store.evaluations("acme/payments", "refs/heads/main").await.unwrap();
    assert!(!history.is_empty(), "payments was scored with the new catalog");
    assert!(store.evaluations("acme/search", "refs/heads/main").await.unwrap().is_empty(), "search was left alone");

    // A policy change: every repository.
    let policy = POLICY.replace("Has a README", "Has a README of substance");
    let changed = commit(
        files(&[("exceptions/payments/runbook.yaml", exception_file("runbook", "2026-11-20"))])
            .into_iter()
            .map(|(p, c)| if p == "policies/scorecard.yaml" { (p, policy.clone()) } else { (p, c) })
            .collect(),
    );
    fake.set_branch(OWNER, CATALOG, "main", &changed);
    s.deliver("push", &catalog_push_payload(&after, &changed)).await;
    assert!(!store.evaluations("acme/search", "refs/heads/main").await.unwrap().is_empty(), "search scored too");
    fake.assert_clean();
}
