//! Imported material of asymmetric keys (RSA, EC_P256, EC_P384, SM2).
//!
//! The cloud's ImportKeyMaterial takes, for an asymmetric key, two parts:
//! `encrypted_key_material` is a temporary intermediate key wrapped with the
//! import public key (as symmetric material is), and `encrypted_privatekey`
//! is the private key encrypted under that temporary key. The temporary key
//! is AES-256 and the private key is wrapped with AES Key Wrap with Padding
//! (RFC 5649, OpenSSL's `id-aes256-wrap-pad`), the same two-layer scheme as
//! other clouds' RSA+AES key wrapping; the private key is PKCS#8 DER.
//!
//! The stored material is the key re-encoded as PKCS#8 DER, the form every
//! generated key has. A re-import must bring the same key pair: it is
//! recognised by its public key, whatever optional fields the upload carried.

use crate::kms::crypto::asymmetric::{self, PrivateKey};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use zeroize::Zeroizing;

/// Bytes of the temporary AES-256 key.
pub const TEMPORARY_KEY_LEN: usize = 32;

/// Unwraps `encrypted_privatekey` with the temporary key.
pub fn unwrap_private_key(
    temporary_key: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let key: Zeroizing<[u8; TEMPORARY_KEY_LEN]> = Zeroizing::new(
        temporary_key
            .try_into()
            .map_err(|_| KmsError::ImportMaterialLength)?,
    );
    let kek = aes_kw::KekAes256::from(*key);
    let len = wrapped
        .len()
        .checked_sub(8)
        .filter(|n| *n > 0)
        .ok_or(KmsError::UnwrapFailed)?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    let plain_len = kek
        .unwrap_with_padding(wrapped, &mut out)
        .map_err(|_| KmsError::UnwrapFailed)?
        .len();
    out.truncate(plain_len);
    Ok(out)
}

/// An uploaded private key accepted for `spec`: (PKCS#8 DER to store,
/// SubjectPublicKeyInfo DER that identifies it).
pub fn accept_private_key(
    spec: KeySpec,
    der: &[u8],
) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), KmsError> {
    let refused = || KmsError::InvalidParameter("encrypted_privatekey");
    if !spec.imports_private_key() {
        return Err(refused());
    }
    // The parsers check the algorithm and curve identifiers against the spec.
    let key = asymmetric::parse_private(spec, der).map_err(|_| refused())?;
    if let PrivateKey::Rsa(rsa_key) = &key {
        use rsa::traits::PublicKeyParts;
        let bits = match spec {
            KeySpec::Rsa2048 => 2048,
            KeySpec::Rsa3072 => 3072,
            _ => 4096,
        };
        if rsa_key.n().bits() != bits || rsa_key.validate().is_err() {
            return Err(refused());
        }
    }
    let stored = key.to_pkcs8()?;
    let public = key.public_der()?;
    Ok((stored, public))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kms::crypto::material;

    fn wrap(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; data.len().div_ceil(8) * 8 + 8];
        aes_kw::KekAes256::from(*key)
            .wrap_with_padding(data, &mut out)
            .unwrap();
        out
    }

    /// Interoperability with OpenSSL/`cryptography` is checked by the SDK
    /// conformance test, which wraps with Python's RFC 5649 implementation.
    #[test]
    fn kwp_round_trip_and_tamper() {
        let temp = [7u8; 32];
        let der =
            material::generate(crate::kms::crypto::material::test_rng(), KeySpec::EcP256).unwrap();
        let wrapped = wrap(&temp, &der);
        assert_eq!(wrapped.len(), der.len().div_ceil(8) * 8 + 8);
        assert_eq!(
            unwrap_private_key(&temp, &wrapped).unwrap().as_slice(),
            der.as_slice()
        );
        let mut bad = wrapped.clone();
        bad[3] ^= 1;
        assert!(matches!(
            unwrap_private_key(&temp, &bad),
            Err(KmsError::UnwrapFailed)
        ));
        assert!(matches!(
            unwrap_private_key(&[8u8; 32], &wrapped),
            Err(KmsError::UnwrapFailed)
        ));
        assert!(matches!(
            unwrap_private_key(&[7u8; 16], &wrapped),
            Err(KmsError::ImportMaterialLength)
        ));
        assert!(unwrap_private_key(&temp, &wrapped[..8]).is_err());
        assert_eq!(
            unwrap_private_key(&temp, &wrap(&temp, b"1234567"))
                .unwrap()
                .as_slice(),
            b"1234567"
        );
    }

    #[test]
    fn accepts_each_importable_spec_and_refuses_mismatches() {
        for spec in [
            KeySpec::Rsa2048,
            KeySpec::EcP256,
            KeySpec::EcP384,
            KeySpec::Sm2,
        ] {
            let der = material::generate(crate::kms::crypto::material::test_rng(), spec).unwrap();
            let (stored, public) = accept_private_key(spec, &der).unwrap();
            let reparsed = asymmetric::parse_private(spec, &stored).unwrap();
            assert_eq!(reparsed.public_der().unwrap(), public, "{spec:?}");
        }
        let p256 =
            material::generate(crate::kms::crypto::material::test_rng(), KeySpec::EcP256).unwrap();
        let rsa =
            material::generate(crate::kms::crypto::material::test_rng(), KeySpec::Rsa2048).unwrap();
        for (spec, der) in [
            (KeySpec::EcP384, &p256),
            (KeySpec::Sm2, &p256),
            (KeySpec::Secp256k1, &p256),
            (KeySpec::Rsa3072, &rsa),
            (KeySpec::EcP256, &rsa),
        ] {
            assert!(
                accept_private_key(spec, der).is_err(),
                "{spec:?} accepted a foreign key"
            );
        }
        assert!(accept_private_key(KeySpec::Rsa2048, b"not a key").is_err());
        let ed =
            material::generate(crate::kms::crypto::material::test_rng(), KeySpec::Ed25519).unwrap();
        assert!(accept_private_key(KeySpec::Ed25519, &ed).is_err());
        assert!(!KeySpec::Aes256.imports_private_key());
    }
}
