//! The signed-in pages (SPEC 6): server-rendered HTML from `templates/web/`, no scripts, charts as inline SVG with a
//! table beside them. Every page answers only for the organisations the session may see; without a session the
//! browser is sent to `/login`, and without sign-in configured every page is 404.

use super::WebState;
use super::access::Visible;
use super::read_model::OrgHistory;
use super::session::Session;
use super::templates;
use crate::dashboard::{self, CatalogView, Filter};
use crate::store::{DayMark, ServiceDay, ns};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use std::sync::Arc;

pub mod chart;
pub mod lists;
pub mod ops;
pub mod overview;
pub mod query;
pub mod service;

/// Who is looking at a page.
pub struct Viewer {
    pub session: Session,
    pub visible: Visible,
}

/// The part of every page the layout shows.
#[derive(Serialize)]
pub struct Frame<'a> {
    pub title: String,
    pub viewer: ViewerView<'a>,
    pub today: NaiveDate,
}

#[derive(Serialize)]
pub struct ViewerView<'a> {
    pub login: &'a str,
    pub csrf: &'a str,
}

impl Viewer {
    pub fn frame(&self, title: impl Into<String>, today: NaiveDate) -> Frame<'_> {
        Frame {
            title: title.into(),
            viewer: ViewerView { login: &self.session.login, csrf: &self.session.csrf },
            today,
        }
    }
}

/// The signed-in viewer, or the answer for a caller who is not one. The answer is the handler's response, so
/// it is returned as it is, large as it is.
#[allow(clippy::result_large_err)]
pub fn viewer(state: &WebState, headers: &HeaderMap) -> Result<Viewer, Response> {
    if state.sign_in.is_none() {
        return Err(super::signin::not_configured());
    }
    match state.viewers.session(headers) {
        Some(session) => {
            let visible = Visible::Orgs(session.orgs.clone());
            Ok(Viewer { session, visible })
        }
        None => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/login"));
            Err(response)
        }
    }
}

/// A page: the template `name` rendered with `data`, never cached, never framed, no scripts.
pub fn html(name: &str, data: &impl Serialize) -> Response {
    match templates::render(name, data) {
        Ok(body) => {
            let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
                ),
            );
            response
        }
        Err(e) => {
            tracing::error!(template = name, error = %e, "page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be drawn").into_response()
        }
    }
}

/// `GET /static/shipshape.css`.
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        templates::STYLESHEET,
    )
        .into_response()
}

/// A page saying what went wrong, in the layout.
pub fn problem(viewer: &Viewer, today: NaiveDate, status: StatusCode, message: &str) -> Response {
    #[derive(Serialize)]
    struct Problem<'a> {
        #[serde(flatten)]
        frame: Frame<'a>,
        message: &'a str,
    }
    let title = if status == StatusCode::NOT_FOUND { "Not found" } else { "Cannot show this" };
    let mut response = html("problem.html", &Problem { frame: viewer.frame(title, today), message });
    *response.status_mut() = status;
    response
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "dashboard read failed");
    (StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable").into_response()
}

/// The catalog view the App published last. A view this version cannot read (written by another version) is no
/// view until the App writes it again.
pub async fn current_catalog(state: &WebState) -> Result<Option<CatalogView>, Response> {
    Ok(state
        .store
        .kv_get(ns::WEB, dashboard::catalog::KV_KEY)
        .await
        .map_err(unavailable)?
        .and_then(|entry| serde_json::from_slice(&entry.value).ok()))
}

/// Each service's latest record among `histories` that passes `filter`, of the services of `catalog` when there is
/// one; by name.
pub fn current_latest(
    histories: &[Arc<OrgHistory>],
    catalog: Option<&CatalogView>,
    filter: &Filter,
) -> Vec<ServiceDay> {
    let current = catalog.map(CatalogView::names);
    dashboard::latest(histories.iter().flat_map(|h| h.latest()), current.as_ref(), filter)
        .into_iter()
        .cloned()
        .collect()
}

/// What the pages read: the visible organisations' histories (each service's latest record and the marks of the
/// trend's days), each service's latest record (restricted to the current catalog when the App has published one),
/// and the catalog.
pub struct Loaded {
    pub today: NaiveDate,
    pub histories: Vec<Arc<OrgHistory>>,
    pub latest: Vec<ServiceDay>,
    pub catalog: Option<CatalogView>,
}

impl Loaded {
    pub async fn read(state: &WebState, visible: &Visible) -> Result<Loaded, Response> {
        let today = state.clock.now().date_naive();
        let catalog = current_catalog(state).await?;
        let histories = state.history.histories(today, |o| visible.sees(o)).await.map_err(unavailable)?;
        let latest = current_latest(&histories, catalog.as_ref(), &Filter::default());
        Ok(Loaded { today, histories, latest, catalog })
    }

    /// The marks of the visible organisations.
    pub fn marks(&self) -> Vec<&DayMark> {
        self.histories.iter().flat_map(|h| h.marks()).collect()
    }

    /// The policy's levels: the catalog's, else the latest record's.
    pub fn levels(&self) -> dashboard::Levels {
        let levels = match &self.catalog {
            Some(c) if !c.levels.is_empty() => c.levels.clone(),
            _ => self.latest.iter().max_by_key(|r| r.evaluated_at).map(|r| r.levels.clone()).unwrap_or_default(),
        };
        dashboard::Levels(levels)
    }

    /// The latest records that pass `filter`.
    pub fn filtered(&self, filter: &Filter) -> Vec<&ServiceDay> {
        self.latest.iter().filter(|r| filter.keeps(r)).collect()
    }

    /// A rule's title from the policy, else its id.
    pub fn rule_title(&self, id: &str) -> String {
        self.catalog.as_ref().and_then(|c| c.rules.get(id)).map_or_else(|| id.to_string(), |r| r.title.clone())
    }
}
