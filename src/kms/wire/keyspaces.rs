//! Wire types of access points and key policies (field names as the SDK
//! models them, `lsat_modify_time` misspelling included).

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct CreateAccessPointRequest {
    pub keyspace_id: Option<String>,
    pub access_point_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    pub identity: Option<String>,
    pub cluster_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Serialize)]
pub struct CreateAccessPointResponse {
    pub access_point_id: String,
}

#[derive(Deserialize)]
pub struct AccessPointPath {
    pub access_point_id: String,
}

#[derive(Deserialize)]
pub struct PolicyPath {
    pub policy_id: String,
}

/// Query of ListAccessPoint and ListKeyPolicy.
#[derive(Deserialize, Default)]
pub struct KeyspaceListQuery {
    pub keyspace_id: Option<String>,
    pub limit: Option<String>,
    pub marker: Option<String>,
}

/// `ListAccessPointResponseBodyPageInfo`, shared by both lists.
#[derive(Serialize)]
pub struct KeyspacePageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub current_count: i64,
}

/// `ListAccessPointResponseBodyAccessPoints`.
#[derive(Serialize)]
pub struct AccessPointItem {
    pub access_point_id: String,
    pub keyspace_id: String,
    pub access_point_name: String,
    pub state: i64,
    #[serde(rename = "type")]
    pub kind: i64,
    pub created_by: String,
    pub create_time: String,
    pub lsat_modify_time: String,
}

#[derive(Serialize)]
pub struct ListAccessPointResponse {
    pub page_info: KeyspacePageInfo,
    pub access_points: Vec<AccessPointItem>,
}

#[derive(Serialize)]
pub struct DownloadAccessPointPrivateKeyResponse {
    pub access_point_id: String,
    pub private_key: String,
}

#[derive(Deserialize, Default)]
pub struct CreateKeyPolicyRequest {
    pub keyspace_id: Option<String>,
    pub policy_name: Option<String>,
    pub policy: Option<String>,
    pub description: Option<String>,
}

#[derive(Serialize)]
pub struct CreateKeyPolicyResponse {
    pub policy_id: String,
}

#[derive(Deserialize, Default)]
pub struct UpdateKeyPolicyRequest {
    pub policy: Option<String>,
    pub description: Option<String>,
}

#[derive(Serialize)]
pub struct ValidityPeriodBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
}

#[derive(Serialize)]
pub struct StatementBody {
    pub effect: &'static str,
    pub action: Vec<String>,
    pub resource: Vec<String>,
}

/// `ShowKeyPolicyResponseBodyPolicy`; `statement` is dewstack's extension
/// (docs/kms-policies.md), left out when the document has none.
#[derive(Serialize)]
pub struct PolicyBody {
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_period: Option<ValidityPeriodBody>,
    pub allowed_access_point: Vec<String>,
    pub allowed_data_security_zone: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statement: Vec<StatementBody>,
}

/// `ListKeyPolicyResponseBodyKeyspacePolicies`, and ShowKeyPolicy's body.
#[derive(Serialize)]
pub struct PolicyItem {
    pub policy_id: String,
    pub policy_name: String,
    pub keyspace_id: String,
    pub policy: PolicyBody,
    pub description: String,
    pub created_by: String,
    pub create_time: String,
    pub last_modify_time: String,
    pub last_access_time: String,
}

#[derive(Serialize)]
pub struct ListKeyPolicyResponse {
    pub page_info: KeyspacePageInfo,
    pub keyspace_policies: Vec<PolicyItem>,
}

#[derive(Serialize)]
pub struct UpdateKeyPolicyResponse {
    pub policy_id: String,
    pub policy: PolicyBody,
    pub description: String,
    pub last_modify_time: String,
}
