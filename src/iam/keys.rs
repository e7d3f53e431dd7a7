//! Access keys that change at run time: keys made by rotating a CSMS IAM
//! secret, and the retirement of any key (config or rotated) a rotation
//! replaced. Rows `iam_access_keys` `AK` → `KeyRow` (the secret key sealed
//! with a purpose-bound subkey of the root key, associated data the AK), an
//! index `iam_user_keys` `domain/user/AK` for counting a user's keys, so
//! every node and every restart sees the same keys.
//!
//! The signature check asks `access_key` on every signed request: a
//! per-node cache answers it, refreshed from the store after `CACHE_TTL_MS`
//! (dewstack's choice: a key retired on another node is honoured there for
//! at most that long after its retirement time; a new key is found at once,
//! misses are never cached).

use super::directory::Directory;
use crate::common::crypto::{RootKey, Sealer};
use crate::rng::Rng;
use crate::store::{StoreError, Tx, TxExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

pub const KEYS: &str = "iam_access_keys";
pub const USER_KEYS: &str = "iam_user_keys";
/// How long a key a rotation replaced keeps working. The cloud publishes no
/// grace for its IAM credential rotation; dewstack's choice: one day, so
/// that every client re-reads `SYSCURRENT` in time.
pub const GRACE_MS: i64 = 24 * 3_600_000;
/// IAM's limit: "each user can have a maximum of two access keys".
pub const MAX_KEYS_PER_USER: usize = 2;
const CACHE_TTL_MS: i64 = 5_000;
const CACHE_MAX: usize = 4_096;
/// Longer access key ids are never looked up (IAM's are 20 characters).
const MAX_AK_LEN: usize = 128;

#[derive(Serialize, Deserialize, Clone)]
pub struct KeyRow {
    pub domain_id: String,
    pub user_id: String,
    /// The sealed secret key, base64; absent for a key of the config file
    /// (its row only records the retirement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    pub created_ms: i64,
    /// From this time on the key is refused.
    #[serde(default)]
    pub disable_ms: Option<i64>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("domain_id", &self.domain_id)
            .field("user_id", &self.user_id)
            .field("created_ms", &self.created_ms)
            .field("disable_ms", &self.disable_ms)
            .finish_non_exhaustive()
    }
}

/// An access key as the signature check needs it.
pub struct ResolvedKey {
    pub secret_key: Zeroizing<String>,
    pub domain_id: String,
    pub user_id: String,
    pub disable_ms: Option<i64>,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("secret_key", &crate::config::REDACTED)
            .field("domain_id", &self.domain_id)
            .field("user_id", &self.user_id)
            .field("disable_ms", &self.disable_ms)
            .finish()
    }
}

impl ResolvedKey {
    pub fn enabled_at(&self, now_ms: i64) -> bool {
        self.disable_ms.is_none_or(|d| now_ms < d)
    }
}

/// The sealer of rotated secret keys and the per-node cache.
pub struct KeyRing {
    sealer: Sealer,
    cache: Mutex<HashMap<String, (Arc<ResolvedKey>, i64)>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

impl KeyRing {
    pub fn new(root: &RootKey, rng: Rng) -> Self {
        Self {
            sealer: Sealer::new(&root.derive("dewstack/iam-access-keys/v1"), rng),
            cache: Mutex::default(),
        }
    }

    pub fn seal(&self, ak: &str, sk: &str) -> String {
        crate::common::b64::encode(self.sealer.seal(sk.as_bytes(), ak.as_bytes()))
    }

    fn open(&self, ak: &str, sealed: &str) -> Option<Zeroizing<String>> {
        let bytes = crate::common::b64::decode(sealed).ok()?;
        let plain = self.sealer.open(&bytes, ak.as_bytes()).ok()?;
        String::from_utf8(plain.to_vec()).ok().map(Zeroizing::new)
    }

    /// Drops what this node cached about `ak` (after a rotation changed it).
    pub fn forget(&self, ak: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(ak);
        }
    }

    fn cached(&self, ak: &str, now_ms: i64) -> Option<Arc<ResolvedKey>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(ak)
            .filter(|(_, at)| now_ms.saturating_sub(*at) < CACHE_TTL_MS && *at <= now_ms)
            .map(|(k, _)| k.clone())
    }

    fn remember(&self, ak: &str, key: Arc<ResolvedKey>, now_ms: i64) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(ak.to_owned(), (key, now_ms));
        }
    }

    /// The key `ak` names, from the config file or a rotation, with its
    /// retirement time; `None` when no such key exists. Whether it is still
    /// enabled is the caller's check (`ResolvedKey::enabled_at`).
    pub fn resolve_with(
        &self,
        tx: &mut dyn Tx,
        directory: &Directory,
        ak: &str,
    ) -> Result<Option<ResolvedKey>, StoreError> {
        if ak.len() > MAX_AK_LEN {
            return Ok(None);
        }
        let row: Option<KeyRow> = tx.get_json(KEYS, ak)?;
        let configured = directory.access_key(ak);
        Ok(match (configured, row) {
            (Some(k), row) => Some(ResolvedKey {
                secret_key: k.secret_key.clone(),
                domain_id: k.domain_id.clone(),
                user_id: k.user_id.clone(),
                disable_ms: row.and_then(|r| r.disable_ms),
            }),
            (None, Some(row)) => {
                let sealed = row.sealed.as_deref().unwrap_or_default();
                self.open(ak, sealed).map(|secret_key| ResolvedKey {
                    secret_key,
                    domain_id: row.domain_id,
                    user_id: row.user_id,
                    disable_ms: row.disable_ms,
                })
            }
            (None, None) => None,
        })
    }
}

/// The key `ak` names if it is enabled at `now_ms`: what the signature check uses.
pub async fn access_key(
    db: &crate::store::Db,
    ring: &Arc<KeyRing>,
    directory: &Arc<Directory>,
    ak: &str,
    now_ms: i64,
) -> Result<Option<Arc<ResolvedKey>>, StoreError> {
    let key = match ring.cached(ak, now_ms) {
        Some(k) => Some(k),
        None => {
            let (r, d, a) = (ring.clone(), directory.clone(), ak.to_owned());
            let found = db.read(move |tx| r.resolve_with(tx, &d, &a)).await?;
            found.map(|k| {
                let k = Arc::new(k);
                ring.remember(ak, k.clone(), now_ms);
                k
            })
        }
    };
    Ok(key.filter(|k| k.enabled_at(now_ms)))
}

/// A user's key as the two-key rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKey {
    pub ak: String,
    pub disable_ms: Option<i64>,
}

/// What a rotation of `old` does to the user's other keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirements {
    /// `old`, working until then.
    pub old_until: i64,
    /// Keys already retiring that are cut off now, so that the user keeps at
    /// most two keys.
    pub cut_now: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationRefused {
    /// `old` is not an enabled key of the user.
    NotLive,
    /// The user has another key that is not retiring: a new one would be a third.
    Quota,
}

/// The two-key rule of a rotation at `now_ms`: `old` must be live; after
/// the rotation the user holds the new key and `old` (for `GRACE_MS`).
/// Another key still in its grace (from an earlier rotation) is cut off at
/// once; another key not retiring makes the new one a third, which IAM
/// refuses.
pub fn plan_retirements(
    live: &[LiveKey],
    old: &str,
    now_ms: i64,
) -> Result<Retirements, RotationRefused> {
    let live: Vec<&LiveKey> = live
        .iter()
        .filter(|k| k.disable_ms.is_none_or(|d| now_ms < d))
        .collect();
    let this = live
        .iter()
        .find(|k| k.ak == old)
        .ok_or(RotationRefused::NotLive)?;
    let others: Vec<&&LiveKey> = live.iter().filter(|k| k.ak != old).collect();
    if others.len() + 2 > MAX_KEYS_PER_USER && others.iter().any(|k| k.disable_ms.is_none()) {
        return Err(RotationRefused::Quota);
    }
    let grace_end = now_ms.saturating_add(GRACE_MS);
    Ok(Retirements {
        old_until: this.disable_ms.map_or(grace_end, |d| d.min(grace_end)),
        cut_now: others.iter().map(|k| k.ak.clone()).collect(),
    })
}

fn user_prefix(domain_id: &str, user_id: &str) -> String {
    format!("{domain_id}/{user_id}/")
}

/// Every key of a user, configured and rotated, with retirement times.
pub fn keys_of_user(
    tx: &mut dyn Tx,
    directory: &Directory,
    domain_id: &str,
    user_id: &str,
) -> Result<Vec<LiveKey>, StoreError> {
    let mut out = Vec::new();
    for ak in directory.access_keys_of(domain_id, user_id) {
        let row: Option<KeyRow> = tx.get_json(KEYS, ak)?;
        out.push(LiveKey {
            ak: ak.to_owned(),
            disable_ms: row.and_then(|r| r.disable_ms),
        });
    }
    let prefix = user_prefix(domain_id, user_id);
    // Bounded: `install` purges a user's dead rotated keys, so at most a few rows.
    for (key, _) in tx.scan(USER_KEYS, &prefix, None, 64)? {
        let ak = key.strip_prefix(&prefix).unwrap_or_default();
        if directory.access_key(ak).is_some() {
            continue;
        }
        let row: Option<KeyRow> = tx.get_json(KEYS, ak)?;
        if let Some(row) = row {
            out.push(LiveKey {
                ak: ak.to_owned(),
                disable_ms: row.disable_ms,
            });
        }
    }
    Ok(out)
}

/// A new access key for a rotation, not yet installed.
pub struct NewKey {
    pub access_key: String,
    pub secret_key: Zeroizing<String>,
    pub sealed: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// An AK of 20 upper-case letters and digits and a 40-character SK, as IAM's look.
pub fn new_key(ring: &KeyRing, rng: &Rng) -> NewKey {
    let access_key = super::directory::upper_alnum(rng, 20);
    let secret_key = Zeroizing::new(super::directory::alnum(rng, 40));
    let sealed = ring.seal(&access_key, &secret_key);
    NewKey {
        access_key,
        secret_key,
        sealed,
    }
}

/// Installs `new` for the user of `old` and retires `old` (and what the
/// two-key rule cuts off); purges the user's rotated keys that are dead.
/// Returns the keys whose cache entries are stale.
pub fn install(
    tx: &mut dyn Tx,
    directory: &Directory,
    domain_id: &str,
    user_id: &str,
    old: &str,
    new: &NewKey,
    now_ms: i64,
) -> Result<Result<Vec<String>, RotationRefused>, StoreError> {
    let keys = keys_of_user(tx, directory, domain_id, user_id)?;
    let plan = match plan_retirements(&keys, old, now_ms) {
        Ok(p) => p,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut touched = vec![old.to_owned(), new.access_key.clone()];
    let retire = |tx: &mut dyn Tx, ak: &str, until: i64| -> Result<(), StoreError> {
        let mut row: KeyRow = tx.get_json(KEYS, ak)?.unwrap_or(KeyRow {
            domain_id: domain_id.to_owned(),
            user_id: user_id.to_owned(),
            sealed: None,
            created_ms: now_ms,
            disable_ms: None,
        });
        row.disable_ms = Some(until);
        tx.put_json(KEYS, ak, &row)
    };
    retire(tx, old, plan.old_until)?;
    for ak in &plan.cut_now {
        retire(tx, ak, now_ms)?;
        touched.push(ak.clone());
    }
    for k in &keys {
        let dead = k.disable_ms.is_some_and(|d| d <= now_ms) || plan.cut_now.contains(&k.ak);
        if dead && directory.access_key(&k.ak).is_none() {
            tx.delete(KEYS, &k.ak)?;
            tx.delete(
                USER_KEYS,
                &format!("{}{}", user_prefix(domain_id, user_id), k.ak),
            )?;
        }
    }
    let row = KeyRow {
        domain_id: domain_id.to_owned(),
        user_id: user_id.to_owned(),
        sealed: Some(new.sealed.clone()),
        created_ms: now_ms,
        disable_ms: None,
    };
    tx.put_json(KEYS, &new.access_key, &row)?;
    let index = format!("{}{}", user_prefix(domain_id, user_id), new.access_key);
    tx.put(USER_KEYS, &index, b"")?;
    Ok(Ok(touched))
}

#[cfg(test)]
mod tests;
