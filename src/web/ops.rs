//! The Ops view's data, what an operator looks at first: the queue's depth, deliveries that failed in the last 24
//! hours and those waiting to be retried (each with its reason), the linked tools the circuit breaker left alone,
//! and the last sweep. `GET /api/v1/ops` answers it as JSON (field names are a public interface); the page `GET
//! /ops` ([`super::pages::ops`]) draws the same report.
//!
//! Deliveries are shown for the caller's organisations only (their repository's owner); deliveries without a
//! repository (installation events, sweep jobs) only to the operator's token. The queue depth, the tools down and the
//! last sweep hold no repository names and are shown to every caller.

use super::WebState;
use super::access::Visible;
use crate::providers::ToolDown;
use crate::store::{DeliveryScope, FailedDelivery, StoreError, SweepProgress, SweepRun};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// How far back failed deliveries are shown.
pub const FAILED_WINDOW: TimeDelta = TimeDelta::hours(24);
/// Most deliveries of each list.
pub const MAX_LISTED: u32 = 100;

/// `GET /api/v1/ops`.
#[derive(Clone, Debug, Serialize)]
pub struct OpsReport {
    pub generated_at: DateTime<Utc>,
    /// Deliveries waiting or running, of every organisation (a count).
    pub queue_depth: i64,
    /// The start of the window of `failed`: `generated_at` − 24 hours.
    pub failed_since: DateTime<Utc>,
    /// How many visible deliveries failed for good in the window (`failed` lists at most 100).
    pub failed_count: u64,
    /// The newest of them first.
    pub failed: Vec<Failed>,
    /// Visible deliveries waiting to be retried after a failed attempt, the most recent failure first (at most 100).
    pub retrying: Vec<Retrying>,
    pub tools_down: Vec<ToolDown>,
    pub last_sweep: Option<LastSweep>,
}

/// A delivery whose last attempt failed.
#[derive(Clone, Debug, Serialize)]
pub struct Failed {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub repository: Option<String>,
    pub attempts: u32,
    pub reason: Option<String>,
    pub received_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// A delivery waiting to be retried.
#[derive(Clone, Debug, Serialize)]
pub struct Retrying {
    #[serde(flatten)]
    pub delivery: Failed,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The last sweep of every installation and where its repository jobs are.
#[derive(Clone, Debug, Serialize)]
pub struct LastSweep {
    pub id: String,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    /// When every repository job was queued; `null` while the repositories are being listed.
    pub listed_at: Option<DateTime<Utc>>,
    /// Repository jobs queued.
    pub repositories: Option<u64>,
    /// Repositories left out (archived, forks, issues disabled).
    pub skipped: Option<u64>,
    /// Repository jobs finished without failing, failed, and waiting or running.
    pub finished: u64,
    pub failed: u64,
    pub pending: u64,
    /// When the last repository job finished; `null` while the sweep runs.
    pub finished_at: Option<DateTime<Utc>>,
    /// `finished_at` − `started_at`.
    pub duration_seconds: Option<f64>,
}

impl From<FailedDelivery> for Failed {
    fn from(d: FailedDelivery) -> Self {
        Failed {
            delivery_id: d.delivery_id,
            event: d.event,
            action: d.action,
            repository: d.repository,
            attempts: d.attempts,
            reason: d.reason,
            received_at: d.received_at,
            failed_at: d.failed_at,
        }
    }
}

impl LastSweep {
    /// The sweep as recorded, with its jobs' progress: finished once it was listed and no job is pending.
    pub fn new(run: SweepRun, progress: SweepProgress) -> LastSweep {
        let finished_at = match (run.listed_at, progress.pending) {
            (Some(listed), 0) => Some(progress.last_finished_at.map_or(listed, |last| last.max(listed))),
            _ => None,
        };
        let duration_seconds = finished_at.map(|end| (end - run.started_at).num_milliseconds() as f64 / 1000.0);
        LastSweep {
            id: run.id,
            reason: run.reason,
            started_at: run.started_at,
            listed_at: run.listed_at,
            repositories: run.repositories,
            skipped: run.skipped,
            finished: progress.finished,
            failed: progress.failed,
            pending: progress.pending,
            finished_at,
            duration_seconds,
        }
    }
}

/// The report for a caller who sees `visible`, now by the state's clock.
pub async fn report(state: &WebState, visible: &Visible) -> Result<OpsReport, StoreError> {
    let now = state.clock.now();
    let orgs: Vec<String> = match visible {
        Visible::All => Vec::new(),
        Visible::Orgs(orgs) => orgs.iter().cloned().collect(),
    };
    let scope = match visible {
        Visible::All => DeliveryScope::Everything,
        Visible::Orgs(_) => DeliveryScope::Orgs(&orgs),
    };
    let failed_since = now - FAILED_WINDOW;
    let failed = state.store.failed_since(scope, failed_since, MAX_LISTED).await?;
    let retrying = state.store.retrying(scope, MAX_LISTED).await?;
    let last_sweep = match state.store.last_sweep().await? {
        Some(run) => {
            let progress = state.store.sweep_progress(&run.id).await?;
            Some(LastSweep::new(run, progress))
        }
        None => None,
    };
    Ok(OpsReport {
        generated_at: now,
        queue_depth: state.store.queue_depth().await?,
        failed_since,
        failed_count: failed.count,
        failed: failed.newest.into_iter().map(Failed::from).collect(),
        retrying: retrying
            .into_iter()
            .map(|d| {
                let next_attempt_at = d.next_attempt_at;
                Retrying { delivery: d.into(), next_attempt_at }
            })
            .collect(),
        tools_down: state.breaker.down(),
        last_sweep,
    })
}

/// `GET /api/v1/ops`: [`OpsReport`] for the caller (401 without credentials).
pub async fn api(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let visible = match state.viewers.visible(&headers).await {
        Ok(v) => v,
        Err(r) => return super::api::refused(r),
    };
    match report(&state, &visible).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => super::api::unavailable(e),
    }
}
