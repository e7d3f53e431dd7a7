//! Request and response bodies of rotation, key import and grants, with the
//! cloud's field names (`shared/api/kms.json`).

use crate::common::body::string_or_number;
use serde::{Deserialize, Serialize};

/// The body of operations whose response model has no fields.
#[derive(Serialize)]
pub struct Empty {}

// ---- rotation ----

#[derive(Deserialize, Default)]
pub struct UpdateKeyRotationIntervalRequest {
    pub key_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub rotation_interval: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct RotateOnDemandResponse {
    pub key_id: String,
}

#[derive(Serialize)]
pub struct KeyMaterialInfo {
    pub material_id: String,
    pub charge_id: String,
    pub create_time: String,
    pub expiration_time: String,
    pub state: i64,
}

#[derive(Serialize)]
pub struct ShowKeyRotationStatusResponse {
    pub key_rotation_enabled: bool,
    pub rotation_interval: i64,
    pub last_rotation_time: String,
    pub number_of_rotations: i64,
    pub key_materials: Vec<KeyMaterialInfo>,
}

// ---- import ----

#[derive(Deserialize, Default)]
pub struct GetParametersForImportRequest {
    pub key_id: Option<String>,
    pub wrapping_algorithm: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct CreateParametersForImportResponse {
    pub key_id: String,
    pub import_token: String,
    /// Seconds since the epoch.
    pub expiration_time: i64,
    /// DER SubjectPublicKeyInfo, base64.
    pub public_key: String,
}

#[derive(Deserialize, Default)]
pub struct ImportKeyMaterialRequest {
    pub key_id: Option<String>,
    pub import_token: Option<String>,
    pub encrypted_key_material: Option<String>,
    pub encrypted_privatekey: Option<String>,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub expiration_time: Option<String>,
    pub sequence: Option<String>,
}

// ---- grants ----

#[derive(Deserialize, Default)]
pub struct CreateGrantRequest {
    pub key_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub operations: Option<Vec<String>>,
    pub name: Option<String>,
    pub retiring_principal: Option<String>,
    pub grantee_principal_type: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct CreateGrantResponse {
    pub grant_id: String,
}

#[derive(Deserialize, Default)]
pub struct ListGrantsRequest {
    pub key_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub marker: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListRetirableGrantsRequest {
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub marker: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct GrantInfo {
    pub key_id: String,
    pub grant_id: String,
    pub grantee_principal: String,
    pub grantee_principal_type: String,
    pub operations: Vec<String>,
    pub issuing_principal: String,
    pub creation_date: String,
    pub name: String,
    pub retiring_principal: String,
}

#[derive(Serialize)]
pub struct ListGrantsResponse {
    pub grants: Vec<GrantInfo>,
    pub next_marker: String,
    pub truncated: String,
    pub total: i64,
}

#[derive(Deserialize, Default)]
pub struct RevokeGrantRequest {
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub sequence: Option<String>,
}
