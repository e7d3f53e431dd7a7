//! The audit trail: one CTS-shaped record (`record.rs`) per audited call
//! (`catalog.rs`), written as JSON lines by one writer thread (`writer.rs`)
//! to a size-rotated file in the data dir and/or stdout, and served back
//! through CTS's ListTraces (`query.rs`). `around` runs after authentication
//! on every service's routes (`server::gate`). Settings: `[audit]` (config/audit.rs);
//! behaviour: docs/operations.md.
//!
//! In `required` mode no call is answered with success unless its record
//! was written: while the trail is failing, calls are refused before they
//! run (nothing changes); a call whose record fails after it ran is
//! answered with the service's 500, although its change stands — the
//! caller is never told it succeeded (dewstack's reading of Vault's rule).

pub mod catalog;
mod layer;
mod query;
pub mod record;
pub mod writer;

pub mod trail;

pub use layer::{around, Refusal};
pub use trail::Trail;

use crate::server::state::AppState;

/// CTS's ListTraces over dewstack's own trail.
pub fn routes(state: AppState) -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/v3/{project_id}/traces",
            axum::routing::get(query::list_traces),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::require::<{ crate::auth::KMS }>,
        ))
}
