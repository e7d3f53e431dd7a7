//! The `Authorization` header of an AK/SK request: which algorithm, which
//! access key, which headers are signed, and the ways checking it can fail.
//! A leaf: the symmetric (`sig.rs`) and asymmetric (`asym.rs`) checks both build on it.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha256,
    HmacSm3,
    /// Derived-key HMAC-SHA256 with a `date/region/service` scope.
    V11HmacSha256,
    EcdsaP256Sha256,
    Sm2Sm3,
}

impl Algorithm {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "SDK-HMAC-SHA256" => Self::HmacSha256,
            "SDK-HMAC-SM3" => Self::HmacSm3,
            "V11-HMAC-SHA256" => Self::V11HmacSha256,
            "SDK-ECDSA-P256-SHA256" => Self::EcdsaP256Sha256,
            "SDK-SM2-SM3" => Self::Sm2Sm3,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HmacSha256 => "SDK-HMAC-SHA256",
            Self::HmacSm3 => "SDK-HMAC-SM3",
            Self::V11HmacSha256 => "V11-HMAC-SHA256",
            Self::EcdsaP256Sha256 => "SDK-ECDSA-P256-SHA256",
            Self::Sm2Sm3 => "SDK-SM2-SM3",
        }
    }

    pub(crate) fn uses_sm3(self) -> bool {
        matches!(self, Self::HmacSm3 | Self::Sm2Sm3)
    }

    pub fn hash_hex(self, data: &[u8]) -> String {
        hex::encode(self.digest(data))
    }

    /// SHA-256 or SM3 of `data`: both are 32 bytes.
    pub(crate) fn digest(self, data: &[u8]) -> [u8; 32] {
        if self.uses_sm3() {
            sm3::Sm3::digest(data).into()
        } else {
            Sha256::digest(data).into()
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigError {
    #[error("malformed Authorization header")]
    Malformed,
    #[error("unsupported signing algorithm")]
    UnsupportedAlgorithm,
    #[error("signed headers must include x-sdk-date")]
    MissingSignedHeader,
    #[error("a signed header is absent from the request")]
    AbsentHeader,
    #[error("X-Sdk-Date is missing or malformed")]
    BadDate,
    #[error("signature expired: X-Sdk-Date is more than 15 minutes from server time")]
    Skewed,
    #[error("credential scope does not match")]
    BadScope,
    #[error("the request path cannot be signed unambiguously")]
    BadPath,
    #[error("the query string cannot be signed unambiguously")]
    BadQuery,
    #[error("verify aksk signature fail")]
    Mismatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub algorithm: Algorithm,
    pub access_key: String,
    /// For V11 only: `YYYYMMDD/region/service`.
    pub scope: Option<String>,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `ALG Access=AK, SignedHeaders=a;b, Signature=hex` (or
/// `Credential=AK/scope` for V11).
pub fn parse_authorization(value: &str) -> Result<AuthorizationHeader, SigError> {
    let (alg, rest) = value.trim().split_once(' ').ok_or(SigError::Malformed)?;
    let algorithm = Algorithm::parse(alg).ok_or(SigError::UnsupportedAlgorithm)?;
    let (mut access, mut credential, mut signed, mut signature) = (None, None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SigError::Malformed)?;
        match k {
            "Access" => access = Some(v.to_owned()),
            "Credential" => credential = Some(v.to_owned()),
            "SignedHeaders" => signed = Some(v.to_owned()),
            "Signature" => signature = Some(v.to_owned()),
            _ => return Err(SigError::Malformed),
        }
    }
    let (access_key, scope) = match (algorithm, access, credential) {
        (Algorithm::V11HmacSha256, None, Some(c)) => {
            let (ak, scope) = c.split_once('/').ok_or(SigError::Malformed)?;
            (ak.to_owned(), Some(scope.to_owned()))
        }
        (Algorithm::V11HmacSha256, _, _) => return Err(SigError::Malformed),
        (_, Some(ak), None) => (ak, None),
        _ => return Err(SigError::Malformed),
    };
    let signed_headers: Vec<String> = signed
        .ok_or(SigError::Malformed)?
        .split(';')
        .map(str::to_owned)
        .collect();
    if access_key.is_empty() || signed_headers.iter().any(String::is_empty) {
        return Err(SigError::Malformed);
    }
    Ok(AuthorizationHeader {
        algorithm,
        access_key,
        scope,
        signed_headers,
        signature: signature.ok_or(SigError::Malformed)?,
    })
}
