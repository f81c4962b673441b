//! Durable state in SQLite: webhook deliveries (the work queue), a content-addressed blob cache and small key/value
//! caches, and what the Ops view reads of them ([`Store::failed_since`], [`Store::retrying`]).
//!
//! The delivery queue is leased: a worker [`Store::claim`]s a delivery for a time, extends the lease while it runs,
//! and finishes it with [`Store::complete`], [`Store::retry_later`], [`Store::fail`] or [`Store::ignore`]. A
//! delivery whose lease expires (its worker crashed) is claimable again. Every finishing call is fenced by a
//! [`LeaseToken`] (worker and attempt number): a worker that lost its lease cannot finish someone else's attempt.
//!
//! Writes go through one connection, so a burst queues in the process (first come, first served) instead of racing
//! for SQLite's write lock; reads use a pool of their own and never wait for writes (WAL).
//!
//! Every method that depends on the time takes `now`, so the caller's clock (and the tests') decides.

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};
use sqlx::{AnyPool, any::AnyPoolOptions};
use std::fmt;
use std::time::Duration;

mod day_marks;
mod deliveries;
mod history;
mod instances;
#[cfg(test)]
mod instances_tests;
mod intake;
mod kv;
mod open;
mod ops;
#[cfg(test)]
mod ops_tests;
mod queue;
#[cfg(test)]
mod queue_tests;
mod service_days;
#[cfg(test)]
mod service_days_tests;
#[cfg(test)]
#[path = "../../tests/common/test_database.rs"]
pub(crate) mod test_database;
#[cfg(test)]
mod tests;
pub use day_marks::DayMark;
pub use deliveries::{
    ClaimOutcome, Claimed, DeliveryRecord, DeliveryStatus, Disposition, Inserted, LeaseToken, NewDelivery, Superseded,
};
pub use history::EvaluationRecord;
pub use instances::PERIODIC;
pub use kv::KvEntry;
pub use ops::{DeliveryScope, FailedDelivery, FailedWindow, SWEEP_RUN_KEY, SweepProgress, SweepRun};
pub use queue::INSTANCE_DEAD_AFTER;
pub use service_days::{KEEP_DAYS, ServiceDay};

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
    /// The last periodic sweep queued (`last`: its job id; the entry's time is when), and the last sweep of every
    /// installation that ran (`last_run`: a [`SweepRun`]).
    pub const SWEEP: &str = "sweep";
    /// Comment commands: a comment answered by `owner/name#comment_id`, each command line's outcome by
    /// `owner/name#comment_id/index`, the comment's reaction by `owner/name#comment_id/reaction`.
    pub const COMMAND: &str = "command";
    /// Catalog pull requests whose merge was handled (threads answered), by `owner/name#number`.
    pub const CATALOG_MERGE: &str = "catalog_merge";
    /// The last weekly removal of expired exceptions (`last`).
    pub const CLEANUP: &str = "cleanup";
    /// Missed deliveries: when the last recovery was queued (`last`), the newest listed delivery id (`newest`), and
    /// each GUID whose redelivery was asked for (`asked/{guid}`).
    pub const RECOVERY: &str = "recovery";
    /// The last daily pruning of old deliveries and caches (`last`).
    pub const PRUNE: &str = "prune";
    /// The web's state: `session_key`, the key sessions are signed with when `SHIPSHAPE_SESSION_KEY` is not set.
    pub const WEB: &str = "web";
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot lock {path} while migrating: {source}")]
    MigrationLock { path: String, source: std::io::Error },
    #[error("unsupported database URL (sqlite:// or postgres://)")]
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

/// How the database is opened.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// How long a write waits for the database: for SQLite's write lock when another process (a backup, the
    /// `sqlite3` shell) holds it, and for the process's one write connection when other writes are ahead.
    pub write_timeout: Duration,
    /// Connections for reads (readiness, metrics, caches), which never wait for writes.
    pub read_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { write_timeout: Duration::from_secs(30), read_connections: 8 }
    }
}

/// Which database the store runs on: the SQL the two share is written once (numbered `$N` placeholders, which
/// SQLite accepts too); where they differ, the dialect picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// One process on one file.
    Sqlite,
    /// Any number of replicas on one database.
    Postgres,
}

impl Dialect {
    /// The dialect of `database_url`, or [`StoreError::UnsupportedUrl`].
    pub fn of(database_url: &str) -> Result<Dialect> {
        let url = database_url.trim_start().to_ascii_lowercase();
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// The PostgreSQL advisory lock every write transaction that reads before it writes takes (claims, delivery
/// inserts, history records): replicas then write the queue one at a time, as SQLite's one writer does, so the two
/// backends share one set of semantics. Each such transaction lasts milliseconds.
const WRITE_LOCK: i64 = 0x5348_4950_5348_4150; // "SHIPSHAP"

/// The database. Cheap to clone (connection pools and a handle on the delivery writer).
#[derive(Clone)]
pub struct Store {
    /// Connections for reads (SQLite: `query_only`; for an in-memory database the same one connection as `writes`;
    /// PostgreSQL: the one pool).
    pool: AnyPool,
    /// SQLite: the one connection every write goes through. PostgreSQL: the same pool as `pool`.
    writes: AnyPool,
    dialect: Dialect,
    /// Deliveries are inserted by one writer task that commits everything waiting in one transaction (group commit):
    /// each webhook still gets its 202 only after its row is durable, but concurrent webhooks share one fsync.
    writer: tokio::sync::mpsc::Sender<intake::PendingInsert>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect)
            .field("read_connections", &self.pool.size())
            .finish_non_exhaustive()
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

/// Begins a write transaction that may read before it writes: SQLite's `BEGIN IMMEDIATE` (the write lock first,
/// waiting up to the busy timeout), PostgreSQL's [`WRITE_LOCK`].
pub(super) async fn begin_write(pool: &AnyPool, dialect: Dialect) -> Result<Transaction<'static, Any>> {
    match dialect {
        Dialect::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
        Dialect::Postgres => {
            let mut tx = pool.begin().await?;
            // The function returns `void`, which no driver decodes: select a constant beside it.
            sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
            Ok(tx)
        }
    }
}

impl Store {
    /// [`Store::open_with`] the default options.
    pub async fn open(database_url: &str) -> Result<Store> {
        Store::open_with(database_url, &StoreOptions::default()).await
    }

    /// Opens the database at `database_url` and brings its schema up to date: `sqlite://PATH`, `sqlite:PATH` or
    /// `sqlite::memory:` (created when missing), or `postgres://…` (an existing database; migrations hold
    /// PostgreSQL's migration lock, so replicas starting together migrate one at a time).
    pub async fn open_with(database_url: &str, options: &StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of(database_url)?;
        let (pool, writes) = match dialect {
            Dialect::Sqlite => open::open_sqlite(database_url, options).await?,
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.read_connections.max(1) + 2)
                    .acquire_timeout(options.write_timeout)
                    .connect(database_url)
                    .await?;
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                (pool.clone(), pool)
            }
        };
        let (writer, queue) = tokio::sync::mpsc::channel(4 * intake::MAX_BATCH);
        tokio::spawn(intake::write_deliveries(writes.clone(), dialect, queue));
        Ok(Store { pool, writes, dialect, writer })
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// [`begin_write`] on this store.
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        begin_write(&self.writes, self.dialect).await
    }

    /// Closes every connection (the WAL is checkpointed when the last one closes).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writes.close().await;
    }

    /// A cheap query of the deliveries table: is the database answering, with its schema in place?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1 FROM deliveries LIMIT 1").execute(&self.pool).await?;
        Ok(())
    }
}
