//! Sign, ValidateSignature and ShowPublicKey.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access::{self, Requester};
use crate::kms::crypto::asymmetric;
use crate::kms::crypto::sign::{MessageType, SignAlg};
use crate::kms::domain::grants::op;
use crate::kms::domain::usable::check_usable;
use crate::kms::domain::{self, KeyUsage};
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

/// Decoded messages must be shorter than 4096 bytes.
const MAX_MESSAGE_BYTES: usize = 4095;

fn message(raw: Option<&str>) -> Result<Vec<u8>, KmsError> {
    let m = domain::base64_field(raw, "message")?;
    if m.is_empty() || m.len() > MAX_MESSAGE_BYTES {
        return Err(KmsError::InvalidParameter("message"));
    }
    Ok(m)
}

async fn signing_key(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
    alg: SignAlg,
    operation: &'static str,
) -> Result<KeyRecord, KmsError> {
    let key = access::usable_key(
        app,
        &Requester::caller(caller),
        key_id,
        operation,
        Some(KeyUsage::SignVerify),
    )
    .await?;
    if !alg.fits(key.key_spec) {
        return Err(KmsError::InvalidParameter("signing_algorithm"));
    }
    Ok(key)
}

pub async fn sign(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<SignRequest, KmsError>,
) -> Result<Json<SignResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_ref(req.key_id.as_deref())?;
    let alg = SignAlg::parse(req.signing_algorithm.as_deref())?;
    let kind = MessageType::parse(req.message_type.as_deref())?;
    let msg = message(req.message.as_deref())?;
    let key = signing_key(&app, &caller, &key_id, alg, op::SIGN).await?;
    let sig = super::dispatch::sign(&app, &key, alg, kind, msg).await?;
    Ok(Json(SignResponse {
        key_id: key.key_id.clone(),
        signature: crate::common::b64::encode(sig),
    }))
}

pub async fn validate_signature(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<VerifyRequest, KmsError>,
) -> Result<Json<ValidateSignatureResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_ref(req.key_id.as_deref())?;
    let alg = SignAlg::parse(req.signing_algorithm.as_deref())?;
    let kind = MessageType::parse(req.message_type.as_deref())?;
    let msg = message(req.message.as_deref())?;
    let sig = domain::base64_field(req.signature.as_deref(), "signature")?;
    let key = signing_key(&app, &caller, &key_id, alg, op::VERIFY).await?;
    let valid = super::dispatch::verify(&app, &key, alg, kind, &msg, &sig).await?;
    Ok(Json(ValidateSignatureResponse {
        key_id: key.key_id.clone(),
        signature_valid: valid.to_string(),
    }))
}

/// The public key of an asymmetric key, PEM with CRLF line ends; refused,
/// like every use of the key, unless the key is enabled.
pub async fn show_public_key(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<PublicKeyRequest, KmsError>,
) -> Result<Json<ShowPublicKeyResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_ref(req.key_id.as_deref())?;
    let key = access::usable_key(
        &app,
        &Requester::caller(&caller),
        &key_id,
        op::GET_PUBLICKEY,
        None,
    )
    .await?;
    if key.key_spec.is_symmetric() || key.key_spec.is_hmac() {
        return Err(KmsError::InvalidParameter("key_id"));
    }
    check_usable(&key, key.key_usage)?;
    let spki = super::dispatch::public_der(&app, &key).await?;
    Ok(Json(ShowPublicKeyResponse {
        key_id: key.key_id.clone(),
        public_key: asymmetric::pem("PUBLIC KEY", &spki),
    }))
}
