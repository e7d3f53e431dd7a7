//! Pure CSMS rules: names, secret values, secret and event states, event types
//! and notification targets. No storage, no I/O.

use super::error::CsmsError;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Secrets per project (CSMS.0202; the user guide says 500).
pub const SECRET_QUOTA: usize = 500;

/// The cloud's limit on a secret value (32 KB).
pub const MAX_VALUE_BYTES: usize = 32 * 1024;
pub const MAX_DESCRIPTION_BYTES: usize = 2048;
/// "当前最大可订阅一个事件".
pub const MAX_SUBSCRIPTIONS: usize = 1;
/// Events per project. The cloud publishes no bound; dewstack's choice.
pub const EVENT_QUOTA: usize = 100;

/// `^[a-zA-Z0-9_-]{1,64}$`: secret, event and stage names.
pub fn is_valid_name(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn parse_name(raw: Option<&str>, field: &'static str) -> Result<String, CsmsError> {
    let raw = raw.ok_or(CsmsError::MissingParameter(field))?;
    if !is_valid_name(raw) {
        return Err(CsmsError::InvalidParameter(field));
    }
    Ok(raw.to_owned())
}

pub fn parse_description(raw: Option<&str>) -> Result<String, CsmsError> {
    let text = raw.unwrap_or_default();
    if text.len() > MAX_DESCRIPTION_BYTES {
        return Err(CsmsError::InvalidParameter("description"));
    }
    Ok(text.to_owned())
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretState {
    #[serde(rename = "ENABLED")]
    Enabled,
    #[serde(rename = "PENDING_DELETE")]
    PendingDelete,
}

impl SecretState {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretState::Enabled => "ENABLED",
            SecretState::PendingDelete => "PENDING_DELETE",
        }
    }

    /// Reading values or adding versions.
    pub fn check_usable(self) -> Result<(), CsmsError> {
        match self {
            SecretState::Enabled => Ok(()),
            SecretState::PendingDelete => Err(CsmsError::SecretPendingDeletionUnusable),
        }
    }

    /// Changing the secret's settings, stages or tags.
    pub fn check_editable(self) -> Result<(), CsmsError> {
        match self {
            SecretState::Enabled => Ok(()),
            SecretState::PendingDelete => Err(CsmsError::SecretPendingDeletion),
        }
    }

    pub fn schedule_deletion(self) -> Result<Self, CsmsError> {
        self.check_editable()?;
        Ok(SecretState::PendingDelete)
    }

    pub fn restore(self) -> Result<Self, CsmsError> {
        match self {
            SecretState::PendingDelete => Ok(SecretState::Enabled),
            SecretState::Enabled => Err(CsmsError::SecretNotPendingDeletion),
        }
    }
}

/// DeleteSecretForSchedule: 7 to 30 days, 30 when not given.
pub fn parse_recovery_days(raw: Option<i64>) -> Result<i64, CsmsError> {
    match raw.unwrap_or(30) {
        d @ 7..=30 => Ok(d),
        _ => Err(CsmsError::InvalidParameter("recovery_window_in_days")),
    }
}

pub fn parse_secret_type(raw: Option<&str>) -> Result<String, CsmsError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok("COMMON".into()),
        // "IAM": dewstack's own type for rotating its users' access keys
        // (docs/rotation.md); the cloud's reference lists the other three.
        Some(t @ ("COMMON" | "RDS-FG" | "GaussDB-FG" | "IAM")) => Ok(t.to_owned()),
        Some(_) => Err(CsmsError::InvalidParameter("secret_type")),
    }
}

/// `Integer[unit]` with unit d/h/m/s, between 6 hours and 365 days; seconds.
pub fn parse_rotation_period(raw: &str) -> Result<i64, CsmsError> {
    let bad = CsmsError::InvalidParameter("rotation_period");
    // Split off the last *character*: a byte index would panic inside a
    // multi-byte character ("6天").
    let mut chars = raw.chars();
    let unit = chars.next_back();
    let n: i64 = chars
        .as_str()
        .parse()
        .map_err(|_| CsmsError::InvalidParameter("rotation_period"))?;
    let secs = match unit {
        Some('d') => n.checked_mul(86_400),
        Some('h') => n.checked_mul(3_600),
        Some('m') => n.checked_mul(60),
        Some('s') => Some(n),
        _ => None,
    }
    .ok_or(bad)?;
    if !(6 * 3_600..=8_760 * 3_600).contains(&secs) {
        return Err(CsmsError::InvalidParameter("rotation_period"));
    }
    Ok(secs)
}

/// A secret value as given: text or binary (base64 on the wire).
pub struct SecretValue {
    pub bytes: Zeroizing<Vec<u8>>,
    pub binary: bool,
}

/// Exactly one of `secret_string` / `secret_binary`, at most 32 KB.
pub fn parse_value(string: Option<&str>, binary: Option<&str>) -> Result<SecretValue, CsmsError> {
    let string = string.filter(|s| !s.is_empty());
    let binary = binary.filter(|s| !s.is_empty());
    let value = match (string, binary) {
        (Some(s), None) => SecretValue {
            bytes: Zeroizing::new(s.as_bytes().to_vec()),
            binary: false,
        },
        (None, Some(b)) => SecretValue {
            bytes: Zeroizing::new(
                crate::common::b64::decode(b.trim())
                    .map_err(|_| CsmsError::InvalidParameter("secret_binary"))?,
            ),
            binary: true,
        },
        (None, None) => return Err(CsmsError::MissingParameter("secret_string")),
        (Some(_), Some(_)) => return Err(CsmsError::InvalidParameter("secret_binary")),
    };
    if value.bytes.len() > MAX_VALUE_BYTES {
        return Err(CsmsError::InvalidParameter(if value.binary {
            "secret_binary"
        } else {
            "secret_string"
        }));
    }
    Ok(value)
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    #[serde(rename = "SECRET_VERSION_CREATED")]
    VersionCreated,
    #[serde(rename = "SECRET_VERSION_EXPIRED")]
    VersionExpired,
    #[serde(rename = "SECRET_ROTATED")]
    Rotated,
    #[serde(rename = "SECRET_DELETED")]
    Deleted,
    #[serde(rename = "SECRET_ROTATED_FAILED")]
    RotatedFailed,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::VersionCreated,
        EventType::VersionExpired,
        EventType::Rotated,
        EventType::Deleted,
        EventType::RotatedFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::VersionCreated => "SECRET_VERSION_CREATED",
            EventType::VersionExpired => "SECRET_VERSION_EXPIRED",
            EventType::Rotated => "SECRET_ROTATED",
            EventType::Deleted => "SECRET_DELETED",
            EventType::RotatedFailed => "SECRET_ROTATED_FAILED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// A non-empty list of known event types without repeats.
pub fn parse_event_types(raw: Option<&[String]>) -> Result<Vec<EventType>, CsmsError> {
    let raw = raw.ok_or(CsmsError::MissingParameter("event_types"))?;
    if raw.is_empty() {
        return Err(CsmsError::InvalidParameter("event_types"));
    }
    let mut out: Vec<EventType> = Vec::with_capacity(raw.len());
    for item in raw {
        let t = EventType::parse(item).ok_or(CsmsError::InvalidParameter("event_types"))?;
        if out.contains(&t) {
            return Err(CsmsError::InvalidParameter("event_types"));
        }
        out.push(t);
    }
    Ok(out)
}

pub fn parse_event_state(raw: Option<&str>) -> Result<bool, CsmsError> {
    match raw {
        Some("ENABLED") => Ok(true),
        Some("DISABLED") => Ok(false),
        None => Err(CsmsError::MissingParameter("state")),
        Some(_) => Err(CsmsError::InvalidParameter("state")),
    }
}

/// Where an event's notifications go. In the cloud `target_id` names an SMN
/// topic; dewstack also accepts an http(s) URL there, which it POSTs to when
/// the URL is on the configured allow-list (`notification_urls`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
}

const MAX_TARGET_CHARS: usize = 512;

impl Target {
    pub fn parse(
        target_type: Option<&str>,
        target_id: Option<&str>,
        target_name: Option<&str>,
    ) -> Result<Self, CsmsError> {
        let field = |raw: Option<&str>, name: &'static str| -> Result<String, CsmsError> {
            let raw = raw.ok_or(CsmsError::MissingParameter(name))?;
            if raw.is_empty()
                || raw.chars().count() > MAX_TARGET_CHARS
                || raw.chars().any(char::is_control)
            {
                return Err(CsmsError::InvalidParameter(name));
            }
            Ok(raw.to_owned())
        };
        Ok(Self {
            target_type: field(target_type, "target_type")?,
            target_id: field(target_id, "target_id")?,
            target_name: field(target_name, "target_name")?,
        })
    }

    /// The URL to POST to, when the target is one the allow-list permits
    /// (parsed and compared by scheme, host, port and path: `notify_url.rs`).
    pub fn delivery_url(&self, allowed: &[String]) -> Option<&str> {
        super::notify_url::permitted(&self.target_id, allowed).then_some(self.target_id.as_str())
    }

    pub fn is_url(&self) -> bool {
        self.target_id.starts_with("http://") || self.target_id.starts_with("https://")
    }
}

/// `event_subscriptions` of a secret: at most one valid event name.
pub fn parse_subscriptions(raw: Option<&[String]>) -> Result<Vec<String>, CsmsError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_SUBSCRIPTIONS || raw.iter().any(|n| !is_valid_name(n)) {
        return Err(CsmsError::InvalidParameter("event_subscriptions"));
    }
    Ok(raw.to_vec())
}

// ---- generated passwords (GenerateRandomPassword, generated rotations) ---

const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
pub const MIN_PASSWORD: i64 = 8;
pub const MAX_PASSWORD: i64 = 4096;

#[derive(Deserialize, Default)]
pub struct PasswordRequest {
    pub password_policy_name: Option<String>,
    pub length: Option<i64>,
    pub exclude_characters: Option<String>,
    pub exclude_lowercase: Option<bool>,
    pub exclude_uppercase: Option<bool>,
    pub exclude_numbers: Option<bool>,
    pub exclude_punctuation: Option<bool>,
    pub include_space: Option<bool>,
    pub require_each_included_type: Option<bool>,
}

/// A random password following `req`; character classes that end up empty
/// after exclusions are dropped; none left is an invalid request.
pub fn generate_password(
    req: &PasswordRequest,
    rng: &crate::rng::Rng,
) -> Result<Zeroizing<String>, CsmsError> {
    use rand::Rng as _;
    let length = req.length.unwrap_or(32);
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
        return Err(CsmsError::InvalidParameter("length"));
    }
    let excluded = req.exclude_characters.as_deref().unwrap_or_default();
    let mut classes: Vec<Vec<char>> = Vec::new();
    let mut add = |skip: Option<bool>, chars: &str| {
        if !skip.unwrap_or(false) {
            let set: Vec<char> = chars.chars().filter(|c| !excluded.contains(*c)).collect();
            if !set.is_empty() {
                classes.push(set);
            }
        }
    };
    add(req.exclude_lowercase, "abcdefghijklmnopqrstuvwxyz");
    add(req.exclude_uppercase, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    add(req.exclude_numbers, "0123456789");
    add(req.exclude_punctuation, PUNCTUATION);
    add(req.include_space.map(|on| !on).or(Some(true)), " ");
    if classes.is_empty() {
        return Err(CsmsError::InvalidParameter("exclude_characters"));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut rng = rng.csprng();
    let length = length as usize;
    let mut out: Vec<char> = (0..length)
        .map(|_| all[rng.gen_range(0..all.len())])
        .collect();
    if req.require_each_included_type.unwrap_or(false) {
        if classes.len() > length {
            return Err(CsmsError::InvalidParameter("length"));
        }
        // One position per class, chosen without repeats, holds a member of it.
        let mut positions: Vec<usize> = (0..length).collect();
        for class in &classes {
            let pick = rng.gen_range(0..positions.len());
            let at = positions.swap_remove(pick);
            out[at] = class[rng.gen_range(0..class.len())];
        }
    }
    let password = Zeroizing::new(out.iter().collect::<String>());
    out.iter_mut().for_each(|c| *c = '\0');
    Ok(password)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("db-pass_1"));
        assert!(is_valid_name(&"a".repeat(64)));
        assert!(!is_valid_name(&"a".repeat(65)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("名字"));
        assert!(matches!(
            parse_name(None, "name"),
            Err(CsmsError::MissingParameter("name"))
        ));
    }

    #[test]
    fn values() {
        let v = parse_value(Some("s3cret"), None).unwrap();
        assert!(!v.binary && v.bytes.as_slice() == b"s3cret");
        let v = parse_value(None, Some("AAEC")).unwrap();
        assert!(v.binary && v.bytes.as_slice() == [0, 1, 2]);
        assert!(parse_value(Some("a"), Some("AAEC")).is_err());
        assert!(parse_value(None, None).is_err());
        assert!(parse_value(None, Some("!!")).is_err());
        assert!(parse_value(Some(&"x".repeat(MAX_VALUE_BYTES + 1)), None).is_err());
        assert!(parse_value(Some(&"x".repeat(MAX_VALUE_BYTES)), None).is_ok());
    }

    #[test]
    fn secret_states() {
        let s = SecretState::Enabled.schedule_deletion().unwrap();
        assert_eq!(s, SecretState::PendingDelete);
        assert!(matches!(
            s.schedule_deletion(),
            Err(CsmsError::SecretPendingDeletion)
        ));
        assert!(matches!(
            s.check_usable(),
            Err(CsmsError::SecretPendingDeletionUnusable)
        ));
        assert_eq!(s.restore().unwrap(), SecretState::Enabled);
        assert!(matches!(
            SecretState::Enabled.restore(),
            Err(CsmsError::SecretNotPendingDeletion)
        ));
        assert_eq!(parse_recovery_days(None).unwrap(), 30);
        assert_eq!(parse_recovery_days(Some(7)).unwrap(), 7);
        assert!(parse_recovery_days(Some(6)).is_err());
        assert!(parse_recovery_days(Some(31)).is_err());
    }

    #[test]
    fn event_types() {
        let t =
            parse_event_types(Some(&["SECRET_DELETED".into(), "SECRET_ROTATED".into()])).unwrap();
        assert_eq!(t, vec![EventType::Deleted, EventType::Rotated]);
        assert!(parse_event_types(Some(&[])).is_err());
        assert!(parse_event_types(None).is_err());
        assert!(parse_event_types(Some(&["NOPE".into()])).is_err());
        assert!(
            parse_event_types(Some(&["SECRET_DELETED".into(), "SECRET_DELETED".into()])).is_err()
        );
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert!(parse_event_state(Some("ENABLED")).unwrap());
        assert!(!parse_event_state(Some("DISABLED")).unwrap());
        assert!(parse_event_state(Some("ON")).is_err());
    }

    #[test]
    fn targets() {
        let t = Target::parse(Some("SMN"), Some("urn:smn:x"), Some("topic")).unwrap();
        assert_eq!(t.delivery_url(&["http://".into()]), None);
        assert!(!t.is_url());
        let t = Target::parse(Some("SMN"), Some("http://127.0.0.1:9/hook"), Some("t")).unwrap();
        assert_eq!(
            t.delivery_url(&["http://127.0.0.1:".into()]),
            Some("http://127.0.0.1:9/hook")
        );
        assert_eq!(t.delivery_url(&["http://example.com/".into()]), None);
        // A raw prefix would let userinfo carry the request to another host.
        let bypass = Target::parse(Some("SMN"), Some("http://127.0.0.1:@evil.com/"), Some("t"));
        assert_eq!(
            bypass.unwrap().delivery_url(&["http://127.0.0.1:".into()]),
            None
        );
        assert_eq!(t.delivery_url(&[]), None);
        assert_eq!(t.delivery_url(&["".into()]), None);
        assert!(Target::parse(Some("SMN"), None, Some("t")).is_err());
        assert!(Target::parse(Some(""), Some("x"), Some("t")).is_err());
    }

    #[test]
    fn subscriptions_and_periods() {
        assert!(parse_subscriptions(None).unwrap().is_empty());
        assert_eq!(
            parse_subscriptions(Some(&["ev".into()])).unwrap(),
            vec!["ev"]
        );
        assert!(parse_subscriptions(Some(&["a".into(), "b".into()])).is_err());
        assert!(parse_subscriptions(Some(&["bad name".into()])).is_err());
        assert_eq!(parse_rotation_period("1d").unwrap(), 86_400);
        assert_eq!(parse_rotation_period("6h").unwrap(), 21_600);
        assert!(parse_rotation_period("5h").is_err());
        assert!(parse_rotation_period("366d").is_err());
        assert!(parse_rotation_period("d").is_err());
        assert!(parse_rotation_period("").is_err());
        assert_eq!(parse_secret_type(None).unwrap(), "COMMON");
        assert!(parse_secret_type(Some("RDS")).is_err());
    }
}

#[cfg(test)]
mod parse_props {
    use super::parse_rotation_period;

    #[test]
    fn rotation_period_ending_in_a_multibyte_character_is_rejected() {
        for raw in ["6天", "天", "1d天", "6h\u{1F600}", "é", "6\u{0301}"] {
            assert!(parse_rotation_period(raw).is_err(), "{raw:?}");
        }
    }
}

#[cfg(test)]
mod password_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn passwords_follow_the_policy() {
        let p = generate_password(&PasswordRequest::default(), &Rng::seeded(1)).unwrap();
        assert_eq!(p.chars().count(), 32);
        assert!(!p.contains(' '));
        let req = PasswordRequest {
            length: Some(64),
            exclude_punctuation: Some(true),
            exclude_uppercase: Some(true),
            exclude_characters: Some("abc".into()),
            require_each_included_type: Some(true),
            ..Default::default()
        };
        let p = generate_password(&req, &Rng::seeded(1)).unwrap();
        assert!(p
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(!p.contains(['a', 'b', 'c']));
        assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_lowercase()));
        let spaced = PasswordRequest {
            length: Some(MAX_PASSWORD),
            include_space: Some(true),
            ..Default::default()
        };
        assert!(generate_password(&spaced, &Rng::seeded(1))
            .unwrap()
            .contains(' '));
        for bad in [7, 4097] {
            let r = PasswordRequest {
                length: Some(bad),
                ..Default::default()
            };
            assert!(generate_password(&r, &Rng::seeded(1)).is_err());
        }
        let nothing = PasswordRequest {
            exclude_lowercase: Some(true),
            exclude_uppercase: Some(true),
            exclude_numbers: Some(true),
            exclude_punctuation: Some(true),
            ..Default::default()
        };
        assert!(generate_password(&nothing, &Rng::seeded(1)).is_err());
    }
}
