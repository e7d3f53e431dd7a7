//! Liveness and readiness for orchestrators. `/health`: the process serves
//! requests. `/ready`: storage answers a read now. Migrations (and the
//! default keys) are done before the listener opens, so a dewstack that
//! answers at all has them; `/ready` adds that the database is reachable.

use crate::common::json::Json;
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

/// How long `/ready` waits for the storage probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

pub async fn ready(State(app): State<AppState>) -> Response {
    let probe = app
        .db
        .read(|tx| tx.get("dewstack_meta", "ready-probe").map(|_| ()));
    let engine = app.db.engine_name();
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(())) => Json(json!({"status": "ready", "storage": engine})).into_response(),
        outcome => {
            // The detail (it may name the database host) goes to the log only.
            let detail = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer within {PROBE_TIMEOUT:?}"),
            };
            tracing::warn!(%detail, "readiness probe: storage unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "storage": engine,
                            "reason": "storage unreachable"})),
            )
                .into_response()
        }
    }
}
