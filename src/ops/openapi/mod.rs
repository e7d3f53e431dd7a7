//! `GET /openapi.json`: an OpenAPI 3.1 document of every route dewstack
//! serves, built once at first request from the route table
//! (`operations::TABLE`) joined with the SDK catalog embedded from
//! `api/*.json` (docs/openapi.md says why this and not annotations).
//!
//! - `catalog.rs`: the embedded SDK facts; `schema.rs`: their JSON Schema.
//! - `document.rs`: the join; `own.rs`: what no SDK says (statuses,
//!   envelopes, authentication, dewstack's own endpoints).

mod catalog;
mod document;
mod own;
mod schema;
#[cfg(test)]
mod tests;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

/// The serialized document, or why it could not be built (a bug of this
/// build: the `document_covers_every_route` test fails first).
static DOCUMENT: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    let catalogs = catalog::load().map_err(|e| format!("api/*.json: {e}"))?;
    let doc = document::build(&catalogs)
        .map_err(|missing| format!("routes without a description: {}", missing.join(", ")))?;
    serde_json::to_vec(&doc)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
});

/// Unauthenticated, like `/health` (dewstack's choice): it says no more
/// than the public SDKs and API reference do.
pub async fn serve() -> Response {
    match &*DOCUMENT {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response(),
        Err(detail) => crate::common::envelope::internal(
            crate::common::envelope::Style::Dew,
            "APIGW.0601",
            detail.clone(),
        ),
    }
}

/// For tests outside this module (the route table's own checks).
#[cfg(test)]
pub fn document() -> serde_json::Value {
    let catalogs = catalog::load().expect("catalog parses");
    document::build(&catalogs).expect("every route described")
}
