//! Key material generation for every key spec, from RustCrypto crates.
//! Symmetric and HMAC keys are raw bytes; asymmetric keys are PKCS#8 DER.

use crate::common::crypto::{random_bytes, CryptoError, Sealer};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::rng::Rng;
use zeroize::Zeroizing;

/// Fresh material for `spec`, sealed under the root key with the key id as
/// associated data, as a key version stores it.
pub fn seal_fresh(
    keyring: &Sealer,
    rng: &Rng,
    key_id: &str,
    spec: KeySpec,
) -> Result<Vec<u8>, KmsError> {
    let plain = generate(rng, spec).map_err(|e| KmsError::Internal(e.to_string()))?;
    Ok(keyring.seal(&plain, key_id.as_bytes()))
}

pub fn generate(rng: &Rng, spec: KeySpec) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    use pkcs8_encode::encode;
    let random_bytes = |len| random_bytes(rng, len);
    let mut os = rng.csprng();
    let rng = &mut os;
    Ok(match spec {
        KeySpec::Aes256 | KeySpec::Hmac256 | KeySpec::HmacSm3 => random_bytes(32),
        KeySpec::Sm4 => random_bytes(16),
        KeySpec::Hmac384 => random_bytes(48),
        KeySpec::Hmac512 => random_bytes(64),
        KeySpec::Rsa2048 => rsa_key(rng, 2048)?,
        KeySpec::Rsa3072 => rsa_key(rng, 3072)?,
        KeySpec::Rsa4096 => rsa_key(rng, 4096)?,
        KeySpec::EcP256 => encode(&p256::SecretKey::random(rng))?,
        KeySpec::EcP384 => encode(&p384::SecretKey::random(rng))?,
        KeySpec::EcP521 => encode(&p521::SecretKey::random(rng))?,
        KeySpec::Secp256k1 => encode(&k256::SecretKey::random(rng))?,
        KeySpec::Sm2 => encode(&sm2::SecretKey::random(rng))?,
        KeySpec::Ed25519 => encode(&ed25519_dalek::SigningKey::generate(rng))?,
    })
}

fn rsa_key(
    rng: &mut crate::rng::Csprng<'_>,
    bits: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(rng, bits).map_err(|e| CryptoError::KeyGen(e.to_string()))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| CryptoError::KeyGen(e.to_string()))?;
    Ok(Zeroizing::new(der.as_bytes().to_vec()))
}

mod pkcs8_encode {
    use crate::common::crypto::CryptoError;
    use zeroize::Zeroizing;

    pub fn encode<K: p256::pkcs8::EncodePrivateKey>(
        key: &K,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let der = key
            .to_pkcs8_der()
            .map_err(|e| CryptoError::KeyGen(e.to_string()))?;
        Ok(Zeroizing::new(der.as_bytes().to_vec()))
    }
}

/// One seeded RNG for the material that KMS unit tests generate.
#[cfg(test)]
pub(crate) fn test_rng() -> &'static Rng {
    static RNG: std::sync::LazyLock<Rng> = std::sync::LazyLock::new(|| Rng::seeded(11));
    &RNG
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kms::domain::ALL_SPECS;

    fn generate(spec: KeySpec) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        super::generate(test_rng(), spec)
    }

    #[test]
    fn every_spec_generates_distinct_material() {
        for spec in ALL_SPECS
            .into_iter()
            .filter(|s| !matches!(s, KeySpec::Rsa3072 | KeySpec::Rsa4096))
        {
            let a = generate(spec).unwrap();
            let b = generate(spec).unwrap();
            assert!(a.len() >= 16, "{spec:?}");
            assert_ne!(a.as_slice(), b.as_slice(), "{spec:?}");
        }
        assert_eq!(generate(KeySpec::Sm4).unwrap().len(), 16);
        assert_eq!(generate(KeySpec::Hmac512).unwrap().len(), 64);
    }

    #[test]
    fn asymmetric_material_is_pkcs8() {
        use p256::pkcs8::DecodePrivateKey;
        let der = generate(KeySpec::EcP256).unwrap();
        assert!(p256::SecretKey::from_pkcs8_der(&der).is_ok());
        let der = generate(KeySpec::Rsa2048).unwrap();
        assert!(<rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_der(&der).is_ok());
    }
}
