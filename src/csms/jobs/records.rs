//! The bound on stored notification records. ListNotificationRecords shows
//! a project's records; the cloud publishes no retention, so dewstack keeps
//! the newest `MAX_RECORDS` per project and drops older ones as new ones are
//! written (dewstack's choice). An outbox entry whose record was dropped is
//! still delivered; only its status has nowhere to go.

use crate::csms::error::CsmsError;
use crate::store::Tx;

/// Notification records kept per project (dewstack's choice).
pub const MAX_RECORDS: usize = 500;

/// Drops the oldest records of `project` beyond `MAX_RECORDS`. Record keys
/// are `project/{ms:016}/{id}`, so a key scan lists them oldest first.
pub fn prune(tx: &mut dyn Tx, table: &str, project: &str) -> Result<(), CsmsError> {
    prune_to(tx, table, project, MAX_RECORDS)
}

pub fn prune_to(tx: &mut dyn Tx, table: &str, project: &str, keep: usize) -> Result<(), CsmsError> {
    // Enough to see the excess a single emit can add (one per subscribed
    // event) and, on an old database, more: each call takes off up to 100.
    let rows = tx.scan(table, &format!("{project}/"), None, keep + 100)?;
    let excess = rows.len().saturating_sub(keep);
    for (key, _) in rows.iter().take(excess) {
        tx.delete(table, key)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::Db;

    #[tokio::test]
    async fn keeps_the_newest_records_per_project() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let left = db
            .tx(|tx| {
                for ms in 0..8u64 {
                    tx.put("recs", &format!("p/{ms:016}/x"), b"{}")?;
                }
                tx.put("recs", "q/0000000000000000/x", b"{}")?;
                prune_to(tx, "recs", "p", 5)?;
                Ok::<_, CsmsError>(tx.scan("recs", "", None, 100)?)
            })
            .await
            .unwrap();
        let keys: Vec<String> = left.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys.len(), 6);
        assert_eq!(keys[0], format!("p/{:016}/x", 3));
        assert!(keys.contains(&"q/0000000000000000/x".to_string()));
    }
}
