//! The web: the JSON API over the service history and the readiness badges (issue 14), the signed-in pages and the Ops
//! view. Every answer is for a caller whose visibility [`access::Viewers`] decided; nothing is shown to anyone else.

use crate::clock::Clock;
use crate::providers::Breaker;
use crate::store::Store;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;

pub mod access;
pub mod api;
pub mod badge;
pub mod ops;
pub mod pages;
pub mod read_model;
pub mod session;
pub mod signin;
pub mod templates;

/// What the web handlers share.
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub viewers: Arc<access::Viewers>,
    pub clock: Arc<dyn Clock>,
    /// `SHIPSHAPE_PUBLIC_BADGES=true`: badges for everyone, without signing in.
    pub public_badges: bool,
    /// Sign-in with GitHub; `None` turns the pages off (404).
    pub sign_in: Option<Arc<signin::SignIn>>,
    /// The linked tools' circuit breaker the App's providers share: the Ops view shows the hosts it left alone.
    pub breaker: Arc<Breaker>,
    /// The service history as the pages and the API read it.
    pub history: Arc<read_model::ReadModel>,
}

/// The web's routes.
pub fn routes(state: WebState) -> Router {
    Router::new()
        .route("/api/v1/services", get(api::list))
        .route("/api/v1/services.csv", get(api::list_csv))
        .route("/api/v1/services/{name}", get(api::one))
        .route("/api/v1/services/{name}/history", get(api::history))
        .route("/api/v1/ops", get(ops::api))
        .route("/badge/{file}", get(badge::badge))
        .route("/static/shipshape.css", get(pages::stylesheet))
        .route("/", get(pages::overview::overview))
        .route("/services", get(pages::lists::services))
        .route("/services/{name}", get(pages::service::service))
        .route("/rules/{id}", get(pages::lists::rule))
        .route("/teams/{team}", get(pages::lists::team))
        .route("/ops", get(pages::ops::ops))
        .route("/login", get(signin::login))
        .route("/auth/callback", get(signin::callback))
        .route("/logout", axum::routing::post(signin::logout))
        .with_state(state)
}
