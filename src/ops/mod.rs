//! Operability: Prometheus metrics (`GET /metrics`), liveness and readiness
//! (`GET /health`, `GET /ready`), the dev clock for tests
//! (`GET`/`POST /_dewstack/clock`), JSON logs, the OpenAPI document
//! (`GET /openapi.json`, `openapi/`). docs/operations.md says how to
//! use each; none of it is part of the cloud's API.
//!
//! - `metrics.rs`: the one registry; `operations.rs`: which catalog
//!   operation a request is (its label in metrics and logs).
//! - `access.rs`: who may scrape; `health.rs`: liveness and readiness.
//! - `dev_clock.rs`: time travel; `inventory.rs`: the sampled resource gauges.
//! - `error.rs`: the answers these endpoints refuse with; `logs.rs`: log setup.

mod access;
mod dev_clock;
mod error;
mod health;
pub mod inventory;
pub mod log_line;
pub mod logs;
pub mod metrics;
mod openapi;
pub mod operations;
pub mod settings;

pub use settings::Settings;

use crate::auth;
use crate::server::state::AppState;
use axum::routing::get;
use axum::Router;

/// dewstack's own endpoints on the API listener.
pub fn routes(state: AppState) -> Router<AppState> {
    let clock = Router::new()
        .route(
            "/_dewstack/clock",
            get(dev_clock::show_clock).post(dev_clock::advance_clock),
        )
        // The caller is authenticated like any API call (AK/SK or token),
        // and audited; the handler then requires the root identity.
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::server::gate::gate::<{ auth::KMS }, error::OpsError>,
        ));
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(access::scrape_api))
        .route("/openapi.json", get(openapi::serve))
        .merge(clock)
}

/// The separate metrics listener (`[metrics] listen`): nothing but these.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(access::scrape_dedicated))
        .with_state(state)
}

impl crate::audit::Refusal for error::OpsError {
    fn audit_refusal() -> axum::response::Response {
        crate::common::envelope::internal(
            crate::common::envelope::Style::Dew,
            "APIGW.0601",
            "the audit record of this call could not be written".into(),
        )
    }
}
