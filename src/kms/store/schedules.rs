//! Due-date indexes, all shaped `due_ms/project/key_id` so that a scan in key
//! order meets the earliest dates first: `kms_deletions` (scheduled key
//! deletions), `kms_rotations` (scheduled rotations) and
//! `kms_material_expiry` (imported material that runs out). `keys.rs` keeps
//! them in step with every saved key; the sweeps in `jobs.rs` read them.

use crate::kms::error::KmsError;
use crate::store::Tx;

pub const DELETIONS: &str = "kms_deletions";
pub const ROTATIONS: &str = "kms_rotations";
pub const EXPIRIES: &str = "kms_material_expiry";

/// A due date with the key it belongs to: (due_ms, project, key_id).
pub type Entry = (i64, String, String);

fn entry_key(due_ms: i64, project: &str, key_id: &str) -> String {
    format!("{:016}/{project}/{key_id}", due_ms.max(0))
}

pub fn add(
    tx: &mut dyn Tx,
    table: &str,
    due_ms: i64,
    project: &str,
    key_id: &str,
) -> Result<(), KmsError> {
    tx.put(table, &entry_key(due_ms, project, key_id), b"")?;
    Ok(())
}

pub fn remove(
    tx: &mut dyn Tx,
    table: &str,
    due_ms: i64,
    project: &str,
    key_id: &str,
) -> Result<(), KmsError> {
    tx.delete(table, &entry_key(due_ms, project, key_id))?;
    Ok(())
}

/// Removes one raw entry, as `due` returned it.
pub fn remove_entry(tx: &mut dyn Tx, table: &str, entry: &str) -> Result<(), KmsError> {
    tx.delete(table, entry)?;
    Ok(())
}

/// Moves a key's entry in `table` from `before` to `after` (either may be absent).
pub fn shift(
    tx: &mut dyn Tx,
    table: &str,
    before: Option<Entry>,
    after: Option<Entry>,
) -> Result<(), KmsError> {
    let before = before.map(|(d, p, k)| entry_key(d, &p, &k));
    let after = after.map(|(d, p, k)| entry_key(d, &p, &k));
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

/// (raw entry, project, key_id) of entries of `table` due at or before `now_ms`.
pub fn due(
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

/// (project, key_id) of keys whose deletion date is at or before `now_ms`.
pub fn due_deletions(
    tx: &mut dyn Tx,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<(String, String)>, KmsError> {
    Ok(due(tx, DELETIONS, now_ms, limit)?
        .into_iter()
        .map(|(_, project, id)| (project, id))
        .collect())
}
