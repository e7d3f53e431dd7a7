//! Data keys: CreateDatakey, CreateDatakeyWithoutPlaintext, EncryptDatakey,
//! DecryptDatakey, and CreateRandom (gen-random).
//!
//! A data key's `cipher_text` is upper-case hex of
//! `blob | key_id (36 ASCII) | 00000000 | SHA-256(everything before)`, the
//! trailer the cloud appends to its own DEK ciphertexts (its published example
//! ends with the key id in hex, four zero bytes and a SHA-256 of the rest).
//! `blob` is the `cipher` blob of the DEK under the CMK's newest version.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::crypto::random_bytes;
use crate::common::json::Json;
use crate::kms::access::{self, Requester};
use crate::kms::crypto::blob::{self, Purpose};
use crate::kms::domain::grants::op;
use crate::kms::domain::{self, KeySpec, KeyUsage};
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const TRAILER_LEN: usize = 36 + 4 + 32;

/// The associated data capsules were sealed with before they had a purpose
/// of their own (`api/capsule.rs`), when they were data key ciphertexts.
/// Reserved since: no data key ciphertext is made with it, and none opens
/// with it, so that such a capsule and a data key cannot stand in for each
/// other (dewstack's choice; the string is dewstack's own, no SDK sends it).
pub(super) const LEGACY_CAPSULE_AAD: &[u8] = b"dewstack/datakey-capsule/v1";
const MAX_AAD_BYTES: usize = 128;
const MAX_DATAKEY_BYTES: usize = 1024;

/// The trailer-wrapped form of `blob`, as bytes.
pub fn wrap_blob(key_id: &str, blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(blob.len() + TRAILER_LEN);
    out.extend_from_slice(blob);
    out.extend_from_slice(key_id.as_bytes());
    out.extend_from_slice(&[0u8; 4]);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// The blob inside a wrapped data key ciphertext, after checking its trailer.
pub fn unwrap_blob(wrapped: &[u8]) -> Result<(&[u8], String), KmsError> {
    if wrapped.len() <= TRAILER_LEN {
        return Err(KmsError::InvalidDatakeyCiphertext);
    }
    let (body, digest) = wrapped.split_at(wrapped.len() - 32);
    if !bool::from(Sha256::digest(body).as_slice().ct_eq(digest)) {
        return Err(KmsError::DatakeyCipherHash);
    }
    let (blob, tail) = body.split_at(body.len() - 40);
    let id = std::str::from_utf8(&tail[..36]).map_err(|_| KmsError::InvalidDatakeyCiphertext)?;
    if tail[36..] != [0u8; 4] || blob::blob_key_id(blob).ok().as_deref() != Some(id) {
        return Err(KmsError::InvalidDatakeyCiphertext);
    }
    Ok((blob, id.to_owned()))
}

fn aad_of(raw: Option<&str>) -> Result<&[u8], KmsError> {
    let aad = raw.unwrap_or("").as_bytes();
    if aad.len() > MAX_AAD_BYTES {
        return Err(KmsError::InvalidParameter("additional_authenticated_data"));
    }
    Ok(aad)
}

/// A CMK that `caller` may use for `operation` and that may wrap data keys:
/// enabled, ENCRYPT_DECRYPT, symmetric.
pub(super) async fn wrapping_key(
    app: &AppState,
    caller: &Caller,
    raw_id: Option<&str>,
    operation: &'static str,
) -> Result<KeyRecord, KmsError> {
    let key_id = domain::parse_key_ref(raw_id)?;
    let key = access::usable_key(
        app,
        &Requester::caller(caller),
        &key_id,
        operation,
        Some(KeyUsage::EncryptDecrypt),
    )
    .await?;
    if !key.key_spec.is_symmetric() {
        return Err(KmsError::InvalidParameter("key_id"));
    }
    Ok(key)
}

/// Wraps `dek` under the newest version of `key`; the hex `cipher_text`.
pub async fn seal_datakey(
    app: &AppState,
    key: &KeyRecord,
    dek: &[u8],
    aad: &[u8],
) -> Result<String, KmsError> {
    Ok(hex::encode_upper(seal_wrapped(app, key, dek, aad).await?))
}

/// Wraps `dek` under the newest version of `key`; the bytes of a data key ciphertext.
pub async fn seal_wrapped(
    app: &AppState,
    key: &KeyRecord,
    dek: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    if aad == LEGACY_CAPSULE_AAD {
        return Err(KmsError::InvalidParameter("additional_authenticated_data"));
    }
    seal_wrapped_as(app, key, dek, aad, Purpose::Datakey).await
}

/// Wraps `dek` for `purpose` in the data key ciphertext layout (capsules share it).
pub(super) async fn seal_wrapped_as(
    app: &AppState,
    key: &KeyRecord,
    dek: &[u8],
    aad: &[u8],
    purpose: Purpose,
) -> Result<Vec<u8>, KmsError> {
    let blob = super::dispatch::seal(app, key, dek, aad, purpose).await?;
    Ok(wrap_blob(&key.key_id, &blob))
}

/// Unwraps a hex data key ciphertext of `key`.
pub async fn open_datakey(
    app: &AppState,
    key: &KeyRecord,
    cipher_hex: &str,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let wrapped = hex::decode(cipher_hex.trim()).map_err(|_| KmsError::InvalidDatakeyCiphertext)?;
    open_wrapped(app, key, &wrapped, aad).await
}

/// Unwraps the bytes of a data key ciphertext of `key` (see the module doc).
pub async fn open_wrapped(
    app: &AppState,
    key: &KeyRecord,
    wrapped: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    if aad == LEGACY_CAPSULE_AAD {
        // Only a capsule made before capsules had a purpose would open.
        return Err(KmsError::InvalidDatakeyCiphertext);
    }
    open_wrapped_as(app, key, wrapped, aad, Purpose::Datakey).await
}

/// Unwraps a blob of `purpose` in the data key ciphertext layout.
pub(super) async fn open_wrapped_as(
    app: &AppState,
    key: &KeyRecord,
    wrapped: &[u8],
    aad: &[u8],
    purpose: Purpose,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let (blob, id) = unwrap_blob(wrapped)?;
    if id != key.key_id {
        return Err(KmsError::InvalidDatakeyCiphertext);
    }
    super::dispatch::open(app, key, blob, aad, purpose)
        .await
        .map_err(|e| match e {
            KmsError::InvalidCiphertext => KmsError::InvalidDatakeyCiphertext,
            other => other,
        })
}

/// Bytes of a new data key: `datakey_length` (bits) wins over `key_spec`.
fn datakey_bytes(length: Option<&str>, spec: Option<&str>) -> Result<usize, KmsError> {
    if let Some(raw) = length.filter(|s| !s.is_empty()) {
        let bits: usize = raw.trim().parse().map_err(|_| KmsError::DatakeyLength)?;
        if !(8..=8192).contains(&bits) {
            return Err(KmsError::DatakeyLength);
        }
        if !bits.is_multiple_of(8) {
            return Err(KmsError::DatakeyNotBytes);
        }
        return Ok(bits / 8);
    }
    Ok(match spec {
        None | Some("") | Some("AES_256") | Some("HMAC_256") | Some("HMAC_SM3") => 32,
        Some("AES_128") | Some("SM4") => 16,
        Some("HMAC_384") => 48,
        Some("HMAC_512") => 64,
        Some(_) => return Err(KmsError::DatakeySpec),
    })
}

async fn new_datakey(
    app: &AppState,
    key: &KeyRecord,
    req: &CreateDatakeyRequest,
) -> Result<(Zeroizing<Vec<u8>>, String), KmsError> {
    let len = datakey_bytes(req.datakey_length.as_deref(), req.key_spec.as_deref())?;
    let aad = aad_of(req.additional_authenticated_data.as_deref())?;
    let dek = random_bytes(&app.rng, len);
    let cipher_text = seal_datakey(app, key, &dek, aad).await?;
    Ok((dek, cipher_text))
}

pub async fn create_datakey(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<CreateDatakeyRequest, KmsError>,
) -> Result<Json<CreateDatakeyResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    domain::check_pin_type(req.pin_type.as_deref())?;
    let key = wrapping_key(&app, &caller, req.key_id.as_deref(), op::CREATE_DATAKEY).await?;
    let (dek, cipher_text) = new_datakey(&app, &key, &req).await?;
    Ok(Json(CreateDatakeyResponse {
        key_id: key.key_id,
        plain_text: hex::encode_upper(dek.as_slice()),
        cipher_text,
    }))
}

pub async fn create_datakey_without_plaintext(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<CreateDatakeyRequest, KmsError>,
) -> Result<Json<CreateDatakeyWithoutPlaintextResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    domain::check_pin_type(req.pin_type.as_deref())?;
    let key = wrapping_key(
        &app,
        &caller,
        req.key_id.as_deref(),
        op::CREATE_DATAKEY_WITHOUT_PLAINTEXT,
    )
    .await?;
    let (_dek, cipher_text) = new_datakey(&app, &key, &req).await?;
    Ok(Json(CreateDatakeyWithoutPlaintextResponse {
        key_id: key.key_id,
        cipher_text,
    }))
}

fn byte_length(raw: Option<&str>, missing: &'static str, bad: KmsError) -> Result<usize, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter(missing))?;
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_DATAKEY_BYTES).contains(&n) => Ok(n),
        _ => Err(bad),
    }
}

/// The digest the cloud expects after a DEK: SM3 under SM4 keys, else SHA-256.
fn dek_digest(spec: KeySpec, dek: &[u8]) -> Vec<u8> {
    match spec {
        KeySpec::Sm4 => sm3::Sm3::digest(dek).to_vec(),
        _ => Sha256::digest(dek).to_vec(),
    }
}

pub async fn encrypt_datakey(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<EncryptDatakeyRequest, KmsError>,
) -> Result<Json<EncryptDatakeyResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    domain::check_pin_type(req.pin_type.as_deref())?;
    let len = byte_length(
        req.datakey_plain_length.as_deref(),
        "datakey_plain_length",
        KmsError::DatakeyPlainLength,
    )?;
    let text = req
        .plain_text
        .as_deref()
        .ok_or(KmsError::MissingParameter("plain_text"))?;
    let raw =
        Zeroizing::new(hex::decode(text.trim()).map_err(|_| KmsError::InvalidDatakeyPlaintext)?);
    if raw.len() != len + 32 {
        return Err(KmsError::DatakeyPlainMismatch);
    }
    let aad = aad_of(req.additional_authenticated_data.as_deref())?;
    let key = wrapping_key(&app, &caller, req.key_id.as_deref(), op::ENCRYPT_DATAKEY).await?;
    let (dek, digest) = raw.split_at(len);
    if !bool::from(dek_digest(key.key_spec, dek).ct_eq(digest)) {
        return Err(KmsError::DatakeyPlainHash);
    }
    let cipher_text = seal_datakey(&app, &key, dek, aad).await?;
    Ok(Json(EncryptDatakeyResponse {
        key_id: key.key_id,
        cipher_text,
        datakey_length: len.to_string(),
    }))
}

pub async fn decrypt_datakey(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<DecryptDatakeyRequest, KmsError>,
) -> Result<Json<DecryptDatakeyResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let len = byte_length(
        req.datakey_cipher_length.as_deref(),
        "datakey_cipher_length",
        KmsError::DatakeyCipherLength,
    )?;
    let text = req
        .cipher_text
        .as_deref()
        .ok_or(KmsError::MissingParameter("cipher_text"))?;
    let aad = aad_of(req.additional_authenticated_data.as_deref())?;
    let key = wrapping_key(&app, &caller, req.key_id.as_deref(), op::DECRYPT_DATAKEY).await?;
    let dek = open_datakey(&app, &key, text, aad).await?;
    if dek.len() != len {
        return Err(KmsError::DatakeyCipherMismatch);
    }
    Ok(Json(DecryptDatakeyResponse {
        data_key: hex::encode_upper(dek.as_slice()),
        datakey_length: len.to_string(),
        datakey_dgst: hex::encode_upper(Sha256::digest(dek.as_slice())),
    }))
}

pub async fn create_random(
    State(app): State<AppState>,
    Body(req, _): Body<GenRandomRequest, KmsError>,
) -> Result<Json<CreateRandomResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let raw = req
        .random_data_length
        .ok_or(KmsError::MissingParameter("random_data_length"))?;
    let bits: usize = raw.trim().parse().map_err(|_| KmsError::RandomLength)?;
    if !(8..=8192).contains(&bits) {
        return Err(KmsError::RandomLength);
    }
    if !bits.is_multiple_of(8) {
        return Err(KmsError::RandomNotBytes);
    }
    Ok(Json(CreateRandomResponse {
        random_data: hex::encode_upper(random_bytes(&app.rng, bits / 8).as_slice()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_matches_the_cloud_layout_and_detects_tampering() {
        let id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
        let mut blob = vec![0xD1];
        blob.extend_from_slice(id.as_bytes());
        blob.extend_from_slice(&[0u8; 4 + 12 + 16 + 32]);
        let w = wrap_blob(id, &blob);
        assert_eq!(w.len(), blob.len() + 72);
        assert_eq!(&w[blob.len()..blob.len() + 36], id.as_bytes());
        assert_eq!(
            Sha256::digest(&w[..w.len() - 32]).as_slice(),
            &w[w.len() - 32..]
        );
        let (inner, got) = unwrap_blob(&w).unwrap();
        assert_eq!((inner, got.as_str()), (blob.as_slice(), id));
        for i in 0..w.len() {
            let mut bad = w.clone();
            bad[i] ^= 1;
            assert!(unwrap_blob(&bad).is_err(), "byte {i}");
        }
        assert!(unwrap_blob(&w[..50]).is_err());
    }

    #[test]
    fn datakey_length_rules() {
        assert_eq!(datakey_bytes(None, None).unwrap(), 32);
        assert_eq!(datakey_bytes(None, Some("AES_128")).unwrap(), 16);
        assert_eq!(datakey_bytes(Some("512"), Some("AES_128")).unwrap(), 64);
        assert_eq!(datakey_bytes(Some("8192"), None).unwrap(), 1024);
        assert!(matches!(
            datakey_bytes(Some("8200"), None),
            Err(KmsError::DatakeyLength)
        ));
        assert!(matches!(
            datakey_bytes(Some("12"), None),
            Err(KmsError::DatakeyNotBytes)
        ));
        assert!(matches!(
            datakey_bytes(None, Some("DES")),
            Err(KmsError::DatakeySpec)
        ));
    }
}
