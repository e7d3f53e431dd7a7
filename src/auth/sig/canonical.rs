//! The canonical request and the string to sign of an AK/SK signature
//! (SIGNING.md), built into buffers sized once: the check of every request
//! builds no string it does not need.

use crate::auth::header::{AuthorizationHeader, SigError};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but `A-Z a-z 0-9 - _ . ~` is escaped, with upper-case hex.
pub(super) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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
pub(super) struct Text {
    buf: [u8; 64],
    len: usize,
}

impl Text {
    pub(super) fn hex(digest: [u8; 32]) -> Self {
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

    pub(super) fn as_str(&self) -> &str {
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
pub(super) fn payload_candidates(
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

pub(super) fn canonical_with_payload(
    req: &SignedRequest<'_, '_>,
    auth: &AuthorizationHeader,
    payload: &str,
) -> Result<String, SigError> {
    let mut out = String::new();
    write_canonical(req, auth, payload, &mut out)?;
    Ok(out)
}

/// The canonical request, appended to `out` (one buffer, sized once).
pub(super) fn write_canonical(
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

pub(super) fn write_string_to_sign(
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
