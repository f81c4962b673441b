//! `GET /`: the organisation's readiness today and over 90 days, filtered by tier, owner and level.

use super::chart::{self, Series};
use super::query::{PageQuery, filter_params, href, segment};
use super::{Frame, Loaded, html, problem, viewer};
use crate::dashboard::{self, Filter, Levels, Move, TREND_DAYS, TierTrend};
use crate::store::ServiceDay;
use crate::web::WebState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{NaiveDate, TimeDelta};
use serde::Serialize;
use std::collections::BTreeSet;

/// How far ahead expiring exceptions are shown.
const EXPIRING_DAYS: i64 = 30;

#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    filters: Filters,
    services: usize,
    services_href: String,
    meeting: usize,
    meeting_href: String,
    not_meeting: usize,
    not_meeting_href: String,
    meeting_share: String,
    grid: GridView,
    trend: super::chart::Chart,
    legend: Vec<Legend>,
    trend_table: TrendTable,
    rules: Vec<RuleView>,
    initiatives: Vec<InitiativeView>,
    exceptions: Vec<ExceptionView>,
    drops: Vec<MoveView>,
    improvements: Vec<MoveView>,
}

#[derive(Serialize)]
pub(super) struct Filters {
    pub tiers: Vec<Choice>,
    pub owners: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub any: bool,
}

#[derive(Serialize)]
pub(super) struct Choice {
    pub value: String,
    pub selected: bool,
}

#[derive(Serialize)]
struct GridView {
    levels: Vec<String>,
    rows: Vec<GridRowView>,
}

#[derive(Serialize)]
struct GridRowView {
    tier: u32,
    required_level: String,
    cells: Vec<Cell>,
    total: Cell,
    meeting: Cell,
}

#[derive(Serialize)]
struct Cell {
    count: usize,
    href: String,
}

#[derive(Serialize)]
struct Legend {
    label: String,
    colour: &'static str,
}

#[derive(Serialize)]
struct TrendTable {
    columns: Vec<String>,
    rows: Vec<TrendRow>,
}

#[derive(Serialize)]
struct TrendRow {
    day: NaiveDate,
    cells: Vec<String>,
}

#[derive(Serialize)]
struct RuleView {
    id: String,
    title: String,
    href: String,
    rate: Option<String>,
    meter: f64,
    failing: Cell,
    passing: usize,
    unjudged: usize,
}

#[derive(Serialize)]
struct InitiativeView {
    id: String,
    title: String,
    deadline: NaiveDate,
    days_left: i64,
    /// Days since the deadline, once it has passed.
    days_over: Option<i64>,
    overdue: bool,
    total: usize,
    done: Cell,
    failing: Cell,
    unknown: Cell,
}

#[derive(Serialize)]
struct ExceptionView {
    service: String,
    service_href: String,
    rule: String,
    rule_href: String,
    expires: NaiveDate,
    days_left: i64,
    reason: String,
    file_url: Option<String>,
}

#[derive(Serialize)]
pub(super) struct MoveView {
    service: String,
    href: String,
    from: String,
    to: String,
    when: NaiveDate,
    rules: Vec<String>,
}

/// `GET /`.
pub async fn overview(State(state): State<WebState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    let viewer = match viewer(&state, &headers) {
        Ok(v) => v,
        Err(response) => return response,
    };
    let loaded = match Loaded::read(&state, &viewer.visible).await {
        Ok(l) => l,
        Err(response) => return response,
    };
    let filter = match q.filter() {
        Ok(f) => f,
        Err(why) => return problem(&viewer, loaded.today, StatusCode::BAD_REQUEST, &why),
    };
    let levels = loaded.levels();
    let latest = loaded.filtered(&filter);
    let today = loaded.today;
    let summary = dashboard::overview(&latest, &levels, today);
    let marks = loaded.marks();
    let trend = dashboard::trend(&marks, &filter, today, TREND_DAYS);
    let mut movers = dashboard::movers(&marks, &latest, &levels, today);
    if let Err(response) = compare(&state, &mut movers, &latest).await {
        return response;
    }
    let keep = filter_params(&filter);
    let list = |extra: &[(&str, Option<String>)]| {
        let mut params = keep.clone();
        for (k, v) in extra {
            params.retain(|(key, _)| key != k);
            params.push((*k, v.clone()));
        }
        href("/services", &params)
    };
    let yes = |s: &str| Some(s.to_string());
    let chart = trend_chart(&trend);
    let page = Page {
        frame: viewer.frame("Production readiness", today),
        filters: filters(&loaded, &levels, &filter),
        services: summary.services,
        services_href: list(&[]),
        meeting: summary.meeting,
        meeting_href: list(&[("meets", yes("true"))]),
        not_meeting: summary.services - summary.meeting,
        not_meeting_href: list(&[("meets", yes("false"))]),
        meeting_share: share(summary.meeting, summary.services),
        grid: GridView {
            levels: summary.grid.levels.clone(),
            rows: summary
                .grid
                .tiers
                .iter()
                .map(|row| GridRowView {
                    tier: row.tier,
                    required_level: row.required_level.clone(),
                    cells: row
                        .counts
                        .iter()
                        .zip(&summary.grid.levels)
                        .map(|(count, level)| Cell {
                            count: *count,
                            href: list(&[("tier", Some(row.tier.to_string())), ("level", Some(level.clone()))]),
                        })
                        .collect(),
                    total: Cell { count: row.total, href: list(&[("tier", Some(row.tier.to_string()))]) },
                    meeting: Cell {
                        count: row.meeting,
                        href: list(&[("tier", Some(row.tier.to_string())), ("meets", yes("true"))]),
                    },
                })
                .collect(),
        },
        legend: chart.lines.iter().map(|l| Legend { label: l.label.clone(), colour: l.colour }).collect(),
        trend_table: trend_table(&trend),
        trend: chart,
        rules: summary
            .rules
            .iter()
            .map(|r| RuleView {
                id: r.rule.clone(),
                title: loaded.rule_title(&r.rule),
                href: href(&format!("/rules/{}", segment(&r.rule)), &keep),
                rate: r.rate.map(|v| format!("{:.0}%", v * 100.0)),
                meter: r.rate.unwrap_or(0.0),
                failing: Cell { count: r.failing, href: href(&format!("/rules/{}", segment(&r.rule)), &keep) },
                passing: r.passing,
                unjudged: r.unjudged,
            })
            .collect(),
        initiatives: initiatives(&loaded, &latest, today, &list),
        exceptions: expiring(&loaded, &latest, today),
        drops: movers.drops.iter().map(|m| move_view(m, &loaded)).collect(),
        improvements: movers.improvements.iter().map(|m| move_view(m, &loaded)).collect(),
    };
    html("overview.html", &page)
}

fn share(part: usize, whole: usize) -> String {
    if whole == 0 { "–".to_string() } else { format!("{:.0}%", part as f64 * 100.0 / whole as f64) }
}

pub(super) fn filters(loaded: &Loaded, levels: &Levels, filter: &Filter) -> Filters {
    let tiers: BTreeSet<u32> = loaded.latest.iter().map(|r| r.tier).collect();
    let owners: BTreeSet<&str> = loaded.latest.iter().filter_map(|r| r.owner.as_deref()).collect();
    Filters {
        tiers: tiers.into_iter().map(|t| Choice { value: t.to_string(), selected: filter.tier == Some(t) }).collect(),
        owners: owners
            .into_iter()
            .map(|o| Choice { value: o.to_string(), selected: filter.owner.as_deref() == Some(o) })
            .collect(),
        levels: levels
            .names()
            .into_iter()
            .map(|l| Choice { selected: filter.level.as_deref() == Some(l.as_str()), value: l })
            .collect(),
        any: *filter != Filter::default(),
    }
}

fn line_label(t: &TierTrend) -> String {
    t.tier.map_or_else(|| "all tiers".to_string(), |n| format!("tier {n}"))
}

fn trend_chart(trend: &[TierTrend]) -> super::chart::Chart {
    let days: Vec<NaiveDate> = trend.first().map(|t| t.points.iter().map(|p| p.day).collect()).unwrap_or_default();
    let series = trend
        .iter()
        .map(|t| Series {
            label: line_label(t),
            values: t.points.iter().map(|p| (p.services > 0).then(|| p.meeting as f64 / p.services as f64)).collect(),
        })
        .collect();
    let title = format!("Share of services meeting their required level, per day over the last {} days", days.len());
    chart::chart(title, &days, series, 1.0, chart::share_ticks())
}

fn trend_table(trend: &[TierTrend]) -> TrendTable {
    let columns = trend.iter().map(line_label).collect();
    let days = trend.first().map_or(0, |t| t.points.len());
    let rows = (0..days)
        .rev()
        .map(|i| TrendRow {
            day: trend[0].points[i].day,
            cells: trend
                .iter()
                .map(|t| {
                    let p = &t.points[i];
                    if p.services == 0 { "–".to_string() } else { format!("{} of {}", p.meeting, p.services) }
                })
                .collect(),
        })
        .collect();
    TrendTable { columns, rows }
}

/// Reads the record each shown move is compared with, for the rules that changed.
async fn compare(state: &WebState, movers: &mut dashboard::Movers, latest: &[&ServiceDay]) -> Result<(), Response> {
    for moved in movers.drops.iter_mut().chain(&mut movers.improvements) {
        let Some(now) = latest.iter().find(|r| r.org == moved.org && r.service == moved.service) else { continue };
        let days =
            state.store.service_days(&moved.org, &moved.service, moved.since).await.map_err(super::unavailable)?;
        if let Some(before) = days.iter().find(|r| r.day == moved.since) {
            moved.compare(before, now);
        }
    }
    Ok(())
}

/// Builds the link to the service list narrowed by the given query parameters.
type ListHref<'a> = dyn Fn(&[(&str, Option<String>)]) -> String + 'a;

fn initiatives(loaded: &Loaded, latest: &[&ServiceDay], today: NaiveDate, list: &ListHref) -> Vec<InitiativeView> {
    let Some(catalog) = &loaded.catalog else { return vec![] };
    dashboard::initiatives(latest, &catalog.initiatives, today)
        .into_iter()
        .map(|i| {
            let at = |standing: &str| list(&[("initiative", Some(i.id.clone())), ("standing", Some(standing.into()))]);
            InitiativeView {
                done: Cell { count: i.done, href: at("done") },
                failing: Cell { count: i.failing, href: at("failing") },
                unknown: Cell { count: i.unknown, href: at("unknown") },
                id: i.id,
                title: i.title,
                deadline: i.deadline,
                days_left: i.days_left,
                days_over: (i.days_left < 0).then_some(-i.days_left),
                overdue: i.overdue,
                total: i.total,
            }
        })
        .collect()
}

/// The visible services' exceptions that end within [`EXPIRING_DAYS`] days, soonest first.
fn expiring(loaded: &Loaded, latest: &[&ServiceDay], today: NaiveDate) -> Vec<ExceptionView> {
    let Some(catalog) = &loaded.catalog else { return vec![] };
    let shown: BTreeSet<&str> = latest.iter().map(|r| r.service.as_str()).collect();
    let until = today + TimeDelta::days(EXPIRING_DAYS);
    let mut out: Vec<ExceptionView> = catalog
        .exceptions
        .iter()
        .filter(|e| shown.contains(e.service.as_str()) && e.expires >= today && e.expires <= until)
        .map(|e| ExceptionView {
            service: e.service.clone(),
            service_href: format!("/services/{}", segment(&e.service)),
            rule: e.rule.clone(),
            rule_href: format!("/rules/{}", segment(&e.rule)),
            expires: e.expires,
            days_left: (e.expires - today).num_days(),
            reason: e.reason.clone(),
            file_url: catalog.file_url(&e.file),
        })
        .collect();
    out.sort_by(|a, b| (a.expires, &a.service, &a.rule).cmp(&(b.expires, &b.service, &b.rule)));
    out
}

pub(super) fn move_view(m: &Move, loaded: &Loaded) -> MoveView {
    let level = |l: &Option<String>| l.clone().unwrap_or_else(|| dashboard::NO_LEVEL.to_string());
    let status = |s: Option<crate::engine::Status>| s.map_or("absent", |s| s.as_str());
    MoveView {
        service: m.service.clone(),
        href: format!("/services/{}", segment(&m.service)),
        from: level(&m.from),
        to: level(&m.to),
        when: m.when,
        rules: m
            .rules
            .iter()
            .map(|c| format!("{} ({}): {} → {}", c.rule, loaded.rule_title(&c.rule), status(c.from), status(c.to)))
            .collect(),
    }
}
