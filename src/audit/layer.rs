//! What turns an audited call into a record. `server::gate` runs it after
//! authentication (so it sees the `Caller` and a body already read into
//! memory); it costs an unaudited call one table lookup.

use crate::audit::catalog::{self, Audited};
use crate::audit::record::{self, Domain, Trace, User};
use crate::auth::{Caller, PathParams};
use crate::common::body::ReadBody;
use crate::common::envelope::RequestId;
use crate::ops::operations::Operation;
use crate::server::state::AppState;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// A response body longer than this is not read into the record (the
/// record keeps only identifiers, which small answers carry).
const MAX_RESPONSE_READ: u64 = 64 * 1024;

/// The answer a service gives when the trail cannot record a call in
/// `required` mode: its own internal error, in its own envelope.
pub trait Refusal {
    fn audit_refusal() -> Response;
}

/// What is known of a call before it runs.
struct Call {
    caller: Option<Caller>,
    request_id: String,
    source_ip: Option<std::net::IpAddr>,
    params: Vec<(String, String)>,
    api_version: Option<String>,
    time: i64,
    body: Bytes,
}

/// Runs the rest of the request (`next`) and records it, if audited.
/// Called by `server::gate` right after authentication, with the operation
/// of the matched route.
pub async fn around<E: Refusal>(
    app: &AppState,
    params: &PathParams,
    routed: Operation,
    req: Request,
    next: Next,
) -> Response {
    if !app.audit.is_on() {
        return next.run(req).await;
    }
    if catalog::audited(routed.name).is_none() {
        return next.run(req).await;
    }
    if !app.audit.may_run().await {
        return E::audit_refusal();
    }
    // `auth::admit` read the body to check the signature and left it here.
    let body = req
        .extensions()
        .get::<ReadBody>()
        .map(|ReadBody(b)| b.clone())
        .unwrap_or_default();
    let ext = req.extensions();
    let call = Call {
        caller: ext.get::<Caller>().cloned(),
        request_id: ext
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        source_ip: ext
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip()),
        params: params
            .as_ref()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        api_version: req
            .uri()
            .path()
            .split('/')
            .nth(1)
            .filter(|s| s.starts_with('v'))
            .map(str::to_owned),
        time: app.clock.now().timestamp_millis(),
        body,
    };
    let response = next.run(req).await;
    // A handler serving several operations on one route names its own.
    let op = response
        .extensions()
        .get::<Operation>()
        .copied()
        .unwrap_or(routed);
    let Some(audited) = catalog::audited(op.name) else {
        return response;
    };
    let (response, answer) = read_small(response).await;
    let trace = build(app, call, op, audited, response.status().as_u16(), &answer);
    // A record is ~700 bytes: one buffer of that size, not one grown by doubling.
    let mut line = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut line, &trace).is_err() {
        return E::audit_refusal();
    }
    // serde_json writes UTF-8 only.
    let Ok(line) = String::from_utf8(line) else {
        return E::audit_refusal();
    };
    if app.audit.append(Some(line)).await {
        response
    } else {
        tracing::error!(request_id = %trace.request_id, operation = op.name, "audit record not written: call refused");
        E::audit_refusal()
    }
}

/// The response and its body, when the body is small and in memory.
async fn read_small(response: Response) -> (Response, Bytes) {
    let small = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_RESPONSE_READ);
    if !small {
        return (response, Bytes::new());
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_RESPONSE_READ as usize).await {
        Ok(bytes) => (
            Response::from_parts(parts, Body::from(bytes.clone())),
            bytes,
        ),
        Err(_) => (Response::from_parts(parts, Body::empty()), Bytes::new()),
    }
}

/// The record of a call; takes the call's own strings rather than copies.
fn build(
    app: &AppState,
    call: Call,
    op: Operation,
    audited: &Audited,
    status: u16,
    answer: &[u8],
) -> Trace {
    // Each body parsed once, for the resource fields and the redaction.
    let looked_up = catalog::looked_up_names();
    let asked = record::parse_kept(&call.body, &[audited.request, looked_up]);
    let told = record::parse_kept(answer, &[catalog::RESPONSE, looked_up]);
    let param = |names: &[&str]| {
        names.iter().find_map(|n| {
            call.params
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        })
    };
    let from_bodies = |paths: &[&str]| {
        paths.iter().find_map(|p| {
            record::field(asked.as_ref(), p).or_else(|| record::field(told.as_ref(), p))
        })
    };
    let resource_id =
        param(catalog::RESOURCE_PARAMS).or_else(|| from_bodies(catalog::RESOURCE_FIELDS));
    let resource_name =
        param(&["secret_name", "event_name"]).or_else(|| from_bodies(catalog::NAME_FIELDS));
    let (domain_id, user_id, access_key, project_id) = match call.caller {
        Some(c) => (c.domain_id, c.user_id, c.access_key, c.project_id),
        None => Default::default(),
    };
    let domain = app.directory.domain(&domain_id);
    let user_name = app
        .directory
        .user(&domain_id, &user_id)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    Trace {
        trace_id: app.rng.uuid().hyphenated().to_string(),
        trace_name: op.name.to_owned(),
        trace_rating: record::rating(status).to_owned(),
        trace_type: "ApiCall".to_owned(),
        service_type: op.service.to_ascii_uppercase(),
        resource_type: audited.resource_type.to_owned(),
        resource_id,
        resource_name,
        source_ip: call.source_ip.map(|ip| ip.to_string()),
        user: User {
            principal_id: user_id.clone(),
            id: user_id,
            name: user_name,
            domain: Domain {
                id: domain_id,
                name: domain.map(|d| d.name.clone()).unwrap_or_default(),
            },
            access_key_id: access_key,
        },
        request: record::redact(asked.as_ref(), audited.request),
        response: record::redact(told.as_ref(), catalog::RESPONSE),
        code: status.to_string(),
        api_version: call.api_version,
        time: call.time,
        record_time: app.clock.now().timestamp_millis(),
        request_id: call.request_id,
        read_only: audited.read_only,
        project_id,
    }
}
