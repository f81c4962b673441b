//! `GET /ops`: the Ops view ([`crate::web::ops`]) as a page, every time in UTC (ISO 8601) and every state in words.

use super::{Frame, Viewer, html, unavailable, viewer};
use crate::store::FailedDelivery;
use crate::web::WebState;
use crate::web::ops::{LastSweep, OpsReport, report};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;

#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    generated_at: String,
    /// The organisations whose deliveries are shown.
    orgs: String,
    queue_depth: i64,
    failed_since: String,
    failed_count: u64,
    /// `failed` holds fewer than `failed_count`: it holds `failed_shown`.
    failed_cut: bool,
    failed_shown: usize,
    failed: Vec<Row>,
    retrying_count: usize,
    retrying: Vec<Row>,
    tools_down_count: usize,
    tools_down: Vec<ToolRow>,
    last_sweep: Option<SweepView>,
}

#[derive(Serialize)]
struct Row {
    delivery_id: String,
    event: String,
    action: Option<String>,
    repository: Option<String>,
    attempts: u32,
    reason: String,
    received_at: String,
    failed_at: Option<String>,
    next_attempt_at: Option<String>,
}

#[derive(Serialize)]
struct ToolRow {
    tool: &'static str,
    host: String,
    state: &'static str,
    /// The state in words.
    state_text: &'static str,
    since: String,
    retry_at: String,
    last_error: String,
}

#[derive(Serialize)]
struct SweepView {
    id: String,
    reason: String,
    state: &'static str,
    started_at: String,
    listed_at: Option<String>,
    repositories: Option<u64>,
    skipped: Option<u64>,
    finished: u64,
    failed: u64,
    pending: u64,
    finished_at: Option<String>,
    duration: Option<String>,
}

/// A time as the page shows it: UTC, ISO 8601, to the second.
fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `seconds` in words: `0.4 s`, `44 s`, `3 min 5 s`, `2 h 10 min`.
fn duration_text(seconds: f64) -> String {
    if seconds < 10.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    match whole {
        0..60 => format!("{whole} s"),
        60..3600 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, whole % 3600 / 60),
    }
}

fn row(d: FailedDelivery) -> Row {
    Row {
        delivery_id: d.delivery_id,
        event: d.event,
        action: d.action,
        repository: d.repository,
        attempts: d.attempts,
        reason: d.reason.unwrap_or_else(|| "no reason recorded".into()),
        received_at: iso(d.received_at),
        failed_at: d.failed_at.map(iso),
        next_attempt_at: d.next_attempt_at.map(iso),
    }
}

fn sweep_view(s: LastSweep) -> SweepView {
    let run = s.run;
    let state = match (&run.listed_at, &s.finished_at) {
        (_, Some(_)) => "finished",
        (None, None) => "listing repositories",
        (Some(_), None) => "running",
    };
    SweepView {
        id: run.id,
        reason: run.reason,
        state,
        started_at: iso(run.started_at),
        listed_at: run.listed_at.map(iso),
        repositories: run.repositories,
        skipped: run.skipped,
        finished: s.finished,
        failed: s.failed,
        pending: s.pending,
        finished_at: s.finished_at.map(iso),
        duration: s.duration_seconds.map(duration_text),
    }
}

fn page<'a>(viewer: &'a Viewer, report: OpsReport) -> Page<'a> {
    let tools_down: Vec<ToolRow> = report
        .tools_down
        .into_iter()
        .map(|t| ToolRow {
            tool: t.tool,
            host: t.host,
            state: t.state.as_str(),
            state_text: match t.state {
                crate::providers::BreakerState::Open => "down: not asked until the retry time",
                crate::providers::BreakerState::HalfOpen => "down: the next request tries it once more",
            },
            since: iso(t.since),
            retry_at: iso(t.retry_at),
            last_error: t.last_error,
        })
        .collect();
    let orgs: Vec<&str> = viewer.session.orgs.iter().map(String::as_str).collect();
    Page {
        frame: viewer.frame("Operations", report.generated_at.date_naive()),
        generated_at: iso(report.generated_at),
        orgs: orgs.join(", "),
        queue_depth: report.queue_depth,
        failed_since: iso(report.failed_since),
        failed_count: report.failed_count,
        failed_cut: (report.failed.len() as u64) < report.failed_count,
        failed_shown: report.failed.len(),
        failed: report.failed.into_iter().map(row).collect(),
        retrying_count: report.retrying.len(),
        retrying: report.retrying.into_iter().map(row).collect(),
        tools_down_count: tools_down.len(),
        tools_down,
        last_sweep: report.last_sweep.map(sweep_view),
    }
}

/// `GET /ops`.
pub async fn ops(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let viewer = match viewer(&state, &headers) {
        Ok(v) => v,
        Err(response) => return response,
    };
    match report(&state, &viewer.visible).await {
        Ok(report) => html("ops.html", &page(&viewer, report)),
        Err(e) => unavailable(e),
    }
}
