//! The delivery queue: claiming under a lease, setting stale deliveries aside, and the finishing calls.
//!
//! Deliveries sharing a serial key wait in a line. Only the oldest never-attempted queued delivery of a key is a
//! claim candidate (`behind = 0`); the others wait `behind = 1` and move up one at a time ([`elect_next`]).
//! Deliveries put back for a retry and deliveries without a key are always candidates. So a claim walks the
//! candidates in arrival order and skips one row per busy key (plus its retries), never the whole backlog of a busy
//! pull request, and the semantics stay those of "the oldest due delivery whose key no live lease holds": a key's
//! never-attempted deliveries come due in arrival order (they are due when received), so its oldest due delivery is
//! always a candidate.
//!
//! Superseding: a queued delivery with a head SHA is stale when a newer delivery of its key has another head. Head
//! generations (see [`super::intake`]) make that one index lookup; stale deliveries are set aside when the claim
//! reaches their key, all of the key's at once.

use super::deliveries::{ClaimOutcome, Claimed, LeaseToken, Superseded, claimed_from_row};
use super::{Dialect, Result, Store, StoreError, duration_millis, millis};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::Row;
use std::time::Duration;

/// A lease that still holds its delivery: not expired, and its instance (when it names one) is the claimer's (`$3`)
/// or beat since `$2`.
const LIVE: &str = "{o}.status = 'processing' AND {o}.lease_until > $1
    AND ({o}.lease_instance IS NULL OR {o}.lease_instance = $3 OR EXISTS (
        SELECT 1 FROM instances AS i WHERE i.id = {o}.lease_instance AND i.beat_at > $2))";

/// The oldest claimable delivery: a due candidate in a key's line, or a delivery whose lease is dead (expired, or
/// its instance stopped beating: crash recovery), whose key no live lease holds. `{lock}`: PostgreSQL locks the
/// rows it picks and skips rows that other transactions hold (a replica finishing or extending a lease).
const CANDIDATE_TEMPLATE: &str = "
SELECT delivery_id, serial_key, head_generation, status, attempts, received_at, seq FROM (
    SELECT d.delivery_id, d.serial_key, d.head_generation, d.status, d.attempts, d.received_at, d.rowid AS seq
    FROM deliveries AS d
    WHERE d.status = 'queued' AND d.behind = 0 AND d.next_attempt_at <= $1
      AND (d.serial_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM deliveries AS o WHERE o.serial_key = d.serial_key AND {live_o}))
    ORDER BY d.received_at, d.rowid
    LIMIT 1 {lock}) AS fronts
UNION ALL
SELECT delivery_id, serial_key, head_generation, status, attempts, received_at, seq FROM (
    SELECT d.delivery_id, d.serial_key, d.head_generation, d.status, d.attempts, d.received_at, d.rowid AS seq
    FROM deliveries AS d
    WHERE d.status = 'processing' AND NOT ({live_d})
      AND (d.serial_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM deliveries AS o WHERE o.serial_key = d.serial_key AND {live_o}))
    ORDER BY d.received_at, d.rowid
    LIMIT 1 {lock}) AS expired
ORDER BY received_at, seq
LIMIT 1";

/// [`CANDIDATE_TEMPLATE`] in `dialect`.
pub(super) fn candidate_sql(dialect: Dialect) -> &'static str {
    static SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        let fill = |lock: &str| {
            CANDIDATE_TEMPLATE
                .replace("{live_o}", &LIVE.replace("{o}", "o"))
                .replace("{live_d}", &LIVE.replace("{o}", "d"))
                .replace("{lock}", lock)
        };
        [fill(""), fill("FOR UPDATE OF d SKIP LOCKED")]
    });
    match dialect {
        Dialect::Sqlite => &SQL[0],
        Dialect::Postgres => &SQL[1],
    }
}

/// How long an instance may go without beating before its leases are dead (it beats every few seconds).
pub const INSTANCE_DEAD_AFTER: Duration = Duration::from_secs(30);

/// A key's newest head generation.
pub(super) const NEWEST_GENERATION_SQL: &str = "
SELECT head_generation FROM deliveries WHERE serial_key = $1 AND head_generation IS NOT NULL
ORDER BY head_generation DESC LIMIT 1";

/// When the newest generation of a key began.
pub(super) const GENERATION_START_SQL: &str =
    "SELECT MIN(received_at) FROM deliveries WHERE serial_key = $1 AND head_generation = $2";

/// Sets aside up to `?5` of a key's queued deliveries of older generations (all received before the newest one
/// began). The unary plus keeps the planner on the queued rows of the key, not on every generation of its history.
pub(super) const SUPERSEDE_SQL: &str = "
UPDATE deliveries
SET status = 'superseded', finished_at = $1,
    last_error = 'superseded by a newer delivery for another head commit'
WHERE delivery_id IN (
    SELECT delivery_id FROM deliveries
    WHERE serial_key = $2 AND status = 'queued' AND received_at <= $3 AND +head_generation < $4
    LIMIT $5)
RETURNING delivery_id, event, serial_key, head_sha";

const TAKE_SQL: &str = "
UPDATE deliveries
SET status = 'processing', attempts = attempts + 1, lease_owner = $1, lease_until = $2, behind = 0,
    lease_instance = $4
WHERE delivery_id = $3
RETURNING delivery_id, event, action, installation_id, repository, serial_key, head_sha, payload, received_at,
          attempts, last_error, lease_owner, lease_until";

/// The two oldest never-attempted queued deliveries of a key: the front of its line and the next one.
pub(super) const LINE_FRONT_SQL: &str = "
SELECT delivery_id, behind FROM deliveries
WHERE serial_key = $1 AND status = 'queued' AND attempts = 0
ORDER BY received_at, rowid
LIMIT 2";

/// The condition every finishing call is fenced by (its placeholders come first: the `SET`'s are `$4` on).
const LEASE_HELD: &str = "delivery_id = $1 AND status = 'processing' AND lease_owner = $2 AND attempts = $3";

/// Most keys whose stale deliveries one claim sets aside before it returns (the worker then claims again).
const MAX_KEYS_SET_ASIDE: usize = 16;
/// Most deliveries one claim sets aside, so that a pull request with a deep stale backlog holds the write
/// connection for milliseconds at a time, not for the whole backlog.
const MAX_SET_ASIDE: usize = 1000;

/// A delivery the claim may take.
struct Candidate {
    delivery_id: String,
    serial_key: Option<String>,
    head_generation: Option<i64>,
    queued: bool,
    attempts: i64,
}

/// The claiming instance's own leases stay live until they expire, whatever its last beat says: it is running, and
/// its beat may lag the clock (a clock step, a stalled beat task).
async fn candidate(
    tx: &mut AnyConnection,
    dialect: Dialect,
    instance: Option<&str>,
    now: i64,
) -> Result<Option<Candidate>> {
    let beat_since = now.saturating_sub(duration_millis(INSTANCE_DEAD_AFTER));
    let query = sqlx::query(candidate_sql(dialect)).bind(now).bind(beat_since).bind(instance.map(str::to_owned));
    let Some(row) = query.fetch_optional(&mut *tx).await? else { return Ok(None) };
    Ok(Some(Candidate {
        delivery_id: row.try_get("delivery_id")?,
        serial_key: row.try_get("serial_key")?,
        head_generation: row.try_get("head_generation")?,
        queued: row.try_get::<String, _>("status")? == "queued",
        attempts: row.try_get("attempts")?,
    }))
}

/// When a newer delivery of the candidate's key has another head: the key's newest generation and when it began.
async fn newer_generation(tx: &mut AnyConnection, c: &Candidate) -> Result<Option<(i64, i64)>> {
    let (true, Some(key), Some(generation)) = (c.queued, &c.serial_key, c.head_generation) else { return Ok(None) };
    let newest: i64 = sqlx::query_scalar(NEWEST_GENERATION_SQL).bind(key).fetch_one(&mut *tx).await?;
    if newest <= generation {
        return Ok(None);
    }
    let began: i64 = sqlx::query_scalar(GENERATION_START_SQL).bind(key).bind(newest).fetch_one(&mut *tx).await?;
    Ok(Some((newest, began)))
}

async fn supersede(tx: &mut AnyConnection, key: &str, newer: (i64, i64), now: i64) -> Result<Vec<Superseded>> {
    let (newest, began) = newer;
    let rows = sqlx::query(SUPERSEDE_SQL)
        .bind(now)
        .bind(key)
        .bind(began)
        .bind(newest)
        .bind(MAX_SET_ASIDE as i64)
        .fetch_all(&mut *tx)
        .await?;
    let superseded = rows
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
    elect_next(tx, key).await?;
    Ok(superseded)
}

/// Puts the oldest never-attempted queued delivery of `key` at the front of its line (a candidate) and the one
/// after it behind, after the front was claimed or set aside, or a delivery joined the line.
pub(super) async fn elect_next(tx: &mut AnyConnection, key: &str) -> Result<()> {
    let line = sqlx::query(LINE_FRONT_SQL).bind(key).fetch_all(&mut *tx).await?;
    for (position, row) in line.iter().enumerate() {
        let behind = row.try_get::<i64, _>("behind")? != 0;
        let should_be_behind = position > 0;
        if behind != should_be_behind {
            sqlx::query("UPDATE deliveries SET behind = $1 WHERE delivery_id = $2")
                .bind(i64::from(should_be_behind))
                .bind(row.try_get::<String, _>("delivery_id")?)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Claims the oldest due delivery for `worker_id` until `now + lease`. See [`Store::claim_reporting`].
    pub async fn claim(&self, worker_id: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<Claimed>> {
        Ok(self.claim_reporting(worker_id, now, lease).await?.claimed)
    }

    /// In one write transaction: claims the oldest due delivery (`queued` with `next_attempt_at <= now`, or
    /// `processing` with an expired lease: crash recovery) whose serial key no other live lease holds, incrementing
    /// its attempt count. On the way, a queued candidate that a later-received delivery with the same serial key and
    /// another, non-null head SHA has made stale is marked `superseded`, with every other stale queued delivery of
    /// its key (deliveries without a head SHA are never superseded). `claimed` is `None` when nothing is due, or
    /// when this claim set aside many stale deliveries, of many keys or of one deep backlog (claim again).
    pub async fn claim_reporting(&self, worker_id: &str, now: DateTime<Utc>, lease: Duration) -> Result<ClaimOutcome> {
        self.claim_for(None, worker_id, now, lease).await
    }

    /// [`Store::claim_reporting`] for a worker of `instance` (see [`Store::register_instance`]): the lease also
    /// ends when the instance stops beating for [`INSTANCE_DEAD_AFTER`]. Without an instance, only its expiry ends
    /// it.
    pub async fn claim_for(
        &self,
        instance: Option<&str>,
        worker_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<ClaimOutcome> {
        let now_ms = millis(now);
        let until = now_ms.saturating_add(duration_millis(lease));
        // The write lock first (waiting up to the busy timeout), so that no other process or replica can write
        // between the reads below and the updates.
        let mut tx = self.begin_write().await?;
        let mut outcome = ClaimOutcome::default();
        for _ in 0..MAX_KEYS_SET_ASIDE {
            let Some(c) = candidate(&mut tx, self.dialect, instance, now_ms).await? else { break };
            if let (Some(newer), Some(key)) = (newer_generation(&mut tx, &c).await?, &c.serial_key) {
                let set_aside = supersede(&mut tx, key, newer, now_ms).await?;
                // Never empty (the candidate is stale); if it were, claiming the candidate beats spinning on it.
                if !set_aside.is_empty() {
                    outcome.superseded.extend(set_aside);
                    if outcome.superseded.len() >= MAX_SET_ASIDE {
                        break;
                    }
                    continue;
                }
            }
            let take = sqlx::query(TAKE_SQL).bind(worker_id).bind(until).bind(&c.delivery_id).bind(instance);
            let row = take.fetch_one(&mut *tx).await?;
            outcome.claimed = Some(claimed_from_row(&row)?);
            if let (true, 0, Some(key)) = (c.queued, c.attempts, &c.serial_key) {
                elect_next(&mut tx, key).await?;
            }
            break;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Runs a finishing update fenced by the lease.
    /// `set` has an integer placeholder per time in `times` (`$4` on), then a text one when `text` is given.
    async fn finish(&self, lease: &LeaseToken, set: &str, times: &[DateTime<Utc>], text: Option<&str>) -> Result<()> {
        let sql = format!("UPDATE deliveries SET {set} WHERE {LEASE_HELD}");
        let mut query = sqlx::query(&sql).bind(&lease.delivery_id).bind(&lease.owner).bind(i64::from(lease.attempt));
        for time in times {
            query = query.bind(millis(*time));
        }
        if let Some(text) = text {
            query = query.bind(text);
        }
        let result = query.execute(&self.writes).await?;
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
        self.finish(
            lease,
            "status = 'done', finished_at = $4, lease_owner = NULL, lease_until = NULL, lease_instance = NULL",
            &[now],
            None,
        )
        .await
    }

    /// Puts a claimed delivery back in the queue, due at `at`, recording the error and that the attempt failed
    /// `now`. It is a claim candidate of its own (attempted deliveries do not wait in their key's line), so younger
    /// deliveries of its key that are due may go first.
    pub async fn retry_later(
        &self,
        lease: &LeaseToken,
        now: DateTime<Utc>,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.finish(
            lease,
            "status = 'queued', failed_at = $4, next_attempt_at = $5, lease_owner = NULL, lease_until = NULL, lease_instance = NULL,
             last_error = $6",
            &[now, at],
            Some(error),
        )
        .await
    }

    /// Fails a claimed delivery permanently: it is never retried.
    pub async fn fail(&self, lease: &LeaseToken, now: DateTime<Utc>, reason: &str) -> Result<()> {
        self.finish(
            lease,
            "status = 'failed', finished_at = $4, failed_at = $5, lease_owner = NULL, lease_until = NULL, lease_instance = NULL,
             last_error = $6",
            &[now, now],
            Some(reason),
        )
        .await
    }

    /// Finishes a claimed delivery as `ignored` (there turned out to be nothing to do), with the reason.
    pub async fn ignore(&self, lease: &LeaseToken, now: DateTime<Utc>, reason: &str) -> Result<()> {
        self.finish(
            lease,
            "status = 'ignored', finished_at = $4, lease_owner = NULL, lease_until = NULL, lease_instance = NULL, last_error = $5",
            &[now],
            Some(reason),
        )
        .await
    }

    /// Extends a held lease to `until`. [`StoreError::LeaseLost`] when it is no longer held: stop working on it.
    pub async fn extend_lease(&self, lease: &LeaseToken, until: DateTime<Utc>) -> Result<()> {
        self.finish(lease, "lease_until = $4", &[until], None).await
    }
}
