//! DeriveSharedSecret (the ECDH itself is `crypto/derive.rs`).
//!
//! `recipient` asks for the secret encrypted to a Qingtian enclave's
//! attestation document. dewstack cannot verify attestations, and answering
//! in plaintext what the caller wanted sealed would defeat the purpose, so a
//! request with a recipient is refused.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access::{self, Requester};
use crate::kms::crypto::derive::{ecdh, public_key_der};
use crate::kms::domain::grants::op;
use crate::kms::domain::{self, KeyUsage};
use crate::kms::error::KmsError;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

const ALGORITHM: &str = "ECDH";

pub async fn derive_shared_secret(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<DeriveSharedSecretRequest, KmsError>,
) -> Result<Json<DeriveSharedSecretResponse>, KmsError> {
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    match req.key_agreement_algorithm.as_deref() {
        None => return Err(KmsError::MissingParameter("key_agreement_algorithm")),
        Some(ALGORITHM) => {}
        Some(_) => return Err(KmsError::InvalidParameter("key_agreement_algorithm")),
    }
    if req.recipient.as_ref().is_some_and(|r| !r.is_null()) {
        return Err(KmsError::Unsupported(
            "recipient (attestation-bound shared secrets)",
        ));
    }
    let spki = public_key_der(req.public_key.as_deref())?;
    let key = access::usable_key(
        &app,
        &Requester::caller(&caller),
        &key_id,
        op::DERIVE_SHARED_SECRET,
        Some(KeyUsage::KeyAgreement),
    )
    .await?;
    let (_, material) = access::newest(&app, &key)?;
    let private = material.parsed(key.key_spec)?;
    let secret = ecdh(private.key(), &spki)?;
    Ok(Json(DeriveSharedSecretResponse {
        key_id: key.key_id,
        key_agreement_algorithm: ALGORITHM.to_owned(),
        shared_secret: crate::common::b64::encode(secret.as_slice()),
    }))
}
