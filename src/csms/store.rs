//! What CSMS keeps, and how, on the KV layer:
//!
//! | table | key | value |
//! |---|---|---|
//! | `csms_secrets` | `project/name` | `SecretRecord` (settings, stages, tags) |
//! | `csms_secret_ids` | `project/id` | name (tag operations address secrets by id) |
//! | `csms_versions` | `project/name/NNNNNNNNNN` | `VersionRecord` (value sealed by KMS) |
//! | `csms_deletions` | `due_ms/project/name` | due scheduled deletions |
//! | `csms_expiries` | `due_ms/project/name/NNNNNNNNNN` | versions whose expire_time is ahead |
//! | `csms_rotations` | `due_ms/project/name` | next scheduled rotation (`jobs/rotate/`) |
//! | `csms_events` | `project/name` | `EventRecord` |
//! | `csms_event_refs` | `project/event/secret` | which secrets subscribe to an event |
//! | `csms_grants`, `csms_grantees` | see `grants.rs` | grants, removed with their secret |
//! | `csms_checker_config` | `project` | the secret checker's settings (`store/config.rs`) |
//!
//! Notification records and the delivery outbox live in `notify.rs`, the
//! reading of the due-date indexes in `sweep.rs`.

use super::domain::SecretState;
use super::error::CsmsError;
use crate::store::{counts, DecodeCache, Tx, TxExt};
use count::{SECRETS, SECRET_COUNT};

pub mod bound;
mod config;
mod count;
mod records;
pub use config::{checker_config, set_checker_config, CheckerConfig};
pub use count::{
    count_existing, count_pending_existing, pending_delete_count, secret_count,
    secret_quota_reached, secrets_page,
};
pub use records::{EventRecord, SecretRecord, VersionRecord};

const SECRET_IDS: &str = "csms_secret_ids";
const VERSIONS: &str = "csms_versions";
pub(super) const DELETIONS: &str = "csms_deletions";
pub(super) const EXPIRIES: &str = "csms_expiries";
pub(super) const ROTATIONS: &str = "csms_rotations";
const EVENTS: &str = "csms_events";
const EVENT_REFS: &str = "csms_event_refs";

fn key2(a: &str, b: &str) -> String {
    crate::store::row_key([a, b])
}

fn version_key(project: &str, name: &str, n: u64) -> String {
    let mut key = crate::store::row_key([project, name, ""]);
    // Zero-padded so that the rows of a secret sort by number.
    let _ = crate::common::decimal::digits(&mut key, n, 10);
    key
}

pub(super) fn due_key(due_ms: i64, rest: &str) -> String {
    format!("{:016}/{rest}", due_ms.max(0))
}

// ---- secrets ----------------------------------------------------------------

/// Decoded as KMS keys are: an unchanged record is not decoded again, and
/// ShowSecretVersion runs no SQL. Versions up to 8 KiB, 1,024 at most.
static SECRETS_DECODED: DecodeCache<SecretRecord> = DecodeCache::new(SECRETS);
static VERSIONS_DECODED: DecodeCache<VersionRecord> = DecodeCache::bounded(VERSIONS, 1024, 8192);

pub fn find_secret(
    tx: &mut dyn Tx,
    project: &str,
    name: &str,
) -> Result<Option<SecretRecord>, CsmsError> {
    Ok(SECRETS_DECODED.get_json(tx, &key2(project, name))?)
}

/// The secret, or `SecretNotFound`, also for secrets of other projects.
pub fn load_secret(tx: &mut dyn Tx, project: &str, name: &str) -> Result<SecretRecord, CsmsError> {
    find_secret(tx, project, name)?.ok_or(CsmsError::SecretNotFound)
}

/// By id first (the tag operations' `{secret_id}`), then by name.
pub fn load_secret_by_id(
    tx: &mut dyn Tx,
    project: &str,
    id_or_name: &str,
) -> Result<SecretRecord, CsmsError> {
    if let Some(name) = tx.get(SECRET_IDS, &key2(project, id_or_name))? {
        return load_secret(tx, project, &String::from_utf8_lossy(&name));
    }
    load_secret(tx, project, id_or_name)
}

pub fn insert_secret(tx: &mut dyn Tx, secret: &SecretRecord) -> Result<(), CsmsError> {
    if find_secret(tx, &secret.project_id, &secret.name)?.is_some() {
        return Err(CsmsError::SecretExists);
    }
    tx.put(
        SECRET_IDS,
        &key2(&secret.project_id, &secret.id),
        secret.name.as_bytes(),
    )?;
    counts::add(tx, SECRET_COUNT, &secret.project_id, 1)?;
    save_secret(tx, secret)
}

/// Writes back a secret, keeping the deletion and event indexes in step.
pub fn save_secret(tx: &mut dyn Tx, secret: &SecretRecord) -> Result<(), CsmsError> {
    let p = &secret.project_id;
    let old = find_secret(tx, p, &secret.name)?;
    if let Some(old) = &old {
        unindex(tx, old)?;
    }
    count::state_moved(tx, p, old.map(|o| o.state), Some(secret.state))?;
    if let (SecretState::PendingDelete, Some(due)) = (secret.state, secret.scheduled_delete_ms) {
        tx.put(DELETIONS, &due_key(due, &key2(p, &secret.name)), b"")?;
    }
    // Only an enabled secret with automatic rotation on is scheduled.
    let rotates = secret.auto_rotation && secret.state == SecretState::Enabled;
    if let (true, Some(due)) = (rotates, secret.next_rotation_ms) {
        tx.put(ROTATIONS, &due_key(due, &key2(p, &secret.name)), b"")?;
    }
    for event in &secret.event_subscriptions {
        tx.put(EVENT_REFS, &format!("{p}/{event}/{}", secret.name), b"")?;
    }
    tx.put_json(SECRETS, &key2(p, &secret.name), secret)?;
    Ok(())
}

fn unindex(tx: &mut dyn Tx, old: &SecretRecord) -> Result<(), CsmsError> {
    let p = &old.project_id;
    if let Some(due) = old.scheduled_delete_ms {
        tx.delete(DELETIONS, &due_key(due, &key2(p, &old.name)))?;
    }
    if let Some(due) = old.next_rotation_ms {
        tx.delete(ROTATIONS, &due_key(due, &key2(p, &old.name)))?;
    }
    for event in &old.event_subscriptions {
        tx.delete(EVENT_REFS, &format!("{p}/{event}/{}", old.name))?;
    }
    Ok(())
}

/// Removes a secret, its versions and every index entry for good.
pub fn purge_secret(tx: &mut dyn Tx, secret: &SecretRecord) -> Result<(), CsmsError> {
    let p = &secret.project_id;
    for v in list_versions(tx, p, &secret.name)? {
        if let Some(due) = v.expire_ms {
            let rest = version_key(p, &secret.name, v.number);
            tx.delete(EXPIRIES, &due_key(due, &rest))?;
        }
        tx.delete(VERSIONS, &version_key(p, &secret.name, v.number))?;
    }
    unindex(tx, secret)?;
    super::grants::delete_all(tx, p, &secret.id)?;
    tx.delete(SECRET_IDS, &key2(p, &secret.id))?;
    let stored = find_secret(tx, p, &secret.name)?;
    count::state_moved(tx, p, stored.map(|s| s.state), None)?;
    if tx.delete(SECRETS, &key2(p, &secret.name))? {
        counts::add(tx, SECRET_COUNT, p, -1)?;
    }
    Ok(())
}

/// Secrets of a project in name order, strictly after `after` if given.
pub fn list_secrets(
    tx: &mut dyn Tx,
    project: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<SecretRecord>, CsmsError> {
    let after = after.map(|a| key2(project, a));
    let rows = tx.scan(SECRETS, &format!("{project}/"), after.as_deref(), limit)?;
    rows.into_iter()
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|e| CsmsError::Internal(e.to_string()))
        })
        .collect()
}

pub fn all_secrets(tx: &mut dyn Tx, project: &str) -> Result<Vec<SecretRecord>, CsmsError> {
    Ok(tx
        .scan_json::<SecretRecord>(SECRETS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

/// Every event a secret subscribes to must exist in its project.
pub fn check_subscriptions(
    tx: &mut dyn Tx,
    project: &str,
    names: &[String],
) -> Result<(), CsmsError> {
    for name in names {
        load_event(tx, project, name)?;
    }
    Ok(())
}

/// Names of the secrets subscribed to `event`, in order, after `after`.
pub fn subscribers(
    tx: &mut dyn Tx,
    project: &str,
    event: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, CsmsError> {
    let prefix = format!("{project}/{event}/");
    let after = after.map(|a| format!("{prefix}{a}"));
    Ok(tx
        .scan(EVENT_REFS, &prefix, after.as_deref(), limit)?
        .into_iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_owned))
        .collect())
}

// ---- versions ---------------------------------------------------------------

pub fn find_version(
    tx: &mut dyn Tx,
    project: &str,
    name: &str,
    n: u64,
) -> Result<Option<VersionRecord>, CsmsError> {
    Ok(VERSIONS_DECODED.get_json(tx, &version_key(project, name, n))?)
}

pub fn put_version(
    tx: &mut dyn Tx,
    project: &str,
    name: &str,
    v: &VersionRecord,
) -> Result<(), CsmsError> {
    let key = version_key(project, name, v.number);
    if let Some(old) = find_version(tx, project, name, v.number)? {
        if let Some(due) = old.expire_ms {
            tx.delete(EXPIRIES, &due_key(due, &key))?;
        }
    }
    if let (Some(due), false) = (v.expire_ms, v.expiry_notified) {
        tx.put(EXPIRIES, &due_key(due, &key), b"")?;
    }
    tx.put_json(VERSIONS, &key, v)?;
    Ok(())
}

/// Removes version `n` of a secret and its expiry entry.
pub fn delete_version(tx: &mut dyn Tx, project: &str, name: &str, n: u64) -> Result<(), CsmsError> {
    let old = find_version(tx, project, name, n)?;
    let key = version_key(project, name, n);
    if let Some(due) = old.and_then(|v| v.expire_ms) {
        tx.delete(EXPIRIES, &due_key(due, &key))?;
    }
    tx.delete(VERSIONS, &key)?;
    Ok(())
}

/// Versions oldest first, strictly after version number `after` if given.
pub fn list_versions_after(
    tx: &mut dyn Tx,
    project: &str,
    name: &str,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<VersionRecord>, CsmsError> {
    let after = after.map(|n| version_key(project, name, n));
    let rows = tx.scan(
        VERSIONS,
        &format!("{project}/{name}/"),
        after.as_deref(),
        limit,
    )?;
    rows.into_iter()
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|e| CsmsError::Internal(e.to_string()))
        })
        .collect()
}

pub fn list_versions(
    tx: &mut dyn Tx,
    project: &str,
    name: &str,
) -> Result<Vec<VersionRecord>, CsmsError> {
    Ok(tx
        .scan_json::<VersionRecord>(VERSIONS, &format!("{project}/{name}/"))?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

// ---- events -----------------------------------------------------------------

pub fn find_event(
    tx: &mut dyn Tx,
    project: &str,
    name: &str,
) -> Result<Option<EventRecord>, CsmsError> {
    Ok(tx.get_json(EVENTS, &key2(project, name))?)
}

pub fn load_event(tx: &mut dyn Tx, project: &str, name: &str) -> Result<EventRecord, CsmsError> {
    find_event(tx, project, name)?.ok_or(CsmsError::EventNotFound)
}

/// Saves a new event, within the project's event quota (`EVENT_QUOTA`).
pub fn insert_event(tx: &mut dyn Tx, event: &EventRecord) -> Result<(), CsmsError> {
    if find_event(tx, &event.project_id, &event.name)?.is_some() {
        return Err(CsmsError::EventExists);
    }
    let quota = super::domain::EVENT_QUOTA;
    if tx
        .scan(EVENTS, &format!("{}/", event.project_id), None, quota)?
        .len()
        >= quota
    {
        return Err(CsmsError::EventQuota);
    }
    save_event(tx, event)
}

pub fn save_event(tx: &mut dyn Tx, event: &EventRecord) -> Result<(), CsmsError> {
    tx.put_json(EVENTS, &key2(&event.project_id, &event.name), event)?;
    Ok(())
}

/// Deletes an event at once, unless a secret still subscribes to it.
pub fn delete_event(tx: &mut dyn Tx, project: &str, name: &str) -> Result<(), CsmsError> {
    load_event(tx, project, name)?;
    if !subscribers(tx, project, name, None, 1)?.is_empty() {
        return Err(CsmsError::EventInUse);
    }
    tx.delete(EVENTS, &key2(project, name))?;
    Ok(())
}

pub fn list_events(
    tx: &mut dyn Tx,
    project: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<EventRecord>, CsmsError> {
    let after = after.map(|a| key2(project, a));
    let rows = tx.scan(EVENTS, &format!("{project}/"), after.as_deref(), limit)?;
    rows.into_iter()
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|e| CsmsError::Internal(e.to_string()))
        })
        .collect()
}

#[cfg(test)]
impl SecretRecord {
    /// What tests start from: an enabled COMMON secret `name` of `project`
    /// (domain `dom`, key `k`), made at `now_ms`, no rotation, events or
    /// stages, newest version `v1`. Tests override the fields they are about.
    pub fn for_test(project: &str, name: &str, now_ms: i64) -> Self {
        SecretRecord {
            id: format!("id-{name}"),
            name: name.into(),
            project_id: project.into(),
            domain_id: "dom".into(),
            state: SecretState::Enabled,
            kms_key_id: "k".into(),
            description: String::new(),
            secret_type: "COMMON".into(),
            auto_rotation: false,
            rotation_period: None,
            rotation_config: None,
            rotation_func_urn: None,
            rotation_ms: None,
            next_rotation_ms: None,
            event_subscriptions: Vec::new(),
            enterprise_project_id: "0".into(),
            create_ms: now_ms,
            update_ms: now_ms,
            scheduled_delete_ms: None,
            tags: Default::default(),
            stages: Default::default(),
            last_version: 1,
        }
    }
}
