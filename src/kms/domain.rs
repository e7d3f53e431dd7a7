//! KMS rules with no I/O: key specs and usages, the key state machine, and
//! the validation of every identifier and text field.

use super::error::KmsError;
use serde::{Deserialize, Serialize};

/// Key states as the API numbers them. (State 1, "pending activation", is
/// listed by the cloud but never reached through the public API.)
// Serialized only into our own storage records, never onto the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
    Frozen,
}

impl KeyState {
    pub fn code(self) -> &'static str {
        match self {
            KeyState::Enabled => "2",
            KeyState::Disabled => "3",
            KeyState::PendingDeletion => "4",
            KeyState::PendingImport => "5",
            KeyState::Frozen => "7",
        }
    }

    pub fn parse_filter(raw: &str) -> Result<Self, KmsError> {
        Ok(match raw {
            "2" => KeyState::Enabled,
            "3" => KeyState::Disabled,
            "4" => KeyState::PendingDeletion,
            "5" => KeyState::PendingImport,
            "7" => KeyState::Frozen,
            _ => return Err(KmsError::InvalidParameter("key_state")),
        })
    }

    pub fn enable(self) -> Result<Self, KmsError> {
        match self {
            KeyState::Disabled => Ok(KeyState::Enabled),
            KeyState::PendingDeletion => Err(KmsError::KeyPendingDeletionUnusable),
            KeyState::Frozen => Err(KmsError::KeyFrozen),
            KeyState::Enabled | KeyState::PendingImport => Err(KmsError::KeyNotDisabled),
        }
    }

    pub fn disable(self) -> Result<Self, KmsError> {
        match self {
            KeyState::Enabled => Ok(KeyState::Disabled),
            KeyState::PendingDeletion => Err(KmsError::KeyPendingDeletionUnusable),
            KeyState::Frozen => Err(KmsError::KeyFrozen),
            KeyState::Disabled | KeyState::PendingImport => Err(KmsError::KeyNotEnabled),
        }
    }

    pub fn schedule_deletion(self) -> Result<Self, KmsError> {
        match self {
            KeyState::Enabled | KeyState::Disabled | KeyState::PendingImport => {
                Ok(KeyState::PendingDeletion)
            }
            KeyState::PendingDeletion => Err(KmsError::KeyAlreadyPendingDeletion),
            KeyState::Frozen => Err(KmsError::KeyFrozen),
        }
    }

    /// A cancelled deletion leaves the key disabled, as the cloud does: the
    /// owner re-enables it deliberately.
    pub fn cancel_deletion(self) -> Result<Self, KmsError> {
        match self {
            KeyState::PendingDeletion => Ok(KeyState::Disabled),
            _ => Err(KmsError::KeyNotPendingDeletion),
        }
    }

    /// Metadata (description, alias) may change unless deletion is pending or the key is frozen.
    pub fn check_editable(self) -> Result<(), KmsError> {
        match self {
            KeyState::PendingDeletion => Err(KmsError::KeyPendingDeletionUnusable),
            KeyState::Frozen => Err(KmsError::KeyFrozen),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeySpec {
    Aes256,
    Sm4,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcP256,
    EcP384,
    Secp256k1,
    Sm2,
    Ed25519,
    Hmac256,
    Hmac384,
    Hmac512,
    HmacSm3,
    /// Data key pairs only (CreateEcDatakeyPair): CreateKey does not offer it,
    /// so it is left out of `ALL_SPECS` and never parses as a CMK spec.
    EcP521,
}

pub const ALL_SPECS: [KeySpec; 14] = [
    KeySpec::Aes256,
    KeySpec::Sm4,
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EcP256,
    KeySpec::EcP384,
    KeySpec::Secp256k1,
    KeySpec::Sm2,
    KeySpec::Ed25519,
    KeySpec::Hmac256,
    KeySpec::Hmac384,
    KeySpec::Hmac512,
    KeySpec::HmacSm3,
];

impl KeySpec {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Aes256 => "AES_256",
            KeySpec::Sm4 => "SM4",
            KeySpec::Rsa2048 => "RSA_2048",
            KeySpec::Rsa3072 => "RSA_3072",
            KeySpec::Rsa4096 => "RSA_4096",
            KeySpec::EcP256 => "EC_P256",
            KeySpec::EcP384 => "EC_P384",
            KeySpec::Secp256k1 => "SECP256K1",
            KeySpec::Sm2 => "SM2",
            KeySpec::Ed25519 => "ED25519",
            KeySpec::Hmac256 => "HMAC_256",
            KeySpec::Hmac384 => "HMAC_384",
            KeySpec::Hmac512 => "HMAC_512",
            KeySpec::HmacSm3 => "HMAC_SM3",
            KeySpec::EcP521 => "EC_P521",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, KmsError> {
        ALL_SPECS
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or(KmsError::InvalidParameter("key_spec"))
    }

    pub fn is_symmetric(self) -> bool {
        matches!(self, KeySpec::Aes256 | KeySpec::Sm4)
    }

    pub fn is_hmac(self) -> bool {
        matches!(
            self,
            KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 | KeySpec::HmacSm3
        )
    }

    /// Asymmetric specs whose private key may be imported: those the cloud's
    /// import documentation lists (RSA, NIST P-256/P-384, SM2).
    pub fn imports_private_key(self) -> bool {
        use KeySpec::*;
        matches!(self, Rsa2048 | Rsa3072 | Rsa4096 | EcP256 | EcP384 | Sm2)
    }

    pub fn default_usage(self) -> KeyUsage {
        if self.is_symmetric() {
            KeyUsage::EncryptDecrypt
        } else if self.is_hmac() {
            KeyUsage::GenerateVerifyMac
        } else {
            KeyUsage::SignVerify
        }
    }

    pub fn allows(self, usage: KeyUsage) -> bool {
        use KeySpec::*;
        match usage {
            KeyUsage::EncryptDecrypt => {
                matches!(self, Aes256 | Sm4 | Rsa2048 | Rsa3072 | Rsa4096 | Sm2)
            }
            KeyUsage::SignVerify => matches!(
                self,
                Rsa2048 | Rsa3072 | Rsa4096 | EcP256 | EcP384 | Secp256k1 | Sm2 | Ed25519
            ),
            KeyUsage::GenerateVerifyMac => self.is_hmac(),
            // DeriveSharedSecret's page: ECDH with EC_P256, EC_P384, SECP256K1 or SM2 keys.
            KeyUsage::KeyAgreement => matches!(self, EcP256 | EcP384 | Secp256k1 | Sm2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyUsage {
    EncryptDecrypt,
    SignVerify,
    GenerateVerifyMac,
    /// Not in the SDK's CreateKey docstring, but DeriveSharedSecret's page
    /// requires it ("仅支持key_usage为KEY_AGREEMENT的密钥进行操作").
    KeyAgreement,
}

impl KeyUsage {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::EncryptDecrypt => "ENCRYPT_DECRYPT",
            KeyUsage::SignVerify => "SIGN_VERIFY",
            KeyUsage::GenerateVerifyMac => "GENERATE_VERIFY_MAC",
            KeyUsage::KeyAgreement => "KEY_AGREEMENT",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, KmsError> {
        match raw {
            "ENCRYPT_DECRYPT" => Ok(KeyUsage::EncryptDecrypt),
            "SIGN_VERIFY" => Ok(KeyUsage::SignVerify),
            "GENERATE_VERIFY_MAC" => Ok(KeyUsage::GenerateVerifyMac),
            "KEY_AGREEMENT" => Ok(KeyUsage::KeyAgreement),
            _ => Err(KmsError::InvalidParameter("key_usage")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    Kms,
    External,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Kms => "kms",
            Origin::External => "external",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, KmsError> {
        match raw {
            "kms" => Ok(Origin::Kms),
            "external" => Ok(Origin::External),
            _ => Err(KmsError::InvalidParameter("origin")),
        }
    }

    /// Imported keys wait for their material; generated keys start enabled.
    pub fn initial_state(self) -> KeyState {
        match self {
            Origin::Kms => KeyState::Enabled,
            Origin::External => KeyState::PendingImport,
        }
    }
}

/// `^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$`
pub fn parse_key_id(raw: Option<&str>) -> Result<String, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("key_id"))?;
    let groups: Vec<&str> = raw.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups.iter().zip(lens).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidKeyId)
    }
}

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

pub fn parse_description(raw: Option<&str>) -> Result<String, KmsError> {
    let text = raw.unwrap_or("");
    if text.chars().count() > 255 {
        return Err(KmsError::InvalidDescription);
    }
    Ok(text.to_owned())
}

/// The optional `sequence`: a 36-byte request serial number.
pub fn check_sequence(raw: Option<&str>) -> Result<(), KmsError> {
    match raw {
        Some(s) if s.len() != 36 => Err(KmsError::InvalidSequence),
        _ => Ok(()),
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

/// Default keys are made by services, named `<service>/default`.
pub fn is_default_alias(alias: &str) -> bool {
    alias.ends_with(DEFAULT_SUFFIX)
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
        let keystore_id = keystore_id.unwrap_or("0");
        if keystore_id != "0" {
            return Err(KmsError::InvalidParameter("keystore_id"));
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use KeyState::*;

    #[test]
    fn state_transition_table() {
        let all = [Enabled, Disabled, PendingDeletion, PendingImport, Frozen];
        type Op = fn(KeyState) -> Result<KeyState, KmsError>;
        let ops: [(&str, Op, [Option<KeyState>; 5]); 4] = [
            (
                "enable",
                KeyState::enable,
                [None, Some(Enabled), None, None, None],
            ),
            (
                "disable",
                KeyState::disable,
                [Some(Disabled), None, None, None, None],
            ),
            (
                "schedule",
                KeyState::schedule_deletion,
                [
                    Some(PendingDeletion),
                    Some(PendingDeletion),
                    None,
                    Some(PendingDeletion),
                    None,
                ],
            ),
            (
                "cancel",
                KeyState::cancel_deletion,
                [None, None, Some(Disabled), None, None],
            ),
        ];
        for (name, op, expected) in ops {
            for (from, want) in all.into_iter().zip(expected) {
                assert_eq!(op(from).ok(), want, "{name} from {from:?}");
            }
        }
    }

    #[test]
    fn refusals_use_the_cloud_codes() {
        let code = |r: Result<KeyState, KmsError>| r.unwrap_err().status_and_code().1;
        assert_eq!(code(Enabled.enable()), "KMS.1201");
        assert_eq!(code(Disabled.disable()), "KMS.1301");
        assert_eq!(code(PendingDeletion.schedule_deletion()), "KMS.1402");
        assert_eq!(code(Enabled.cancel_deletion()), "KMS.1501");
        assert_eq!(code(PendingDeletion.enable()), "KMS.0210");
    }

    #[test]
    fn editable_states() {
        assert!(Enabled.check_editable().is_ok());
        assert!(Disabled.check_editable().is_ok());
        assert!(PendingImport.check_editable().is_ok());
        assert!(PendingDeletion.check_editable().is_err());
        assert!(Frozen.check_editable().is_err());
    }

    #[test]
    fn key_id_format() {
        assert!(parse_key_id(Some("0d0466b0-e727-4d9c-b35d-f84bb474a37f")).is_ok());
        for bad in [
            "0D0466B0-E727-4D9C-B35D-F84BB474A37F",
            "0d0466b0e7274d9cb35df84bb474a37f",
            "0d0466b0-e727-4d9c-b35d-f84bb474a37",
            "",
            "../../etc",
        ] {
            assert!(
                matches!(parse_key_id(Some(bad)), Err(KmsError::InvalidKeyId)),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_key_id(None),
            Err(KmsError::MissingParameter(_))
        ));
    }

    #[test]
    fn alias_rules() {
        assert!(parse_alias("app:key/one_two-3").is_ok());
        assert!(parse_alias(&"a".repeat(255)).is_ok());
        for bad in ["", "has space", "ü", "kms/default", "x/default"] {
            assert!(parse_alias(bad).is_err(), "{bad}");
        }
        assert!(parse_alias(&"a".repeat(256)).is_err());
    }

    #[test]
    fn description_pending_days_and_sequence() {
        assert!(parse_description(Some(&"描".repeat(255))).is_ok());
        assert!(parse_description(Some(&"d".repeat(256))).is_err());
        assert_eq!(parse_description(None).unwrap(), "");
        assert_eq!(parse_pending_days(Some("7")).unwrap(), 7);
        assert_eq!(parse_pending_days(Some("1096")).unwrap(), 1096);
        for bad in ["6", "1097", "x", "-7"] {
            assert!(matches!(
                parse_pending_days(Some(bad)),
                Err(KmsError::InvalidPendingDays)
            ));
        }
        assert!(check_sequence(Some("919c82d4-8046-4722-9094-35c3c6524cff")).is_ok());
        assert!(check_sequence(Some("short")).is_err());
        assert!(check_sequence(None).is_ok());
    }

    #[test]
    fn create_validation() {
        let ok = NewKey::validate(Some("a"), None, None, None, None, None, None, None).unwrap();
        assert_eq!(
            (ok.spec, ok.usage, ok.origin),
            (KeySpec::Aes256, KeyUsage::EncryptDecrypt, Origin::Kms)
        );
        let ext = NewKey::validate(
            Some("a"),
            Some("AES_256"),
            None,
            None,
            Some("external"),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(ext.origin.initial_state(), KeyState::PendingImport);
        let external = |spec: &str| {
            NewKey::validate(
                Some("a"),
                Some(spec),
                Some("SIGN_VERIFY"),
                None,
                Some("external"),
                None,
                None,
                None,
            )
        };
        for spec in ["RSA_2048", "RSA_4096", "EC_P256", "EC_P384", "SM2"] {
            assert!(external(spec).is_ok(), "{spec}");
        }
        for spec in ["ED25519", "SECP256K1"] {
            assert!(external(spec).is_err(), "{spec}");
        }
        assert!(matches!(
            NewKey::validate(None, None, None, None, None, None, None, None),
            Err(KmsError::MissingParameter(_))
        ));
        assert!(matches!(
            NewKey::validate(
                Some("a"),
                Some("AES_256"),
                Some("SIGN_VERIFY"),
                None,
                None,
                None,
                None,
                None
            ),
            Err(KmsError::UsageMismatch)
        ));
        assert!(matches!(
            NewKey::validate(Some("a/default"), None, None, None, None, None, None, None),
            Err(KmsError::InvalidAlias)
        ));
        assert!(
            NewKey::validate(Some("a"), None, None, None, Some("cloud"), None, None, None).is_err()
        );
        assert!(
            NewKey::validate(Some("a"), None, None, None, None, None, None, Some("bad")).is_err()
        );
    }

    #[test]
    fn spec_usage_compatibility() {
        assert_eq!(
            KeySpec::parse("AES_256").unwrap().default_usage(),
            KeyUsage::EncryptDecrypt
        );
        assert_eq!(
            KeySpec::parse("EC_P256").unwrap().default_usage(),
            KeyUsage::SignVerify
        );
        assert_eq!(
            KeySpec::parse("HMAC_SM3").unwrap().default_usage(),
            KeyUsage::GenerateVerifyMac
        );
        assert!(KeySpec::Rsa2048.allows(KeyUsage::EncryptDecrypt));
        assert!(!KeySpec::Aes256.allows(KeyUsage::SignVerify));
        assert!(!KeySpec::Ed25519.allows(KeyUsage::EncryptDecrypt));
        assert!(KeySpec::parse("DES").is_err());
        for s in ALL_SPECS {
            assert_eq!(KeySpec::parse(s.as_str()).unwrap(), s);
            assert!(s.allows(s.default_usage()));
        }
    }

    #[test]
    fn key_agreement_is_for_ec_curves_only() {
        assert_eq!(
            KeyUsage::parse("KEY_AGREEMENT").unwrap().as_str(),
            "KEY_AGREEMENT"
        );
        for s in ALL_SPECS {
            let ec = matches!(
                s,
                KeySpec::EcP256 | KeySpec::EcP384 | KeySpec::Secp256k1 | KeySpec::Sm2
            );
            assert_eq!(s.allows(KeyUsage::KeyAgreement), ec, "{s:?}");
        }
    }

    #[test]
    fn pin_types() {
        assert_eq!(check_pin_type(None).unwrap(), PinType::CipherText);
        assert_eq!(
            check_pin_type(Some("PlainText")).unwrap(),
            PinType::PlainText
        );
        assert!(check_pin_type(Some("plaintext")).is_err());
        assert!(check_pin_type(Some("")).is_err());
    }
}
