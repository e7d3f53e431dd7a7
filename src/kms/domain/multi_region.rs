//! Multi-region keys (docs/kms-multi-region.md). A key replicated into other
//! regions is one record per region, each in its region's project of the same
//! domain, all under the same key id and holding the same versions (the same
//! sealed bytes: material is sealed with the key id as associated data), so a
//! ciphertext, which names key id and version, opens in every region. Every
//! record carries the whole group (`MultiRegion`), kept in step in the
//! transaction that changes it.
//!
//! What the cloud documents (user guide, "Creating a Replica Key"): replicas
//! only of custom keys; not in the key's own region; one per region; replicas
//! do not rotate, the primary's rotation reaches them. The rest is dewstack's
//! choice, after the behaviour users of multi-region keys know: each record's
//! state, alias, description and tags are its own; a primary with replicas
//! cannot be scheduled for deletion (move the primary or delete the replicas
//! first); keys replicate while enabled or disabled. Imported material is
//! key material like any (the cloud limits replicas to custom keys, not to
//! an origin): the replica gets it with its expiry, and afterwards each
//! record's imported material is its own (deleted, expiring and re-imported
//! per record). A key of a key store is refused: its material never leaves
//! its token, so no other region can hold it.

use super::key::KeyState;
use crate::kms::error::KmsError;
use serde::{Deserialize, Serialize};

/// One member of a group: the project (and its region) holding a record.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub region: String,
    pub project_id: String,
}

/// The group a multi-region key belongs to, as each of its records keeps it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MultiRegion {
    pub primary: Peer,
    #[serde(default)]
    pub replicas: Vec<Peer>,
}

impl MultiRegion {
    pub fn members(&self) -> impl Iterator<Item = &Peer> {
        std::iter::once(&self.primary).chain(&self.replicas)
    }

    fn in_region(&self, region: &str) -> Option<&Peer> {
        self.members().find(|p| p.region == region)
    }
}

/// The `multi_region_key_type` the cloud reports: "SINGLE" (as in its
/// recordings for ordinary keys), "PRIMARY" or "REPLICA".
pub fn key_type(group: Option<&MultiRegion>, project: &str) -> &'static str {
    match group {
        None => "SINGLE",
        Some(g) if g.primary.project_id == project => "PRIMARY",
        Some(_) => "REPLICA",
    }
}

pub fn is_replica(group: Option<&MultiRegion>, project: &str) -> bool {
    key_type(group, project) == "REPLICA"
}

/// What ReplicateKey needs to know of the key it copies.
pub struct Source<'a> {
    pub project: &'a str,
    pub region: &'a str,
    pub default_key: bool,
    pub in_key_store: bool,
    pub state: KeyState,
    pub group: Option<&'a MultiRegion>,
}

/// Whether the key may get a replica in `target` (a served region, checked
/// by the caller), and the group it then belongs to with `replica` added.
pub fn replicate(s: &Source, replica: Peer) -> Result<MultiRegion, KmsError> {
    if s.default_key {
        return Err(KmsError::DefaultKey);
    }
    if s.in_key_store {
        return Err(KmsError::NotReplicable);
    }
    if is_replica(s.group, s.project) {
        return Err(KmsError::NotReplicable);
    }
    match s.state {
        KeyState::Enabled | KeyState::Disabled => {}
        KeyState::PendingDeletion => return Err(KmsError::KeyPendingDeletionUnusable),
        KeyState::PendingImport => return Err(KmsError::KeyNotEnabled),
        KeyState::Frozen => return Err(KmsError::KeyFrozen),
    }
    check_other_region(s.region, &replica.region)?;
    let mut group = s.group.cloned().unwrap_or_else(|| MultiRegion {
        primary: Peer {
            region: s.region.to_owned(),
            project_id: s.project.to_owned(),
        },
        replicas: Vec::new(),
    });
    if group.in_region(&replica.region).is_some() {
        return Err(KmsError::ReplicaExists);
    }
    group.replicas.push(replica);
    Ok(group)
}

/// A replica is never in its key's own region (the cloud's rule).
pub fn check_other_region(own: &str, target: &str) -> Result<(), KmsError> {
    if own == target {
        return Err(KmsError::RegionUnsupported);
    }
    Ok(())
}

/// UpdatePrimaryRegion, asked of the primary in `project`: the group with its
/// replica in `region` made the primary and the old primary a replica.
/// dewstack's choice: a replica pending deletion cannot become the primary.
pub fn move_primary(
    group: Option<&MultiRegion>,
    project: &str,
    region: &str,
    target_state: Option<KeyState>,
) -> Result<MultiRegion, KmsError> {
    let group = match group {
        Some(g) if g.primary.project_id == project => g,
        _ => return Err(KmsError::NotPrimary),
    };
    let Some(new) = group.replicas.iter().find(|p| p.region == region) else {
        return Err(KmsError::NoReplicaInRegion);
    };
    if target_state == Some(KeyState::PendingDeletion) {
        return Err(KmsError::KeyPendingDeletionUnusable);
    }
    let mut replicas: Vec<Peer> = group
        .replicas
        .iter()
        .filter(|p| *p != new)
        .cloned()
        .collect();
    replicas.insert(0, group.primary.clone());
    Ok(MultiRegion {
        primary: new.clone(),
        replicas,
    })
}

/// ScheduleKeyDeletion: a primary with replicas stays (dewstack's choice).
pub fn check_deletable(group: Option<&MultiRegion>, project: &str) -> Result<(), KmsError> {
    match group {
        Some(g) if g.primary.project_id == project && !g.replicas.is_empty() => {
            Err(KmsError::PrimaryHasReplicas)
        }
        _ => Ok(()),
    }
}

/// Replicas do not rotate (the cloud's rule): the primary's rotations reach them.
pub fn check_rotatable(group: Option<&MultiRegion>, project: &str) -> Result<(), KmsError> {
    if is_replica(group, project) {
        return Err(KmsError::ReplicaNoRotation);
    }
    Ok(())
}

/// The group once the record in `project` is gone for good. A primary left
/// alone stays a primary, as it was made; if the primary itself goes (only
/// possible for a primary pending deletion before it had replicas, which
/// `replicate` refuses, so this is defence), its first replica takes over.
pub fn without(group: &MultiRegion, project: &str) -> MultiRegion {
    let mut replicas: Vec<Peer> = group
        .replicas
        .iter()
        .filter(|p| p.project_id != project)
        .cloned()
        .collect();
    if group.primary.project_id != project {
        return MultiRegion {
            primary: group.primary.clone(),
            replicas,
        };
    }
    match replicas.is_empty() {
        true => group.clone(),
        false => {
            let primary = replicas.remove(0);
            MultiRegion { primary, replicas }
        }
    }
}

#[cfg(test)]
#[path = "multi_region_tests.rs"]
mod tests;
