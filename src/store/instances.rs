//! Replicas: the instances that hold leases, their heartbeats, and named leader leases (one holder at a time).
//!
//! A worker of a registered instance claims with [`Store::claim_for`]: its lease then ends when it expires or when
//! its instance has not beaten for [`super::INSTANCE_DEAD_AFTER`], whichever comes first. The periodic jobs are
//! scheduled by the holder of the [`PERIODIC`] lease.

use super::{Result, Store, duration_millis, millis};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The leader lease of the periodic jobs (sweep, exception expiry, pruning, the recovery of missed deliveries).
pub const PERIODIC: &str = "periodic";

/// Instances that stopped beating are forgotten this long after their last beat.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Store {
    /// Registers the instance `id` (of process `pid` on `host`), beating now.
    pub async fn register_instance(&self, id: &str, host: &str, pid: u32, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO instances (id, host, pid, started_at, beat_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at",
        )
        .bind(id)
        .bind(host)
        .bind(i64::from(pid))
        .bind(millis(now))
        .execute(&self.writes)
        .await?;
        Ok(())
    }

    /// Records that `id` is alive at `now`. `false` when the instance is not registered (it was forgotten, or
    /// retired): its leases may already be someone else's, so it registers again before it claims.
    pub async fn beat(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE instances SET beat_at = $2 WHERE id = $1 AND beat_at <= $2")
            .bind(id)
            .bind(millis(now))
            .execute(&self.writes)
            .await?;
        let forget_before = millis(now).saturating_sub(duration_millis(FORGET_AFTER));
        sqlx::query("DELETE FROM instances WHERE beat_at < $1").bind(forget_before).execute(&self.writes).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes the instance `id` (it stopped cleanly) and gives up the leader leases it holds.
    pub async fn retire_instance(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE id = $1").bind(id).execute(&self.writes).await?;
        sqlx::query("DELETE FROM leader_leases WHERE holder = $1").bind(id).execute(&self.writes).await?;
        Ok(())
    }

    /// Forgets every instance but `id`, so that their leases are dead at once: for SQLite, where one process is
    /// all there is, a restart takes over what the previous process left running. Returns how many it forgot.
    pub async fn forget_other_instances(&self, id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM instances WHERE id <> $1").bind(id).execute(&self.writes).await?;
        sqlx::query("DELETE FROM leader_leases WHERE holder <> $1").bind(id).execute(&self.writes).await?;
        Ok(done.rows_affected())
    }

    /// Takes or renews the leader lease `name` for `holder` until `now + ttl`; `true` when `holder` holds it. Another
    /// holder's lease is taken only once it expired.
    pub async fn try_lead(&self, name: &str, holder: &str, now: DateTime<Utc>, ttl: Duration) -> Result<bool> {
        let until = millis(now).saturating_add(duration_millis(ttl));
        let held: Option<String> = sqlx::query_scalar(
            "INSERT INTO leader_leases (name, holder, lease_until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
             WHERE leader_leases.holder = excluded.holder OR leader_leases.lease_until <= $4
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(millis(now))
        .fetch_optional(&self.writes)
        .await?;
        Ok(held.as_deref() == Some(holder))
    }

    /// Who holds the leader lease `name` at `now`, if anyone.
    pub async fn leader(&self, name: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT holder FROM leader_leases WHERE name = $1 AND lease_until > $2")
            .bind(name)
            .bind(millis(now))
            .fetch_optional(&self.pool)
            .await?)
    }
}
