//! GitHub's web sign-in for OAuth apps and GitHub Apps (not part of the REST API, so not OpenAPI-checked):
//! `GET /login/oauth/authorize` (the browser, signed in to GitHub as [`FakeGitHub::sign_in_browser`] says, is sent
//! back to the `redirect_uri` with a one-time `code` and the `state`) and `POST /login/oauth/access_token` (the App's
//! server trades the code, with its client id and secret, for the user's token).

use super::*;

/// The App's OAuth client, as GitHub shows it in the App's settings.
pub const CLIENT_ID: &str = "Iv1.fakeclient0001";
pub const CLIENT_SECRET: &str = "fake-client-secret-0123456789abcdef";

/// A code handed out by `authorize`, until it is used.
pub(crate) struct Grant {
    login: String,
    redirect_uri: String,
}

/// What the web side holds.
#[derive(Default)]
pub(crate) struct Web {
    /// Who the browser is signed in to GitHub as (`None`: GitHub would show its sign-in form).
    pub browser: Option<String>,
    grants: HashMap<String, Grant>,
    issued: u64,
    /// Every sign-in request, in order: (path, query or body).
    pub requests: Vec<(String, String)>,
}

/// Answers the web sign-in paths; `None` for every other path.
pub(super) fn route(inner: &Inner, method: &str, uri: &axum::http::Uri, body: &[u8]) -> Option<Response> {
    let path = uri.path();
    if !path.starts_with("/login/oauth/") {
        return None;
    }
    let mut w = inner.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let query = uri.query().unwrap_or_default().to_string();
    w.web
        .requests
        .push((path.to_string(), if method == "GET" { query.clone() } else { String::from_utf8_lossy(body).into() }));
    Some(match (method, path) {
        ("GET", "/login/oauth/authorize") => authorize(&mut w, &query),
        ("POST", "/login/oauth/access_token") => access_token(&mut w, body),
        _ => StatusCode::NOT_FOUND.into_response(),
    })
}

fn authorize(w: &mut World, query: &str) -> Response {
    let q: HashMap<String, String> = parse_query(query).into_iter().collect();
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::NOT_FOUND, "unknown client_id").into_response();
    }
    let Some(redirect_uri) = q.get("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "no redirect_uri").into_response();
    };
    let Some(login) = w.web.browser.clone() else {
        return (StatusCode::OK, "<form action=\"/session\">Sign in to GitHub</form>").into_response();
    };
    w.web.issued += 1;
    let code = format!("code{:04}", w.web.issued);
    w.web.grants.insert(code.clone(), Grant { login, redirect_uri: redirect_uri.clone() });
    let state = q.get("state").cloned().unwrap_or_default();
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    let location = format!("{redirect_uri}?code={}&state={}", enc(&code), enc(&state));
    (StatusCode::FOUND, [("location", location)]).into_response()
}

/// GitHub answers 200 with an `error` for bad codes and credentials.
fn access_token(w: &mut World, body: &[u8]) -> Response {
    let fields: HashMap<String, String> = match serde_json::from_slice::<HashMap<String, String>>(body) {
        Ok(json) => json,
        Err(_) => parse_query(&String::from_utf8_lossy(body)).into_iter().collect(),
    };
    let error = |e: &str| axum::Json(json!({"error": e, "error_description": e})).into_response();
    let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return error("incorrect_client_credentials");
    }
    let Some(grant) = w.web.grants.remove(field("code")) else { return error("bad_verification_code") };
    if fields.get("redirect_uri").is_some_and(|r| *r != grant.redirect_uri) {
        return error("redirect_uri_mismatch");
    }
    let Some(token) = w.users.iter().find(|(_, u)| u.login == grant.login).map(|(t, _)| t.clone()) else {
        return error("bad_verification_code");
    };
    axum::Json(json!({"access_token": token, "token_type": "bearer", "scope": ""})).into_response()
}

impl FakeGitHub {
    /// The browser is signed in to GitHub as `login` (a user of [`FakeGitHub::add_user`]), or signed out.
    pub fn sign_in_browser(&self, login: Option<&str>) {
        self.world().web.browser = login.map(str::to_string);
    }

    /// The sign-in requests the web side received: (path, query or body).
    pub fn web_requests(&self) -> Vec<(String, String)> {
        self.world().web.requests.clone()
    }
}
