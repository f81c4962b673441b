//! The Ops view (`/ops`, `/api/v1/ops`) through the real pipeline: two organisations' repositories swept twice
//! while their linked tool answers 500 (the circuit breaker opens), a pull request whose check run GitHub refuses
//! (422: failed for good), a sweep job of an installation whose listing is gone (failed, no repository), a pull
//! request whose check run GitHub answers 502 (waiting to be retried); then what the operator, a member of each
//! organisation and a stranger see.

use crate::e2e::{INSTALLATION, OWNER, REPO, World, fixture, good_files, readme, serve_fake};
use crate::fake_github::web::{CLIENT_ID, CLIENT_SECRET};
use crate::signin::{PUBLIC, app, client, session_cookie};
use crate::web_api::API_TOKEN;
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use shipshape::clock::ManualClock;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const GLOBEX: u64 = 77;

/// A linked tool that answers 500, echoing a repository name and a token in its body; counts requests.
async fn failing_tool() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom for globex/billing token=hunter2") }
    });
    (serve_fake(app).await, count)
}

fn policy(tool: &str) -> String {
    format!(
        "apiVersion: shipshape.dev/v1\nkind: Scorecard\ndefault_tier: 3\ntiers:\n  2: {{requires: bronze}}\n  3: \
         {{requires: bronze}}\nrules:\n  - {{id: readme, title: Has a README, level: bronze, remediation: Write one., \
         check: {{file: {{any: [README.md]}}}}}}\n  - id: quality-gate\n    title: Quality gate passes\n    level: \
         bronze\n    remediation: Fix it.\n    check:\n      http:\n        url: \
         '{tool}/api/qualitygates/project_status?projectKey={{{{ .metadata.name }}}}'\n        jq: \
         '.projectStatus.status == \"OK\"'\n"
    )
}

fn service(name: &str, slug: &str, tier: u32) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    \
         github.com/project-slug: {slug}\nspec:\n  type: service\n  owner: team-{name}\n  tier: {tier}\n"
    )
}

/// acme/payments and globex/billing in the catalog, a policy with an `http` check against `tool`, sign-in and the
/// operator's token configured, alice in acme and gina in globex; started on 1 November 2026, 09:00 UTC.
async fn ops_world(tool: &str) -> (World, Arc<ManualClock>) {
    let mut world = World::new(2).await;
    world.vars.extend([
        ("SHIPSHAPE_GITHUB_CLIENT_ID", CLIENT_ID.to_string()),
        ("SHIPSHAPE_GITHUB_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ("SHIPSHAPE_PUBLIC_URL", PUBLIC.to_string()),
        ("SHIPSHAPE_API_TOKEN", API_TOKEN.to_string()),
    ]);
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()));
    world.clock = clock.clone();
    let fake = &world.fake;
    fake.add_installation(GLOBEX, "globex");
    fake.add_repo(GLOBEX, "globex", "billing", "main");
    let readme = readme();
    let billing = fake.commit("globex", "billing", &[("README.md", readme.as_str())]);
    fake.set_branch("globex", "billing", "main", &billing);
    let payments = fake.commit(OWNER, REPO, &[("README.md", readme.as_str())]);
    fake.set_branch(OWNER, REPO, "main", &payments);
    let (policy, acme, globex) =
        (policy(tool), service("payments", "acme/payments", 2), service("billing", "globex/billing", 3));
    let catalog = fake.commit(
        OWNER,
        "catalog",
        &[("policies/scorecard.yaml", &policy), ("services/payments.yaml", &acme), ("services/billing.yaml", &globex)],
    );
    fake.set_branch(OWNER, "catalog", "main", &catalog);
    fake.add_user("alice", "gho_alice_token_1234567890", &[INSTALLATION]);
    fake.add_user("gina", "gho_gina_token_1234567890", &[GLOBEX]);
    world.start(2).await;
    (world, clock)
}

async fn get(world: &World, path: &str, token: Option<&str>, cookie: Option<&str>) -> (u16, String, String) {
    let mut request = client().get(app(world, path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

async fn ops_json(world: &World, token: Option<&str>, cookie: Option<&str>) -> Value {
    let (status, _, body) = get(world, "/api/v1/ops", token, cookie).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|d| d["delivery_id"].as_str().unwrap()).collect()
}

fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    keys
}

/// Two sweeps one second apart: four requests to the failing tool (three attempts each) open its breaker.
async fn sweep_twice(world: &World, clock: &ManualClock) {
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    clock.advance(Duration::from_secs(1));
    world.running().sweep_now().await.unwrap();
    world.settle().await;
}

/// A pull request of acme/payments whose check-run creation GitHub answers `status` with `message`, once.
async fn pull_request_refused(world: &World, number: u64, status: u16, message: &str) -> String {
    let base = world.commit(&good_files());
    let head = world.commit(&crate::e2e::with(&good_files(), "docs/notes.md", &format!("pull request {number}\n")));
    world.fake.fail_next("POST", "/repos/{owner}/{repo}/check-runs", 1, status, &[], json!({"message": message}));
    let delivery = world.next_delivery();
    assert_eq!(world.send("pull_request", &delivery, &world.pull_request("opened", number, &head, &base)).await, 202);
    delivery
}

/// An `installation_repositories` event whose sweep job finds the installation's listing gone (404); the job's id.
async fn installation_sweep_refused(world: &World) -> String {
    let mut payload = fixture("installation_repositories", "added.payload.json");
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    let id = world.fake.repo_id(OWNER, REPO);
    payload["repositories_added"] =
        json!([{"id": id, "node_id": "R_1", "name": REPO, "full_name": "acme/payments", "private": true}]);
    payload["repositories_removed"] = json!([]);
    world.fake.fail_next("GET", "/installation/repositories", 1, 404, &[], json!({"message": "Not Found"}));
    let delivery = world.next_delivery();
    let body = serde_json::to_vec(&payload).unwrap();
    assert_eq!(world.send("installation_repositories", &delivery, &body).await, 202);
    format!("installation-{INSTALLATION}-added-{id}")
}

/// Waits until the operator's view lists a delivery waiting to be retried.
async fn until_retrying(world: &World) -> Value {
    for _ in 0..200 {
        let report = ops_json(world, Some(API_TOKEN), None).await;
        if !report["retrying"].as_array().unwrap().is_empty() {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery waits to be retried: {:#?}", world.running().store.deliveries().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_and_members_see_failures_retries_tools_down_and_the_last_sweep() {
    let (tool, requests) = failing_tool().await;
    let (world, clock) = ops_world(&tool).await;
    sweep_twice(&world, &clock).await;
    assert_eq!(requests.load(Ordering::SeqCst), 12, "two repositories, two sweeps, three attempts each");
    let refused = pull_request_refused(&world, 7, 422, "Validation <b>Failed</b>: head_sha").await;
    world.settle().await;
    let listing_gone = installation_sweep_refused(&world).await;
    world.settle().await;
    let retried = pull_request_refused(&world, 8, 502, "Server Error").await;
    let report = until_retrying(&world).await;

    operator_sees_every_failure(&report, &refused, &listing_gone, &retried);
    let host = tool.to_ascii_lowercase();
    assert_eq!(
        report["tools_down"],
        json!([{"tool": "http", "host": host, "state": "open", "since": "2026-11-01T09:00:00Z",
                "retry_at": "2026-11-01T09:02:01Z", "last_error": "answered 500"}])
    );
    assert_eq!(
        report["last_sweep"],
        json!({"id": "sweep-20261101T090001.000Z", "reason": "requested", "started_at": "2026-11-01T09:00:01Z",
               "listed_at": "2026-11-01T09:00:01Z", "repositories": 2, "skipped": 0, "finished": 2, "failed": 0,
               "pending": 0, "finished_at": "2026-11-01T09:00:01Z", "duration_seconds": 0.0}),
        "the installation's own sweep is not the last sweep of every installation"
    );
    let text = report.to_string();
    assert!(!text.contains("hunter2") && !text.contains("projectKey"), "no tool body, no URL: {text}");

    members_see_their_organisation(&world, &refused, &listing_gone, &retried, &host).await;

    // The retry runs; a day later the failures are out of the window and the tool is to be tried again.
    clock.advance(Duration::from_secs(1));
    world.settle().await;
    let report = ops_json(&world, Some(API_TOKEN), None).await;
    assert_eq!((report["queue_depth"].clone(), report["retrying"].clone()), (json!(0), json!([])));
    clock.advance(Duration::from_secs(25 * 3600));
    let report = ops_json(&world, Some(API_TOKEN), None).await;
    assert_eq!((report["failed_count"].clone(), report["failed"].clone()), (json!(0), json!([])));
    assert_eq!(report["tools_down"][0]["state"], "half_open");
    assert_eq!(report["last_sweep"]["id"], "sweep-20261101T090001.000Z");
    world.fake.assert_clean();
}

/// The operator's report: every field of the deliveries that failed and wait for a retry, with its value.
fn operator_sees_every_failure(report: &Value, refused: &str, gone_id: &str, retried: &str) {
    assert_eq!(
        keys(report),
        [
            "failed",
            "failed_count",
            "failed_since",
            "generated_at",
            "last_sweep",
            "queue_depth",
            "retrying",
            "tools_down"
        ]
    );
    assert_eq!(report["generated_at"], "2026-11-01T09:00:01Z");
    assert_eq!(report["failed_since"], "2026-10-31T09:00:01Z");
    assert_eq!(report["queue_depth"], 1, "the pull request waiting for its retry");
    assert_eq!(report["failed_count"], 2);
    assert_eq!(ids(&report["failed"]), [gone_id, refused], "newest first");
    let failed = &report["failed"][1];
    assert_eq!(
        keys(failed),
        ["action", "attempts", "delivery_id", "event", "failed_at", "reason", "received_at", "repository"]
    );
    assert_eq!(failed["event"], "pull_request");
    assert_eq!(failed["action"], "opened");
    assert_eq!(failed["repository"], "acme/payments");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(
        failed["reason"],
        "GitHub refused POST /repos/{owner}/{repo}/check-runs (422): Validation <b>Failed</b>: head_sha"
    );
    assert_eq!(
        (&failed["received_at"], &failed["failed_at"]),
        (&json!("2026-11-01T09:00:01Z"), &json!("2026-11-01T09:00:01Z"))
    );
    let gone = &report["failed"][0];
    assert_eq!(
        (&gone["event"], &gone["action"], &gone["repository"]),
        (&json!("shipshape.job"), &json!("sweep"), &Value::Null)
    );
    assert!(gone["reason"].as_str().unwrap().starts_with("not found"), "{gone}");

    assert_eq!(ids(&report["retrying"]), [retried]);
    let retrying = &report["retrying"][0];
    assert_eq!(keys(retrying).len(), 9, "the fields of a failure and next_attempt_at: {retrying}");
    assert_eq!(retrying["attempts"], 1);
    assert_eq!(retrying["failed_at"], "2026-11-01T09:00:01Z");
    assert_eq!(retrying["next_attempt_at"], "2026-11-01T09:00:01.100Z", "the worker's first backoff, 100 ms");
    assert_eq!(retrying["reason"], "GitHub is unavailable (POST /repos/{owner}/{repo}/check-runs): Server Error");
}

/// alice (acme) sees acme's deliveries only, gina (globex) none of them; both see the tool down and the sweep.
async fn members_see_their_organisation(world: &World, refused: &str, gone: &str, retried: &str, host: &str) {
    let alice = session_cookie(world, "alice").await;
    let mine = ops_json(world, None, Some(&alice)).await;
    assert_eq!((mine["failed_count"].clone(), ids(&mine["failed"])), (json!(1), vec![refused]), "not the sweep job");
    assert_eq!(ids(&mine["retrying"]), [retried]);
    assert_eq!(mine["tools_down"][0]["host"], host);
    assert_eq!(mine["queue_depth"], 1);

    let (status, _, page) = get(world, "/ops", None, Some(&alice)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<title>Operations · shipshape</title>"), "{page}");
    assert!(page.contains(&format!(r#"<tr data-delivery="{refused}"><th scope="row">{refused}</th>"#)), "{page}");
    assert!(page.contains("(422): Validation &lt;b&gt;Failed&lt;/b&gt;: head_sha"), "escaped: {page}");
    assert!(!page.contains("<b>Failed</b>"), "{page}");
    assert!(!page.contains(gone), "a delivery without a repository is the operator's: {page}");
    assert!(page.contains(&format!(r#"<tr data-delivery="{retried}">"#)), "{page}");
    assert!(page.contains(r#"<time datetime="2026-11-01T09:00:01Z">2026-11-01T09:00:01Z</time>"#), "{page}");
    assert!(page.contains(&format!(r#"<tr data-host="{host}"><th scope="row">{host}</th><td>http</td>"#)), "{page}");
    assert!(page.contains(r#"data-state="open">down: not asked until the retry time</td>"#), "{page}");
    assert!(page.contains("<td>answered 500</td>"), "{page}");
    assert!(page.contains(r#"<span id="sweep-id">sweep-20261101T090001.000Z</span> (requested)"#), "{page}");
    assert!(page.contains(r#"<td id="sweep-state">finished</td>"#), "{page}");
    assert!(page.contains(r#"<td id="sweep-jobs">2 finished, 0 failed, 0 pending</td>"#), "{page}");
    assert!(page.contains(r#"<td id="sweep-duration">0.0 s</td>"#), "{page}");
    assert!(page.contains(r#"<span class="big" id="queue-depth">1</span>"#), "{page}");
    assert!(page.contains(r##"<a class="big" id="failed-count" href="#failed">1</a>"##), "{page}");
    assert!(page.contains(r#"<th scope="col">Reason</th>"#), "{page}");

    let gina = session_cookie(world, "gina").await;
    let theirs = ops_json(world, None, Some(&gina)).await;
    assert_eq!((theirs["failed_count"].clone(), theirs["failed"].clone()), (json!(0), json!([])));
    assert_eq!(theirs["retrying"], json!([]));
    assert_eq!(theirs["tools_down"][0]["last_error"], "answered 500");
    assert_eq!(theirs["last_sweep"]["repositories"], 2);
    let (status, _, page) = get(world, "/ops", None, Some(&gina)).await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("acme/payments") && !page.contains(refused) && !page.contains(retried), "{page}");
    assert!(page.contains("No delivery you can see failed in the last 24 hours."), "{page}");
    assert!(page.contains(&format!(r#"data-host="{host}""#)), "{page}");

    // Strangers: sent to sign in, or 401, with nothing of the report.
    let (status, location, body) = get(world, "/ops", None, None).await;
    assert_eq!((status, location.as_str()), (303, "/login"), "{body}");
    assert!(!body.contains("sweep"), "{body}");
    let (status, _, body) = get(world, "/api/v1/ops", None, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("acme") && !body.contains("answered"), "{body}");
    let (status, _, _) = get(world, "/api/v1/ops", None, Some("shipshape_session=v1.forged.mac")).await;
    assert_eq!(status, 401, "a forged session");
}
