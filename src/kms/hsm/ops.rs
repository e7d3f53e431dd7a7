//! What dewstack does inside a token, one function per PKCS#11 operation,
//! each on a session `Token::run` lends. Keys are found by `CKA_ID` = the
//! KMS key id. Secret and private objects are made sensitive and never
//! extractable: their material does not exist outside the token.

use super::token::failed;
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use zeroize::Zeroizing;

/// DER of the named-curve OIDs (`CKA_EC_PARAMS`): prime256v1, secp384r1.
const P256_OID: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];

/// The mechanisms a key of `spec` needs from the token (generation, use).
pub fn mechanisms(spec: KeySpec) -> Option<[MechanismType; 2]> {
    use MechanismType as M;
    Some(match spec {
        KeySpec::Aes256 => [M::AES_KEY_GEN, M::AES_GCM],
        KeySpec::Hmac256 => [M::GENERIC_SECRET_KEY_GEN, M::SHA256_HMAC],
        KeySpec::Hmac384 => [M::GENERIC_SECRET_KEY_GEN, M::SHA384_HMAC],
        KeySpec::Hmac512 => [M::GENERIC_SECRET_KEY_GEN, M::SHA512_HMAC],
        KeySpec::EcP256 | KeySpec::EcP384 => [M::ECC_KEY_PAIR_GEN, M::ECDSA],
        _ => return None,
    })
}

fn identity(key_id: &str) -> [Attribute; 3] {
    [
        Attribute::Token(true),
        Attribute::Id(key_id.as_bytes().to_vec()),
        Attribute::Label(key_id.as_bytes().to_vec()),
    ]
}

fn hidden() -> [Attribute; 3] {
    [
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
    ]
}

/// Generates the material of `key_id` inside the token.
pub fn generate(session: &Session, key_id: &str, spec: KeySpec) -> Result<(), KmsError> {
    let secret = |key_type, len: u64, usage: [Attribute; 2]| {
        let mut t = vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(key_type),
            Attribute::ValueLen(len.into()),
        ];
        t.extend(identity(key_id));
        t.extend(hidden());
        t.extend(usage);
        t
    };
    let crypt = || [Attribute::Encrypt(true), Attribute::Decrypt(true)];
    let mac = || [Attribute::Sign(true), Attribute::Verify(true)];
    let made = match spec {
        KeySpec::Aes256 => session
            .generate_key(&Mechanism::AesKeyGen, &secret(KeyType::AES, 32, crypt()))
            .map(|_| ()),
        KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
            let len = match spec {
                KeySpec::Hmac256 => 32,
                KeySpec::Hmac384 => 48,
                _ => 64,
            };
            let template = secret(KeyType::GENERIC_SECRET, len, mac());
            session
                .generate_key(&Mechanism::GenericSecretKeyGen, &template)
                .map(|_| ())
        }
        KeySpec::EcP256 | KeySpec::EcP384 => {
            let oid = if spec == KeySpec::EcP256 {
                P256_OID
            } else {
                P384_OID
            };
            let mut public = vec![
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::EcParams(oid.to_vec()),
                Attribute::Verify(true),
            ];
            public.extend(identity(key_id));
            let mut private = vec![
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Sign(true),
            ];
            private.extend(identity(key_id));
            private.extend(hidden());
            session
                .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
                .map(|_| ())
        }
        _ => return Err(KmsError::InvalidParameter("key_spec")),
    };
    made.map_err(|e| failed("generate", e))
}

/// The object of class `class` whose `CKA_ID` is `key_id`.
fn find(session: &Session, key_id: &str, class: ObjectClass) -> Result<ObjectHandle, KmsError> {
    let template = [
        Attribute::Class(class),
        Attribute::Id(key_id.as_bytes().to_vec()),
    ];
    let found = session
        .find_objects(&template)
        .map_err(|e| failed("find", e))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(KmsError::Internal(format!(
            "the material of {key_id} is not in its token"
        ))),
        _ => Err(KmsError::Internal(format!(
            "the token holds more than one object for {key_id}"
        ))),
    }
}

/// Removes every object of `key_id` (the key is purged).
pub fn destroy(session: &Session, key_id: &str) -> Result<(), KmsError> {
    let template = [Attribute::Id(key_id.as_bytes().to_vec())];
    let found = session
        .find_objects(&template)
        .map_err(|e| failed("find", e))?;
    for object in found {
        session
            .destroy_object(object)
            .map_err(|e| failed("destroy", e))?;
    }
    Ok(())
}

/// AES-256-GCM with a 128-bit tag in the token: ciphertext || tag.
pub fn gcm_seal(
    session: &Session,
    key_id: &str,
    nonce: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = find(session, key_id, ObjectClass::SECRET_KEY)?;
    let mut iv = nonce.to_vec();
    let params = GcmParams::new(&mut iv, aad, 128.into()).map_err(|e| failed("gcm", e))?;
    session
        .encrypt(&Mechanism::AesGcm(params), key, plaintext)
        .map_err(|e| failed("encrypt", e))
}

/// The inverse of `gcm_seal`; a tag that does not verify is `InvalidCiphertext`.
pub fn gcm_open(
    session: &Session,
    key_id: &str,
    nonce: &[u8],
    ct: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let key = find(session, key_id, ObjectClass::SECRET_KEY)?;
    let mut iv = nonce.to_vec();
    let params = GcmParams::new(&mut iv, aad, 128.into()).map_err(|e| failed("gcm", e))?;
    session
        .decrypt(&Mechanism::AesGcm(params), key, ct)
        .map(Zeroizing::new)
        .map_err(|e| match failed("decrypt", e) {
            // Tokens answer a tag that does not verify differently
            // (SoftHSM2: CKR_GENERAL_ERROR; others CKR_ENCRYPTED_DATA_INVALID):
            // with the key found and the blob well-formed, any refusal but
            // an unreachable device means the ciphertext is not authentic.
            KmsError::HsmUnavailable => KmsError::HsmUnavailable,
            other => {
                tracing::debug!(error = %other, "token refused a ciphertext");
                KmsError::InvalidCiphertext
            }
        })
}

fn hmac_mechanism(spec: KeySpec) -> Result<Mechanism<'static>, KmsError> {
    Ok(match spec {
        KeySpec::Hmac256 => Mechanism::Sha256Hmac,
        KeySpec::Hmac384 => Mechanism::Sha384Hmac,
        KeySpec::Hmac512 => Mechanism::Sha512Hmac,
        _ => return Err(KmsError::InvalidParameter("mac_algorithm")),
    })
}

/// HMAC of `message` under an HMAC key in the token.
pub fn hmac(
    session: &Session,
    key_id: &str,
    spec: KeySpec,
    message: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = find(session, key_id, ObjectClass::SECRET_KEY)?;
    session
        .sign(&hmac_mechanism(spec)?, key, message)
        .map_err(|e| failed("hmac", e))
}

/// ECDSA over `digest` with the private key in the token, DER-encoded as
/// the cloud answers (PKCS#11 gives `r || s`).
pub fn ecdsa_sign(
    session: &Session,
    key_id: &str,
    spec: KeySpec,
    digest: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let key = find(session, key_id, ObjectClass::PRIVATE_KEY)?;
    let raw = session
        .sign(&Mechanism::Ecdsa, key, digest)
        .map_err(|e| failed("sign", e))?;
    let bad = |_| KmsError::Internal("the token's ECDSA signature has the wrong length".into());
    Ok(match spec {
        KeySpec::EcP256 => p256::ecdsa::Signature::from_slice(&raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        _ => p384::ecdsa::Signature::from_slice(&raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}

/// The public key of an EC key pair as an uncompressed SEC1 point
/// (`CKA_EC_POINT`, unwrapped from its DER OCTET STRING).
pub fn ec_point(session: &Session, key_id: &str) -> Result<Vec<u8>, KmsError> {
    let key = find(session, key_id, ObjectClass::PUBLIC_KEY)?;
    let attrs = session
        .get_attributes(key, &[AttributeType::EcPoint])
        .map_err(|e| failed("public key", e))?;
    let Some(Attribute::EcPoint(der)) = attrs.into_iter().next() else {
        return Err(KmsError::Internal("the token has no EC point".into()));
    };
    // An OCTET STRING of a short length (points here are < 128 bytes).
    match der.as_slice() {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() => Ok(rest.to_vec()),
        _ => Ok(der),
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
