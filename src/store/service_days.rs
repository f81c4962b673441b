//! The readiness history of catalog services: one record per service and day, the day's latest default-branch
//! evaluation, kept [`KEEP_DAYS`] days. The dashboard's trends, drops and improvements are read from it.

use super::{Result, Store, StoreError, from_millis, millis};
use crate::engine::{Scorecard, Status};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, BTreeSet};

/// How long day records are kept.
pub const KEEP_DAYS: i64 = 400;

/// A service's readiness on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDay {
    /// The repository's owner (the organisation).
    pub org: String,
    pub service: String,
    pub day: NaiveDate,
    pub repository: String,
    /// The owning team (`spec.owner`).
    pub owner: Option<String>,
    pub tier: u32,
    pub level: Option<String>,
    pub required_level: String,
    pub meets_required: bool,
    /// How many rules at or below the level reached were not judged.
    pub unverified: u32,
    pub commit: String,
    pub rules: BTreeMap<String, Status>,
    /// The rules among `rules` that are skipped because they do not apply to the service.
    pub not_applicable: BTreeSet<String>,
    /// The policy's levels at the time, lowest first.
    pub levels: Vec<String>,
    pub evaluated_at: DateTime<Utc>,
}

impl ServiceDay {
    /// The record `card` makes when evaluated at `now`; `None` without a catalog service or a GitHub `owner/name`.
    pub fn from_card(card: &Scorecard, now: DateTime<Utc>) -> Option<ServiceDay> {
        let service = card.service.clone()?;
        let (org, name) = card.repository.split_once('/')?;
        let login = !org.is_empty() && org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !login || name.is_empty() || name.contains('/') {
            return None;
        }
        Some(ServiceDay {
            org: org.to_string(),
            service,
            day: now.date_naive(),
            repository: card.repository.clone(),
            owner: card.owner.clone(),
            tier: card.tier,
            level: card.level.clone(),
            required_level: card.required_level.clone(),
            meets_required: card.meets_required,
            unverified: u32::try_from(card.unverified.len()).unwrap_or(u32::MAX),
            commit: card.commit.clone().unwrap_or_default(),
            rules: card.rules.iter().map(|r| (r.id.clone(), r.status)).collect(),
            not_applicable: card
                .rules
                .iter()
                .filter(|r| crate::initiatives::not_applicable(r.status, &r.message))
                .map(|r| r.id.clone())
                .collect(),
            levels: card.levels.clone(),
            evaluated_at: now,
        })
    }
}

pub(super) const COLUMNS: &str = "org, service, day, repository, owner, tier, level, required_level, meets_required, unverified, \
                       commit_sha, rules, levels, evaluated_at, not_applicable";

impl Store {
    /// Writes `record` as its service's record of its day, unless the day already holds a later evaluation.
    pub async fn record_service_day(&self, record: &ServiceDay) -> Result<()> {
        let rules = serde_json::to_string(&record.rules)
            .map_err(|e| StoreError::Decode { what: "service_days.rules".into(), reason: e.to_string() })?;
        let levels = serde_json::to_string(&record.levels)
            .map_err(|e| StoreError::Decode { what: "service_days.levels".into(), reason: e.to_string() })?;
        let not_applicable = serde_json::to_string(&record.not_applicable)
            .map_err(|e| StoreError::Decode { what: "service_days.not_applicable".into(), reason: e.to_string() })?;
        sqlx::query(&format!(
            "INSERT INTO service_days ({COLUMNS}, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                     (SELECT COALESCE(MAX(revision), 0) + 1 FROM service_days))
             ON CONFLICT (org, service, day) DO UPDATE SET
                 repository = excluded.repository, owner = excluded.owner, tier = excluded.tier,
                 level = excluded.level, required_level = excluded.required_level,
                 meets_required = excluded.meets_required, unverified = excluded.unverified,
                 commit_sha = excluded.commit_sha, rules = excluded.rules, levels = excluded.levels,
                 evaluated_at = excluded.evaluated_at, not_applicable = excluded.not_applicable,
                 revision = excluded.revision
             WHERE excluded.evaluated_at >= service_days.evaluated_at"
        ))
        .bind(&record.org)
        .bind(&record.service)
        .bind(record.day.to_string())
        .bind(&record.repository)
        .bind(&record.owner)
        .bind(i64::from(record.tier))
        .bind(&record.level)
        .bind(&record.required_level)
        .bind(i64::from(record.meets_required))
        .bind(i64::from(record.unverified))
        .bind(&record.commit)
        .bind(rules)
        .bind(levels)
        .bind(millis(record.evaluated_at))
        .bind(not_applicable)
        .execute(&self.writes)
        .await?;
        Ok(())
    }

    /// One service's records from `since` on, oldest first.
    pub async fn service_days(&self, org: &str, service: &str, since: NaiveDate) -> Result<Vec<ServiceDay>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM service_days WHERE org = $1 AND service = $2 AND day >= $3 ORDER BY day"
        ))
        .bind(org)
        .bind(service)
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(service_day).collect()
    }

    /// Every record of an organisation from `since` on, by day then service.
    pub async fn org_days(&self, org: &str, since: NaiveDate) -> Result<Vec<ServiceDay>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM service_days WHERE org = $1 AND day >= $2 ORDER BY day, service"
        ))
        .bind(org)
        .bind(since.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(service_day).collect()
    }

    /// Each service's latest record in `org`, by service name.
    pub async fn latest_service_days(&self, org: &str) -> Result<Vec<ServiceDay>> {
        let columns = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns} FROM service_days s
               JOIN (SELECT service, MAX(day) AS day FROM service_days WHERE org = $1 GROUP BY service) m
                 ON s.service = m.service AND s.day = m.day
             WHERE s.org = $1
             ORDER BY s.service"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(service_day).collect()
    }

    /// The organisations that have records, sorted.
    pub async fn history_orgs(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT org FROM service_days ORDER BY org").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.get("org")).collect())
    }

    /// Deletes the records of days before `before`; returns how many.
    pub async fn prune_service_days(&self, before: NaiveDate) -> Result<u64> {
        let done = sqlx::query("DELETE FROM service_days WHERE day < $1")
            .bind(before.to_string())
            .execute(&self.writes)
            .await?;
        Ok(done.rows_affected())
    }
}

pub(super) fn service_day(row: &AnyRow) -> Result<ServiceDay> {
    let corrupt = |what: &str, e: &dyn std::fmt::Display| StoreError::Decode {
        what: format!("service_days.{what}"),
        reason: e.to_string(),
    };
    let day: String = row.get("day");
    let rules: String = row.get("rules");
    let levels: String = row.get("levels");
    let not_applicable: String = row.get("not_applicable");
    Ok(ServiceDay {
        org: row.get("org"),
        service: row.get("service"),
        day: day.parse().map_err(|e| corrupt("day", &e))?,
        repository: row.get("repository"),
        owner: row.get("owner"),
        tier: super::to_u32(row.get("tier"), "service_days.tier")?,
        level: row.get("level"),
        required_level: row.get("required_level"),
        meets_required: row.get::<i64, _>("meets_required") == 1,
        unverified: super::to_u32(row.get("unverified"), "service_days.unverified")?,
        commit: row.get("commit_sha"),
        rules: serde_json::from_str(&rules).map_err(|e| corrupt("rules", &e))?,
        not_applicable: serde_json::from_str(&not_applicable).map_err(|e| corrupt("not_applicable", &e))?,
        levels: serde_json::from_str(&levels).map_err(|e| corrupt("levels", &e))?,
        evaluated_at: from_millis(row.get("evaluated_at"))?,
    })
}
