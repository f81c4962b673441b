//! End to end: signed webhooks into the real router, the durable queue and workers, the real octocrab client
//! against the fake GitHub, which checks every request against GitHub's OpenAPI description.

use crate::fake_github::{AuthKind, DependabotState, FakeGitHub};
use serde_json::{Value, json};
use shipshape::clock::SystemClock;
use shipshape::config::ServeConfig;
use shipshape::serve::{self, Running};
use shipshape::store::DeliveryStatus;
use shipshape::worker::WorkerConfig;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) const INSTALLATION: u64 = 31;
#[path = "../common/fixtures.rs"]
mod fixtures;
#[path = "../common/test_database.rs"]
pub(crate) mod test_database;
pub use fixtures::fixtures_dir;
pub(crate) use test_database::TestDatabase;

pub(crate) const OWNER: &str = "acme";
pub(crate) const REPO: &str = "payments";
pub(crate) const SECRET: &str = "webhook-secret-for-tests";

pub(crate) fn fixture(event: &str, name: &str) -> Value {
    let path = fixtures_dir().join("github-webhooks").join(event).join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// Serves `app` (a fake linked tool) on a free local port; returns its base URL.
pub(crate) async fn serve_fake(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

pub(crate) fn readme() -> String {
    "# payments\n\nMoves money between ledgers, with retries and an audit trail. ".repeat(6)
}

/// The files of a repository that passes every bronze rule but one: the catalog gives it an owner.
pub(crate) fn good_files() -> Vec<(String, String)> {
    vec![
        ("README.md".into(), readme()),
        (".github/CODEOWNERS".into(), "* @acme/payments\n".into()),
        (".github/workflows/ci.yml".into(), "on:\n  pull_request: {}\njobs: {}\n".into()),
        ("src/main.rs".into(), "fn main() {}\n".into()),
    ]
}

pub(crate) fn without(files: &[(String, String)], path: &str) -> Vec<(String, String)> {
    files.iter().filter(|(p, _)| p != path).cloned().collect()
}

pub(crate) fn with(files: &[(String, String)], path: &str, content: &str) -> Vec<(String, String)> {
    let mut out = without(files, path);
    out.push((path.into(), content.into()));
    out
}

pub(crate) struct World {
    pub(crate) fake: FakeGitHub,
    /// The App's database, on the run's backend (`SHIPSHAPE_TEST_BACKEND`).
    pub(crate) db: TestDatabase,
    pub(crate) running: Option<Running>,
    http: reqwest::Client,
    deliveries: AtomicU64,
    public_url: Option<String>,
    pub(crate) clock: Arc<dyn shipshape::clock::Clock>,
    /// More configuration variables.
    pub(crate) vars: Vec<(&'static str, String)>,
}

fn worker_config(workers: usize) -> WorkerConfig {
    WorkerConfig {
        workers,
        lease: Duration::from_secs(5),
        renew_every: Duration::from_secs(1),
        poll_interval: Duration::from_millis(50),
        max_attempts: 5,
        instance: None,
        backoff: vec![Duration::from_millis(100), Duration::from_millis(200)],
    }
}

impl World {
    /// A fake GitHub with the service repository and a catalog that gives the service `tier`.
    pub(crate) async fn new(tier: u32) -> World {
        // jq runs in worker processes of the real binary, as `shipshape serve` runs it.
        shipshape::jq::use_sandbox(env!("CARGO_BIN_EXE_shipshape").into());
        let fake = FakeGitHub::start().await;
        fake.add_installation(INSTALLATION, OWNER);
        fake.add_repo(INSTALLATION, OWNER, REPO, "main");
        fake.add_repo(INSTALLATION, OWNER, "catalog", "main");
        let service = format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  annotations:\n    \
             github.com/project-slug: acme/payments\nspec:\n  type: service\n  owner: team-payments\n  tier: {tier}\n"
        );
        let catalog = fake.commit(OWNER, "catalog", &[("services/payments.yaml", service.as_str())]);
        fake.set_branch(OWNER, "catalog", "main", &catalog);
        fake.set_dependabot(OWNER, REPO, DependabotState::Alerts(vec![("low", "open")]));

        World {
            fake,
            db: TestDatabase::new().await,
            running: None,
            http: reqwest::Client::new(),
            deliveries: AtomicU64::new(1),
            public_url: None,
            clock: Arc::new(SystemClock),
            vars: Vec::new(),
        }
    }

    pub(crate) fn config(&self) -> ServeConfig {
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("SHIPSHAPE_APP_ID", self.fake.app_id().to_string()),
            ("SHIPSHAPE_PRIVATE_KEY", self.fake.private_key_pem().to_string()),
            ("SHIPSHAPE_WEBHOOK_SECRET", SECRET.to_string()),
            ("SHIPSHAPE_CATALOG_REPO", format!("{OWNER}/catalog")),
            ("SHIPSHAPE_GITHUB_API_URL", self.fake.url.clone()),
            ("SHIPSHAPE_GITHUB_WEB_URL", self.fake.url.clone()),
            ("SHIPSHAPE_DATABASE_URL", self.db.url.clone()),
            ("SHIPSHAPE_LISTEN", "127.0.0.1:0".to_string()),
        ]);
        if let Some(url) = &self.public_url {
            vars.insert("SHIPSHAPE_PUBLIC_URL", url.clone());
        }
        for (name, value) in &self.vars {
            vars.insert(name, value.clone());
        }
        ServeConfig::from_lookup(|k| vars.get(k).cloned())
            .expect("valid test configuration")
            .with_secrets(self.vars.iter().map(|(name, value)| (name.to_string(), value.clone())))
    }

    pub(crate) async fn start(&mut self, workers: usize) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.start_on(listener, workers).await;
    }

    /// [`World::start`] on a listener bound beforehand, so that the configuration can name its address (a browser
    /// that follows the OAuth redirects needs `SHIPSHAPE_PUBLIC_URL` to be the App's real address).
    pub(crate) async fn start_on(&mut self, listener: tokio::net::TcpListener, workers: usize) {
        let running = serve::start(&self.config(), listener, self.clock.clone(), worker_config(workers))
            .await
            .expect("server starts");
        self.running = Some(running);
    }

    pub(crate) fn running(&self) -> &Running {
        self.running.as_ref().expect("server started")
    }

    /// A commit of the service repository.
    pub(crate) fn commit(&self, files: &[(String, String)]) -> String {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
        self.fake.commit(OWNER, REPO, &files)
    }

    pub(crate) fn next_delivery(&self) -> String {
        format!("delivery-{}", self.deliveries.fetch_add(1, Ordering::SeqCst))
    }

    /// Posts a webhook signed with the secret; returns the status.
    pub(crate) async fn send(&self, event: &str, delivery: &str, body: &[u8]) -> u16 {
        self.send_to(self.running().addr, event, delivery, body).await
    }

    /// [`World::send`] to `addr` (a server the world no longer holds, such as one being stopped).
    pub(crate) async fn send_to(&self, addr: std::net::SocketAddr, event: &str, delivery: &str, body: &[u8]) -> u16 {
        let signature = crate::fake_github::hooks::signature(SECRET, body);
        self.post_to(addr, event, delivery, Some(&signature), body.to_vec()).await
    }

    async fn post(&self, event: &str, delivery: &str, signature: Option<&str>, body: Vec<u8>) -> u16 {
        self.post_to(self.running().addr, event, delivery, signature, body).await
    }

    async fn post_to(
        &self,
        addr: std::net::SocketAddr,
        event: &str,
        delivery: &str,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> u16 {
        let mut request = self
            .http
            .post(format!("http://{addr}/webhook"))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        request.send().await.expect("server answers").status().as_u16()
    }

    /// A `pull_request` payload built from GitHub's example, pointed at our repository and commits.
    pub(crate) fn pull_request(&self, action: &str, number: u64, head: &str, base: &str) -> Vec<u8> {
        self.fake.add_pull(OWNER, REPO, number, head, "feature", "main");
        let mut payload = fixture("pull_request", "opened.payload.json");
        payload["action"] = action.into();
        payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
        point_at_repo(&mut payload["repository"]);
        let pr = &mut payload["pull_request"];
        pr["number"] = number.into();
        pr["draft"] = false.into();
        pr["head"]["sha"] = head.into();
        pr["head"]["ref"] = "feature".into();
        pr["base"]["sha"] = base.into();
        pr["base"]["ref"] = "main".into();
        point_at_repo(&mut pr["base"]["repo"]);
        serde_json::to_vec(&payload).unwrap()
    }

    /// Waits until no delivery is queued or processing.
    pub(crate) async fn settle(&self) {
        let patience = if std::env::var_os("SHIPSHAPE_SWEEP_REPOS").is_some() { 1800 } else { 180 };
        let deadline = Instant::now() + Duration::from_secs(patience);
        loop {
            let deliveries = self.running().store.deliveries().await.unwrap();
            if deliveries.iter().all(|d| d.status.is_finished()) {
                return;
            }
            assert!(Instant::now() < deadline, "deliveries did not finish: {deliveries:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn check_runs(&self) -> Vec<Value> {
        let runs = self.fake.check_runs(OWNER, REPO);
        if runs.iter().any(|r| r["status"] != "completed") {
            let deliveries = futures_lite_block(self.running().store.deliveries());
            eprintln!("deliveries: {deliveries:#?}");
        }
        runs
    }

    /// The stored deliveries that came from GitHub (not the App's own jobs, such as the look for missed deliveries
    /// queued at start-up).
    pub(crate) async fn webhook_deliveries(&self) -> Vec<shipshape::store::DeliveryRecord> {
        let all = self.running().store.deliveries().await.unwrap();
        all.into_iter().filter(|d| d.event != "shipshape.job").collect()
    }

    pub(crate) fn writes(&self) -> usize {
        self.fake.requests().iter().filter(|r| r.method != "GET" && !r.path.ends_with("/access_tokens")).count()
    }
}

pub(crate) fn point_at_repo(repo: &mut Value) {
    repo["name"] = REPO.into();
    repo["full_name"] = format!("{OWNER}/{REPO}").into();
    repo["owner"]["login"] = OWNER.into();
    repo["default_branch"] = "main".into();
    repo["archived"] = false.into();
}

/// A pull request whose head removes CODEOWNERS (a bronze rule every tier requires) from a base that has it.
async fn breaking_pull_request(tier: u32) -> (World, String, String) {
    let mut world = World::new(tier).await;
    let base = world.commit(&good_files());
    let head = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    world.start(2).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 7, &head, &base)).await, 202);
    world.settle().await;
    (world, base, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_request_that_breaks_a_required_rule_fails_under_the_regression_gate() {
    let (world, _, head) = breaking_pull_request(2).await;
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = &runs[0];
    assert_eq!(run["name"], "Production readiness");
    assert_eq!(run["head_sha"], head.as_str());
    assert_eq!(run["status"], "completed");
    assert_eq!(run["conclusion"], "failure");
    // CODEOWNERS gone: no level; the silver rules this young repository lacks count as well.
    assert_eq!(run["output"]["title"], "No level · tier 2 requires Silver · 8 rules to fix", "{run:#?}");
    let summary = run["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("❌ Breaks **CODEOWNERS assigns reviewers** (`codeowners`), required by tier 2"),
        "{summary}"
    );
    assert_eq!(run["actions"][0]["identifier"], "recheck");
    // The pull request changed the scorecard: one sticky comment says so.
    let comments = world.fake.issue_comments(OWNER, REPO, 7);
    assert_eq!(comments.len(), 1);
    assert!(comments[0]["body"].as_str().unwrap().contains("Breaks **CODEOWNERS assigns reviewers**"));
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_level_gate_fails_below_the_required_level_even_without_a_change() {
    let mut world = World::new(1).await;
    let base = world.commit(&good_files());
    let head = world.commit(&with(&good_files(), "docs/notes.md", "notes"));
    world.start(2).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 3, &head, &base)).await, 202);
    world.settle().await;
    let runs = world.check_runs();
    assert_eq!(runs[0]["conclusion"], "failure", "tier 1 must reach gold: {:#?}", runs[0]["output"]["title"]);
    assert!(runs[0]["output"]["summary"].as_str().unwrap().contains("does not change the scorecard"));
    assert!(world.fake.issue_comments(OWNER, REPO, 3).is_empty(), "no comment when nothing changes");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixing_rules_passes_the_regression_gate_and_annotations_point_at_files() {
    let mut world = World::new(3).await;
    let key: String = crate::fake_github::key::PRIVATE_KEY_PEM.lines().map(|l| format!("  {l}\n")).collect();
    let broken = with(&good_files(), "config/keys.yaml", &format!("key: |\n{key}"));
    let base = world.commit(&without(&broken, ".github/CODEOWNERS"));
    let head = world.commit(&broken);
    world.start(2).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 4, &head, &base)).await, 202);
    world.settle().await;
    let run = &world.check_runs()[0];
    assert_eq!(run["conclusion"], "success", "{:#?}", run["output"]);
    let summary = run["output"]["summary"].as_str().unwrap();
    assert!(summary.contains("✅ Fixes **CODEOWNERS assigns reviewers**"), "{summary}");
    let annotations = world.fake.annotations(run["id"].as_u64().unwrap());
    let key = annotations.iter().find(|a| a["path"] == "config/keys.yaml").expect("annotation on the key file");
    assert_eq!(key["start_line"], 2);
    assert_eq!(key["annotation_level"], "failure");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_webhook_is_processed_once() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    world.start(2).await;
    let body = world.pull_request("synchronize", 9, &head, &base);
    assert_eq!(world.send("pull_request", "same-delivery", &body).await, 202);
    world.settle().await;
    let requests = world.fake.requests().len();
    assert_eq!(world.send("pull_request", "same-delivery", &body).await, 202);
    world.settle().await;
    assert_eq!(world.fake.requests().len(), requests, "a repeated delivery must not reach GitHub again");
    assert_eq!(world.check_runs().len(), 1);
    assert_eq!(world.webhook_deliveries().await.len(), 1);
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_delivery_for_the_same_head_updates_the_same_check_run() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&good_files());
    world.start(2).await;
    for action in ["opened", "reopened"] {
        let delivery = world.next_delivery();
        assert_eq!(world.send("pull_request", &delivery, &world.pull_request(action, 5, &head, &base)).await, 202);
        world.settle().await;
    }
    assert_eq!(world.check_runs().len(), 1, "re-runs update the check run, never add one");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_webhooks_write_nothing_to_github() {
    let mut world = World::new(2).await;
    world.start(2).await;
    let base = world.commit(&good_files());
    let body = world.pull_request("opened", 1, &base, &base);
    assert_eq!(world.post("pull_request", "d1", None, body.clone()).await, 401, "missing signature");
    assert_eq!(world.post("pull_request", "d2", Some("sha256=00"), body.clone()).await, 401, "malformed signature");
    let wrong = format!("sha256={}", "ab".repeat(32));
    assert_eq!(world.post("pull_request", "d3", Some(&wrong), body.clone()).await, 401, "wrong signature");
    assert_eq!(world.send("pull_request", "d4", b"{not json").await, 400, "malformed JSON");
    assert_eq!(oversized(world.running().addr).await, 413, "oversized");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.writes(), 0);
    assert!(world.webhook_deliveries().await.is_empty());
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_on_check_run_creation_is_survived_without_a_duplicate() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&good_files());
    world.fake.fail_next("POST", "/repos/{owner}/{repo}/check-runs", 1, 502, &[], json!({"message": "Server Error"}));
    world.start(2).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 2, &head, &base)).await, 202);
    world.settle().await;
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed");
    let record = world.running().store.delivery(&delivery).await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Done);
    assert_eq!(record.attempts, 2, "the 502 sent the delivery back to the queue once");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_rate_limit_on_check_run_creation_is_waited_out() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&good_files());
    world.fake.fail_next(
        "POST",
        "/repos/{owner}/{repo}/check-runs",
        1,
        403,
        &[("retry-after", "1")],
        FakeGitHub::secondary_rate_limit_body(),
    );
    world.start(2).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 2, &head, &base)).await, 202);
    world.settle().await;
    assert_eq!(world.check_runs().len(), 1);
    let creates: Vec<_> = world
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.template.as_deref() == Some("/repos/{owner}/{repo}/check-runs"))
        .collect();
    assert_eq!(creates.len(), 2, "one refused, one accepted after the wait");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_accepted_before_a_crash_is_processed_once_after_restart() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    world.start(0).await; // accepts and stores, processes nothing
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 8, &head, &base)).await, 202);
    world.running.take().unwrap().kill();
    assert!(world.check_runs().is_empty());

    world.start(2).await; // same database
    world.settle().await;
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["conclusion"], "failure");
    assert_eq!(world.fake.issue_comments(OWNER, REPO, 8).len(), 1);
    let record = world.running().store.delivery(&delivery).await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Done);
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_to_one_pull_request_leave_one_check_run_for_the_newest_head() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let first = world.commit(&with(&good_files(), "a.txt", "1"));
    let second = world.commit(&with(&good_files(), "a.txt", "2"));
    world.start(0).await;
    for head in [&first, &second] {
        let delivery = world.next_delivery();
        assert_eq!(
            world.send("pull_request", &delivery, &world.pull_request("synchronize", 6, head, &base)).await,
            202
        );
    }
    world.running.take().unwrap().kill();
    world.start(2).await;
    world.settle().await;
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1, "the older head was superseded: {runs:#?}");
    assert_eq!(runs[0]["head_sha"], second.as_str());
    let statuses: Vec<DeliveryStatus> =
        world.running().store.deliveries().await.unwrap().iter().map(|d| d.status).collect();
    assert!(statuses.contains(&DeliveryStatus::Superseded), "{statuses:?}");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_payload_of_our_events_is_accepted() {
    let mut world = World::new(2).await;
    world.start(0).await;
    let mut accepted = 0;
    for event in [
        "check_run",
        "check_suite",
        "issue_comment",
        "pull_request",
        "push",
        "installation",
        "installation_repositories",
        "ping",
    ] {
        let dir = fixtures_dir().join("github-webhooks").join(event);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let body = std::fs::read(&file).unwrap();
            let delivery = world.next_delivery();
            let status = world.send(event, &delivery, &body).await;
            assert_eq!(status, 202, "{} was refused", file.display());
            accepted += 1;
        }
    }
    assert!(accepted >= 60, "only {accepted} example payloads");
    assert_eq!(world.webhook_deliveries().await.len(), accepted);
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_github_facts_follow_pagination_with_the_token_and_requests_are_few() {
    let mut world = World::new(3).await;
    // 130 open alerts: two pages at 100 per page. One critical alert fails the `vulnerabilities` rule.
    let mut alerts = vec![("low", "open"); 129];
    alerts.push(("critical", "open"));
    world.fake.set_dependabot(OWNER, REPO, DependabotState::Alerts(alerts));
    world.fake.set_branch_protection(
        OWNER,
        REPO,
        "main",
        Some(json!({
            "url": "https://api.github.com/repos/acme/payments/branches/main/protection",
            "required_status_checks": {"url": "x", "strict": true, "contexts": ["ci"], "contexts_url": "x", "checks": []},
            "required_pull_request_reviews": {"url": "x", "dismiss_stale_reviews": false, "require_code_owner_reviews": false, "required_approving_review_count": 1}
        })),
    );
    let base = world.commit(&good_files());
    let head = world.commit(&with(&good_files(), "docs/x.md", "x"));
    world.start(1).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 11, &head, &base)).await, 202);
    world.settle().await;

    let requests = world.fake.requests();
    let alert_pages: Vec<_> =
        requests.iter().filter(|r| r.template.as_deref() == Some("/repos/{owner}/{repo}/dependabot/alerts")).collect();
    assert_eq!(alert_pages.len(), 2);
    assert!(alert_pages.iter().all(|r| r.auth == AuthKind::InstallationToken && r.status == 200), "{alert_pages:#?}");
    let summary = world.check_runs()[0]["output"]["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("open Dependabot alerts: 1 critical"), "{summary}");
    assert!(summary.contains("requires 1 approving review(s) and passing status checks"), "{summary}");

    let first: Vec<_> = requests.iter().filter(|r| !r.path.ends_with("/access_tokens")).collect();
    eprintln!("REST requests for a first pull-request evaluation (cold caches): {}", first.len());
    for r in &first {
        eprintln!("  {} {}", r.method, r.template.as_deref().unwrap_or(&r.path));
    }

    // A second push to the same pull request: base, catalog, linked facts and unchanged blobs come from caches.
    let before = world.fake.requests().len();
    let next = world.commit(&with(&good_files(), "docs/x.md", "y"));
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("synchronize", 11, &next, &base)).await, 202);
    world.settle().await;
    let second: Vec<_> = world.fake.requests().into_iter().skip(before).collect();
    eprintln!("REST requests for a later push to the same pull request: {}", second.len());
    for r in &second {
        eprintln!("  {} {}", r.method, r.template.as_deref().unwrap_or(&r.path));
    }
    assert!(second.len() <= 6, "a later push should need at most 6 requests, took {}", second.len());
    world.fake.assert_clean();
}

fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// Announces a 26 MiB body and reads the answer without sending it: the server must refuse before reading.
async fn oversized(addr: std::net::SocketAddr) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: big\r\n\
         X-Hub-Signature-256: sha256={}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        "ab".repeat(32),
        26 * 1024 * 1024
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_public_url_the_check_run_links_to_the_scorecard() {
    let mut world = World::new(3).await;
    world.public_url = Some("https://shipshape.example.com/".into());
    let base = world.commit(&good_files());
    let head = world.commit(&with(&good_files(), "docs/a.md", "a"));
    world.start(1).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 12, &head, &base)).await, 202);
    world.settle().await;
    let run = &world.check_runs()[0];
    let expected = format!("https://shipshape.example.com/readiness/{OWNER}/{REPO}/{head}");
    assert_eq!(run["details_url"], expected.as_str());
    let served = world
        .http
        .get(format!("http://{}/readiness/{OWNER}/{REPO}/{head}", world.running().addr))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    let card: Value = served.json().await.unwrap();
    assert_eq!(card["repository"], "acme/payments");
    assert_eq!(card["service"], "payments");
    let missing = world
        .http
        .get(format!("http://{}/readiness/{OWNER}/{REPO}/{base}", world.running().addr))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404, "only evaluated heads are served");
    world.fake.assert_clean();
}

impl World {
    /// GitHub's `check_run.requested_action` example, turned into a click on our "Re-check" button.
    fn recheck(&self, number: u64, head: &str, base: &str) -> Vec<u8> {
        let mut payload = fixture("check_run", "requested_action.payload.json");
        payload["requested_action"] = json!({"identifier": "recheck"});
        payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
        point_at_repo(&mut payload["repository"]);
        let run = &mut payload["check_run"];
        run["name"] = "Production readiness".into();
        run["head_sha"] = head.into();
        run["app"]["id"] = self.fake.app_id().into();
        run["check_suite"]["app"]["id"] = self.fake.app_id().into();
        let pr = &mut run["pull_requests"][0];
        pr["number"] = number.into();
        pr["head"]["sha"] = head.into();
        pr["head"]["ref"] = "feature".into();
        pr["base"]["sha"] = base.into();
        pr["base"]["ref"] = "main".into();
        serde_json::to_vec(&payload).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recheck_button_scores_again_into_the_same_check_run() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&good_files());
    world.start(1).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 14, &head, &base)).await, 202);
    world.settle().await;
    let patches_before = world.fake.requests().iter().filter(|r| r.method == "PATCH").count();
    let delivery = world.next_delivery();
    assert_eq!(world.send("check_run", &delivery, &world.recheck(14, &head, &base)).await, 202);
    world.settle().await;
    let record = world.running().store.delivery(&delivery).await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Done, "{record:?}");
    let patches_after = world.fake.requests().iter().filter(|r| r.method == "PATCH").count();
    assert!(patches_after >= patches_before + 2, "re-check marks the run in progress, then completes it again");
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sticky_comment_is_updated_in_place_on_later_pushes() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let first = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    let second = world.commit(&without(&without(&good_files(), ".github/CODEOWNERS"), "README.md"));
    world.start(1).await;
    for head in [&first, &second] {
        let delivery = world.next_delivery();
        assert_eq!(
            world.send("pull_request", &delivery, &world.pull_request("synchronize", 15, head, &base)).await,
            202
        );
        world.settle().await;
    }
    let comments = world.fake.issue_comments(OWNER, REPO, 15);
    assert_eq!(comments.len(), 1, "one comment per pull request, never one per push");
    let body = comments[0]["body"].as_str().unwrap();
    assert!(body.contains("Breaks **README explains the service**"), "the comment shows the newest push: {body}");
    assert!(body.contains("Breaks **CODEOWNERS assigns reviewers**"), "{body}");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_installation_token_is_replaced() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&good_files());
    world.start(1).await;
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 16, &head, &base)).await, 202);
    world.settle().await;
    world.fake.expire_tokens(); // GitHub now refuses the cached token although it has not reached its expiry
    let next = world.commit(&with(&good_files(), "docs/b.md", "b"));
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("synchronize", 16, &next, &base)).await, 202);
    world.settle().await;
    let record = world.running().store.delivery(&delivery).await.unwrap().unwrap();
    assert_eq!(record.status, DeliveryStatus::Done, "{record:?}");
    let minted = world.fake.requests().iter().filter(|r| r.path.ends_with("/access_tokens")).count();
    assert_eq!(minted, 2, "one token for the first delivery, one more after the refusal");
    assert_eq!(world.check_runs().len(), 2);
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installation_tokens_are_cached_and_renewed_before_they_expire() {
    let mut world = World::new(2).await;
    let clock = Arc::new(shipshape::clock::ManualClock::new(chrono::Utc::now()));
    world.clock = clock.clone();
    let base = world.commit(&good_files());
    world.start(1).await;
    let minted = |world: &World| world.fake.requests().iter().filter(|r| r.path.ends_with("/access_tokens")).count();
    for (number, file) in [(21, "a"), (22, "b")] {
        let head = world.commit(&with(&good_files(), "docs/x.md", file));
        let delivery = world.next_delivery();
        assert_eq!(
            world.send("pull_request", &delivery, &world.pull_request("opened", number, &head, &base)).await,
            202
        );
        world.settle().await;
    }
    assert_eq!(minted(&world), 1, "one token serves every delivery of the installation");
    // GitHub's tokens last an hour; 56 minutes later ours is within the 5-minute margin and is replaced.
    clock.advance(Duration::from_secs(56 * 60));
    let head = world.commit(&with(&good_files(), "docs/x.md", "c"));
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", 23, &head, &base)).await, 202);
    world.settle().await;
    // At least one new token. The fake dates its tokens by the real clock and the App reads them by the manual one,
    // so a token minted now already looks 56 minutes old to the App: each client lookup after the jump mints again
    // (the evaluation's and the catalog's), which GitHub's real tokens would not do.
    assert!(minted(&world) >= 2, "the token was renewed: {}", minted(&world));
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_check_suite_evaluates_its_pull_request_and_other_apps_suites_are_ignored() {
    let mut world = World::new(2).await;
    let base = world.commit(&good_files());
    let head = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    world.start(1).await;
    world.fake.add_pull(OWNER, REPO, 17, &head, "feature", "main");
    let suite = |app_id: u64| {
        let mut payload = fixture("check_suite", "requested.payload.json");
        payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
        point_at_repo(&mut payload["repository"]);
        let cs = &mut payload["check_suite"];
        cs["head_sha"] = head.as_str().into();
        cs["head_branch"] = "feature".into();
        cs["app"]["id"] = app_id.into();
        cs["pull_requests"] = json!([{
            "url": "https://api.github.com/repos/acme/payments/pulls/17", "id": 1, "number": 17,
            "head": {"ref": "feature", "sha": head, "repo": {"id": 1, "url": "https://api.github.com/repos/acme/payments", "name": REPO}},
            "base": {"ref": "main", "sha": base, "repo": {"id": 1, "url": "https://api.github.com/repos/acme/payments", "name": REPO}}
        }]);
        serde_json::to_vec(&payload).unwrap()
    };
    let other = world.next_delivery();
    assert_eq!(world.send("check_suite", &other, &suite(1)).await, 202);
    let ours = world.next_delivery();
    assert_eq!(world.send("check_suite", &ours, &suite(world.fake.app_id())).await, 202);
    world.settle().await;
    let store = &world.running().store;
    assert_eq!(store.delivery(&other).await.unwrap().unwrap().status, DeliveryStatus::Ignored, "another App's suite");
    assert_eq!(store.delivery(&ours).await.unwrap().unwrap().status, DeliveryStatus::Done);
    let runs = world.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["conclusion"], "failure");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_the_default_branch_is_scored_and_kept_in_the_history() {
    let mut world = World::new(2).await;
    let first = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    let second = world.commit(&good_files());
    world.start(1).await;
    let push = |before: &str, after: &str, git_ref: &str| {
        let mut payload = fixture("push", "with-new-branch.payload.json");
        payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
        point_at_repo(&mut payload["repository"]);
        payload["ref"] = git_ref.into();
        payload["before"] = before.into();
        payload["after"] = after.into();
        payload["created"] = false.into();
        payload["deleted"] = false.into();
        serde_json::to_vec(&payload).unwrap()
    };
    let zero = "0".repeat(40);
    for (before, after) in [(zero.as_str(), first.as_str()), (first.as_str(), second.as_str())] {
        let delivery = world.next_delivery();
        assert_eq!(world.send("push", &delivery, &push(before, after, "refs/heads/main")).await, 202);
        world.settle().await;
        let record = world.running().store.delivery(&delivery).await.unwrap().unwrap();
        assert_eq!(record.status, DeliveryStatus::Done, "{record:?}");
    }
    let other_branch = world.next_delivery();
    assert_eq!(world.send("push", &other_branch, &push(&first, &second, "refs/heads/feature")).await, 202);
    world.settle().await;
    let store = &world.running().store;
    assert_eq!(store.delivery(&other_branch).await.unwrap().unwrap().status, DeliveryStatus::Ignored);

    let history = store.evaluations("acme/payments", "refs/heads/main").await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].commit_sha, second);
    assert_eq!(history[0].service.as_deref(), Some("payments"));
    assert_eq!(history[1].level, None, "without CODEOWNERS no level is reached");
    assert_eq!(history[0].level.as_deref(), Some("bronze"));
    assert!(world.check_runs().is_empty(), "pushes are scored without check runs");
    world.fake.assert_clean();
}
