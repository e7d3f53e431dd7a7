//! Endpoint handlers (the consumer side): create, list, show, whitelist,
//! route tables, policy, delete, upgrade.

use super::domain::ENDPOINT_QUOTA;
use super::domain::{self, parse_required_uuid, parse_uuid, EndpointStatus};
use super::error::VpcepError;
use super::pool::{self, LOOPBACK_POOL, SUBNET_POOL};
use super::proxy::{self, LOOPBACK};
use super::store::{self, EndpointRecord};
use super::view::*;
use super::wire::VpcepBody;
use super::wire::*;
use super::{permission, tags};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::rng::Rng;
use crate::server::state::AppState;
use crate::store::Tx;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

#[derive(serde::Deserialize)]
pub struct EndpointPath {
    vpc_endpoint_id: String,
}

pub fn parse_endpoint_id(raw: &str) -> Result<String, VpcepError> {
    parse_uuid(Some(raw), VpcepError::InvalidEndpointId)
}

fn parse_routetables(raw: Option<Vec<String>>) -> Result<Vec<String>, VpcepError> {
    let mut out: Vec<String> = Vec::new();
    for id in raw.unwrap_or_default() {
        let id = parse_uuid(Some(&id), VpcepError::InvalidRouteTable)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A fresh 9-digit marker id no other endpoint has.
fn new_marker(tx: &mut dyn Tx, rng: &Rng) -> Result<i64, VpcepError> {
    for _ in 0..64 {
        let marker = rng.in_range(100_000_000..1_000_000_000) as i64;
        if !store::marker_taken(tx, marker)? {
            return Ok(marker);
        }
    }
    Err(VpcepError::Internal("no free marker id".into()))
}

pub async fn create_endpoint(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): VpcepBody<CreateEndpointRequest>,
) -> Result<Json<EndpointView>, VpcepError> {
    let service_id = parse_required_uuid(
        req.endpoint_service_id.as_deref(),
        VpcepError::ServiceIdEmpty,
        VpcepError::InvalidServiceId,
    )?;
    let vpc_id = parse_required_uuid(
        req.vpc_id.as_deref(),
        VpcepError::VpcIdEmpty,
        VpcepError::InvalidVpcId,
    )?;
    let subnet_id = req
        .subnet_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_uuid(Some(s), VpcepError::InvalidSubnetId))
        .transpose()?;
    let routetables = parse_routetables(req.routetables)?;
    let whitelist = pool::parse_whitelist(req.whitelist.as_deref().unwrap_or_default())?;
    let description = domain::parse_description(req.description.as_deref())?;
    let tags = tags::parse_initial(req.tags)?;
    let has_policy = req.policy_statement.is_some() || req.policy_document.is_some();
    let (policy_statement, policy_document) =
        domain::parse_policy(req.policy_statement, req.policy_document)?;
    let port_ip = req.port_ip.filter(|p| !p.trim().is_empty());
    let now = app.clock.now().timestamp_millis();
    let draft = EndpointRecord {
        id: app.rng.uuid().to_string(),
        project_id: caller.project().to_owned(),
        domain_id: caller.domain_id.clone(),
        service_id,
        service_project_id: String::new(),
        service_name: String::new(),
        service_type: String::new(),
        vpc_id,
        subnet_id,
        ip: None,
        pool: None,
        marker_id: 0,
        status: EndpointStatus::Creating,
        description,
        connection_description: String::new(),
        enable_dns: req.enable_dns.unwrap_or(false),
        whitelist,
        enable_whitelist: req.enable_whitelist.unwrap_or(false),
        routetables,
        policy_statement,
        policy_document,
        tags,
        professional: false,
        error: None,
        created_ms: now,
        updated_ms: now,
    };
    let region = app.region.to_string();
    let rng = app.rng.clone();
    let (e, s) = app
        .db
        .tx(move |tx| {
            let mut e = draft.clone();
            let s = store::find_service_anywhere(tx, &e.service_id)?
                .ok_or(VpcepError::ServiceNotFound)?;
            let entries = s.permissions.iter().map(|p| p.permission.as_str());
            if !permission::permits(&s.domain_id, entries, &e.domain_id) {
                return Err(VpcepError::NoPermission);
            }
            if has_policy && !enable_policy(&s) {
                return Err(VpcepError::InvalidPolicy);
            }
            if store::list_endpoints(tx, &e.project_id)?.len() >= ENDPOINT_QUOTA {
                return Err(VpcepError::QuotaExceeded);
            }
            if s.service_type == "interface" {
                let subnet = e.subnet_id.clone().ok_or(VpcepError::SubnetIdEmpty)?;
                let loopback = pool::is_loopback_backend(s.ip.as_deref());
                let (name, range) = match loopback {
                    true => (LOOPBACK.to_owned(), LOOPBACK_POOL),
                    false => (format!("subnet:{subnet}"), SUBNET_POOL),
                };
                let used = store::used_addresses(tx, &name)?;
                let ip = match &port_ip {
                    Some(raw) => {
                        let ip = pool::parse_port_ip(raw, loopback)?;
                        if used.contains(&ip) {
                            return Err(VpcepError::PortIpInUse);
                        }
                        ip
                    }
                    None => range.next_free(&used).ok_or(VpcepError::QuotaExceeded)?,
                };
                e.ip = Some(ip.to_string());
                e.pool = Some(name);
            } else {
                e.subnet_id = None;
                e.whitelist.clear();
            }
            e.service_project_id = s.project_id.clone();
            e.service_name = domain::full_service_name(&region, &s.name, &s.id);
            e.service_type = s.service_type.clone();
            e.marker_id = new_marker(tx, &rng)?;
            e.status = EndpointStatus::initial(s.approval_enabled);
            store::insert_endpoint(tx, &e)?;
            Ok((e, s))
        })
        .await?;
    if let Some(failed) =
        proxy::reconcile(&app.vpcep_proxy, &app.db, app.clock.as_ref(), &e, Some(&s)).await
    {
        return Ok(Json(EndpointView::of(&failed, &app.region)));
    }
    // The cloud answers while the endpoint is still being set up.
    Ok(Json(EndpointView::with_status(
        &e,
        &app.region,
        EndpointStatus::Creating,
    )))
}

pub async fn list_endpoints(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ListEndpointsQuery>,
) -> Result<Json<ListEndpointsResponse>, VpcepError> {
    let query = q.list_query()?;
    let project = caller.project().to_owned();
    let all = app
        .db
        .tx(move |tx| store::list_endpoints(tx, &project))
        .await?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (name, vpc, id) = (
        nonempty(&q.endpoint_service_name),
        nonempty(&q.vpc_id),
        nonempty(&q.id),
    );
    let matching: Vec<EndpointRecord> = all
        .into_iter()
        .filter(|e| {
            name.as_deref()
                .is_none_or(|n| domain::fuzzy_match(&e.service_name, n))
                && vpc.as_deref().is_none_or(|v| e.vpc_id == v)
                && id.as_deref().is_none_or(|i| e.id == i)
        })
        .collect();
    let total = matching.len() as i64;
    let page = query.apply(matching, |e| (e.created_ms, e.updated_ms, e.id.clone()));
    Ok(Json(ListEndpointsResponse {
        endpoints: page
            .iter()
            .map(|e| EndpointView::of(e, &app.region))
            .collect(),
        total_count: total,
    }))
}

pub async fn list_endpoint_info_details(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
) -> Result<Json<EndpointView>, VpcepError> {
    let id = parse_endpoint_id(&path.vpc_endpoint_id)?;
    let project = caller.project().to_owned();
    let e = app
        .db
        .tx(move |tx| store::load_endpoint(tx, &project, &id))
        .await?;
    Ok(Json(EndpointView::of(&e, &app.region)))
}

/// Loads the caller's endpoint, applies `change` (which also sees the
/// service's policy switch), saves it, all in one transaction.
async fn change_endpoint<F>(
    app: &AppState,
    caller: &Caller,
    raw_id: &str,
    mut change: F,
) -> Result<EndpointRecord, VpcepError>
where
    F: FnMut(&mut EndpointRecord, bool) -> Result<(), VpcepError> + Send + 'static,
{
    let id = parse_endpoint_id(raw_id)?;
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut e = store::load_endpoint(tx, &project, &id)?;
            if e.status == EndpointStatus::Failed {
                return Err(VpcepError::EndpointFailed);
            }
            let policy_ok = store::find_service(tx, &e.service_project_id, &e.service_id)?
                .is_some_and(|s| enable_policy(&s));
            change(&mut e, policy_ok)?;
            e.updated_ms = now;
            store::save_endpoint(tx, &e)?;
            Ok(e)
        })
        .await
}

pub async fn update_endpoint_white(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
    Body(req, _): VpcepBody<UpdateWhitelistRequest>,
) -> Result<Json<EndpointView>, VpcepError> {
    let whitelist = req
        .whitelist
        .as_deref()
        .map(pool::parse_whitelist)
        .transpose()?;
    let enable = req.enable_whitelist;
    let e = change_endpoint(&app, &caller, &path.vpc_endpoint_id, move |e, _| {
        if let Some(w) = &whitelist {
            e.whitelist = w.clone();
        }
        if let Some(on) = enable {
            e.enable_whitelist = on;
        }
        Ok(())
    })
    .await?;
    Ok(Json(EndpointView::of(&e, &app.region)))
}

pub async fn update_endpoint_routetable(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
    Body(req, _): VpcepBody<RoutetablesRequest>,
) -> Result<Json<RoutetablesResponse>, VpcepError> {
    let routetables = parse_routetables(req.routetables)?;
    let e = change_endpoint(&app, &caller, &path.vpc_endpoint_id, move |e, _| {
        if e.service_type != "gateway" {
            return Err(VpcepError::InvalidParameter("routetables"));
        }
        e.routetables = routetables.clone();
        Ok(())
    })
    .await?;
    Ok(Json(RoutetablesResponse {
        routetables: e.routetables,
    }))
}

pub async fn update_endpoint_policy(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
    Body(req, _): VpcepBody<PolicyRequest>,
) -> Result<Json<EndpointView>, VpcepError> {
    if req.policy_statement.is_none() && req.policy_document.is_none() {
        return Err(VpcepError::InvalidPolicy);
    }
    let (statement, document) = domain::parse_policy(req.policy_statement, req.policy_document)?;
    let e = change_endpoint(&app, &caller, &path.vpc_endpoint_id, move |e, policy_ok| {
        if !policy_ok {
            return Err(VpcepError::InvalidPolicy);
        }
        e.policy_statement = statement.clone();
        e.policy_document = document.clone();
        Ok(())
    })
    .await?;
    Ok(Json(EndpointView::of(&e, &app.region)))
}

pub async fn delete_endpoint_policy(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
) -> Result<Json<EndpointView>, VpcepError> {
    let e = change_endpoint(&app, &caller, &path.vpc_endpoint_id, |e, _| {
        if e.policy_statement.is_none() && e.policy_document.is_none() {
            return Err(VpcepError::NoPolicy);
        }
        e.policy_statement = None;
        e.policy_document = None;
        Ok(())
    })
    .await?;
    Ok(Json(EndpointView::of(&e, &app.region)))
}

pub async fn delete_endpoint(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
) -> Result<StatusCode, VpcepError> {
    let id = parse_endpoint_id(&path.vpc_endpoint_id)?;
    let project = caller.project().to_owned();
    let e = app
        .db
        .tx(move |tx| {
            let e = store::load_endpoint(tx, &project, &id)?;
            store::delete_endpoint(tx, &e)?;
            Ok::<_, VpcepError>(e)
        })
        .await?;
    proxy::close(&app.vpcep_proxy, &e.id).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn upgrade_endpoint(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<EndpointPath>,
    Body(req, _): VpcepBody<UpgradeEndpointRequest>,
) -> Result<StatusCode, VpcepError> {
    if req.action.as_deref().unwrap_or("start") != "start" {
        return Err(VpcepError::InvalidAction);
    }
    change_endpoint(&app, &caller, &path.vpc_endpoint_id, |e, _| {
        e.professional = true;
        Ok(())
    })
    .await?;
    Ok(StatusCode::OK)
}
