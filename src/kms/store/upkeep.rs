//! Reads over a project's key records and their upkeep: the key list and
//! count, counting records written before keys were counted, and the version
//! history of a key (the startup migration of old-shape records is
//! `upgrade.rs`).

use super::keys::{KeyRecord, KEYS, KEY_COUNT};
use super::versions;
use crate::kms::error::KmsError;
use crate::store::counts;
use crate::store::{Tx, TxExt};

/// The project's keys that count against its quota (default keys do not).
pub fn count(tx: &mut dyn Tx, project: &str) -> Result<u64, KmsError> {
    Ok(counts::get(tx, KEY_COUNT, project)?)
}

/// All keys of a project, oldest first.
pub fn list(tx: &mut dyn Tx, project: &str) -> Result<Vec<KeyRecord>, KmsError> {
    let mut keys: Vec<KeyRecord> = tx
        .scan_json::<KeyRecord>(KEYS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, k)| k.upgraded())
        .collect();
    keys.sort_by(|a, b| (a.creation_ms, &a.key_id).cmp(&(b.creation_ms, &b.key_id)));
    Ok(keys)
}

/// The number and creation time of every version of `key`, oldest first.
pub fn version_history(tx: &mut dyn Tx, key: &KeyRecord) -> Result<Vec<(usize, i64)>, KmsError> {
    let older = key.version_count.saturating_sub(1);
    let mut out: Vec<(usize, i64)> = if key.legacy_versions.is_empty() {
        versions::list(tx, &key.project_id, &key.key_id)?
            .into_iter()
            .filter(|(i, _)| *i < older)
            .map(|(i, v)| (i, v.created_ms))
            .collect()
    } else {
        let legacy = key.legacy_versions.iter().take(older);
        legacy.map(|v| v.created_ms).enumerate().collect()
    };
    if let (Some(index), Some(version)) = (key.current_index(), &key.current) {
        out.push((index, version.created_ms));
    }
    Ok(out)
}

/// Computes the key counts of keys stored before they were counted (once).
pub fn count_existing(tx: &mut dyn Tx) -> Result<usize, KmsError> {
    Ok(counts::rebuild(tx, KEY_COUNT, KEYS, |row, bytes| {
        let key: KeyRecord = serde_json::from_slice(bytes).ok()?;
        (!key.default_key)
            .then(|| counts::project_prefix(row))
            .flatten()
    })?)
}
