//! The vocabulary of keys: specs, usages, origins and the key state machine.

use crate::kms::error::KmsError;
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

    /// Specs whose key generation takes long enough (RSA: up to seconds)
    /// to be bounded per node (`api::keygen`).
    pub fn is_expensive(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
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
