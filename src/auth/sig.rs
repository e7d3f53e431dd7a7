//! AK/SK request signatures as the official SDKs make them (see
//! `shared/api/SIGNING.md`): canonical request, string to sign, verification.
//! Everything here is a pure function of the request bytes and the secret.

use crate::common::crypto::ct_eq;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

pub use super::header::{parse_authorization, Algorithm, AuthorizationHeader, SigError};

/// Everything but `A-Z a-z 0-9 - _ . ~` is escaped, with upper-case hex.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The parts of a received request that a signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path exactly as received, before any normalisation.
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    /// Looks up a header value (first occurrence) by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

pub fn canonical_uri(raw_path: &str) -> String {
    // Nearly every path holds only unreserved characters: decoding and
    // re-encoding would give it back unchanged, so skip that work.
    let plain = raw_path
        .bytes()
        .all(|b| b == b'/' || b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if plain {
        let mut out = String::with_capacity(raw_path.len() + 1);
        out.push_str(raw_path);
        if !out.ends_with('/') {
            out.push('/');
        }
        return out;
    }
    // The SDK decodes the whole path once, splits on '/', and re-encodes each
    // segment: so "%2F" inside a segment is signed as a literal '/'.
    let decoded = decode(raw_path);
    let mut out = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

pub fn canonical_query(raw_query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn canonical_request(
    req: &SignedRequest<'_>,
    auth: &AuthorizationHeader,
) -> Result<String, SigError> {
    let mut headers = String::new();
    for name in &auth.signed_headers {
        let value = (req.header)(name).ok_or(SigError::AbsentHeader)?;
        headers.push_str(name);
        headers.push(':');
        headers.push_str(value.trim());
        headers.push('\n');
    }
    let payload = if req.body.is_empty() {
        auth.algorithm.hash_hex(b"")
    } else {
        let declared = if auth.algorithm.uses_sm3() {
            "x-sdk-content-sm3"
        } else {
            "x-sdk-content-sha256"
        };
        match (req.header)(declared) {
            Some(v) => v,
            None => auth.algorithm.hash_hex(req.body),
        }
    };
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.raw_path),
        canonical_query(req.raw_query),
        headers,
        auth.signed_headers.join(";"),
        payload
    ))
}

pub fn string_to_sign(auth: &AuthorizationHeader, sdk_date: &str, canonical: &str) -> String {
    let hashed = auth.algorithm.hash_hex(canonical.as_bytes());
    match &auth.scope {
        Some(scope) => format!(
            "{}\n{}\n{}\n{}",
            auth.algorithm.name(),
            sdk_date,
            scope,
            hashed
        ),
        None => format!("{}\n{}\n{}", auth.algorithm.name(), sdk_date, hashed),
    }
}

pub fn parse_sdk_date(value: &str) -> Result<DateTime<Utc>, SigError> {
    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ")
        .map(|t| t.and_utc())
        .map_err(|_| SigError::BadDate)
}

fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> Result<String, SigError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| SigError::Mismatch)?;
    mac.update(msg);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

fn hmac_sm3_hex(key: &[u8], msg: &[u8]) -> Result<String, SigError> {
    let mut mac = <Hmac<sm3::Sm3> as Mac>::new_from_slice(key).map_err(|_| SigError::Mismatch)?;
    mac.update(msg);
    Ok(hex::encode(mac.finalize().into_bytes()))
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

/// Checks a request's signature with the access key's secret.
/// `expected_scope_tail` is `region/service` for V11 (None = accept any).
pub fn verify(
    req: &SignedRequest<'_>,
    auth: &AuthorizationHeader,
    secret_key: &str,
    now: DateTime<Utc>,
) -> Result<(), SigError> {
    if !auth.signed_headers.iter().any(|h| h == "host")
        || !auth.signed_headers.iter().any(|h| h == "x-sdk-date")
    {
        return Err(SigError::MissingSignedHeader);
    }
    let sdk_date = (req.header)("x-sdk-date").ok_or(SigError::BadDate)?;
    let at = parse_sdk_date(sdk_date.trim())?;
    if (now - at).num_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(SigError::Skewed);
    }
    let canonical = canonical_request(req, auth)?;
    let to_sign = string_to_sign(auth, sdk_date.trim(), &canonical);
    let expected = match auth.algorithm {
        Algorithm::HmacSha256 => hmac_sha256_hex(secret_key.as_bytes(), to_sign.as_bytes())?,
        Algorithm::HmacSm3 => hmac_sm3_hex(secret_key.as_bytes(), to_sign.as_bytes())?,
        Algorithm::V11HmacSha256 => {
            let scope = auth.scope.as_deref().ok_or(SigError::BadScope)?;
            if !scope.starts_with(sdk_date.get(..8).unwrap_or("")) || scope.split('/').count() != 3
            {
                return Err(SigError::BadScope);
            }
            let key = v11_signing_key(&auth.access_key, secret_key, scope)?;
            hmac_sha256_hex(key.as_bytes(), to_sign.as_bytes())?
        }
        Algorithm::EcdsaP256Sha256 | Algorithm::Sm2Sm3 => {
            return super::asym::verify(auth, &auth.access_key, secret_key, to_sign.as_bytes());
        }
    };
    if ct_eq(
        expected.as_bytes(),
        auth.signature.to_ascii_lowercase().as_bytes(),
    ) {
        Ok(())
    } else {
        Err(SigError::Mismatch)
    }
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
            .map(|(_, v)| v.clone())
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
    let canonical = canonical_request(&received, &auth)?;
    let to_sign = string_to_sign(&auth, &date, &canonical);
    let signature = hmac_sha256_hex(secret_key.as_bytes(), to_sign.as_bytes())?;
    Ok(format!(
        "{} Access={access_key}, SignedHeaders={}, Signature={signature}",
        auth.algorithm.name(),
        auth.signed_headers.join(";"),
    ))
}

#[cfg(test)]
mod tests;
