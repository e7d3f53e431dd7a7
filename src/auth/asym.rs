//! Asymmetric AK/SK signatures (SDK-ECDSA-P256-SHA256, SDK-SM2-SM3): the SDK
//! derives a private key from AK and SK, the server derives the same public key.

use super::sig::{AuthorizationHeader, SigError};

pub fn verify(
    _auth: &AuthorizationHeader,
    _ak: &str,
    _sk: &str,
    _to_sign: &[u8],
) -> Result<(), SigError> {
    Err(SigError::UnsupportedAlgorithm)
}
