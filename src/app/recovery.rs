//! Missed deliveries (SPEC 4): GitHub does not redeliver a delivery the App failed to take (it was down, or
//! answered an error), so the App lists its recent deliveries and asks for each failed one it has not stored, once
//! per GUID. Queued at start-up and every 10 minutes.

use super::{App, AppError};
use crate::github::deliveries::{FIRST_PAGE, HookDelivery};
use crate::store::ns;
use chrono::TimeDelta;
use std::collections::{BTreeMap, BTreeSet};

/// How far back GitHub keeps deliveries.
const WINDOW: TimeDelta = TimeDelta::days(3);
/// Pages read at most per run (100 deliveries each).
const MAX_PAGES: usize = 100;
/// The newest delivery id listed by the last complete run.
const NEWEST: &str = "newest";

/// What one listing found: per GUID the newest failed delivery, and the GUIDs delivered successfully.
#[derive(Default)]
struct Listed {
    failed: BTreeMap<String, u64>,
    delivered: BTreeSet<String>,
    newest: Option<u64>,
}

impl App {
    /// Asks GitHub to redeliver every failed delivery of the last 3 days (or since the newest one the last run saw)
    /// whose GUID the store does not hold and whose redelivery was not asked for before.
    pub(super) async fn recover_deliveries(&self) -> Result<(), AppError> {
        let seen: Option<u64> = self.store.kv_get(ns::RECOVERY, NEWEST).await.and_then(|v| v.parse().ok());
        let listed = self.list_deliveries(seen).await?;
        let mut asked = 0usize;
        for (guid, id) in &listed.failed {
            if listed.delivered.contains(guid) {
                continue;
            }
            let known = self.store.delivery_known(guid).await.map_err(AppError::Permanent)?;
            let key = format!("asked/{guid}");
            if known || self.store.kv_get(ns::RECOVERY, &key).await.is_some() {
                continue;
            }
            self.github.redeliver(*id).await?;
            self.store.kv_put(ns::RECOVERY, &key, id.to_string()).await;
            tracing::info!(guid = %guid, delivery = id, "redelivery asked for a missed delivery");
            asked += 1;
        }
        if let Some(newest) = listed.newest.max(seen) {
            self.store.kv_put(ns::RECOVERY, NEWEST, newest.to_string()).await;
        }
        tracing::info!(failed = listed.failed.len(), asked, "missed deliveries checked");
        Ok(())
    }

    /// The deliveries newer than `seen` and than the window, newest first, page by page.
    async fn list_deliveries(&self, seen: Option<u64>) -> Result<Listed, AppError> {
        let oldest = self.clock.now() - WINDOW;
        let mut listed = Listed::default();
        let mut path = Some(FIRST_PAGE.to_string());
        let mut pages = 0;
        while let Some(page_path) = path.take() {
            let (page, next) = self.github.hook_deliveries(&page_path).await?;
            pages += 1;
            for delivery in page {
                if delivery.delivered_at < oldest || seen.is_some_and(|s| delivery.id <= s) {
                    return Ok(listed);
                }
                note(&mut listed, delivery);
            }
            if pages >= MAX_PAGES {
                tracing::warn!(pages, "missed deliveries: stopped listing after {MAX_PAGES} pages");
                break;
            }
            path = next;
        }
        Ok(listed)
    }
}

fn note(listed: &mut Listed, delivery: HookDelivery) {
    listed.newest = listed.newest.max(Some(delivery.id));
    if delivery.failed() {
        listed.failed.entry(delivery.guid).or_insert(delivery.id);
    } else {
        listed.delivered.insert(delivery.guid);
    }
}
