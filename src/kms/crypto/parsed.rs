//! A private key parsed once and kept ready to use. Decoding the PKCS#8
//! material (which checks the embedded public point), and then deriving the
//! public point again for an ECDSA signing key, each cost about as much as
//! the signature itself; done per request they made Sign three times dearer
//! than it needs to be. `kms::key_cache` keeps one of these beside each
//! cached version's material, so both are made once per version.
//!
//! For P-256, P-384 and secp256k1 the ready signing key (secret scalar and
//! public point) is kept; the `ecdsa` crate zeroizes it on drop, like the
//! parsed `PrivateKey`. SM2 keeps only the parsed key: `sm2` 0.13's signing
//! key does not zeroize its scalar on drop, so one is built per signature and
//! never kept. RSA, SM2 and Ed25519 go through `sign::sign` unchanged.

use crate::kms::crypto::asymmetric::{self, PrivateKey};
use crate::kms::crypto::sign::{self, MessageType, SignAlg};
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::rng::Rng;
use p256::pkcs8::EncodePublicKey;
use signature::hazmat::{PrehashSigner, PrehashVerifier};

pub struct ParsedKey {
    key: PrivateKey,
    ec: Option<EcSigner>,
}

enum EcSigner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    K256(k256::ecdsa::SigningKey),
}

impl ParsedKey {
    pub fn parse(spec: KeySpec, der: &[u8]) -> Result<Self, KmsError> {
        let key = asymmetric::parse_private(spec, der)?;
        let ec = match &key {
            PrivateKey::P256(k) => Some(EcSigner::P256(k.into())),
            PrivateKey::P384(k) => Some(EcSigner::P384(k.into())),
            PrivateKey::K256(k) => Some(EcSigner::K256(k.into())),
            _ => None,
        };
        Ok(Self { key, ec })
    }

    /// The parsed key, for encryption, ECDH and the algorithms without a
    /// ready signer.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// `sign::sign`, with the ready ECDSA key where there is one. ECDSA here
    /// is RFC 6979 deterministic, as in `sign::sign`, so both give the same
    /// bytes (the tests hold them to it).
    pub fn sign(
        &self,
        rng: &Rng,
        alg: SignAlg,
        kind: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let Some(ec) = &self.ec else {
            return sign::sign(rng, &self.key, alg, kind, message);
        };
        let d = ecdsa_input(alg, kind, message)?;
        let failed = |_| KmsError::Internal("signing failed".into());
        let der = match ec {
            EcSigner::P256(k) => PrehashSigner::<p256::ecdsa::Signature>::sign_prehash(k, &d)
                .map_err(failed)?
                .to_der()
                .as_bytes()
                .to_vec(),
            EcSigner::P384(k) => PrehashSigner::<p384::ecdsa::Signature>::sign_prehash(k, &d)
                .map_err(failed)?
                .to_der()
                .as_bytes()
                .to_vec(),
            EcSigner::K256(k) => PrehashSigner::<k256::ecdsa::Signature>::sign_prehash(k, &d)
                .map_err(failed)?
                .to_der()
                .as_bytes()
                .to_vec(),
        };
        Ok(der)
    }

    /// `sign::verify`, with the kept public point where there is one.
    pub fn verify(
        &self,
        alg: SignAlg,
        kind: MessageType,
        message: &[u8],
        sig: &[u8],
    ) -> Result<bool, KmsError> {
        let Some(ec) = &self.ec else {
            return sign::verify(&self.key, alg, kind, message, sig);
        };
        let d = ecdsa_input(alg, kind, message)?;
        Ok(match ec {
            EcSigner::P256(k) => p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verifying_key().verify_prehash(&d, &s).is_ok()),
            EcSigner::P384(k) => p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verifying_key().verify_prehash(&d, &s).is_ok()),
            EcSigner::K256(k) => k256::ecdsa::Signature::from_der(sig).is_ok_and(|s| {
                // Outside signers need not produce low-S signatures; k256 verifies low-S only.
                let s = s.normalize_s().unwrap_or(s);
                k.verifying_key().verify_prehash(&d, &s).is_ok()
            }),
        })
    }

    /// SubjectPublicKeyInfo DER of the public half.
    pub fn public_der(&self) -> Result<Vec<u8>, KmsError> {
        let der = match &self.ec {
            None => return self.key.public_der(),
            Some(EcSigner::P256(k)) => k.verifying_key().to_public_key_der(),
            Some(EcSigner::P384(k)) => k.verifying_key().to_public_key_der(),
            Some(EcSigner::K256(k)) => k.verifying_key().to_public_key_der(),
        };
        der.map(|d| d.as_bytes().to_vec())
            .map_err(|_| KmsError::Internal("public key does not encode".into()))
    }
}

/// The digest an ECDSA key signs, refusing what `sign::sign` refuses for
/// such a key, in the same order: a foreign algorithm first, then a digest
/// of the wrong length.
fn ecdsa_input(alg: SignAlg, kind: MessageType, message: &[u8]) -> Result<Vec<u8>, KmsError> {
    if !matches!(alg, SignAlg::Ecdsa(_)) {
        return Err(KmsError::InvalidParameter("signing_algorithm"));
    }
    sign::ecdsa_digest(alg, kind, message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kms::crypto::material;
    use crate::kms::crypto::sign::Hash;

    fn pair(spec: KeySpec) -> (ParsedKey, PrivateKey) {
        let der = material::generate(material::test_rng(), spec).unwrap();
        let plain = asymmetric::parse_private(spec, &der).unwrap();
        (ParsedKey::parse(spec, &der).unwrap(), plain)
    }

    #[test]
    fn the_ready_signer_gives_what_sign_gives_and_refuses_what_it_refuses() {
        let rng = material::test_rng();
        let cases = [
            (KeySpec::EcP256, Hash::Sha256),
            (KeySpec::EcP384, Hash::Sha384),
            (KeySpec::Secp256k1, Hash::Sha256),
            (KeySpec::EcP256, Hash::Sha512),
        ];
        for (spec, hash) in cases {
            let (ready, plain) = pair(spec);
            assert!(ready.ec.is_some(), "{spec:?} has a ready signer");
            let alg = SignAlg::Ecdsa(hash);
            for kind in [MessageType::Raw, MessageType::Digest] {
                let msg = match kind {
                    MessageType::Raw => b"a message".to_vec(),
                    MessageType::Digest => vec![7u8; hash_len(hash)],
                };
                let fast = ready.sign(rng, alg, kind, &msg).unwrap();
                let slow = sign::sign(rng, &plain, alg, kind, &msg).unwrap();
                assert_eq!(fast, slow, "{spec:?} {hash:?} {kind:?}");
                assert!(sign::verify(&plain, alg, kind, &msg, &fast).unwrap());
                assert!(ready.verify(alg, kind, &msg, &slow).unwrap());
                let mut bad = fast.clone();
                let mid = bad.len() / 2;
                bad[mid] ^= 0x10;
                assert!(!ready.verify(alg, kind, &msg, &bad).unwrap());
            }
            assert_eq!(ready.public_der().unwrap(), plain.public_der().unwrap());
            // A digest of the wrong length and a foreign algorithm are refused alike.
            let short = [1u8; 20];
            for wrong in [alg, SignAlg::RsaPss(Hash::Sha256), SignAlg::Sm2] {
                let fast = ready.sign(rng, wrong, MessageType::Digest, &short);
                let slow = sign::sign(rng, &plain, wrong, MessageType::Digest, &short);
                assert_eq!(format!("{:?}", fast.err()), format!("{:?}", slow.err()));
            }
        }
    }

    fn hash_len(h: Hash) -> usize {
        match h {
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
            _ => 32,
        }
    }

    #[test]
    fn keys_without_a_ready_signer_sign_and_verify_through_sign() {
        let rng = material::test_rng();
        for (spec, alg) in [
            (KeySpec::Sm2, SignAlg::Sm2),
            (KeySpec::Ed25519, SignAlg::Ed25519),
            (KeySpec::Rsa2048, SignAlg::RsaPkcs1(Hash::Sha256)),
        ] {
            let (ready, plain) = pair(spec);
            assert!(ready.ec.is_none());
            let sig = ready.sign(rng, alg, MessageType::Raw, b"m").unwrap();
            assert!(sign::verify(&plain, alg, MessageType::Raw, b"m", &sig).unwrap());
            assert!(ready.verify(alg, MessageType::Raw, b"m", &sig).unwrap());
            assert_eq!(ready.public_der().unwrap(), plain.public_der().unwrap());
        }
    }
}
