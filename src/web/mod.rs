//! The web: the JSON API over the service history (issue 14). Every answer is for a caller whose visibility
//! [`access::Viewers`] decided; nothing is shown to anyone else.

use crate::clock::Clock;
use crate::store::Store;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;

pub mod access;
pub mod api;

/// What the web handlers share.
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub viewers: Arc<access::Viewers>,
    pub clock: Arc<dyn Clock>,
}

/// The web's routes.
pub fn routes(state: WebState) -> Router {
    Router::new()
        .route("/api/v1/services", get(api::list))
        .route("/api/v1/services.csv", get(api::list_csv))
        .route("/api/v1/services/{name}", get(api::one))
        .route("/api/v1/services/{name}/history", get(api::history))
        .with_state(state)
}
