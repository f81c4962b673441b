//! Deliveries as stored: their life cycle, what workers are handed, and the read side (inspection, depth,
//! pruning).

use super::{Result, Store, StoreError, from_millis, millis, to_u32, to_u64};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::fmt;
use std::str::FromStr;

/// Where a delivery is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Queued,
    Processing,
    Done,
    /// Permanently failed: never retried.
    Failed,
    /// Acknowledged and recorded, but nothing to do.
    Ignored,
    /// A newer delivery for the same key and another head SHA made it pointless.
    Superseded,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Processing => "processing",
            DeliveryStatus::Done => "done",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Ignored => "ignored",
            DeliveryStatus::Superseded => "superseded",
        }
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, DeliveryStatus::Queued | DeliveryStatus::Processing)
    }
}

impl FromStr for DeliveryStatus {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => DeliveryStatus::Queued,
            "processing" => DeliveryStatus::Processing,
            "done" => DeliveryStatus::Done,
            "failed" => DeliveryStatus::Failed,
            "ignored" => DeliveryStatus::Ignored,
            "superseded" => DeliveryStatus::Superseded,
            other => return Err(StoreError::Decode { what: "delivery status".into(), reason: format!("{other:?}") }),
        })
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a new delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Queue it for the workers.
    Queue,
    /// Record it as `ignored`, with the reason.
    Ignore(String),
}

/// A webhook delivery to store.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    pub repository: Option<String>,
    pub serial_key: Option<String>,
    pub head_sha: Option<String>,
    /// The raw body as received.
    pub payload: Vec<u8>,
    pub received_at: DateTime<Utc>,
    pub disposition: Disposition,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// A delivery with this id is already stored; nothing was changed.
    Duplicate,
}

/// A delivery claimed by a worker, with its payload.
#[derive(Clone, PartialEq, Eq)]
pub struct Claimed {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    pub repository: Option<String>,
    pub serial_key: Option<String>,
    pub head_sha: Option<String>,
    pub payload: Vec<u8>,
    pub received_at: DateTime<Utc>,
    /// This attempt's number: 1 the first time.
    pub attempt: u32,
    /// The error of the previous attempt, if any.
    pub last_error: Option<String>,
    pub lease_owner: String,
    pub lease_until: DateTime<Utc>,
}

impl Claimed {
    /// What the finishing calls need.
    pub fn lease(&self) -> LeaseToken {
        LeaseToken { delivery_id: self.delivery_id.clone(), owner: self.lease_owner.clone(), attempt: self.attempt }
    }
}

impl fmt::Debug for Claimed {
    /// Without the payload, which can be megabytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claimed")
            .field("delivery_id", &self.delivery_id)
            .field("event", &self.event)
            .field("action", &self.action)
            .field("installation_id", &self.installation_id)
            .field("repository", &self.repository)
            .field("serial_key", &self.serial_key)
            .field("head_sha", &self.head_sha)
            .field("payload_bytes", &self.payload.len())
            .field("received_at", &self.received_at)
            .field("attempt", &self.attempt)
            .field("last_error", &self.last_error)
            .field("lease_owner", &self.lease_owner)
            .field("lease_until", &self.lease_until)
            .finish()
    }
}

/// Proof of a claim: the delivery, the worker and the attempt number (a fencing token).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseToken {
    pub delivery_id: String,
    pub owner: String,
    pub attempt: u32,
}

/// A queued delivery marked `superseded` during a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Superseded {
    pub delivery_id: String,
    pub event: String,
    pub serial_key: String,
    pub head_sha: String,
}

/// What a claim did: at most one delivery claimed, and any stale deliveries superseded on the way.
#[derive(Clone, Debug, Default)]
pub struct ClaimOutcome {
    pub claimed: Option<Claimed>,
    pub superseded: Vec<Superseded>,
}

/// A stored delivery without its payload (inspection, tests, operators).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    pub repository: Option<String>,
    pub serial_key: Option<String>,
    pub head_sha: Option<String>,
    pub payload_bytes: u64,
    pub received_at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

const RECORD_COLUMNS: &str = "delivery_id, event, action, installation_id, repository, serial_key, head_sha,
    length(payload) AS payload_bytes, received_at, status, attempts, next_attempt_at, lease_owner, lease_until,
    last_error, finished_at";

impl Store {
    /// Deliveries waiting or running.
    pub async fn queue_depth(&self) -> Result<i64> {
        // Two counts, each over a partial index, rather than one over the whole table (finished rows included).
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 'queued')
                  + (SELECT COUNT(*) FROM deliveries WHERE status = 'processing')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub async fn delivery_status(&self, delivery_id: &str) -> Result<Option<DeliveryStatus>> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM deliveries WHERE delivery_id = $1")
            .bind(delivery_id)
            .fetch_optional(&self.pool)
            .await?;
        status.map(|s| s.parse()).transpose()
    }

    /// A stored delivery, without its payload.
    pub async fn delivery(&self, delivery_id: &str) -> Result<Option<DeliveryRecord>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM deliveries WHERE delivery_id = $1");
        let row = sqlx::query(&sql).bind(delivery_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Every stored delivery in arrival order, without payloads (tests, small installations' diagnostics).
    pub async fn deliveries(&self) -> Result<Vec<DeliveryRecord>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM deliveries ORDER BY received_at, rowid");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Deletes finished deliveries that finished before `before`; returns how many. Keep them at least as long as
    /// GitHub lets anyone redeliver (a redelivery of a pruned id would be processed again). Deletes a chunk per
    /// transaction, so that other writes wait for a chunk, never for the whole pruning.
    pub async fn prune_finished(&self, before: DateTime<Utc>) -> Result<u64> {
        const CHUNK: u64 = 1000;
        let mut pruned = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM deliveries WHERE delivery_id IN (
                     SELECT delivery_id FROM deliveries WHERE finished_at IS NOT NULL AND finished_at < $1 LIMIT $2)",
            )
            .bind(millis(before))
            .bind(CHUNK as i64)
            .execute(&self.writes)
            .await?
            .rows_affected();
            pruned += deleted;
            if deleted < CHUNK {
                return Ok(pruned);
            }
        }
    }
}

pub(super) fn claimed_from_row(row: &AnyRow) -> Result<Claimed> {
    Ok(Claimed {
        delivery_id: row.try_get("delivery_id")?,
        event: row.try_get("event")?,
        action: row.try_get("action")?,
        installation_id: to_u64(row.try_get("installation_id")?, "installation id")?,
        repository: row.try_get("repository")?,
        serial_key: row.try_get("serial_key")?,
        head_sha: row.try_get("head_sha")?,
        payload: row.try_get("payload")?,
        received_at: from_millis(row.try_get("received_at")?)?,
        attempt: to_u32(row.try_get("attempts")?, "attempts")?,
        last_error: row.try_get("last_error")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: from_millis(row.try_get("lease_until")?)?,
    })
}

fn record_from_row(row: &AnyRow) -> Result<DeliveryRecord> {
    let optional_time = |column: &str| -> Result<Option<DateTime<Utc>>> {
        row.try_get::<Option<i64>, _>(column)?.map(from_millis).transpose()
    };
    Ok(DeliveryRecord {
        delivery_id: row.try_get("delivery_id")?,
        event: row.try_get("event")?,
        action: row.try_get("action")?,
        installation_id: to_u64(row.try_get("installation_id")?, "installation id")?,
        repository: row.try_get("repository")?,
        serial_key: row.try_get("serial_key")?,
        head_sha: row.try_get("head_sha")?,
        payload_bytes: to_u64(Some(row.try_get("payload_bytes")?), "payload length")?.unwrap_or(0),
        received_at: from_millis(row.try_get("received_at")?)?,
        status: row.try_get::<String, _>("status")?.parse()?,
        attempts: to_u32(row.try_get("attempts")?, "attempts")?,
        next_attempt_at: from_millis(row.try_get("next_attempt_at")?)?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: optional_time("lease_until")?,
        last_error: row.try_get("last_error")?,
        finished_at: optional_time("finished_at")?,
    })
}
