//! Whether a key may be used for a purpose right now.

use super::key::{KeyState, KeyUsage};
use crate::kms::error::KmsError;
use crate::kms::store::KeyRecord;

/// The key must be enabled and made for `usage`; otherwise the cloud's refusal.
pub fn check_usable(key: &KeyRecord, usage: KeyUsage) -> Result<(), KmsError> {
    match key.key_state {
        KeyState::Enabled => {}
        KeyState::Disabled => return Err(KmsError::KeyDisabled),
        KeyState::PendingDeletion => return Err(KmsError::KeyPendingDeletionUnusable),
        KeyState::PendingImport => return Err(KmsError::KeyNotEnabled),
        KeyState::Frozen => return Err(KmsError::KeyFrozen),
    }
    if key.key_usage != usage {
        return Err(KmsError::InvalidParameter("key_usage"));
    }
    Ok(())
}
