//! The one way a cryptographic operation gets at a key: read the record (its
//! state is always read from the database, so every node sees a disable or a
//! scheduled deletion at once), check it may be used, and unseal a version.
//!
//! Unsealed material is kept in a small in-process cache keyed by the key id
//! and the *sealed* bytes of the version. Sealed bytes are immutable: a new or
//! re-imported version is sealed afresh (new nonce), so it can never hit an old
//! entry. The cache therefore needs no invalidation, on this node or any other.

use super::cipher;
use super::domain::KeyUsage;
use super::error::KmsError;
use super::grants;
use super::store::{self, KeyRecord};
use crate::auth::Caller;
use crate::server::state::AppState;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use zeroize::Zeroizing;

pub type Material = Arc<Zeroizing<Vec<u8>>>;

/// Entries beyond this empty the cache (keys are few; this only bounds memory).
const CACHE_LIMIT: usize = 4096;

/// Sealed bytes → (key id, material). Looked up by the sealed bytes alone so
/// that a hit allocates nothing; the key id is checked on the hit.
type Cache = HashMap<Vec<u8>, (String, Material)>;

fn cache() -> &'static RwLock<Cache> {
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

pub async fn load(app: &AppState, project: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
    let (project, key_id) = (project.to_owned(), key_id.to_owned());
    app.db
        .read(move |tx| store::load(tx, &project, &key_id))
        .await
}

/// The key `caller` may use for `operation` (its own project's, or another
/// project's through a grant: `grants::load_for`), if it may be used for
/// `usage` now.
pub async fn usable_for(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
    operation: &'static str,
    usage: KeyUsage,
) -> Result<KeyRecord, KmsError> {
    let key = grants::load_for(app, caller, key_id, operation).await?;
    cipher::check_usable(&key, usage)?;
    Ok(key)
}

/// The key a ciphertext names (rather than the caller), as `caller` may use
/// it for `operation`. A key the caller may not see makes the ciphertext
/// `invalid`, exactly like a forged one, so a stolen blob tells nothing about
/// other projects' keys; a grantee refused the operation still learns 403.
pub async fn named_by_blob(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
    operation: &'static str,
    invalid: KmsError,
) -> Result<KeyRecord, KmsError> {
    grants::load_for(app, caller, key_id, operation)
        .await
        .map_err(|e| hidden_as(e, invalid))
}

/// `KeyNotFound` reads as `invalid`; every other refusal stands.
pub fn hidden_as(e: KmsError, invalid: KmsError) -> KmsError {
    match e {
        KmsError::KeyNotFound => invalid,
        other => other,
    }
}

/// The plaintext material of version `index`.
pub fn material(app: &AppState, key: &KeyRecord, index: usize) -> Result<Material, KmsError> {
    let version = key.versions.get(index).ok_or(KmsError::InvalidCiphertext)?;
    if let Ok(map) = cache().read() {
        if let Some((key_id, m)) = map.get(version.sealed.as_slice()) {
            if *key_id == key.key_id {
                return Ok(m.clone());
            }
        }
    }
    let opened: Material = Arc::new(cipher::open_version(&app.keyring, key, version)?);
    if let Ok(mut map) = cache().write() {
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(version.sealed.clone(), (key.key_id.clone(), opened.clone()));
    }
    Ok(opened)
}

/// The newest version's index and material (the one that encrypts and signs).
pub fn newest(app: &AppState, key: &KeyRecord) -> Result<(usize, Material), KmsError> {
    let index = key
        .versions
        .len()
        .checked_sub(1)
        .ok_or(KmsError::KeyNotEnabled)?;
    Ok((index, material(app, key, index)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unseen_key_is_hidden_behind_the_ciphertext_error() {
        assert!(matches!(
            hidden_as(KmsError::KeyNotFound, KmsError::InvalidCiphertext),
            KmsError::InvalidCiphertext
        ));
        assert!(matches!(
            hidden_as(KmsError::KeyNotFound, KmsError::InvalidDatakeyCiphertext),
            KmsError::InvalidDatakeyCiphertext
        ));
        assert!(matches!(
            hidden_as(KmsError::NoKeyPermission, KmsError::InvalidCiphertext),
            KmsError::NoKeyPermission
        ));
        assert!(matches!(
            hidden_as(KmsError::KeyNotEnabled, KmsError::InvalidCiphertext),
            KmsError::KeyNotEnabled
        ));
    }
}
