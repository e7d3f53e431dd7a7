//! Validation of every identifier and text field a request brings, and of
//! CreateKey as a whole (`NewKey`).

use super::key::{KeySpec, KeyUsage, Origin};
use super::keystore::{token_holds, DEFAULT_KEYSTORE};
use crate::kms::error::KmsError;

/// `^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$`
pub fn parse_key_id(raw: Option<&str>) -> Result<String, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("key_id"))?;
    // Dashes at 8, 13, 18 and 23 of 36; digits and lower-case letters elsewhere.
    let ok = raw.len() == 36
        && raw.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || b.is_ascii_lowercase(),
        });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidKeyId)
    }
}

/// Where the cloud lets an alias stand in for a key id (its user guide: "you
/// can use the alias as the key ID during API calling"): a key id, or an
/// alias name (`alias/…`, the characters CreateAlias allows, at most 255),
/// which `access::usable_key` resolves in the caller's own project.
pub fn parse_key_ref(raw: Option<&str>) -> Result<String, KmsError> {
    match raw {
        Some(r) if r.starts_with(ALIAS_NAME_PREFIX) => {
            let ok = r.len() > ALIAS_NAME_PREFIX.len()
                && r.len() <= 255
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
            ok.then(|| r.to_owned()).ok_or(KmsError::InvalidKeyId)
        }
        _ => parse_key_id(raw),
    }
}

/// How an alias name starts (CreateAlias).
pub const ALIAS_NAME_PREFIX: &str = "alias/";

pub const DEFAULT_SUFFIX: &str = "/default";

/// A user alias: `^[a-zA-Z0-9:/_-]{1,255}$`, never a service default alias.
pub fn parse_alias(raw: &str) -> Result<String, KmsError> {
    let ok = (1..=255).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
        && !raw.ends_with(DEFAULT_SUFFIX);
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidAlias)
    }
}

/// A key id as CreateKey's `keystore_id` names a key store: "0" (the
/// default one) or the id of a key store of the caller's project.
pub fn parse_keystore_id(raw: &str) -> Result<&str, KmsError> {
    let ok = raw == DEFAULT_KEYSTORE || parse_key_id(Some(raw)).is_ok();
    if ok {
        Ok(raw)
    } else {
        Err(KmsError::InvalidParameter("keystore_id"))
    }
}

pub fn parse_description(raw: Option<&str>) -> Result<String, KmsError> {
    let text = raw.unwrap_or("");
    if text.chars().count() > 255 {
        return Err(KmsError::InvalidDescription);
    }
    Ok(text.to_owned())
}

/// A required binary field (a message, a MAC, a signature, wrapped key
/// material): absent is a missing parameter, anything but strict standard
/// base64 (`common::b64`) an invalid one, after surrounding whitespace is
/// trimmed (as every such field of these APIs always was here).
pub fn base64_field(raw: Option<&str>, field: &'static str) -> Result<Vec<u8>, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter(field))?;
    crate::common::b64::decode(raw.trim()).map_err(|_| KmsError::InvalidParameter(field))
}

/// The optional `sequence`, a request serial number. The SDK models call it
/// "36 bytes" and give a hyphenated UUID as the example, but the cloud also
/// takes the 32-character simple form: Cloud Custodian sends `uuid4().hex`
/// and its maintainers see the action take effect. dewstack's choice, since
/// the cloud publishes no rule: 32 to 36 ASCII letters, digits or hyphens,
/// which covers both UUID forms and still refuses what is plainly not one.
pub fn check_sequence(raw: Option<&str>) -> Result<(), KmsError> {
    let Some(s) = raw else { return Ok(()) };
    let ok =
        (32..=36).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KmsError::InvalidSequence)
    }
}

/// `pin_type` of the data key operations and CreatePin. The cloud applies
/// PINs only in level-4 cryptographic assessment deployments (dedicated
/// HSMs); elsewhere they have no effect, which is dewstack's case: the type
/// is checked so a typo still fails, and the PIN itself is not used.
pub fn check_pin_type(raw: Option<&str>) -> Result<PinType, KmsError> {
    match raw {
        None | Some("CipherText") => Ok(PinType::CipherText),
        Some("PlainText") => Ok(PinType::PlainText),
        Some(_) => Err(KmsError::InvalidParameter("pin_type")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinType {
    PlainText,
    CipherText,
}

pub fn parse_pending_days(raw: Option<&str>) -> Result<i64, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("pending_days"))?;
    match raw.trim().parse::<i64>() {
        Ok(days) if (7..=1096).contains(&days) => Ok(days),
        _ => Err(KmsError::InvalidPendingDays),
    }
}

/// A validated CreateKey request.
pub struct NewKey {
    pub alias: String,
    pub description: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub origin: Origin,
    pub enterprise_project_id: String,
    pub keystore_id: String,
}

impl NewKey {
    #[allow(clippy::too_many_arguments)]
    pub fn validate(
        alias: Option<&str>,
        spec: Option<&str>,
        usage: Option<&str>,
        description: Option<&str>,
        origin: Option<&str>,
        enterprise_project_id: Option<&str>,
        keystore_id: Option<&str>,
        sequence: Option<&str>,
    ) -> Result<Self, KmsError> {
        check_sequence(sequence)?;
        let alias = parse_alias(alias.ok_or(KmsError::MissingParameter("key_alias"))?)?;
        let spec = spec
            .map(KeySpec::parse)
            .transpose()?
            .unwrap_or(KeySpec::Aes256);
        let usage = usage
            .map(KeyUsage::parse)
            .transpose()?
            .unwrap_or(spec.default_usage());
        if !spec.allows(usage) {
            return Err(KmsError::UsageMismatch);
        }
        let origin = origin
            .map(Origin::parse)
            .transpose()?
            .unwrap_or(Origin::Kms);
        let importable = spec.is_symmetric() || spec.is_hmac() || spec.imports_private_key();
        if origin == Origin::External && !importable {
            return Err(KmsError::InvalidParameter("origin"));
        }
        let keystore_id = parse_keystore_id(keystore_id.unwrap_or("0"))?;
        if keystore_id != DEFAULT_KEYSTORE && (origin != Origin::Kms || !token_holds(spec)) {
            // Material made in a token never leaves it, so it cannot be imported either.
            return Err(KmsError::InvalidParameter("key_spec"));
        }
        Ok(NewKey {
            alias,
            description: parse_description(description)?,
            spec,
            usage,
            origin,
            enterprise_project_id: enterprise_project_id.unwrap_or("0").to_owned(),
            keystore_id: keystore_id.to_owned(),
        })
    }
}
