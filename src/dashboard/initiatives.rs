//! Initiatives on the dashboard: where today's services stand with each of the policy's initiatives, from their day
//! records (the same judgement as `shipshape initiatives`: [`crate::initiatives::standing_by`]).

use super::catalog::InitiativeEntry;
use crate::initiatives::{Standing, standing_by};
use crate::store::ServiceDay;
use chrono::NaiveDate;
use serde::Serialize;

/// One initiative's progress over a set of services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InitiativeRow {
    pub id: String,
    pub title: String,
    pub deadline: NaiveDate,
    /// 0 on the deadline day, negative once it has passed.
    pub days_left: i64,
    /// The deadline has passed and a service is failing the initiative.
    pub overdue: bool,
    pub rules: Vec<String>,
    pub total: usize,
    pub done: usize,
    pub failing: usize,
    pub unknown: usize,
}

/// Where `record` stands with `initiative`.
pub fn standing(record: &ServiceDay, initiative: &InitiativeEntry) -> Standing {
    standing_by(&initiative.rules, |id| record.rules.get(id).map(|s| (*s, record.not_applicable.contains(id))))
}

/// The name of a standing in query parameters and JSON.
pub fn standing_name(standing: &Standing) -> &'static str {
    match standing {
        Standing::Done => "done",
        Standing::Failing(_) => "failing",
        Standing::Unknown(_) => "unknown",
    }
}

/// The progress of each initiative over `latest`, as of `today`, in policy order.
pub fn initiatives(latest: &[&ServiceDay], initiatives: &[InitiativeEntry], today: NaiveDate) -> Vec<InitiativeRow> {
    initiatives
        .iter()
        .map(|i| {
            let mut row = InitiativeRow {
                id: i.id.clone(),
                title: i.title.clone(),
                deadline: i.deadline,
                days_left: (i.deadline - today).num_days(),
                overdue: false,
                rules: i.rules.clone(),
                total: latest.len(),
                done: 0,
                failing: 0,
                unknown: 0,
            };
            for r in latest {
                match standing(r, i) {
                    Standing::Done => row.done += 1,
                    Standing::Failing(_) => row.failing += 1,
                    Standing::Unknown(_) => row.unknown += 1,
                }
            }
            row.overdue = row.days_left < 0 && row.failing > 0;
            row
        })
        .collect()
}
