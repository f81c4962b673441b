//! The web API over the service history (issue 14), through the real pipeline: sweeps of two organisations'
//! services against the fake GitHub, then `/api/v1/…` asked as the operator (`SHIPSHAPE_API_TOKEN`), as GitHub
//! users (their tokens checked with `GET /user/installations` on the fake, OpenAPI-checked) and as nobody.

use crate::e2e::{INSTALLATION, OWNER, REPO, World, good_files, without};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use shipshape::clock::ManualClock;
use std::sync::Arc;

pub(crate) const API_TOKEN: &str = "0123456789abcdef0123456789abcdef-operator";
const GLOBEX: u64 = 77;

fn service(name: &str, slug: &str, tier: u32, owner: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    \
         github.com/project-slug: {slug}\nspec:\n  type: service\n  owner: {owner}\n  tier: {tier}\n"
    )
}

/// globex/billing (tier 3) beside acme/payments (tier 2), both good and in the catalog; returns their heads.
fn two_services(world: &World) -> (String, String) {
    let fake = &world.fake;
    fake.add_installation(GLOBEX, "globex");
    fake.add_repo(GLOBEX, "globex", "billing", "main");
    let owned = good_files();
    let files: Vec<(&str, &str)> = owned.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let billing = fake.commit("globex", "billing", &files);
    fake.set_branch("globex", "billing", "main", &billing);
    let (payments, billing_entry) = (
        service("payments", "acme/payments", 2, "team-payments"),
        service("billing", "globex/billing", 3, "team-billing"),
    );
    let catalog = fake.commit(
        OWNER,
        "catalog",
        &[("services/payments.yaml", &payments), ("services/billing.yaml", &billing_entry)],
    );
    fake.set_branch(OWNER, "catalog", "main", &catalog);
    let good = world.commit(&good_files());
    fake.set_branch(OWNER, REPO, "main", &good);
    (billing, good)
}

/// acme/payments (tier 2) and globex/billing (tier 3), scored by sweeps on 1 and 2 November; payments loses its
/// CODEOWNERS on the second day.
pub(crate) async fn two_organisations(vars: &[(&'static str, &str)]) -> (World, Arc<ManualClock>) {
    let mut world = World::new(2).await;
    world.vars.extend(vars.iter().map(|(k, v)| (*k, v.to_string())));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()));
    world.clock = clock.clone();
    world.vars.push(("SHIPSHAPE_API_TOKEN", API_TOKEN.into()));
    two_services(&world);
    world.fake.add_user("alice", "gho_alice_token_1234567890", &[INSTALLATION]);
    world.fake.add_user("bob", "gho_bob_token_1234567890", &[]);
    world.start(2).await;
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    clock.set(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let broken = world.commit(&without(&good_files(), ".github/CODEOWNERS"));
    world.fake.set_branch(OWNER, REPO, "main", &broken);
    world.running().sweep_now().await.unwrap();
    world.settle().await;
    (world, clock)
}

pub(crate) async fn get(
    world: &World,
    path: &str,
    token: Option<&str>,
    accept: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().get(format!("http://{}{path}", world.running().addr));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

async fn json(world: &World, path: &str, token: &str) -> Value {
    let (status, _, body) = get(world, path, Some(token), None).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}/{}", s["org"].as_str().unwrap(), s["service"].as_str().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_shows_each_caller_only_the_organisations_they_can_access() {
    let (world, _) = two_organisations(&[]).await;

    // Nobody, and a token GitHub does not know: 401 and no data.
    let (status, headers, body) = get(&world, "/api/v1/services", None, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert!(!body.contains("payments"), "{body}");
    let (status, _, body) = get(&world, "/api/v1/services", Some("gho_forged_token"), None).await;
    assert_eq!(status, 401, "{body}");

    // The operator sees both organisations.
    let all = json(&world, "/api/v1/services", API_TOKEN).await;
    assert_eq!(names(&all), ["globex/billing", "acme/payments"]);
    let payments = &all["services"][1];
    assert_eq!(payments["repository"], "acme/payments");
    assert_eq!(payments["owner"], "team-payments");
    assert_eq!(payments["tier"], 2);
    assert_eq!(payments["day"], "2026-11-02");
    assert_eq!(payments["meets_required"], false);
    assert!(payments["failing"].as_array().unwrap().iter().any(|r| r == "codeowners"), "{payments:#}");
    let tier3 = json(&world, "/api/v1/services?tier=3", API_TOKEN).await;
    assert_eq!(names(&tier3), ["globex/billing"]);

    // alice can access acme's installation only; bob none.
    let alice = "gho_alice_token_1234567890";
    assert_eq!(names(&json(&world, "/api/v1/services", alice).await), ["acme/payments"]);
    let (status, _, body) = get(&world, "/api/v1/services/billing", Some(alice), None).await;
    assert_eq!(status, 404, "another organisation's service is not found: {body}");
    assert!(!body.contains("globex"), "{body}");
    assert_eq!(names(&json(&world, "/api/v1/services", "gho_bob_token_1234567890").await), Vec::<String>::new());
    assert_eq!(names(&json(&world, "/api/v1/services?org=globex", alice).await), Vec::<String>::new());

    // One service, and its history: a record per day.
    let one = json(&world, "/api/v1/services/payments", alice).await;
    assert_eq!(one["service"]["service"], "payments");
    assert_eq!(one["rules"]["codeowners"], "fail");
    assert_eq!(one["scorecard"]["repository"], "acme/payments", "the evaluation's scorecard is kept");
    let history = json(&world, "/api/v1/services/payments/history?days=30", alice).await;
    let days: Vec<(&str, &str)> = history["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["day"].as_str().unwrap(), d["rules"]["codeowners"].as_str().unwrap()))
        .collect();
    assert_eq!(days, [("2026-11-01", "pass"), ("2026-11-02", "fail")]);
    let (status, _, body) = get(&world, "/api/v1/services/payments/history?days=401", Some(alice), None).await;
    assert_eq!((status, body.contains("between 1 and 400")), (400, true), "{body}");

    // The list as CSV, by Accept or by extension.
    let (status, headers, csv) = get(&world, "/api/v1/services", Some(API_TOKEN), Some("text/csv")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "org,service,repository,owner,tier,level,required_level,meets_required,unverified,failing,commit,day,evaluated_at"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[2].starts_with("acme,payments,acme/payments,team-payments,2,"), "{csv}");
    let (_, _, by_extension) = get(&world, "/api/v1/services.csv", Some(alice), None).await;
    assert_eq!(by_extension.lines().count(), 2, "{by_extension}");
    // GitHub was asked once for alice's installations: her answer is remembered.
    let asked = world.fake.requests().iter().filter(|r| r.path.starts_with("/user/installations")).count();
    assert_eq!(asked, 1 + 1 + 1, "alice once, bob once, the forged token once");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_show_the_level_coloured_by_whether_it_is_met_and_are_cacheable() {
    let (world, _) = two_organisations(&[("SHIPSHAPE_PUBLIC_BADGES", "true")]).await;
    // payments lost CODEOWNERS: below its level, red; billing (tier 3, bronze) is met, green.
    let (status, headers, svg) = get(&world, "/badge/payments.svg", None, None).await;
    assert_eq!(status, 200, "{svg}");
    assert_eq!(headers["content-type"], "image/svg+xml; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert!(svg.contains("<title>readiness: none</title>") && svg.contains("#e05d44"), "{svg}");
    let (_, _, billing) = get(&world, "/badge/billing.svg", None, None).await;
    let row = json(&world, "/api/v1/services/billing", API_TOKEN).await;
    assert!(billing.contains("<title>readiness: bronze</title>") && billing.contains("#4c1"), "{billing}\n{row:#}");
    // The same image again: 304 for its ETag.
    let etag = headers["etag"].to_str().unwrap().to_string();
    let response = reqwest::Client::new()
        .get(format!("http://{}/badge/payments.svg", world.running().addr))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 304);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
    // An unknown service: a grey badge, 404.
    let (status, _, unknown) = get(&world, "/badge/nothing.svg", None, None).await;
    assert_eq!(status, 404);
    assert!(unknown.contains("readiness: unknown") && unknown.contains("#9f9f9f"), "{unknown}");
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_are_private_unless_made_public() {
    let (world, _) = two_organisations(&[]).await;
    let (status, _, body) = get(&world, "/badge/payments.svg", None, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("readiness:"), "{body}");
    let alice = "gho_alice_token_1234567890";
    let (status, headers, svg) = get(&world, "/badge/payments.svg", Some(alice), None).await;
    assert_eq!(status, 200, "{svg}");
    assert_eq!(headers["cache-control"], "private, max-age=300");
    let (status, _, other) = get(&world, "/badge/billing.svg", Some(alice), None).await;
    assert_eq!(status, 404, "another organisation's badge is unknown to alice: {other}");
    assert!(other.contains("readiness: unknown"), "{other}");
}

/// The catalog lives in acme's installation; a push to another organisation's service must not make the App take
/// "no readable catalog" for everyone (the snapshot is shared): it reads the catalog with the installation that
/// covers the catalog repository, whichever repository is being scored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organisations_push_reads_the_catalog_with_the_catalogs_installation() {
    let world = World::new(2).await;
    let (billing, good) = two_services(&world);
    let mut world = world;
    world.start(1).await;
    let push = |installation: u64, owner: &str, name: &str, after: &str| {
        let mut payload = crate::e2e::fixture("push", "with-new-branch.payload.json");
        payload["installation"] =
            serde_json::json!({"id": installation, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
        let repo = &mut payload["repository"];
        repo["name"] = name.into();
        repo["full_name"] = format!("{owner}/{name}").into();
        repo["owner"]["login"] = owner.into();
        repo["default_branch"] = "main".into();
        repo["archived"] = false.into();
        payload["ref"] = "refs/heads/main".into();
        payload["before"] = "0".repeat(40).into();
        payload["after"] = after.into();
        payload["created"] = false.into();
        payload["deleted"] = false.into();
        serde_json::to_vec(&payload).unwrap()
    };
    // globex first, then acme: both are catalog services with their tiers.
    for (installation, owner, name, after) in
        [(GLOBEX, "globex", "billing", billing.as_str()), (INSTALLATION, OWNER, REPO, good.as_str())]
    {
        let delivery = world.next_delivery();
        assert_eq!(world.send("push", &delivery, &push(installation, owner, name, after)).await, 202);
        world.settle().await;
    }
    let store = &world.running().store;
    let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let globex = store.latest_service_days("globex").await.unwrap();
    assert_eq!(
        globex.iter().map(|d| (d.service.as_str(), d.tier, d.meets_required)).collect::<Vec<_>>(),
        [("billing", 3, true)]
    );
    let acme = store.org_days(OWNER, since).await.unwrap();
    assert_eq!(acme.iter().map(|d| (d.service.as_str(), d.tier)).collect::<Vec<_>>(), [("payments", 2)], "{acme:#?}");
    world.fake.assert_clean();
}
