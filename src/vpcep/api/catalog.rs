//! What consumers can find: ListServiceDescribeDetails (one service the
//! caller's domain may connect to) and ListServicePublicDetails (services
//! whose whitelist admits every domain).

use super::services::parse_service_id;
use crate::auth::Caller;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::server::state::AppState;
use crate::vpcep::domain::{self, full_service_name, fuzzy_match};
use crate::vpcep::error::VpcepError;
use crate::vpcep::permission;
use crate::vpcep::store::{self, ServiceRecord};
use crate::vpcep::view::*;
use crate::vpcep::wire::VpcepQuery;
use crate::vpcep::wire::*;
use axum::extract::State;

/// The consumer's view: any service the caller's domain may connect to, by
/// id or by full name; others do not exist (EndPoint.2003).
pub async fn list_service_describe_details(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): VpcepQuery<DescribeQuery>,
) -> Result<Json<DescribeServiceResponse>, VpcepError> {
    let id = q.id.filter(|s| !s.is_empty());
    let name = q.endpoint_service_name.filter(|s| !s.is_empty());
    let id = id.map(|id| parse_service_id(&id)).transpose()?;
    if id.is_none() && name.is_none() {
        return Err(VpcepError::EmptyParameter);
    }
    let region = app.region.to_string();
    let domain_id = caller.domain_id.clone();
    let found = app
        .db
        .tx(move |tx| {
            let candidates = match &id {
                Some(id) => store::find_service_anywhere(tx, id)?.into_iter().collect(),
                None => store::all_services(tx)?,
            };
            Ok::<_, VpcepError>(candidates.into_iter().find(|s| {
                name.as_deref()
                    .is_none_or(|n| n == full_service_name(&region, &s.name, &s.id))
                    && permission::permits(
                        &s.domain_id,
                        s.permissions.iter().map(|p| p.permission.as_str()),
                        &domain_id,
                    )
            }))
        })
        .await?;
    let s = found.ok_or(VpcepError::ServiceNotFound)?;
    Ok(Json(DescribeServiceResponse {
        id: s.id.clone(),
        service_name: full_service_name(&app.region, &s.name, &s.id),
        service_type: s.service_type.clone(),
        created_at: domain::format_time(s.created_ms),
        is_charge: false,
        public_border_group: "center".into(),
        enable_policy: enable_policy(&s),
    }))
}

/// Services every domain may connect to (whitelist `iam:domain::*`).
pub async fn list_service_public_details(
    State(app): State<AppState>,
    _caller: Caller,
    Query(q, _): VpcepQuery<ListServicesQuery>,
) -> Result<Json<ListPublicServicesResponse>, VpcepError> {
    let query = q.list_query()?;
    let all = app.db.tx(store::all_services).await?;
    let matching: Vec<ServiceRecord> = all
        .into_iter()
        .filter(|s| {
            permission::is_public(s.permissions.iter().map(|p| p.permission.as_str()))
                && q.endpoint_service_name
                    .as_deref()
                    .is_none_or(|n| fuzzy_match(&full_service_name(&app.region, &s.name, &s.id), n))
                && q.id.as_deref().is_none_or(|id| id.is_empty() || s.id == id)
        })
        .collect();
    let total = matching.len() as i64;
    let page = query.apply(matching, |s| (s.created_ms, s.updated_ms, s.id.clone()));
    Ok(Json(ListPublicServicesResponse {
        endpoint_services: page
            .iter()
            .map(|s| PublicService {
                id: s.id.clone(),
                owner: app
                    .directory
                    .domain(&s.domain_id)
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| s.domain_id.clone()),
                service_name: full_service_name(&app.region, &s.name, &s.id),
                service_type: s.service_type.clone(),
                created_at: domain::format_time(s.created_ms),
                is_charge: false,
                enable_policy: enable_policy(s),
            })
            .collect(),
        total_count: total,
    }))
}
