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
    /// 0.13's key verifies and gives the public key; 0.14's signs.
    P256(p256::ecdsa::SigningKey, p256sign::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    K256(k256::ecdsa::SigningKey),
}

impl ParsedKey {
    pub fn parse(spec: KeySpec, der: &[u8]) -> Result<Self, KmsError> {
        let key = asymmetric::parse_private(spec, der)?;
        let ec = match &key {
            PrivateKey::P256(k) => Some(EcSigner::P256(k.into(), p256_signer(k)?)),
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
            EcSigner::P256(_, k) => p256sign::ecdsa::signature::hazmat::PrehashSigner::<
                p256sign::ecdsa::Signature,
            >::sign_prehash(k, &d)
            .map_err(|_| KmsError::Internal("signing failed".into()))?
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
            EcSigner::P256(k, _) => p256::ecdsa::Signature::from_der(sig)
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
            Some(EcSigner::P256(k, _)) => k.verifying_key().to_public_key_der(),
            Some(EcSigner::P384(k)) => k.verifying_key().to_public_key_der(),
            Some(EcSigner::K256(k)) => k.verifying_key().to_public_key_der(),
        };
        der.map(|d| d.as_bytes().to_vec())
            .map_err(|_| KmsError::Internal("public key does not encode".into()))
    }
}

/// The same secret scalar as a `p256` 0.14 signing key; the bytes in
/// between are wiped.
fn p256_signer(k: &p256::SecretKey) -> Result<p256sign::ecdsa::SigningKey, KmsError> {
    let scalar = zeroize::Zeroizing::new(k.to_bytes());
    p256sign::ecdsa::SigningKey::from_slice(scalar.as_slice())
        .map_err(|_| KmsError::Internal("P-256 key does not convert".into()))
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
    use p256::pkcs8::EncodePrivateKey;

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

    /// RFC 6979 §A.2.5 through the ready signer, which is `p256` 0.14 while
    /// the material is parsed with 0.13: the same deterministic bytes.
    #[test]
    fn the_p256_ready_signer_meets_rfc_6979() {
        let secret =
            hex::decode("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
                .unwrap();
        let der = p256::SecretKey::from_slice(&secret)
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        let ready = ParsedKey::parse(KeySpec::EcP256, der.as_bytes()).unwrap();
        let alg = SignAlg::Ecdsa(Hash::Sha256);
        let sig = ready
            .sign(material::test_rng(), alg, MessageType::Raw, b"sample")
            .unwrap();
        let sig = p256::ecdsa::Signature::from_der(&sig).unwrap();
        assert_eq!(
            hex::encode_upper(sig.to_bytes()),
            "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716\
             F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
        );
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
