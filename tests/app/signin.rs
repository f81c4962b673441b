//! Signing in with GitHub (issue 14): the OAuth web flow against the fake GitHub's web side (authorize,
//! access_token) and its REST API (`/user`, `/user/installations`, OpenAPI-checked), then the signed session
//! cookie as the API's credential; forged state, tampered and expired sessions, a user without an installation,
//! and signing out with the CSRF token.

use crate::fake_github::web::{CLIENT_ID, CLIENT_SECRET};
use crate::web_api::two_organisations;
use base64::Engine;
use reqwest::redirect::Policy;
use serde_json::Value;

pub(crate) const PUBLIC: &str = "http://shipshape.test";

pub(crate) async fn world() -> (crate::e2e::World, std::sync::Arc<shipshape::clock::ManualClock>) {
    two_organisations(&[
        ("SHIPSHAPE_GITHUB_CLIENT_ID", CLIENT_ID),
        ("SHIPSHAPE_GITHUB_CLIENT_SECRET", CLIENT_SECRET),
        ("SHIPSHAPE_PUBLIC_URL", PUBLIC),
    ])
    .await
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

pub(crate) fn app(world: &crate::e2e::World, path: &str) -> String {
    format!("http://{}{path}", world.running().addr)
}

pub(crate) fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

pub(crate) fn cookie_value<'a>(set_cookies: &'a [String], name: &str) -> Option<&'a str> {
    set_cookies.iter().find_map(|c| c.strip_prefix(&format!("{name}="))?.split(';').next())
}

/// `/login`, GitHub's authorize page, back to the callback: the callback's response.
/// Signs `login` in through the real flow; the `Cookie` header of their session.
pub(crate) async fn session_cookie(world: &crate::e2e::World, login: &str) -> String {
    let done = sign_in(world, login).await;
    assert_eq!(done.status().as_u16(), 303);
    format!("shipshape_session={}", cookie_value(&set_cookies(&done), "shipshape_session").expect("a session"))
}

pub(crate) async fn sign_in(world: &crate::e2e::World, login: &str) -> reqwest::Response {
    world.fake.sign_in_browser(Some(login));
    let http = client();
    let start = http.get(app(world, "/login")).send().await.unwrap();
    assert_eq!(start.status().as_u16(), 303);
    let state_cookie = cookie_value(&set_cookies(&start), "shipshape_oauth_state").unwrap().to_string();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&format!("{}/login/oauth/authorize?client_id=", world.fake.url)), "{authorize}");
    assert!(!authorize.contains(CLIENT_SECRET));
    let github = http.get(&authorize).send().await.unwrap();
    assert_eq!(github.status().as_u16(), 302);
    let back = github.headers()["location"].to_str().unwrap().replace(PUBLIC, &app(world, ""));
    http.get(back).header("cookie", format!("shipshape_oauth_state={state_cookie}")).send().await.unwrap()
}

async fn api(world: &crate::e2e::World, cookie: &str) -> (u16, String) {
    let r = client().get(app(world, "/api/v1/services")).header("cookie", cookie).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signs_in_and_sees_only_their_organisation() {
    let (world, _) = world().await;
    let done = sign_in(&world, "alice").await;
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(done.headers()["location"], "/");
    let cookies = set_cookies(&done);
    let session = cookies.iter().find(|c| c.starts_with("shipshape_session=")).expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Max-Age=28800"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain http: {session}");
    assert!(cookies.iter().any(|c| c.starts_with("shipshape_oauth_state=;")), "the state is cleared: {cookies:?}");
    // The session holds no GitHub token.
    let value = cookie_value(&cookies, "shipshape_session").unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.split('.').nth(1).unwrap()).unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["login"], "alice");
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&payload).unwrap()).contains("gho_"), "{payload}");

    let (status, body) = api(&world, &format!("shipshape_session={value}")).await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> =
        list["services"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(names, ["payments"], "acme's service, not globex's");
    // The code was traded with the App's client secret, once; GitHub's REST answered who alice is.
    let trades: Vec<_> =
        world.fake.web_requests().into_iter().filter(|(p, _)| p == "/login/oauth/access_token").collect();
    assert_eq!(trades.len(), 1);
    assert!(world.fake.requests().iter().any(|r| r.path == "/user"));
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_state_tampered_or_expired_sessions_and_strangers_get_no_data() {
    let (world, clock) = world().await;
    // A callback whose state is not the browser's: 403, no session.
    world.fake.sign_in_browser(Some("alice"));
    let forged = client()
        .get(app(&world, "/auth/callback?code=code0001&state=attacker"))
        .header("cookie", "shipshape_oauth_state=victim")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(set_cookies(&forged).iter().all(|c| !c.starts_with("shipshape_session=v1")));
    let no_cookie = client().get(app(&world, "/auth/callback?code=x&state=y")).send().await.unwrap();
    assert_eq!(no_cookie.status().as_u16(), 403);

    // bob can access no installation: 403, no session.
    let bob = sign_in(&world, "bob").await;
    assert_eq!(bob.status().as_u16(), 403);
    assert!(bob.text().await.unwrap().contains("cannot access any organisation"));

    // alice's session, then tampered with: another organisation added to the payload.
    let done = sign_in(&world, "alice").await;
    let value = cookie_value(&set_cookies(&done), "shipshape_session").unwrap().to_string();
    let mut parts: Vec<String> = value.split('.').map(str::to_string).collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    payload["orgs"] = serde_json::json!(["acme", "globex"]);
    parts[1] = engine.encode(serde_json::to_vec(&payload).unwrap());
    let (status, body) = api(&world, &format!("shipshape_session={}", parts.join("."))).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("billing"));

    // Eight hours later the session has expired.
    let (status, _) = api(&world, &format!("shipshape_session={value}")).await;
    assert_eq!(status, 200);
    clock.advance(std::time::Duration::from_secs(8 * 3600 + 1));
    let (status, _) = api(&world, &format!("shipshape_session={value}")).await;
    assert_eq!(status, 401);
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_needs_the_sessions_csrf_token() {
    let (world, _) = world().await;
    let done = sign_in(&world, "alice").await;
    let value = cookie_value(&set_cookies(&done), "shipshape_session").unwrap().to_string();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.split('.').nth(1).unwrap()).unwrap();
    let csrf = serde_json::from_slice::<Value>(&payload).unwrap()["csrf"].as_str().unwrap().to_string();
    let logout = |form: String| {
        let (url, cookie) = (app(&world, "/logout"), format!("shipshape_session={value}"));
        async move {
            client()
                .post(url)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = logout("csrf=not-the-token".into()).await;
    assert_eq!(refused.status().as_u16(), 403, "a cross-site form cannot sign the user out");
    let out = logout(format!("csrf={csrf}")).await;
    assert_eq!(out.status().as_u16(), 303);
    assert!(set_cookies(&out).iter().any(|c| c.starts_with("shipshape_session=;") && c.contains("Max-Age=0")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_oauth_settings_the_pages_are_not_found_and_the_api_still_answers_tokens() {
    let (world, _) = two_organisations(&[]).await;
    let login = client().get(app(&world, "/login")).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 404);
    let (status, _, _) =
        crate::web_api::get(&world, "/api/v1/services", Some("gho_alice_token_1234567890"), None).await;
    assert_eq!(status, 200);
}
