//! The one table: which service answers which path, and the global layers.

use super::state::AppState;
use crate::common::envelope::{render, Style};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

pub fn app(state: AppState) -> Router {
    // Labelled with their catalog operation after routing; the fallback is
    // not (it stays "unknown"). The routes of the three services (and the
    // dev clock) are labelled by `server::gate`, which they all pass.
    let labelled = Router::new()
        .merge(crate::ops::routes(state.clone()))
        .merge(crate::iam::routes(state.clone()))
        .merge(super::versions::routes())
        .merge(crate::console::routes())
        .merge(crate::audit::routes(state.clone()))
        .route_layer(axum::middleware::from_fn(crate::ops::operations::label));
    Router::new()
        .merge(labelled)
        .merge(crate::kms::routes(state.clone()))
        .merge(crate::csms::routes(state.clone()))
        .merge(crate::vpcep::routes(state.clone()))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(super::request_id::layer))
        .with_state(state)
}

async fn not_found() -> Response {
    render(
        Style::Dew,
        StatusCode::NOT_FOUND,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
    )
}
