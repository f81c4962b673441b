//! The web's read model of the service history: per organisation, each service's latest record and the marks of the
//! trend's days, loaded from the store once and then kept current by reading only the records written since
//! (every write takes the next revision). Every replica keeps its own; the store stays the truth.

use crate::dashboard::{STALE_AFTER_DAYS, TREND_DAYS};
use crate::store::{self, DayMark, ServiceDay, Store};
use chrono::{NaiveDate, TimeDelta};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::Mutex;

/// How many days of marks are kept: the trend's days and the week before its first, when a record still stands.
pub const MARK_DAYS: i64 = TREND_DAYS + STALE_AFTER_DAYS;
/// Records read per query when catching up.
const BATCH: usize = 5_000;

/// One organisation's history as the pages read it.
#[derive(Clone, Debug, Default)]
pub struct OrgHistory {
    /// The first day with marks.
    since: Option<NaiveDate>,
    /// By service and day.
    marks: BTreeMap<(String, NaiveDate), DayMark>,
    /// By service.
    latest: BTreeMap<String, ServiceDay>,
}

impl OrgHistory {
    pub fn marks(&self) -> impl Iterator<Item = &DayMark> {
        self.marks.values()
    }

    pub fn latest(&self) -> impl Iterator<Item = &ServiceDay> {
        self.latest.values()
    }

    fn apply(&mut self, record: ServiceDay) {
        if self.since.is_some_and(|since| record.day >= since) {
            self.marks.insert((record.service.clone(), record.day), DayMark::of(&record));
        }
        let newer = self
            .latest
            .get(&record.service)
            .is_none_or(|seen| (seen.day, seen.evaluated_at) <= (record.day, record.evaluated_at));
        if newer {
            self.latest.insert(record.service.clone(), record);
        }
    }
}

/// The organisations' histories, shared by the web's handlers.
#[derive(Debug)]
pub struct ReadModel {
    store: Store,
    orgs: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    /// The revision everything here is current to; `None` before the first read.
    revision: Option<i64>,
    /// The organisations with records.
    names: BTreeSet<String>,
    histories: HashMap<String, Arc<OrgHistory>>,
}

impl ReadModel {
    pub fn new(store: Store) -> ReadModel {
        ReadModel { store, orgs: Mutex::new(Cache::default()) }
    }

    /// The organisations that have records, and the histories of those `wanted` keeps, current as of now for the
    /// trend ending `today`.
    pub async fn histories(
        &self,
        today: NaiveDate,
        wanted: impl Fn(&str) -> bool,
    ) -> store::Result<Vec<Arc<OrgHistory>>> {
        // Read before the records, so a write that lands meanwhile is read again next time rather than missed
        // (applying a record twice changes nothing).
        let revision = self.store.service_days_revision().await?;
        let since = today - TimeDelta::days(MARK_DAYS - 1);
        let mut cache = self.orgs.lock().await;
        match cache.revision {
            None => cache.names = self.store.history_orgs().await?.into_iter().collect(),
            Some(read) if read < revision => self.catch_up(&mut cache, read).await?,
            Some(_) => {}
        }
        cache.revision = Some(revision);
        let names: Vec<String> = cache.names.iter().filter(|o| wanted(o)).cloned().collect();
        let mut out = Vec::with_capacity(names.len());
        for org in names {
            let history = match cache.histories.remove(&org) {
                Some(mut held) if held.since.is_some_and(|s| s <= since) => {
                    let history = Arc::make_mut(&mut held);
                    if history.since != Some(since) {
                        history.marks.retain(|_, m| m.day >= since);
                        history.since = Some(since);
                    }
                    held
                }
                _ => Arc::new(self.load(&org, since).await?),
            };
            cache.histories.insert(org, history.clone());
            out.push(history);
        }
        Ok(out)
    }

    async fn load(&self, org: &str, since: NaiveDate) -> store::Result<OrgHistory> {
        let marks = self.store.day_marks(org, since).await?;
        let latest = self.store.latest_service_days(org).await?;
        Ok(OrgHistory {
            since: Some(since),
            marks: marks.into_iter().map(|m| ((m.service.clone(), m.day), m)).collect(),
            latest: latest.into_iter().map(|r| (r.service.clone(), r)).collect(),
        })
    }

    /// Reads the records written after `read` once, for every organisation: new organisations join the list, and
    /// the histories held take their records.
    async fn catch_up(&self, cache: &mut Cache, mut read: i64) -> store::Result<()> {
        loop {
            let written = self.store.service_days_written_after(read, BATCH).await?;
            let done = written.len() < BATCH;
            for (at, record) in written {
                read = read.max(at);
                cache.names.insert(record.org.clone());
                if let Some(held) = cache.histories.get_mut(&record.org) {
                    Arc::make_mut(held).apply(record);
                }
            }
            if done {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
#[path = "read_model_tests.rs"]
mod tests;
