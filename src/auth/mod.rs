//! Authentication: every API request proves who it is by an AK/SK signature
//! or an X-Auth-Token. The middleware verifies, checks that the project in the
//! path belongs to the caller, and leaves a `Caller` for the handlers: a
//! handler that takes `Caller` cannot run unauthenticated.

mod asym;
pub mod error;
pub mod header;
pub mod sig;
pub mod token;

use crate::common::body::{ReadBody, UnsignedPayload};
use crate::common::envelope::RequestId;
use crate::iam::directory::Principal;
use crate::server::state::AppState;
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use error::{AuthError, Service};

/// Huawei's gateway limits signed bodies to 12 MB (the default of
/// `limits.max_body_bytes`, which is what requests are held to).
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub domain_id: String,
    pub user_id: String,
    /// The `{project_id}` of the path, already checked to be the caller's.
    pub project_id: Option<String>,
    /// Set for AK/SK callers.
    pub access_key: Option<String>,
    /// The KMS access point the request proved it came through
    /// (`kms::keyspaces::verify_access_point`); `None` until then.
    pub access_point: Option<String>,
}

impl Caller {
    /// The project of a project-scoped route; such routes always have one.
    pub fn project(&self) -> &str {
        self.project_id.as_deref().unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| AuthError::Missing.render(Service::Kms, request_id(&parts.extensions)))
    }
}

pub const KMS: u8 = 0;
pub const CSMS: u8 = 1;
pub const VPCEP: u8 = 2;
pub const IAM: u8 = 3;

fn service_of(tag: u8) -> Service {
    match tag {
        KMS => Service::Kms,
        CSMS => Service::Csms,
        VPCEP => Service::Vpcep,
        _ => Service::Iam,
    }
}

/// The service names a V11 credential scope may carry for each surface. No
/// stock SDK client sets one (SIGNING.md 1.1); these are the services' own
/// names. CSMS is also accepted as `kms`, the endpoint the cloud serves it
/// from (dewstack's choice).
fn scope_names(service: Service) -> &'static [&'static str] {
    match service {
        Service::Kms => &["kms"],
        Service::Csms => &["csms", "kms"],
        Service::Vpcep => &["vpcep"],
        Service::Iam => &["iam"],
    }
}

/// Signatures for an unknown access key are checked against this secret, so
/// that an unknown AK costs the same work and gets the same answer as a wrong
/// signature: access keys cannot be enumerated.
const DUMMY_SECRET: &str = "dewstack-unknown-access-key-0000000000000";

/// The path parameters of a matched route, as axum extracts them.
pub type PathParams = Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>;

/// Route-layer middleware (runs after routing, so path parameters are known)
/// of the routes the audit trail does not see (IAM, ListTraces); the
/// services' routes get `server::gate`, which calls [`admit`] itself.
pub async fn require<const SERVICE: u8>(
    State(app): State<AppState>,
    params: PathParams,
    req: Request,
    next: Next,
) -> Response {
    match admit::<SERVICE>(&app, &params, req).await {
        Ok((req, caller)) => with_caller(next.run(req).await, caller),
        Err(refused) => refused,
    }
}

/// The request with its `Caller` in it, and that caller; or the refusal,
/// in the service's envelope.
pub async fn admit<const SERVICE: u8>(
    app: &AppState,
    params: &PathParams,
    req: Request,
) -> Result<(Request, Option<Caller>), Response> {
    let service = service_of(SERVICE);
    let rid = request_id(req.extensions()).to_owned();
    // A path parameter that does not decode to UTF-8 is refused here, in the
    // service's envelope (axum would answer in plain text).
    let Ok(params) = params else {
        return Err(AuthError::Signature(sig::SigError::BadPath).render(service, &rid));
    };
    let path_project = params
        .iter()
        .find(|(k, _)| *k == "project_id")
        .map(|(_, v)| v.to_owned());
    match authenticate(app, req, path_project, service).await {
        Ok(req) => {
            let caller = req.extensions().get::<Caller>().cloned();
            Ok((req, caller))
        }
        Err(e) => {
            tracing::info!(reason = %e, "request refused");
            crate::ops::metrics::metrics().auth_failure(service.name(), e.reason());
            Err(e.render(service, &rid).into_response())
        }
    }
}

/// The request log names the caller (server::request_id).
pub fn with_caller(mut response: Response, caller: Option<Caller>) -> Response {
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    response
}

/// The id `server::request_id` gave the request; gateway errors repeat it.
fn request_id(ext: &axum::http::Extensions) -> &str {
    ext.get::<RequestId>().map_or("", |r| r.0.as_str())
}

async fn authenticate(
    app: &AppState,
    req: Request,
    path_project: Option<String>,
    service: Service,
) -> Result<Request, AuthError> {
    let (mut parts, body) = req.into_parts();
    let mut body = Some(body);
    let limit = app.limits.max_body_bytes;
    // Everything the headers alone can refuse is refused before the body is
    // read, so an unauthenticated client cannot make the server buffer it.
    let declared_len = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > limit as u64) {
        return Err(AuthError::TooLarge);
    }
    let now = app.clock.now();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    };
    let mut unsigned_payload = false;
    let (principal, access_key) = if let Some(value) = header("authorization") {
        let auth = sig::parse_authorization(value)?;
        if header("x-sdk-date").is_none() {
            return Err(sig::SigError::BadDate.into());
        }
        // Rotated and retired keys live in the store (`iam/keys.rs`); a key
        // retired by a rotation is unknown from its retirement time on.
        let key = crate::iam::keys::access_key(
            &app.db,
            &app.iam_keys,
            &app.directory,
            &auth.access_key,
            now.timestamp_millis(),
        )
        .await
        .map_err(|_| AuthError::Unavailable)?;
        let bytes = read_body(
            body.take().unwrap_or_default(),
            limit,
            app.limits.body_read_timeout_secs,
        )
        .await?;
        let signed = sig::SignedRequest {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query(),
            header: &header,
            body: &bytes,
        };
        let expected = sig::ExpectedScope {
            region: &app.region,
            services: scope_names(service),
            global: service == Service::Iam,
        };
        let secret = key.as_ref().map_or(DUMMY_SECRET, |k| k.secret_key.as_str());
        // Client clocks date signatures: the skew check is against the
        // system's time even when the dev clock has moved dewstack's ahead.
        let payload = sig::verify(&signed, &auth, secret, app.clock.wall(), &expected)?;
        let Some(key) = key else {
            return Err(AuthError::Signature(sig::SigError::Mismatch));
        };
        unsigned_payload = payload == sig::Payload::Unsigned;
        let principal = Principal {
            domain_id: key.domain_id.clone(),
            user_id: key.user_id.clone(),
            scoped_project: None,
        };
        (principal, Some((auth.access_key, bytes)))
    } else if let Some(token) = header("x-auth-token") {
        let claims = app.tokens.check(token, now).map_err(|e| match e {
            token::TokenError::Expired => AuthError::ExpiredToken,
            token::TokenError::Invalid => AuthError::BadToken,
        })?;
        // A token outlives nothing it names: the user must still exist.
        app.directory
            .user(&claims.domain_id, &claims.user_id)
            .ok_or(AuthError::BadToken)?;
        let principal = Principal {
            domain_id: claims.domain_id,
            user_id: claims.user_id,
            scoped_project: Some(claims.project_id),
        };
        (principal, None)
    } else {
        return Err(AuthError::Missing);
    };
    if let Some(project_id) = &path_project {
        check_project(app, &principal, project_id)?;
        if let Some(declared) = header("x-project-id") {
            if declared.trim() != project_id {
                return Err(AuthError::ForeignProject);
            }
        }
    }
    // A token covers no body: read it only now that the caller is known.
    let (access_key, bytes) = match access_key {
        Some((ak, bytes)) => (Some(ak), bytes),
        None => (
            None,
            read_body(
                body.take().unwrap_or_default(),
                limit,
                app.limits.body_read_timeout_secs,
            )
            .await?,
        ),
    };
    parts.extensions.insert(Caller {
        domain_id: principal.domain_id,
        user_id: principal.user_id,
        project_id: path_project,
        access_key,
        access_point: None,
    });
    if unsigned_payload {
        parts.extensions.insert(UnsignedPayload);
    }
    parts.extensions.insert(ReadBody(bytes.clone()));
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The whole body, at most `limit` bytes, within `timeout_secs` (0 = no limit).
pub async fn read_body(
    body: axum::body::Body,
    limit: usize,
    timeout_secs: u64,
) -> Result<axum::body::Bytes, AuthError> {
    use std::future::Future as _;
    let mut read = std::pin::pin!(axum::body::to_bytes(body, limit));
    // One poll before the timer: nearly every API body arrives with its
    // headers, and then reading it costs no timer to arm and cancel.
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await;
    let bytes = match first {
        std::task::Poll::Ready(bytes) => bytes,
        std::task::Poll::Pending if timeout_secs == 0 => read.await,
        std::task::Poll::Pending => {
            tokio::time::timeout(std::time::Duration::from_secs(timeout_secs), read)
                .await
                .map_err(|_| AuthError::SlowBody)?
        }
    };
    bytes.map_err(|_| AuthError::TooLarge)
}

fn check_project(app: &AppState, principal: &Principal, project_id: &str) -> Result<(), AuthError> {
    let owned = app
        .directory
        .project(project_id)
        .is_some_and(|(domain, _)| domain.id == principal.domain_id);
    let in_scope = principal
        .scoped_project
        .as_deref()
        .is_none_or(|p| p == project_id);
    if owned && in_scope {
        Ok(())
    } else {
        Err(AuthError::ForeignProject)
    }
}
