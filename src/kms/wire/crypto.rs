//! Bodies of the cryptographic KMS operations (data keys, key pairs,
//! re-encryption, random numbers, signatures, MACs), with the cloud's exact
//! field names (`shared/api/kms.json`).

use crate::common::body::string_or_number;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct CreateDatakeyRequest {
    pub key_id: Option<String>,
    pub key_spec: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub datakey_length: Option<String>,
    pub additional_authenticated_data: Option<String>,
    pub sequence: Option<String>,
    #[allow(dead_code)] // accepted as the SDK sends it; no PIN is checked
    pub pin: Option<String>,
    pub pin_type: Option<String>,
}

#[derive(Serialize)]
pub struct CreateDatakeyResponse {
    pub key_id: String,
    pub plain_text: String,
    pub cipher_text: String,
}

#[derive(Serialize)]
pub struct CreateDatakeyWithoutPlaintextResponse {
    pub key_id: String,
    pub cipher_text: String,
}

#[derive(Deserialize, Default)]
pub struct EncryptDatakeyRequest {
    pub key_id: Option<String>,
    pub plain_text: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub datakey_plain_length: Option<String>,
    pub additional_authenticated_data: Option<String>,
    pub sequence: Option<String>,
    #[allow(dead_code)] // accepted as the SDK sends it; no PIN is checked
    pub pin: Option<String>,
    pub pin_type: Option<String>,
    #[allow(dead_code)] // accepted as the SDK sends it
    pub key_spec: Option<String>,
}

#[derive(Serialize)]
pub struct EncryptDatakeyResponse {
    pub key_id: String,
    pub cipher_text: String,
    pub datakey_length: String,
}

#[derive(Deserialize, Default)]
pub struct DecryptDatakeyRequest {
    pub key_id: Option<String>,
    pub cipher_text: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub datakey_cipher_length: Option<String>,
    pub additional_authenticated_data: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct DecryptDatakeyResponse {
    pub data_key: String,
    pub datakey_length: String,
    pub datakey_dgst: String,
}

#[derive(Deserialize, Default)]
pub struct CreateDatakeyPairRequest {
    pub key_id: Option<String>,
    pub key_spec: Option<String>,
    pub with_plain_text: Option<bool>,
    pub additional_authenticated_data: Option<String>,
    pub sequence: Option<String>,
    #[allow(dead_code)] // accepted as the SDK sends it; no PIN is checked
    pub pin: Option<String>,
    pub pin_type: Option<String>,
}

#[derive(Serialize)]
pub struct CreateDatakeyPairResponse {
    pub key_id: String,
    pub key_spec: String,
    pub public_key: String,
    pub private_key_cipher_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_plain_text: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ReEncryptRequest {
    pub source_key_id: Option<String>,
    pub source_additional_authenticated_data: Option<String>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_key_id: Option<String>,
    pub destination_additional_authenticated_data: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub datakey_cipher_length: Option<String>,
    pub cipher_text: Option<String>,
}

#[derive(Serialize)]
pub struct ReEncryptResponse {
    pub key_id: String,
    pub source_key_id: String,
    pub source_encryption_algorithm: String,
    pub destination_encryption_algorithm: String,
    pub cipher_text: String,
}

#[derive(Deserialize, Default)]
pub struct GenRandomRequest {
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub random_data_length: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct CreateRandomResponse {
    pub random_data: String,
}

#[derive(Deserialize, Default)]
pub struct SignRequest {
    pub key_id: Option<String>,
    pub message: Option<String>,
    pub signing_algorithm: Option<String>,
    pub message_type: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct SignResponse {
    pub key_id: String,
    pub signature: String,
}

#[derive(Deserialize, Default)]
pub struct VerifyRequest {
    pub key_id: Option<String>,
    pub message: Option<String>,
    pub signature: Option<String>,
    pub signing_algorithm: Option<String>,
    pub message_type: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct ValidateSignatureResponse {
    pub key_id: String,
    pub signature_valid: String,
}

#[derive(Deserialize, Default)]
pub struct PublicKeyRequest {
    pub key_id: Option<String>,
    pub sequence: Option<String>,
}

#[derive(Serialize)]
pub struct ShowPublicKeyResponse {
    pub key_id: String,
    pub public_key: String,
}

#[derive(Deserialize, Default)]
pub struct GenerateMacRequest {
    pub key_id: Option<String>,
    pub mac_algorithm: Option<String>,
    pub message: Option<String>,
}

#[derive(Serialize)]
pub struct GenerateMacResponse {
    pub key_id: String,
    pub mac_algorithm: String,
    pub mac: String,
}

#[derive(Deserialize, Default)]
pub struct VerifyMacRequest {
    pub key_id: Option<String>,
    pub mac_algorithm: Option<String>,
    pub message: Option<String>,
    pub mac: Option<String>,
}

#[derive(Serialize)]
pub struct VerifyMacResponse {
    pub key_id: String,
    pub mac_algorithm: String,
    pub mac_valid: bool,
}
