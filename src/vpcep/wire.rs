//! VPCEP request bodies and query strings with the cloud's exact field names
//! (`shared/api/vpcep.json`). Every field is optional here so that a missing
//! one gets the cloud's own error code from the domain rules, not a serde error.

use super::domain::ListQuery;
use super::error::VpcepError;
use crate::common::body::{string_or_number, Body};
use serde::{Deserialize, Serialize};

/// A JSON body whose rejection is a VPCEP error.
pub type VpcepBody<T> = Body<T, VpcepError>;
/// A query string parsed into `T`; its rejection is a VPCEP error.
pub type VpcepQuery<T> = crate::common::query::Query<T, VpcepError>;

/// The `limit`/`offset`/`sort_key`/`sort_dir` of a list query, parsed in
/// one place for every list operation.
pub trait Paged {
    /// The largest `limit` the cloud accepts for this list.
    const MAX_LIMIT: usize;

    fn paging(&self) -> [Option<&str>; 4];

    fn list_query(&self) -> Result<ListQuery, VpcepError> {
        let [limit, offset, sort_key, sort_dir] = self.paging();
        ListQuery::parse(limit, offset, sort_key, sort_dir, Self::MAX_LIMIT)
    }
}

macro_rules! paged {
    ($($query:ty: $max:literal),*) => {$(
        impl Paged for $query {
            const MAX_LIMIT: usize = $max;

            fn paging(&self) -> [Option<&str>; 4] {
                [
                    self.limit.as_deref(),
                    self.offset.as_deref(),
                    self.sort_key.as_deref(),
                    self.sort_dir.as_deref(),
                ]
            }
        }
    )*};
}

paged!(
    ListServicesQuery: 1000,
    ListEndpointsQuery: 1000,
    ListConnectionsQuery: 1000,
    ListPermissionsQuery: 500
);

#[derive(Deserialize, Serialize, Clone, Default, Debug)]
pub struct PortItem {
    pub client_port: Option<i64>,
    pub server_port: Option<i64>,
    pub protocol: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Default, Debug)]
pub struct TagItem {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Default, Debug)]
pub struct TagValues {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

// ---- endpoint services ----

#[derive(Deserialize, Default)]
pub struct CreateServiceRequest {
    pub port_id: Option<String>,
    pub service_name: Option<String>,
    pub vpc_id: Option<String>,
    pub approval_enabled: Option<bool>,
    pub service_type: Option<String>,
    pub server_type: Option<String>,
    pub ip: Option<String>,
    pub ports: Option<Vec<PortItem>>,
    pub tcp_proxy: Option<String>,
    pub tags: Option<Vec<TagItem>>,
    pub description: Option<String>,
    pub ip_version: Option<String>,
    pub snat_network_id: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateServiceRequest {
    pub approval_enabled: Option<bool>,
    pub service_name: Option<String>,
    pub ports: Option<Vec<PortItem>>,
    pub port_id: Option<String>,
    pub tcp_proxy: Option<String>,
    pub description: Option<String>,
    pub ip: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateServiceNameRequest {
    pub endpoint_service_name: Option<String>,
}

#[derive(Serialize)]
pub struct UpdateServiceNameResponse {
    pub endpoint_service_name: String,
}

#[derive(Deserialize, Default)]
pub struct ServerResourceItem {
    pub resource_id: Option<String>,
    pub availability_zone_id: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AddServerResourcesRequest {
    pub server_resources: Option<Vec<ServerResourceItem>>,
}

#[derive(Deserialize, Default)]
pub struct ListServicesQuery {
    pub endpoint_service_name: Option<String>,
    pub id: Option<String>,
    pub status: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub public_border_group: Option<String>,
    pub net_type: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DescribeQuery {
    pub endpoint_service_name: Option<String>,
    pub id: Option<String>,
}

// ---- endpoints ----

#[derive(Deserialize, Default)]
pub struct CreateEndpointRequest {
    pub subnet_id: Option<String>,
    pub endpoint_service_id: Option<String>,
    pub vpc_id: Option<String>,
    pub enable_dns: Option<bool>,
    pub tags: Option<Vec<TagItem>>,
    pub routetables: Option<Vec<String>>,
    pub port_ip: Option<String>,
    pub whitelist: Option<Vec<String>>,
    pub enable_whitelist: Option<bool>,
    pub description: Option<String>,
    pub policy_statement: Option<Vec<serde_json::Value>>,
    pub policy_document: Option<serde_json::Value>,
    pub ip_version: Option<String>,
    pub ipv6_address: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListEndpointsQuery {
    pub endpoint_service_name: Option<String>,
    pub vpc_id: Option<String>,
    pub id: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateWhitelistRequest {
    pub whitelist: Option<Vec<String>>,
    pub enable_whitelist: Option<bool>,
}

#[derive(Deserialize, Default)]
pub struct RoutetablesRequest {
    pub routetables: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct RoutetablesResponse {
    pub routetables: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct PolicyRequest {
    pub policy_statement: Option<Vec<serde_json::Value>>,
    pub policy_document: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
pub struct UpgradeEndpointRequest {
    pub action: Option<String>,
}

// ---- connections ----

#[derive(Deserialize, Default)]
pub struct ListConnectionsQuery {
    pub id: Option<String>,
    pub marker_id: Option<String>,
    pub status: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ConnectionActionRequest {
    pub action: Option<String>,
    pub endpoints: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
pub struct ConnectionDescItem {
    pub id: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ConnectionsDescRequest {
    pub connections: Option<Vec<ConnectionDescItem>>,
}

// ---- permissions ----

#[derive(Deserialize, Default)]
pub struct PermissionsActionRequest {
    pub permissions: Option<Vec<String>>,
    pub permission_type: Option<String>,
    pub action: Option<String>,
}

#[derive(Serialize)]
pub struct PermissionsActionResponse {
    pub permissions: Vec<String>,
    pub permission_type: String,
}

#[derive(Deserialize, Default)]
pub struct AddPermissionItem {
    pub permission: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct BatchAddPermissionsRequest {
    pub permissions: Option<Vec<AddPermissionItem>>,
    pub permission_type: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RemovePermissionItem {
    pub id: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct BatchRemovePermissionsRequest {
    pub permissions: Option<Vec<RemovePermissionItem>>,
}

#[derive(Deserialize, Default)]
pub struct PermissionDesc {
    pub description: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdatePermissionDescRequest {
    pub permission: Option<PermissionDesc>,
}

#[derive(Deserialize, Default)]
pub struct ListPermissionsQuery {
    pub permission: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
}

// ---- tags and quotas ----

#[derive(Deserialize, Default)]
pub struct TagActionRequest {
    pub tags: Option<Vec<TagItem>>,
    pub action: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ResourceInstancesRequest {
    pub tags: Option<Vec<TagValues>>,
    pub tags_any: Option<Vec<TagValues>>,
    pub not_tags: Option<Vec<TagValues>>,
    pub not_tags_any: Option<Vec<TagValues>>,
    pub sys_tags: Option<Vec<TagValues>>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub offset: Option<String>,
    pub action: Option<String>,
    pub matches: Option<Vec<TagItem>>,
    pub without_any_tag: Option<bool>,
}

#[derive(Deserialize, Default)]
pub struct QuotaQuery {
    #[serde(rename = "type")]
    pub kind: Option<String>,
}
