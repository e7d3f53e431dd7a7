//! Rules of imported key material: which keys accept an import, when it
//! expires, and what removing it does to a key. (How long material must be
//! is checked where the upload is unwrapped, `crypto/import_token.rs`.)

use super::key::{KeyState, Origin};
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;

/// Only an external key waiting for its material takes an import.
pub fn check_importable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.origin != Origin::External {
        return Err(KmsError::ExternalKeyRequired);
    }
    if key.key_state != KeyState::PendingImport {
        return Err(KmsError::KeyNotPendingImport);
    }
    Ok(())
}

/// `expiration_time` (seconds since the epoch): absent, or in the future.
pub fn parse_expiration(raw: Option<&str>, now_ms: i64) -> Result<Option<i64>, KmsError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            let secs: i64 = s
                .trim()
                .parse()
                .map_err(|_| KmsError::InvalidParameter("expiration_time"))?;
            let ms = secs.saturating_mul(1000);
            if ms <= now_ms {
                return Err(KmsError::ImportExpirationPast);
            }
            Ok(Some(ms))
        }
    }
}

/// A re-import must bring the material first imported (same fingerprint).
pub fn accept_fingerprint(key: &mut KeyRecord, print: &str) -> Result<(), KmsError> {
    match &key.admin.material_fingerprint {
        Some(old) if old != print => Err(KmsError::ImportMaterialMismatch),
        _ => {
            key.admin.material_fingerprint = Some(print.to_owned());
            Ok(())
        }
    }
}

/// DeleteImportedKeyMaterial: only external keys holding material.
pub fn check_material_deletable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.origin != Origin::External {
        return Err(KmsError::ExternalKeyRequired);
    }
    if !matches!(key.key_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(KmsError::MaterialNotDeletable);
    }
    Ok(())
}

/// Removes imported material: the key waits for an import again.
pub fn drop_material(key: &mut KeyRecord) {
    key.replace_versions(None);
    key.expiration_ms = None;
    if matches!(key.key_state, KeyState::Enabled | KeyState::Disabled) {
        key.key_state = KeyState::PendingImport;
    }
}
