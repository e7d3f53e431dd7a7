//! Endpoint handlers (the consumer side): create, list, show, whitelist,
//! route tables, policy, delete, upgrade.

use super::endpoint_create::{parse_routetables, EndpointDraft};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::server::state::AppState;
use crate::vpcep::domain::{self, parse_uuid, EndpointStatus};
use crate::vpcep::error::VpcepError;
use crate::vpcep::proxy;
use crate::vpcep::store::{self, EndpointRecord};
use crate::vpcep::view::*;
use crate::vpcep::whitelist;
use crate::vpcep::wire::VpcepBody;
use crate::vpcep::wire::VpcepQuery;
use crate::vpcep::wire::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(serde::Deserialize)]
pub struct EndpointPath {
    vpc_endpoint_id: String,
}

pub fn parse_endpoint_id(raw: &str) -> Result<String, VpcepError> {
    parse_uuid(Some(raw), VpcepError::InvalidEndpointId)
}

pub async fn create_endpoint(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): VpcepBody<CreateEndpointRequest>,
) -> Result<Json<EndpointView>, VpcepError> {
    let now = app.clock.now().timestamp_millis();
    let draft = EndpointDraft::from_request(req, &caller, &app.rng, now)?;
    let (region, rng) = (app.region.to_string(), app.rng.clone());
    let (e, s) = app.db.tx(move |tx| draft.place(tx, &region, &rng)).await?;
    let failed = proxy::reconcile(&app.vpcep_proxy, &app.db, app.clock.as_ref(), &e, Some(&s));
    if let Some(failed) = failed.await {
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
    Query(q, _): VpcepQuery<ListEndpointsQuery>,
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
/// service's policy switch), saves it, all in one transaction; then brings
/// its forwarding in line.
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
    let (e, s) = app
        .db
        .tx(move |tx| {
            let mut e = store::load_endpoint(tx, &project, &id)?;
            if e.status == EndpointStatus::Failed {
                return Err(VpcepError::EndpointFailed);
            }
            let s = store::find_service(tx, &e.service_project_id, &e.service_id)?;
            change(&mut e, s.as_ref().is_some_and(enable_policy))?;
            e.updated_ms = now;
            store::save_endpoint(tx, &e)?;
            Ok((e, s))
        })
        .await?;
    // The forwarder picks up what changed (the whitelist) without reopening.
    let failed = proxy::reconcile(
        &app.vpcep_proxy,
        &app.db,
        app.clock.as_ref(),
        &e,
        s.as_ref(),
    );
    Ok(failed.await.unwrap_or(e))
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
        .map(whitelist::parse_whitelist)
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
