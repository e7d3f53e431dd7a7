//! The key pair of an access point: ECDSA on P-256 with SHA-256 (dewstack's
//! choice: the cloud does not name the algorithm), made by the RustCrypto
//! `p256` crate. The private key leaves as PKCS#8 PEM; the server keeps the
//! public key (SPKI DER) to verify what the holder signs.

use crate::kms::error::KmsError;
use crate::rng::Rng;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use zeroize::Zeroizing;

/// A fresh pair: (PKCS#8 DER of the private key, SPKI DER of the public key).
pub fn generate(rng: &Rng) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), KmsError> {
    let signing = SigningKey::random(&mut rng.csprng());
    let private = signing
        .to_pkcs8_der()
        .map_err(|_| KmsError::Internal("access point key does not encode".into()))?;
    let public = VerifyingKey::from(&signing)
        .to_public_key_der()
        .map_err(|_| KmsError::Internal("access point key does not encode".into()))?;
    Ok((
        Zeroizing::new(private.as_bytes().to_vec()),
        public.as_bytes().to_vec(),
    ))
}

/// The SPKI DER of a P-256 public key given as PEM (a CCE cluster's identity).
pub fn public_from_pem(pem: &str) -> Result<Vec<u8>, KmsError> {
    let key = VerifyingKey::from_public_key_pem(pem.trim())
        .map_err(|_| KmsError::InvalidParameter("identity"))?;
    key.to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|_| KmsError::InvalidParameter("identity"))
}

/// Whether `signature` (DER or raw r||s) is `public`'s over `message`.
pub fn verify(public_spki: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_public_key_der(public_spki) else {
        return false;
    };
    let sig = Signature::from_der(signature).or_else(|_| Signature::from_slice(signature));
    sig.is_ok_and(|s| key.verify(message, &s).is_ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;

    #[test]
    fn what_the_private_key_signs_the_public_key_verifies() {
        let rng = Rng::seeded(7);
        let (private, public) = generate(&rng).unwrap();
        let key = SigningKey::from_pkcs8_der(&private).unwrap();
        let sig: Signature = key.sign(b"request");
        assert!(verify(&public, b"request", sig.to_der().as_bytes()));
        assert!(verify(&public, b"request", &sig.to_bytes()));
        assert!(!verify(
            &public,
            b"another request",
            sig.to_der().as_bytes()
        ));
        assert!(!verify(&public, b"request", b"garbage"));
        let (_, other) = generate(&rng).unwrap();
        assert!(!verify(&other, b"request", sig.to_der().as_bytes()));
    }

    #[test]
    fn cce_identity_is_a_p256_public_key_pem() {
        let (_, public) = generate(&Rng::seeded(1)).unwrap();
        let pem = VerifyingKey::from_public_key_der(&public)
            .unwrap()
            .to_public_key_pem(Default::default())
            .unwrap();
        assert_eq!(public_from_pem(&pem).unwrap(), public);
        assert!(public_from_pem("not a key").is_err());
    }
}
