//! Whitelist handlers: which other domains may see and connect to one of the
//! caller's endpoint services. Matching rules are in `permission.rs`.
//! Removing an entry does not cut existing connections (as in the cloud).

use super::services::parse_service_id;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::server::state::AppState;
use crate::vpcep::domain;
use crate::vpcep::domain::PERMISSION_QUOTA;
use crate::vpcep::error::VpcepError;
use crate::vpcep::permission::{self, PermissionType};
use crate::vpcep::store::{self, PermissionRecord, ServiceRecord};
use crate::vpcep::view::*;
use crate::vpcep::wire::VpcepBody;
use crate::vpcep::wire::VpcepQuery;
use crate::vpcep::wire::*;
use axum::extract::{Path, State};

#[derive(serde::Deserialize)]
pub struct ServicePath {
    vpc_endpoint_service_id: String,
}

#[derive(serde::Deserialize)]
pub struct PermissionPath {
    vpc_endpoint_service_id: String,
    permission_id: String,
}

/// Most entries one batch may carry.
const MAX_BATCH: usize = 50;

/// Loads the caller's service, lets `change` edit its whitelist, saves.
async fn change_whitelist<F, T>(
    app: &AppState,
    caller: &Caller,
    raw_id: &str,
    mut change: F,
) -> Result<(ServiceRecord, T), VpcepError>
where
    F: FnMut(&mut ServiceRecord, i64) -> Result<T, VpcepError> + Send + 'static,
    T: Send + 'static,
{
    let id = parse_service_id(raw_id)?;
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut s = store::load_service(tx, &project, &id)?;
            let out = change(&mut s, now)?;
            if s.permissions.len() > PERMISSION_QUOTA {
                return Err(VpcepError::PermissionLimit);
            }
            store::save_service(tx, &s)?;
            Ok((s, out))
        })
        .await
}

/// Adds entries not already present; returns those that are new.
fn add_entries(
    s: &mut ServiceRecord,
    entries: &[(String, String)],
    now: i64,
    rng: &crate::rng::Rng,
) -> Vec<PermissionRecord> {
    let mut added = Vec::new();
    for (permission, description) in entries {
        if s.permissions.iter().any(|p| p.permission == *permission) {
            continue;
        }
        let record = PermissionRecord {
            id: rng.uuid().to_string(),
            permission: permission.clone(),
            description: description.clone(),
            created_ms: now,
        };
        s.permissions.push(record.clone());
        added.push(record);
    }
    added
}

fn views(s: &ServiceRecord) -> Vec<PermissionView> {
    s.permissions.iter().map(PermissionView::of).collect()
}

pub async fn add_or_remove_service_permissions(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<PermissionsActionRequest>,
) -> Result<Json<PermissionsActionResponse>, VpcepError> {
    let kind = PermissionType::parse(req.permission_type.as_deref())?;
    let adding = match req.action.as_deref() {
        Some("add") => true,
        Some("remove") => false,
        _ => return Err(VpcepError::InvalidAction),
    };
    let raw = req.permissions.unwrap_or_default();
    if raw.is_empty() {
        return Err(VpcepError::PermissionsEmpty);
    }
    let entries = raw
        .iter()
        .map(|p| permission::parse(p, kind).map(|p| (p, String::new())))
        .collect::<Result<Vec<_>, _>>()?;
    let rng = app.rng.clone();
    let (s, _) = change_whitelist(
        &app,
        &caller,
        &path.vpc_endpoint_service_id,
        move |s, now| {
            if adding {
                add_entries(s, &entries, now, &rng);
            } else {
                s.permissions
                    .retain(|p| !entries.iter().any(|(e, _)| *e == p.permission));
            }
            Ok(())
        },
    )
    .await?;
    Ok(Json(PermissionsActionResponse {
        permissions: s.permissions.iter().map(|p| p.permission.clone()).collect(),
        permission_type: kind.as_str().into(),
    }))
}

pub async fn batch_add_endpoint_service_permissions(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<BatchAddPermissionsRequest>,
) -> Result<Json<PermissionsResponse>, VpcepError> {
    let kind = PermissionType::parse(req.permission_type.as_deref())?;
    let raw = req.permissions.unwrap_or_default();
    if raw.is_empty() {
        return Err(VpcepError::PermissionsEmpty);
    }
    if raw.len() > MAX_BATCH {
        return Err(VpcepError::BatchTooLarge);
    }
    let mut entries = Vec::new();
    for item in &raw {
        let p = permission::parse(item.permission.as_deref().unwrap_or_default(), kind)?;
        let d = parse_permission_description(item.description.as_deref())?;
        entries.push((p, d));
    }
    let rng = app.rng.clone();
    let (_, added) = change_whitelist(
        &app,
        &caller,
        &path.vpc_endpoint_service_id,
        move |s, now| Ok(add_entries(s, &entries, now, &rng)),
    )
    .await?;
    Ok(Json(PermissionsResponse {
        permissions: added.iter().map(PermissionView::of).collect(),
        total_count: None,
    }))
}

pub async fn batch_remove_endpoint_service_permissions(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<BatchRemovePermissionsRequest>,
) -> Result<Json<PermissionsResponse>, VpcepError> {
    let raw = req.permissions.unwrap_or_default();
    if raw.is_empty() {
        return Err(VpcepError::PermissionsEmpty);
    }
    if raw.len() > MAX_BATCH {
        return Err(VpcepError::BatchTooLarge);
    }
    let ids = raw
        .iter()
        .map(|p| {
            domain::parse_uuid(
                p.id.as_deref(),
                VpcepError::InvalidParameter("permission id"),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (s, _) = change_whitelist(&app, &caller, &path.vpc_endpoint_service_id, move |s, _| {
        for id in &ids {
            if !s.permissions.iter().any(|p| p.id == *id) {
                return Err(VpcepError::InvalidParameter("permission id"));
            }
        }
        s.permissions.retain(|p| !ids.contains(&p.id));
        Ok(())
    })
    .await?;
    Ok(Json(PermissionsResponse {
        permissions: views(&s),
        total_count: None,
    }))
}

fn parse_permission_description(raw: Option<&str>) -> Result<String, VpcepError> {
    let d = domain::parse_description(raw)?;
    if d.chars().count() > 256 {
        return Err(VpcepError::InvalidDescription);
    }
    Ok(d)
}

pub async fn update_endpoint_service_permission_desc(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<PermissionPath>,
    Body(req, _): VpcepBody<UpdatePermissionDescRequest>,
) -> Result<Json<PermissionsResponse>, VpcepError> {
    let permission_id = domain::parse_uuid(
        Some(&path.permission_id),
        VpcepError::InvalidParameter("permission_id"),
    )?;
    let text = req
        .permission
        .and_then(|p| p.description)
        .ok_or(VpcepError::InvalidParameter("description"))?;
    let description = parse_permission_description(Some(&text))?;
    let (_, updated) =
        change_whitelist(&app, &caller, &path.vpc_endpoint_service_id, move |s, _| {
            let p = s
                .permissions
                .iter_mut()
                .find(|p| p.id == permission_id)
                .ok_or(VpcepError::NotFound)?;
            p.description = description.clone();
            Ok(p.clone())
        })
        .await?;
    Ok(Json(PermissionsResponse {
        permissions: vec![PermissionView::of(&updated)],
        total_count: None,
    }))
}

pub async fn list_service_permissions_details(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Query(q, _): VpcepQuery<ListPermissionsQuery>,
) -> Result<Json<PermissionsResponse>, VpcepError> {
    let id = parse_service_id(&path.vpc_endpoint_service_id)?;
    let query = q.list_query()?;
    let project = caller.project().to_owned();
    let s = app
        .db
        .tx(move |tx| store::load_service(tx, &project, &id))
        .await?;
    let filter = q.permission.filter(|p| !p.is_empty());
    let matching: Vec<PermissionRecord> = s
        .permissions
        .into_iter()
        .filter(|p| {
            filter
                .as_deref()
                .is_none_or(|f| domain::fuzzy_match(&p.permission, f))
        })
        .collect();
    let total = matching.len() as i64;
    let page = query.apply(matching, |p| (p.created_ms, p.created_ms, p.id.clone()));
    Ok(Json(PermissionsResponse {
        permissions: page.iter().map(PermissionView::of).collect(),
        total_count: Some(total),
    }))
}
