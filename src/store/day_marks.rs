//! What the web's read model of the history loads: the slim marks the trend needs, the records written since a
//! revision, and the revision itself. Every write of a day record takes the next revision
//! ([`Store::record_service_day`]), so a reader that loaded the history once reads only what changed since.

use super::service_days::{COLUMNS, service_day};
use super::{Result, ServiceDay, Store, StoreError};
use chrono::NaiveDate;
use sqlx::Row;

/// The fields of a day record the trend and the week's movers read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayMark {
    pub org: String,
    pub service: String,
    pub day: NaiveDate,
    pub tier: u32,
    pub owner: Option<String>,
    pub level: Option<String>,
    pub meets_required: bool,
}

impl DayMark {
    pub fn of(record: &ServiceDay) -> DayMark {
        DayMark {
            org: record.org.clone(),
            service: record.service.clone(),
            day: record.day,
            tier: record.tier,
            owner: record.owner.clone(),
            level: record.level.clone(),
            meets_required: record.meets_required,
        }
    }
}

impl Store {
    /// The revision of the latest write of a day record, of any organisation (0 before the first).
    pub async fn service_days_revision(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(revision), 0) AS revision FROM service_days")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get("revision"))
    }

    /// `org`'s marks from `since` on, by service then day.
    pub async fn day_marks(&self, org: &str, since: NaiveDate) -> Result<Vec<DayMark>> {
        let rows = sqlx::query(
            "SELECT service, day, tier, owner, level, meets_required FROM service_days
             WHERE org = $1 AND day >= $2 ORDER BY service, day",
        )
        .bind(org)
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let day: String = row.get("day");
                Ok(DayMark {
                    org: org.to_string(),
                    service: row.get("service"),
                    day: day.parse().map_err(|e: chrono::ParseError| StoreError::Decode {
                        what: "service_days.day".into(),
                        reason: e.to_string(),
                    })?,
                    tier: super::to_u32(row.get("tier"), "service_days.tier")?,
                    owner: row.get("owner"),
                    level: row.get("level"),
                    meets_required: row.get::<i64, _>("meets_required") == 1,
                })
            })
            .collect()
    }

    /// The records written after `revision`, of every organisation and any day, at most `limit`, oldest write first,
    /// each with its revision. (Read by revision alone, so that the revision's index is the one used.)
    pub async fn service_days_written_after(&self, revision: i64, limit: usize) -> Result<Vec<(i64, ServiceDay)>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, revision FROM service_days WHERE revision > $1 ORDER BY revision LIMIT $2"
        ))
        .bind(revision)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.get("revision"), service_day(row)?))).collect()
    }
}
