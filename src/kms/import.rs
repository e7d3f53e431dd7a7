//! Imported key material (origin "external"): CreateParametersForImport,
//! ImportKeyMaterial, DeleteImportedKeyMaterial, and the sweep that removes
//! material whose expiration time has passed.
//!
//! CreateParametersForImport makes an RSA-2048 wrapping key pair (the cloud's
//! documented default); its private key is sealed under the root key
//! (associated data `"{key_id}:wrapping"`) in `kms_import_params`
//! (`project/key_id`, one live set per key). The import token is a sealed
//! {key id, project, token id, expiry} that ties a material upload to that set.
//! Asymmetric keys bring their private key as a second, AES-wrapped part
//! (`import_asym.rs`).

use super::admin;
use super::domain::{self, KeySpec, KeyState, Origin};
use super::error::KmsError;
use super::import_asym;
use super::store::{self, KeyRecord, KeyVersion};
use super::wire::OperateKeyRequest;
use super::wire_admin::*;
use super::KmsBody;
use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::crypto::{random_bytes, Sealer};
use crate::server::state::AppState;
use crate::store::{Tx, TxExt};
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const PARAMS: &str = "kms_import_params";
const TOKEN_AAD: &[u8] = b"dewstack/kms-import-token/v1";
pub const TOKEN_TTL_MS: i64 = 24 * 3_600_000;
const WRAPPING_BITS: usize = 2048;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrapAlg {
    OaepSha256,
    OaepSha1,
}

impl WrapAlg {
    pub fn parse(raw: Option<&str>) -> Result<Self, KmsError> {
        match raw {
            None | Some("") => Err(KmsError::MissingParameter("wrapping_algorithm")),
            Some("RSAES_OAEP_SHA_256") => Ok(WrapAlg::OaepSha256),
            Some("RSAES_OAEP_SHA_1") => Ok(WrapAlg::OaepSha1),
            Some("SM2_ENCRYPT") => Err(KmsError::Unsupported("SM2_ENCRYPT key import")),
            Some(_) => Err(KmsError::InvalidParameter("wrapping_algorithm")),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct ImportParams {
    token_id: String,
    algorithm: WrapAlg,
    /// PKCS#8 DER of the wrapping private key, sealed; base64.
    sealed_private_key: String,
    expires_ms: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub key_id: String,
    pub project_id: String,
    pub token_id: String,
    pub expires_ms: i64,
    /// Random filler: the documented token length is at least 200 characters.
    pad: String,
}

pub fn seal_token(
    keyring: &Sealer,
    key_id: &str,
    project: &str,
    token_id: &str,
    expires_ms: i64,
) -> String {
    let claims = TokenClaims {
        key_id: key_id.to_owned(),
        project_id: project.to_owned(),
        token_id: token_id.to_owned(),
        expires_ms,
        pad: hex::encode(random_bytes(24).as_slice()),
    };
    let json = serde_json::to_vec(&claims).unwrap_or_default();
    B64.encode(keyring.seal(&json, TOKEN_AAD))
}

/// The claims of a token this server issued, if it has not expired and names `key_id`.
pub fn open_token(
    keyring: &Sealer,
    token: &str,
    key_id: &str,
    now_ms: i64,
) -> Result<TokenClaims, KmsError> {
    let raw = B64
        .decode(token.trim())
        .map_err(|_| KmsError::InvalidImportToken)?;
    let json = keyring
        .open(&raw, TOKEN_AAD)
        .map_err(|_| KmsError::ImportTokenVerification)?;
    let claims: TokenClaims =
        serde_json::from_slice(&json).map_err(|_| KmsError::ImportTokenVerification)?;
    if claims.expires_ms <= now_ms {
        return Err(KmsError::InvalidImportToken);
    }
    if claims.key_id != key_id {
        return Err(KmsError::ImportTokenKeyMismatch);
    }
    Ok(claims)
}

/// Plaintext length each importable spec needs.
pub fn material_len(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::Aes256 | KeySpec::Hmac256 | KeySpec::HmacSm3 => Some(32),
        KeySpec::Sm4 => Some(16),
        KeySpec::Hmac384 => Some(48),
        KeySpec::Hmac512 => Some(64),
        _ => None,
    }
}

/// An accepted upload: the material to store and the bytes that identify it
/// on a re-import.
pub struct Imported {
    pub material: Zeroizing<Vec<u8>>,
    pub identity: Zeroizing<Vec<u8>>,
}

/// A symmetric key is the unwrapped material itself. For an asymmetric key
/// the unwrapped material is the temporary key that opens `wrapped_private`,
/// and the key pair is identified by its public key.
pub fn imported_material(
    spec: KeySpec,
    unwrapped: Zeroizing<Vec<u8>>,
    wrapped_private: Option<&[u8]>,
) -> Result<Imported, KmsError> {
    match wrapped_private {
        None if spec.imports_private_key() => {
            Err(KmsError::MissingParameter("encrypted_privatekey"))
        }
        None if material_len(spec) == Some(unwrapped.len()) => Ok(Imported {
            material: unwrapped.clone(),
            identity: unwrapped,
        }),
        None => Err(KmsError::ImportMaterialLength),
        Some(_) if !spec.imports_private_key() => {
            Err(KmsError::InvalidParameter("encrypted_privatekey"))
        }
        Some(wrapped) => {
            let der = import_asym::unwrap_private_key(&unwrapped, wrapped)?;
            let (material, public) = import_asym::accept_private_key(spec, &der)?;
            Ok(Imported {
                material,
                identity: Zeroizing::new(public),
            })
        }
    }
}

pub fn fingerprint(key_id: &str, material: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"dewstack/kms-import-fingerprint/v1\0");
    h.update(key_id.as_bytes());
    h.update(material);
    hex::encode(h.finalize())
}

fn wrapping_aad(key_id: &str) -> Vec<u8> {
    format!("{key_id}:wrapping").into_bytes()
}

fn params_key(project: &str, key_id: &str) -> String {
    format!("{project}/{key_id}")
}

pub fn forget_params(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<(), KmsError> {
    tx.delete(PARAMS, &params_key(project, key_id))?;
    Ok(())
}

fn check_importable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.origin != Origin::External {
        return Err(KmsError::ExternalKeyRequired);
    }
    if key.key_state != KeyState::PendingImport {
        return Err(KmsError::KeyNotPendingImport);
    }
    Ok(())
}

/// A fresh wrapping key pair: (sealed PKCS#8 private key, SPKI DER public key).
fn wrapping_pair(keyring: &Sealer, key_id: &str) -> Result<(Vec<u8>, Vec<u8>), KmsError> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let internal = |e: String| KmsError::Internal(e);
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, WRAPPING_BITS)
        .map_err(|e| internal(e.to_string()))?;
    let der = private
        .to_pkcs8_der()
        .map_err(|e| internal(e.to_string()))?;
    let public = rsa::RsaPublicKey::from(&private)
        .to_public_key_der()
        .map_err(|e| internal(e.to_string()))?;
    Ok((
        keyring.seal(der.as_bytes(), &wrapping_aad(key_id)),
        public.as_bytes().to_vec(),
    ))
}

/// Unwraps uploaded material with the sealed wrapping private key.
pub fn unwrap_material(
    keyring: &Sealer,
    key_id: &str,
    sealed_private: &[u8],
    alg: WrapAlg,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    use rsa::pkcs8::DecodePrivateKey;
    let der = keyring
        .open(sealed_private, &wrapping_aad(key_id))
        .map_err(|_| KmsError::Internal("wrapping key does not authenticate".into()))?;
    let private = rsa::RsaPrivateKey::from_pkcs8_der(&der)
        .map_err(|_| KmsError::Internal("wrapping key is corrupt".into()))?;
    let padding = match alg {
        WrapAlg::OaepSha256 => rsa::Oaep::new::<sha2::Sha256>(),
        WrapAlg::OaepSha1 => rsa::Oaep::new::<sha1::Sha1>(),
    };
    private
        .decrypt(padding, wrapped)
        .map(Zeroizing::new)
        .map_err(|_| KmsError::UnwrapFailed)
}

pub async fn create_parameters_for_import(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<GetParametersForImportRequest>,
) -> Result<Json<CreateParametersForImportResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let algorithm = WrapAlg::parse(req.wrapping_algorithm.as_deref())?;
    check_importable(&admin::load_own(&app, &caller, &key_id).await?)?;
    let keyring = app.keyring.clone();
    let kid = key_id.clone();
    let (sealed, public) = tokio::task::spawn_blocking(move || wrapping_pair(&keyring, &kid))
        .await
        .map_err(|e| KmsError::Internal(e.to_string()))??;
    let expires_ms = app.clock.now().timestamp_millis() + TOKEN_TTL_MS;
    let token_id = hex::encode(random_bytes(16).as_slice());
    let project = caller.project().to_owned();
    let import_token = seal_token(&app.keyring, &key_id, &project, &token_id, expires_ms);
    let params = ImportParams {
        token_id,
        algorithm,
        sealed_private_key: B64.encode(sealed),
        expires_ms,
    };
    let kid = key_id.clone();
    app.db
        .tx(move |tx| {
            check_importable(&store::load(tx, &project, &kid)?)?;
            tx.put_json(PARAMS, &params_key(&project, &kid), &params)?;
            Ok::<_, KmsError>(())
        })
        .await?;
    Ok(Json(CreateParametersForImportResponse {
        key_id,
        import_token,
        expiration_time: expires_ms / 1000,
        public_key: B64.encode(public),
    }))
}

pub async fn import_key_material(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<ImportKeyMaterialRequest>,
) -> Result<Json<Empty>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let token = req
        .import_token
        .ok_or(KmsError::MissingParameter("import_token"))?;
    let wrapped = B64
        .decode(
            req.encrypted_key_material
                .ok_or(KmsError::MissingParameter("encrypted_key_material"))?
                .trim(),
        )
        .map_err(|_| KmsError::InvalidParameter("encrypted_key_material"))?;
    let wrapped_private = req
        .encrypted_privatekey
        .filter(|p| !p.is_empty())
        .map(|p| B64.decode(p.trim()))
        .transpose()
        .map_err(|_| KmsError::InvalidParameter("encrypted_privatekey"))?;
    let now = app.clock.now().timestamp_millis();
    let expiration_ms = match req.expiration_time.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let secs: i64 = s
                .trim()
                .parse()
                .map_err(|_| KmsError::InvalidParameter("expiration_time"))?;
            let ms = secs.saturating_mul(1000);
            if ms <= now {
                return Err(KmsError::ImportExpirationPast);
            }
            Some(ms)
        }
    };
    let claims = open_token(&app.keyring, &token, &key_id, now)?;
    if claims.project_id != caller.project() {
        return Err(KmsError::ImportTokenKeyMismatch);
    }
    let (project, kid) = (caller.project().to_owned(), key_id.clone());
    let (key, params) = app
        .db
        .tx(move |tx| {
            let key = store::load(tx, &project, &kid)?;
            check_importable(&key)?;
            let params: Option<ImportParams> = tx.get_json(PARAMS, &params_key(&project, &kid))?;
            Ok::<_, KmsError>((key, params))
        })
        .await?;
    let params = params
        .filter(|p| p.token_id == claims.token_id && p.expires_ms > now)
        .ok_or(KmsError::InvalidImportToken)?;
    let sealed_private = B64
        .decode(&params.sealed_private_key)
        .map_err(|_| KmsError::Internal("stored wrapping key is not base64".into()))?;
    let unwrapped = unwrap_material(
        &app.keyring,
        &key_id,
        &sealed_private,
        params.algorithm,
        &wrapped,
    )?;
    let Imported { material, identity } =
        imported_material(key.key_spec, unwrapped, wrapped_private.as_deref())?;
    let print = fingerprint(&key_id, &identity);
    let sealed = app.keyring.seal(&material, key_id.as_bytes());
    let token_id = claims.token_id;
    admin::change_own(&app, &caller, &key_id, move |tx, key| {
        check_importable(key)?;
        let current: Option<ImportParams> =
            tx.get_json(PARAMS, &params_key(&key.project_id, &key.key_id))?;
        if current.is_none_or(|p| p.token_id != token_id) {
            return Err(KmsError::InvalidImportToken);
        }
        match &key.admin.material_fingerprint {
            Some(old) if *old != print => return Err(KmsError::ImportMaterialMismatch),
            _ => key.admin.material_fingerprint = Some(print.clone()),
        }
        key.versions = vec![KeyVersion {
            created_ms: now,
            sealed: sealed.clone(),
        }];
        key.expiration_ms = expiration_ms;
        key.key_state = KeyState::Enabled;
        forget_params(tx, &key.project_id, &key.key_id)
    })
    .await?;
    Ok(Json(Empty {}))
}

/// Removes imported material: the key waits for an import again.
pub fn drop_material(key: &mut KeyRecord) {
    key.versions.clear();
    key.expiration_ms = None;
    if matches!(key.key_state, KeyState::Enabled | KeyState::Disabled) {
        key.key_state = KeyState::PendingImport;
    }
}

pub async fn delete_imported_key_material(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<Empty>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    admin::change_own(&app, &caller, &key_id, |_, key| {
        if key.origin != Origin::External {
            return Err(KmsError::ExternalKeyRequired);
        }
        if !matches!(key.key_state, KeyState::Enabled | KeyState::Disabled) {
            return Err(KmsError::MaterialNotDeletable);
        }
        drop_material(key);
        Ok(())
    })
    .await?;
    Ok(Json(Empty {}))
}

/// Removes imported material whose expiration time has passed; returns how many keys.
pub async fn sweep_expired_material(app: &AppState) -> Result<usize, KmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            admin::sweep_table(tx, admin::EXPIRIES_TABLE, now_ms, &mut |key| {
                if admin::material_expiry_ms(key).is_none_or(|d| d > now_ms) {
                    return Ok(false);
                }
                drop_material(key);
                Ok(true)
            })
        })
        .await
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
