//! GenerateMac and VerifyMac with HMAC keys (HMAC_256/384/512, HMAC_SM3).
//! Messages and MACs travel base64-encoded.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access::{self, Requester};
use crate::kms::crypto::mac::parse_algorithm;
use crate::kms::domain::grants::op;
use crate::kms::domain::{self, KeyUsage};
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

const MAX_MESSAGE_BYTES: usize = 4096;

fn message_bytes(raw: Option<&str>) -> Result<Vec<u8>, KmsError> {
    let bytes = domain::base64_field(raw, "message")?;
    if bytes.is_empty() || bytes.len() > MAX_MESSAGE_BYTES {
        return Err(KmsError::InvalidParameter("message"));
    }
    Ok(bytes)
}

/// The key, after every check (its algorithm the requested one).
async fn prepare(
    app: &AppState,
    caller: &Caller,
    key_id: Option<&str>,
    algorithm: Option<&str>,
    operation: &'static str,
) -> Result<(String, KeyRecord), KmsError> {
    let key_id = domain::parse_key_ref(key_id)?;
    let spec = parse_algorithm(algorithm)?;
    let key = access::usable_key(
        app,
        &Requester::caller(caller),
        &key_id,
        operation,
        Some(KeyUsage::GenerateVerifyMac),
    )
    .await?;
    if key.key_spec != spec {
        return Err(KmsError::InvalidParameter("mac_algorithm"));
    }
    Ok((key.key_id.clone(), key))
}

pub async fn generate_mac(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<GenerateMacRequest, KmsError>,
) -> Result<Json<GenerateMacResponse>, KmsError> {
    let message = message_bytes(req.message.as_deref())?;
    let (key_id, key) = prepare(
        &app,
        &caller,
        req.key_id.as_deref(),
        req.mac_algorithm.as_deref(),
        op::GENERATE_MAC,
    )
    .await?;
    let mac = super::dispatch::mac(&app, &key, &message).await?;
    Ok(Json(GenerateMacResponse {
        key_id,
        mac_algorithm: req.mac_algorithm.unwrap_or_default(),
        mac: crate::common::b64::encode(mac),
    }))
}

pub async fn verify_mac(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<VerifyMacRequest, KmsError>,
) -> Result<Json<VerifyMacResponse>, KmsError> {
    let message = message_bytes(req.message.as_deref())?;
    let mac = domain::base64_field(req.mac.as_deref(), "mac")?;
    let (key_id, key) = prepare(
        &app,
        &caller,
        req.key_id.as_deref(),
        req.mac_algorithm.as_deref(),
        op::VERIFY_MAC,
    )
    .await?;
    let mac_valid = super::dispatch::verify_mac(&app, &key, &message, &mac).await?;
    Ok(Json(VerifyMacResponse {
        key_id,
        mac_algorithm: req.mac_algorithm.unwrap_or_default(),
        mac_valid,
    }))
}
