//! Data encryption: EncryptData and DecryptData (symmetric keys, RSA-OAEP and
//! SM2 with `encryption_algorithm`), and the
//! entry points other services (CSMS) use to encrypt under a KMS key.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access::{self, Requester};
use crate::kms::api::encryption;
use crate::kms::crypto::asymmetric::EncAlg;
use crate::kms::domain;
use crate::kms::domain::grants::op;
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;
use zeroize::Zeroizing;

const MAX_PLAINTEXT_BYTES: usize = 4096;

/// Encrypts `plaintext` under `key_id` of `project`; the blob names its key.
pub async fn encrypt_for(
    app: &AppState,
    project: &str,
    key_id: &str,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    encryption::encrypt(app, project, key_id, EncAlg::Symmetric, plaintext, aad).await
}

/// Decrypts a blob made by `encrypt_for` within `project`. A blob of another
/// project names a key that is not found here, exactly like a forged one.
pub async fn decrypt_for(
    app: &AppState,
    project: &str,
    blob: &[u8],
    aad: &[u8],
) -> Result<(String, Zeroizing<Vec<u8>>), KmsError> {
    encryption::decrypt(app, project, None, EncAlg::Symmetric, blob, aad).await
}

/// The key that decrypts a ciphertext of `alg`: symmetric blobs name their
/// key themselves (see `access::named_by_blob`), asymmetric ones need the
/// caller's `key_id`.
pub(super) async fn load_decrypting(
    app: &AppState,
    caller: &Caller,
    alg: EncAlg,
    key_id: &str,
) -> Result<KeyRecord, KmsError> {
    let operation = op::DECRYPT_DATA;
    if alg == EncAlg::Symmetric {
        access::key_named_by_blob(
            app,
            &Requester::caller(caller),
            key_id,
            operation,
            KmsError::InvalidCiphertext,
        )
        .await
    } else {
        access::usable_key(app, &Requester::caller(caller), key_id, operation, None).await
    }
}

pub async fn encrypt_data(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<EncryptDataRequest>,
) -> Result<Json<EncryptDataResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let alg = EncAlg::parse(req.encryption_algorithm.as_deref())?;
    let key_id = domain::parse_key_ref(req.key_id.as_deref())?;
    let plain = Zeroizing::new(
        req.plain_text
            .ok_or(KmsError::MissingParameter("plain_text"))?,
    );
    if plain.is_empty() || plain.len() > MAX_PLAINTEXT_BYTES {
        return Err(KmsError::InvalidParameter("plain_text"));
    }
    let aad = req.additional_authenticated_data.unwrap_or_default();
    let key = access::usable_key(
        &app,
        &Requester::caller(&caller),
        &key_id,
        op::ENCRYPT_DATA,
        None,
    )
    .await?;
    let blob = encryption::encrypt_under(&app, &key, alg, plain.as_bytes(), aad.as_bytes())
        .await?
        .run()
        .await?;
    Ok(Json(EncryptDataResponse {
        key_id: key.key_id.clone(),
        cipher_text: crate::common::b64::encode(blob),
    }))
}

pub async fn decrypt_data(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<DecryptDataRequest>,
) -> Result<Json<DecryptDataResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let alg = EncAlg::parse(req.encryption_algorithm.as_deref())?;
    let text = req
        .cipher_text
        .ok_or(KmsError::MissingParameter("cipher_text"))?;
    let blob = crate::common::b64::decode(text.trim()).map_err(|_| KmsError::InvalidCiphertext)?;
    let given = req
        .key_id
        .as_deref()
        .map(|id| domain::parse_key_id(Some(id)))
        .transpose()?;
    let aad = req.additional_authenticated_data.unwrap_or_default();
    let key_id = encryption::target_key_id(alg, given.as_deref(), &blob)?;
    let key = load_decrypting(&app, &caller, alg, &key_id).await?;
    let plain = encryption::decrypt_under(&app, &key, alg, &blob, aad.as_bytes()).await?;
    let plain_text_base64 = crate::common::b64::encode(plain.as_slice());
    let plain_text = crate::common::json::lossy_text(&plain);
    Ok(Json(DecryptDataResponse {
        key_id,
        plain_text,
        plain_text_base64,
    }))
}
