//! Data encryption: EncryptData and DecryptData for symmetric keys, and the
//! entry points other services (CSMS) use to encrypt under a KMS key.

use super::cipher;
use super::domain::{self, KeyUsage};
use super::error::KmsError;
use super::grants;
use super::store::{self, KeyRecord};
use super::wire::*;
use super::KmsBody;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use base64::Engine as _;
use zeroize::Zeroizing;

const MAX_PLAINTEXT_BYTES: usize = 4096;

async fn load_key(app: &AppState, project: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
    let (project, key_id) = (project.to_owned(), key_id.to_owned());
    app.db
        .tx(move |tx| store::load(tx, &project, &key_id))
        .await
}

/// Encrypts `plaintext` under `key_id` of `project`; the blob names its key.
pub async fn encrypt_for(
    app: &AppState,
    project: &str,
    key_id: &str,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = load_key(app, project, key_id).await?;
    encrypt_with(app, &key, plaintext, aad)
}

/// Encrypts under an already loaded (and access-checked) key.
fn encrypt_with(
    app: &AppState,
    key: &KeyRecord,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    cipher::check_usable(key, KeyUsage::EncryptDecrypt)?;
    if !key.key_spec.is_symmetric() {
        return Err(KmsError::InvalidParameter("encryption_algorithm"));
    }
    cipher::encrypt(&app.keyring, key, plaintext, aad)
}

/// A blob of a key the caller may not see is as invalid as a forged one.
fn not_found_is_invalid(e: KmsError) -> KmsError {
    match e {
        KmsError::KeyNotFound => KmsError::InvalidCiphertext,
        other => other,
    }
}

/// Decrypts a blob made by `encrypt_for` within `project`. A blob of another
/// project names a key that is not found here, exactly like a forged one.
pub async fn decrypt_for(
    app: &AppState,
    project: &str,
    blob: &[u8],
    aad: &[u8],
) -> Result<(String, Zeroizing<Vec<u8>>), KmsError> {
    let key_id = cipher::blob_key_id(blob)?;
    let key = load_key(app, project, &key_id)
        .await
        .map_err(not_found_is_invalid)?;
    cipher::check_usable(&key, KeyUsage::EncryptDecrypt)?;
    let plain = cipher::decrypt(&app.keyring, &key, blob, aad)?;
    Ok((key_id, plain))
}

fn symmetric_only(algorithm: Option<&str>) -> Result<(), KmsError> {
    match algorithm {
        None | Some("") | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some("RSAES_OAEP_SHA_256") | Some("RSAES_OAEP_SHA_1") | Some("SM2_ENCRYPT") => {
            Err(KmsError::Unsupported("asymmetric encryption"))
        }
        Some(_) => Err(KmsError::InvalidParameter("encryption_algorithm")),
    }
}

pub async fn encrypt_data(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<EncryptDataRequest>,
) -> Result<Json<EncryptDataResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    symmetric_only(req.encryption_algorithm.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let plain = Zeroizing::new(
        req.plain_text
            .ok_or(KmsError::MissingParameter("plain_text"))?,
    );
    if plain.is_empty() || plain.len() > MAX_PLAINTEXT_BYTES {
        return Err(KmsError::InvalidParameter("plain_text"));
    }
    let aad = req.additional_authenticated_data.unwrap_or_default();
    let key = grants::load_for(&app, &caller, &key_id, "encrypt-data").await?;
    let blob = encrypt_with(&app, &key, plain.as_bytes(), aad.as_bytes())?;
    Ok(Json(EncryptDataResponse {
        key_id,
        cipher_text: base64::engine::general_purpose::STANDARD.encode(blob),
    }))
}

pub async fn decrypt_data(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<DecryptDataRequest>,
) -> Result<Json<DecryptDataResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    symmetric_only(req.encryption_algorithm.as_deref())?;
    let text = req
        .cipher_text
        .ok_or(KmsError::MissingParameter("cipher_text"))?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| KmsError::InvalidCiphertext)?;
    if let Some(given) = req.key_id.as_deref() {
        let given = domain::parse_key_id(Some(given))?;
        if given != cipher::blob_key_id(&blob)? {
            return Err(KmsError::InvalidCiphertext);
        }
    }
    let aad = req.additional_authenticated_data.unwrap_or_default();
    let key_id = cipher::blob_key_id(&blob)?;
    let key = grants::load_for(&app, &caller, &key_id, "decrypt-data")
        .await
        .map_err(not_found_is_invalid)?;
    cipher::check_usable(&key, KeyUsage::EncryptDecrypt)?;
    let plain = cipher::decrypt(&app.keyring, &key, &blob, aad.as_bytes())?;
    let plain_text_base64 = base64::engine::general_purpose::STANDARD.encode(plain.as_slice());
    let plain_text = String::from_utf8_lossy(&plain).into_owned();
    Ok(Json(DecryptDataResponse {
        key_id,
        plain_text,
        plain_text_base64,
    }))
}
