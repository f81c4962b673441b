//! Signed session cookies for signed-in users: `v1.<payload>.<mac>`, the payload (login, the organisations they may
//! see, expiry, a CSRF token) as base64url JSON, the MAC an HMAC-SHA256 under the session key. The cookie holds no
//! GitHub token. Sessions last [`SESSION_HOURS`] hours.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

type HmacSha256 = hmac::Hmac<Sha256>;

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;
/// The session cookie's name.
pub const COOKIE: &str = "shipshape_session";
/// The sign-in `state` cookie's name.
pub const STATE_COOKIE: &str = "shipshape_oauth_state";
/// Longest cookie value read.
const MAX_COOKIE: usize = 8 * 1024;

/// A signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub login: String,
    /// Lower-case logins of the organisations whose installation the user could access at sign-in.
    pub orgs: BTreeSet<String>,
    /// Unix seconds.
    pub expires: i64,
    /// Sent back with every form (`POST /logout`).
    pub csrf: String,
}

/// The key sessions are signed with.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

/// 32 random bytes, hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SessionKey {
    /// The key derived from a configured secret (`SHIPSHAPE_SESSION_KEY`) or a stored random one.
    pub fn from_secret(secret: &str) -> SessionKey {
        SessionKey(Sha256::digest(secret.as_bytes()).into())
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data);
        mac
    }

    /// A new session for `login` seeing `orgs`, from `now`.
    pub fn start(&self, login: &str, orgs: BTreeSet<String>, now: DateTime<Utc>) -> Session {
        Session {
            login: login.to_string(),
            orgs,
            expires: (now + chrono::TimeDelta::hours(SESSION_HOURS)).timestamp(),
            csrf: random_hex(),
        }
    }

    /// The cookie value of `session`.
    pub fn seal(&self, session: &Session) -> String {
        let payload = B64.encode(serde_json::to_vec(session).expect("a session serialises"));
        let mac = B64.encode(self.mac(payload.as_bytes()).finalize().into_bytes());
        format!("v1.{payload}.{mac}")
    }

    /// The session of a cookie value: `None` when it is malformed, tampered with, signed with another key or
    /// expired at `now`.
    pub fn open(&self, value: &str, now: DateTime<Utc>) -> Option<Session> {
        if value.len() > MAX_COOKIE {
            return None;
        }
        let rest = value.strip_prefix("v1.")?;
        let (payload, mac) = rest.split_once('.')?;
        let mac = B64.decode(mac).ok()?;
        self.mac(payload.as_bytes()).verify_slice(&mac).ok()?;
        let session: Session = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (session.expires > now.timestamp()).then_some(session)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, `Secure` when the site is served over https.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}")
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b): ([u8; 32], [u8; 32]) = (Sha256::digest(a.as_bytes()).into(), Sha256::digest(b.as_bytes()).into());
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()
    }

    #[test]
    fn a_sealed_session_opens_until_it_expires_and_not_when_touched() {
        let key = SessionKey::from_secret("a session key of at least thirty-two characters");
        let session = key.start("alice", ["acme".to_string()].into(), now());
        let cookie = key.seal(&session);
        assert_eq!(key.open(&cookie, now()), Some(session.clone()));
        assert_eq!(key.open(&cookie, now() + chrono::TimeDelta::hours(7)).map(|s| s.login), Some("alice".into()));
        assert_eq!(key.open(&cookie, now() + chrono::TimeDelta::hours(8)), None, "8 hours");
        // Another organisation written into the payload, with the old MAC: refused.
        let forged = {
            let mut s = session.clone();
            s.orgs.insert("globex".into());
            let mac = cookie.rsplit('.').next().unwrap();
            format!("v1.{}.{mac}", B64.encode(serde_json::to_vec(&s).unwrap()))
        };
        assert_eq!(key.open(&forged, now()), None);
        assert_eq!(SessionKey::from_secret("another key").open(&cookie, now()), None);
        for junk in ["", "v1.", "v1.x.y", "v2.a.b", &"v1.".repeat(5000)] {
            assert_eq!(key.open(junk, now()), None, "{junk:.20}");
        }
    }

    #[test]
    fn cookies_are_read_by_name_and_set_with_the_safe_attributes() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, "a=1; shipshape_session=v1.x.y; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE), Some("v1.x.y"));
        assert_eq!(cookie(&headers, "missing"), None);
        assert_eq!(
            set_cookie(COOKIE, "v", 60, true),
            "shipshape_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!set_cookie(COOKIE, "v", 60, false).contains("Secure"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
        assert_eq!(random_hex().len(), 64);
        assert_ne!(random_hex(), random_hex());
    }
}
