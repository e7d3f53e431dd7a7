//! The per-project secret counts (`store::counts`): all secrets (the
//! secret quota) and those pending deletion (the metrics inventory's secrets
//! by state: the enabled ones are the rest).

use crate::csms::domain::SecretState;
use crate::csms::error::CsmsError;
use crate::store::{counts, Tx};

/// `{project}/{name}` → `SecretRecord` (here, so that this file needs nothing of `store.rs`).
pub(super) const SECRETS: &str = "csms_secrets";
/// Per project: its secrets (the secret quota).
pub(super) const SECRET_COUNT: &str = "csms_secrets";
/// Per project: its secrets pending deletion.
const PENDING_COUNT: &str = "csms_secrets_pending_delete";

/// Whether `project` holds `quota` secrets or more: one counter row
/// (`store::counts`), moved by `insert_secret` and `purge_secret`.
pub fn secret_quota_reached(
    tx: &mut dyn Tx,
    project: &str,
    quota: usize,
) -> Result<bool, CsmsError> {
    Ok(secret_count(tx, project)? >= quota as u64)
}

/// The project's secrets, from the counter kept with every insert and purge.
pub fn secret_count(tx: &mut dyn Tx, project: &str) -> Result<u64, CsmsError> {
    Ok(counts::get(tx, SECRET_COUNT, project)?)
}

/// The project's secrets pending deletion, from the counter kept by
/// `save_secret` and `purge_secret`.
pub fn pending_delete_count(tx: &mut dyn Tx, project: &str) -> Result<u64, CsmsError> {
    Ok(counts::get(tx, PENDING_COUNT, project)?)
}

/// A secret of `project` went from state `old` to `new` (`None`: did not
/// exist / is gone).
pub(super) fn state_moved(
    tx: &mut dyn Tx,
    project: &str,
    old: Option<SecretState>,
    new: Option<SecretState>,
) -> Result<(), CsmsError> {
    let pending = |s: Option<SecretState>| i64::from(s == Some(SecretState::PendingDelete));
    let delta = pending(new) - pending(old);
    if delta != 0 {
        counts::add(tx, PENDING_COUNT, project, delta)?;
    }
    Ok(())
}

/// A page of every project's secrets in key order (`project/name`), strictly
/// after `after`: for start-up upgrades that visit each secret once.
pub fn secrets_page(
    tx: &mut dyn Tx,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Vec<u8>)>, CsmsError> {
    Ok(tx.scan(SECRETS, "", after, limit)?)
}

/// Computes the secret counts of secrets stored before they were counted (once).
pub fn count_existing(tx: &mut dyn Tx) -> Result<usize, CsmsError> {
    Ok(counts::rebuild(tx, SECRET_COUNT, SECRETS, |row, _| {
        counts::project_prefix(row)
    })?)
}

/// The same for the secrets pending deletion, counted since the metrics
/// inventory stopped reading every secret (once).
pub fn count_pending_existing(tx: &mut dyn Tx) -> Result<usize, CsmsError> {
    Ok(counts::rebuild(
        tx,
        PENDING_COUNT,
        SECRETS,
        |row, bytes| {
            // Only the state is needed; a record that does not decode is
            // counted by nothing here, as requests naming it fail anyway.
            #[derive(serde::Deserialize)]
            struct State {
                state: SecretState,
            }
            let s: State = serde_json::from_slice(bytes).ok()?;
            (s.state == SecretState::PendingDelete)
                .then(|| counts::project_prefix(row))
                .flatten()
        },
    )?)
}

#[cfg(test)]
#[path = "count_tests.rs"]
mod tests;
