//! VPCEP: endpoint services, endpoints, connections, whitelists, tags, quotas.
//!
//! Operations: CreateEndpointService, ListEndpointService, ListServiceDetails,
//! ListServiceDescribeDetails, ListServicePublicDetails, UpdateEndpointService,
//! UpdateEndpointServiceName, DeleteEndpointService, UpgradeEndpointService,
//! AddEndpointServiceServerResource, CreateEndpoint, ListEndpoints,
//! ListEndpointInfoDetails, UpdateEndpointWhite, UpdateEndpointRoutetable,
//! UpdateEndpointPolicy, DeleteEndpointPolicy, DeleteEndpoint, UpgradeEndpoint,
//! ListServiceConnections, AcceptOrRejectEndpoint, UpdateEndpointConnectionsDesc,
//! AddOrRemoveServicePermissions, BatchAddEndpointServicePermissions,
//! BatchRemoveEndpointServicePermissions, ListServicePermissionsDetails,
//! UpdateEndpointServicePermissionDesc, ListQuotaDetails,
//! BatchAddOrRemoveResourceInstance, ListQueryProjectResourceTags,
//! ListResourceInstances. ListVersionDetails and ListSpecifiedVersionDetails
//! are served with KMS's by `server::versions`.
//!
//! Endpoints of services whose backend `ip` is a loopback address really carry
//! TCP traffic (`proxy.rs`, docs/vpcep.md).

mod api;
pub mod backend;
pub mod domain;
pub mod error;
pub mod permission;
pub mod pool;
pub mod proxy;
pub mod store;
mod tags;
pub mod view;
pub mod whitelist;
pub mod wire;

use crate::auth;
use crate::server::state::AppState;
use api::{catalog, connections, endpoints, permissions, services};
use axum::routing::{get, post, put};
use axum::Router;
use error::VpcepError;

pub fn routes(state: AppState) -> Router<AppState> {
    let s = "/v1/{project_id}/vpc-endpoint-services";
    let s2 = "/v2/{project_id}/vpc-endpoint-services";
    let one = format!("{s}/{{vpc_endpoint_service_id}}");
    let one2 = format!("{s2}/{{vpc_endpoint_service_id}}");
    let e = "/v1/{project_id}/vpc-endpoints";
    let ep = format!("{e}/{{vpc_endpoint_id}}");
    let r = "/v1/{project_id}/{resource_type}";
    Router::new()
        .route(
            s,
            post(services::create_endpoint_service).get(services::list_endpoint_service),
        )
        .route(
            &format!("{s}/describe"),
            get(catalog::list_service_describe_details),
        )
        .route(
            &format!("{s}/public"),
            get(catalog::list_service_public_details),
        )
        .route(
            &one,
            get(services::list_service_details)
                .put(services::update_endpoint_service)
                .delete(services::delete_endpoint_service),
        )
        .route(
            &format!("{one}/name"),
            put(services::update_endpoint_service_name),
        )
        .route(
            &format!("{one2}/upgrade"),
            post(services::upgrade_endpoint_service),
        )
        .route(
            &format!("{one2}/add-server-resources"),
            post(services::add_endpoint_service_server_resource),
        )
        .route(
            &format!("{one}/connections"),
            get(connections::list_service_connections),
        )
        .route(
            &format!("{one}/connections/action"),
            post(connections::accept_or_reject_endpoint),
        )
        .route(
            &format!("{one}/connections/description"),
            put(connections::update_endpoint_connections_desc),
        )
        .route(
            &format!("{one}/permissions"),
            get(permissions::list_service_permissions_details),
        )
        .route(
            &format!("{one}/permissions/action"),
            post(permissions::add_or_remove_service_permissions),
        )
        .route(
            &format!("{one}/permissions/batch-create"),
            post(permissions::batch_add_endpoint_service_permissions),
        )
        .route(
            &format!("{one}/permissions/batch-delete"),
            post(permissions::batch_remove_endpoint_service_permissions),
        )
        .route(
            &format!("{one}/permissions/{{permission_id}}"),
            put(permissions::update_endpoint_service_permission_desc),
        )
        .route(
            e,
            post(endpoints::create_endpoint).get(endpoints::list_endpoints),
        )
        .route(
            &ep,
            get(endpoints::list_endpoint_info_details)
                .put(endpoints::update_endpoint_white)
                .delete(endpoints::delete_endpoint),
        )
        .route(
            &format!("{ep}/routetables"),
            put(endpoints::update_endpoint_routetable),
        )
        .route(
            &format!("{ep}/policy"),
            put(endpoints::update_endpoint_policy).delete(endpoints::delete_endpoint_policy),
        )
        .route(
            "/v2/{project_id}/vpc-endpoints/{vpc_endpoint_id}/upgrade",
            post(endpoints::upgrade_endpoint),
        )
        .route("/v1/{project_id}/quotas", get(tags::list_quota_details))
        .route(
            &format!("{r}/{{resource_id}}/tags/action"),
            post(tags::batch_add_or_remove_resource_instance),
        )
        .route(
            &format!("{r}/tags"),
            get(tags::list_query_project_resource_tags),
        )
        .route(
            &format!("{r}/resource_instances/action"),
            post(tags::list_resource_instances),
        )
        // Authentication, then the audit trail (which sees the caller and the read body).
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::server::gate::gate::<{ auth::VPCEP }, VpcepError>,
        ))
}

/// A project's endpoints by status, for the metrics sampler
/// (`ops::inventory`); the endpoint quota bounds the read.
pub async fn inventory(
    app: &AppState,
    project: &str,
) -> Result<Vec<(&'static str, usize)>, VpcepError> {
    let project = project.to_owned();
    let endpoints = app
        .db
        .read(move |tx| store::list_endpoints(tx, &project))
        .await?;
    Ok(domain::ALL_STATUSES
        .iter()
        .map(|s| {
            (
                s.as_str(),
                endpoints.iter().filter(|e| e.status == *s).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect())
}

/// Counts services and endpoints of older databases (once), and reopens
/// the forwarders of accepted loopback endpoints after a restart.
pub async fn bootstrap(app: &AppState) -> Result<(), VpcepError> {
    app.db.tx(store::count_existing).await?;
    let pairs = app
        .db
        .tx(|tx| {
            let mut pairs = Vec::new();
            for e in store::all_endpoints(tx)? {
                if let Some(s) = store::find_service(tx, &e.service_project_id, &e.service_id)? {
                    pairs.push((e, s));
                }
            }
            Ok::<_, VpcepError>(pairs)
        })
        .await?;
    for (e, s) in pairs {
        proxy::reconcile(&app.vpcep_proxy, &app.db, app.clock.as_ref(), &e, Some(&s)).await;
    }
    Ok(())
}

impl crate::audit::Refusal for error::VpcepError {
    fn audit_refusal() -> axum::response::Response {
        use axum::response::IntoResponse;
        error::VpcepError::Internal("the audit record of this call could not be written".into())
            .into_response()
    }
}
