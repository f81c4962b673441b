//! The App's own webhook deliveries as GitHub lists them (`GET /app/hook/deliveries`, newest first, cursor pages)
//! and the request to deliver one again (`POST /app/hook/deliveries/{delivery_id}/attempts`), both as the App.

use super::client::{GhError, GitHubApp, next_link};
use chrono::{DateTime, Utc};
use http::Method;
use serde::Deserialize;

/// One delivery, without its request and response.
#[derive(Clone, Debug, Deserialize)]
pub struct HookDelivery {
    pub id: u64,
    /// The event's id: the `X-GitHub-Delivery` header, shared by every redelivery of it.
    pub guid: String,
    pub delivered_at: DateTime<Utc>,
    /// What the App answered (0 when GitHub could not connect).
    pub status_code: u16,
    pub event: String,
    #[serde(default)]
    pub redelivery: bool,
}

impl HookDelivery {
    /// The App did not accept it.
    pub fn failed(&self) -> bool {
        !(200..300).contains(&self.status_code)
    }
}

/// The first page of the listing.
pub const FIRST_PAGE: &str = "/app/hook/deliveries?per_page=100";

impl GitHubApp {
    /// One page of the App's deliveries at `path` (start with [`FIRST_PAGE`]), and the next page's path.
    pub async fn hook_deliveries(&self, path: &str) -> Result<(Vec<HookDelivery>, Option<String>), GhError> {
        let endpoint = "GET /app/hook/deliveries";
        let reply = self.app_api().send::<()>(Method::GET, path, None, endpoint, None).await?;
        let page: Vec<HookDelivery> = reply.json(endpoint)?;
        Ok((page, next_link(&reply.headers)))
    }

    /// Asks GitHub to deliver `delivery_id` again.
    pub async fn redeliver(&self, delivery_id: u64) -> Result<(), GhError> {
        let path = format!("/app/hook/deliveries/{delivery_id}/attempts");
        let endpoint = "POST /app/hook/deliveries/{delivery_id}/attempts";
        self.app_api().send::<()>(Method::POST, &path, None, endpoint, None).await?;
        Ok(())
    }
}
