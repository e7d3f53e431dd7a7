//! Asymmetric keys: the stored PKCS#8 material parsed into RustCrypto key
//! types, public keys as the cloud shows them, and public-key encryption
//! (RSAES-OAEP with SHA-1 or SHA-256, SM2 public-key encryption).
//!
//! RSA ciphertexts are the raw OAEP output, so anything made outside with the
//! public key decrypts inside. SM2 ciphertexts are made as ASN.1 DER
//! (GM/T 0009); raw C1C3C2 (with or without the 0x04 point prefix) is also
//! accepted on decryption.

use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::rng::Rng;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use spki_encode::public_spki;

/// A parsed private key; every variant zeroizes its secret on drop.
pub enum PrivateKey {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    K256(k256::SecretKey),
    Sm2(sm2::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

fn bad_material() -> KmsError {
    KmsError::Internal("stored asymmetric key material does not parse".into())
}

/// Parses a key's material (PKCS#8 DER, as `material::generate` makes it).
pub fn parse_private(spec: KeySpec, der: &[u8]) -> Result<PrivateKey, KmsError> {
    use p256::pkcs8::DecodePrivateKey;
    let key = match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => PrivateKey::Rsa(Box::new(
            RsaPrivateKey::from_pkcs8_der(der).map_err(|_| bad_material())?,
        )),
        KeySpec::EcP256 => {
            PrivateKey::P256(p256::SecretKey::from_pkcs8_der(der).map_err(|_| bad_material())?)
        }
        KeySpec::EcP384 => {
            PrivateKey::P384(p384::SecretKey::from_pkcs8_der(der).map_err(|_| bad_material())?)
        }
        KeySpec::EcP521 => {
            PrivateKey::P521(p521::SecretKey::from_pkcs8_der(der).map_err(|_| bad_material())?)
        }
        KeySpec::Secp256k1 => {
            PrivateKey::K256(k256::SecretKey::from_pkcs8_der(der).map_err(|_| bad_material())?)
        }
        KeySpec::Sm2 => {
            PrivateKey::Sm2(sm2::SecretKey::from_pkcs8_der(der).map_err(|_| bad_material())?)
        }
        KeySpec::Ed25519 => PrivateKey::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| bad_material())?,
        )),
        _ => return Err(KmsError::InvalidParameter("key_spec")),
    };
    Ok(key)
}

impl PrivateKey {
    /// SubjectPublicKeyInfo DER of the public half.
    pub fn public_der(&self) -> Result<Vec<u8>, KmsError> {
        match self {
            PrivateKey::Rsa(k) => public_spki(&RsaPublicKey::from(k.as_ref())),
            PrivateKey::P256(k) => public_spki(&k.public_key()),
            PrivateKey::P384(k) => public_spki(&k.public_key()),
            PrivateKey::P521(k) => public_spki(&k.public_key()),
            PrivateKey::K256(k) => public_spki(&k.public_key()),
            PrivateKey::Sm2(k) => public_spki(&k.public_key()),
            PrivateKey::Ed25519(k) => public_spki(&k.verifying_key()),
        }
    }

    /// PKCS#8 DER, as generated material is stored.
    pub fn to_pkcs8(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
        use spki_encode::pkcs8;
        match self {
            PrivateKey::Rsa(k) => pkcs8(k.as_ref()),
            PrivateKey::P256(k) => pkcs8(k),
            PrivateKey::P384(k) => pkcs8(k),
            PrivateKey::P521(k) => pkcs8(k),
            PrivateKey::K256(k) => pkcs8(k),
            PrivateKey::Sm2(k) => pkcs8(k),
            PrivateKey::Ed25519(k) => pkcs8(k.as_ref()),
        }
    }
}

mod spki_encode {
    use super::KmsError;
    use p256::pkcs8::EncodePublicKey;

    pub fn pkcs8<K: p256::pkcs8::EncodePrivateKey>(
        key: &K,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
        key.to_pkcs8_der()
            .map(|d| zeroize::Zeroizing::new(d.as_bytes().to_vec()))
            .map_err(|_| KmsError::Internal("private key does not encode".into()))
    }

    pub fn public_spki<K: EncodePublicKey>(key: &K) -> Result<Vec<u8>, KmsError> {
        key.to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|_| KmsError::Internal("public key does not encode".into()))
    }
}

/// PEM as the cloud prints it: 64-column base64 lines joined by CRLF.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = crate::common::b64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\r\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    out.push_str(&format!("-----END {label}-----\r\n"));
    out
}

/// `encryption_algorithm` of EncryptData, DecryptData and ReEncrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncAlg {
    Symmetric,
    RsaOaepSha1,
    RsaOaepSha256,
    Sm2,
}

impl EncAlg {
    pub fn parse(raw: Option<&str>) -> Result<Self, KmsError> {
        Ok(match raw {
            None | Some("") | Some("SYMMETRIC_DEFAULT") => EncAlg::Symmetric,
            Some("RSAES_OAEP_SHA_1") => EncAlg::RsaOaepSha1,
            Some("RSAES_OAEP_SHA_256") => EncAlg::RsaOaepSha256,
            Some("SM2_ENCRYPT") => EncAlg::Sm2,
            Some(_) => return Err(KmsError::InvalidParameter("encryption_algorithm")),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EncAlg::Symmetric => "SYMMETRIC_DEFAULT",
            EncAlg::RsaOaepSha1 => "RSAES_OAEP_SHA_1",
            EncAlg::RsaOaepSha256 => "RSAES_OAEP_SHA_256",
            EncAlg::Sm2 => "SM2_ENCRYPT",
        }
    }

    /// Whether a key of `spec` encrypts with this algorithm.
    pub fn fits(self, spec: KeySpec) -> bool {
        match self {
            EncAlg::Symmetric => spec.is_symmetric(),
            EncAlg::RsaOaepSha1 | EncAlg::RsaOaepSha256 => {
                matches!(spec, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
            }
            EncAlg::Sm2 => spec == KeySpec::Sm2,
        }
    }

    fn oaep(self) -> Oaep {
        match self {
            EncAlg::RsaOaepSha1 => Oaep::new::<sha1::Sha1>(),
            _ => Oaep::new::<sha2::Sha256>(),
        }
    }
}

fn sm2_scalar_bytes(key: &sm2::SecretKey) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(key.to_bytes().to_vec())
}

/// The injected `Rng` for the `sm2` crate, which speaks the newer
/// `rand_core` traits.
struct Sm2Rng<'a>(&'a Rng);

impl sm2pke::elliptic_curve::rand_core::TryRng for Sm2Rng<'_> {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(self.0.array()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(self.0.array()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

impl sm2pke::elliptic_curve::rand_core::TryCryptoRng for Sm2Rng<'_> {}

/// Encrypts with the public half of `key`.
pub fn encrypt(
    rng: &Rng,
    key: &PrivateKey,
    alg: EncAlg,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    match (key, alg) {
        (PrivateKey::Rsa(k), EncAlg::RsaOaepSha1 | EncAlg::RsaOaepSha256) => {
            RsaPublicKey::from(k.as_ref())
                .encrypt(&mut rng.csprng(), alg.oaep(), plaintext)
                // The only failure with a good key is a message too long for the modulus.
                .map_err(|_| KmsError::InvalidParameter("plain_text"))
        }
        (PrivateKey::Sm2(k), EncAlg::Sm2) => {
            let scalar = sm2_scalar_bytes(k);
            let dk = sm2pke::pke::DecryptingKey::from_slice(&scalar).map_err(|_| bad_material())?;
            dk.encrypting_key()
                .encrypt_der(&mut Sm2Rng(rng), plaintext)
                .map_err(|_| KmsError::Internal("SM2 encryption failed".into()))
        }
        _ => Err(KmsError::InvalidParameter("encryption_algorithm")),
    }
}

/// Decrypts with `key`; every failure is the caller's bad ciphertext. RSA
/// runs blinded with `rng` (a fresh random factor per call), so its timing
/// does not depend on the private exponent applied to an attacker's input.
pub fn decrypt(
    rng: &Rng,
    key: &PrivateKey,
    alg: EncAlg,
    ciphertext: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
    let plain = match (key, alg) {
        (PrivateKey::Rsa(k), EncAlg::RsaOaepSha1 | EncAlg::RsaOaepSha256) => k
            .decrypt_blinded(&mut rng.csprng(), alg.oaep(), ciphertext)
            .map_err(|_| KmsError::InvalidCiphertext)?,
        (PrivateKey::Sm2(k), EncAlg::Sm2) => {
            let scalar = sm2_scalar_bytes(k);
            let dk = sm2pke::pke::DecryptingKey::from_slice(&scalar).map_err(|_| bad_material())?;
            match dk.decrypt_der(ciphertext) {
                Ok(p) => p,
                Err(_) => sm2_decrypt_raw(&dk, ciphertext)?,
            }
        }
        _ => return Err(KmsError::InvalidParameter("encryption_algorithm")),
    };
    Ok(zeroize::Zeroizing::new(plain))
}

/// Raw C1C3C2, as gmssl and many SM2 tools write it (C1 may lack its 0x04).
fn sm2_decrypt_raw(dk: &sm2pke::pke::DecryptingKey, ct: &[u8]) -> Result<Vec<u8>, KmsError> {
    if let Ok(p) = dk.decrypt(ct) {
        return Ok(p);
    }
    let mut prefixed = Vec::with_capacity(ct.len() + 1);
    prefixed.push(0x04);
    prefixed.extend_from_slice(ct);
    dk.decrypt(&prefixed)
        .map_err(|_| KmsError::InvalidCiphertext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::crypto::material;

    #[test]
    fn rsa_and_sm2_round_trip_and_reject_tampering() {
        for (spec, algs) in [
            (
                KeySpec::Rsa2048,
                vec![EncAlg::RsaOaepSha1, EncAlg::RsaOaepSha256],
            ),
            (KeySpec::Sm2, vec![EncAlg::Sm2]),
        ] {
            let der = material::generate(crate::kms::crypto::material::test_rng(), spec).unwrap();
            let key = parse_private(spec, &der).unwrap();
            for alg in algs {
                assert!(alg.fits(spec));
                let ct = encrypt(material::test_rng(), &key, alg, b"attack at dawn").unwrap();
                assert_eq!(
                    decrypt(material::test_rng(), &key, alg, &ct)
                        .unwrap()
                        .as_slice(),
                    b"attack at dawn"
                );
                for i in [0, ct.len() / 2, ct.len() - 1] {
                    let mut bad = ct.clone();
                    bad[i] ^= 1;
                    assert!(
                        decrypt(material::test_rng(), &key, alg, &bad).is_err(),
                        "{alg:?} byte {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn rsa_decryption_is_blinded_with_the_given_rng() {
        let der =
            material::generate(crate::kms::crypto::material::test_rng(), KeySpec::Rsa2048).unwrap();
        let key = parse_private(KeySpec::Rsa2048, &der).unwrap();
        let ct = encrypt(material::test_rng(), &key, EncAlg::RsaOaepSha256, b"blind").unwrap();
        // The blinding factor comes from the RNG passed in: decrypting draws
        // from it, so its next output differs from an untouched twin's.
        let (used, twin) = (Rng::seeded(5), Rng::seeded(5));
        let plain = decrypt(&used, &key, EncAlg::RsaOaepSha256, &ct).unwrap();
        assert_eq!(plain.as_slice(), b"blind");
        assert_ne!(used.array::<16>(), twin.array::<16>());
    }

    #[test]
    fn rsa_refuses_oversized_plaintext_and_wrong_algorithm() {
        let der =
            material::generate(crate::kms::crypto::material::test_rng(), KeySpec::Rsa2048).unwrap();
        let key = parse_private(KeySpec::Rsa2048, &der).unwrap();
        assert!(encrypt(
            material::test_rng(),
            &key,
            EncAlg::RsaOaepSha256,
            &[7u8; 191]
        )
        .is_err());
        assert!(encrypt(
            material::test_rng(),
            &key,
            EncAlg::RsaOaepSha256,
            &[7u8; 190]
        )
        .is_ok());
        assert!(encrypt(material::test_rng(), &key, EncAlg::Sm2, b"x").is_err());
        assert!(!EncAlg::Symmetric.fits(KeySpec::Rsa2048));
        assert!(EncAlg::parse(Some("RSAES_PKCS1")).is_err());
    }

    #[test]
    fn public_keys_are_spki_pem_with_crlf() {
        for spec in [
            KeySpec::EcP256,
            KeySpec::EcP521,
            KeySpec::Sm2,
            KeySpec::Ed25519,
            KeySpec::Secp256k1,
        ] {
            let der = material::generate(crate::kms::crypto::material::test_rng(), spec).unwrap();
            let key = parse_private(spec, &der).unwrap();
            let spki = key.public_der().unwrap();
            let text = pem("PUBLIC KEY", &spki);
            assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\r\n"));
            assert!(text.ends_with("-----END PUBLIC KEY-----\r\n"));
            assert!(text
                .lines()
                .all(|l| l.trim_end().len() <= 64 || l.starts_with("-----")));
        }
    }
}
