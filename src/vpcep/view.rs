//! VPCEP response bodies, built from the stored records. One view per
//! resource carries the union of the fields the SDK's response models read
//! (the SDK ignores fields a model does not declare).

use super::domain::{format_time, full_service_name, EndpointStatus, PortMapping};
use super::permission::PermissionType;
use super::store::{EndpointRecord, PermissionRecord, ServiceRecord};
use super::wire::{TagItem, TagValues};
use serde::Serialize;
use std::collections::BTreeMap;

pub fn tag_list(tags: &BTreeMap<String, String>) -> Vec<TagItem> {
    tags.iter()
        .map(|(k, v)| TagItem {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

#[derive(Serialize)]
pub struct ServiceView {
    pub id: String,
    pub port_id: Option<String>,
    pub service_name: String,
    pub server_type: String,
    pub vpc_id: String,
    pub pool_id: String,
    pub approval_enabled: bool,
    pub status: String,
    pub service_type: String,
    pub created_at: String,
    pub updated_at: String,
    pub project_id: String,
    pub domain_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub ports: Vec<PortMapping>,
    pub tcp_proxy: String,
    pub tags: Vec<TagItem>,
    pub connection_count: i64,
    pub description: String,
    pub supported_editions: Vec<String>,
    pub public_border_group: String,
    pub enable_policy: bool,
    pub cidr_type: String,
    pub ip_version: String,
}

impl ServiceView {
    pub fn of(s: &ServiceRecord, region: &str, connection_count: i64) -> Self {
        let mut editions = vec!["basic".to_owned()];
        if s.professional {
            editions.push("professional".to_owned());
        }
        Self {
            id: s.id.clone(),
            port_id: s.port_id.clone(),
            service_name: full_service_name(region, &s.name, &s.id),
            server_type: s.server_type.clone(),
            vpc_id: s.vpc_id.clone(),
            pool_id: s.pool_id.clone(),
            approval_enabled: s.approval_enabled,
            status: "available".into(),
            service_type: s.service_type.clone(),
            created_at: format_time(s.created_ms),
            updated_at: format_time(s.updated_ms),
            project_id: s.project_id.clone(),
            domain_id: s.domain_id.clone(),
            ip: s.ip.clone(),
            ports: s.ports.clone(),
            tcp_proxy: s.tcp_proxy.clone(),
            tags: tag_list(&s.tags),
            connection_count,
            description: s.description.clone(),
            supported_editions: editions,
            public_border_group: "center".into(),
            enable_policy: enable_policy(s),
            cidr_type: "public".into(),
            ip_version: "ipv4".into(),
        }
    }
}

/// Gateway services accept endpoint policies (as OBS does in the cloud).
pub fn enable_policy(s: &ServiceRecord) -> bool {
    s.service_type == "gateway"
}

#[derive(Serialize)]
pub struct ListServicesResponse {
    pub endpoint_services: Vec<ServiceView>,
    pub total_count: i64,
}

#[derive(Serialize)]
pub struct DescribeServiceResponse {
    pub id: String,
    pub service_name: String,
    pub service_type: String,
    pub created_at: String,
    pub is_charge: bool,
    pub public_border_group: String,
    pub enable_policy: bool,
}

#[derive(Serialize)]
pub struct PublicService {
    pub id: String,
    pub owner: String,
    pub service_name: String,
    pub service_type: String,
    pub created_at: String,
    pub is_charge: bool,
    pub enable_policy: bool,
}

#[derive(Serialize)]
pub struct ListPublicServicesResponse {
    pub endpoint_services: Vec<PublicService>,
    pub total_count: i64,
}

#[derive(Serialize)]
pub struct QueryError {
    pub error_code: String,
    pub error_message: String,
}

fn errors_of(e: &EndpointRecord) -> Option<Vec<QueryError>> {
    match (&e.error, e.status) {
        (Some((code, message)), EndpointStatus::Failed) => Some(vec![QueryError {
            error_code: code.clone(),
            error_message: message.clone(),
        }]),
        _ => None,
    }
}

#[derive(Serialize)]
pub struct EndpointView {
    pub id: String,
    pub service_type: String,
    pub status: String,
    pub active_status: Vec<String>,
    pub enable_status: String,
    pub specification_name: String,
    pub endpoint_service_name: String,
    pub marker_id: i64,
    pub endpoint_service_id: String,
    pub enable_dns: bool,
    pub dns_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub vpc_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub project_id: String,
    pub tags: Vec<TagItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Vec<QueryError>>,
    pub whitelist: Vec<String>,
    pub enable_whitelist: bool,
    pub routetables: Vec<String>,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_statement: Option<Vec<serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<serde_json::Value>,
    pub endpoint_pool_id: String,
    pub public_border_group: String,
}

impl EndpointView {
    pub fn of(e: &EndpointRecord, region: &str) -> Self {
        Self::with_status(e, region, e.status)
    }

    /// CreateEndpoint answers `creating`, whatever the endpoint settles to.
    pub fn with_status(e: &EndpointRecord, region: &str, status: EndpointStatus) -> Self {
        let dns_names = match (&e.ip, e.enable_dns && e.service_type == "interface") {
            (Some(_), true) => vec![format!("{}.vpcep.{region}.dewstack.internal", e.id)],
            _ => Vec::new(),
        };
        let statements = e
            .policy_statement
            .as_ref()
            .and_then(|v| v.as_array().cloned());
        Self {
            id: e.id.clone(),
            service_type: e.service_type.clone(),
            status: status.as_str().into(),
            active_status: vec!["active".into()],
            enable_status: "enable".into(),
            specification_name: if e.professional {
                "profession"
            } else {
                "default"
            }
            .into(),
            endpoint_service_name: e.service_name.clone(),
            marker_id: e.marker_id,
            endpoint_service_id: e.service_id.clone(),
            enable_dns: e.enable_dns,
            dns_names,
            ip: e.ip.clone(),
            vpc_id: e.vpc_id.clone(),
            subnet_id: e.subnet_id.clone(),
            created_at: format_time(e.created_ms),
            updated_at: format_time(e.updated_ms),
            project_id: e.project_id.clone(),
            tags: tag_list(&e.tags),
            error: errors_of(e),
            whitelist: e.whitelist.clone(),
            enable_whitelist: e.enable_whitelist,
            routetables: e.routetables.clone(),
            description: e.description.clone(),
            policy_statement: statements,
            policy_document: e.policy_document.clone(),
            endpoint_pool_id: String::new(),
            public_border_group: "center".into(),
        }
    }
}

#[derive(Serialize)]
pub struct ListEndpointsResponse {
    pub endpoints: Vec<EndpointView>,
    pub total_count: i64,
}

/// One connection as the provider sees it (`ConnectionEndpoints`).
#[derive(Serialize)]
pub struct ConnectionView {
    pub id: String,
    pub marker_id: i64,
    pub created_at: String,
    pub updated_at: String,
    pub domain_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Vec<QueryError>>,
    pub status: String,
    pub description: String,
}

impl ConnectionView {
    pub fn of(e: &EndpointRecord) -> Self {
        Self {
            id: e.id.clone(),
            marker_id: e.marker_id,
            created_at: format_time(e.created_ms),
            updated_at: format_time(e.updated_ms),
            domain_id: e.domain_id.clone(),
            error: errors_of(e),
            status: e.status.as_str().into(),
            description: e.connection_description.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct ConnectionsResponse {
    pub connections: Vec<ConnectionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}

#[derive(Serialize)]
pub struct PermissionView {
    pub id: String,
    pub permission: String,
    pub permission_type: String,
    pub description: String,
    pub created_at: String,
}

impl PermissionView {
    pub fn of(p: &PermissionRecord) -> Self {
        Self {
            id: p.id.clone(),
            permission: p.permission.clone(),
            permission_type: PermissionType::of(&p.permission).as_str().into(),
            description: p.description.clone(),
            created_at: format_time(p.created_ms),
        }
    }
}

#[derive(Serialize)]
pub struct PermissionsResponse {
    pub permissions: Vec<PermissionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}

#[derive(Serialize)]
pub struct ProjectTagsResponse {
    pub tags: Vec<TagValues>,
}

#[derive(Serialize)]
pub struct ResourceInstance {
    pub resource_id: String,
    pub tags: Vec<TagItem>,
    pub resource_name: String,
}

#[derive(Serialize)]
pub struct ResourceInstancesResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ResourceInstance>>,
    pub total_count: i64,
}

#[derive(Serialize)]
pub struct Quota {
    #[serde(rename = "type")]
    pub kind: String,
    pub used: i64,
    pub quota: i64,
}

#[derive(Serialize)]
pub struct Quotas {
    pub resources: Vec<Quota>,
}

#[derive(Serialize)]
pub struct QuotasResponse {
    pub quotas: Quotas,
}
