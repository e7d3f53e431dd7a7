//! DeriveSharedSecret: ECDH between a KEY_AGREEMENT key's private half and a
//! peer's public key (base64 DER SubjectPublicKeyInfo, as the API page
//! requires). The shared secret is the raw x-coordinate of the shared point,
//! what every ECDH implementation (OpenSSL, Python `cryptography`, the JCE)
//! returns before any KDF, so a peer holding the KMS key's public key
//! (ShowPublicKey) computes the same bytes.
//!
//! SM2 keys do plain ECDH on the SM2 curve as well: the API names the same
//! single algorithm, `ECDH`, for every curve, not the GM/T 0003.3 exchange
//! (which would need the peer's ephemeral key and identities).

use crate::kms::crypto::asymmetric::PrivateKey;
use crate::kms::error::KmsError;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{CurveArithmetic, PublicKey, SecretKey};
use p256::pkcs8::DecodePublicKey;
use zeroize::Zeroizing;

/// A public key given as base64 DER; PEM (what ShowPublicKey prints) is
/// accepted too, so one KMS key's public key can be passed on unchanged.
pub fn public_key_der(raw: Option<&str>) -> Result<Vec<u8>, KmsError> {
    let raw = raw
        .filter(|s| !s.trim().is_empty())
        .ok_or(KmsError::MissingParameter("public_key"))?;
    let b64: String = raw
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    crate::common::b64::decode(b64).map_err(|_| KmsError::InvalidParameter("public_key"))
}

fn shared_x<C>(secret: &SecretKey<C>, peer: &PublicKey<C>) -> Zeroizing<Vec<u8>>
where
    C: CurveArithmetic,
{
    use p256::elliptic_curve::group::Curve as _;
    let point = (peer.to_projective() * *secret.to_nonzero_scalar()).to_affine();
    Zeroizing::new(point.x().to_vec())
}

fn peer<C>(spki: &[u8]) -> Result<PublicKey<C>, KmsError>
where
    PublicKey<C>: DecodePublicKey,
    C: CurveArithmetic,
{
    // A key of another curve (or no valid point) does not decode here.
    PublicKey::<C>::from_public_key_der(spki).map_err(|_| KmsError::InvalidParameter("public_key"))
}

/// The ECDH shared secret of `key` and the peer key `spki`, which must be on
/// the same curve.
pub fn ecdh(key: &PrivateKey, spki: &[u8]) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    Ok(match key {
        PrivateKey::P256(k) => shared_x(k, &peer(spki)?),
        PrivateKey::P384(k) => shared_x(k, &peer(spki)?),
        PrivateKey::K256(k) => shared_x(k, &peer(spki)?),
        PrivateKey::Sm2(k) => shared_x(k, &peer(spki)?),
        // P-521 exists only as data key pairs, never as a KMS key.
        PrivateKey::Rsa(_) | PrivateKey::Ed25519(_) | PrivateKey::P521(_) => {
            return Err(KmsError::InvalidParameter("key_id"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::crypto::asymmetric;
    use crate::kms::crypto::material;
    use crate::kms::domain::KeySpec;

    fn pair(spec: KeySpec) -> (PrivateKey, Vec<u8>) {
        let der = material::generate(crate::kms::crypto::material::test_rng(), spec).unwrap();
        let key = asymmetric::parse_private(spec, &der).unwrap();
        let spki = key.public_der().unwrap();
        (key, spki)
    }

    #[test]
    fn both_sides_agree_on_every_curve() {
        for (spec, len) in [
            (KeySpec::EcP256, 32),
            (KeySpec::EcP384, 48),
            (KeySpec::Secp256k1, 32),
            (KeySpec::Sm2, 32),
        ] {
            let (a, a_pub) = pair(spec);
            let (b, b_pub) = pair(spec);
            let ab = ecdh(&a, &b_pub).unwrap();
            assert_eq!(ab.len(), len, "{spec:?}");
            assert_eq!(ab, ecdh(&b, &a_pub).unwrap(), "{spec:?}");
            let (_, c_pub) = pair(spec);
            assert_ne!(ab, ecdh(&a, &c_pub).unwrap(), "{spec:?}");
        }
    }

    #[test]
    fn p256_matches_the_known_answer() {
        // RFC 5903, section 8.1 (ECDH with the P-256 group): i, r and g^ir's x.
        let i = hex::decode("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433")
            .unwrap();
        let gr_x = "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63";
        let gr_y = "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB";
        let gir = "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE";
        let sk = p256::SecretKey::from_slice(&i).unwrap();
        let point = hex::decode(format!("04{gr_x}{gr_y}")).unwrap();
        let pk = p256::PublicKey::from_sec1_bytes(&point).unwrap();
        let spki = p256::pkcs8::EncodePublicKey::to_public_key_der(&pk).unwrap();
        let got = ecdh(&PrivateKey::P256(sk), spki.as_bytes()).unwrap();
        assert_eq!(hex::encode_upper(got.as_slice()), gir);
    }

    #[test]
    fn refuses_other_curves_and_garbage() {
        let (p256, _) = pair(KeySpec::EcP256);
        let (_, p384_pub) = pair(KeySpec::EcP384);
        let (_, sm2_pub) = pair(KeySpec::Sm2);
        let (_, k256_pub) = pair(KeySpec::Secp256k1);
        for other in [&p384_pub, &sm2_pub, &k256_pub] {
            assert!(matches!(
                ecdh(&p256, other),
                Err(KmsError::InvalidParameter("public_key"))
            ));
        }
        assert!(ecdh(&p256, b"not a key").is_err());
        let (rsa, rsa_pub) = pair(KeySpec::Rsa2048);
        assert!(ecdh(&rsa, &rsa_pub).is_err());
    }

    #[test]
    fn public_key_accepts_base64_der_and_pem() {
        let (_, spki) = pair(KeySpec::EcP256);
        let b64 = crate::common::b64::encode(&spki);
        assert_eq!(public_key_der(Some(&b64)).unwrap(), spki);
        let pem = asymmetric::pem("PUBLIC KEY", &spki);
        assert_eq!(public_key_der(Some(&pem)).unwrap(), spki);
        assert!(matches!(
            public_key_der(None),
            Err(KmsError::MissingParameter(_))
        ));
        assert!(matches!(
            public_key_der(Some("!!")),
            Err(KmsError::InvalidParameter(_))
        ));
    }
}
