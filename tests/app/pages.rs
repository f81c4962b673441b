//! The signed-in pages (issue 14) over HTTP, through the real pipeline: two organisations' services scored by
//! sweeps on two days, a user of one organisation signed in through the fake GitHub's OAuth flow. The browser
//! tests (`browser_pages`) check the rendered DOM; these check answers, visibility and links.

use crate::signin::{app, client, session_cookie, world};

async fn page(
    world: &crate::e2e::World,
    path: &str,
    cookie: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = client().get(app(world, path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_member_sees_their_organisation_on_every_page() {
    let (world, _) = world().await;
    let alice = session_cookie(&world, "alice").await;

    let (status, headers, body) = page(&world, "/", Some(&alice)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert!(body.contains(r#"id="services-count" href="/services">1</a>"#), "{body}");
    assert!(body.contains(r#"<tr data-tier="2">"#), "{body}");
    assert!(!body.contains(r#"data-tier="3""#), "globex's tier-3 service is not alice's: {body}");
    assert!(body.contains(r#"data-rule="codeowners""#), "{body}");
    assert!(body.contains(r#"name="csrf" value=""#), "the sign-out form carries the CSRF token");

    let (status, _, body) = page(&world, "/services", Some(&alice)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"data-service="payments""#) && !body.contains("billing"), "{body}");

    let (status, _, body) = page(&world, "/services/payments", Some(&alice)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"<tr data-rule="codeowners">"#), "{body}");
    assert!(body.contains("status-fail"), "{body}");
    assert!(body.contains("/acme/catalog/blob/main/services/payments.yaml"), "the catalog entry's html_url: {body}");

    let (status, _, body) = page(&world, "/services/billing", Some(&alice)).await;
    assert_eq!(status, 404, "another organisation's service: {body}");
    assert!(!body.contains("globex/billing"), "{body}");

    let (status, _, body) = page(&world, "/rules/codeowners", Some(&alice)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"data-service="payments""#), "payments fails codeowners on day 2: {body}");

    let (status, _, body) = page(&world, "/teams/team-payments", Some(&alice)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"data-service="payments""#), "{body}");
    let (status, _, _) = page(&world, "/teams/team-billing", Some(&alice)).await;
    assert_eq!(status, 404, "a team of another organisation");

    let (status, _, body) = page(&world, "/services?tier=two", Some(&alice)).await;
    assert_eq!(status, 400);
    assert!(body.contains("must be a tier number, not"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_strangers_to_sign_in_and_are_off_without_oauth() {
    let (world, _) = world().await;
    for path in ["/", "/services", "/services/payments", "/rules/codeowners", "/teams/team-payments"] {
        let (status, headers, body) = page(&world, path, None).await;
        assert_eq!(status, 303, "{path}");
        assert_eq!(headers["location"], "/login", "{path}");
        assert!(!body.contains("payments"), "{path}: {body}");
        let (status, headers, _) = page(&world, path, Some("shipshape_session=v1.forged.mac")).await;
        assert_eq!((status, headers["location"].to_str().unwrap()), (303, "/login"), "{path}: a forged session");
    }
    let (status, headers, css) = page(&world, "/static/shipshape.css", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert!(css.contains("@media"), "a stylesheet for phones too");

    let (plain, _) = crate::web_api::two_organisations(&[]).await;
    let (status, _, body) = page(&plain, "/", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, _, _) = page(&plain, "/api/v1/services", None).await;
    assert_eq!(status, 401, "the API still answers without sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_page_links_its_exception_pull_request_and_a_service_that_left_the_catalog_leaves_today() {
    use crate::fake_github::web::{CLIENT_ID, CLIENT_SECRET};
    let vars = vec![
        ("SHIPSHAPE_GITHUB_CLIENT_ID", CLIENT_ID.to_string()),
        ("SHIPSHAPE_GITHUB_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ("SHIPSHAPE_PUBLIC_URL", crate::signin::PUBLIC.to_string()),
        ("SHIPSHAPE_API_TOKEN", crate::web_api::API_TOKEN.to_string()),
    ];
    let mut s = crate::commands::Setup::with_vars(2, vars).await;
    s.fake().add_user("alice", "gho_alice_token_1234567890", &[crate::e2e::INSTALLATION]);
    s.world.running().sweep_now().await.unwrap();
    s.world.settle().await;
    s.comment(7, "alice", "/request-exception runbook for 14d the wiki moves").await;
    let pull = s.catalog_pulls().pop().expect("an exception pull request");

    let alice = session_cookie(&s.world, "alice").await;
    let (status, _, body) = page(&s.world, "/services/payments", Some(&alice)).await;
    assert_eq!(status, 200, "{body}");
    let link = format!(r#"class="exception-pr" href="https://github.com/acme/catalog/pull/{}""#, pull.number);
    assert!(body.contains(&link), "{link} in {body}");

    // The catalog drops the service: after the next sweep it is gone from today's list and pages (its history
    // stays), though its day records are still in the store.
    let catalog =
        s.fake().commit(crate::e2e::OWNER, "catalog", &[("policies/scorecard.yaml", crate::commands::POLICY)]);
    s.fake().set_branch(crate::e2e::OWNER, "catalog", "main", &catalog);
    s.clock.advance(std::time::Duration::from_secs(120));
    s.world.running().sweep_now().await.unwrap();
    s.world.settle().await;
    let (status, _, body) =
        crate::web_api::get(&s.world, "/api/v1/services", Some(crate::web_api::API_TOKEN), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"services":[]}"#);
    let (status, _, body) = page(&s.world, "/services/payments", Some(&alice)).await;
    assert_eq!(status, 404, "{body}");
}
