//! Key space records: access points (`kms_access_points`, `project/id`) and
//! key policies (`kms_key_policies`, `project/keyspace_id/policy_id`, so the
//! policies of one space are one prefix scan on the key-use path), with the
//! id index `kms_key_policy_ids` (`project/policy_id` → keyspace id).

use crate::kms::domain::keyspace::{AccessPointState, AccessPointType};
use crate::kms::domain::policy::PolicyDocument;
use crate::kms::error::KmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const ACCESS_POINTS: &str = "kms_access_points";
const POLICIES: &str = "kms_key_policies";
const POLICY_IDS: &str = "kms_key_policy_ids";

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct AccessPointRecord {
    pub access_point_id: String,
    pub project_id: String,
    pub keyspace_id: String,
    pub name: String,
    pub kind: AccessPointType,
    pub state: AccessPointState,
    pub identity: String,
    pub cluster_id: String,
    pub description: String,
    pub created_by: String,
    pub create_ms: i64,
    pub modify_ms: i64,
    /// SPKI DER of the key that signs for it (Custom: made here; CCE: the
    /// cluster's); empty for ECS.
    pub public_key: Vec<u8>,
    /// The Custom access point's PKCS#8 private key, sealed by the keyring
    /// until it is downloaded once, then gone.
    pub sealed_private_key: Option<Vec<u8>>,
}

/// Names and ids only: key material, even sealed, stays out of logs.
impl std::fmt::Debug for AccessPointRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessPointRecord")
            .field("access_point_id", &self.access_point_id)
            .field("keyspace_id", &self.keyspace_id)
            .field("kind", &self.kind)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicyRecord {
    pub policy_id: String,
    pub project_id: String,
    pub keyspace_id: String,
    pub name: String,
    pub document: PolicyDocument,
    pub description: String,
    pub created_by: String,
    pub create_ms: i64,
    pub modify_ms: i64,
}

pub fn find_access_point(
    tx: &mut dyn Tx,
    project: &str,
    id: &str,
) -> Result<Option<AccessPointRecord>, KmsError> {
    Ok(tx.get_json(ACCESS_POINTS, &format!("{project}/{id}"))?)
}

pub fn load_access_point(
    tx: &mut dyn Tx,
    project: &str,
    id: &str,
) -> Result<AccessPointRecord, KmsError> {
    find_access_point(tx, project, id)?.ok_or(KmsError::AccessPointNotFound)
}

pub fn save_access_point(tx: &mut dyn Tx, ap: &AccessPointRecord) -> Result<(), KmsError> {
    let at = format!("{}/{}", ap.project_id, ap.access_point_id);
    Ok(tx.put_json(ACCESS_POINTS, &at, ap)?)
}

pub fn remove_access_point(tx: &mut dyn Tx, ap: &AccessPointRecord) -> Result<(), KmsError> {
    let at = format!("{}/{}", ap.project_id, ap.access_point_id);
    tx.delete(ACCESS_POINTS, &at)?;
    Ok(())
}

/// A project's access points, oldest first (bounded by the project quota).
pub fn access_points(tx: &mut dyn Tx, project: &str) -> Result<Vec<AccessPointRecord>, KmsError> {
    let mut all: Vec<AccessPointRecord> = tx
        .scan_json(ACCESS_POINTS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    all.sort_by(|a, b| (a.create_ms, &a.access_point_id).cmp(&(b.create_ms, &b.access_point_id)));
    Ok(all)
}

fn policy_at(p: &PolicyRecord) -> String {
    format!("{}/{}/{}", p.project_id, p.keyspace_id, p.policy_id)
}

pub fn find_policy(
    tx: &mut dyn Tx,
    project: &str,
    id: &str,
) -> Result<Option<PolicyRecord>, KmsError> {
    let Some(space) = tx.get(POLICY_IDS, &format!("{project}/{id}"))? else {
        return Ok(None);
    };
    let space = String::from_utf8_lossy(&space).into_owned();
    Ok(tx.get_json(POLICIES, &format!("{project}/{space}/{id}"))?)
}

pub fn load_policy(tx: &mut dyn Tx, project: &str, id: &str) -> Result<PolicyRecord, KmsError> {
    find_policy(tx, project, id)?.ok_or(KmsError::PolicyNotFound)
}

pub fn save_policy(tx: &mut dyn Tx, p: &PolicyRecord) -> Result<(), KmsError> {
    tx.put(
        POLICY_IDS,
        &format!("{}/{}", p.project_id, p.policy_id),
        p.keyspace_id.as_bytes(),
    )?;
    Ok(tx.put_json(POLICIES, &policy_at(p), p)?)
}

pub fn remove_policy(tx: &mut dyn Tx, p: &PolicyRecord) -> Result<(), KmsError> {
    tx.delete(POLICY_IDS, &format!("{}/{}", p.project_id, p.policy_id))?;
    tx.delete(POLICIES, &policy_at(p))?;
    Ok(())
}

/// The policies of one key space (the key-use path reads only these).
pub fn policies_of_space(
    tx: &mut dyn Tx,
    project: &str,
    space: &str,
) -> Result<Vec<PolicyRecord>, KmsError> {
    Ok(tx
        .scan_json(POLICIES, &format!("{project}/{space}/"))?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// A project's policies, oldest first (bounded by the project quota).
pub fn policies(tx: &mut dyn Tx, project: &str) -> Result<Vec<PolicyRecord>, KmsError> {
    let mut all: Vec<PolicyRecord> = tx
        .scan_json(POLICIES, &format!("{project}/"))?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    all.sort_by(|a, b| (a.create_ms, &a.policy_id).cmp(&(b.create_ms, &b.policy_id)));
    Ok(all)
}
