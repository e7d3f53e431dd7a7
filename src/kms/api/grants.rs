//! Grants: CreateGrant, ListGrants, ListRetirableGrants, CancelGrant (revoke),
//! CancelSelfGrant (retire). What a grant allows is decided in
//! `domain/grants.rs`, and applied to key use by `access::usable_key`.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::paging;
use crate::kms::access::{self, Requester};
use crate::kms::domain;
use crate::kms::domain::grants::{self as rules, op, GrantFields, NewGrant};
use crate::kms::error::KmsError;
use crate::kms::store;
use crate::kms::store::grants::{GrantRecord, PrincipalType};
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

fn principal_exists(app: &AppState, kind: PrincipalType, id: &str) -> bool {
    let dir = &app.directory;
    match kind {
        PrincipalType::Domain => dir.domain(id).is_some(),
        PrincipalType::User => dir
            .domains
            .iter()
            .any(|d| d.users.iter().any(|u| u.id == id)),
    }
}

fn info(g: &GrantRecord) -> GrantInfo {
    GrantInfo {
        key_id: g.key_id.clone(),
        grant_id: g.grant_id.clone(),
        grantee_principal: g.grantee_principal.clone(),
        grantee_principal_type: g.grantee_principal_type.as_str().to_owned(),
        operations: g.operations.clone(),
        issuing_principal: g.issuing_principal.clone(),
        creation_date: g.creation_ms.to_string(),
        name: g.name.clone(),
        retiring_principal: g.retiring_principal.clone().unwrap_or_default(),
    }
}

pub async fn create_grant(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<CreateGrantRequest>,
) -> Result<Json<CreateGrantResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let new = NewGrant::validate(GrantFields {
        key_id: req.key_id.as_deref(),
        grantee_principal: req.grantee_principal.as_deref(),
        grantee_principal_type: req.grantee_principal_type.as_deref(),
        operations: req.operations.as_deref(),
        name: req.name.as_deref(),
        retiring_principal: req.retiring_principal.as_deref(),
    })?;
    let grant_id = grant(&app, &caller, new).await?;
    Ok(Json(CreateGrantResponse { grant_id }))
}

/// Records a grant on a key the caller may grant (its own, or one granted
/// to it with `create-grant`); returns the new grant's id.
async fn grant(app: &AppState, caller: &Caller, new: NewGrant) -> Result<String, KmsError> {
    if !principal_exists(app, new.kind, &new.grantee) {
        return Err(KmsError::InvalidPrincipal);
    }
    let grant_id = hex::encode(crate::common::crypto::random_bytes(&app.rng, 32).as_slice());
    let now = app.clock.now().timestamp_millis();
    let who = Requester::caller(caller);
    let issuer = caller.user_id.clone();
    let (project, domain_id) = (caller.project().to_owned(), caller.domain_id.clone());
    let id = grant_id.clone();
    app.db
        .tx(move |tx| {
            let key = access::usable_key_tx(tx, &who, &new.key_id, op::CREATE_GRANT, now)?;
            rules::check_grantable(&key)?;
            let existing = store::grants::for_key(tx, &key.project_id, &key.key_id)?;
            if key.project_id != project {
                rules::check_delegation(&existing, &issuer, &domain_id, &new.operations)?;
            }
            rules::check_grant_quota(existing.len())?;
            // Keys written before the global index existed join it here.
            store::index_owner(tx, &key)?;
            store::grants::insert(
                tx,
                &GrantRecord {
                    grant_id: id.clone(),
                    key_id: key.key_id.clone(),
                    project_id: key.project_id.clone(),
                    name: new.name.clone(),
                    grantee_principal: new.grantee.clone(),
                    grantee_principal_type: new.kind,
                    operations: new.operations.clone(),
                    issuing_principal: issuer.clone(),
                    retiring_principal: new.retiring.clone(),
                    creation_ms: now,
                },
            )
        })
        .await?;
    Ok(grant_id)
}

fn page_of(
    all: Vec<GrantRecord>,
    limit: Option<&str>,
    marker: Option<&str>,
) -> Result<ListGrantsResponse, KmsError> {
    let limit = paging::parse_limit(limit, 100, 100).map_err(|_| KmsError::LimitOutOfRange)?;
    let offset = paging::parse_offset(marker).map_err(|_| KmsError::InvalidMarker)?;
    let total = all.len() as i64;
    let page = paging::page(all, offset, limit);
    Ok(ListGrantsResponse {
        grants: page.items.iter().map(info).collect(),
        next_marker: page.next.map(|n| n.to_string()).unwrap_or_default(),
        truncated: page.next.is_some().to_string(),
        total,
    })
}

pub async fn list_grants(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<ListGrantsRequest>,
) -> Result<Json<ListGrantsResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let project = caller.project().to_owned();
    let all = app
        .db
        .tx(move |tx| {
            store::load(tx, &project, &key_id)?;
            store::grants::for_key(tx, &project, &key_id)
        })
        .await?;
    Ok(Json(page_of(
        all,
        req.limit.as_deref(),
        req.marker.as_deref(),
    )?))
}

pub async fn list_retirable_grants(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<ListRetirableGrantsRequest>,
) -> Result<Json<ListGrantsResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let user = caller.user_id.clone();
    let all = app
        .db
        .tx(move |tx| store::grants::retirable_by(tx, &user))
        .await?;
    Ok(Json(page_of(
        all,
        req.limit.as_deref(),
        req.marker.as_deref(),
    )?))
}

/// Revoke: the key owner removes a grant.
pub async fn cancel_grant(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<RevokeGrantRequest>,
) -> Result<Json<Empty>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let grant_id = rules::parse_grant_id(req.grant_id.as_deref())?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            store::load(tx, &project, &key_id)?;
            let g = store::grants::find(tx, &project, &key_id, &grant_id)?
                .ok_or(KmsError::GrantNotFound)?;
            store::grants::remove(tx, &g)
        })
        .await?;
    Ok(Json(Empty {}))
}

/// Retire: the retiring principal, or a grantee allowed "retire-grant", or
/// the key owner, removes a grant.
pub async fn cancel_self_grant(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<RevokeGrantRequest>,
) -> Result<Json<Empty>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let grant_id = rules::parse_grant_id(req.grant_id.as_deref())?;
    let project = caller.project().to_owned();
    let (user, dom) = (caller.user_id.clone(), caller.domain_id.clone());
    app.db
        .tx(move |tx| {
            let owner = match store::find(tx, &project, &key_id)? {
                Some(_) => Some(project.clone()),
                None => store::owner_project(tx, &key_id)?,
            };
            let g = match owner {
                Some(o) => store::grants::find(tx, &o, &key_id, &grant_id)?,
                None => None,
            }
            .ok_or(KmsError::GrantNotFound)?;
            if !rules::may_retire(&g, &project, &user, &dom) {
                return Err(KmsError::InvalidPrincipal);
            }
            store::grants::remove(tx, &g)
        })
        .await?;
    Ok(Json(Empty {}))
}
