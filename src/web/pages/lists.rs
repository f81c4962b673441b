//! The lists behind the dashboard's numbers: `GET /services` (filtered and narrowed by the query), `GET /rules/{id}`
//! (the services failing a rule) and `GET /teams/{team}` (a team's services and where they stand with each
//! initiative).

use super::overview::{Filters, filters};
use super::query::{PageQuery, filter_params, href, segment};
use super::{Frame, Loaded, Viewer, html, problem, viewer};
use crate::dashboard::{self, Filter, initiatives::standing, initiatives::standing_name};
use crate::engine::Status;
use crate::store::ServiceDay;
use crate::web::WebState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

/// Longest rule id or team name looked up.
const MAX_NAME: usize = 200;

#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    action: String,
    filters: Filters,
    narrowed: Vec<String>,
    row_count: usize,
    rows: Vec<Row>,
    rule: Option<RuleHead>,
    team: Option<TeamHead>,
}

#[derive(Serialize)]
struct Row {
    service: String,
    href: String,
    org: String,
    repository: String,
    owner: Option<String>,
    owner_href: Option<String>,
    tier: u32,
    level: String,
    required_level: String,
    meets_required: bool,
    failing: Vec<Link>,
    day: chrono::NaiveDate,
}

#[derive(Serialize)]
struct Link {
    text: String,
    href: String,
}

#[derive(Serialize)]
struct RuleHead {
    id: String,
    title: String,
    level: Option<String>,
    description: Option<String>,
    status: String,
    /// Services by this rule's status, each linking to its list.
    by_status: Vec<Link>,
}

#[derive(Serialize)]
struct TeamHead {
    name: String,
    initiatives: Vec<TeamInitiative>,
}

#[derive(Serialize)]
struct TeamInitiative {
    title: String,
    deadline: chrono::NaiveDate,
    done: usize,
    total: usize,
    failing: Vec<Link>,
}

fn rows(list: Vec<&ServiceDay>) -> (usize, Vec<Row>) {
    (list.len(), list.into_iter().map(row).collect())
}

fn row(r: &ServiceDay) -> Row {
    Row {
        service: r.service.clone(),
        href: format!("/services/{}", segment(&r.service)),
        org: r.org.clone(),
        repository: r.repository.clone(),
        owner: r.owner.clone(),
        owner_href: r.owner.as_ref().map(|o| format!("/teams/{}", segment(o))),
        tier: r.tier,
        level: r.level.clone().unwrap_or_else(|| dashboard::NO_LEVEL.to_string()),
        required_level: r.required_level.clone(),
        meets_required: r.meets_required,
        failing: r
            .rules
            .iter()
            .filter(|(_, s)| **s == Status::Fail)
            .map(|(id, _)| Link { text: id.clone(), href: format!("/rules/{}", segment(id)) })
            .collect(),
        day: r.day,
    }
}

/// The viewer, the loaded records and the filter of a list, or the answer when one of them fails.
async fn prepare(state: &WebState, headers: &HeaderMap, q: &PageQuery) -> Result<(Viewer, Loaded, Filter), Response> {
    let viewer = viewer(state, headers)?;
    let loaded = Loaded::read(state, &viewer.visible).await?;
    let filter = q.filter().map_err(|why| problem(&viewer, loaded.today, StatusCode::BAD_REQUEST, &why))?;
    Ok((viewer, loaded, filter))
}

/// `GET /services`.
pub async fn services(State(state): State<WebState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    let (viewer, loaded, filter) = match prepare(&state, &headers, &q).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let meets = match q.meets() {
        Ok(m) => m,
        Err(why) => return problem(&viewer, loaded.today, StatusCode::BAD_REQUEST, &why),
    };
    let mut narrowed = Vec::new();
    let mut rows: Vec<&ServiceDay> = loaded.filtered(&filter);
    if let Some(meets) = meets {
        rows.retain(|r| r.meets_required == meets);
        narrowed.push(if meets { "meeting their required level" } else { "below their required level" }.to_string());
    }
    if let Some(rule) = q.rule() {
        let status = q.status().unwrap_or_else(|| "fail".into());
        rows.retain(|r| r.rules.get(&rule).is_some_and(|s| s.as_str() == status));
        narrowed.push(format!("rule {rule} is {status}"));
    }
    if let Some(id) = q.initiative() {
        let Some(initiative) = loaded.catalog.as_ref().and_then(|c| c.initiatives.iter().find(|i| i.id == id)) else {
            return problem(
                &viewer,
                loaded.today,
                StatusCode::NOT_FOUND,
                &format!("The policy has no initiative `{id}`."),
            );
        };
        let wanted = q.standing().unwrap_or_else(|| "failing".into());
        rows.retain(|r| standing_name(&standing(r, initiative)) == wanted);
        narrowed.push(format!("{wanted} with the initiative {}", initiative.title));
    }
    let page = Page {
        frame: viewer.frame("Services", loaded.today),
        action: "/services".into(),
        filters: filters(&loaded, &loaded.levels(), &filter),
        narrowed,
        row_count: rows.len(),
        rows: rows.into_iter().map(row).collect(),
        rule: None,
        team: None,
    };
    html("services.html", &page)
}

/// `GET /rules/{id}`: the services where the rule has `?status=` (default `fail`).
pub async fn rule(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let (viewer, loaded, filter) = match prepare(&state, &headers, &q).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let known = loaded.catalog.as_ref().and_then(|c| c.rules.get(&id));
    let judged: Vec<&ServiceDay> = loaded.filtered(&filter).into_iter().filter(|r| r.rules.contains_key(&id)).collect();
    if id.len() > MAX_NAME || (known.is_none() && judged.is_empty()) {
        return problem(
            &viewer,
            loaded.today,
            StatusCode::NOT_FOUND,
            &format!("No rule `{id}` in the policy or the results you can see."),
        );
    }
    let status = q.status().unwrap_or_else(|| "fail".into());
    let mut keep = filter_params(&filter);
    let by_status = [Status::Fail, Status::Pass, Status::Excepted, Status::Skipped, Status::Error]
        .into_iter()
        .map(|s| {
            let count = judged.iter().filter(|r| r.rules.get(&id) == Some(&s)).count();
            keep.retain(|(k, _)| *k != "status");
            keep.push(("status", Some(s.as_str().to_string())));
            Link { text: format!("{}: {count}", s.as_str()), href: href(&format!("/rules/{}", segment(&id)), &keep) }
        })
        .collect();
    let (row_count, rows) =
        rows(judged.into_iter().filter(|r| r.rules.get(&id).is_some_and(|s| s.as_str() == status)).collect());
    let page = Page {
        frame: viewer.frame(format!("Rule {}", loaded.rule_title(&id)), loaded.today),
        action: format!("/rules/{}", segment(&id)),
        filters: filters(&loaded, &loaded.levels(), &filter),
        narrowed: vec![format!("the rule is {status}")],
        row_count,
        rows,
        rule: Some(RuleHead {
            title: loaded.rule_title(&id),
            level: known.map(|r| r.level.clone()),
            description: known.map(|r| r.description.clone()),
            status,
            by_status,
            id,
        }),
        team: None,
    };
    html("services.html", &page)
}

/// `GET /teams/{team}`: the services the team owns.
pub async fn team(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let (viewer, loaded, mut filter) = match prepare(&state, &headers, &q).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    filter.owner = Some(name.clone());
    let rows: Vec<&ServiceDay> = loaded.filtered(&filter);
    if name.len() > MAX_NAME || !loaded.latest.iter().any(|r| r.owner.as_deref() == Some(name.as_str())) {
        return problem(
            &viewer,
            loaded.today,
            StatusCode::NOT_FOUND,
            &format!("No team `{name}` owns a service you can see."),
        );
    }
    let initiatives = loaded
        .catalog
        .iter()
        .flat_map(|c| &c.initiatives)
        .map(|i| {
            let failing: Vec<Link> = rows
                .iter()
                .filter(|r| standing_name(&standing(r, i)) == "failing")
                .map(|r| Link { text: r.service.clone(), href: format!("/services/{}", segment(&r.service)) })
                .collect();
            let done = rows.iter().filter(|r| standing_name(&standing(r, i)) == "done").count();
            TeamInitiative { title: i.title.clone(), deadline: i.deadline, done, total: rows.len(), failing }
        })
        .collect();
    let page = Page {
        frame: viewer.frame(format!("Team {name}"), loaded.today),
        action: format!("/teams/{}", segment(&name)),
        filters: filters(&loaded, &loaded.levels(), &filter),
        narrowed: vec![],
        row_count: rows.len(),
        rows: rows.into_iter().map(row).collect(),
        rule: None,
        team: Some(TeamHead { name, initiatives }),
    };
    html("services.html", &page)
}
