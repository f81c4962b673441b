//! Sign-in with GitHub's OAuth web flow, with the App's own client: `GET /login` sends the browser to GitHub with a
//! random `state` (kept in an HttpOnly cookie), `GET /auth/callback` checks it, trades the code for the user's token,
//! asks GitHub who the user is and which installations of the App they can access, and starts a signed session
//! (the token is not kept); `POST /logout` (with the session's CSRF token) ends it.

use super::WebState;
use super::session::{COOKIE, STATE_COOKIE, Session, SessionKey, cookie, random_hex, same_secret, set_cookie};
use crate::config::SignInConfig;
use crate::http::HttpClient;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;

/// How long a sign-in may take between `/login` and the callback.
const STATE_SECONDS: i64 = 600;

/// What sign-in needs at run time.
pub struct SignIn {
    pub config: SignInConfig,
    pub key: SessionKey,
    pub github_api_url: String,
    http: HttpClient,
}

impl SignIn {
    pub fn new(config: SignInConfig, key: SessionKey, github_api_url: &str) -> anyhow::Result<SignIn> {
        Ok(SignIn {
            config,
            key,
            github_api_url: github_api_url.to_string(),
            http: HttpClient::new(Duration::from_secs(10))?,
        })
    }
}

/// The session key: `SHIPSHAPE_SESSION_KEY`, else one kept in the database (made by the first replica to start).
pub async fn session_key(config: &SignInConfig, store: &crate::store::Store) -> anyhow::Result<SessionKey> {
    if let Some(secret) = &config.session_key {
        return Ok(SessionKey::from_secret(secret.expose()));
    }
    let fresh = random_hex();
    let stored = store
        .kv_get_or_put(crate::store::ns::WEB, "session_key", fresh.as_bytes(), chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("cannot keep the session key in the database: {e}"))?;
    Ok(SessionKey::from_secret(&String::from_utf8_lossy(&stored)))
}

fn page(status: StatusCode, text: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
}

/// Without sign-in configured every page is 404, and the log says how to turn it on (once).
pub(super) fn not_configured() -> Response {
    static HINT: std::sync::Once = std::sync::Once::new();
    HINT.call_once(|| {
        tracing::warn!(
            "web pages are off: set SHIPSHAPE_GITHUB_CLIENT_ID, SHIPSHAPE_GITHUB_CLIENT_SECRET and SHIPSHAPE_PUBLIC_URL \
             to sign in with GitHub"
        );
    });
    page(StatusCode::NOT_FOUND, "not found")
}

fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    for c in cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `GET /login`.
pub async fn login(State(state): State<WebState>) -> Response {
    let Some(sign_in) = &state.sign_in else { return not_configured() };
    let c = &sign_in.config;
    let nonce = random_hex();
    let query = [("client_id", c.client_id.as_str()), ("redirect_uri", c.callback_url.as_str()), ("state", &nonce)];
    let encoded: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect();
    let to = format!("{}/login/oauth/authorize?{}", c.web_url, encoded.join("&"));
    redirect(&to, &[set_cookie(STATE_COOKIE, &nonce, STATE_SECONDS, c.secure)])
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback?code=…&state=…`.
pub async fn callback(State(state): State<WebState>, headers: HeaderMap, Query(q): Query<Callback>) -> Response {
    let Some(sign_in) = &state.sign_in else { return not_configured() };
    let expected = cookie(&headers, STATE_COOKIE);
    let state_ok = matches!((expected, q.state.as_deref()), (Some(e), Some(s)) if same_secret(e, s));
    if !state_ok {
        return page(
            StatusCode::FORBIDDEN,
            "This sign-in was not started here, or took too long: start again at /login.",
        );
    }
    if let Some(error) = q.error {
        let error: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        return page(StatusCode::FORBIDDEN, &format!("GitHub did not sign you in ({error}): start again at /login."));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 256) else {
        return page(StatusCode::BAD_REQUEST, "GitHub sent no code: start again at /login.");
    };
    let token = match exchange(sign_in, &code).await {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in: the code could not be exchanged");
            return page(StatusCode::FORBIDDEN, "GitHub did not accept this sign-in: start again at /login.");
        }
    };
    let (login, orgs) = match who(sign_in, &token).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in: GitHub could not say who signed in");
            return page(StatusCode::BAD_GATEWAY, "GitHub could not be asked who you are: try again.");
        }
    };
    if orgs.is_empty() {
        return page(
            StatusCode::FORBIDDEN,
            "You cannot access any organisation where shipshape is installed. Ask an owner of your organisation.",
        );
    }
    let session = sign_in.key.start(&login, orgs, state.clock.now());
    tracing::info!(user = %login, organisations = session.orgs.len(), "signed in");
    let secure = sign_in.config.secure;
    redirect(
        "/",
        &[
            set_cookie(COOKIE, &sign_in.key.seal(&session), super::session::SESSION_HOURS * 3600, secure),
            set_cookie(STATE_COOKIE, "", 0, secure),
        ],
    )
}

/// Trades the callback's code for the user's token (`POST {web}/login/oauth/access_token`).
async fn exchange(sign_in: &SignIn, code: &str) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Answer {
        access_token: Option<String>,
        error: Option<String>,
    }
    let c = &sign_in.config;
    let body = serde_json::json!({
        "client_id": c.client_id, "client_secret": c.client_secret.expose(), "code": code, "redirect_uri": c.callback_url,
    });
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("{}/login/oauth/access_token", c.web_url))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, concat!("shipshape/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))?;
    let response = sign_in.http.send_limited(request, Duration::from_secs(10), Some(64 * 1024)).await?;
    let answer: Answer = serde_json::from_slice(&response.body)
        .map_err(|e| anyhow::anyhow!("GitHub answered {} with no token ({e})", response.status))?;
    match (answer.access_token, answer.error) {
        (Some(token), None) if !token.is_empty() => Ok(token),
        (_, error) => {
            anyhow::bail!("GitHub answered {}: {}", response.status, error.unwrap_or_else(|| "no token".into()))
        }
    }
}

/// The user's login and the organisations whose installation of the App they can access.
async fn who(sign_in: &SignIn, token: &str) -> anyhow::Result<(String, std::collections::BTreeSet<String>)> {
    #[derive(Deserialize)]
    struct User {
        login: String,
    }
    let client = crate::github::client::Installation::with_token(&sign_in.github_api_url, token)?;
    let user: User = client.get("/user", "GET /user").await?;
    let orgs = super::access::user_orgs(&sign_in.github_api_url, token).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((user.login, orgs))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// `POST /logout` with the session's `csrf` field.
pub async fn logout(State(state): State<WebState>, headers: HeaderMap, Form(form): Form<LogoutForm>) -> Response {
    let Some(sign_in) = &state.sign_in else { return not_configured() };
    let session: Option<Session> = cookie(&headers, COOKIE).and_then(|c| sign_in.key.open(c, state.clock.now()));
    match (session, form.csrf) {
        (Some(session), Some(csrf)) if same_secret(&session.csrf, &csrf) => {
            redirect("/", &[set_cookie(COOKIE, "", 0, sign_in.config.secure)])
        }
        (None, _) => redirect("/", &[set_cookie(COOKIE, "", 0, sign_in.config.secure)]),
        _ => page(StatusCode::FORBIDDEN, "This sign-out did not come from a shipshape page."),
    }
}
