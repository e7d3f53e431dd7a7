//! Per-project counters kept in the store (`counts` table), so that a quota
//! check reads one row instead of scanning a project's records. A service
//! moves a counter in the same transaction as the write it counts, so the
//! count is exactly as serializable as the records.
//!
//! A counter made after its records existed is computed once at start-up
//! (`rebuild`), in one transaction that also marks it ready; later starts
//! find the mark and read nothing else.

use super::engine::{StoreError, Tx};
use std::collections::BTreeMap;

const COUNTS: &str = "counts";
/// `{counter}` → empty: the counter was computed from the records.
const READY: &str = "counts_ready";

fn row(counter: &str, project: &str) -> String {
    format!("{counter}/{project}")
}

fn parse(bytes: &[u8]) -> Result<u64, StoreError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt {
            table: COUNTS.into(),
            detail: "a count is not a number".into(),
        })
}

/// The current value of `counter` for `project` (0 when never moved).
pub fn get(tx: &mut dyn Tx, counter: &str, project: &str) -> Result<u64, StoreError> {
    tx.get(COUNTS, &row(counter, project))?
        .map_or(Ok(0), |b| parse(&b))
}

/// Moves `counter` for `project` by `delta`, never below zero.
pub fn add(tx: &mut dyn Tx, counter: &str, project: &str, delta: i64) -> Result<(), StoreError> {
    let key = row(counter, project);
    let now = tx.get(COUNTS, &key)?.map_or(Ok(0), |b| parse(&b))?;
    let next = now.saturating_add_signed(delta);
    if next == 0 {
        tx.delete(COUNTS, &key)?;
    } else {
        tx.put(COUNTS, &key, next.to_string().as_bytes())?;
    }
    Ok(())
}

/// Computes `counter` from every row of `table` unless that was done before:
/// `project_of` names the project a row counts for (`None`: not counted).
/// Returns how many rows were read (0 when the counter was ready).
pub fn rebuild(
    tx: &mut dyn Tx,
    counter: &str,
    table: &str,
    mut project_of: impl FnMut(&str, &[u8]) -> Option<String>,
) -> Result<usize, StoreError> {
    if tx.get(READY, counter)?.is_some() {
        return Ok(0);
    }
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let (mut after, mut read) = (None::<String>, 0);
    loop {
        let page = tx.scan(table, "", after.as_deref(), 1000)?;
        let done = page.len() < 1000;
        for (key, bytes) in page {
            read += 1;
            if let Some(project) = project_of(&key, &bytes) {
                *totals.entry(project).or_default() += 1;
            }
            after = Some(key);
        }
        if done {
            break;
        }
    }
    // Rows of an earlier, interrupted attempt cannot exist: the mark and
    // the counts commit together. Counts moved by writes are overwritten by
    // the totals, which already include those writes.
    for (project, n) in totals {
        tx.put(COUNTS, &row(counter, &project), n.to_string().as_bytes())?;
    }
    tx.put(READY, counter, b"")?;
    Ok(read)
}

/// The project of a `{project}/{rest}` row key.
pub fn project_prefix(key: &str) -> Option<String> {
    key.split_once('/').map(|(p, _)| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        (dir, db)
    }

    #[test]
    fn add_get_and_never_below_zero() {
        let (_d, db) = db();
        db.tx_blocking(|tx| {
            assert_eq!(get(tx, "c", "p1")?, 0);
            add(tx, "c", "p1", 1)?;
            add(tx, "c", "p1", 1)?;
            add(tx, "c", "p2", 1)?;
            assert_eq!(get(tx, "c", "p1")?, 2);
            assert_eq!(get(tx, "c", "p2")?, 1);
            add(tx, "c", "p2", -1)?;
            add(tx, "c", "p2", -1)?;
            assert_eq!(get(tx, "c", "p2")?, 0);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }

    #[test]
    fn rebuild_counts_existing_rows_once() {
        let (_d, db) = db();
        db.tx_blocking(|tx| {
            for k in ["a/1", "a/2", "b/1", "c/skip"] {
                tx.put("things", k, b"x")?;
            }
            let only_ab = |k: &str, _: &[u8]| project_prefix(k).filter(|p| p != "c");
            assert_eq!(rebuild(tx, "things", "things", only_ab)?, 4);
            assert_eq!(get(tx, "things", "a")?, 2);
            assert_eq!(get(tx, "things", "b")?, 1);
            assert_eq!(get(tx, "things", "c")?, 0);
            // Ready now: a second start reads nothing and keeps the counts.
            add(tx, "things", "a", 1)?;
            assert_eq!(rebuild(tx, "things", "things", only_ab)?, 0);
            assert_eq!(get(tx, "things", "a")?, 3);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }
}
