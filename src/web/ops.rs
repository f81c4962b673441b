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
    pub failed: Vec<FailedDelivery>,
    /// Visible deliveries waiting to be retried after a failed attempt, the most recent failure first (at most 100),
    /// each with its `next_attempt_at`.
    pub retrying: Vec<FailedDelivery>,
    pub tools_down: Vec<ToolDown>,
    pub last_sweep: Option<LastSweep>,
}

/// The last sweep of every installation and where its repository jobs are.
#[derive(Clone, Debug, Serialize)]
pub struct LastSweep {
    /// As the sweep recorded it (`listed_at`, `repositories` and `skipped` are `null` while it lists).
    #[serde(flatten)]
    pub run: SweepRun,
    /// Repository jobs finished without failing, failed, and waiting or running.
    pub finished: u64,
    pub failed: u64,
    pub pending: u64,
    /// When the last repository job finished; `null` while the sweep runs.
    pub finished_at: Option<DateTime<Utc>>,
    /// `finished_at` − `started_at`.
    pub duration_seconds: Option<f64>,
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
            run,
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
    let orgs: Vec<String>;
    let scope = match visible {
        Visible::All => DeliveryScope::Everything,
        Visible::Orgs(visible) => {
            orgs = visible.iter().cloned().collect();
            DeliveryScope::Orgs(&orgs)
        }
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
        failed: failed.newest,
        retrying,
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
