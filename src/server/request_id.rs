//! Every response carries `X-Request-Id`; every request gets one log line
//! (method, path, status, latency, request id, catalog operation, caller
//! domain and project) and is counted in the metrics by service, operation
//! and status class. Query strings and bodies are never logged: they may
//! hold secrets.

use crate::auth::Caller;
use crate::common::envelope::{InternalDetail, RequestId};
use crate::ops::log_line::RequestLine;
use crate::ops::operations::{Operation, UNKNOWN};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn layer(mut req: Request, next: Next) -> Response {
    let mut text = uuid::Uuid::encode_buffer();
    // `encode_lower` rather than `to_string`, which goes through `fmt`.
    let id = uuid::Builder::from_random_bytes(crate::rng::unique_u128().to_le_bytes())
        .into_uuid()
        .simple()
        .encode_lower(&mut text)
        .to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let mut response = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    // Set by `server::gate` or `ops::operations::label` once a route matched.
    let op = response
        .extensions()
        .get::<Operation>()
        .copied()
        .unwrap_or(UNKNOWN);
    crate::ops::metrics::metrics().request(op.service, op.name, status, elapsed);
    let caller = response.extensions_mut().remove::<Caller>();
    let (domain_id, project_id) = caller
        .map(|c| (c.domain_id, c.project_id.unwrap_or_default()))
        .unwrap_or_default();
    if let Some(InternalDetail(detail)) = response.extensions_mut().remove::<InternalDetail>() {
        tracing::error!(request_id = %id, operation = op.name, %method, %path, %detail, "internal error");
    }
    let line = RequestLine {
        request_id: &id,
        service: op.service,
        operation: op.name,
        domain_id: &domain_id,
        project_id: &project_id,
        method: method.as_str(),
        path: &path,
        status,
        // A number in JSON logs; two decimals (10 µs) is all a reader uses.
        latency_ms: (elapsed * 100_000.0).round() / 100.0,
    };
    if !crate::ops::logs::request(&line) {
        line.trace();
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
