//! Key records: one per key (`kms_keys`, keyed `project/key_id`), the
//! `key_alias` index (`kms_aliases`, `project/alias`) that makes aliases unique
//! inside the transaction, the global owner index (`kms_key_index`), and the
//! due-date indexes (`schedules.rs`) kept in step on every save. Purging a key
//! also drops its alias resources, grants and import parameters.

use super::schedules::{self, DELETIONS, EXPIRIES, ROTATIONS};
use crate::kms::domain::limits::{DAY_MS, DEFAULT_INTERVAL_DAYS};
use crate::kms::domain::{KeySpec, KeyState, KeyUsage, Origin};
use crate::kms::error::KmsError;
use crate::store::{DecodeCache, Tx, TxExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const KEYS: &str = "kms_keys";
const ALIASES: &str = "kms_aliases";
/// Global `key_id → project_id`, so a grantee can find a key of another project.
const KEY_INDEX: &str = "kms_key_index";

/// A key as stored. Each version's material is sealed under the root key with
/// the key id as associated data; it is never plaintext outside memory.
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
    /// Oldest first; the last one encrypts. Empty while imported material is awaited.
    #[serde(default)]
    pub versions: Vec<KeyVersion>,
    /// Rotation schedule and import state.
    #[serde(default)]
    pub admin: KeyAdmin,
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
        if !a.rotation_enabled || self.key_state != KeyState::Enabled {
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
        if self.origin != Origin::External || self.versions.is_empty() {
            return None;
        }
        self.expiration_ms
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct KeyVersion {
    pub created_ms: i64,
    #[serde(with = "sealed_b64")]
    pub sealed: Vec<u8>,
}

mod sealed_b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

fn key_of(project: &str, id: &str) -> String {
    format!("{project}/{id}")
}

/// Every cryptographic call reads its key; decoding the record is a large
/// share of that, so decoded records are reused while their bytes match.
static DECODED: DecodeCache<KeyRecord> = DecodeCache::new(KEYS);

pub fn find(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<Option<KeyRecord>, KmsError> {
    Ok(DECODED.get_json(tx, &key_of(project, key_id))?)
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
    if old.is_none() {
        index_owner(tx, key)?;
    }
    if let (KeyState::PendingDeletion, Some(due)) = (key.key_state, key.scheduled_deletion_ms) {
        schedules::add(tx, DELETIONS, due, &key.project_id, &key.key_id)?;
    }
    tx.put_json(KEYS, &key_of(&key.project_id, &key.key_id), key)?;
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

/// All keys of a project, oldest first.
pub fn list(tx: &mut dyn Tx, project: &str) -> Result<Vec<KeyRecord>, KmsError> {
    let mut keys: Vec<KeyRecord> = tx
        .scan_json::<KeyRecord>(KEYS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    keys.sort_by(|a, b| (a.creation_ms, &a.key_id).cmp(&(b.creation_ms, &b.key_id)));
    Ok(keys)
}

/// Removes a key, its alias, its alias resources and its index entries for good.
pub fn purge(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    tx.delete(ALIASES, &key_of(&key.project_id, &key.key_alias))?;
    if let Some(due) = key.scheduled_deletion_ms {
        schedules::remove(tx, DELETIONS, due, &key.project_id, &key.key_id)?;
    }
    tx.delete(KEYS, &key_of(&key.project_id, &key.key_id))?;
    reindex(tx, Some(key), None)?;
    super::grants::purge_key(tx, &key.project_id, &key.key_id)?;
    super::imports::forget(tx, &key.project_id, &key.key_id)?;
    super::aliases::remove_for_key(tx, &key.project_id, &key.key_id)?;
    tx.delete(KEY_INDEX, &key.key_id)?;
    Ok(())
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

/// (project, key_id) of keys whose deletion date is at or before `now_ms`.
pub fn due_deletions(
    tx: &mut dyn Tx,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<(String, String)>, KmsError> {
    Ok(schedules::due(tx, DELETIONS, now_ms, limit)?
        .into_iter()
        .map(|(_, project, id)| (project, id))
        .collect())
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
