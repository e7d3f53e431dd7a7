//! Endpoint service handlers (the provider side): create, list, show,
//! describe, update, rename, delete, upgrade, add server resources.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::server::state::AppState;
use crate::store::Tx;
use crate::vpcep::backend;
use crate::vpcep::domain::SERVICE_QUOTA;
use crate::vpcep::domain::{
    self, full_service_name, fuzzy_match, parse_required_uuid, parse_uuid, ListQuery,
};
use crate::vpcep::error::VpcepError;
use crate::vpcep::proxy;
use crate::vpcep::store::{self, ServerResourceRecord, ServiceRecord};
use crate::vpcep::tags;
use crate::vpcep::view::*;
use crate::vpcep::wire::VpcepBody;
use crate::vpcep::wire::VpcepQuery;
use crate::vpcep::wire::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(serde::Deserialize)]
pub struct ServicePath {
    vpc_endpoint_service_id: String,
}

pub fn parse_service_id(raw: &str) -> Result<String, VpcepError> {
    parse_uuid(Some(raw), VpcepError::InvalidServiceId)
}

fn parse_ports(items: &[PortItem]) -> Result<Vec<domain::PortMapping>, VpcepError> {
    let raw: Vec<_> = items
        .iter()
        .map(|p| (p.client_port, p.server_port, p.protocol.clone()))
        .collect();
    domain::parse_ports(&raw)
}

fn parse_port_id(raw: Option<&str>) -> Result<Option<String>, VpcepError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) => parse_uuid(Some(id), VpcepError::InvalidPortId).map(Some),
    }
}

/// Live connections (creating or accepted) of a service.
fn connection_count(tx: &mut dyn Tx, service_id: &str) -> Result<i64, VpcepError> {
    Ok(store::connections(tx, service_id)?
        .iter()
        .filter(|e| e.status.is_live())
        .count() as i64)
}

pub async fn create_endpoint_service(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): VpcepBody<CreateServiceRequest>,
) -> Result<Json<ServiceView>, VpcepError> {
    let server_type = domain::parse_server_type(req.server_type.as_deref())?;
    let service_type = domain::parse_service_type(req.service_type.as_deref())?;
    let vpc_id = parse_required_uuid(
        req.vpc_id.as_deref(),
        VpcepError::VpcIdEmpty,
        VpcepError::InvalidVpcId,
    )?;
    let port_id = parse_port_id(req.port_id.as_deref())?;
    let ip = domain::parse_service_ip(req.ip.as_deref())?;
    if port_id.is_none() && ip.is_none() {
        return Err(VpcepError::EmptyParameter);
    }
    let ports = parse_ports(req.ports.as_deref().unwrap_or_default())?;
    let name = domain::parse_service_name(req.service_name.as_deref())?;
    let description = domain::parse_description(req.description.as_deref())?;
    let tcp_proxy = domain::parse_tcp_proxy(req.tcp_proxy.as_deref())?;
    if req
        .ip_version
        .as_deref()
        .is_some_and(|v| !matches!(v, "ipv4" | "ipv6"))
    {
        return Err(VpcepError::InvalidParameter("ip_version"));
    }
    let tags = tags::parse_initial(req.tags)?;
    backend::check_service(ip.as_deref(), &ports, app.vpcep_proxy.api_addr())?;
    let now = app.clock.now().timestamp_millis();
    let record = ServiceRecord {
        id: app.rng.uuid().to_string(),
        project_id: caller.project().to_owned(),
        domain_id: caller.domain_id.clone(),
        name,
        server_type,
        service_type,
        vpc_id,
        port_id,
        ip,
        ports,
        approval_enabled: req.approval_enabled.unwrap_or(true),
        tcp_proxy,
        description,
        pool_id: app.rng.uuid().to_string(),
        tags,
        permissions: Vec::new(),
        server_resources: Vec::new(),
        professional: false,
        created_ms: now,
        updated_ms: now,
    };
    let saved = record.clone();
    app.db
        .tx(move |tx| {
            if store::count_services(tx, &saved.project_id)? >= SERVICE_QUOTA {
                return Err(VpcepError::QuotaExceeded);
            }
            store::save_service(tx, &saved)
        })
        .await?;
    Ok(Json(ServiceView::of(&record, &app.region, 0)))
}

pub async fn list_endpoint_service(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): VpcepQuery<ListServicesQuery>,
) -> Result<Json<ListServicesResponse>, VpcepError> {
    let query = ListQuery::parse(
        q.limit.as_deref(),
        q.offset.as_deref(),
        q.sort_key.as_deref(),
        q.sort_dir.as_deref(),
        1000,
    )?;
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if !matches!(s.as_str(), "creating" | "available" | "failed" | "deleting") {
            return Err(VpcepError::InvalidStatus);
        }
    }
    let project = caller.project().to_owned();
    let region = app.region.to_string();
    let (page, total) =
        app.db
            .tx(move |tx| {
                let matching: Vec<ServiceRecord> = store::list_services(tx, &project)?
                    .into_iter()
                    .filter(|s| {
                        q.endpoint_service_name.as_deref().is_none_or(|n| {
                            fuzzy_match(&full_service_name(&region, &s.name, &s.id), n)
                        }) && q.id.as_deref().is_none_or(|id| id.is_empty() || s.id == id)
                            && status.as_deref().is_none_or(|st| st == "available")
                    })
                    .collect();
                let total = matching.len() as i64;
                let mut page = Vec::new();
                for s in query.apply(matching, |s| (s.created_ms, s.updated_ms, s.id.clone())) {
                    let count = connection_count(tx, &s.id)?;
                    page.push((s, count));
                }
                Ok::<_, VpcepError>((page, total))
            })
            .await?;
    Ok(Json(ListServicesResponse {
        endpoint_services: page
            .iter()
            .map(|(s, n)| ServiceView::of(s, &app.region, *n))
            .collect(),
        total_count: total,
    }))
}

pub async fn list_service_details(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
) -> Result<Json<ServiceView>, VpcepError> {
    let id = parse_service_id(&path.vpc_endpoint_service_id)?;
    let project = caller.project().to_owned();
    let (s, n) = app
        .db
        .tx(move |tx| {
            let s = store::load_service(tx, &project, &id)?;
            let n = connection_count(tx, &s.id)?;
            Ok::<_, VpcepError>((s, n))
        })
        .await?;
    Ok(Json(ServiceView::of(&s, &app.region, n)))
}

/// Loads the caller's service, applies `change`, keeps connected endpoints'
/// copy of the service name in step, saves; then re-syncs their forwarding.
async fn change_service<F>(
    app: &AppState,
    caller: &Caller,
    raw_id: &str,
    mut change: F,
) -> Result<(ServiceRecord, i64), VpcepError>
where
    F: FnMut(&mut ServiceRecord) -> Result<(), VpcepError> + Send + 'static,
{
    let id = parse_service_id(raw_id)?;
    let project = caller.project().to_owned();
    let region = app.region.to_string();
    let now = app.clock.now().timestamp_millis();
    let api = app.vpcep_proxy.api_addr();
    let (s, endpoints) = app
        .db
        .tx(move |tx| {
            let mut s = store::load_service(tx, &project, &id)?;
            change(&mut s)?;
            backend::check_service(s.ip.as_deref(), &s.ports, api)?;
            s.updated_ms = now;
            store::save_service(tx, &s)?;
            let full = full_service_name(&region, &s.name, &s.id);
            let mut endpoints = store::connections(tx, &s.id)?;
            for e in endpoints.iter_mut().filter(|e| e.service_name != full) {
                e.service_name = full.clone();
                store::save_endpoint(tx, e)?;
            }
            Ok::<_, VpcepError>((s, endpoints))
        })
        .await?;
    for e in &endpoints {
        proxy::reconcile(&app.vpcep_proxy, &app.db, app.clock.as_ref(), e, Some(&s)).await;
    }
    let live = endpoints.iter().filter(|e| e.status.is_live()).count() as i64;
    Ok((s, live))
}

pub async fn update_endpoint_service(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<UpdateServiceRequest>,
) -> Result<Json<ServiceView>, VpcepError> {
    if req.port_id.is_some() && req.ip.is_some() {
        return Err(VpcepError::PortIdAndIp);
    }
    let name = req
        .service_name
        .as_deref()
        .map(|n| domain::parse_service_name(Some(n)))
        .transpose()?;
    let ports = req.ports.as_deref().map(parse_ports).transpose()?;
    let port_id = parse_port_id(req.port_id.as_deref())?;
    let ip = domain::parse_service_ip(req.ip.as_deref())?;
    let description = req
        .description
        .as_deref()
        .map(|d| domain::parse_description(Some(d)))
        .transpose()?;
    let tcp_proxy = req
        .tcp_proxy
        .as_deref()
        .map(|t| domain::parse_tcp_proxy(Some(t)))
        .transpose()?;
    let approval = req.approval_enabled;
    let (s, n) = change_service(&app, &caller, &path.vpc_endpoint_service_id, move |s| {
        if let Some(v) = &name {
            s.name = v.clone();
        }
        if let Some(v) = &ports {
            s.ports = v.clone();
        }
        if port_id.is_some() {
            s.port_id = port_id.clone();
        }
        if ip.is_some() {
            s.ip = ip.clone();
        }
        if let Some(v) = &description {
            s.description = v.clone();
        }
        if let Some(v) = &tcp_proxy {
            s.tcp_proxy = v.clone();
        }
        if let Some(v) = approval {
            s.approval_enabled = v;
        }
        Ok(())
    })
    .await?;
    Ok(Json(ServiceView::of(&s, &app.region, n)))
}

pub async fn update_endpoint_service_name(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<UpdateServiceNameRequest>,
) -> Result<Json<UpdateServiceNameResponse>, VpcepError> {
    let raw = req
        .endpoint_service_name
        .ok_or(VpcepError::EmptyParameter)?;
    let name = domain::parse_service_name(Some(&raw))?;
    let (s, _) = change_service(&app, &caller, &path.vpc_endpoint_service_id, move |s| {
        s.name = name.clone();
        Ok(())
    })
    .await?;
    Ok(Json(UpdateServiceNameResponse {
        endpoint_service_name: full_service_name(&app.region, &s.name, &s.id),
    }))
}

pub async fn delete_endpoint_service(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
) -> Result<StatusCode, VpcepError> {
    let id = parse_service_id(&path.vpc_endpoint_service_id)?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let s = store::load_service(tx, &project, &id)?;
            if store::has_connections(tx, &s.id)? {
                return Err(VpcepError::ServiceInUse);
            }
            store::delete_service(tx, &s)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn upgrade_endpoint_service(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
) -> Result<StatusCode, VpcepError> {
    change_service(&app, &caller, &path.vpc_endpoint_service_id, |s| {
        s.professional = true;
        Ok(())
    })
    .await?;
    Ok(StatusCode::OK)
}

pub async fn add_endpoint_service_server_resource(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<AddServerResourcesRequest>,
) -> Result<StatusCode, VpcepError> {
    let items = req.server_resources.unwrap_or_default();
    if items.is_empty() {
        return Err(VpcepError::EmptyParameter);
    }
    let mut added = Vec::new();
    for item in items {
        let resource_id = parse_uuid(
            item.resource_id.as_deref(),
            VpcepError::InvalidParameter("resource_id"),
        )?;
        let az = item
            .availability_zone_id
            .filter(|az| !az.trim().is_empty() && az.len() <= 64)
            .ok_or(VpcepError::InvalidParameter("availability_zone_id"))?;
        added.push(ServerResourceRecord {
            resource_id,
            availability_zone_id: az,
        });
    }
    change_service(&app, &caller, &path.vpc_endpoint_service_id, move |s| {
        if s.server_type != "LB" {
            return Err(VpcepError::InvalidServerType);
        }
        for r in &added {
            if !s
                .server_resources
                .iter()
                .any(|have| have.resource_id == r.resource_id)
            {
                s.server_resources.push(r.clone());
            }
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::OK)
}
