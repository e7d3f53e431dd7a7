//! Asymmetric AK/SK signatures (SDK-ECDSA-P256-SHA256, SDK-SM2-SM3): the SDK
//! derives a private key from AK and SK, the server derives the same public key.
//! See `shared/api/SIGNING.md` §4. Pure functions; nothing is cached because
//! only clients that opt into these algorithms pay for the derivation.

use super::header::{Algorithm, AuthorizationHeader, SigError};
use hmac::{Hmac, Mac};
use p256::elliptic_curve::{
    bigint::{ArrayEncoding, U256},
    sec1::ToEncodedPoint,
    Curve,
};
use sha2::Sha256;
use sm2::pkcs8::der::{self, asn1::UintRef, Decode, Reader};
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

/// SM2 distinguishing identifier the SDK hard-codes.
const SM2_USER_ID: &str = "1234567812345678";

/// SM2 curve parameters as they enter Z_A (GB/T 32918.5).
const SM2_A: [u8; 32] = hex32("fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc");
const SM2_B: [u8; 32] = hex32("28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93");
const SM2_GX: [u8; 32] = hex32("32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7");
const SM2_GY: [u8; 32] = hex32("bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            // A typo in the constants yields a wrong Z_A, which the
            // standard-key test against the crate's own Z_A catches.
            _ => 0,
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

pub fn verify(
    auth: &AuthorizationHeader,
    ak: &str,
    sk: &str,
    to_sign: &[u8],
) -> Result<(), SigError> {
    // Case-insensitive like the HMAC comparison in `sig.rs`.
    let der_sig = hex::decode(auth.signature.trim()).map_err(|_| SigError::Mismatch)?;
    match auth.algorithm {
        Algorithm::EcdsaP256Sha256 => verify_p256(ak, sk, &der_sig, to_sign),
        Algorithm::Sm2Sm3 => verify_sm2(ak, sk, &der_sig, to_sign),
        _ => Err(SigError::UnsupportedAlgorithm),
    }
}

fn verify_p256(ak: &str, sk: &str, der_sig: &[u8], msg: &[u8]) -> Result<(), SigError> {
    use p256::ecdsa::{signature::Verifier, Signature, VerifyingKey};
    let secret = p256_secret(ak, sk)?;
    let key = VerifyingKey::from(secret.public_key());
    let sig = Signature::from_der(der_sig).map_err(|_| SigError::Mismatch)?;
    // No low-S rule: the SDK never normalises s.
    key.verify(msg, &sig).map_err(|_| SigError::Mismatch)
}

fn verify_sm2(ak: &str, sk: &str, der_sig: &[u8], msg: &[u8]) -> Result<(), SigError> {
    use sm2::dsa::{signature::hazmat::PrehashVerifier, Signature, VerifyingKey};
    let public = sm2_secret(ak, sk)?.public_key();
    let (r, s) = decode_der_rs(der_sig)?;
    let sig = Signature::from_scalars(r, s).map_err(|_| SigError::Mismatch)?;
    // The crate's own Z_A uses fixed-width coordinates, which differs from
    // the SDK's for ~1 key in 128; so hash with the SDK's Z_A and verify the
    // prehash (the crate's Z_A inside `key` is never used).
    let e = sm2_message_digest(&public, msg)?;
    let key = VerifyingKey::new(SM2_USER_ID, public).map_err(|_| SigError::Mismatch)?;
    key.verify_prehash(&e, &sig).map_err(|_| SigError::Mismatch)
}

/// e = SM3(Z_A || M), with Z_A built the SDK's way: every integer as its
/// minimal big-endian bytes, so a coordinate with a leading zero byte is
/// hashed shorter than the standard's 32 bytes.
fn sm2_message_digest(public: &sm2::PublicKey, msg: &[u8]) -> Result<[u8; 32], SigError> {
    let point = public.to_encoded_point(false);
    let (x, y) = match (point.x(), point.y()) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(SigError::Mismatch),
    };
    let entl = u16::try_from(SM2_USER_ID.len() * 8).map_err(|_| SigError::Mismatch)?;
    let mut z = Sm3::new();
    z.update(entl.to_be_bytes());
    z.update(SM2_USER_ID.as_bytes());
    for part in [&SM2_A[..], &SM2_B, &SM2_GX, &SM2_GY, x, y] {
        z.update(minimal(part));
    }
    let za = z.finalize();
    Ok(Sm3::new()
        .chain_update(za)
        .chain_update(msg)
        .finalize()
        .into())
}

fn minimal(be: &[u8]) -> &[u8] {
    let zeros = be.iter().take_while(|b| **b == 0).count();
    &be[zeros..]
}

/// Strict DER `SEQUENCE { INTEGER r, INTEGER s }` (what pyasn1 emits), as
/// 32-byte big-endian values. The sm2 crate has no DER codec of its own.
fn decode_der_rs(bytes: &[u8]) -> Result<([u8; 32], [u8; 32]), SigError> {
    let parse = || -> der::Result<(Vec<u8>, Vec<u8>)> {
        let mut reader = der::SliceReader::new(bytes)?;
        let rs = reader.sequence(|seq| {
            let r = UintRef::decode(seq)?;
            let s = UintRef::decode(seq)?;
            Ok((r.as_bytes().to_vec(), s.as_bytes().to_vec()))
        })?;
        reader.finish(rs)
    };
    let (r, s) = parse().map_err(|_| SigError::Mismatch)?;
    Ok((pad32(&r)?, pad32(&s)?))
}

fn pad32(v: &[u8]) -> Result<[u8; 32], SigError> {
    let mut out = [0u8; 32];
    let start = 32usize.checked_sub(v.len()).ok_or(SigError::Mismatch)?;
    out[start..].copy_from_slice(v);
    Ok(out)
}

type Hmac256 = fn(&[u8], &[u8]) -> Result<[u8; 32], SigError>;

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Result<[u8; 32], SigError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| SigError::Mismatch)?;
    mac.update(msg);
    Ok(mac.finalize().into_bytes().into())
}

fn hmac_sm3(key: &[u8], msg: &[u8]) -> Result<[u8; 32], SigError> {
    let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(key).map_err(|_| SigError::Mismatch)?;
    mac.update(msg);
    Ok(mac.finalize().into_bytes().into())
}

/// The SDK's counter-mode derivation: the first HMAC output c with
/// c <= n-2 gives d = c + 1, so d is always in [1, n-1].
fn derive_private_key(
    alg: Algorithm,
    ak: &str,
    sk: &str,
    order: &U256,
    mac: Hmac256,
) -> Result<Zeroizing<[u8; 32]>, SigError> {
    let n_minus_two = order.wrapping_sub(&U256::from_u8(2));
    let mut data = Zeroizing::new(Vec::new());
    // 0..=254, as in the SDK's `range(0xff)`.
    for counter in 0u8..0xff {
        data.clear();
        data.extend_from_slice(&[0, 0, 0, 1]);
        data.extend_from_slice(alg.name().as_bytes());
        data.push(0);
        data.extend_from_slice(ak.as_bytes());
        data.push(counter);
        data.extend_from_slice(&[0, 0, 1, 0]);
        let candidate = Zeroizing::new(U256::from_be_byte_array(mac(sk.as_bytes(), &data)?.into()));
        if *candidate <= n_minus_two {
            return Ok(Zeroizing::new(
                candidate.wrapping_add(&U256::ONE).to_be_byte_array().into(),
            ));
        }
    }
    Err(SigError::Mismatch)
}

fn p256_secret(ak: &str, sk: &str) -> Result<p256::SecretKey, SigError> {
    let d = derive_private_key(
        Algorithm::EcdsaP256Sha256,
        ak,
        sk,
        &p256::NistP256::ORDER,
        hmac_sha256,
    )?;
    p256::SecretKey::from_bytes(d.as_ref().into()).map_err(|_| SigError::Mismatch)
}

fn sm2_secret(ak: &str, sk: &str) -> Result<sm2::SecretKey, SigError> {
    let d = derive_private_key(Algorithm::Sm2Sm3, ak, sk, &sm2::Sm2::ORDER, hmac_sm3)?;
    sm2::SecretKey::from_bytes(d.as_ref().into()).map_err(|_| SigError::Mismatch)
}

#[cfg(test)]
mod tests;
