//! The start-up migration of key records written before older versions had
//! rows of their own (`versions.rs`).

use super::keys::{save, KeyRecord, KEYS};
use crate::kms::error::KmsError;
use crate::store::Tx;

/// One step of the startup migration: gives the older versions of records
/// written before versions had rows their own rows, for up to `limit`
/// records after `after`. Returns where to go on from (`None`: done) and
/// how many records changed. A record found already migrated is left alone,
/// so several nodes may run this at once.
pub fn upgrade_records(
    tx: &mut dyn Tx,
    after: Option<&str>,
    limit: usize,
) -> Result<(Option<String>, usize), KmsError> {
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
    Ok((next, changed))
}
