//! Durable state in SQLite: webhook deliveries (the work queue), a content-addressed blob cache and small key/value
//! caches.
//!
//! The delivery queue is leased: a worker [`Store::claim`]s a delivery for a time, extends the lease while it runs,
//! and finishes it with [`Store::complete`], [`Store::retry_later`], [`Store::fail`] or [`Store::ignore`]. A
//! delivery whose lease expires (its worker crashed) is claimable again. Every finishing call is fenced by a
//! [`LeaseToken`] (worker and attempt number): a worker that lost its lease cannot finish someone else's attempt.
//!
//! Every method that depends on the time takes `now`, so the caller's clock (and the tests') decides.

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

mod history;
#[cfg(test)]
mod tests;
pub use history::EvaluationRecord;

/// Well-known namespaces of the key/value cache.
pub mod ns {
    /// Scorecard by `owner/name@sha`: the evaluated head of a pull request or of a default branch.
    pub const SCORECARD: &str = "scorecard";
    /// A base commit's scorecard by `owner/name@sha#catalog_sha#date`, reused while neither changes.
    pub const BASE_SCORECARD: &str = "base_scorecard";
    /// Linked-tool facts (PagerDuty, Prometheus, GitHub settings) by repository, with their fetch time.
    pub const LINKED_FACTS: &str = "linked_facts";
    /// Check run id by `owner/name@head_sha`.
    pub const CHECK_RUN: &str = "check_run";
    /// Sticky comment id by `owner/name#pr`.
    pub const STICKY_COMMENT: &str = "sticky_comment";
    /// GitHub answers to conditional GETs (`ETag` and body) by request path.
    pub const GITHUB_ETAG: &str = "github_etag";
    /// The recursive tree listing of a repository's last evaluated default-branch commit, by `owner/name`.
    pub const TREE: &str = "tree";
    /// The default branch's last evaluated head and the repository's `pushed_at` then, by `owner/name`.
    pub const DEFAULT_HEAD: &str = "default_head";
    /// The tracking issue of a repository's service and the state last written to it, by `owner/name`.
    pub const TRACKING: &str = "tracking";
    /// Whether a tier-1 service met its required level at its last default-branch evaluation, by `owner/name`.
    pub const SLACK: &str = "slack";
    /// The last periodic sweep queued (`last`: its job id; the entry's time is when).
    pub const SWEEP: &str = "sweep";
    /// Comment commands: a comment answered by `owner/name#comment_id`, each command line's outcome by
    /// `owner/name#comment_id/index`, the comment's reaction by `owner/name#comment_id/reaction`.
    pub const COMMAND: &str = "command";
    /// Catalog pull requests whose merge was handled (threads answered), by `owner/name#number`.
    pub const CATALOG_MERGE: &str = "catalog_merge";
    /// The last weekly removal of expired exceptions (`last`).
    pub const CLEANUP: &str = "cleanup";
    /// The last daily pruning of old deliveries and caches (`last`).
    pub const PRUNE: &str = "prune";
}

/// How long a connection waits for SQLite's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (only sqlite:// is supported)")]
    UnsupportedUrl,
    /// The lease is no longer held by this worker and attempt: it expired and another worker claimed the delivery,
    /// or the delivery was finished. Nothing was changed.
    #[error("lease on delivery {delivery_id} (attempt {attempt}) is no longer held by {owner}")]
    LeaseLost { delivery_id: String, owner: String, attempt: u32 },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: String, reason: String },
    /// A batch of delivery inserts could not be committed (or the writer is gone).
    #[error("cannot store the delivery: {0}")]
    Write(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

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

/// A key/value cache entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvEntry {
    pub value: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}

/// A delivery waiting for the writer, and where to send its outcome.
type PendingInsert = (NewDelivery, tokio::sync::oneshot::Sender<Result<Inserted>>);

/// Most deliveries committed in one transaction.
const MAX_BATCH: usize = 256;

/// The database. Cheap to clone (a connection pool and a handle on the delivery writer).
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Deliveries are inserted by one writer task that commits everything waiting in one transaction (group commit):
    /// each webhook still gets its 202 only after its row is durable, but concurrent webhooks share one fsync
    /// instead of queueing for SQLite's write lock one by one.
    writer: tokio::sync::mpsc::Sender<PendingInsert>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("connections", &self.pool.size()).finish()
    }
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Decode { what: "timestamp".into(), reason: format!("{ms} ms is out of range") })
}

fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn to_i64(id: Option<u64>, what: &str) -> Result<Option<i64>> {
    id.map(|v| {
        i64::try_from(v).map_err(|_| StoreError::Decode { what: what.into(), reason: format!("{v} is too large") })
    })
    .transpose()
}

fn to_u64(v: Option<i64>, what: &str) -> Result<Option<u64>> {
    v.map(|v| {
        u64::try_from(v).map_err(|_| StoreError::Decode { what: what.into(), reason: format!("{v} is negative") })
    })
    .transpose()
}

fn to_u32(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Decode { what: what.into(), reason: format!("{v} is out of range") })
}

/// Deliveries a newer delivery for the same key and another head has made stale. Only `queued` ones, only those with
/// a head SHA; "newer" is by arrival (`received_at`, then insertion order).
const SUPERSEDE_SQL: &str = "
UPDATE deliveries AS d
SET status = 'superseded', finished_at = ?1,
    last_error = 'superseded by a newer delivery for another head commit'
WHERE d.status = 'queued' AND d.serial_key IS NOT NULL AND d.head_sha IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM deliveries AS n
    WHERE n.serial_key = d.serial_key AND n.head_sha IS NOT NULL AND n.head_sha <> d.head_sha
      AND (n.received_at > d.received_at OR (n.received_at = d.received_at AND n.rowid > d.rowid)))
RETURNING delivery_id, event, serial_key, head_sha";

/// The oldest due delivery (queued and due, or processing with an expired lease) whose key no live lease holds.
const CLAIM_SQL: &str = "
UPDATE deliveries
SET status = 'processing', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2
WHERE rowid = (
    SELECT d.rowid FROM deliveries AS d
    WHERE ((d.status = 'queued' AND d.next_attempt_at <= ?3) OR (d.status = 'processing' AND d.lease_until <= ?3))
      AND (d.serial_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM deliveries AS o
        WHERE o.serial_key = d.serial_key AND o.status = 'processing' AND o.lease_until > ?3))
    ORDER BY d.received_at, d.rowid
    LIMIT 1)
RETURNING delivery_id, event, action, installation_id, repository, serial_key, head_sha, payload, received_at,
          attempts, last_error, lease_owner, lease_until";

/// The condition every finishing call is fenced by.
const LEASE_HELD: &str = "delivery_id = ? AND status = 'processing' AND lease_owner = ? AND attempts = ?";

const RECORD_COLUMNS: &str = "delivery_id, event, action, installation_id, repository, serial_key, head_sha,
    length(payload) AS payload_bytes, received_at, status, attempts, next_attempt_at, lease_owner, lease_until,
    last_error, finished_at";

impl Store {
    /// Opens (creating if missing) the database at `database_url` (`sqlite://PATH`, `sqlite:PATH` or
    /// `sqlite::memory:`) and brings its schema up to date.
    ///
    /// Journal: WAL, so readers (readiness probes, metrics) never block the writer. `synchronous=FULL`: a commit
    /// is fsynced before it returns. GitHub does not redeliver a webhook we acknowledged, so a delivery answered
    /// 202 must survive a power loss or kernel crash, not only a process crash (which is all `NORMAL` guarantees
    /// in WAL mode). The cost, one fsync per stored delivery, is negligible at webhook rates.
    pub async fn open(database_url: &str) -> Result<Store> {
        if !database_url.trim_start().to_ascii_lowercase().starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl);
        }
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        let pool = if in_memory {
            // One connection that never closes: an in-memory database lives as long as its last connection, and
            // shared-cache connections fail with SQLITE_LOCKED instead of waiting.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            SqlitePoolOptions::new().max_connections(8).connect_with(options).await?
        };
        sqlx::migrate!("./migrations").run(&pool).await?;
        let (writer, queue) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_deliveries(pool.clone(), queue));
        Ok(Store { pool, writer })
    }

    /// Closes every connection (the WAL is checkpointed when the last one closes).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A cheap query of the deliveries table: is the database answering, with its schema in place?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1 FROM deliveries LIMIT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores a delivery, unless one with the same id is already stored. Durable when it returns.
    pub async fn insert_delivery(&self, d: &NewDelivery) -> Result<Inserted> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.writer.send((d.clone(), done)).await.map_err(|_| StoreError::Write("the writer stopped".into()))?;
        outcome.await.map_err(|_| StoreError::Write("the writer stopped".into()))?
    }
}

/// The delivery writer: takes whatever is waiting (up to [`MAX_BATCH`]), inserts it in one transaction, commits,
/// then answers each caller.
async fn write_deliveries(pool: SqlitePool, mut queue: tokio::sync::mpsc::Receiver<PendingInsert>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let outcomes = insert_batch(&pool, &batch).await;
        match outcomes {
            Ok(outcomes) => {
                for ((_, done), outcome) in batch.into_iter().zip(outcomes) {
                    let _ = done.send(Ok(outcome));
                }
            }
            Err(e) => {
                let reason = e.to_string();
                for (_, done) in batch {
                    let _ = done.send(Err(StoreError::Write(reason.clone())));
                }
            }
        }
    }
}

async fn insert_batch(pool: &SqlitePool, batch: &[PendingInsert]) -> Result<Vec<Inserted>> {
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for (d, _) in batch {
        outcomes.push(insert_one(&mut tx, d).await?);
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn insert_one(tx: &mut Transaction<'_, Sqlite>, d: &NewDelivery) -> Result<Inserted> {
    {
        let received = millis(d.received_at);
        let (status, finished_at, last_error) = match &d.disposition {
            Disposition::Queue => ("queued", None, None),
            Disposition::Ignore(reason) => ("ignored", Some(received), Some(reason.as_str())),
        };
        let result = sqlx::query(
            "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository, serial_key, head_sha,
                 payload, received_at, status, attempts, next_attempt_at, last_error, finished_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
             ON CONFLICT (delivery_id) DO NOTHING",
        )
        .bind(&d.delivery_id)
        .bind(&d.event)
        .bind(&d.action)
        .bind(to_i64(d.installation_id, "installation id")?)
        .bind(&d.repository)
        .bind(&d.serial_key)
        .bind(&d.head_sha)
        .bind(&d.payload)
        .bind(received)
        .bind(status)
        .bind(received)
        .bind(last_error)
        .bind(finished_at)
        .execute(&mut **tx)
        .await?;
        Ok(if result.rows_affected() == 1 { Inserted::New } else { Inserted::Duplicate })
    }
}

impl Store {
    /// Claims the oldest due delivery for `worker_id` until `now + lease`. See [`Store::claim_reporting`].
    pub async fn claim(&self, worker_id: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<Claimed>> {
        Ok(self.claim_reporting(worker_id, now, lease).await?.claimed)
    }

    /// In one write transaction: marks stale queued deliveries `superseded` (a later-received delivery with the
    /// same serial key and another, non-null head SHA exists; deliveries without a head SHA are never superseded),
    /// then claims the oldest due delivery (`queued` with `next_attempt_at <= now`, or `processing` with an expired
    /// lease: crash recovery) whose serial key no other live lease holds, incrementing its attempt count.
    pub async fn claim_reporting(&self, worker_id: &str, now: DateTime<Utc>, lease: Duration) -> Result<ClaimOutcome> {
        let now_ms = millis(now);
        let until = now_ms.saturating_add(duration_millis(lease));
        // IMMEDIATE: take the write lock first (waiting up to the busy timeout), so that the reads below cannot
        // be invalidated by another writer between them and the update.
        let mut tx: Transaction<'_, Sqlite> = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let superseded = sqlx::query(SUPERSEDE_SQL)
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                Ok(Superseded {
                    delivery_id: row.try_get("delivery_id")?,
                    event: row.try_get("event")?,
                    serial_key: row.try_get("serial_key")?,
                    head_sha: row.try_get("head_sha")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let row = sqlx::query(CLAIM_SQL).bind(worker_id).bind(until).bind(now_ms).fetch_optional(&mut *tx).await?;
        let claimed = row.as_ref().map(claimed_from_row).transpose()?;
        tx.commit().await?;
        Ok(ClaimOutcome { claimed, superseded })
    }

    /// Runs a finishing update fenced by the lease.
    /// `set` has one integer placeholder, then a text one when `text` is given.
    async fn finish(&self, lease: &LeaseToken, set: &str, time: DateTime<Utc>, text: Option<&str>) -> Result<()> {
        let sql = format!("UPDATE deliveries SET {set} WHERE {LEASE_HELD}");
        let mut query = sqlx::query(&sql).bind(millis(time));
        if let Some(text) = text {
            query = query.bind(text);
        }
        let result = query
            .bind(&lease.delivery_id)
            .bind(&lease.owner)
            .bind(i64::from(lease.attempt))
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::LeaseLost {
                delivery_id: lease.delivery_id.clone(),
                owner: lease.owner.clone(),
                attempt: lease.attempt,
            })
        }
    }

    /// Marks a claimed delivery done.
    pub async fn complete(&self, lease: &LeaseToken, now: DateTime<Utc>) -> Result<()> {
        self.finish(lease, "status = 'done', finished_at = ?, lease_owner = NULL, lease_until = NULL", now, None).await
    }

    /// Puts a claimed delivery back in the queue, due at `at`, recording the error.
    pub async fn retry_later(&self, lease: &LeaseToken, at: DateTime<Utc>, error: &str) -> Result<()> {
        self.finish(
            lease,
            "status = 'queued', next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?",
            at,
            Some(error),
        )
        .await
    }

    /// Fails a claimed delivery permanently: it is never retried.
    pub async fn fail(&self, lease: &LeaseToken, now: DateTime<Utc>, reason: &str) -> Result<()> {
        self.finish(
            lease,
            "status = 'failed', finished_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?",
            now,
            Some(reason),
        )
        .await
    }

    /// Finishes a claimed delivery as `ignored` (there turned out to be nothing to do), with the reason.
    pub async fn ignore(&self, lease: &LeaseToken, now: DateTime<Utc>, reason: &str) -> Result<()> {
        self.finish(
            lease,
            "status = 'ignored', finished_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?",
            now,
            Some(reason),
        )
        .await
    }

    /// Extends a held lease to `until`. [`StoreError::LeaseLost`] when it is no longer held: stop working on it.
    pub async fn extend_lease(&self, lease: &LeaseToken, until: DateTime<Utc>) -> Result<()> {
        self.finish(lease, "lease_until = ?", until, None).await
    }

    /// Deliveries waiting or running.
    pub async fn queue_depth(&self) -> Result<i64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'processing')")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    pub async fn delivery_status(&self, delivery_id: &str) -> Result<Option<DeliveryStatus>> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM deliveries WHERE delivery_id = ?")
            .bind(delivery_id)
            .fetch_optional(&self.pool)
            .await?;
        status.map(|s| s.parse()).transpose()
    }

    /// A stored delivery, without its payload.
    pub async fn delivery(&self, delivery_id: &str) -> Result<Option<DeliveryRecord>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM deliveries WHERE delivery_id = ?");
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
    /// GitHub lets anyone redeliver (a redelivery of a pruned id would be processed again).
    pub async fn prune_finished(&self, before: DateTime<Utc>) -> Result<u64> {
        let result = sqlx::query("DELETE FROM deliveries WHERE finished_at IS NOT NULL AND finished_at < ?")
            .bind(millis(before))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    pub async fn get_blob(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT content FROM blobs WHERE sha = ?").bind(sha).fetch_optional(&self.pool).await?)
    }

    /// Stores a blob by its SHA. Content-addressed: an existing entry is left as it is.
    pub async fn put_blob(&self, sha: &str, content: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO blobs (sha, content) VALUES (?, ?) ON CONFLICT (sha) DO NOTHING")
            .bind(sha)
            .bind(content)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<KvEntry>> {
        let row = sqlx::query("SELECT value, updated_at FROM kv WHERE namespace = ? AND key = ?")
            .bind(namespace)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(KvEntry { value: row.try_get("value")?, updated_at: from_millis(row.try_get("updated_at")?)? })
        })
        .transpose()
    }

    /// Sets (inserts or replaces) an entry.
    pub async fn kv_put(&self, namespace: &str, key: &str, value: &[u8], now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO kv (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(namespace)
        .bind(key)
        .bind(value)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes the entries of `namespace` last written before `before`; returns how many.
    pub async fn prune_kv(&self, namespace: &str, before: DateTime<Utc>) -> Result<u64> {
        let result = sqlx::query("DELETE FROM kv WHERE namespace = ? AND updated_at < ?")
            .bind(namespace)
            .bind(millis(before))
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Deletes an entry; returns whether there was one.
    pub async fn kv_delete(&self, namespace: &str, key: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM kv WHERE namespace = ? AND key = ?")
            .bind(namespace)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// [`Store::kv_get`] decoding JSON; returns the value and when it was stored.
    pub async fn kv_get_json<T: serde::de::DeserializeOwned>(
        &self,
        namespace: &str,
        key: &str,
    ) -> Result<Option<(T, DateTime<Utc>)>> {
        let Some(entry) = self.kv_get(namespace, key).await? else { return Ok(None) };
        let value = serde_json::from_slice(&entry.value)
            .map_err(|e| StoreError::Decode { what: format!("{namespace}/{key}"), reason: e.to_string() })?;
        Ok(Some((value, entry.updated_at)))
    }

    /// [`Store::kv_put`] encoding JSON.
    pub async fn kv_put_json<T: serde::Serialize + ?Sized>(
        &self,
        namespace: &str,
        key: &str,
        value: &T,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| StoreError::Decode { what: format!("{namespace}/{key}"), reason: e.to_string() })?;
        self.kv_put(namespace, key, &bytes, now).await
    }
}

fn claimed_from_row(row: &SqliteRow) -> Result<Claimed> {
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

fn record_from_row(row: &SqliteRow) -> Result<DeliveryRecord> {
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
