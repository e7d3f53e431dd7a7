//! Reads over a project's key records and their upkeep: the key list and
//! count, counting and indexing records written before keys were counted or
//! indexed, and the version history of a key (the startup migration of
//! old-shape records is `upgrade.rs`).

use super::key_order::{self, Listed, ORDER, TALLY};
use super::keys::{find, KeyRecord, KEYS, KEY_COUNT};
use super::versions;
use crate::kms::domain::{KeySpec, KeyState};
use crate::kms::error::KmsError;
use crate::store::counts;
use crate::store::{Tx, TxExt};

const MARKS: &str = "kms_migrations";
const LISTED: &str = "keys_listed";

impl KeyRecord {
    /// What the list index and tally keep of this key (`key_order.rs`);
    /// `keys::save` and `purge` hand it over.
    pub fn listed(&self) -> Listed<'_> {
        Listed {
            project: &self.project_id,
            key_id: &self.key_id,
            spec: self.key_spec,
            state: self.key_state,
            created_ms: self.creation_ms,
            keystore_id: &self.keystore_id,
        }
    }
}

/// One page of a project's keys in ListKeys' order (oldest first, then key
/// id), filtered by spec and state, and how many match in all. Reads the
/// page's records and index rows, never the project's other records.
pub fn list_page(
    tx: &mut dyn Tx,
    project: &str,
    spec: Option<KeySpec>,
    state: Option<KeyState>,
    offset: usize,
    limit: usize,
) -> Result<(Vec<KeyRecord>, u64), KmsError> {
    let total = key_order::total(tx, project, spec, state)?;
    let ids = key_order::page_ids(tx, project, spec, state, offset, limit)?;
    let mut page = Vec::with_capacity(ids.len());
    for id in ids {
        // The index and the records commit together: a missing record is
        // a damaged database, not a key to leave out silently.
        let key = find(tx, project, &id)?.ok_or_else(|| {
            KmsError::Internal(format!("key list index names a missing key {project}/{id}"))
        })?;
        page.push(key);
    }
    Ok((page, total))
}

/// A project's keys by state (every spec), from the tally.
pub fn count_by_state(tx: &mut dyn Tx, project: &str) -> Result<Vec<(String, u64)>, KmsError> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for (_, state, n) in key_order::tally(tx, project)? {
        match out.iter_mut().find(|(s, _)| *s == state) {
            Some((_, total)) => *total += n,
            None => out.push((state, n)),
        }
    }
    Ok(out)
}

/// How many keys a project's key store holds (DeleteKeyStore).
pub fn keys_in_keystore(tx: &mut dyn Tx, project: &str, keystore: &str) -> Result<u64, KmsError> {
    key_order::in_keystore(tx, project, keystore)
}

/// Builds the list index, the tally and the key store counts from the key
/// records stored before they existed, once: the done mark commits with
/// them, and a start that finds it reads nothing else. Returns how many
/// records were read (0 when done before).
pub fn index_existing(tx: &mut dyn Tx) -> Result<usize, KmsError> {
    if tx.get(MARKS, LISTED)?.is_some() {
        return Ok(0);
    }
    key_order::clear(tx, ORDER)?;
    key_order::clear(tx, TALLY)?;
    let (mut after, mut read) = (None::<String>, 0);
    loop {
        let page = tx.scan(KEYS, "", after.as_deref(), 1000)?;
        let done = page.len() < 1000;
        for (row, bytes) in page {
            read += 1;
            match serde_json::from_slice::<KeyRecord>(&bytes) {
                Ok(key) => key_order::moved(tx, None, Some(key.listed()))?,
                // Requests naming it fail as before; one bad record must
                // not keep the whole service from starting.
                Err(_) => tracing::warn!(record = %row, "key record does not decode; not listed"),
            }
            after = Some(row);
        }
        if done {
            break;
        }
    }
    // `moved` counted the keys of key stores too: no counter of
    // `IN_KEYSTORE` can predate this mark, since only this code moves it.
    tx.put(MARKS, LISTED, b"")?;
    Ok(read)
}

/// The project's keys that count against its quota (default keys do not).
pub fn count(tx: &mut dyn Tx, project: &str) -> Result<u64, KmsError> {
    Ok(counts::get(tx, KEY_COUNT, project)?)
}

/// All keys of a project, oldest first (tests and bounded internal reads
/// only: requests page through `list_page`).
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
