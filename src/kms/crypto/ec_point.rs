//! ECDSA with a public key given as a SEC1 point: what dewstack needs for
//! EC keys whose private half is in a PKCS#11 token (the token signs; the
//! public key, read from it, verifies and is shown).

use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;

/// Whether `sig` (DER) is an ECDSA signature of `digest` by the public key
/// `point` (uncompressed SEC1) on the curve of `spec`.
pub fn ecdsa_verify_point(spec: KeySpec, point: &[u8], digest: &[u8], sig: &[u8]) -> bool {
    use signature::hazmat::PrehashVerifier;
    match spec {
        KeySpec::EcP256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok_and(|k| {
            p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok())
        }),
        KeySpec::EcP384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok_and(|k| {
            p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok())
        }),
        _ => false,
    }
}

/// The SubjectPublicKeyInfo DER of an uncompressed SEC1 `point` of `spec`.
pub fn ec_spki(spec: KeySpec, point: &[u8]) -> Result<Vec<u8>, KmsError> {
    use p256::pkcs8::EncodePublicKey;
    let bad = || KmsError::Internal("the token's EC public key does not parse".into());
    let der = match spec {
        KeySpec::EcP256 => p256::PublicKey::from_sec1_bytes(point)
            .map_err(|_| bad())?
            .to_public_key_der(),
        KeySpec::EcP384 => p384::PublicKey::from_sec1_bytes(point)
            .map_err(|_| bad())?
            .to_public_key_der(),
        _ => return Err(KmsError::InvalidParameter("key_id")),
    };
    Ok(der.map_err(|_| bad())?.as_bytes().to_vec())
}
