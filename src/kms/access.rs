//! The one way to a usable key: `usable_key` reads the record (its state is
//! always read from the database, so every node sees a disable or a scheduled
//! deletion at once), decides whether the requester may use it for the
//! operation (its own project's keys; another project's only through a grant,
//! `domain::grants::decide`), optionally checks it may be used for a purpose
//! now, and `newest` (the current version, held in the key record) and
//! `material` (any version a ciphertext names; older ones are rows of their
//! own, read only then) unseal a version. `key_named_by_blob` and
//! `usable_key_tx` go through the same rule, which also evaluates the key
//! policies of the key's key space (`policy_gate`, `domain::policy`): a key
//! outside any key space costs one tag lookup, nothing more. Administration of the caller's
//! own keys (rotation, import) reads and changes them with `own_key` and
//! `change_own_key`.
//!
//! The material of a key of a key store never leaves its PKCS#11 token:
//! `held` gives either unsealed material or a handle on the token (after
//! checking the key store is enabled), and `newest`/`material` refuse such
//! keys, so an operation not written for tokens cannot use one by mistake.
//!
//! Unsealed material (and its parsed private key) is kept in the bounded
//! in-process `key_cache`, found by key id and the version's sealed bytes.

use crate::auth::Caller;
use crate::kms::crypto::blob;
use crate::kms::domain::grants::decide;
use crate::kms::domain::policy;
use crate::kms::domain::usable::check_usable;
use crate::kms::domain::KeyUsage;
use crate::kms::error::KmsError;
use crate::kms::key_cache;
use crate::kms::store::{self, grants, keyspaces, versions, KeyRecord, KeyVersion};
use crate::server::state::AppState;
use crate::store::Tx;
use std::sync::Arc;

pub use key_cache::Material;

/// Who asks for a key: a caller (grants may admit keys of other projects),
/// or another service acting within its own project, where grants play no part.
#[derive(Clone, Debug)]
pub struct Requester {
    project: String,
    user_id: String,
    domain_id: String,
    through_grants: bool,
    /// The access point the caller proved it came through, if any.
    access_point: Option<String>,
}

impl Requester {
    pub fn caller(caller: &Caller) -> Self {
        Self {
            access_point: caller.access_point.clone(),
            ..Self::of(caller.project(), &caller.user_id, &caller.domain_id)
        }
    }

    /// A caller of `project`, known by its user and domain ids.
    pub fn of(project: &str, user_id: &str, domain_id: &str) -> Self {
        Self {
            project: project.to_owned(),
            user_id: user_id.to_owned(),
            domain_id: domain_id.to_owned(),
            through_grants: true,
            access_point: None,
        }
    }

    pub fn service(project: &str) -> Self {
        Self {
            project: project.to_owned(),
            user_id: String::new(),
            domain_id: String::new(),
            through_grants: false,
            access_point: None,
        }
    }
}

/// The key `key_id` as `who` may use it for `operation` (a `domain::grants::op`
/// name), and, with `usage`, only if it may be used for that now. A key of
/// another project is found only through a grant naming the caller; without
/// one it does not exist for the caller (404), and with grants that do not
/// allow `operation` the call is refused (403). Reads a snapshot (`Db::read`).
pub async fn usable_key(
    app: &AppState,
    who: &Requester,
    key_id: &str,
    operation: &'static str,
    usage: Option<KeyUsage>,
) -> Result<KeyRecord, KmsError> {
    let who = who.clone();
    let key_id = key_id.to_owned();
    let now_ms = app.clock.now().timestamp_millis();
    let key = app
        .db
        .read(move |tx| usable_key_tx(tx, &who, &key_id, operation, now_ms))
        .await?;
    if let Some(usage) = usage {
        check_usable(&key, usage)?;
    }
    Ok(key)
}

/// `usable_key` inside a transaction that goes on to write (CreateGrant).
pub fn usable_key_tx(
    tx: &mut dyn Tx,
    who: &Requester,
    key_id: &str,
    operation: &str,
    now_ms: i64,
) -> Result<KeyRecord, KmsError> {
    let key = reachable_key(tx, who, key_id, operation)?;
    policy_gate(tx, who, &key, operation, now_ms)?;
    Ok(key)
}

/// The key policies of the key's space (named by its `keyspace_id` tag) in
/// its owner's project decide; a key in no space is not restricted. The
/// decision is read in the same snapshot as the key.
fn policy_gate(
    tx: &mut dyn Tx,
    who: &Requester,
    key: &KeyRecord,
    operation: &str,
    now_ms: i64,
) -> Result<(), KmsError> {
    let Some(space) = key.tags.get(policy::KEYSPACE_TAG) else {
        return Ok(());
    };
    let space = space.to_ascii_lowercase();
    let documents: Vec<policy::PolicyDocument> =
        keyspaces::policies_of_space(tx, &key.project_id, &space)?
            .into_iter()
            .map(|p| p.document)
            .collect();
    let request = policy::Request {
        operation,
        key_id: &key.key_id,
        key_domain: &key.domain_id,
        access_point: who.access_point.as_deref(),
        now_ms,
    };
    policy::evaluate(&documents, &request).check()
}

/// The key as `who` may reach it: its own project's, or another's through grants.
fn reachable_key(
    tx: &mut dyn Tx,
    who: &Requester,
    key_id: &str,
    operation: &str,
) -> Result<KeyRecord, KmsError> {
    if key_id.starts_with(crate::kms::domain::ALIAS_NAME_PREFIX) {
        // An alias names a key of its own project only (dewstack's choice,
        // as grants name keys by id): no grant is looked at.
        let alias = store::aliases::find(tx, &who.project, key_id)?;
        let target = alias.ok_or(KmsError::KeyNotFound)?.key_id;
        return store::load(tx, &who.project, &target);
    }
    if let Some(key) = store::find(tx, &who.project, key_id)? {
        return Ok(key);
    }
    if !who.through_grants {
        return Err(KmsError::KeyNotFound);
    }
    let owner = match store::owner_project(tx, key_id)? {
        Some(owner) if owner != who.project => owner,
        _ => return Err(KmsError::KeyNotFound),
    };
    let grants = grants::for_key(tx, &owner, key_id)?;
    decide(&grants, &who.user_id, &who.domain_id, operation)?;
    store::load(tx, &owner, key_id)
}

/// The key a ciphertext names (rather than the caller), through `usable_key`.
/// A key the requester may not see makes the ciphertext `invalid`, exactly
/// like a forged one, so a stolen blob tells nothing about other projects'
/// keys; a grantee refused the operation still learns 403.
pub async fn key_named_by_blob(
    app: &AppState,
    who: &Requester,
    key_id: &str,
    operation: &'static str,
    invalid: KmsError,
) -> Result<KeyRecord, KmsError> {
    usable_key(app, who, key_id, operation, None)
        .await
        .map_err(|e| hidden_as(e, invalid))
}

/// `KeyNotFound` reads as `invalid`; every other refusal stands.
pub fn hidden_as(e: KmsError, invalid: KmsError) -> KmsError {
    match e {
        KmsError::KeyNotFound => invalid,
        other => other,
    }
}

/// The plaintext material of `version` of `key`, through the cache.
fn unseal(app: &AppState, key: &KeyRecord, version: &KeyVersion) -> Result<Material, KmsError> {
    if let Some(m) = key_cache::get(&key.key_id, &version.sealed) {
        return Ok(m);
    }
    let opened = blob::open_version(&app.keyring, key, version)?;
    Ok(key_cache::put(&key.key_id, &version.sealed, opened))
}

/// A key of a key store (its material is in a token).
pub fn in_token(key: &KeyRecord) -> bool {
    key.keystore_id != crate::kms::domain::keystore::DEFAULT_KEYSTORE
}

/// The token holding a key's material, addressed by the key id.
#[derive(Clone, Debug)]
pub struct TokenKey {
    pub token: Arc<crate::kms::hsm::Token>,
    pub key_id: String,
}

/// Where the material of a version is: unsealed here, or in a token.
pub enum Held {
    Soft(Material),
    Token(TokenKey),
}

/// The material of version `index` of `key`, wherever it is held. A key
/// of a disabled key store cannot be used; one whose token is no longer
/// configured answers that the HSM cannot be reached.
pub async fn held(app: &AppState, key: &KeyRecord, index: usize) -> Result<Held, KmsError> {
    if !in_token(key) {
        return material(app, key, index).await.map(Held::Soft);
    }
    if index >= key.version_count {
        return Err(KmsError::InvalidCiphertext);
    }
    let (project, id) = (key.project_id.clone(), key.keystore_id.clone());
    let ks = app
        .db
        .read(move |tx| store::keystores::load(tx, &project, &id))
        .await?;
    ks.state.check_usable()?;
    let token = app
        .hsm
        .get(&ks.hsm_cluster_id)
        .ok_or(KmsError::HsmUnavailable)?;
    Ok(Held::Token(TokenKey {
        token: token.clone(),
        key_id: key.key_id.clone(),
    }))
}

/// `held` for the newest version (the one that encrypts and signs).
pub async fn newest_held(app: &AppState, key: &KeyRecord) -> Result<(usize, Held), KmsError> {
    let index = key.current_index().ok_or(KmsError::KeyNotEnabled)?;
    Ok((index, held(app, key, index).await?))
}

fn soft_only(key: &KeyRecord) -> Result<(), KmsError> {
    if in_token(key) {
        return Err(KmsError::Unsupported(
            "this operation on keys of a key store",
        ));
    }
    Ok(())
}

/// The plaintext material of version `index` (one a ciphertext names). An
/// older version is read from its own row, only now: the hot path
/// (`newest`) never touches those rows.
pub async fn material(app: &AppState, key: &KeyRecord, index: usize) -> Result<Material, KmsError> {
    soft_only(key)?;
    if let Some(version) = key.version_in_record(index) {
        return unseal(app, key, version);
    }
    if index >= key.version_count {
        return Err(KmsError::InvalidCiphertext);
    }
    let (project, key_id) = (key.project_id.clone(), key.key_id.clone());
    let version = app
        .db
        .read(move |tx| versions::find(tx, &project, &key_id, index))
        .await?
        // The key was purged since it was read: its ciphertexts are void.
        .ok_or(KmsError::InvalidCiphertext)?;
    unseal(app, key, &version)
}

/// The newest version's index and material (the one that encrypts and signs).
pub fn newest(app: &AppState, key: &KeyRecord) -> Result<(usize, Material), KmsError> {
    soft_only(key)?;
    match (key.current_index(), key.current.as_ref()) {
        (Some(index), Some(version)) => Ok((index, unseal(app, key, version)?)),
        _ => Err(KmsError::KeyNotEnabled),
    }
}

/// A key of the caller's own project, read only (administration, not use).
pub async fn own_key(app: &AppState, caller: &Caller, key_id: &str) -> Result<KeyRecord, KmsError> {
    let project = caller.project().to_owned();
    let key_id = key_id.to_owned();
    app.db
        .tx(move |tx| store::load(tx, &project, &key_id))
        .await
}

/// A key of the caller's own project and the number and creation time of
/// each of its versions, oldest first (ShowKeyRotationStatus).
pub async fn own_key_history(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
) -> Result<(KeyRecord, Vec<(usize, i64)>), KmsError> {
    let project = caller.project().to_owned();
    let key_id = key_id.to_owned();
    app.db
        .read(move |tx| {
            let key = store::load(tx, &project, &key_id)?;
            let history = store::version_history(tx, &key)?;
            Ok((key, history))
        })
        .await
}

/// Loads a key of the caller's own project, applies `change`, saves it; one transaction.
pub async fn change_own_key<F>(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
    mut change: F,
) -> Result<KeyRecord, KmsError>
where
    F: FnMut(&mut dyn Tx, &mut KeyRecord) -> Result<(), KmsError> + Send + 'static,
{
    let project = caller.project().to_owned();
    let key_id = key_id.to_owned();
    app.db
        .tx(move |tx| {
            let mut key = store::load(tx, &project, &key_id)?;
            change(tx, &mut key)?;
            store::save(tx, &key)?;
            Ok(key)
        })
        .await
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
