//! The organisation's readiness, read from the service history (issue 14): what the dashboard, the JSON API and the
//! CSV show. Pure: day records in, views out; the same for every page and answer.
//!
//! "Today" is each service's latest record. A service that has not been evaluated for [`STALE_AFTER_DAYS`] days is
//! not counted on a day of the trend (it may have left the catalog), and the caller may restrict today's views to
//! the services in the current catalog.

use crate::engine::Status;
use crate::store::ServiceDay;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub mod catalog;
pub mod initiatives;
#[cfg(test)]
mod tests;
mod trend;

pub use catalog::CatalogView;
pub use initiatives::{InitiativeRow, initiatives};
pub use trend::{Move, Movers, RuleChange, TierTrend, TrendPoint, movers, trend};

/// How long a service's last record stands for it in the trend.
pub const STALE_AFTER_DAYS: i64 = 7;
/// The trend's length.
pub const TREND_DAYS: i64 = 90;
/// The name of the level below the lowest one.
pub const NO_LEVEL: &str = "none";

/// Filters of the pages and the API (query parameters `tier`, `owner`, `level`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Filter {
    pub tier: Option<u32>,
    pub owner: Option<String>,
    /// A level name, or [`NO_LEVEL`].
    pub level: Option<String>,
}

impl Filter {
    /// Whether `record` passes the tier and owner filters (the ones that make sense on any day).
    pub fn keeps_on_any_day(&self, tier: u32, owner: Option<&str>) -> bool {
        self.tier.is_none_or(|t| tier == t) && self.owner.as_deref().is_none_or(|o| owner == Some(o))
    }

    /// Whether `record` passes every filter.
    pub fn keeps(&self, record: &ServiceDay) -> bool {
        self.keeps_on_any_day(record.tier, record.owner.as_deref())
            && self.level.as_ref().is_none_or(|l| record.level.as_deref().unwrap_or(NO_LEVEL) == l)
    }
}

/// The policy's levels, lowest first, for ranking.
#[derive(Clone, Debug)]
pub struct Levels(pub Vec<String>);

impl Levels {
    /// 0 below the lowest level (or for a level the policy no longer has), then 1, 2, … from the lowest.
    pub fn rank(&self, level: Option<&str>) -> usize {
        level.and_then(|l| self.0.iter().position(|x| x == l)).map_or(0, |i| i + 1)
    }

    /// [`NO_LEVEL`] then the levels, lowest first.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(NO_LEVEL.to_string()).chain(self.0.iter().cloned()).collect()
    }
}

/// One service as the list shows it (JSON and CSV field names are a public interface).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    pub org: String,
    pub service: String,
    pub repository: String,
    pub owner: Option<String>,
    pub tier: u32,
    /// `null` below the lowest level.
    pub level: Option<String>,
    pub required_level: String,
    pub meets_required: bool,
    pub unverified: u32,
    /// Failing rules (not excepted), by id.
    pub failing: Vec<String>,
    pub commit: String,
    /// The day of the latest record (`YYYY-MM-DD`) and the evaluation's time (RFC 3339).
    pub day: NaiveDate,
    pub evaluated_at: chrono::DateTime<chrono::Utc>,
}

impl ServiceRow {
    pub fn from_record(record: &ServiceDay) -> ServiceRow {
        ServiceRow {
            org: record.org.clone(),
            service: record.service.clone(),
            repository: record.repository.clone(),
            owner: record.owner.clone(),
            tier: record.tier,
            level: record.level.clone(),
            required_level: record.required_level.clone(),
            meets_required: record.meets_required,
            unverified: record.unverified,
            failing: failing(record),
            commit: record.commit.clone(),
            day: record.day,
            evaluated_at: record.evaluated_at,
        }
    }
}

fn failing(record: &ServiceDay) -> Vec<String> {
    record.rules.iter().filter(|(_, s)| **s == Status::Fail).map(|(id, _)| id.clone()).collect()
}

/// Services by tier and level: `counts[tier][level]`, every level of the policy present (zeros included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grid {
    pub levels: Vec<String>,
    pub tiers: Vec<GridRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GridRow {
    pub tier: u32,
    pub required_level: String,
    /// In the order of [`Grid::levels`].
    pub counts: Vec<usize>,
    pub total: usize,
    pub meeting: usize,
}

/// A rule's pass rate over the services it was judged on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleRate {
    pub rule: String,
    /// Passing or excepted.
    pub passing: usize,
    pub failing: usize,
    /// Skipped or in error: not in the rate.
    pub unjudged: usize,
    /// `passing / (passing + failing)`, `null` when no service was judged.
    pub rate: Option<f64>,
}

/// Today's picture of an organisation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    pub today: NaiveDate,
    pub services: usize,
    pub meeting: usize,
    pub grid: Grid,
    pub rules: Vec<RuleRate>,
}

/// Each service's latest record among `records` that passes `filter`, and is in `current` when given; by name.
pub fn latest<'a>(
    records: impl IntoIterator<Item = &'a ServiceDay>,
    current: Option<&BTreeSet<String>>,
    filter: &Filter,
) -> Vec<&'a ServiceDay> {
    let mut last: BTreeMap<(&str, &str), &ServiceDay> = BTreeMap::new();
    for r in records {
        let key = (r.service.as_str(), r.org.as_str());
        if last.get(&key).is_none_or(|seen| (seen.day, seen.evaluated_at) <= (r.day, r.evaluated_at)) {
            last.insert(key, r);
        }
    }
    last.into_values().filter(|r| current.is_none_or(|c| c.contains(&r.service)) && filter.keeps(r)).collect()
}

/// The grid, the share meeting their required level and the pass rate per rule (worst first) of `latest`.
pub fn overview(latest: &[&ServiceDay], levels: &Levels, today: NaiveDate) -> Overview {
    let names = levels.names();
    let mut tiers: BTreeMap<u32, GridRow> = BTreeMap::new();
    let mut rules: BTreeMap<&str, RuleRate> = BTreeMap::new();
    for r in latest {
        let row = tiers.entry(r.tier).or_insert_with(|| GridRow {
            tier: r.tier,
            required_level: r.required_level.clone(),
            counts: vec![0; names.len()],
            total: 0,
            meeting: 0,
        });
        row.counts[levels.rank(r.level.as_deref())] += 1;
        row.total += 1;
        row.meeting += usize::from(r.meets_required);
        for (id, status) in &r.rules {
            let rate = rules.entry(id).or_insert_with(|| RuleRate {
                rule: id.clone(),
                passing: 0,
                failing: 0,
                unjudged: 0,
                rate: None,
            });
            match status {
                Status::Pass | Status::Excepted => rate.passing += 1,
                Status::Fail => rate.failing += 1,
                Status::Skipped | Status::Error => rate.unjudged += 1,
            }
        }
    }
    let mut rules: Vec<RuleRate> = rules
        .into_values()
        .map(|mut r| {
            let judged = r.passing + r.failing;
            r.rate = (judged > 0).then(|| r.passing as f64 / judged as f64);
            r
        })
        .collect();
    // Worst first; rules nobody could judge last; then by how many fail, then by id.
    rules.sort_by(|a, b| {
        let key = |r: &RuleRate| r.rate.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then(b.failing.cmp(&a.failing)).then(a.rule.cmp(&b.rule))
    });
    Overview {
        today,
        services: latest.len(),
        meeting: latest.iter().filter(|r| r.meets_required).count(),
        grid: Grid { levels: names, tiers: tiers.into_values().collect() },
        rules,
    }
}
