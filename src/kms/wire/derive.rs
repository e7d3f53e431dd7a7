//! Bodies of DeriveSharedSecret, CreateDatakeyCapsule, DecryptDatakeyCapsule
//! and CreatePin, with the cloud's field names (`shared/api/kms.json`).

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct DeriveSharedSecretRequest {
    pub key_id: Option<String>,
    pub key_agreement_algorithm: Option<String>,
    pub public_key: Option<String>,
    /// Kept as raw JSON: only whether it is there matters (see `derive`).
    pub recipient: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct DeriveSharedSecretResponse {
    pub key_id: String,
    pub key_agreement_algorithm: String,
    pub shared_secret: String,
}

#[derive(Deserialize, Default)]
pub struct CreateDatakeyCapsuleRequest {
    pub key_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::common::body::string_or_number::deserialize"
    )]
    pub datakey_length: Option<String>,
    pub public_key: Option<String>,
    pub policy_id: Option<String>,
    pub key_policy: Option<String>,
}

#[derive(Serialize)]
pub struct CreateDatakeyCapsuleResponse {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datakey: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datakey_cipher: Option<String>,
    pub datakey_capsule: String,
}

#[derive(Deserialize, Default)]
pub struct DecryptDatakeyCapsuleRequest {
    pub key_id: Option<String>,
    pub public_key: Option<String>,
    pub datakey_capsule: Option<String>,
    pub attestation_document: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct DecryptDatakeyCapsuleResponse {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datakey: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datakey_cipher: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CreatePinRequest {
    pub pin_type: Option<String>,
    pub keystore_id: Option<String>,
}

#[derive(Serialize)]
pub struct CreatePinResponse {
    pub pin: String,
}
