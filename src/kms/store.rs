//! What KMS keeps, and how: one record per key (`kms_keys`, keyed
//! `project/key_id`), an alias index (`kms_aliases`, `project/alias`) that makes
//! aliases unique inside the transaction, and a due-date index
//! (`kms_deletions`, `due_ms/project/key_id`) for the deletion sweeper.

use super::domain::{KeySpec, KeyState, KeyUsage, Origin};
use super::error::KmsError;
use crate::store::{DecodeCache, Tx, TxExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const KEYS: &str = "kms_keys";
const ALIASES: &str = "kms_aliases";
const DELETIONS: &str = "kms_deletions";
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
    /// Rotation schedule and import state (`admin.rs`).
    #[serde(default)]
    pub admin: super::admin::KeyAdmin,
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

fn deletion_key(due_ms: i64, project: &str, id: &str) -> String {
    format!("{:016}/{project}/{id}", due_ms.max(0))
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
            tx.delete(DELETIONS, &deletion_key(due, &old.project_id, &old.key_id))?;
        }
    }
    super::admin::reindex(tx, old.as_ref(), Some(key))?;
    if old.is_none() {
        index_owner(tx, key)?;
    }
    if let (KeyState::PendingDeletion, Some(due)) = (key.key_state, key.scheduled_deletion_ms) {
        tx.put(
            DELETIONS,
            &deletion_key(due, &key.project_id, &key.key_id),
            b"",
        )?;
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
        tx.delete(DELETIONS, &deletion_key(due, &key.project_id, &key.key_id))?;
    }
    tx.delete(KEYS, &key_of(&key.project_id, &key.key_id))?;
    super::admin::on_purge(tx, key)?;
    super::alias_store::remove_for_key(tx, &key.project_id, &key.key_id)?;
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
    let mut due = Vec::new();
    for (k, _) in tx.scan(DELETIONS, "", None, limit)? {
        let mut parts = k.splitn(3, '/');
        let (Some(ts), Some(project), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if ts.parse::<i64>().unwrap_or(i64::MAX) > now_ms {
            break;
        }
        due.push((project.to_owned(), id.to_owned()));
    }
    Ok(due)
}
