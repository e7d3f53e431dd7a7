//! CreateAccessPoint, DeleteAccessPoint, EnableAccessPoint,
//! DisableAccessPoint, ListAccessPoint, DownloadAccessPointPrivateKey; and
//! `prove_access_point`, the layer that lets a request prove it came
//! through an access point (its holder signs it, the server verifies).

use crate::auth::Caller;
use crate::common::body::{Body, ReadBody};
use crate::common::json::Json;
use crate::common::query::Query;
use crate::kms::crypto::{access_point as ap_key, asymmetric::pem};
use crate::kms::domain::keyspace::{self, *};
use crate::kms::error::KmsError;
use crate::kms::store::keyspaces::{self as store, AccessPointRecord};
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

impl AccessPointItem {
    fn of(a: &AccessPointRecord) -> Self {
        Self {
            access_point_id: a.access_point_id.clone(),
            keyspace_id: a.keyspace_id.clone(),
            access_point_name: a.name.clone(),
            state: a.state.wire(),
            kind: a.kind.wire(),
            created_by: a.created_by.clone(),
            create_time: a.create_ms.to_string(),
            lsat_modify_time: a.modify_ms.to_string(),
        }
    }
}

/// Binds a sealed private key to its access point: it opens for no other.
fn aad(id: &str) -> Vec<u8> {
    format!("kms-access-point/{id}").into_bytes()
}

pub async fn create_access_point(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<CreateAccessPointRequest>,
) -> Result<Json<CreateAccessPointResponse>, KmsError> {
    let new = NewAccessPoint::validate(AccessPointFields {
        keyspace_id: req.keyspace_id.as_deref(),
        name: req.access_point_name.as_deref(),
        kind: req.kind,
        identity: req.identity.as_deref(),
        cluster_id: req.cluster_id.as_deref(),
        description: req.description.as_deref(),
    })?;
    let id = app.rng.uuid().to_string();
    let (public_key, sealed_private_key) = match new.kind {
        AccessPointType::Custom => {
            let (private, public) = ap_key::generate(&app.rng)?;
            (public, Some(app.keyring.seal(&private, &aad(&id))))
        }
        AccessPointType::Cce => (ap_key::public_from_pem(&new.identity)?, None),
        AccessPointType::Ecs => (Vec::new(), None),
    };
    let now = app.clock.now().timestamp_millis();
    let record = AccessPointRecord {
        access_point_id: id.clone(),
        project_id: caller.project().to_owned(),
        keyspace_id: new.keyspace_id,
        name: new.name,
        kind: new.kind,
        state: AccessPointState::Enabled,
        identity: new.identity,
        cluster_id: new.cluster_id,
        description: new.description,
        created_by: caller.user_id.clone(),
        create_ms: now,
        modify_ms: now,
        public_key,
        sealed_private_key,
    };
    app.db
        .tx(move |tx| {
            let all = store::access_points(tx, &record.project_id)?;
            let held = all
                .iter()
                .map(|a| (a.keyspace_id.as_str(), a.name.as_str()));
            keyspace::admit(Member::AccessPoint, held, &record.keyspace_id, &record.name)?;
            store::save_access_point(tx, &record)
        })
        .await?;
    Ok(Json(CreateAccessPointResponse {
        access_point_id: id,
    }))
}

pub async fn list_access_point(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): KmsQuery<KeyspaceListQuery>,
) -> Result<Json<ListAccessPointResponse>, KmsError> {
    let list = ListParams::parse(
        q.keyspace_id.as_deref(),
        q.limit.as_deref(),
        q.marker.as_deref(),
    )?;
    let project = caller.project().to_owned();
    let all = app
        .db
        .read(move |tx| store::access_points(tx, &project))
        .await?;
    let (page, next_marker) =
        list.page_in_space(all, |a| &a.keyspace_id, |a| &a.access_point_id)?;
    Ok(Json(ListAccessPointResponse {
        page_info: KeyspacePageInfo {
            next_marker,
            current_count: page.len() as i64,
        },
        access_points: page.iter().map(AccessPointItem::of).collect(),
    }))
}

pub async fn delete_access_point(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<AccessPointPath>,
) -> Result<StatusCode, KmsError> {
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let ap = store::load_access_point(tx, &project, &path.access_point_id)?;
            store::remove_access_point(tx, &ap)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn change_state(
    app: &AppState,
    caller: &Caller,
    id: String,
    change: fn(AccessPointState) -> Result<AccessPointState, KmsError>,
) -> Result<StatusCode, KmsError> {
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut ap = store::load_access_point(tx, &project, &id)?;
            ap.state = change(ap.state)?;
            ap.modify_ms = now;
            store::save_access_point(tx, &ap)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn enable_access_point(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<AccessPointPath>,
) -> Result<StatusCode, KmsError> {
    change_state(
        &app,
        &caller,
        path.access_point_id,
        AccessPointState::enable,
    )
    .await
}

pub async fn disable_access_point(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<AccessPointPath>,
) -> Result<StatusCode, KmsError> {
    change_state(
        &app,
        &caller,
        path.access_point_id,
        AccessPointState::disable,
    )
    .await
}

/// The Custom access point's private key, once (dewstack's choice: the
/// sealed copy is removed as it is handed out, so a leak of the server's
/// data later cannot yield it; a lost key means a new access point).
pub async fn download_access_point_private_key(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<AccessPointPath>,
) -> Result<Json<DownloadAccessPointPrivateKeyResponse>, KmsError> {
    let project = caller.project().to_owned();
    let id = path.access_point_id;
    let keyring = app.keyring.clone();
    let private = app
        .db
        .tx(move |tx| {
            let mut ap = store::load_access_point(tx, &project, &id)?;
            if ap.kind != AccessPointType::Custom {
                return Err(KmsError::InvalidParameter("access point type"));
            }
            let sealed = ap
                .sealed_private_key
                .take()
                .ok_or(KmsError::PrivateKeyGone)?;
            let der = keyring
                .open(&sealed, &aad(&ap.access_point_id))
                .map_err(|_| KmsError::Internal("access point key does not open".into()))?;
            store::save_access_point(tx, &ap)?;
            Ok((ap.access_point_id, der))
        })
        .await?;
    Ok(Json(DownloadAccessPointPrivateKeyResponse {
        access_point_id: private.0,
        private_key: pem("PRIVATE KEY", &private.1),
    }))
}

/// A request naming an access point (`keyspace::HEADER_ID`) is let through
/// only if its signature verifies with that access point's public key; the
/// caller then carries the access point to the key policies. A request
/// naming none passes untouched.
pub async fn prove_access_point(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key(HEADER_ID) {
        return next.run(req).await;
    }
    // Boxed: this layer's future is moved whole on every KMS call, and
    // the rare proof's state would make it ten times as large.
    match Box::pin(proven(&app, req)).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The access point headers of a request, read before its body is.
struct Claim {
    id: String,
    signature: Vec<u8>,
    date: String,
}

fn claim(headers: &axum::http::HeaderMap) -> Result<Claim, KmsError> {
    let unverified = KmsError::AccessPointUnverified;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    };
    let id = header(HEADER_ID).filter(|i| is_uuid(i));
    let id = id.ok_or(unverified("malformed access point id"))?;
    let signature = header(HEADER_SIGNATURE)
        .and_then(|s| crate::common::b64::decode(s).ok())
        .ok_or(unverified("missing or malformed signature"))?;
    let date = header(HEADER_DATE).ok_or(unverified("missing X-Sdk-Date"))?;
    Ok(Claim {
        id: id.to_ascii_lowercase(),
        signature,
        date,
    })
}

async fn proven(app: &AppState, req: Request) -> Result<Request, KmsError> {
    let unverified = KmsError::AccessPointUnverified;
    let Claim {
        id,
        signature,
        date,
    } = claim(req.headers())?;
    let at =
        crate::auth::sig::parse_sdk_date(&date).map_err(|_| unverified("malformed X-Sdk-Date"))?;
    if (app.clock.now() - at).num_seconds().abs() > crate::auth::sig::MAX_SKEW_SECONDS {
        return Err(unverified("X-Sdk-Date is too far from the server's clock"));
    }
    let (mut parts, body) = req.into_parts();
    let Some(caller) = parts.extensions.get::<Caller>().cloned() else {
        return Err(unverified("no authenticated caller"));
    };
    // Authentication read the body and left it here; collected again only
    // where it did not (the layer always runs after it).
    let bytes = match parts.extensions.get::<ReadBody>() {
        Some(ReadBody(read)) => read.clone(),
        None => axum::body::to_bytes(body, app.limits.max_body_bytes)
            .await
            .map_err(|_| KmsError::BadBody("The request body is too large.".into()))?,
    };
    let project = caller.project().to_owned();
    let ap_id = id.clone();
    let ap = app
        .db
        .read(move |tx| store::find_access_point(tx, &project, &ap_id))
        .await?
        .ok_or(unverified("no such access point in this project"))?;
    keyspace_check(&ap)?;
    let text = string_to_sign(
        &id,
        &date,
        parts.method.as_str(),
        parts.uri.path(),
        &hex::encode(Sha256::digest(&bytes)),
    );
    if !ap_key::verify(&ap.public_key, text.as_bytes(), &signature) {
        return Err(unverified("the signature does not verify"));
    }
    if let Some(c) = parts.extensions.get_mut::<Caller>() {
        c.access_point = Some(id);
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// Only an enabled access point with a public key can vouch for a request.
fn keyspace_check(ap: &AccessPointRecord) -> Result<(), KmsError> {
    if ap.state != AccessPointState::Enabled {
        return Err(KmsError::AccessPointUnverified(
            "the access point is disabled",
        ));
    }
    if ap.kind == keyspace::AccessPointType::Ecs {
        // dewstack's choice: there is no instance identity service to
        // attest an ECS instance, so an ECS access point cannot vouch.
        return Err(KmsError::AccessPointUnverified(
            "dewstack cannot attest an ECS instance",
        ));
    }
    Ok(())
}
