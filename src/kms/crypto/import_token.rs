//! Import wrapping: the RSA or SM2 wrapping key pair of CreateParametersForImport
//! (its private key sealed under the root key, associated data
//! `"{key_id}:wrapping"`), the sealed import token ({key id, project, token
//! id, expiry}) that ties an upload to that set, unwrapping the upload, and
//! the fingerprint a re-import must match. Asymmetric keys bring their private
//! key as a second, AES-wrapped part (`import_wrap.rs`).

use crate::common::b64;
use crate::common::crypto::{random_bytes, Sealer};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const TOKEN_AAD: &[u8] = b"dewstack/kms-import-token/v1";
pub const TOKEN_TTL_MS: i64 = 24 * 3_600_000;
const WRAPPING_BITS: usize = 2048;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrapAlg {
    OaepSha256,
    OaepSha1,
    /// SM2 public-key encryption (GB/T 32918.4) under an SM2 wrapping key.
    Sm2,
}

impl WrapAlg {
    pub fn parse(raw: Option<&str>) -> Result<Self, KmsError> {
        match raw {
            None | Some("") => Err(KmsError::MissingParameter("wrapping_algorithm")),
            Some("RSAES_OAEP_SHA_256") => Ok(WrapAlg::OaepSha256),
            Some("RSAES_OAEP_SHA_1") => Ok(WrapAlg::OaepSha1),
            Some("SM2_ENCRYPT") => Ok(WrapAlg::Sm2),
            Some(_) => Err(KmsError::InvalidParameter("wrapping_algorithm")),
        }
    }
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
    rng: &Rng,
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
        pad: hex::encode(random_bytes(rng, 24).as_slice()),
    };
    let json = serde_json::to_vec(&claims).unwrap_or_default();
    b64::encode(keyring.seal(&json, TOKEN_AAD))
}

/// The claims of a token this server issued, if it has not expired and names `key_id`.
pub fn open_token(
    keyring: &Sealer,
    token: &str,
    key_id: &str,
    now_ms: i64,
) -> Result<TokenClaims, KmsError> {
    let raw = b64::decode(token.trim()).map_err(|_| KmsError::InvalidImportToken)?;
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
            let der = super::import_wrap::unwrap_private_key(&unwrapped, wrapped)?;
            let (material, public) = super::import_wrap::accept_private_key(spec, &der)?;
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

/// A fresh wrapping key pair for `alg`: (sealed PKCS#8 private key, SPKI
/// DER public key). One pair per import token, as the cloud hands out.
pub fn wrapping_pair(
    keyring: &Sealer,
    rng: &Rng,
    key_id: &str,
    alg: WrapAlg,
) -> Result<(Vec<u8>, Vec<u8>), KmsError> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let internal = |e: String| KmsError::Internal(e);
    let (der, public) = match alg {
        WrapAlg::Sm2 => {
            let der = super::material::generate(rng, KeySpec::Sm2)
                .map_err(|e| internal(e.to_string()))?;
            let public = super::asymmetric::parse_private(KeySpec::Sm2, &der)?.public_der()?;
            (der, public)
        }
        WrapAlg::OaepSha256 | WrapAlg::OaepSha1 => {
            let private = rsa::RsaPrivateKey::new(&mut rng.csprng(), WRAPPING_BITS)
                .map_err(|e| internal(e.to_string()))?;
            let der = private
                .to_pkcs8_der()
                .map_err(|e| internal(e.to_string()))?;
            let public = rsa::RsaPublicKey::from(&private)
                .to_public_key_der()
                .map_err(|e| internal(e.to_string()))?;
            (
                Zeroizing::new(der.as_bytes().to_vec()),
                public.as_bytes().to_vec(),
            )
        }
    };
    Ok((keyring.seal(&der, &wrapping_aad(key_id)), public))
}

/// Unwraps uploaded material with the sealed wrapping private key. RSA is
/// blinded with `rng` (the uploaded ciphertext is the caller's input). An
/// SM2 upload is ASN.1 DER (GM/T 0009) or raw C1C3C2, as
/// `asymmetric::decrypt` reads SM2 ciphertexts (dewstack's choice: the
/// cloud does not say which encoding it expects).
pub fn unwrap_material(
    rng: &Rng,
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
    let padding = match alg {
        WrapAlg::Sm2 => {
            let private = super::asymmetric::parse_private(KeySpec::Sm2, &der)
                .map_err(|_| KmsError::Internal("wrapping key is corrupt".into()))?;
            let sm2 = super::asymmetric::EncAlg::Sm2;
            return super::asymmetric::decrypt(rng, &private, sm2, wrapped)
                .map_err(|_| KmsError::UnwrapFailed);
        }
        WrapAlg::OaepSha256 => rsa::Oaep::new::<sha2::Sha256>(),
        WrapAlg::OaepSha1 => rsa::Oaep::new::<sha1::Sha1>(),
    };
    let private = rsa::RsaPrivateKey::from_pkcs8_der(&der)
        .map_err(|_| KmsError::Internal("wrapping key is corrupt".into()))?;
    private
        .decrypt_blinded(&mut rng.csprng(), padding, wrapped)
        .map(Zeroizing::new)
        .map_err(|_| KmsError::UnwrapFailed)
}

#[cfg(test)]
#[path = "import_token_tests.rs"]
mod tests;
