//! Who may see what: a caller is a signed-in user (their session: the organisations they could access at sign-in),
//! the operator (`Authorization: Bearer` with `SHIPSHAPE_API_TOKEN`,
//! every organisation) or a GitHub user (`Authorization: Bearer` with their own token: the organisations whose
//! installation of the App they can access, as `GET /user/installations` answers). Nobody else sees anything.

use super::session::{COOKIE, Session, SessionKey, cookie};
use crate::clock::Clock;
use crate::github::client::{GhError, Installation};
use crate::secret::Secret;
use axum::http::HeaderMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long what GitHub said of a user token is trusted.
const REMEMBER: Duration = Duration::from_secs(300);
/// Most user tokens remembered at once (the oldest is forgotten first).
const MAX_REMEMBERED: usize = 1000;
/// Most installations read for one user.
const MAX_INSTALLATIONS: usize = 1000;

/// The organisations a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visible {
    /// The operator's token: every organisation.
    All,
    /// A user: these organisations (lower case logins).
    Orgs(BTreeSet<String>),
}

impl Visible {
    pub fn sees(&self, org: &str) -> bool {
        match self {
            Visible::All => true,
            Visible::Orgs(orgs) => orgs.contains(&org.to_ascii_lowercase()),
        }
    }
}

/// Why a caller was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("sign in, or send `Authorization: Bearer` with the API token or a GitHub token")]
    NoCredentials,
    #[error("the token is not valid (GitHub does not know it)")]
    BadCredentials,
    #[error("GitHub could not be asked who you are: {0}")]
    GitHubUnavailable(String),
}

/// Decides callers' visibility, remembering GitHub's answers for a while.
pub struct Viewers {
    api_token: Option<[u8; 32]>,
    github_api_url: String,
    /// Sessions are read when sign-in is configured.
    sessions: Option<SessionKey>,
    clock: Arc<dyn Clock>,
    remembered: Mutex<HashMap<[u8; 32], (Instant, Visible)>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Viewers {
    pub fn new(
        api_token: Option<&Secret>,
        github_api_url: &str,
        sessions: Option<SessionKey>,
        clock: Arc<dyn Clock>,
    ) -> Viewers {
        Viewers {
            api_token: api_token.map(|t| digest(t.expose())),
            github_api_url: github_api_url.to_string(),
            sessions,
            clock,
            remembered: Mutex::new(HashMap::new()),
        }
    }

    /// The signed-in user of the request's session cookie, if it is valid now.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let key = self.sessions.as_ref()?;
        key.open(cookie(headers, COOKIE)?, self.clock.now())
    }

    /// The visibility of the caller who sent `headers`: a valid session, else a bearer token.
    pub async fn visible(&self, headers: &HeaderMap) -> Result<Visible, Refusal> {
        if let Some(session) = self.session(headers) {
            return Ok(Visible::Orgs(session.orgs));
        }
        let token = bearer(headers).ok_or(Refusal::NoCredentials)?;
        let hashed = digest(token);
        // Digests are compared, so the comparison's time says nothing about the token.
        if self.api_token == Some(hashed) {
            return Ok(Visible::All);
        }
        if let Some((at, visible)) = self.remembered.lock().await.get(&hashed)
            && at.elapsed() < REMEMBER
        {
            return Ok(visible.clone());
        }
        let visible = Visible::Orgs(self.user_orgs(token).await?);
        let mut remembered = self.remembered.lock().await;
        if remembered.len() >= MAX_REMEMBERED {
            remembered.retain(|_, (at, _)| at.elapsed() < REMEMBER);
            if remembered.len() >= MAX_REMEMBERED
                && let Some(oldest) = remembered.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| *k)
            {
                remembered.remove(&oldest);
            }
        }
        remembered.insert(hashed, (Instant::now(), visible.clone()));
        Ok(visible)
    }

    /// The accounts of the App's installations the token's user can access.
    pub async fn user_orgs(&self, token: &str) -> Result<BTreeSet<String>, Refusal> {
        user_orgs(&self.github_api_url, token).await
    }
}

/// The token of `Authorization: Bearer <token>` (or GitHub's `token <token>`).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    ((scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")) && !token.is_empty())
        .then_some(token)
}

/// The accounts of the App's installations the user of `token` can access (`GET /user/installations`).
pub async fn user_orgs(github_api_url: &str, token: &str) -> Result<BTreeSet<String>, Refusal> {
    #[derive(Deserialize)]
    struct Account {
        login: String,
    }
    #[derive(Deserialize)]
    struct Listed {
        account: Option<Account>,
    }
    let client =
        Installation::with_token(github_api_url, token).map_err(|e| Refusal::GitHubUnavailable(e.to_string()))?;
    let listed: Vec<Listed> = client
        .get_all_in("/user/installations?per_page=100", "installations", "GET /user/installations")
        .await
        .map_err(|e| match e {
            GhError::Unauthorized { .. } => Refusal::BadCredentials,
            // A token GitHub refuses for this endpoint (an installation token, an App's JWT) is not a user's.
            GhError::Forbidden { .. } | GhError::NotFound { .. } => Refusal::BadCredentials,
            other => Refusal::GitHubUnavailable(other.to_string()),
        })?;
    Ok(listed
        .into_iter()
        .take(MAX_INSTALLATIONS)
        .filter_map(|i| i.account.map(|a| a.login.to_ascii_lowercase()))
        .collect())
}
