//! KMS request and response bodies with the cloud's exact field names
//! (`shared/api/kms.json`). Numbers the SDK types as strings are strings here.

use crate::common::body::string_or_number;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct CreateKeyRequest {
    pub key_alias: Option<String>,
    pub key_spec: Option<String>,
    pub key_usage: Option<String>,
    pub key_description: Option<String>,
    pub origin: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub sequence: Option<String>,
    pub keystore_id: Option<String>,
}

#[derive(Serialize)]
pub struct KekInfo {
    pub key_id: String,
    pub domain_id: String,
    pub region_id: String,
}

#[derive(Serialize)]
pub struct CreateKeyResponse {
    pub key_info: KekInfo,
}

#[derive(Deserialize, Default)]
pub struct OperateKeyRequest {
    pub key_id: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ScheduleKeyDeletionRequest {
    pub key_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub pending_days: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateKeyDescriptionRequest {
    pub key_id: Option<String>,
    pub key_description: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateKeyAliasRequest {
    pub key_id: Option<String>,
    pub key_alias: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListKeysRequest {
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    pub marker: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub key_state: Option<String>,
    pub key_spec: Option<String>,
    #[allow(dead_code)] // accepted as the SDK sends it
    pub enterprise_project_id: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct KeyDetails {
    pub key_id: String,
    pub domain_id: String,
    pub key_alias: String,
    pub realm: String,
    pub key_spec: String,
    pub key_usage: String,
    pub key_description: String,
    pub creation_date: String,
    pub scheduled_deletion_date: String,
    pub key_state: String,
    pub default_key_flag: String,
    pub key_type: String,
    pub expiration_time: String,
    pub origin: String,
    pub key_rotation_enabled: String,
    pub sys_enterprise_project_id: String,
    pub keystore_id: String,
    /// Not in the SDK models, but in every key the real cloud lists
    /// (Cloud Custodian's `kms_query` recording): `""`, `"DEFAULT"`, `"SINGLE"`.
    pub pending_days: String,
    pub keystore_type: String,
    pub multi_region_key_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
}

/// In key details of a multi-region key only (dewstack's choice: the SDK
/// models no such field; the cloud's console shows the primary and replica
/// regions). Each entry names the region and the project holding a record.
#[derive(Serialize, Clone)]
pub struct MultiRegionConfiguration {
    pub multi_region_key_type: String,
    pub primary_key: RegionKey,
    pub replica_keys: Vec<RegionKey>,
}

#[derive(Serialize, Clone)]
pub struct RegionKey {
    pub key_id: String,
    pub region: String,
    pub project_id: String,
}

#[derive(Serialize)]
pub struct KeyInfoResponse {
    pub key_info: KeyDetails,
}

#[derive(Serialize)]
pub struct ListKeysResponse {
    pub keys: Vec<String>,
    pub key_details: Vec<KeyDetails>,
    pub next_marker: String,
    pub truncated: String,
    pub total: i64,
}

#[derive(Serialize)]
pub struct KeyStatusInfo {
    pub key_id: String,
    pub key_state: String,
}

#[derive(Serialize)]
pub struct KeyStatusResponse {
    pub key_info: KeyStatusInfo,
}

#[derive(Serialize)]
pub struct KeyDescriptionInfo {
    pub key_id: String,
    pub key_description: String,
}

#[derive(Serialize)]
pub struct UpdateKeyDescriptionResponse {
    pub key_info: KeyDescriptionInfo,
}

#[derive(Serialize)]
pub struct KeyAliasInfo {
    pub key_id: String,
    pub key_alias: String,
}

#[derive(Serialize)]
pub struct UpdateKeyAliasResponse {
    pub key_info: KeyAliasInfo,
}

// ---- tags ----

#[derive(Deserialize, Serialize, Clone, Default)]
pub struct TagItem {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct BatchCreateKmsTagsRequest {
    pub tags: Option<Vec<TagItem>>,
    pub action: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CreateKmsTagRequest {
    pub tag: Option<TagItem>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct ShowKmsTagsResponse {
    pub tags: Vec<KeyValue>,
    #[serde(rename = "existTagsNum")]
    pub exist_tags_num: i64,
}

#[derive(Serialize, Deserialize, Clone, Default)]
pub struct Tag {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct ListKmsTagsResponse {
    pub tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
pub struct ListKmsByTagsRequest {
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub offset: Option<String>,
    pub action: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub matches: Option<Vec<TagItem>>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
/// A ListKmsByTags row. The real cloud sends the key as `key_details` (not
/// the SDK model's `resource_detail`) next to `tags` (Cloud Custodian's
/// `kms_query` recording). dewstack's choice: `resource_id` and
/// `resource_name` from the API reference stay as well, since clients such
/// as Custodian read `resource_id`; a parser that does not know them skips them.
pub struct ActionResources {
    pub key_details: KeyDetails,
    pub tags: Vec<KeyValue>,
    pub resource_id: String,
    pub resource_name: String,
}

#[derive(Serialize)]
pub struct ListKmsByTagsResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ActionResources>>,
    pub total_count: i64,
}

// ---- account-level ----

#[derive(Serialize)]
pub struct ShowUserInstancesResponse {
    pub instance_num: i64,
}

#[derive(Serialize)]
pub struct QuotaResource {
    #[serde(rename = "type")]
    pub kind: String,
    pub used: i64,
    pub quota: i64,
}

#[derive(Serialize)]
pub struct Quotas {
    pub resources: Vec<QuotaResource>,
}

#[derive(Serialize)]
pub struct ShowUserQuotasResponse {
    pub quotas: Quotas,
}

// ---- data encryption ----

#[derive(Deserialize, Default)]
pub struct EncryptDataRequest {
    pub key_id: Option<String>,
    pub plain_text: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub additional_authenticated_data: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct EncryptDataResponse {
    pub key_id: String,
    pub cipher_text: String,
}

#[derive(Deserialize, Default)]
pub struct DecryptDataRequest {
    pub cipher_text: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub key_id: Option<String>,
    pub additional_authenticated_data: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct DecryptDataResponse {
    pub key_id: String,
    pub plain_text: String,
    pub plain_text_base64: String,
}
