//! What turns an audited call into a record. `server::gate` runs it after
//! authentication (so it sees the `Caller` and a body already read into
//! memory); it costs an unaudited call one table lookup.

use crate::audit::catalog::{self, Audited};
use crate::audit::record::{self, Domain, Kept, Trace, User};
use crate::auth::{Caller, PathParams};
use crate::common::body::ReadBody;
use crate::common::envelope::RequestId;
use crate::ops::operations::Operation;
use crate::server::state::AppState;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::RawPathParams;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::borrow::Cow;
use std::net::SocketAddr;

/// A response body longer than this is not read into the record (the
/// record keeps only identifiers, which small answers carry).
const MAX_RESPONSE_READ: u64 = 64 * 1024;

/// The answer a service gives when the trail cannot record a call in
/// `required` mode: its own internal error, in its own envelope.
pub trait Refusal {
    fn audit_refusal() -> Response;
}

/// What is known of a call before it runs, besides its caller and path
/// parameters (which outlive it in `server::gate`).
struct Call {
    request_id: String,
    source_ip: Option<std::net::IpAddr>,
    api_version: Option<String>,
    time: i64,
    body: Bytes,
}

/// Runs the rest of the request (`next`) and records it, if audited.
/// Called by `server::gate` right after authentication, with the operation
/// of the matched route.
pub async fn around<E: Refusal>(
    app: &AppState,
    caller: Option<&Caller>,
    params: &PathParams,
    routed: Operation,
    req: Request,
    next: Next,
) -> Response {
    if !app.audit.is_on() {
        return next.run(req).await;
    }
    let Some(routed_audited) = catalog::audited(routed.name) else {
        return next.run(req).await;
    };
    if !app.audit.may_run().await {
        return E::audit_refusal();
    }
    let ext = req.extensions();
    let call = Call {
        request_id: ext
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        source_ip: ext
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip()),
        api_version: req
            .uri()
            .path()
            .split('/')
            .nth(1)
            .filter(|s| s.starts_with('v'))
            .map(str::to_owned),
        time: app.clock.now().timestamp_millis(),
        // `auth::admit` read the body to check the signature and left it here.
        body: ext
            .get::<ReadBody>()
            .map(|ReadBody(b)| b.clone())
            .unwrap_or_default(),
    };
    let response = next.run(req).await;
    // A handler serving several operations on one route names its own.
    let op = response
        .extensions()
        .get::<Operation>()
        .copied()
        .unwrap_or(routed);
    let audited = if op.name == routed.name {
        routed_audited
    } else {
        match catalog::audited(op.name) {
            Some(audited) => audited,
            None => return response,
        }
    };
    let (response, answer) = read_small(response).await;
    // Each body parsed once, for the resource fields and the redaction.
    let looked_up = catalog::looked_up_names();
    let seen = Seen {
        call: &call,
        caller,
        params: params.as_ref().ok(),
        op,
        audited,
        status: response.status(),
        asked: record::parse_kept(&call.body, &[audited.request, looked_up]),
        told: record::parse_kept(&answer, &[catalog::RESPONSE, looked_up]),
    };
    let mut trace_id = uuid::Uuid::encode_buffer();
    let trace_id = app.rng.uuid().hyphenated().encode_lower(&mut trace_id);
    let ip = call.source_ip.map(ip_text);
    // A record is ~700 bytes, but the writer reserves six bytes per byte of
    // a string before it escapes it (`common::json::INITIAL`), and the
    // request and response texts are strings: room for that, not regrowth.
    let mut line = Vec::with_capacity(4096);
    let trace = build(app, &seen, trace_id, ip.as_deref());
    if crate::common::json::write(&mut line, &trace).is_err() {
        return E::audit_refusal();
    }
    // JSON is written as UTF-8 only.
    let Ok(line) = String::from_utf8(line) else {
        return E::audit_refusal();
    };
    if app.audit.append(Some(line)).await {
        response
    } else {
        tracing::error!(request_id = %call.request_id, operation = op.name, "audit record not written: call refused");
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

/// Everything a record is made of, once the call has been answered.
struct Seen<'a> {
    call: &'a Call,
    caller: Option<&'a Caller>,
    params: Option<&'a RawPathParams>,
    op: Operation,
    audited: &'static Audited,
    status: StatusCode,
    /// The request's and the response's bodies, as `record::parse_kept` keeps them.
    asked: Option<Kept<'a>>,
    told: Option<Kept<'a>>,
}

/// The record of a call; it borrows the call's own strings.
fn build<'a>(
    app: &'a AppState,
    seen: &'a Seen<'a>,
    trace_id: &'a str,
    ip: Option<&'a str>,
) -> Trace<'a> {
    let Seen {
        call,
        caller,
        params,
        op,
        audited,
        status,
        ref asked,
        ref told,
    } = *seen;
    let param = |names: &[&str]| {
        names.iter().find_map(|n| {
            params?
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| Cow::Borrowed(v))
        })
    };
    let from_bodies = |paths: &[&str]| {
        paths.iter().find_map(|p| {
            record::field(asked.as_ref(), p)
                .or_else(|| record::field(told.as_ref(), p))
                .map(Cow::Borrowed)
        })
    };
    let resource_id =
        param(catalog::RESOURCE_PARAMS).or_else(|| from_bodies(catalog::RESOURCE_FIELDS));
    let resource_name =
        param(&["secret_name", "event_name"]).or_else(|| from_bodies(catalog::NAME_FIELDS));
    let text = |s: &'a str| Cow::Borrowed(s);
    let (domain_id, user_id) = caller.map_or(("", ""), |c| (&*c.domain_id, &*c.user_id));
    let domain = app.directory.domain(domain_id);
    let user_name = app
        .directory
        .user(domain_id, user_id)
        .map_or("", |u| &*u.name);
    Trace {
        trace_id: text(trace_id),
        trace_name: text(op.name),
        trace_rating: text(record::rating(status.as_u16())),
        trace_type: text("ApiCall"),
        service_type: service_type(op.service),
        resource_type: text(audited.resource_type),
        resource_id,
        resource_name,
        source_ip: ip.map(text),
        user: User {
            principal_id: text(user_id),
            id: text(user_id),
            name: text(user_name),
            domain: Domain {
                id: text(domain_id),
                name: text(domain.map_or("", |d| &*d.name)),
            },
            access_key_id: caller.and_then(|c| c.access_key.as_deref()).map(text),
        },
        request: record::redact(asked.as_ref(), audited.request),
        response: record::redact(told.as_ref(), catalog::RESPONSE),
        code: text(seen.status.as_str()),
        api_version: call.api_version.as_deref().map(text),
        time: call.time,
        record_time: app.clock.now().timestamp_millis(),
        request_id: text(&call.request_id),
        read_only: audited.read_only,
        project_id: caller.and_then(|c| c.project_id.as_deref()).map(text),
    }
}

/// CTS's `service_type`: the service's name in capitals.
fn service_type(service: &'static str) -> Cow<'static, str> {
    match service {
        "kms" => Cow::Borrowed("KMS"),
        "csms" => Cow::Borrowed("CSMS"),
        "vpcep" => Cow::Borrowed("VPCEP"),
        other => Cow::Owned(other.to_ascii_uppercase()),
    }
}

/// The caller's address as text; an IPv4 one without `fmt`, which was a
/// measurable share of a record (bench/README).
fn ip_text(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    for (i, n) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if n >= 100 {
            out.push(char::from(b'0' + n / 100));
        }
        if n >= 10 {
            out.push(char::from(b'0' + n / 10 % 10));
        }
        out.push(char::from(b'0' + n % 10));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_text_is_what_display_writes() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.100.255",
            "9.99.199.200",
            "::1",
            "fe80::1:2",
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn service_types_are_capitals() {
        for s in ["kms", "csms", "vpcep", "iam", "cts"] {
            assert_eq!(service_type(s), s.to_ascii_uppercase());
        }
    }
}
