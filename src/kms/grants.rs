//! Grants: CreateGrant, ListGrants, ListRetirableGrants, CancelGrant (revoke),
//! CancelSelfGrant (retire), and `load_for`, the one place where a caller's
//! access to a key is decided: keys of the caller's project, or keys of
//! another project granted to the caller for the operation at hand.

use super::domain::{self, KeyState};
use super::error::KmsError;
use super::grant_store::{self, GrantRecord, PrincipalType};
use super::store::{self, KeyRecord};
use super::wire_admin::*;
use super::KmsBody;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::paging;
use crate::server::state::AppState;
use crate::store::Tx;
use axum::extract::State;
use axum::Json;

/// Operation names as grants list them: the values CreateGrantRequestBody's
/// `operations` accepts (SDK docstring and the cloud's CreateGrant page).
pub mod op {
    pub const CREATE_DATAKEY: &str = "create-datakey";
    pub const CREATE_DATAKEY_WITHOUT_PLAINTEXT: &str = "create-datakey-without-plaintext";
    pub const ENCRYPT_DATAKEY: &str = "encrypt-datakey";
    pub const DECRYPT_DATAKEY: &str = "decrypt-datakey";
    pub const DESCRIBE_KEY: &str = "describe-key";
    pub const CREATE_GRANT: &str = "create-grant";
    pub const RETIRE_GRANT: &str = "retire-grant";
    pub const ENCRYPT_DATA: &str = "encrypt-data";
    pub const DECRYPT_DATA: &str = "decrypt-data";
    // The cloud has no grant operation for these key uses, so no grant can
    // list them: a grantee is refused (403), and only the owner's project may
    // use the key. They are named after their API action.
    pub const SIGN: &str = "sign";
    pub const VERIFY: &str = "verify";
    pub const GET_PUBLICKEY: &str = "get-publickey";
    pub const GENERATE_MAC: &str = "generate-mac";
    pub const VERIFY_MAC: &str = "verify-mac";
    pub const DERIVE_SHARED_SECRET: &str = "derive-shared-secret";
    pub const CREATE_DATAKEY_CAPSULE: &str = "create-datakey-capsule";
    pub const DECRYPT_DATAKEY_CAPSULE: &str = "decrypt-datakey-capsule";
}

/// Operations a grant can allow, as the API names them.
pub const OPERATIONS: [&str; 9] = [
    op::CREATE_DATAKEY,
    op::CREATE_DATAKEY_WITHOUT_PLAINTEXT,
    op::ENCRYPT_DATAKEY,
    op::DECRYPT_DATAKEY,
    op::DESCRIBE_KEY,
    op::CREATE_GRANT,
    op::RETIRE_GRANT,
    op::ENCRYPT_DATA,
    op::DECRYPT_DATA,
];

/// Key uses that no grant can allow (see `op`).
pub const NOT_GRANTABLE: [&str; 8] = [
    op::SIGN,
    op::VERIFY,
    op::GET_PUBLICKEY,
    op::GENERATE_MAC,
    op::VERIFY_MAC,
    op::DERIVE_SHARED_SECRET,
    op::CREATE_DATAKEY_CAPSULE,
    op::DECRYPT_DATAKEY_CAPSULE,
];

/// The key `key_id` as `caller` may use it for `operation` (one of
/// `OPERATIONS`). A key of another project is found only through a grant
/// naming the caller; without one it does not exist for the caller (404), and
/// with grants that do not allow `operation` the call is refused (403).
pub async fn load_for(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
    operation: &'static str,
) -> Result<KeyRecord, KmsError> {
    let project = caller.project().to_owned();
    let (user, dom) = (caller.user_id.clone(), caller.domain_id.clone());
    let key_id = key_id.to_owned();
    app.db
        .read(move |tx| load_for_tx(tx, &project, &user, &dom, &key_id, operation))
        .await
}

pub fn load_for_tx(
    tx: &mut dyn Tx,
    project: &str,
    user_id: &str,
    domain_id: &str,
    key_id: &str,
    operation: &str,
) -> Result<KeyRecord, KmsError> {
    if let Some(key) = store::find(tx, project, key_id)? {
        return Ok(key);
    }
    let owner = match store::owner_project(tx, key_id)? {
        Some(owner) if owner != project => owner,
        _ => return Err(KmsError::KeyNotFound),
    };
    let grants = grant_store::for_key(tx, &owner, key_id)?;
    decide(&grants, user_id, domain_id, operation)?;
    store::load(tx, &owner, key_id)
}

/// The grant rule alone: some grant must name the caller (else 404) and allow the operation (else 403).
pub fn decide(
    grants: &[GrantRecord],
    user_id: &str,
    domain_id: &str,
    operation: &str,
) -> Result<(), KmsError> {
    let mine: Vec<&GrantRecord> = grants
        .iter()
        .filter(|g| g.names(user_id, domain_id))
        .collect();
    if mine.is_empty() {
        return Err(KmsError::KeyNotFound);
    }
    if mine.iter().any(|g| g.allows(operation)) {
        Ok(())
    } else {
        Err(KmsError::NoKeyPermission)
    }
}

/// `^[a-zA-Z0-9]{1,64}$`
pub fn parse_principal(raw: &str, field: &'static str) -> Result<String, KmsError> {
    if (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidParameter(field))
    }
}

/// Valid names, no duplicates, and never `create-grant` alone.
pub fn parse_operations(raw: Option<&[String]>) -> Result<Vec<String>, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("operations"))?;
    let mut ops: Vec<String> = Vec::new();
    for op in raw {
        if !OPERATIONS.contains(&op.as_str()) {
            return Err(KmsError::InvalidParameter("operations"));
        }
        if !ops.contains(op) {
            ops.push(op.clone());
        }
    }
    match ops.as_slice() {
        [] => Err(KmsError::InvalidParameter("operations")),
        [only] if only == op::CREATE_GRANT => Err(KmsError::GrantCreateOnly),
        _ => Ok(ops),
    }
}

/// `^[a-zA-Z0-9:/_-]{1,255}$`
pub fn parse_grant_name(raw: &str) -> Result<String, KmsError> {
    let ok = (1..=255).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidParameter("name"))
    }
}

/// `^[A-Fa-f0-9]{64}$`
pub fn parse_grant_id(raw: Option<&str>) -> Result<String, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("grant_id"))?;
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(KmsError::InvalidParameter("grant_id"))
    }
}

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
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let grantee = parse_principal(
        req.grantee_principal
            .as_deref()
            .ok_or(KmsError::MissingParameter("grantee_principal"))?,
        "grantee_principal",
    )?;
    let kind = match req.grantee_principal_type.as_deref() {
        None | Some("") | Some("user") => PrincipalType::User,
        Some("domain") => PrincipalType::Domain,
        Some(_) => return Err(KmsError::InvalidParameter("grantee_principal_type")),
    };
    let operations = parse_operations(req.operations.as_deref())?;
    let name = match req.name.as_deref() {
        None => String::new(),
        Some(n) => parse_grant_name(n)?,
    };
    let retiring = req
        .retiring_principal
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| parse_principal(r, "retiring_principal"))
        .transpose()?;
    if !principal_exists(&app, kind, &grantee) {
        return Err(KmsError::InvalidPrincipal);
    }
    let grant_id = hex::encode(crate::common::crypto::random_bytes(32).as_slice());
    let now = app.clock.now().timestamp_millis();
    let (project, user, dom) = (
        caller.project().to_owned(),
        caller.user_id.clone(),
        caller.domain_id.clone(),
    );
    let id = grant_id.clone();
    app.db
        .tx(move |tx| {
            let key = load_for_tx(tx, &project, &user, &dom, &key_id, op::CREATE_GRANT)?;
            if key.default_key {
                return Err(KmsError::DefaultKey);
            }
            match key.key_state {
                KeyState::PendingDeletion => return Err(KmsError::KeyPendingDeletionUnusable),
                KeyState::Frozen => return Err(KmsError::KeyFrozen),
                _ => {}
            }
            if grant_store::for_key(tx, &key.project_id, &key.key_id)?.len()
                >= super::GRANTS_PER_KEY_QUOTA as usize
            {
                return Err(KmsError::GrantQuotaExceeded);
            }
            // Keys written before the global index existed join it here.
            store::index_owner(tx, &key)?;
            grant_store::insert(
                tx,
                &GrantRecord {
                    grant_id: id.clone(),
                    key_id: key.key_id.clone(),
                    project_id: key.project_id.clone(),
                    name: name.clone(),
                    grantee_principal: grantee.clone(),
                    grantee_principal_type: kind,
                    operations: operations.clone(),
                    issuing_principal: user.clone(),
                    retiring_principal: retiring.clone(),
                    creation_ms: now,
                },
            )
        })
        .await?;
    Ok(Json(CreateGrantResponse { grant_id }))
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
            grant_store::for_key(tx, &project, &key_id)
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
        .tx(move |tx| grant_store::retirable_by(tx, &user))
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
    let grant_id = parse_grant_id(req.grant_id.as_deref())?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            store::load(tx, &project, &key_id)?;
            let g = grant_store::find(tx, &project, &key_id, &grant_id)?
                .ok_or(KmsError::GrantNotFound)?;
            grant_store::remove(tx, &g)
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
    let grant_id = parse_grant_id(req.grant_id.as_deref())?;
    let project = caller.project().to_owned();
    let (user, dom) = (caller.user_id.clone(), caller.domain_id.clone());
    app.db
        .tx(move |tx| {
            let owner = match store::find(tx, &project, &key_id)? {
                Some(_) => Some(project.clone()),
                None => store::owner_project(tx, &key_id)?,
            };
            let g = match owner {
                Some(o) => grant_store::find(tx, &o, &key_id, &grant_id)?,
                None => None,
            }
            .ok_or(KmsError::GrantNotFound)?;
            if !may_retire(&g, &project, &user, &dom) {
                return Err(KmsError::InvalidPrincipal);
            }
            grant_store::remove(tx, &g)
        })
        .await?;
    Ok(Json(Empty {}))
}

pub fn may_retire(g: &GrantRecord, project: &str, user_id: &str, domain_id: &str) -> bool {
    g.project_id == project
        || g.retiring_principal.as_deref() == Some(user_id)
        || (g.names(user_id, domain_id) && g.allows(op::RETIRE_GRANT))
}

#[cfg(test)]
#[path = "grants_tests.rs"]
mod tests;
