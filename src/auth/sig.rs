//! AK/SK request signatures as the official SDKs make them (see
//! `shared/api/SIGNING.md`): canonical request, string to sign, verification.
//! Everything here is a pure function of the request bytes and the secret.

use crate::common::crypto::ct_eq;
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use super::header::{parse_authorization, Algorithm, AuthorizationHeader, SigError};
#[cfg(test)]
use canonical::UNRESERVED;
pub use canonical::{
    canonical_query, canonical_request, canonical_uri, string_to_sign, Payload, SignedRequest,
};
use canonical::{
    canonical_with_payload, payload_candidates, write_canonical, write_string_to_sign, Text,
};

mod canonical;

pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// `YYYYMMDDTHHMMSSZ`, exactly as every SDK writes it (UTC). Parsed by
/// hand: chrono's format-string parse was 2 % of a request's CPU.
pub fn parse_sdk_date(value: &str) -> Result<DateTime<Utc>, SigError> {
    let b = value.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return Err(SigError::BadDate);
    }
    let number = |from: usize, to: usize| {
        b.get(from..to)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let at = (|| {
        let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(4, 6)?, number(6, 8)?)?;
        date.and_hms_opt(number(9, 11)?, number(11, 13)?, number(13, 15)?)
    })();
    at.map(|t| t.and_utc()).ok_or(SigError::BadDate)
}

fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> Result<String, SigError> {
    Ok(hmac_sha256(key, msg)?.as_str().to_owned())
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Result<Text, SigError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| SigError::Mismatch)?;
    mac.update(msg);
    Ok(Text::hex(mac.finalize().into_bytes().into()))
}

fn hmac_sm3(key: &[u8], msg: &[u8]) -> Result<Text, SigError> {
    let mut mac = <Hmac<sm3::Sm3> as Mac>::new_from_slice(key).map_err(|_| SigError::Mismatch)?;
    mac.update(msg);
    Ok(Text::hex(mac.finalize().into_bytes().into()))
}

/// The V11 signing key: one-block HKDF-SHA256, used as the ASCII text of its hex.
pub fn v11_signing_key(ak: &str, sk: &str, scope: &str) -> Result<String, SigError> {
    let mut prk =
        <Hmac<Sha256> as Mac>::new_from_slice(ak.as_bytes()).map_err(|_| SigError::Mismatch)?;
    prk.update(sk.as_bytes());
    let prk = prk.finalize().into_bytes();
    let mut info = scope.as_bytes().to_vec();
    info.push(1);
    hmac_sha256_hex(&prk, &info)
}

/// What a V11 credential scope (`YYYYMMDD/region/service`) must name.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedScope<'a> {
    /// The server's region.
    pub region: &'a str,
    /// The names the SDKs give the service the route belongs to.
    pub services: &'a [&'a str],
    /// A global service (IAM): `GlobalCredentials` always sign with region
    /// `globe` (SIGNING.md 1.1), which is accepted besides the server's region.
    pub global: bool,
}

impl ExpectedScope<'_> {
    fn check(&self, scope: &str, sdk_date: &str) -> Result<(), SigError> {
        let mut parts = scope.split('/');
        let (Some(date), Some(region), Some(service), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SigError::BadScope);
        };
        let region_ok = region == self.region || (self.global && region == "globe");
        if sdk_date.get(..8) == Some(date) && region_ok && self.services.contains(&service) {
            Ok(())
        } else {
            Err(SigError::BadScope)
        }
    }
}

/// Checks a request's signature with the access key's secret, and for V11
/// the credential scope against `expected` (SIGNING.md section 5).
pub fn verify(
    req: &SignedRequest<'_, '_>,
    auth: &AuthorizationHeader,
    secret_key: &str,
    now: DateTime<Utc>,
    expected: &ExpectedScope<'_>,
) -> Result<Payload, SigError> {
    // Only the date must be signed (it bounds replay). The official Go SDK
    // signs the headers it set itself (x-project-id, x-sdk-date), never
    // `host`, and the cloud accepts that; so does dewstack, and a signed
    // `host` is still checked like any signed header.
    if !auth.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(SigError::MissingSignedHeader);
    }
    let sdk_date = (req.header)("x-sdk-date").ok_or(SigError::BadDate)?;
    let sdk_date = sdk_date.trim();
    let at = parse_sdk_date(sdk_date)?;
    if (now - at).num_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(SigError::Skewed);
    }
    let v11_key = match auth.algorithm {
        Algorithm::V11HmacSha256 => {
            let scope = auth.scope.as_deref().ok_or(SigError::BadScope)?;
            expected.check(scope, sdk_date)?;
            Some(v11_signing_key(&auth.access_key, secret_key, scope)?)
        }
        _ => None,
    };
    let mut outcome = Err(SigError::Mismatch);
    let given = auth.signature.to_ascii_lowercase();
    let (mut canonical, mut to_sign) = (String::new(), String::new());
    // Every candidate is checked (at most two, for an empty body), so the
    // time taken does not tell which one matched.
    for (payload, kind) in payload_candidates(req, auth).into_iter().flatten() {
        canonical.clear();
        write_canonical(req, auth, payload.as_str(), &mut canonical)?;
        to_sign.clear();
        write_string_to_sign(auth, sdk_date, &canonical, &mut to_sign);
        let ok = match (auth.algorithm, &v11_key) {
            (Algorithm::HmacSha256, _) => {
                let expected = hmac_sha256(secret_key.as_bytes(), to_sign.as_bytes())?;
                ct_eq(expected.as_str().as_bytes(), given.as_bytes())
            }
            (Algorithm::HmacSm3, _) => {
                let expected = hmac_sm3(secret_key.as_bytes(), to_sign.as_bytes())?;
                ct_eq(expected.as_str().as_bytes(), given.as_bytes())
            }
            (Algorithm::V11HmacSha256, Some(key)) => {
                let expected = hmac_sha256(key.as_bytes(), to_sign.as_bytes())?;
                ct_eq(expected.as_str().as_bytes(), given.as_bytes())
            }
            (Algorithm::V11HmacSha256, None) => false,
            (Algorithm::EcdsaP256Sha256 | Algorithm::Sm2Sm3, _) => {
                super::asym::verify(auth, &auth.access_key, secret_key, to_sign.as_bytes()).is_ok()
            }
        };
        if ok && outcome.is_err() {
            outcome = Ok(kind);
        }
    }
    outcome
}

/// A request as a client is about to send it: every header in `headers`
/// (lower-case names) is signed, `host` and `x-sdk-date` among them.
pub struct Outgoing<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The client side of [`verify`]: the `Authorization` value an official SDK
/// sends for `req` with SDK-HMAC-SHA256, built from the same canonical
/// request the server checks. The one signer of tests, harnesses and benchmarks.
pub fn sign(req: &Outgoing<'_>, access_key: &str, secret_key: &str) -> Result<String, SigError> {
    let lookup = |name: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let date = lookup("x-sdk-date").ok_or(SigError::BadDate)?;
    // The SDKs list signed headers sorted by name.
    let mut signed_headers: Vec<String> = req.headers.iter().map(|(k, _)| k.clone()).collect();
    signed_headers.sort();
    let auth = AuthorizationHeader {
        algorithm: Algorithm::HmacSha256,
        access_key: access_key.to_owned(),
        scope: None,
        signed_headers,
        signature: String::new(),
    };
    let received = SignedRequest {
        method: req.method,
        raw_path: req.raw_path,
        raw_query: req.raw_query,
        header: &lookup,
        body: req.body,
    };
    let canonical = canonical_with_payload(&received, &auth, &auth.algorithm.hash_hex(req.body))?;
    let to_sign = string_to_sign(&auth, date, &canonical);
    let signature = hmac_sha256_hex(secret_key.as_bytes(), to_sign.as_bytes())?;
    Ok(format!(
        "{} Access={access_key}, SignedHeaders={}, Signature={signature}",
        auth.algorithm.name(),
        auth.signed_headers.join(";"),
    ))
}

#[cfg(test)]
mod tests;
