//! The per-project secret count behind the secret quota (`store::counts`).

use crate::csms::error::CsmsError;
use crate::store::{counts, Tx};

/// `{project}/{name}` → `SecretRecord` (here, so that this file needs nothing of `store.rs`).
pub(super) const SECRETS: &str = "csms_secrets";
/// Per project: its secrets (the secret quota).
pub(super) const SECRET_COUNT: &str = "csms_secrets";

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
