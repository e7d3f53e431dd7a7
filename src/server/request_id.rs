//! Every response carries `X-Request-Id`; every request gets one log line
//! (method, path, status, latency, request id). Query strings and bodies are
//! never logged: they may hold secrets.

use crate::common::envelope::InternalDetail;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = uuid::Builder::from_random_bytes(crate::rng::unique_u128().to_le_bytes())
        .into_uuid()
        .simple()
        .to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let mut response = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    if let Some(InternalDetail(detail)) = response.extensions_mut().remove::<InternalDetail>() {
        tracing::error!(request_id = %id, %method, %path, %detail, "internal error");
    }
    tracing::info!(request_id = %id, %method, %path, status, latency_ms = format!("{latency_ms:.2}"), "request");
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
