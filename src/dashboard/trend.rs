//! Readiness over time: the share of services meeting their required level per day, and the week's biggest drops
//! and improvements, from day records alone.

use super::{Filter, Levels, STALE_AFTER_DAYS};
use crate::engine::Status;
use crate::store::{DayMark, ServiceDay};
use chrono::{NaiveDate, TimeDelta};
use serde::Serialize;
use std::collections::BTreeMap;

/// Services counted on a day, and how many met their required level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    pub day: NaiveDate,
    pub services: usize,
    pub meeting: usize,
}

/// One line of the trend: a tier, or every tier (`tier: null`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierTrend {
    pub tier: Option<u32>,
    pub points: Vec<TrendPoint>,
}

/// Each service's marks, oldest first (one mark per service and day).
fn by_service<'a>(marks: &[&'a DayMark]) -> BTreeMap<(&'a str, &'a str), Vec<&'a DayMark>> {
    let mut out: BTreeMap<(&str, &str), Vec<&DayMark>> = BTreeMap::new();
    for r in marks {
        out.entry((r.org.as_str(), r.service.as_str())).or_default().push(r);
    }
    for list in out.values_mut() {
        list.sort_by_key(|r| r.day);
    }
    out
}

/// The share meeting their required level on each of the `days` days up to `today`, for every tier and in all:
/// on each day a service counts by its latest record of that day or of the [`STALE_AFTER_DAYS`] before, if that
/// record passes the tier and owner filters.
pub fn trend(records: &[&DayMark], filter: &Filter, today: NaiveDate, days: i64) -> Vec<TierTrend> {
    let first = today - TimeDelta::days(days.max(1) - 1);
    let dates: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= today).collect();
    let mut lines: BTreeMap<Option<u32>, Vec<TrendPoint>> = BTreeMap::new();
    let empty = |dates: &[NaiveDate]| dates.iter().map(|&day| TrendPoint { day, services: 0, meeting: 0 }).collect();
    lines.insert(None, empty(&dates));
    for list in by_service(records).values() {
        let mut next = 0; // the first record after the one in force
        for (i, day) in dates.iter().enumerate() {
            while next < list.len() && list[next].day <= *day {
                next += 1;
            }
            let Some(record) = next.checked_sub(1).map(|n| list[n]) else { continue };
            if *day - record.day >= TimeDelta::days(STALE_AFTER_DAYS)
                || !filter.keeps_on_any_day(record.tier, record.owner.as_deref())
            {
                continue;
            }
            for key in [None, Some(record.tier)] {
                let point = &mut lines.entry(key).or_insert_with(|| empty(&dates))[i];
                point.services += 1;
                point.meeting += usize::from(record.meets_required);
            }
        }
    }
    lines.into_iter().map(|(tier, points)| TierTrend { tier, points }).collect()
}

/// A rule whose status differs between two records (`null`: the rule was not in that one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    pub rule: String,
    pub from: Option<Status>,
    pub to: Option<Status>,
}

/// A service whose level moved within the week.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Move {
    pub org: String,
    pub service: String,
    /// Levels (`null` below the lowest).
    pub from: Option<String>,
    pub to: Option<String>,
    /// The day its current level was reached.
    pub when: NaiveDate,
    /// The day of the record it is compared with (its latest a week ago).
    pub since: NaiveDate,
    /// The rules whose status differs, once [`Move::compare`] has the two records.
    pub rules: Vec<RuleChange>,
}

impl Move {
    /// Fills in the rules that changed between `before` (the record of [`Move::since`]) and `now`.
    pub fn compare(&mut self, before: &ServiceDay, now: &ServiceDay) {
        self.rules = changes(before, now);
    }
}

/// The week's biggest drops and improvements, at most [`Movers::MAX`] each, biggest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Movers {
    pub drops: Vec<Move>,
    pub improvements: Vec<Move>,
}

impl Movers {
    pub const MAX: usize = 10;
}

/// For each of `latest`, its level now against its level a week before `today` (its latest mark on or before that
/// day); services without a mark that old are new, not movers. The rules that changed are filled in by the caller
/// ([`Move::compare`]) for the few moves shown.
pub fn movers(marks: &[&DayMark], latest: &[&ServiceDay], levels: &Levels, today: NaiveDate) -> Movers {
    let week_ago = today - TimeDelta::days(7);
    let history = by_service(marks);
    let mut drops = Vec::new();
    let mut improvements = Vec::new();
    for now in latest {
        let Some(list) = history.get(&(now.org.as_str(), now.service.as_str())) else { continue };
        let Some(before) = list.iter().rev().find(|r| r.day <= week_ago) else { continue };
        let (from, to) = (levels.rank(before.level.as_deref()), levels.rank(now.level.as_deref()));
        if from == to {
            continue;
        }
        // The last time the level became what it is now.
        let mut when = now.day;
        let mut previous = from;
        for r in list.iter().filter(|r| r.day > before.day && r.day <= now.day) {
            let rank = levels.rank(r.level.as_deref());
            if rank != previous && rank == to {
                when = r.day;
            }
            previous = rank;
        }
        let moved = Move {
            org: now.org.clone(),
            service: now.service.clone(),
            from: before.level.clone(),
            to: now.level.clone(),
            when,
            since: before.day,
            rules: Vec::new(),
        };
        if to < from { drops.push((from - to, moved)) } else { improvements.push((to - from, moved)) }
    }
    let top = |mut list: Vec<(usize, Move)>| {
        list.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.when.cmp(&a.1.when)).then(a.1.service.cmp(&b.1.service)));
        list.into_iter().take(Movers::MAX).map(|(_, m)| m).collect()
    };
    Movers { drops: top(drops), improvements: top(improvements) }
}

fn changes(before: &ServiceDay, now: &ServiceDay) -> Vec<RuleChange> {
    let ids: std::collections::BTreeSet<&String> = before.rules.keys().chain(now.rules.keys()).collect();
    ids.into_iter()
        .filter_map(|id| {
            let (from, to) = (before.rules.get(id).copied(), now.rules.get(id).copied());
            (from != to).then(|| RuleChange { rule: id.clone(), from, to })
        })
        .collect()
}
