//! Key records (`kms_keys`, `project/key_id`), the `key_alias` index (`kms_aliases`,
//! `project/alias`) that makes aliases unique inside the transaction, the global owner
//! index (`kms_key_index`), the due-date indexes (`schedules.rs`) kept in step on every
//! save, and the rows of older versions (`versions.rs`). Every save trims the material
//! cache to what the key may still use (`key_cache`); a purge drops its versions, alias
//! resources, grants, import parameters and cached material.

use super::schedules::{self, DELETIONS, EXPIRIES, ROTATIONS};
use super::versions::{self, KeyVersion};
use crate::kms::domain::limits::{DAY_MS, DEFAULT_INTERVAL_DAYS, MAX_KEY_VERSIONS};
use crate::kms::domain::multi_region::{self, MultiRegion};
use crate::kms::domain::{KeySpec, KeyState, KeyUsage, Origin};
use crate::kms::error::KmsError;
use crate::store::{counts, DecodeCache, Tx, TxExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(super) const KEYS: &str = "kms_keys";
const ALIASES: &str = "kms_aliases";
/// Global `key_id → project_id`, so a grantee can find a key of another project.
const KEY_INDEX: &str = "kms_key_index";
/// Per project: its keys, default keys not counted (the CMK quota).
pub(super) const KEY_COUNT: &str = "kms_keys";

/// A key as stored. Each version's material is sealed under the root key with
/// the key id as associated data; it is never plaintext outside memory. The
/// record holds only the current version: older ones are rows of their own
/// (`versions.rs`), so its size does not grow with rotations.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct KeyRecord {
    pub key_id: String,
    pub project_id: String,
    pub domain_id: String,
    pub key_alias: String,
    pub key_description: String,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: Origin,
    pub key_state: KeyState,
    pub default_key: bool,
    pub creation_ms: i64,
    pub scheduled_deletion_ms: Option<i64>,
    pub expiration_ms: Option<i64>,
    pub enterprise_project_id: String,
    pub keystore_id: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The version that encrypts and signs, number `version_count - 1`;
    /// `None` while imported material is awaited.
    #[serde(default)]
    pub current: Option<KeyVersion>,
    /// How many versions the key has, the current one included.
    #[serde(default)]
    pub version_count: usize,
    /// Every version, oldest first, as records written before versions had
    /// rows of their own hold them. Read, never written: `find` takes the
    /// current version from it and `save` gives each older one its row.
    #[serde(default, rename = "versions", skip_serializing)]
    pub legacy_versions: Vec<KeyVersion>,
    /// Rotation schedule and import state.
    #[serde(default)]
    pub admin: KeyAdmin,
    /// The multi-region group it belongs to; `None`: a single-region key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<MultiRegion>,
}

/// Administration state of a key; absent in records written before it existed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyAdmin {
    #[serde(default)]
    pub rotation_enabled: bool,
    /// Days between scheduled rotations; `None` means the default.
    #[serde(default)]
    pub rotation_interval_days: Option<i64>,
    /// When rotation was (last) enabled: the schedule counts from here until a rotation happens.
    #[serde(default)]
    pub rotation_enabled_ms: Option<i64>,
    #[serde(default)]
    pub last_rotation_ms: Option<i64>,
    #[serde(default)]
    pub rotation_count: i64,
    /// Keyed hash of the first imported material: a re-import must bring the same material.
    #[serde(default)]
    pub material_fingerprint: Option<String>,
}

impl KeyAdmin {
    pub fn interval_days(&self) -> i64 {
        self.rotation_interval_days.unwrap_or(DEFAULT_INTERVAL_DAYS)
    }
}

impl KeyRecord {
    /// When the key is next rotated by the schedule: only enabled keys with
    /// rotation on are scheduled; the interval counts from the latest rotation
    /// (scheduled or on demand) or from when rotation was enabled.
    pub fn next_rotation_ms(&self) -> Option<i64> {
        let a = &self.admin;
        let full = self.version_count >= MAX_KEY_VERSIONS;
        if !a.rotation_enabled || self.key_state != KeyState::Enabled || full {
            return None;
        }
        let base = match (a.rotation_enabled_ms, a.last_rotation_ms) {
            (Some(e), Some(l)) => e.max(l),
            (Some(e), None) => e,
            (None, Some(l)) => l,
            (None, None) => self.creation_ms,
        };
        Some(base.saturating_add(a.interval_days().saturating_mul(DAY_MS)))
    }

    /// When imported material runs out, if it has an expiry and is present.
    pub fn material_expiry_ms(&self) -> Option<i64> {
        if self.origin != Origin::External || self.current.is_none() {
            return None;
        }
        self.expiration_ms
    }

    /// The number of the current version, if the key has material.
    pub fn current_index(&self) -> Option<usize> {
        self.current.as_ref()?;
        self.version_count.checked_sub(1)
    }

    /// Adds a version that encrypts from now on (rotation); `save` moves
    /// the one it replaces into its own row.
    pub fn push_version(&mut self, version: KeyVersion) {
        self.current = Some(version);
        self.version_count += 1;
    }

    /// Makes `version` the key's only version, or leaves it none (imported
    /// material installed or removed); `save` drops any older rows.
    pub fn replace_versions(&mut self, version: Option<KeyVersion>) {
        self.version_count = usize::from(version.is_some());
        self.current = version;
        self.legacy_versions.clear();
    }

    /// Version `index` if the record itself holds it: the current one, or
    /// an older one of a record written before versions had rows.
    pub fn version_in_record(&self, index: usize) -> Option<&KeyVersion> {
        if Some(index) == self.current_index() {
            return self.current.as_ref();
        }
        self.legacy_versions
            .get(index)
            .filter(|_| index < self.version_count)
    }

    /// A record as read: one written before versions had rows takes its
    /// current version and count from the versions it lists.
    pub(super) fn upgraded(mut self) -> Self {
        if self.current.is_none() && self.version_count == 0 {
            self.current = self.legacy_versions.last().cloned();
            self.version_count = self.legacy_versions.len();
        }
        self
    }
}

pub(super) fn key_of(project: &str, id: &str) -> String {
    crate::store::row_key([project, id])
}

/// Every cryptographic call reads its key; decoding the record is a large
/// share of that, so decoded records are reused while their bytes match.
static DECODED: DecodeCache<KeyRecord> = DecodeCache::new(KEYS);

pub fn find(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<Option<KeyRecord>, KmsError> {
    Ok(DECODED
        .get_json(tx, &key_of(project, key_id))?
        .map(KeyRecord::upgraded))
}

/// The key, or `KeyNotFound`: also for keys of other projects, which are
/// indistinguishable from keys that never existed.
pub fn load(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<KeyRecord, KmsError> {
    find(tx, project, key_id)?.ok_or(KmsError::KeyNotFound)
}

pub fn find_by_alias(
    tx: &mut dyn Tx,
    project: &str,
    alias: &str,
) -> Result<Option<KeyRecord>, KmsError> {
    let Some(id) = tx.get(ALIASES, &key_of(project, alias))? else {
        return Ok(None);
    };
    find(tx, project, &String::from_utf8_lossy(&id))
}

/// Inserts a new key; fails with `AliasExists` if the alias is taken.
pub fn insert(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    let alias_key = key_of(&key.project_id, &key.key_alias);
    if tx.get(ALIASES, &alias_key)?.is_some() {
        return Err(KmsError::AliasExists);
    }
    tx.put(ALIASES, &alias_key, key.key_id.as_bytes())?;
    save(tx, key)
}

/// Writes back a changed key, keeping the deletion index in step with its state.
pub fn save(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    let old = find(tx, &key.project_id, &key.key_id)?;
    if let Some(old) = &old {
        if let Some(due) = old.scheduled_deletion_ms {
            schedules::remove(tx, DELETIONS, due, &old.project_id, &old.key_id)?;
        }
    }
    reindex(tx, old.as_ref(), Some(key))?;
    super::key_order::moved(tx, old.as_ref().map(KeyRecord::listed), Some(key.listed()))?;
    store_versions(tx, old.as_ref(), key)?;
    follow(tx, old.as_ref(), key)?;
    if old.is_none() {
        index_owner(tx, key)?;
        if !key.default_key {
            counts::add(tx, KEY_COUNT, &key.project_id, 1)?;
        }
    }
    if let (KeyState::PendingDeletion, Some(due)) = (key.key_state, key.scheduled_deletion_ms) {
        schedules::add(tx, DELETIONS, due, &key.project_id, &key.key_id)?;
    }
    tx.put_json(KEYS, &key_of(&key.project_id, &key.key_id), key)?;
    let usable = key
        .current
        .as_ref()
        .filter(|_| key.key_state == KeyState::Enabled);
    crate::kms::key_cache::keep_only(&key.key_id, usable.map(|v| v.sealed.as_slice()));
    Ok(())
}

pub fn rename(tx: &mut dyn Tx, key: &mut KeyRecord, new_alias: String) -> Result<(), KmsError> {
    if new_alias == key.key_alias {
        return Ok(());
    }
    let new_key = key_of(&key.project_id, &new_alias);
    if tx.get(ALIASES, &new_key)?.is_some() {
        return Err(KmsError::AliasExists);
    }
    tx.delete(ALIASES, &key_of(&key.project_id, &key.key_alias))?;
    tx.put(ALIASES, &new_key, key.key_id.as_bytes())?;
    key.key_alias = new_alias;
    save(tx, key)
}

/// Removes a key, its alias, its alias resources and its index entries for good.
pub fn purge(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    let stored = find(tx, &key.project_id, &key.key_id)?;
    super::key_order::moved(tx, stored.as_ref().map(KeyRecord::listed), None)?;
    tx.delete(ALIASES, &key_of(&key.project_id, &key.key_alias))?;
    if let Some(due) = key.scheduled_deletion_ms {
        schedules::remove(tx, DELETIONS, due, &key.project_id, &key.key_id)?;
    }
    if tx.delete(KEYS, &key_of(&key.project_id, &key.key_id))? && !key.default_key {
        counts::add(tx, KEY_COUNT, &key.project_id, -1)?;
    }
    reindex(tx, Some(key), None)?;
    super::grants::purge_key(tx, &key.project_id, &key.key_id)?;
    super::imports::forget(tx, &key.project_id, &key.key_id)?;
    super::aliases::remove_for_key(tx, &key.project_id, &key.key_id)?;
    versions::purge(tx, &key.project_id, &key.key_id)?;
    tx.delete(KEY_INDEX, &key.key_id)?;
    crate::kms::key_cache::keep_only(&key.key_id, None);
    leave(tx, key)
}

/// Keeps the version rows in step with a key going from `old` to `new`.
/// Versions are added one at a time (rotation: the version that was current
/// gets its row) or replaced wholesale (imported material installed or
/// removed: older rows go); anything else would lose material, so it fails.
fn store_versions(
    tx: &mut dyn Tx,
    old: Option<&KeyRecord>,
    new: &KeyRecord,
) -> Result<(), KmsError> {
    let (project, id) = (&new.project_id, &new.key_id);
    let older = new.version_count.saturating_sub(1);
    for (index, version) in new.legacy_versions.iter().enumerate().take(older) {
        versions::put(tx, project, id, index, version)?;
    }
    let before = old.map_or(0, |o| o.version_count);
    match new.version_count {
        n if n == before => Ok(()),
        n if n == before + 1 => {
            match old.and_then(|o| Some((o.current_index()?, o.current.as_ref()?))) {
                Some((index, version)) => versions::put(tx, project, id, index, version),
                None => Ok(()),
            }
        }
        0 | 1 => versions::purge(tx, project, id),
        // A new record arriving with all its versions (a replica): the
        // older ones got their rows just above.
        _ if old.is_none() && new.legacy_versions.len() >= older => Ok(()),
        _ => Err(KmsError::Internal(format!(
            "key {id}: versions went from {before} to {}",
            new.version_count
        ))),
    }
}

/// Records which project owns `key` in the global key index.
pub fn index_owner(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    tx.put(KEY_INDEX, &key.key_id, key.project_id.as_bytes())?;
    Ok(())
}

/// The project owning `key_id`, whatever the caller's project.
pub fn owner_project(tx: &mut dyn Tx, key_id: &str) -> Result<Option<String>, KmsError> {
    Ok(tx
        .get(KEY_INDEX, key_id)?
        .map(|p| String::from_utf8_lossy(&p).into_owned()))
}

/// Keeps the rotation and material-expiry indexes in step with a key going
/// from `old` to `new`.
pub fn reindex(
    tx: &mut dyn Tx,
    old: Option<&KeyRecord>,
    new: Option<&KeyRecord>,
) -> Result<(), KmsError> {
    let entry =
        |k: &KeyRecord, due: Option<i64>| due.map(|d| (d, k.project_id.clone(), k.key_id.clone()));
    let rotation = |k: Option<&KeyRecord>| k.and_then(|k| entry(k, k.next_rotation_ms()));
    let expiry = |k: Option<&KeyRecord>| k.and_then(|k| entry(k, k.material_expiry_ms()));
    schedules::shift(tx, ROTATIONS, rotation(old), rotation(new))?;
    schedules::shift(tx, EXPIRIES, expiry(old), expiry(new))
}

// ---- multi-region keys: the records of one key kept in step (domain/multi_region.rs) ----

/// After `key` was saved (it was `old`): if it is a primary that gained a
/// version (a rotation), each replica gains the same one, so the newest
/// ciphertexts open in every region. Replicas never rotate themselves.
pub fn follow(tx: &mut dyn Tx, old: Option<&KeyRecord>, key: &KeyRecord) -> Result<(), KmsError> {
    let Some(group) = key.multi_region.as_ref() else {
        return Ok(());
    };
    let grew = old.is_some_and(|o| key.version_count == o.version_count + 1);
    if group.primary.project_id != key.project_id || !grew {
        return Ok(());
    }
    let Some(version) = key.current.clone() else {
        return Ok(());
    };
    for peer in &group.replicas {
        let Some(mut replica) = find(tx, &peer.project_id, &key.key_id)? else {
            continue;
        };
        if replica.version_count + 1 == key.version_count {
            replica.push_version(version.clone());
            save(tx, &replica)?;
        }
    }
    Ok(())
}

/// Writes `group` into every record of it that exists (`skip`: one the
/// caller saves itself).
pub fn spread(
    tx: &mut dyn Tx,
    key_id: &str,
    group: &MultiRegion,
    skip: &str,
) -> Result<(), KmsError> {
    for peer in group.members().filter(|p| p.project_id != skip) {
        if let Some(mut record) = find(tx, &peer.project_id, key_id)? {
            record.multi_region = Some(group.clone());
            save(tx, &record)?;
        }
    }
    Ok(())
}

/// After `key` was purged: the others forget it, and the owner index (which
/// grantees of other projects go through) names the group's primary.
pub fn leave(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    let Some(group) = key.multi_region.as_ref() else {
        return Ok(());
    };
    let rest = multi_region::without(group, &key.project_id);
    if rest.primary.project_id == key.project_id {
        return Ok(());
    }
    spread(tx, &key.key_id, &rest, &key.project_id)?;
    if let Some(primary) = find(tx, &rest.primary.project_id, &key.key_id)? {
        index_owner(tx, &primary)?;
    }
    Ok(())
}
