//! Kept grant counts, so that ShowUserQuotas (`grant_per_CMK` used: the
//! most grants on any one key of the project) reads a bounded number of rows
//! instead of every grant of the project. Two things move in the grant's own
//! transaction (`grants::insert`/`remove`):
//! - per key: `kms_grant_counts`, row `project/key_id` → its grant count;
//! - per project, a histogram: `kms_grant_sizes`, row `project/{n:06}` → how
//!   many of its keys have exactly `n` grants.
//!
//! The largest `n` with a row is the answer; the per-key grant quota bounds
//! the rows read. Grants stored before these counts existed are counted
//! once at start-up (`rebuild`), with a done mark in the same transaction.

use crate::kms::error::KmsError;
use crate::store::Tx;
use std::collections::BTreeMap;

const PER_KEY: &str = "kms_grant_counts";
const SIZES: &str = "kms_grant_sizes";
const MARKS: &str = "kms_migrations";
const COUNTED: &str = "grants_counted";

fn number(bytes: Option<Vec<u8>>) -> u64 {
    // A row is only ever written by `put_number` below.
    bytes
        .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
        .unwrap_or(0)
}

fn put_number(tx: &mut dyn Tx, table: &str, row: &str, n: u64) -> Result<(), KmsError> {
    if n == 0 {
        tx.delete(table, row)?;
    } else {
        tx.put(table, row, n.to_string().as_bytes())?;
    }
    Ok(())
}

fn size_row(project: &str, n: u64) -> String {
    format!("{project}/{n:06}")
}

fn move_size(tx: &mut dyn Tx, project: &str, n: u64, delta: i64) -> Result<(), KmsError> {
    if n == 0 {
        return Ok(());
    }
    let row = size_row(project, n);
    let now = number(tx.get(SIZES, &row)?);
    put_number(tx, SIZES, &row, now.saturating_add_signed(delta))
}

/// A grant of `key_id` was added (`delta` 1) or removed (-1).
pub fn moved(tx: &mut dyn Tx, project: &str, key_id: &str, delta: i64) -> Result<(), KmsError> {
    let row = format!("{project}/{key_id}");
    let before = number(tx.get(PER_KEY, &row)?);
    let after = before.saturating_add_signed(delta);
    put_number(tx, PER_KEY, &row, after)?;
    move_size(tx, project, before, -1)?;
    move_size(tx, project, after, 1)
}

/// The most grants any one key of `project` has (0 without grants).
pub fn most_on_one_key(tx: &mut dyn Tx, project: &str) -> Result<usize, KmsError> {
    let prefix = format!("{project}/");
    let (mut after, mut most) = (None::<String>, 0);
    loop {
        let page = tx.scan(SIZES, &prefix, after.as_deref(), 200)?;
        let done = page.len() < 200;
        for (row, _) in page {
            let n = row.strip_prefix(&prefix).and_then(|n| n.parse().ok());
            most = most.max(n.unwrap_or(0));
            after = Some(row);
        }
        if done {
            return Ok(most);
        }
    }
}

/// Counts the grants stored before they were counted, once. Returns how
/// many grant rows were read (0 when already done).
pub fn rebuild(tx: &mut dyn Tx, grants_table: &str) -> Result<usize, KmsError> {
    if tx.get(MARKS, COUNTED)?.is_some() {
        return Ok(0);
    }
    let mut per_key: BTreeMap<String, u64> = BTreeMap::new();
    let (mut after, mut read) = (None::<String>, 0);
    loop {
        let page = tx.scan(grants_table, "", after.as_deref(), 1000)?;
        let done = page.len() < 1000;
        for (row, _) in page {
            read += 1;
            if let Some((project_key, _grant)) = row.rsplit_once('/') {
                *per_key.entry(project_key.to_owned()).or_default() += 1;
            }
            after = Some(row);
        }
        if done {
            break;
        }
    }
    // Counts moved by writes before the mark (a database used by code that
    // counted, without its mark) are replaced by the totals.
    clear(tx, PER_KEY)?;
    clear(tx, SIZES)?;
    let mut sizes: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for (project_key, n) in per_key {
        put_number(tx, PER_KEY, &project_key, n)?;
        let project = project_key.split_once('/').map_or("", |(p, _)| p);
        *sizes.entry((project.to_owned(), n)).or_default() += 1;
    }
    for ((project, n), keys) in sizes {
        put_number(tx, SIZES, &size_row(&project, n), keys)?;
    }
    tx.put(MARKS, COUNTED, b"")?;
    Ok(read)
}

fn clear(tx: &mut dyn Tx, table: &str) -> Result<(), KmsError> {
    loop {
        let page = tx.scan(table, "", None, 1000)?;
        if page.is_empty() {
            return Ok(());
        }
        for (row, _) in page {
            tx.delete(table, &row)?;
        }
    }
}
