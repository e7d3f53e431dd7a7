//! Connection handlers (the provider side of endpoints): list the endpoints
//! connected to one of the caller's services, accept or reject them, and
//! describe them (UpdateEndpointConnectionsDesc). A provider reaches only
//! connections of its own services; endpoint ids not connected to the service
//! are refused with EndPoint.2013 and nothing changes.

use super::endpoints::parse_endpoint_id;
use super::services::parse_service_id;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::server::state::AppState;
use crate::vpcep::domain::{self, ConnectionAction, EndpointStatus};
use crate::vpcep::error::VpcepError;
use crate::vpcep::proxy;
use crate::vpcep::store::{self, EndpointRecord, ServiceRecord};
use crate::vpcep::view::*;
use crate::vpcep::wire::VpcepBody;
use crate::vpcep::wire::VpcepQuery;
use crate::vpcep::wire::*;
use axum::extract::{Path, State};

#[derive(serde::Deserialize)]
pub struct ServicePath {
    vpc_endpoint_service_id: String,
}

/// Newest first, as in the API reference's example.
fn newest_first(mut endpoints: Vec<EndpointRecord>) -> Vec<EndpointRecord> {
    endpoints.sort_by(|a, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
    endpoints
}

pub async fn list_service_connections(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Query(q, _): VpcepQuery<ListConnectionsQuery>,
) -> Result<Json<ConnectionsResponse>, VpcepError> {
    let service_id = parse_service_id(&path.vpc_endpoint_service_id)?;
    let query = q.list_query()?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(EndpointStatus::parse_filter)
        .transpose()?;
    let marker = q
        .marker_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|m| {
            m.trim()
                .parse::<i64>()
                .map_err(|_| VpcepError::InvalidMarkerId)
        })
        .transpose()?;
    let id = q.id.filter(|s| !s.is_empty());
    let project = caller.project().to_owned();
    let all = app
        .db
        .tx(move |tx| {
            let s = store::load_service(tx, &project, &service_id)?;
            store::connections(tx, &s.id)
        })
        .await?;
    let matching: Vec<EndpointRecord> = all
        .into_iter()
        .filter(|e| {
            status.is_none_or(|s| e.status == s)
                && marker.is_none_or(|m| e.marker_id == m)
                && id.as_deref().is_none_or(|i| e.id == i)
        })
        .collect();
    let total = matching.len() as i64;
    let page = query.apply(matching, |e| (e.created_ms, e.updated_ms, e.id.clone()));
    Ok(Json(ConnectionsResponse {
        connections: page.iter().map(ConnectionView::of).collect(),
        total_count: Some(total),
    }))
}

/// The endpoint ids of a request: present, well-formed, each once.
fn parse_ids(raw: impl IntoIterator<Item = Option<String>>) -> Result<Vec<String>, VpcepError> {
    let mut ids: Vec<String> = Vec::new();
    for id in raw {
        let id = parse_endpoint_id(id.as_deref().unwrap_or_default())?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(VpcepError::EmptyParameter);
    }
    if ids.len() > 100 {
        return Err(VpcepError::BatchTooLarge);
    }
    Ok(ids)
}

/// In one transaction: loads the caller's service and each listed connected
/// endpoint (all of them, or fail before writing), applies `change`, saves.
async fn change_connections<F>(
    app: &AppState,
    caller: &Caller,
    raw_service_id: &str,
    ids: Vec<String>,
    mut change: F,
) -> Result<(ServiceRecord, Vec<EndpointRecord>), VpcepError>
where
    F: FnMut(&mut EndpointRecord) -> Result<(), VpcepError> + Send + 'static,
{
    let service_id = parse_service_id(raw_service_id)?;
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let s = store::load_service(tx, &project, &service_id)?;
            let mut changed = Vec::new();
            for id in &ids {
                let mut e =
                    store::find_connection(tx, &s.id, id)?.ok_or(VpcepError::NotConnected)?;
                change(&mut e)?;
                e.updated_ms = now;
                changed.push(e);
            }
            for e in &changed {
                store::save_endpoint(tx, e)?;
            }
            Ok((s, changed))
        })
        .await
}

pub async fn accept_or_reject_endpoint(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<ConnectionActionRequest>,
) -> Result<Json<ConnectionsResponse>, VpcepError> {
    let action = ConnectionAction::parse(req.action.as_deref())?;
    let ids = parse_ids(req.endpoints.unwrap_or_default().into_iter().map(Some))?;
    let (s, changed) = change_connections(
        &app,
        &caller,
        &path.vpc_endpoint_service_id,
        ids,
        move |e| {
            e.status = action.apply(e.status)?;
            Ok(())
        },
    )
    .await?;
    let mut out = Vec::new();
    for e in changed {
        let failed =
            proxy::reconcile(&app.vpcep_proxy, &app.db, app.clock.as_ref(), &e, Some(&s)).await;
        out.push(failed.unwrap_or(e));
    }
    Ok(Json(ConnectionsResponse {
        connections: newest_first(out).iter().map(ConnectionView::of).collect(),
        total_count: None,
    }))
}

/// The seed operation: sets the provider's description of each listed
/// connection and answers with those connections.
pub async fn update_endpoint_connections_desc(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<ServicePath>,
    Body(req, _): VpcepBody<ConnectionsDescRequest>,
) -> Result<Json<ConnectionsResponse>, VpcepError> {
    let items = req.connections.unwrap_or_default();
    let mut descriptions: Vec<(String, String)> = Vec::new();
    for item in &items {
        let id = parse_endpoint_id(item.id.as_deref().unwrap_or_default())?;
        let text = item
            .description
            .as_deref()
            .ok_or(VpcepError::InvalidParameter("description"))?;
        let text = domain::parse_description(Some(text))?;
        // A later entry for the same endpoint wins.
        descriptions.retain(|(have, _)| *have != id);
        descriptions.push((id, text));
    }
    let ids = parse_ids(descriptions.iter().map(|(id, _)| Some(id.clone())))?;
    let (_, changed) = change_connections(
        &app,
        &caller,
        &path.vpc_endpoint_service_id,
        ids,
        move |e| {
            if let Some((_, text)) = descriptions.iter().find(|(id, _)| *id == e.id) {
                e.connection_description = text.clone();
            }
            Ok(())
        },
    )
    .await?;
    Ok(Json(ConnectionsResponse {
        connections: newest_first(changed)
            .iter()
            .map(ConnectionView::of)
            .collect(),
        total_count: None,
    }))
}
