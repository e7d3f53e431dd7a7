//! Signature algorithms of Sign and ValidateSignature, over RustCrypto crates.
//!
//! Encodings: RSA signatures are the raw RSASSA output; ECDSA and SM2
//! signatures are ASN.1 DER `SEQUENCE { r, s }` (SM2 as in GM/T 0009, with the
//! default distinguishing ID "1234567812345678"); Ed25519 signatures are the
//! 64-byte RFC 8032 encoding. PSS uses a salt as long as the digest.
//!
//! Ed25519: ED25519_SHA_512 is PureEdDSA and signs RAW messages only (its
//! SHA-512 is internal to the scheme, over more than the message, so there is
//! no digest a caller could supply). ED25519_PH_SHA_512 is RFC 8032 Ed25519ph
//! with an empty context: PH(M) = SHA-512(M) is computed here for RAW and is
//! the 64-byte message itself for DIGEST, so both give the same signature.

use crate::kms::crypto::asymmetric::PrivateKey;
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use crate::rng::Rng;
use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::Digest as _;
use signature::hazmat::{PrehashSigner, PrehashVerifier};
use signature::{Signer, Verifier};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
    Sm3,
}

impl Hash {
    fn len(self) -> usize {
        match self {
            Hash::Sha256 | Hash::Sm3 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(msg).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(msg).to_vec(),
            Hash::Sm3 => sm3::Sm3::digest(msg).to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlg {
    RsaPss(Hash),
    RsaPkcs1(Hash),
    Ecdsa(Hash),
    Sm2,
    Ed25519,
    Ed25519Ph,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Digest,
    Raw,
}

impl MessageType {
    pub fn parse(raw: Option<&str>) -> Result<Self, KmsError> {
        match raw {
            None | Some("") | Some("DIGEST") => Ok(MessageType::Digest),
            Some("RAW") => Ok(MessageType::Raw),
            Some(_) => Err(KmsError::InvalidParameter("message_type")),
        }
    }
}

impl SignAlg {
    pub fn parse(raw: Option<&str>) -> Result<Self, KmsError> {
        use Hash::*;
        use SignAlg::*;
        Ok(
            match raw.ok_or(KmsError::MissingParameter("signing_algorithm"))? {
                "RSASSA_PSS_SHA_256" => RsaPss(Sha256),
                "RSASSA_PSS_SHA_384" => RsaPss(Sha384),
                "RSASSA_PSS_SHA_512" => RsaPss(Sha512),
                "RSASSA_PKCS1_V1_5_SHA_256" => RsaPkcs1(Sha256),
                "RSASSA_PKCS1_V1_5_SHA_384" => RsaPkcs1(Sha384),
                "RSASSA_PKCS1_V1_5_SHA_512" => RsaPkcs1(Sha512),
                "ECDSA_SHA_256" => Ecdsa(Sha256),
                "ECDSA_SHA_384" => Ecdsa(Sha384),
                "ECDSA_SHA_512" => Ecdsa(Sha512),
                "SM2DSA_SM3" => Sm2,
                "ED25519_SHA_512" => Ed25519,
                "ED25519_PH_SHA_512" => Ed25519Ph,
                _ => return Err(KmsError::InvalidParameter("signing_algorithm")),
            },
        )
    }

    /// Whether a key of `spec` signs with this algorithm.
    pub fn fits(self, spec: KeySpec) -> bool {
        match self {
            SignAlg::RsaPss(_) | SignAlg::RsaPkcs1(_) => {
                matches!(spec, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
            }
            SignAlg::Ecdsa(_) => {
                matches!(spec, KeySpec::EcP256 | KeySpec::EcP384 | KeySpec::Secp256k1)
            }
            SignAlg::Sm2 => spec == KeySpec::Sm2,
            SignAlg::Ed25519 | SignAlg::Ed25519Ph => spec == KeySpec::Ed25519,
        }
    }

    fn hash(self) -> Hash {
        match self {
            SignAlg::RsaPss(h) | SignAlg::RsaPkcs1(h) | SignAlg::Ecdsa(h) => h,
            SignAlg::Sm2 => Hash::Sm3,
            SignAlg::Ed25519 | SignAlg::Ed25519Ph => Hash::Sha512,
        }
    }
}

/// What gets signed: the digest for every algorithm but pure Ed25519 (and
/// SM2 over a RAW message, whose digest includes the signer's Z value).
enum Input<'a> {
    Digest(Vec<u8>),
    Raw(&'a [u8]),
}

fn input(alg: SignAlg, kind: MessageType, message: &[u8]) -> Result<Input<'_>, KmsError> {
    match (alg, kind) {
        (SignAlg::Ed25519, MessageType::Raw) | (SignAlg::Sm2, MessageType::Raw) => {
            Ok(Input::Raw(message))
        }
        (SignAlg::Ed25519, MessageType::Digest) => Err(KmsError::InvalidParameter("message_type")),
        (_, MessageType::Raw) => Ok(Input::Digest(alg.hash().digest(message))),
        (_, MessageType::Digest) => {
            if message.len() != alg.hash().len() {
                return Err(KmsError::DigestLength);
            }
            Ok(Input::Digest(message.to_vec()))
        }
    }
}

/// The digest an ECDSA signature is made over (a token signs digests only).
pub fn ecdsa_digest(alg: SignAlg, kind: MessageType, message: &[u8]) -> Result<Vec<u8>, KmsError> {
    match (alg, input(alg, kind, message)?) {
        (SignAlg::Ecdsa(_), Input::Digest(d)) => Ok(d),
        _ => Err(KmsError::InvalidParameter("signing_algorithm")),
    }
}

fn sign_failed() -> KmsError {
    KmsError::Internal("signing failed".into())
}

fn rsa_scheme_sign(alg: SignAlg) -> Result<Result<Pss, Pkcs1v15Sign>, KmsError> {
    Ok(match alg {
        SignAlg::RsaPss(Hash::Sha256) => Ok(Pss::new::<sha2::Sha256>()),
        SignAlg::RsaPss(Hash::Sha384) => Ok(Pss::new::<sha2::Sha384>()),
        SignAlg::RsaPss(Hash::Sha512) => Ok(Pss::new::<sha2::Sha512>()),
        SignAlg::RsaPkcs1(Hash::Sha256) => Err(Pkcs1v15Sign::new::<sha2::Sha256>()),
        SignAlg::RsaPkcs1(Hash::Sha384) => Err(Pkcs1v15Sign::new::<sha2::Sha384>()),
        SignAlg::RsaPkcs1(Hash::Sha512) => Err(Pkcs1v15Sign::new::<sha2::Sha512>()),
        _ => return Err(KmsError::InvalidParameter("signing_algorithm")),
    })
}

fn sm2_signing_key(k: &sm2::SecretKey) -> Result<sm2::dsa::SigningKey, KmsError> {
    sm2::dsa::SigningKey::new(DIST_ID, k).map_err(|_| sign_failed())
}

const DIST_ID: &str = "1234567812345678";

fn sm2_der(sig: &sm2::dsa::Signature) -> Result<Vec<u8>, KmsError> {
    ecdsa::Signature::<sm2::Sm2>::from_scalars(sig.r_bytes(), sig.s_bytes())
        .map(|s| s.to_der().as_bytes().to_vec())
        .map_err(|_| sign_failed())
}

fn sm2_from_der(bytes: &[u8]) -> Option<sm2::dsa::Signature> {
    let parsed = ecdsa::Signature::<sm2::Sm2>::from_der(bytes).ok()?;
    sm2::dsa::Signature::from_slice(&parsed.to_bytes()).ok()
}

fn check_fit(key: &PrivateKey, alg: SignAlg) -> Result<(), KmsError> {
    use PrivateKey as K;
    let ok = matches!(
        (key, alg),
        (K::Rsa(_), SignAlg::RsaPss(_) | SignAlg::RsaPkcs1(_))
            | (K::P256(_) | K::P384(_) | K::K256(_), SignAlg::Ecdsa(_))
            | (K::Sm2(_), SignAlg::Sm2)
            | (K::Ed25519(_), SignAlg::Ed25519 | SignAlg::Ed25519Ph)
    );
    if ok {
        Ok(())
    } else {
        Err(KmsError::InvalidParameter("signing_algorithm"))
    }
}

/// Signs `message` (a digest or the message itself, per `kind`).
pub fn sign(
    rng: &Rng,
    key: &PrivateKey,
    alg: SignAlg,
    kind: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, KmsError> {
    check_fit(key, alg)?;
    let input = input(alg, kind, message)?;
    match (key, input) {
        (PrivateKey::Rsa(k), Input::Digest(d)) => match rsa_scheme_sign(alg)? {
            // Both with the RNG: PKCS#1 v1.5 is deterministic, but the RNG
            // blinds the private-key operation (`sign` alone would not).
            Ok(pss) => k.sign_with_rng(&mut rng.csprng(), pss, &d),
            Err(pkcs1) => k.sign_with_rng(&mut rng.csprng(), pkcs1, &d),
        }
        .map_err(|_| sign_failed()),
        (PrivateKey::P256(k), Input::Digest(d)) => {
            let s: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k)
                .sign_prehash(&d)
                .map_err(|_| sign_failed())?;
            Ok(s.to_der().as_bytes().to_vec())
        }
        (PrivateKey::P384(k), Input::Digest(d)) => {
            let s: p384::ecdsa::Signature = p384::ecdsa::SigningKey::from(k)
                .sign_prehash(&d)
                .map_err(|_| sign_failed())?;
            Ok(s.to_der().as_bytes().to_vec())
        }
        (PrivateKey::K256(k), Input::Digest(d)) => {
            let s: k256::ecdsa::Signature = k256::ecdsa::SigningKey::from(k)
                .sign_prehash(&d)
                .map_err(|_| sign_failed())?;
            Ok(s.to_der().as_bytes().to_vec())
        }
        (PrivateKey::Sm2(k), Input::Raw(m)) => {
            let s: sm2::dsa::Signature =
                sm2_signing_key(k)?.try_sign(m).map_err(|_| sign_failed())?;
            sm2_der(&s)
        }
        (PrivateKey::Sm2(k), Input::Digest(d)) => {
            let s: sm2::dsa::Signature = sm2_signing_key(k)?
                .sign_prehash(&d)
                .map_err(|_| sign_failed())?;
            sm2_der(&s)
        }
        (PrivateKey::Ed25519(k), Input::Raw(m)) => Ok(k.sign(m).to_bytes().to_vec()),
        (PrivateKey::Ed25519(k), Input::Digest(d)) => {
            let s = k
                .sign_prehashed(Sha512Prehash::new(&d)?, None)
                .map_err(|_| sign_failed())?;
            Ok(s.to_bytes().to_vec())
        }
        _ => Err(KmsError::InvalidParameter("signing_algorithm")),
    }
}

/// Whether `sig` is a valid signature of `message`; malformed signatures are
/// simply not valid.
pub fn verify(
    key: &PrivateKey,
    alg: SignAlg,
    kind: MessageType,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, KmsError> {
    check_fit(key, alg)?;
    let input = input(alg, kind, message)?;
    Ok(match (key, input) {
        (PrivateKey::Rsa(k), Input::Digest(d)) => {
            let public = RsaPublicKey::from(k.as_ref());
            match rsa_scheme_sign(alg)? {
                Ok(pss) => public.verify(pss, &d, sig).is_ok(),
                Err(pkcs1) => public.verify(pkcs1, &d, sig).is_ok(),
            }
        }
        (PrivateKey::P256(k), Input::Digest(d)) => {
            p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| {
                p256::ecdsa::VerifyingKey::from(k.public_key())
                    .verify_prehash(&d, &s)
                    .is_ok()
            })
        }
        (PrivateKey::P384(k), Input::Digest(d)) => {
            p384::ecdsa::Signature::from_der(sig).is_ok_and(|s| {
                p384::ecdsa::VerifyingKey::from(k.public_key())
                    .verify_prehash(&d, &s)
                    .is_ok()
            })
        }
        (PrivateKey::K256(k), Input::Digest(d)) => {
            k256::ecdsa::Signature::from_der(sig).is_ok_and(|s| {
                // Outside signers need not produce low-S signatures; k256 verifies low-S only.
                let s = s.normalize_s().unwrap_or(s);
                k256::ecdsa::VerifyingKey::from(k.public_key())
                    .verify_prehash(&d, &s)
                    .is_ok()
            })
        }
        (PrivateKey::Sm2(k), input) => {
            let vk = sm2_signing_key(k)?.verifying_key().clone();
            match (sm2_from_der(sig), input) {
                (Some(s), Input::Raw(m)) => vk.verify(m, &s).is_ok(),
                (Some(s), Input::Digest(d)) => vk.verify_prehash(&d, &s).is_ok(),
                (None, _) => false,
            }
        }
        (PrivateKey::Ed25519(k), input) => {
            let Ok(s) = ed25519_dalek::Signature::from_slice(sig) else {
                return Ok(false);
            };
            let vk = k.verifying_key();
            match input {
                Input::Raw(m) => vk.verify_strict(m, &s).is_ok(),
                Input::Digest(d) => vk
                    .verify_prehashed_strict(Sha512Prehash::new(&d)?, None, &s)
                    .is_ok(),
            }
        }
        _ => return Err(KmsError::InvalidParameter("signing_algorithm")),
    })
}

/// A SHA-512 value already computed (by the caller for DIGEST messages),
/// handed to ed25519-dalek's Ed25519ph, which takes PH(M) only as a `Digest`.
/// The prehashed API only finalizes it, so it takes no further input.
#[derive(Clone, Default)]
struct Sha512Prehash(sha2::digest::Output<sha2::Sha512>);

impl Sha512Prehash {
    fn new(digest: &[u8]) -> Result<Self, KmsError> {
        if digest.len() != 64 {
            return Err(KmsError::DigestLength);
        }
        let mut out = Self::default();
        out.0.copy_from_slice(digest);
        Ok(out)
    }
}

mod prehash_impl {
    use super::Sha512Prehash;
    use sha2::digest::consts::U64;
    use sha2::digest::{FixedOutput, HashMarker, Output, OutputSizeUser, Update};

    impl OutputSizeUser for Sha512Prehash {
        type OutputSize = U64;
    }
    impl Update for Sha512Prehash {
        fn update(&mut self, _data: &[u8]) {}
    }
    impl FixedOutput for Sha512Prehash {
        fn finalize_into(self, out: &mut Output<Self>) {
            out.copy_from_slice(&self.0);
        }
    }
    impl HashMarker for Sha512Prehash {}
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod tests;
