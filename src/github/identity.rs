//! Who the App is (`GET /app`, as the App): `serve` asks before it listens, so that a wrong App id or private key
//! stops it at once with the setting to fix, rather than failing on every delivery.

use super::client::{GhError, GitHubApp};
use http::Method;
use serde::Deserialize;

/// The App as GitHub knows it.
#[derive(Clone, Debug, Deserialize)]
pub struct AppIdentity {
    pub id: u64,
    #[serde(default)]
    pub slug: Option<String>,
    pub name: String,
}

impl GitHubApp {
    /// `GET /app` with the App's token.
    pub async fn identity(&self) -> Result<AppIdentity, GhError> {
        let endpoint = "GET /app";
        self.app_api().send::<()>(Method::GET, "/app", None, endpoint, None).await?.json(endpoint)
    }
}
