//! The start-up migration of key records written before older versions had
//! rows of their own (`versions.rs`). It reads every key record, so it runs
//! to its end once: the transaction of its last page also writes a done mark
//! (`kms_migrations`), and a start that finds the mark reads nothing more.
//! Nothing dewstack writes since has the old shape (`save` never writes it),
//! and a record in that shape from anywhere else (an older node writing to
//! the same PostgreSQL database during an upgrade) still reads correctly
//! (`find`) and takes the new shape on its next write.

use super::keys::{save, KeyRecord, KEYS};
use crate::kms::error::KmsError;
use crate::store::Tx;

const MARKS: &str = "kms_migrations";
const VERSIONS_IN_ROWS: &str = "key_versions_in_rows";

/// One step of the startup migration: gives the older versions of records
/// written before versions had rows their own rows, for up to `limit`
/// records after `after`. Returns where to go on from (`None`: done) and
/// how many records changed. A record found already migrated is left alone,
/// so several nodes may run this at once. Once done, the first step (from
/// `None`) finds the mark and answers done at once.
pub fn upgrade_records(
    tx: &mut dyn Tx,
    after: Option<&str>,
    limit: usize,
) -> Result<(Option<String>, usize), KmsError> {
    if after.is_none() && tx.get(MARKS, VERSIONS_IN_ROWS)?.is_some() {
        return Ok((None, 0));
    }
    let page = tx.scan(KEYS, "", after, limit)?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|(k, _)| k.clone()))
        .flatten();
    let mut changed = 0;
    for (row, bytes) in page {
        let Ok(record) = serde_json::from_slice::<KeyRecord>(&bytes) else {
            // Requests naming it fail as before; one bad record must not
            // keep the whole service from starting.
            tracing::warn!(record = %row, "key record does not decode; not migrated");
            continue;
        };
        if !record.legacy_versions.is_empty() {
            save(tx, &record.upgraded())?;
            changed += 1;
        }
    }
    if next.is_none() {
        tx.put(MARKS, VERSIONS_IN_ROWS, b"")?;
    }
    Ok((next, changed))
}

/// Whether the migration has run to its end (tests).
#[cfg(test)]
pub fn upgraded_all(tx: &mut dyn Tx) -> Result<bool, KmsError> {
    Ok(tx.get(MARKS, VERSIONS_IN_ROWS)?.is_some())
}
