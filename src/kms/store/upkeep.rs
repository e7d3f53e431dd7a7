//! Upkeep of key records: the startup migration of records written before
//! versions had rows of their own or counted, and the version history of a key.

use super::keys::{save, KeyRecord, KEYS, KEY_COUNT};
use super::versions;
use crate::kms::error::KmsError;
use crate::store::counts;
use crate::store::Tx;

/// One step of the startup migration: gives the older versions of records
/// written before versions had rows their own rows, for up to `limit`
/// records after `after`. Returns where to go on from (`None`: done) and
/// how many records changed. A record found already migrated is left alone,
/// so several nodes may run this at once.
pub fn upgrade_records(
    tx: &mut dyn Tx,
    after: Option<&str>,
    limit: usize,
) -> Result<(Option<String>, usize), KmsError> {
    let page = tx.scan(KEYS, "", after, limit)?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|(k, _)| k.clone()))
        .flatten();
    let mut changed = 0;
    for (row, bytes) in page {
        let Ok(record) = serde_json::from_slice::<KeyRecord>(&bytes) else {
            // Requests naming it fail as before; one bad record must not
            // keep the whole service from starting.
            tracing::warn!(record = %row, "key record does not decode; not migrated");
            continue;
        };
        if !record.legacy_versions.is_empty() {
            save(tx, &record.upgraded())?;
            changed += 1;
        }
    }
    Ok((next, changed))
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
