//! Grants: CreateGrants, ListGrants, UpdateGrant and DeleteGrant. The rules
//! are in `grants.rs`; what a grant lets its grantee read is decided in
//! `access.rs`. Only the secret's own project manages its grants.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::error::CsmsError;
use crate::csms::grants::{self, GrantRecord};
use crate::csms::store;
use crate::csms::wire::GrantData;
use crate::csms::wire::{
    CsmsBody, CsmsQuery, GrantDto, GrantQuery, GrantRequest, GrantResponse, GrantUserInfo,
    ListGrantsResponse,
};
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// The grantee's domain, if the user exists anywhere in dewstack's directory.
/// Users of other domains are accepted as KMS grants accept them: inside a
/// domain every dewstack user already reaches every project (there are no
/// IAM policies), so a grant changes what a user of another domain may read
/// (dewstack's choice; the cloud grants to the account's users).
fn grantee_domain(app: &AppState, user_id: &str) -> Result<String, CsmsError> {
    app.directory
        .domains
        .iter()
        .find(|d| d.users.iter().any(|u| u.id == user_id))
        .map(|d| d.id.clone())
        .ok_or(CsmsError::GranteeNotFound)
}

fn resource_of(raw: Option<&str>) -> Result<String, CsmsError> {
    grants::parse_resource_id(raw)
}

pub async fn create_grants(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<GrantRequest>,
) -> Result<Json<GrantResponse>, CsmsError> {
    let resource = resource_of(req.resource_id.as_deref())?;
    grants::parse_resource_type(req.resource_type.as_deref())?;
    grants::parse_grantee_type(req.grantee_type.as_deref())?;
    let grantee = grants::parse_grantee(req.grantee_target_id.as_deref(), "grantee_target_id")?;
    let now = app.clock.now().timestamp_millis();
    let validity = grants::parse_validity(req.validity_time.as_deref(), now)?;
    let grantee_domain = grantee_domain(&app, &grantee)?;
    let project = caller.project().to_owned();
    let id = app.rng.uuid().to_string();
    let saved = app
        .db
        .tx(move |tx| {
            let secret = store::load_secret_by_id(tx, &project, &resource)?;
            secret.state.check_usable()?;
            // Granting again to the same user replaces the end of validity
            // and keeps the grant's id (dewstack's choice).
            let old = grants::find(tx, &project, &secret.id, &grantee)?;
            let grant = GrantRecord {
                id: old.as_ref().map_or_else(|| id.clone(), |g| g.id.clone()),
                project_id: project.clone(),
                secret_id: secret.id.clone(),
                secret_name: secret.name.clone(),
                grantee: grantee.clone(),
                grantee_domain: grantee_domain.clone(),
                create_ms: old.as_ref().map_or(now, |g| g.create_ms),
                update_ms: now,
                validity_ms: validity,
            };
            grants::save(tx, &grant)?;
            Ok::<_, CsmsError>(grant)
        })
        .await?;
    Ok(Json(GrantResponse {
        data: GrantData::of(&saved, now),
    }))
}

pub async fn list_grants(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<GrantQuery>,
) -> Result<Json<ListGrantsResponse>, CsmsError> {
    let resource = resource_of(q.resource_id.as_deref())?;
    let project = caller.project().to_owned();
    let (secret, list) = app
        .db
        .read(move |tx| {
            let secret = store::load_secret_by_id(tx, &project, &resource)?;
            let list = grants::of_secret(tx, &project, &secret.id)?;
            Ok::<_, CsmsError>((secret, list))
        })
        .await?;
    let user_name = |g: &GrantRecord| {
        app.directory
            .user(&g.grantee_domain, &g.grantee)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    Ok(Json(ListGrantsResponse {
        data: GrantDto {
            id: secret.id.clone(),
            name: secret.name.clone(),
            resource_type: grants::SECRET,
            grantee_user: list
                .iter()
                .map(|g| GrantUserInfo {
                    user_id: g.grantee.clone(),
                    user_name: user_name(g),
                    create_time: g.create_ms,
                    validity_time: g.validity_ms,
                })
                .collect(),
            create_time: list
                .iter()
                .map(|g| g.create_ms)
                .min()
                .unwrap_or(secret.create_ms),
            update_time: list
                .iter()
                .map(|g| g.update_ms)
                .max()
                .unwrap_or(secret.update_ms),
        },
    }))
}

/// Changes the end of validity of the grant to `grantee_target_id`.
pub async fn update_grant(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<GrantQuery>,
    Body(req, _): CsmsBody<GrantRequest>,
) -> Result<Json<GrantResponse>, CsmsError> {
    let resource = resource_of(q.resource_id.as_deref().or(req.resource_id.as_deref()))?;
    let grantee = grants::parse_grantee(req.grantee_target_id.as_deref(), "grantee_target_id")?;
    let now = app.clock.now().timestamp_millis();
    let validity = grants::parse_validity(req.validity_time.as_deref(), now)?;
    let project = caller.project().to_owned();
    let saved = app
        .db
        .tx(move |tx| {
            let secret = store::load_secret_by_id(tx, &project, &resource)?;
            let mut grant = grants::find(tx, &project, &secret.id, &grantee)?
                .ok_or(CsmsError::GrantNotFound)?;
            grant.validity_ms = validity;
            grant.update_ms = now;
            grants::save(tx, &grant)?;
            Ok::<_, CsmsError>(grant)
        })
        .await?;
    Ok(Json(GrantResponse {
        data: GrantData::of(&saved, now),
    }))
}

/// Deletes the grant to `grantee_user`, or every grant of the secret when no
/// grantee is named (the parameter is optional on the published page; what
/// its absence means is not documented: dewstack's choice).
pub async fn delete_grant(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<GrantQuery>,
) -> Result<StatusCode, CsmsError> {
    let resource = resource_of(q.resource_id.as_deref())?;
    let grantee = match q.grantee_user.as_deref().filter(|g| !g.is_empty()) {
        Some(g) => Some(grants::parse_grantee(Some(g), "grantee_user")?),
        None => None,
    };
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let secret = store::load_secret_by_id(tx, &project, &resource)?;
            match &grantee {
                None => grants::delete_all(tx, &project, &secret.id),
                Some(g) => {
                    let grant = grants::find(tx, &project, &secret.id, g)?
                        .ok_or(CsmsError::GrantNotFound)?;
                    grants::delete(tx, &grant)
                }
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
