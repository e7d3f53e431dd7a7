//! Background sweeps, one round every `sweep_interval`: keys whose scheduled
//! deletion date passed are purged, keys whose rotation date passed are
//! rotated, imported material whose expiry passed is removed. Each reads a
//! due-date index (`store/schedules.rs`); with several nodes on one database,
//! one node at a time sweeps deletions (a cluster-wide lock).

use crate::kms::crypto::material;
use crate::kms::domain::import::drop_material;
use crate::kms::domain::rotation::{add_version, check_rotatable};
use crate::kms::domain::KeyState;
use crate::kms::error::KmsError;
use crate::kms::store::schedules::{self, EXPIRIES, ROTATIONS};
use crate::kms::store::{self, KeyRecord};
use crate::server::state::AppState;
use crate::store::Tx;
use std::time::Duration;

/// Deletes keys whose scheduled deletion date has passed; returns how many.
/// With several nodes on one database, one node at a time sweeps (a
/// cluster-wide lock); the others skip that round and report 0.
pub async fn sweep_deletions(app: &AppState) -> Result<usize, KmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    let swept = app
        .db
        .try_exclusive("kms-deletion-sweep", move |tx| {
            let due = store::due_deletions(tx, now_ms, 200)?;
            let mut purged = Vec::new();
            for (project, key_id) in due {
                if let Some(key) = store::find(tx, &project, &key_id)? {
                    if key.key_state == KeyState::PendingDeletion
                        && key.scheduled_deletion_ms.is_some_and(|d| d <= now_ms)
                    {
                        store::purge(tx, &key)?;
                        purged.push(key);
                    }
                }
            }
            Ok::<_, KmsError>(purged)
        })
        .await?
        .unwrap_or_default();
    // Once the records are gone, so is the material held in tokens. A token
    // that fails here keeps an object nothing refers to any more.
    for key in &swept {
        if let Err(e) = crate::kms::api::dispatch::destroy_in_token(app, key).await {
            tracing::warn!(key_id = %key.key_id, error = %e, "cannot remove a purged key from its token");
        }
    }
    Ok(swept.len())
}

/// What one round of the KMS sweeps did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub deleted: usize,
    pub rotated: usize,
    pub expired: usize,
}

impl Round {
    pub fn is_idle(&self) -> bool {
        *self == Round::default()
    }
}

/// One round of every KMS sweep: the background loop runs it every
/// `sweep_interval`, the dev clock right after a jump. Failures are logged,
/// counted (`dewstack_background_runs_total`) and retried next round.
pub async fn run_round(app: &AppState) -> Round {
    let deleted = counted(
        "kms_deletions",
        "keys_deleted",
        sweep_deletions(app).await,
        "deleted keys whose scheduled deletion date passed",
    );
    let rotated = counted(
        "kms_rotations",
        "keys_rotated",
        sweep_rotations(app).await,
        "rotated keys whose rotation date passed",
    );
    let expired = counted(
        "kms_material_expiry",
        "materials_removed",
        sweep_expired_material(app).await,
        "removed imported key material that expired",
    );
    Round {
        deleted,
        rotated,
        expired,
    }
}

fn counted(
    job: &'static str,
    item: &'static str,
    outcome: Result<usize, KmsError>,
    done: &str,
) -> usize {
    let m = crate::ops::metrics::metrics();
    m.job_run(job, outcome.is_ok());
    match outcome {
        Ok(n) => {
            m.job_items(job, item, n);
            if n > 0 {
                tracing::info!(keys = n, "{done}");
            }
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, job, "sweep failed; will retry");
            0
        }
    }
}

pub fn spawn_background(
    app: AppState,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            run_round(&app).await;
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => return,
            }
        }
    })
}

/// Applies `act` to every key whose entry in `table` is due; stale entries are dropped.
/// `act` returns whether it changed the key (which is then saved).
fn sweep_table(
    tx: &mut dyn Tx,
    table: &str,
    now_ms: i64,
    act: &mut dyn FnMut(&mut KeyRecord) -> Result<bool, KmsError>,
) -> Result<usize, KmsError> {
    let mut changed = 0;
    for (entry, project, key_id) in schedules::due(tx, table, now_ms, 200)? {
        match store::find(tx, &project, &key_id)? {
            Some(mut key) => {
                if act(&mut key)? {
                    // `save` moves the index entries to the key's new dates.
                    store::save(tx, &key)?;
                    changed += 1;
                } else {
                    // Not due after all: the entry is stale; index the key afresh.
                    schedules::remove_entry(tx, table, &entry)?;
                    store::reindex(tx, None, Some(&key))?;
                }
            }
            None => schedules::remove_entry(tx, table, &entry)?,
        }
    }
    Ok(changed)
}

/// Rotates every key whose scheduled rotation date has passed; returns how many.
pub(crate) async fn sweep_rotations(app: &AppState) -> Result<usize, KmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    let (keyring, rng) = (app.keyring.clone(), app.rng.clone());
    app.db
        .tx(move |tx| {
            sweep_table(tx, ROTATIONS, now_ms, &mut |key| {
                let due = key.next_rotation_ms().is_some_and(|d| d <= now_ms);
                if !due || check_rotatable(key).is_err() {
                    return Ok(false);
                }
                let sealed = material::seal_fresh(&keyring, &rng, &key.key_id, key.key_spec)?;
                add_version(key, sealed, now_ms);
                Ok(true)
            })
        })
        .await
}

/// Removes imported material whose expiration time has passed; returns how many keys.
pub(crate) async fn sweep_expired_material(app: &AppState) -> Result<usize, KmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            sweep_table(tx, EXPIRIES, now_ms, &mut |key| {
                if key.material_expiry_ms().is_none_or(|d| d > now_ms) {
                    return Ok(false);
                }
                drop_material(key);
                Ok(true)
            })
        })
        .await
}

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod tests;
