#![allow(clippy::unwrap_used)]
use super::*;
use crate::kms::error::KmsError;
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
fn base64_fields_name_themselves_when_missing_or_malformed() {
    assert_eq!(base64_field(Some(" QUJD\n"), "mac").unwrap(), b"ABC");
    assert!(matches!(
        base64_field(None, "mac"),
        Err(KmsError::MissingParameter("mac"))
    ));
    for bad in ["QUJ", "QR==", "QU JD", "-_-_", "not base64!"] {
        assert!(
            matches!(
                base64_field(Some(bad), "signature"),
                Err(KmsError::InvalidParameter("signature"))
            ),
            "{bad}"
        );
    }
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
    // Cloud Custodian's `uuid4().hex`, which the cloud accepts.
    assert!(check_sequence(Some("919c82d480464722909435c3c6524cff")).is_ok());
    assert!(check_sequence(Some(&"a".repeat(37))).is_err());
    assert!(check_sequence(Some("919c82d4 8046 4722 9094 35c3c6524cff")).is_err());
    assert!(check_sequence(Some("")).is_err());
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
    assert!(NewKey::validate(Some("a"), None, None, None, None, None, None, Some("bad")).is_err());
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

#[test]
fn alias_quota_per_key_and_per_project() {
    use super::limits::*;
    assert!(check_alias_quota(ALIASES_PER_KEY - 1, ALIASES_PER_PROJECT - 1, true).is_ok());
    let code = |r: Result<(), KmsError>| r.unwrap_err().status_and_code().1;
    assert_eq!(
        code(check_alias_quota(ALIASES_PER_KEY, 0, true)),
        "KMS.9001"
    );
    assert_eq!(
        code(check_alias_quota(0, ALIASES_PER_PROJECT, true)),
        "KMS.9001"
    );
    // Moving an existing alias does not grow the project.
    assert!(check_alias_quota(0, ALIASES_PER_PROJECT, false).is_ok());
    assert!(check_alias_quota(ALIASES_PER_KEY, 0, false).is_err());
}
