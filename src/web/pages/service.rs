//! `GET /services/{name}`: one service's scorecard (as in the check run), its level over 90 days, its tracking
//! issue, catalog entry and exceptions (approved ones and pull requests under review), and its latest evaluations.

use super::chart::{self, Series};
use super::query::segment;
use super::{Frame, Loaded, html, problem, unavailable, viewer};
use crate::dashboard::catalog::{ExceptionRequest, requests_key};
use crate::dashboard::{self, TREND_DAYS};
use crate::engine::Scorecard;
use crate::store::{ServiceDay, ns};
use crate::web::WebState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

/// Evaluations listed.
const RECENT: u32 = 10;

#[derive(Deserialize)]
pub struct ServiceQuery {
    pub org: Option<String>,
}

#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    service: String,
    org: String,
    repository: String,
    repository_url: Option<String>,
    owner: Option<String>,
    owner_href: Option<String>,
    tier: u32,
    level: String,
    required_level: String,
    meets_required: bool,
    unverified: u32,
    commit: String,
    evaluated_at: String,
    tracking_url: Option<String>,
    entry_url: Option<String>,
    rules: Vec<RuleRow>,
    /// The full results are no longer kept: statuses only.
    statuses_only: bool,
    history: chart::Chart,
    history_table: Vec<HistoryRow>,
    exceptions: Vec<ExceptionRow>,
    requests: Vec<ExceptionRequest>,
    evaluations: Vec<EvaluationRow>,
}

#[derive(Serialize)]
struct RuleRow {
    id: String,
    href: String,
    title: String,
    level: String,
    status: &'static str,
    message: String,
    required: bool,
}

#[derive(Serialize)]
struct HistoryRow {
    day: NaiveDate,
    level: String,
    meets_required: bool,
}

#[derive(Serialize)]
struct ExceptionRow {
    rule: String,
    reason: String,
    expires: NaiveDate,
    active: bool,
    file_url: Option<String>,
    requested_in: Option<String>,
}

#[derive(Serialize)]
struct EvaluationRow {
    git_ref: String,
    commit: String,
    level: String,
    meets_required: bool,
    at: String,
}

/// `GET /services/{name}` (`?org=` when several organisations have a service of that name).
pub async fn service(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ServiceQuery>,
) -> Response {
    let viewer = match viewer(&state, &headers) {
        Ok(v) => v,
        Err(response) => return response,
    };
    let loaded = match Loaded::read(&state, &viewer.visible).await {
        Ok(l) => l,
        Err(response) => return response,
    };
    let today = loaded.today;
    let found: Vec<&ServiceDay> = loaded
        .latest
        .iter()
        .filter(|r| r.service == name && q.org.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(&r.org)))
        .collect();
    let record = match found.as_slice() {
        [one] => *one,
        [] => return problem(&viewer, today, StatusCode::NOT_FOUND, &format!("No service `{name}` you can see.")),
        several => {
            let orgs: Vec<&str> = several.iter().map(|r| r.org.as_str()).collect();
            let why = format!(
                "Several organisations have a service `{name}` ({}): add ?org= to the address.",
                orgs.join(", ")
            );
            return problem(&viewer, today, StatusCode::BAD_REQUEST, &why);
        }
    };
    match page(&state, &loaded, record, viewer.frame(format!("Service {name}"), today)).await {
        Ok(page) => html("service.html", &page),
        Err(response) => response,
    }
}

async fn page<'a>(state: &WebState, loaded: &Loaded, r: &ServiceDay, frame: Frame<'a>) -> Result<Page<'a>, Response> {
    let store = &state.store;
    let card: Option<Scorecard> = store
        .kv_get(ns::SCORECARD, &format!("{}@{}", r.repository, r.commit))
        .await
        .map_err(unavailable)?
        .and_then(|e| serde_json::from_slice(&e.value).ok());
    #[derive(Deserialize)]
    struct Tracking {
        html_url: Option<String>,
    }
    let tracking: Option<Tracking> = store
        .kv_get(ns::TRACKING, &r.repository)
        .await
        .map_err(unavailable)?
        .and_then(|e| serde_json::from_slice(&e.value).ok());
    let requests: Vec<ExceptionRequest> = store
        .kv_get(ns::WEB, &requests_key(&r.repository))
        .await
        .map_err(unavailable)?
        .and_then(|e| serde_json::from_slice(&e.value).ok())
        .unwrap_or_default();
    let since = loaded.today - TimeDelta::days(TREND_DAYS - 1);
    let days = store.service_days(&r.org, &r.service, since).await.map_err(unavailable)?;
    let evaluations = store.recent_evaluations(&r.repository, RECENT).await.map_err(unavailable)?;
    let catalog = loaded.catalog.as_ref();
    let level = |l: &Option<String>| l.clone().unwrap_or_else(|| dashboard::NO_LEVEL.to_string());
    let web = state.sign_in.as_ref().map(|s| s.config.web_url.trim_end_matches('/').to_string());
    Ok(Page {
        frame,
        service: r.service.clone(),
        org: r.org.clone(),
        repository: r.repository.clone(),
        repository_url: web.map(|w| format!("{w}/{}", r.repository)),
        owner: r.owner.clone(),
        owner_href: r.owner.as_ref().map(|o| format!("/teams/{}", segment(o))),
        tier: r.tier,
        level: level(&r.level),
        required_level: r.required_level.clone(),
        meets_required: r.meets_required,
        unverified: r.unverified,
        commit: r.commit.chars().take(12).collect(),
        evaluated_at: r.evaluated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        tracking_url: tracking.and_then(|t| t.html_url),
        entry_url: catalog.and_then(|c| c.services.get(&r.service)).and_then(|e| catalog?.file_url(&e.file)),
        statuses_only: card.is_none(),
        rules: rules(r, card.as_ref(), loaded),
        history: history_chart(&days, loaded, since),
        history_table: days
            .iter()
            .rev()
            .map(|d| HistoryRow { day: d.day, level: level(&d.level), meets_required: d.meets_required })
            .collect(),
        exceptions: catalog
            .iter()
            .flat_map(|c| c.exceptions.iter().filter(|e| e.service == r.service).map(move |e| (c, e)))
            .map(|(c, e)| ExceptionRow {
                rule: e.rule.clone(),
                reason: e.reason.clone(),
                expires: e.expires,
                active: e.expires >= loaded.today,
                file_url: c.file_url(&e.file),
                requested_in: e.requested_in.clone(),
            })
            .collect(),
        requests,
        evaluations: evaluations
            .into_iter()
            .map(|e| EvaluationRow {
                git_ref: e.git_ref,
                commit: e.commit_sha.chars().take(12).collect(),
                level: level(&e.level),
                meets_required: e.meets_required,
                at: e.evaluated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
            .collect(),
    })
}

/// The rules of the kept scorecard (as the check run shows them), else the day record's statuses.
fn rules(r: &ServiceDay, card: Option<&Scorecard>, loaded: &Loaded) -> Vec<RuleRow> {
    let href = |id: &str| format!("/rules/{}", segment(id));
    match card {
        Some(card) => card
            .rules
            .iter()
            .map(|x| RuleRow {
                href: href(&x.id),
                id: x.id.clone(),
                title: x.title.clone(),
                level: x.level.clone(),
                status: x.status.as_str(),
                message: x.message.clone(),
                required: x.required,
            })
            .collect(),
        None => r
            .rules
            .iter()
            .map(|(id, status)| {
                let known = loaded.catalog.as_ref().and_then(|c| c.rules.get(id));
                RuleRow {
                    href: href(id),
                    id: id.clone(),
                    title: loaded.rule_title(id),
                    level: known.map(|k| k.level.clone()).unwrap_or_default(),
                    status: status.as_str(),
                    message: String::new(),
                    required: false,
                }
            })
            .collect(),
    }
}

/// The level reached on each of the last 90 days (a gap where there is no record).
fn history_chart(days: &[ServiceDay], loaded: &Loaded, since: NaiveDate) -> chart::Chart {
    let levels = loaded.levels();
    let dates: Vec<NaiveDate> = since.iter_days().take_while(|d| *d <= loaded.today).collect();
    let values = dates
        .iter()
        .map(|d| days.iter().find(|r| r.day == *d).map(|r| levels.rank(r.level.as_deref()) as f64))
        .collect();
    let names = levels.names();
    let ticks = names.iter().enumerate().map(|(i, n)| (i as f64, n.clone())).collect();
    let title = format!("Level reached per day over the last {} days", dates.len());
    let top = (names.len().max(2) - 1) as f64;
    chart::chart(title, &dates, vec![Series { label: "level".into(), values }], top, ticks)
}
