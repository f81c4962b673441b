//! What the Ops view reads: deliveries that failed in a window and deliveries waiting to be retried after an error,
//! narrowed to the organisations a caller may see, and the last sweep with the progress of its repository jobs.

use super::{Result, Store, from_millis, millis, to_u32};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The key of the last sweep of every installation ([`SweepRun`]) in [`super::ns::SWEEP`].
pub const SWEEP_RUN_KEY: &str = "last_run";

/// Whose deliveries a caller may see.
#[derive(Clone, Copy, Debug)]
pub enum DeliveryScope<'a> {
    /// Every delivery, those without a repository (installation events, sweeps) too: the operator.
    Everything,
    /// Deliveries of repositories whose owner is one of these organisations (lower case logins).
    Orgs(&'a [String]),
}

impl DeliveryScope<'_> {
    /// The SQL condition and the values its placeholders take, in order.
    /// The condition, with its placeholders numbered from `first`, and the values to bind to them: an
    /// organisation's repositories are `org/…`, compared as values (`%`, `_` and `\` escaped), without case.
    fn condition(&self, first: usize) -> (String, Vec<String>) {
        match self {
            DeliveryScope::Everything => ("1 = 1".into(), Vec::new()),
            DeliveryScope::Orgs([]) => ("0 = 1".into(), Vec::new()),
            DeliveryScope::Orgs(orgs) => {
                let tests: Vec<String> =
                    (first..first + orgs.len()).map(|n| format!("lower(repository) LIKE ${n} ESCAPE '\\'")).collect();
                let patterns = orgs.iter().map(|o| format!("{}/%", like_escaped(&o.to_ascii_lowercase()))).collect();
                (format!("repository IS NOT NULL AND ({})", tests.join(" OR ")), patterns)
            }
        }
    }
}

fn like_escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A delivery whose last attempt failed: failed for good, or waiting to be retried (as `GET /api/v1/ops` shows it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailedDelivery {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub repository: Option<String>,
    pub attempts: u32,
    /// The last attempt's error.
    pub reason: Option<String>,
    pub received_at: DateTime<Utc>,
    /// When the last attempt failed (`None` for a retry recorded before this was kept).
    pub failed_at: Option<DateTime<Utc>>,
    /// When it is tried again (retries only: absent from the JSON of the others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The deliveries that failed for good in a window: how many, and the newest of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailedWindow {
    pub count: u64,
    pub newest: Vec<FailedDelivery>,
}

/// A sweep of every installation, as the sweep job records it when it starts and when it has queued its repository
/// jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepRun {
    /// The sweep job's id; its repository jobs' ids are `{id}/{repository id}`.
    pub id: String,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    /// When the listing was done and every repository job queued.
    pub listed_at: Option<DateTime<Utc>>,
    /// Repository jobs queued.
    pub repositories: Option<u64>,
    /// Repositories left out (archived, forks, issues disabled).
    pub skipped: Option<u64>,
}

/// Where a sweep's repository jobs are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepProgress {
    /// Finished without failing (done, or nothing to do).
    pub finished: u64,
    pub failed: u64,
    /// Waiting or running.
    pub pending: u64,
    /// When the last of them finished.
    pub last_finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "delivery_id, event, action, repository, attempts, last_error, received_at, failed_at, next_attempt_at";

fn failed_from_row(row: &AnyRow, retrying: bool) -> Result<FailedDelivery> {
    let failed_at: Option<i64> = row.try_get("failed_at")?;
    Ok(FailedDelivery {
        delivery_id: row.try_get("delivery_id")?,
        event: row.try_get("event")?,
        action: row.try_get("action")?,
        repository: row.try_get("repository")?,
        attempts: to_u32(row.try_get("attempts")?, "attempts")?,
        reason: row.try_get("last_error")?,
        received_at: from_millis(row.try_get("received_at")?)?,
        failed_at: failed_at.map(from_millis).transpose()?,
        next_attempt_at: if retrying { Some(from_millis(row.try_get("next_attempt_at")?)?) } else { None },
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// The deliveries of `scope` that failed for good at or after `since`: how many, and the newest `limit`, newest
    /// first.
    pub async fn failed_since(
        &self,
        scope: DeliveryScope<'_>,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<FailedWindow> {
        let (condition, orgs) = scope.condition(2);
        let filter = format!("status = 'failed' AND failed_at >= $1 AND {condition}");
        let limit_at = orgs.len() + 2;
        let count_sql = format!("SELECT COUNT(*) FROM deliveries WHERE {filter}");
        let mut counting = sqlx::query_scalar::<_, i64>(&count_sql).bind(millis(since));
        for org in &orgs {
            counting = counting.bind(org);
        }
        let total = counting.fetch_one(&self.pool).await?;
        let list_sql = format!(
            "SELECT {COLUMNS} FROM deliveries WHERE {filter} ORDER BY failed_at DESC, rowid DESC LIMIT ${limit_at}"
        );
        let mut listing = sqlx::query(&list_sql).bind(millis(since));
        for org in &orgs {
            listing = listing.bind(org);
        }
        let rows = listing.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        let newest = rows.iter().map(|row| failed_from_row(row, false)).collect::<Result<_>>()?;
        Ok(FailedWindow { count: count(total), newest })
    }

    /// The deliveries of `scope` waiting to be retried after a failed attempt, the most recent failure first (those
    /// whose failure time was not recorded last), at most `limit`.
    pub async fn retrying(&self, scope: DeliveryScope<'_>, limit: u32) -> Result<Vec<FailedDelivery>> {
        let (condition, orgs) = scope.condition(1);
        let limit_at = orgs.len() + 1;
        let sql = format!(
            "SELECT {COLUMNS} FROM deliveries
             WHERE status = 'queued' AND attempts > 0 AND last_error IS NOT NULL AND {condition}
             ORDER BY failed_at IS NULL, failed_at DESC, rowid DESC LIMIT ${limit_at}"
        );
        let mut query = sqlx::query(&sql);
        for org in &orgs {
            query = query.bind(org);
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(|row| failed_from_row(row, true)).collect()
    }

    /// Where the repository jobs of the sweep `sweep_id` are (those still stored: finished ones are pruned after 30
    /// days).
    pub async fn sweep_progress(&self, sweep_id: &str) -> Result<SweepProgress> {
        // `{id}/…` are the ids from `{id}/` up to `{id}0` ('0' follows '/'): a range of the primary key.
        let row = sqlx::query(
            "SELECT COUNT(CASE WHEN status IN ('done', 'ignored', 'superseded') THEN 1 END) AS finished,
                    COUNT(CASE WHEN status = 'failed' THEN 1 END) AS failed,
                    COUNT(CASE WHEN status IN ('queued', 'processing') THEN 1 END) AS pending,
                    MAX(finished_at) AS last_finished_at
             FROM deliveries WHERE delivery_id >= $1 AND delivery_id < $2",
        )
        .bind(format!("{sweep_id}/"))
        .bind(format!("{sweep_id}0"))
        .fetch_one(&self.pool)
        .await?;
        let last: Option<i64> = row.try_get("last_finished_at")?;
        Ok(SweepProgress {
            finished: count(row.try_get("finished")?),
            failed: count(row.try_get("failed")?),
            pending: count(row.try_get("pending")?),
            last_finished_at: last.map(from_millis).transpose()?,
        })
    }

    /// The last sweep of every installation, if one was recorded (a record this version cannot read, written by
    /// another version, is none until the next sweep).
    pub async fn last_sweep(&self) -> Result<Option<SweepRun>> {
        let entry = self.kv_get(super::ns::SWEEP, SWEEP_RUN_KEY).await?;
        Ok(entry.and_then(|e| serde_json::from_slice(&e.value).ok()))
    }
}
