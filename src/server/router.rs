//! The one table: which service answers which path, and the global layers.

use super::state::AppState;
use crate::common::envelope::{render, Style};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(crate::iam::routes(state.clone()))
        .merge(crate::kms::routes(state.clone()))
        .merge(crate::csms::routes(state.clone()))
        .merge(crate::vpcep::routes(state.clone()))
        .merge(super::versions::routes(state.clone()))
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
