//! The JSON API (`/api/v1/…`) over the service history, and the service list as CSV. Field names are a public
//! interface, documented in README.

use super::WebState;
use super::access::{Refusal, Visible};
use crate::dashboard::{Filter, ServiceRow};
use crate::engine::Status;
use crate::store::{KEEP_DAYS, ServiceDay, ns};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// Longest service name looked up.
const MAX_NAME: usize = 253;
/// Days of history answered unless `days` says otherwise.
const DEFAULT_HISTORY_DAYS: i64 = 90;

/// `?tier=&owner=&level=&org=` of the list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub tier: Option<u32>,
    pub owner: Option<String>,
    pub level: Option<String>,
    pub org: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    pub org: Option<String>,
    pub days: Option<i64>,
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut response = (status, axum::Json(json!({"message": message.into()}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

pub(super) fn refused(refusal: Refusal) -> Response {
    let status = match refusal {
        Refusal::NoCredentials | Refusal::BadCredentials => StatusCode::UNAUTHORIZED,
        Refusal::GitHubUnavailable(_) => StatusCode::BAD_GATEWAY,
    };
    error(status, refusal.to_string())
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "history read failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable")
}

/// Each visible service's latest record, filtered, by name then organisation; only the services of the current
/// catalog once the App has published it.
pub(super) async fn latest_rows(
    state: &WebState,
    visible: &Visible,
    org: Option<&str>,
    filter: &Filter,
) -> Result<Vec<ServiceDay>, Response> {
    let today = state.clock.now().date_naive();
    let wanted = |o: &str| visible.sees(o) && org.is_none_or(|w| w.eq_ignore_ascii_case(o));
    let histories = state.history.histories(today, wanted).await.map_err(unavailable)?;
    let catalog = super::pages::current_catalog(state).await?;
    Ok(super::pages::current_latest(&histories, catalog.as_ref(), filter))
}

fn filter_of(q: &ListQuery) -> Filter {
    Filter { tier: q.tier, owner: q.owner.clone(), level: q.level.clone() }
}

/// `GET /api/v1/services`: `{"services": [ServiceRow…]}`; CSV with `Accept: text/csv`.
pub async fn list(State(state): State<WebState>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")));
    respond_list(state, headers, q, wants_csv).await
}

/// `GET /api/v1/services.csv`: the list as CSV.
pub async fn list_csv(State(state): State<WebState>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    respond_list(state, headers, q, true).await
}

async fn respond_list(state: WebState, headers: HeaderMap, q: ListQuery, csv: bool) -> Response {
    let visible = match state.viewers.visible(&headers).await {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let rows = match latest_rows(&state, &visible, q.org.as_deref(), &filter_of(&q)).await {
        Ok(rows) => rows,
        Err(response) => return response,
    };
    let rows: Vec<ServiceRow> = rows.iter().map(ServiceRow::from_record).collect();
    if !csv {
        return axum::Json(json!({"services": rows})).into_response();
    }
    match to_csv(&rows) {
        Ok(body) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot write CSV: {e}")),
    }
}

/// The CSV of the list: the JSON field names as the header; `failing` joined by spaces; empty for `null`.
pub fn to_csv(rows: &[ServiceRow]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "org",
        "service",
        "repository",
        "owner",
        "tier",
        "level",
        "required_level",
        "meets_required",
        "unverified",
        "failing",
        "commit",
        "day",
        "evaluated_at",
    ])?;
    for r in rows {
        out.write_record([
            r.org.as_str(),
            &r.service,
            &r.repository,
            r.owner.as_deref().unwrap_or(""),
            &r.tier.to_string(),
            r.level.as_deref().unwrap_or(""),
            &r.required_level,
            if r.meets_required { "true" } else { "false" },
            &r.unverified.to_string(),
            &r.failing.join(" "),
            &r.commit,
            &r.day.to_string(),
            &r.evaluated_at.to_rfc3339(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The one visible service named `name` (in `org` when given): 404 when none, 400 when several organisations
/// have one.
pub(super) async fn find(
    state: &WebState,
    visible: &Visible,
    name: &str,
    org: Option<&str>,
) -> Result<ServiceDay, Response> {
    if name.len() > MAX_NAME {
        return Err(error(StatusCode::NOT_FOUND, "no such service"));
    }
    let mut found: Vec<ServiceDay> =
        latest_rows(state, visible, org, &Filter::default()).await?.into_iter().filter(|r| r.service == name).collect();
    match found.len() {
        0 => Err(error(StatusCode::NOT_FOUND, format!("no service `{name}` you can see"))),
        1 => Ok(found.remove(0)),
        _ => {
            let orgs: Vec<&str> = found.iter().map(|r| r.org.as_str()).collect();
            Err(error(
                StatusCode::BAD_REQUEST,
                format!("several organisations have a service `{name}` ({}): add `?org=`", orgs.join(", ")),
            ))
        }
    }
}

/// [`find`] for the caller who sent `headers` (401 when they may see nothing).
async fn visible_service(
    state: &WebState,
    headers: &HeaderMap,
    name: &str,
    org: Option<&str>,
) -> Result<ServiceDay, Response> {
    let visible = state.viewers.visible(headers).await.map_err(refused)?;
    find(state, &visible, name, org).await
}

/// `GET /api/v1/services/{name}`: the list's row, the status of every rule, and the full scorecard of that
/// evaluation when it is still kept (30 days), else `null`.
pub async fn one(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<OrgQuery>,
) -> Response {
    let record = match visible_service(&state, &headers, &name, q.org.as_deref()).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let key = format!("{}@{}", record.repository, record.commit);
    let scorecard = match state.store.kv_get(ns::SCORECARD, &key).await {
        Ok(Some(entry)) => serde_json::from_slice::<serde_json::Value>(&entry.value).ok(),
        Ok(None) => None,
        Err(e) => return unavailable(e),
    };
    axum::Json(json!({
        "service": ServiceRow::from_record(&record),
        "rules": record.rules,
        "scorecard": scorecard,
    }))
    .into_response()
}

/// One day of a service's history.
#[derive(Debug, Serialize)]
pub struct HistoryDay {
    pub day: chrono::NaiveDate,
    pub tier: u32,
    pub level: Option<String>,
    pub required_level: String,
    pub meets_required: bool,
    pub unverified: u32,
    pub commit: String,
    pub rules: BTreeMap<String, Status>,
}

/// `GET /api/v1/services/{name}/history?days=N` (1 to 400, default 90): `{org, service, days: [HistoryDay…]}`,
/// oldest first; a day without an evaluation has no entry.
pub async fn history(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<OrgQuery>,
) -> Response {
    let record = match visible_service(&state, &headers, &name, q.org.as_deref()).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let days = q.days.unwrap_or(DEFAULT_HISTORY_DAYS);
    if !(1..=KEEP_DAYS).contains(&days) {
        return error(StatusCode::BAD_REQUEST, format!("`days` must be between 1 and {KEEP_DAYS}"));
    }
    let since = state.clock.now().date_naive() - chrono::TimeDelta::days(days - 1);
    let records = match state.store.service_days(&record.org, &record.service, since).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let days: Vec<HistoryDay> = records
        .into_iter()
        .map(|r| HistoryDay {
            day: r.day,
            tier: r.tier,
            level: r.level,
            required_level: r.required_level,
            meets_required: r.meets_required,
            unverified: r.unverified,
            commit: r.commit,
            rules: r.rules,
        })
        .collect();
    axum::Json(json!({"org": record.org, "service": record.service, "days": days})).into_response()
}
