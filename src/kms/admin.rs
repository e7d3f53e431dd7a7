//! Key administration state kept on each key (rotation schedule, imported
//! material fingerprint), the two due-date indexes the background sweeps read
//! (`kms_rotations`, `kms_material_expiry`, both `due_ms/project/key_id`), and
//! the sweep loop body. `store::save` and `store::purge` call `reindex` so the
//! indexes change in the same transaction as the key.

use super::domain::{KeyState, Origin};
use super::error::KmsError;
use super::store::{self, KeyRecord};
use crate::auth::Caller;
use crate::server::state::AppState;
use crate::store::Tx;
use serde::{Deserialize, Serialize};

const ROTATIONS: &str = "kms_rotations";
const EXPIRIES: &str = "kms_material_expiry";
pub const DAY_MS: i64 = 86_400_000;

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
        self.rotation_interval_days
            .unwrap_or(super::rotation::DEFAULT_INTERVAL_DAYS)
    }
}

/// When the key is next rotated by the schedule: only enabled keys with
/// rotation on are scheduled; the interval counts from the latest rotation
/// (scheduled or on demand) or from when rotation was enabled.
pub fn next_rotation_ms(key: &KeyRecord) -> Option<i64> {
    let a = &key.admin;
    if !a.rotation_enabled || key.key_state != KeyState::Enabled {
        return None;
    }
    let base = match (a.rotation_enabled_ms, a.last_rotation_ms) {
        (Some(e), Some(l)) => e.max(l),
        (Some(e), None) => e,
        (None, Some(l)) => l,
        (None, None) => key.creation_ms,
    };
    Some(base.saturating_add(a.interval_days().saturating_mul(DAY_MS)))
}

/// When imported material runs out, if it has an expiry and is present.
pub fn material_expiry_ms(key: &KeyRecord) -> Option<i64> {
    if key.origin != Origin::External || key.versions.is_empty() {
        return None;
    }
    key.expiration_ms
}

fn due_key(due_ms: i64, key: &KeyRecord) -> String {
    format!("{:016}/{}/{}", due_ms.max(0), key.project_id, key.key_id)
}

fn move_entry(
    tx: &mut dyn Tx,
    table: &str,
    due: fn(&KeyRecord) -> Option<i64>,
    old: Option<&KeyRecord>,
    new: Option<&KeyRecord>,
) -> Result<(), KmsError> {
    let before = old.and_then(|k| due(k).map(|d| due_key(d, k)));
    let after = new.and_then(|k| due(k).map(|d| due_key(d, k)));
    if before == after {
        return Ok(());
    }
    if let Some(b) = before {
        tx.delete(table, &b)?;
    }
    if let Some(a) = after {
        tx.put(table, &a, b"")?;
    }
    Ok(())
}

/// Keeps both due-date indexes in step with a key going from `old` to `new`.
pub fn reindex(
    tx: &mut dyn Tx,
    old: Option<&KeyRecord>,
    new: Option<&KeyRecord>,
) -> Result<(), KmsError> {
    move_entry(tx, ROTATIONS, next_rotation_ms, old, new)?;
    move_entry(tx, EXPIRIES, material_expiry_ms, old, new)
}

/// Everything tied to a key that is being purged.
pub fn on_purge(tx: &mut dyn Tx, key: &KeyRecord) -> Result<(), KmsError> {
    reindex(tx, Some(key), None)?;
    super::grant_store::purge_key(tx, &key.project_id, &key.key_id)?;
    super::import::forget_params(tx, &key.project_id, &key.key_id)
}

/// (project, key_id) entries of `table` due at or before `now_ms`.
fn due_entries(
    tx: &mut dyn Tx,
    table: &str,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<(String, String, String)>, KmsError> {
    let mut due = Vec::new();
    for (k, _) in tx.scan(table, "", None, limit)? {
        let mut parts = k.splitn(3, '/');
        let (Some(ts), Some(project), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if ts.parse::<i64>().unwrap_or(i64::MAX) > now_ms {
            break;
        }
        due.push((k.clone(), project.to_owned(), id.to_owned()));
    }
    Ok(due)
}

/// Applies `act` to every key whose entry in `table` is due; stale entries are dropped.
/// `act` returns whether it changed the key (which is then saved).
pub(super) fn sweep_table(
    tx: &mut dyn Tx,
    table: &str,
    now_ms: i64,
    act: &mut dyn FnMut(&mut KeyRecord) -> Result<bool, KmsError>,
) -> Result<usize, KmsError> {
    let mut changed = 0;
    for (entry, project, key_id) in due_entries(tx, table, now_ms, 200)? {
        match store::find(tx, &project, &key_id)? {
            Some(mut key) => {
                if act(&mut key)? {
                    // `save` moves the index entries to the key's new dates.
                    store::save(tx, &key)?;
                    changed += 1;
                } else {
                    // Not due after all: the entry is stale; index the key afresh.
                    tx.delete(table, &entry)?;
                    reindex(tx, None, Some(&key))?;
                }
            }
            None => {
                tx.delete(table, &entry)?;
            }
        }
    }
    Ok(changed)
}

pub(super) const ROTATIONS_TABLE: &str = ROTATIONS;
pub(super) const EXPIRIES_TABLE: &str = EXPIRIES;

/// One round of the administration sweeps (scheduled rotations, expired
/// imported material); failures are logged and retried next round.
pub async fn sweep_all(app: &AppState) {
    match super::rotation::sweep_rotations(app).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(keys = n, "rotated keys whose rotation date passed"),
        Err(e) => tracing::warn!(error = %e, "rotation sweep failed; will retry"),
    }
    match super::import::sweep_expired_material(app).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(keys = n, "removed imported key material that expired"),
        Err(e) => tracing::warn!(error = %e, "material expiry sweep failed; will retry"),
    }
}

/// Loads a key of the caller's own project, applies `change`, saves it; one transaction.
pub(super) async fn change_own<F>(
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

/// A key of the caller's own project, read only.
pub(super) async fn load_own(
    app: &AppState,
    caller: &Caller,
    key_id: &str,
) -> Result<KeyRecord, KmsError> {
    let project = caller.project().to_owned();
    let key_id = key_id.to_owned();
    app.db
        .tx(move |tx| store::load(tx, &project, &key_id))
        .await
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;

#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used)]
    //! An `AppState` on a temporary database with a fixed clock, for sweep tests.
    use crate::clock::FixedClock;
    use crate::common::crypto::RootKey;
    use crate::iam::directory::{Directory, RootIdentity};
    use crate::server::state::AppState;
    use crate::store::Db;
    use std::sync::Arc;

    pub fn app() -> (AppState, Arc<FixedClock>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let clock = Arc::new(FixedClock::new(
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        ));
        let root = RootIdentity {
            domain_id: "d0".into(),
            domain_name: "dewstack".into(),
            project_id: "p0".into(),
            user_name: "admin".into(),
            user_id: "u0".into(),
            password: "pw".into(),
            access_key: "AK".into(),
            secret_key: "SK".into(),
        };
        let directory = Directory::build(&root, "r", &[]).unwrap();
        let app = AppState::new(
            db,
            clock.clone(),
            crate::rng::Rng::seeded(0),
            directory,
            &RootKey::from_bytes([7; 32]),
            "r",
        );
        (app, clock, dir)
    }
}
