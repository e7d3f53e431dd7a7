//! Key store records (`kms_keystores`, `project/keystore_id`), the per-project
//! alias index (`kms_keystore_aliases`, `project/alias`) and the global HSM
//! cluster index (`kms_keystore_clusters`, `cluster_id` → `project/keystore_id`)
//! that holds the cloud's rule of one key store per cluster across projects.

use crate::kms::domain::keystore::KeystoreState;
use crate::kms::error::KmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const KEYSTORES: &str = "kms_keystores";
const ALIASES: &str = "kms_keystore_aliases";
const CLUSTERS: &str = "kms_keystore_clusters";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct KeystoreRecord {
    pub keystore_id: String,
    pub project_id: String,
    pub domain_id: String,
    pub keystore_alias: String,
    pub hsm_cluster_id: String,
    pub state: KeystoreState,
    pub create_ms: i64,
}

fn key_of(project: &str, id: &str) -> String {
    format!("{project}/{id}")
}

pub fn find(tx: &mut dyn Tx, project: &str, id: &str) -> Result<Option<KeystoreRecord>, KmsError> {
    Ok(tx.get_json(KEYSTORES, &key_of(project, id))?)
}

pub fn load(tx: &mut dyn Tx, project: &str, id: &str) -> Result<KeystoreRecord, KmsError> {
    find(tx, project, id)?.ok_or(KmsError::KeystoreNotFound)
}

/// Whether `cluster` already backs a key store (of any project).
pub fn cluster_taken(tx: &mut dyn Tx, cluster: &str) -> Result<bool, KmsError> {
    Ok(tx.get(CLUSTERS, cluster)?.is_some())
}

pub fn alias_taken(tx: &mut dyn Tx, project: &str, alias: &str) -> Result<bool, KmsError> {
    Ok(tx.get(ALIASES, &key_of(project, alias))?.is_some())
}

/// Writes a new record and its index entries; the caller checked uniqueness.
pub fn insert(tx: &mut dyn Tx, ks: &KeystoreRecord) -> Result<(), KmsError> {
    let at = key_of(&ks.project_id, &ks.keystore_id);
    tx.put(CLUSTERS, &ks.hsm_cluster_id, at.as_bytes())?;
    tx.put(
        ALIASES,
        &key_of(&ks.project_id, &ks.keystore_alias),
        ks.keystore_id.as_bytes(),
    )?;
    save(tx, ks)
}

pub fn save(tx: &mut dyn Tx, ks: &KeystoreRecord) -> Result<(), KmsError> {
    tx.put_json(KEYSTORES, &key_of(&ks.project_id, &ks.keystore_id), ks)?;
    Ok(())
}

pub fn remove(tx: &mut dyn Tx, ks: &KeystoreRecord) -> Result<(), KmsError> {
    tx.delete(CLUSTERS, &ks.hsm_cluster_id)?;
    tx.delete(ALIASES, &key_of(&ks.project_id, &ks.keystore_alias))?;
    tx.delete(KEYSTORES, &key_of(&ks.project_id, &ks.keystore_id))?;
    Ok(())
}

/// A project's key stores, oldest first. At most one per configured
/// cluster can exist, so the list is bounded by the config.
pub fn list(tx: &mut dyn Tx, project: &str) -> Result<Vec<KeystoreRecord>, KmsError> {
    let mut all: Vec<KeystoreRecord> = tx
        .scan_json::<KeystoreRecord>(KEYSTORES, &format!("{project}/"))?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    all.sort_by(|a, b| (a.create_ms, &a.keystore_id).cmp(&(b.create_ms, &b.keystore_id)));
    Ok(all)
}
