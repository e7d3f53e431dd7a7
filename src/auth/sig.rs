//! AK/SK request signatures as the official SDKs make them (see
//! `shared/api/SIGNING.md`): canonical request, string to sign, verification.
//! Everything here is a pure function of the request bytes and the secret.

use crate::common::crypto::ct_eq;
use chrono::{DateTime, NaiveDate, Utc};
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
pub struct SignedRequest<'a, 'h> {
    pub method: &'a str,
    /// The path exactly as received, before any normalisation.
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    /// Looks up a header value (first occurrence) by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<&'h str>,
    pub body: &'a [u8],
}

/// Lower-case hex of a 32-byte digest (SHA-256, SM3, their HMACs), or a
/// literal of at most 64 bytes, kept on the stack: the check of every request
/// builds no string it does not need (they were half of its CPU).
struct Text {
    buf: [u8; 64],
    len: usize,
}

impl Text {
    fn hex(digest: [u8; 32]) -> Self {
        let mut buf = [0u8; 64];
        // Cannot fail: 64 is exactly twice 32.
        let _ = hex::encode_to_slice(digest, &mut buf);
        Self { buf, len: 64 }
    }

    fn literal(text: &'static str) -> Self {
        let mut buf = [0u8; 64];
        let len = text.len().min(64);
        buf[..len].copy_from_slice(&text.as_bytes()[..len]);
        Self { buf, len }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Percent-decodes strictly: text that does not decode to UTF-8 is refused
/// rather than replaced by U+FFFD, which would let several inputs sign alike.
/// A `%` not followed by two hex digits is refused too: it would be kept as a
/// literal `%` and sign like `%25`.
fn decode(s: &str) -> Result<String, SigError> {
    let b = s.as_bytes();
    for (i, _) in s.match_indices('%') {
        let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
        if !hex(i + 1) || !hex(i + 2) {
            return Err(SigError::BadPath);
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| SigError::BadPath)
}

/// The canonical URI of a path the router may accept, or `BadPath` for a path
/// that would share its canonical form with another routed path: the SDK's
/// decode / split / re-encode rule turns `%2F` into `/` and always appends a
/// `/`, so a segment holding an encoded `/`, a trailing `/` (other than the
/// root) and a decoding that is not UTF-8 are refused. What is left maps one
/// to one onto the paths the router sees (dewstack's choice: the SDKs never
/// send such paths for KMS, CSMS, VPCEP or IAM).
pub fn canonical_uri(raw_path: &str) -> Result<String, SigError> {
    let mut out = String::with_capacity(raw_path.len() + 1);
    write_canonical_uri(raw_path, &mut out)?;
    Ok(out)
}

fn write_canonical_uri(raw_path: &str, out: &mut String) -> Result<(), SigError> {
    if raw_path.len() > 1 && raw_path.ends_with('/') {
        return Err(SigError::BadPath);
    }
    // Nearly every path holds only unreserved characters: decoding and
    // re-encoding would give it back unchanged, so skip that work.
    let plain = raw_path
        .bytes()
        .all(|b| b == b'/' || b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if plain {
        out.push_str(raw_path);
    } else {
        for (i, segment) in raw_path.split('/').enumerate() {
            let decoded = decode(segment)?;
            if decoded.contains('/') {
                return Err(SigError::BadPath);
            }
            if i > 0 {
                out.push('/');
            }
            out.extend(utf8_percent_encode(&decoded, UNRESERVED));
        }
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    Ok(())
}

/// The canonical query. A literal `+` is refused: the handlers read it as a
/// space while the SDK rule signs it as `%2B` (which the SDKs always send), so
/// `a+b` and `a%2Bb` would share one signature (dewstack's choice).
pub fn canonical_query(raw_query: Option<&str>) -> Result<String, SigError> {
    let raw = raw_query.unwrap_or("");
    if raw.contains('+') {
        return Err(SigError::BadQuery);
    }
    let mut pairs = Vec::new();
    for p in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        pairs.push((
            decode(k).map_err(|_| SigError::BadQuery)?,
            decode(v).map_err(|_| SigError::BadQuery)?,
        ));
    }
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// Whether the signature covers the body's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// The server hashed the body it received; the signature covers it.
    Hashed,
    /// A signed `UNSIGNED-PAYLOAD` on a signed non-JSON content type: the body
    /// is not covered, and no JSON handler may read it.
    Unsigned,
}

/// The payload hash(es) a request may have been signed with. The value of an
/// `X-Sdk-Content-Sha256`/`-Sm3` header is never taken as the hash: the server
/// always hashes the body it received. The one exception is the SDKs'
/// `UNSIGNED-PAYLOAD` (sent when the content type is neither JSON nor BSON),
/// accepted only when that header and `Content-Type` are both signed and the
/// content type is indeed not JSON/BSON. For an empty body the Python SDK signs
/// H("") and the Go SDK the header value, so both are tried.
fn payload_candidates(
    req: &SignedRequest<'_, '_>,
    auth: &AuthorizationHeader,
) -> [Option<(Text, Payload)>; 2] {
    let declared = if auth.algorithm.uses_sm3() {
        "x-sdk-content-sm3"
    } else {
        "x-sdk-content-sha256"
    };
    let signed = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    let unsigned = signed(declared)
        && signed("content-type")
        && (req.header)(declared).is_some_and(|v| v.trim() == "UNSIGNED-PAYLOAD")
        && (req.header)("content-type").is_some_and(|ct| {
            let ct = ct.trim().to_ascii_lowercase();
            !ct.starts_with("application/json") && !ct.starts_with("application/bson")
        });
    let unsigned_payload = || Text::literal("UNSIGNED-PAYLOAD");
    if req.body.is_empty() {
        let second = unsigned.then(|| (unsigned_payload(), Payload::Hashed));
        [
            Some((Text::hex(auth.algorithm.digest(b"")), Payload::Hashed)),
            second,
        ]
    } else if unsigned {
        [Some((unsigned_payload(), Payload::Unsigned)), None]
    } else {
        [
            Some((Text::hex(auth.algorithm.digest(req.body)), Payload::Hashed)),
            None,
        ]
    }
}

fn canonical_with_payload(
    req: &SignedRequest<'_, '_>,
    auth: &AuthorizationHeader,
    payload: &str,
) -> Result<String, SigError> {
    let mut out = String::new();
    write_canonical(req, auth, payload, &mut out)?;
    Ok(out)
}

/// The canonical request, appended to `out` (one buffer, sized once).
fn write_canonical(
    req: &SignedRequest<'_, '_>,
    auth: &AuthorizationHeader,
    payload: &str,
    out: &mut String,
) -> Result<(), SigError> {
    out.reserve(256 + req.raw_path.len() + req.raw_query.map_or(0, str::len));
    out.extend(req.method.chars().map(|c| c.to_ascii_uppercase()));
    out.push('\n');
    write_canonical_uri(req.raw_path, out)?;
    out.push('\n');
    if req.raw_query.is_some_and(|q| !q.is_empty()) {
        out.push_str(&canonical_query(req.raw_query)?);
    }
    out.push('\n');
    for name in &auth.signed_headers {
        let value = (req.header)(name).ok_or(SigError::AbsentHeader)?;
        out.push_str(name);
        out.push(':');
        out.push_str(value.trim());
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in auth.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload);
    Ok(())
}

/// The canonical request the server checks first (see [`payload_candidates`]).
pub fn canonical_request(
    req: &SignedRequest<'_, '_>,
    auth: &AuthorizationHeader,
) -> Result<String, SigError> {
    let [first, _] = payload_candidates(req, auth);
    let payload = first.as_ref().map_or("", |(p, _)| p.as_str());
    canonical_with_payload(req, auth, payload)
}

pub fn string_to_sign(auth: &AuthorizationHeader, sdk_date: &str, canonical: &str) -> String {
    let mut out = String::new();
    write_string_to_sign(auth, sdk_date, canonical, &mut out);
    out
}

fn write_string_to_sign(
    auth: &AuthorizationHeader,
    sdk_date: &str,
    canonical: &str,
    out: &mut String,
) {
    let hashed = Text::hex(auth.algorithm.digest(canonical.as_bytes()));
    out.reserve(64 + sdk_date.len() + auth.scope.as_ref().map_or(0, String::len) + 64);
    out.push_str(auth.algorithm.name());
    out.push('\n');
    out.push_str(sdk_date);
    out.push('\n');
    if let Some(scope) = &auth.scope {
        out.push_str(scope);
        out.push('\n');
    }
    out.push_str(hashed.as_str());
}

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
