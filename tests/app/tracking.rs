//! Continuous readiness end to end: sweeps and pushes into tracking issues with sub-issues, deadlines and reminders,
//! exceptions, a wiped database, the task-list fallback, skipped repositories, the write throttle and Slack, against
//! the fake GitHub (OpenAPI-checked) with an injected clock.

use crate::e2e::{INSTALLATION, OWNER, REPO, World, fixture, readme};
use crate::fake_github::{FakeGitHub, FakeIssue};
use crate::fake_slack::FakeSlack;
use chrono::{TimeZone, Utc};
use serde_json::json;
use shipshape::clock::{Clock, ManualClock};
use std::sync::Arc;
use std::time::{Duration, Instant};

const POLICY: &str = "apiVersion: shipshape.dev/v1
kind: Scorecard
default_tier: 3
tiers:
  1: {requires: silver, deadline_days: 10}
  2: {requires: silver, deadline_days: 30}
  3: {requires: bronze, deadline_days: 30}
rules:
  - {id: readme, title: Has a README, level: bronze, remediation: Write a README., check: {file: {any: [README.md]}}}
  - {id: runbook, title: Has a runbook, level: silver, remediation: Write RUNBOOK.md., check: {file: {any: [RUNBOOK.md]}}}
  - {id: security-policy, title: Has a security policy, level: silver, remediation: Add SECURITY.md., check: {file: {any: [SECURITY.md]}}}
  - {id: slo, title: Has SLOs, level: gold, remediation: Add slo.yaml., check: {file: {any: [slo.yaml]}}}
";

fn service(name: &str, repo: &str, tier: u32) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    \
         github.com/project-slug: {repo}\nspec:\n  type: service\n  owner: team-payments\n  tier: {tier}\n"
    )
}

fn start_day() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

struct Harness {
    world: World,
    clock: Arc<ManualClock>,
}

impl Harness {
    /// The service repository `acme/payments` at `tier`, the catalog with [`POLICY`], a manual clock.
    async fn new(tier: u32, extra: &[(&str, &str)]) -> Harness {
        let mut world = World::new(tier).await;
        let clock = Arc::new(ManualClock::new(start_day()));
        world.clock = clock.clone();
        let harness = Harness { world, clock };
        harness.set_catalog(&[("services/payments.yaml", &service("payments", "acme/payments", tier))], extra);
        harness
    }

    fn fake(&self) -> &FakeGitHub {
        &self.world.fake
    }

    fn set_catalog(&self, services: &[(&str, &str)], extra: &[(&str, &str)]) {
        let mut files: Vec<(&str, &str)> = vec![("policies/scorecard.yaml", POLICY)];
        files.extend_from_slice(services);
        files.extend_from_slice(extra);
        let sha = self.fake().commit(OWNER, "catalog", &files);
        self.fake().set_branch(OWNER, "catalog", "main", &sha);
    }

    /// Moves the service repository's default branch to a commit with `files`; returns the commit.
    fn push_files(&self, files: &[&str]) -> String {
        let readme = readme();
        let contents: Vec<(&str, &str)> =
            files.iter().map(|f| (*f, if *f == "README.md" { readme.as_str() } else { "# notes\n" })).collect();
        let sha = self.fake().commit(OWNER, REPO, &contents);
        self.fake().set_branch(OWNER, REPO, "main", &sha);
        sha
    }

    async fn start(&mut self) {
        self.world.start(2).await;
    }

    /// Moves the clock to `day` days after the start (plus a minute per call, so each sweep is a new one) and sweeps.
    async fn sweep_on(&self, day: i64) {
        let now = self.clock.now();
        let target = start_day() + chrono::TimeDelta::days(day);
        self.clock.set(if target > now { target } else { now + chrono::TimeDelta::minutes(1) });
        self.world.running().sweep_now().await.expect("sweep queued");
        self.world.settle().await;
    }

    fn issues(&self) -> Vec<FakeIssue> {
        self.fake().issues(OWNER, REPO)
    }

    fn tracking(&self) -> FakeIssue {
        let mut found: Vec<FakeIssue> = self
            .issues()
            .into_iter()
            .filter(|i| i.body.as_deref().is_some_and(|b| b.contains("<!-- shipshape:tracking ")))
            .collect();
        assert_eq!(found.len(), 1, "exactly one tracking issue: {found:#?}");
        found.remove(0)
    }

    /// Sub-issues by the rule in their marker.
    fn task(&self, rule: &str) -> FakeIssue {
        let marker = format!("\"rule\":\"{}\"", rule.replace('-', "\\u002d"));
        let mut found: Vec<FakeIssue> =
            self.issues().into_iter().filter(|i| i.body.as_deref().is_some_and(|b| b.contains(&marker))).collect();
        assert_eq!(found.len(), 1, "exactly one sub-issue for {rule}: {found:#?}");
        found.remove(0)
    }

    fn comments(&self, number: u64) -> Vec<String> {
        self.fake()
            .issue_comments(OWNER, REPO, number)
            .iter()
            .map(|c| c["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn writes(&self) -> usize {
        self.world.writes()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_issue_follows_the_service_from_first_failure_to_fixed_and_back() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    h.start().await;

    // First failure: one tracking issue, one sub-issue per failing rule the tier requires (slo is gold: not required).
    h.sweep_on(0).await;
    let tracking = h.tracking();
    assert_eq!(tracking.title, "Production readiness: Bronze, tier 2 requires Silver");
    assert!(tracking.labels.contains(&"production-readiness".to_string()), "{tracking:?}");
    assert_eq!(tracking.user, "shipshape-test[bot]");
    let subs = h.fake().sub_issues(OWNER, REPO, tracking.number);
    assert_eq!(subs.len(), 2, "{:#?}", h.issues());
    let runbook = h.task("runbook");
    let security = h.task("security-policy");
    assert_eq!(runbook.title, "Readiness: Has a runbook (due 2026-12-01)");
    assert_eq!(runbook.parent, Some(tracking.number));
    let body = runbook.body.clone().unwrap();
    assert!(body.starts_with("@acme/team-payments: "), "the owners are mentioned on creation: {body}");
    assert!(body.contains("**Due: 2026-12-01**") && body.contains("Write RUNBOOK.md."), "{body}");
    let tracking_body = tracking.body.clone().unwrap();
    assert!(tracking_body.contains(&format!("#{}", runbook.number)), "{tracking_body}");
    assert!(!tracking_body.contains("@acme"), "no mention in the tracking issue: {tracking_body}");

    // The same day, nothing changed: nothing is written.
    let writes = h.writes();
    h.sweep_on(0).await;
    assert_eq!(h.writes(), writes, "an unchanged sweep writes nothing");

    // One rule fixed: its sub-issue is closed with the fixing commit; nothing is duplicated.
    let fix = h.push_files(&["README.md", "RUNBOOK.md"]);
    h.sweep_on(1).await;
    let runbook = h.task("runbook");
    assert_eq!((runbook.state.as_str(), runbook.state_reason.as_deref()), ("closed", Some("completed")));
    let closing = h.comments(runbook.number);
    assert_eq!(closing.len(), 1, "{closing:?}");
    assert!(closing[0].contains(&fix[..7]), "names the commit: {closing:?}");
    assert_eq!(h.task("security-policy").state, "open");
    assert_eq!(h.tracking().state, "open");
    assert_eq!(h.issues().len(), 3);

    // All fixed: the tracking issue closes.
    h.push_files(&["README.md", "RUNBOOK.md", "SECURITY.md"]);
    h.sweep_on(2).await;
    let closed = h.tracking();
    assert_eq!((closed.state.as_str(), closed.state_reason.as_deref()), ("closed", Some("completed")));
    assert_eq!(closed.title, "Production readiness: Silver, tier 2 requires Silver");
    assert_eq!(h.task("security-policy").state, "closed");

    // A regression reopens the same tracking issue and the same sub-issue, with a new due date.
    h.push_files(&["README.md", "SECURITY.md"]);
    h.sweep_on(5).await;
    let reopened = h.tracking();
    assert_eq!((reopened.number, reopened.state.as_str()), (tracking.number, "open"));
    let runbook_again = h.task("runbook");
    assert_eq!((runbook_again.number, runbook_again.state.as_str()), (runbook.number, "open"));
    assert_eq!(runbook_again.title, "Readiness: Has a runbook (due 2026-12-06)");
    assert_eq!(h.issues().len(), 3, "never a second issue");
    assert_eq!(security.number, h.task("security-policy").number);

    // Overdue: the label and one reminder, then 1, 3, 7, 14 days after the due date, never daily.
    let mut reminders_by_day = Vec::new();
    for day in 35..=60 {
        h.sweep_on(day).await;
        let reminders = h.comments(runbook.number).iter().filter(|c| c.contains("overdue")).count();
        reminders_by_day.push((day, reminders));
    }
    let first_day_with = |n: usize| reminders_by_day.iter().find(|(_, r)| *r >= n).map(|(d, _)| *d - 35);
    // Due 2026-12-06 = day 35: reminders on days 36, 38, 42 and 49.
    assert_eq!(
        [first_day_with(1), first_day_with(2), first_day_with(3), first_day_with(4)],
        [Some(1), Some(3), Some(7), Some(14)]
    );
    assert_eq!(reminders_by_day.last().unwrap().1, 4, "{reminders_by_day:?}");
    let runbook_now = h.task("runbook");
    assert!(runbook_now.labels.contains(&"overdue".to_string()), "{runbook_now:?}");
    assert!(h.tracking().labels.contains(&"overdue".to_string()));
    let reminder = h.comments(runbook.number).into_iter().find(|c| c.contains("overdue")).unwrap();
    assert!(reminder.starts_with("@acme/team-payments: "), "reminders go to the owners: {reminder}");
    h.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_closes_the_task_as_not_planned_is_announced_before_expiry_and_counts_again_after() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md", "SECURITY.md"]);
    h.start().await;
    h.sweep_on(0).await;
    let runbook = h.task("runbook");

    let exception = "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: payments\nrule: runbook\n\
                     reason: Runbook is being migrated to the new wiki\nexpires: 2026-11-20\nrequested_by: alice\n\
                     requested_in: https://github.com/acme/catalog/pull/7\n";
    h.set_catalog(
        &[("services/payments.yaml", &service("payments", "acme/payments", 2))],
        &[("exceptions/payments/runbook.yaml", exception)],
    );
    h.sweep_on(1).await;
    let excepted = h.task("runbook");
    assert_eq!((excepted.state.as_str(), excepted.state_reason.as_deref()), ("closed", Some("not_planned")));
    let closing = h.comments(runbook.number);
    assert!(closing.last().unwrap().contains("approved until 2026-11-20"), "{closing:?}");
    assert_eq!(h.tracking().state, "closed", "nothing else to do");

    // Three days before the expiry, one warning on the tracking issue.
    h.sweep_on(15).await;
    let tracking = h.tracking();
    assert!(h.comments(tracking.number).is_empty(), "too early");
    h.sweep_on(16).await;
    h.sweep_on(17).await;
    let warnings = h.comments(tracking.number);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("expires on 2026-11-20"), "{warnings:?}");

    // After the expiry the rule counts again: the same sub-issue reopens with a due date from the expiry.
    h.sweep_on(19).await; // 2026-11-20
    assert_eq!(h.task("runbook").state, "closed", "the expiry day is still covered");
    h.sweep_on(20).await;
    let back = h.task("runbook");
    assert_eq!((back.number, back.state.as_str()), (runbook.number, "open"));
    assert_eq!(back.title, "Readiness: Has a runbook (due 2026-12-21)");
    assert_eq!(h.tracking().state, "open");
    h.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_database_finds_the_same_issues_again() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    h.start().await;
    h.sweep_on(0).await;
    let tracking = h.tracking();
    let issues_before = h.issues().len();

    // The database is lost: a new, empty one.
    h.world.running.take().unwrap().stop(Duration::from_secs(5)).await;
    h.world.db = crate::e2e::TestDatabase::new().await;
    h.start().await;
    h.sweep_on(1).await;
    assert_eq!(h.issues().len(), issues_before, "no duplicate: {:#?}", h.issues());
    assert_eq!(h.tracking().number, tracking.number);

    // And it carries on with the state in the issue: fixing closes the right sub-issue.
    h.push_files(&["README.md", "RUNBOOK.md"]);
    h.sweep_on(2).await;
    assert_eq!(h.task("runbook").state, "closed");
    assert_eq!(h.task("security-policy").state, "open");
    assert_eq!(h.issues().len(), issues_before);
    h.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sub_issues_the_tasks_are_a_task_list_with_the_same_due_dates() {
    let mut h = Harness::new(2, &[]).await;
    h.fake().set_sub_issues_available(OWNER, REPO, false);
    h.push_files(&["README.md"]);
    h.start().await;
    h.sweep_on(0).await;
    let issues = h.issues();
    assert_eq!(issues.len(), 1, "only the tracking issue: {issues:#?}");
    let body = h.tracking().body.unwrap();
    assert!(body.contains("- [ ] **Has a runbook** (`runbook`): due 2026-12-01"), "{body}");
    assert!(body.contains("- [ ] **Has a security policy** (`security-policy`): due 2026-12-01"), "{body}");

    h.push_files(&["README.md", "RUNBOOK.md"]);
    h.sweep_on(1).await;
    let body = h.tracking().body.unwrap();
    assert!(body.contains("- [x] **Has a runbook** (`runbook`): fixed in"), "{body}");
    // Overdue in task-list mode: the reminder goes on the tracking issue.
    h.sweep_on(31).await;
    let tracking = h.tracking();
    let comments = h.comments(tracking.number);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].contains("security-policy") && comments[0].contains("overdue"), "{comments:?}");
    assert!(tracking.labels.contains(&"overdue".to_string()));
    h.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_forked_and_issueless_repositories_are_left_alone() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    for (name, setup) in [("archived", 0), ("forked", 1), ("no-issues", 2)] {
        h.fake().add_repo(INSTALLATION, OWNER, name, "main");
        let sha = h.fake().commit(OWNER, name, &[("src/lib.rs", "")]);
        h.fake().set_branch(OWNER, name, "main", &sha);
        match setup {
            0 => h.fake().set_archived(OWNER, name, true),
            1 => h.fake().set_fork(OWNER, name, true),
            _ => h.fake().set_has_issues(OWNER, name, false),
        }
    }
    h.fake().set_archived(OWNER, REPO, true);
    h.start().await;
    h.sweep_on(0).await;
    let written: Vec<String> = h
        .fake()
        .requests()
        .iter()
        .filter(|r| r.method != "GET" && !r.path.ends_with("/access_tokens"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(written.is_empty(), "nothing written: {written:?}");
    for name in ["archived", "forked", "no-issues", REPO] {
        assert!(
            !h.fake().requests().iter().any(|r| r.path.contains(&format!("/repos/{OWNER}/{name}/git/"))),
            "{name} was not read"
        );
    }
    h.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_installation_scores_its_repositories() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    h.start().await;
    let mut payload = fixture("installation_repositories", "added.payload.json");
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    let payments_id = h.fake().repo_id(OWNER, REPO);
    payload["repositories_added"] = json!([{"id": payments_id, "node_id": "R_1", "name": REPO, "full_name": format!("{OWNER}/{REPO}"), "private": true}]);
    payload["repositories_removed"] = json!([]);
    let delivery = h.world.next_delivery();
    let body = serde_json::to_vec(&payload).unwrap();
    assert_eq!(h.world.send("installation_repositories", &delivery, &body).await, 202);
    h.world.settle().await;
    assert_eq!(h.tracking().title, "Production readiness: Bronze, tier 2 requires Silver");
    assert!(h.fake().check_runs(OWNER, REPO).is_empty());
    h.fake().assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_hears_once_per_tier_1_degradation() {
    let slack = FakeSlack::start().await;
    let mut h = Harness::new(1, &[]).await;
    h.world.vars.push(("SHIPSHAPE_SLACK_WEBHOOK_URL", slack.url.clone()));
    h.push_files(&["README.md", "RUNBOOK.md", "SECURITY.md"]);
    h.start().await;
    h.sweep_on(0).await;
    assert!(slack.messages().is_empty(), "meets its level: nothing to say");

    h.push_files(&["README.md", "SECURITY.md"]);
    h.sweep_on(1).await;
    h.sweep_on(2).await;
    h.sweep_on(3).await;
    let messages = slack.messages();
    assert_eq!(messages.len(), 1, "one message per drop, not per sweep: {messages:#?}");
    let text = messages[0].to_string();
    assert!(text.contains("payments") && text.contains("dropped from *silver* to *bronze*"), "{text}");
    assert!(text.contains("`runbook`") && text.contains("team-payments"), "{text}");

    // Fixed, then broken again: a second drop, a second message. A refused message is retried at the next sweep.
    h.push_files(&["README.md", "RUNBOOK.md", "SECURITY.md"]);
    h.sweep_on(4).await;
    h.push_files(&["README.md", "RUNBOOK.md"]);
    slack.fail_next(500);
    h.sweep_on(5).await;
    assert_eq!(slack.messages().len(), 1, "the refused one is not counted");
    h.sweep_on(6).await;
    assert_eq!(slack.messages().len(), 2);
    h.fake().assert_clean();
}

/// `SHIPSHAPE_SWEEP_REPOS` repositories (default 200), each failing one rule, swept under a write limit of 80 a
/// second within GitHub's hourly request budget: no second holds more than 80 writes. Then a sweep of the same, unchanged repositories: the reads it
/// spends per repository and its wall time are printed (the figures in README).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_of_many_repositories_stays_under_the_write_throttle() {
    let count: usize = std::env::var("SHIPSHAPE_SWEEP_REPOS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let mut h = Harness::new(3, &[]).await;
    h.world.vars.push(("SHIPSHAPE_WRITE_LIMIT", "80/1s".into()));
    let mut services = Vec::new();
    for i in 0..count {
        let name = format!("svc-{i:04}");
        h.fake().add_repo(INSTALLATION, OWNER, &name, "main");
        // Bronze needs a README: every repository fails one rule.
        let sha = h.fake().commit(OWNER, &name, &[("src/lib.rs", "")]);
        h.fake().set_branch(OWNER, &name, "main", &sha);
        services.push((format!("services/{name}.yaml"), service(&name, &format!("{OWNER}/{name}"), 3)));
    }
    let services: Vec<(&str, &str)> = services.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    h.set_catalog(&services, &[]);
    h.push_files(&["README.md", "RUNBOOK.md", "SECURITY.md"]);
    // GitHub's hourly budget for an installation: 5,000, plus 50 per repository beyond 20, at most 12,500 (15,000 on
    // GitHub Enterprise Cloud: `SHIPSHAPE_SWEEP_BUDGET=15000`).
    let repositories = count as u64 + 2;
    let budget = std::env::var("SHIPSHAPE_SWEEP_BUDGET").ok().and_then(|v| v.parse().ok());
    h.fake().set_rate_limit(budget.unwrap_or((5_000 + 50 * repositories.saturating_sub(20)).min(12_500)));
    h.start().await;

    let started = Instant::now();
    h.sweep_on(0).await;
    let first = started.elapsed();
    let requests = h.fake().requests();
    // Content-creating requests (minting a token creates no content and is not paced).
    let writes: Vec<Instant> =
        requests.iter().filter(|r| r.method != "GET" && !r.path.ends_with("/access_tokens")).map(|r| r.at).collect();
    assert!(writes.len() >= 3 * count, "each repository got its issue and sub-issue: {}", writes.len());
    // The fake sees the writes a little after the App starts them, with loopback jitter: count in 0.9 s windows.
    let busiest = writes
        .iter()
        .map(|t| writes.iter().filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_millis(900)).count())
        .max()
        .unwrap();
    assert!(busiest <= 80, "{busiest} writes within 0.9 s");
    let min_secs = (writes.len() / 80).saturating_sub(1) as u64;
    assert!(first >= Duration::from_secs(min_secs), "the throttle paced {} writes in {first:?}", writes.len());
    let with_tracking = h.fake().issues(OWNER, "svc-0000");
    assert_eq!(with_tracking.len(), 2, "{with_tracking:#?}");

    // Nothing changed: a second sweep.
    let before = h.fake().requests().len();
    eprintln!("first sweep: {before} requests for {} repositories, {} of them writes", count + 1, writes.len());
    let started = Instant::now();
    h.sweep_on(1).await;
    let second = started.elapsed();
    let requests = h.fake().requests()[before..].to_vec();
    let writes = requests.iter().filter(|r| r.method != "GET").count();
    let on_services = |r: &&crate::fake_github::RecordedRequest| {
        r.path.starts_with(&format!("/repos/{OWNER}/svc-")) || r.path.starts_with(&format!("/repos/{OWNER}/{REPO}/"))
    };
    let per_repo = requests.iter().filter(on_services).count() as f64 / (count + 1) as f64;
    let overhead: Vec<String> =
        requests.iter().filter(|r| !on_services(r)).map(|r| format!("{} {}", r.method, r.path)).collect();
    let not_modified = requests.iter().filter(|r| r.status == 304).count();
    let mut by_endpoint = std::collections::BTreeMap::<(String, u16), usize>::new();
    for r in requests.iter().filter(on_services) {
        *by_endpoint.entry((r.template.clone().unwrap_or_default(), r.status)).or_default() += 1;
    }
    eprintln!("unchanged sweep, requests on service repositories by endpoint and status: {by_endpoint:?}");
    eprintln!(
        "sweep of {} unchanged repositories: {second:?}, {} requests ({per_repo:.2} per repository, {not_modified} \
         answered 304, {} for the sweep itself: {overhead:?}), {writes} writes; first sweep {first:?}",
        count + 1,
        requests.len(),
        overhead.len(),
    );
    assert_eq!(writes, 0);
    assert!(requests.iter().all(|r| r.status != 403), "within GitHub's budget: {by_endpoint:?}");
    // Seven conditional reads of linked-tool facts per repository (protection, rulesets, Dependabot, code scanning,
    // secret scanning, commit statuses, check runs; CODEOWNERS errors only for a repository with a CODEOWNERS file,
    // which these have not) and two of the open tracking issue (its state, its sub-issues' states); the 304s cost
    // nothing, the 404s of features a repository does not use (no protection, no code scanning, secret scanning off)
    // are the budget it spends.
    assert!(per_repo <= 9.0, "{per_repo} requests per unchanged repository");
    let counted = requests.iter().filter(on_services).filter(|r| r.status != 304).count() as f64 / (count + 1) as f64;
    // The tracking issue and its sub-issues are read for the first time here (200); later sweeps get 304s for them.
    assert!(counted <= 5.0, "{counted} rate-limited requests per unchanged repository: {by_endpoint:?}");
    h.fake().assert_clean();
}

/// A rate limit on a linked-tool read is not a fact about the repository: the evaluation waits for GitHub's reset and
/// runs again, instead of recording the rules as `error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_linked_read_is_retried_after_the_wait_not_scored_as_an_error() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    h.fake().fail_next(
        "GET",
        "/repos/{owner}/{repo}/branches/{branch}/protection",
        1,
        403,
        &[("retry-after", "600")],
        FakeGitHub::secondary_rate_limit_body(),
    );
    h.start().await;
    h.clock.advance(Duration::from_secs(60));
    h.world.running().sweep_now().await.unwrap();
    let store = h.world.running().store.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let waiting = loop {
        let deliveries = store.deliveries().await.unwrap();
        if let Some(job) = deliveries.iter().find(|d| {
            d.repository.as_deref() == Some("acme/payments")
                && d.last_error.as_deref().is_some_and(|e| e.contains("rate limit"))
        }) {
            break job.clone();
        }
        assert!(Instant::now() < deadline, "no rate-limited retry: {deliveries:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(waiting.status, shipshape::store::DeliveryStatus::Queued, "{waiting:?}");
    assert!(waiting.next_attempt_at >= h.clock.now() + chrono::TimeDelta::seconds(600), "{waiting:?}");
    assert!(store.evaluations("acme/payments", "refs/heads/main").await.unwrap().is_empty(), "nothing recorded yet");
    assert!(h.issues().is_empty(), "nothing written yet");

    // GitHub's wait is over: the job runs again and scores the rules for real.
    h.clock.advance(Duration::from_secs(601));
    h.world.settle().await;
    let history = store.evaluations("acme/payments", "refs/heads/main").await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(h.tracking().title, "Production readiness: Bronze, tier 2 requires Silver");
    let protection_reads = h
        .fake()
        .requests()
        .iter()
        .filter(|r| r.template.as_deref() == Some("/repos/{owner}/{repo}/branches/{branch}/protection"))
        .count();
    assert_eq!(protection_reads, 2, "refused once, read once after the wait");
    h.fake().assert_clean();
}

/// Finished deliveries and cached answers are deleted after 30 days by the scheduler's daily pruning (by the
/// injected clock); state such as the tracking issue's record stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_pruned_of_old_deliveries_and_caches_daily() {
    let mut h = Harness::new(2, &[]).await;
    // A short sweep interval makes the scheduler look every 100 ms; the manual clock decides when anything is due.
    h.world.vars.push(("SHIPSHAPE_SWEEP_INTERVAL", "1s".into()));
    let base = h.push_files(&["README.md"]);
    h.start().await;
    let head = h.fake().commit(OWNER, REPO, &[("README.md", readme().as_str()), ("RUNBOOK.md", "# Runbook\n")]);
    let delivery = h.world.next_delivery();
    let payload = h.world.pull_request("opened", 5, &head, &base);
    assert_eq!(h.world.send("pull_request", &delivery, &payload).await, 202);
    h.world.settle().await;
    let store = h.world.running().store.clone();
    assert!(store.delivery(&delivery).await.unwrap().is_some());
    let card_key = format!("{OWNER}/{REPO}@{head}");
    assert!(store.kv_get("scorecard", &card_key).await.unwrap().is_some(), "the pull request was scored");

    // 29 days on: nothing is old enough yet.
    h.clock.advance(Duration::from_secs(29 * 86_400));
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.world.settle().await;
    assert!(store.delivery(&delivery).await.unwrap().is_some(), "kept for 30 days");

    // 31 days on: the next daily pruning deletes the delivery and the pull request's cached scorecard.
    h.clock.advance(Duration::from_secs(2 * 86_400));
    let deadline = Instant::now() + Duration::from_secs(10);
    // Deliveries are pruned first, then the caches: wait for both.
    while store.delivery(&delivery).await.unwrap().is_some()
        || store.kv_get("scorecard", &card_key).await.unwrap().is_some()
    {
        assert!(Instant::now() < deadline, "the delivery or the pull request's scorecard was not pruned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.world.settle().await;
    assert!(store.kv_get("tracking", &format!("{OWNER}/{REPO}")).await.unwrap().is_some(), "state is kept");
}

/// A tracking issue someone closes while required rules still fail is reopened at the next evaluation, with a
/// comment saying why and how to stop tracking a rule; a deleted one is made again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_issue_closed_by_hand_is_reopened_while_rules_fail() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    h.start().await;
    h.sweep_on(0).await;
    let tracking = h.tracking();
    assert_eq!(tracking.state, "open");
    h.fake().set_issue_state(OWNER, REPO, tracking.number, "closed", Some("not_planned"));

    h.sweep_on(1).await;
    let reopened = h.tracking();
    assert_eq!((reopened.number, reopened.state.as_str()), (tracking.number, "open"), "{reopened:#?}");
    let comments = h.comments(tracking.number);
    let why = comments.iter().find(|c| c.contains("Reopened")).unwrap_or_else(|| panic!("{comments:#?}"));
    assert!(why.contains("2 required rule(s) of `payments` still fail") && why.contains("/request-exception"), "{why}");

    // The next sweep leaves it alone: one comment, no more writes.
    let writes = h.writes();
    h.sweep_on(2).await;
    assert_eq!(h.comments(tracking.number).iter().filter(|c| c.contains("Reopened")).count(), 1);
    assert_eq!(h.writes(), writes, "nothing to write for an unchanged service");
    // Its state was read again after the reopening changed it (200); unchanged since, it costs no budget now.
    h.sweep_on(2).await;
    let issue_path = format!("/repos/{OWNER}/{REPO}/issues/{}", tracking.number);
    let reads: Vec<u16> =
        h.fake().requests().iter().filter(|r| r.method == "GET" && r.path == issue_path).map(|r| r.status).collect();
    assert_eq!(reads.last(), Some(&304), "{reads:?}");

    // Fixed: the App closes it, and a person closing it again changes nothing.
    h.push_files(&["README.md", "RUNBOOK.md", "SECURITY.md"]);
    h.sweep_on(3).await;
    assert_eq!(h.tracking().state, "closed");
    h.sweep_on(4).await;
    assert_eq!(h.tracking().state, "closed");
    h.fake().assert_clean();
}

/// A sub-issue someone closes while its rule still fails is reopened with a comment; one whose rule passes stays as
/// the App leaves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_closed_by_hand_is_reopened_while_its_rule_fails() {
    let mut h = Harness::new(2, &[]).await;
    h.push_files(&["README.md"]);
    h.start().await;
    h.sweep_on(0).await;
    let runbook = h.task("runbook");
    h.fake().set_issue_state(OWNER, REPO, runbook.number, "closed", Some("not_planned"));

    h.sweep_on(1).await;
    assert_eq!(h.task("runbook").state, "open");
    let comments = h.comments(runbook.number);
    let why = comments.iter().find(|c| c.contains("Reopened")).unwrap_or_else(|| panic!("{comments:#?}"));
    assert!(why.contains("`runbook` still fails") && why.contains("/request-exception runbook"), "{why}");
    assert_eq!(h.tracking().state, "open");

    // Unchanged since: the listing costs no budget and nothing is written.
    let writes = h.writes();
    h.sweep_on(2).await;
    h.sweep_on(2).await;
    assert_eq!(h.writes(), writes);
    let parent = h.tracking().number;
    let listing = format!("/repos/{OWNER}/{REPO}/issues/{parent}/sub_issues");
    let reads: Vec<u16> =
        h.fake().requests().iter().filter(|r| r.method == "GET" && r.path == listing).map(|r| r.status).collect();
    assert_eq!(reads.last(), Some(&304), "{reads:?}");
    h.fake().assert_clean();
}
