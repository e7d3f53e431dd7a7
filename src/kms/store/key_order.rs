//! What ListKeys and the metrics inventory read instead of a project's key
//! records, kept in step by every key save and purge in its transaction:
//! - `kms_key_order`: row `project/{bucket}/{creation_ms:020}/{key_id}` →
//!   the key's state code, once in bucket `ALL` and once in the bucket of
//!   its spec, so a list filtered by spec (the default lists AES_256 only)
//!   is one range in ListKeys' order (oldest first, then key id);
//! - `kms_key_tally`: row `project/{spec}/{state code}` → how many keys,
//!   so a list's `total` and the keys by state read at most specs × states
//!   rows, never the keys;
//! - the keys each key store holds (`store::counts`), which DeleteKeyStore
//!   asks before it may remove a store.
//!
//! A `key_state` filter has no index of its own: it reads the order rows of
//! the spec's range (a few dozen bytes each, no record decoded) until the
//! page is full. dewstack's choice: one more index per state would double
//! the rows every state change moves, for a filter that the cloud's own
//! console rarely sends. Keys stored before this index existed are indexed
//! once at start-up (`upkeep::index_existing`), with a done mark.

use crate::kms::domain::{KeySpec, KeyState};
use crate::kms::error::KmsError;
use crate::store::{counts, StoreError, Tx};

pub(super) const ORDER: &str = "kms_key_order";
pub(super) const TALLY: &str = "kms_key_tally";
/// Per `project/keystore_id`: the keys of a key store (not the default one).
pub(super) const IN_KEYSTORE: &str = "kms_keystore_keys";
const ALL: &str = "ALL";
/// Order rows read per scan while skipping to a page.
const SCAN_PAGE: usize = 1000;

/// The facts of a key the list orders and counts by.
#[derive(Clone, Copy)]
pub struct Listed<'a> {
    pub project: &'a str,
    pub key_id: &'a str,
    pub spec: KeySpec,
    pub state: KeyState,
    pub created_ms: i64,
    pub keystore_id: &'a str,
}

impl Listed<'_> {
    fn order_rows(&self) -> [String; 2] {
        // Creation times before 1970 cannot be made through the API; they
        // sort first rather than wrap around.
        let created = u64::try_from(self.created_ms).unwrap_or(0);
        [ALL, self.spec.as_str()]
            .map(|bucket| format!("{}/{bucket}/{created:020}/{}", self.project, self.key_id))
    }

    fn tally_row(&self) -> String {
        format!(
            "{}/{}/{}",
            self.project,
            self.spec.as_str(),
            self.state.code()
        )
    }

    fn keystore(&self) -> Option<String> {
        (self.keystore_id != "0" && !self.keystore_id.is_empty())
            .then(|| format!("{}/{}", self.project, self.keystore_id))
    }
}

/// A key went from `old` to `new` (`None`: did not exist / is gone).
pub fn moved(tx: &mut dyn Tx, old: Option<Listed>, new: Option<Listed>) -> Result<(), KmsError> {
    if let (Some(o), Some(n)) = (old, new) {
        let same = (o.spec, o.state, o.created_ms) == (n.spec, n.state, n.created_ms);
        if same && o.keystore_id == n.keystore_id {
            return Ok(());
        }
    }
    if let Some(o) = old {
        for row in o.order_rows() {
            tx.delete(ORDER, &row)?;
        }
        add(tx, &o.tally_row(), -1)?;
        if let Some(ks) = o.keystore() {
            counts::add(tx, IN_KEYSTORE, &ks, -1)?;
        }
    }
    if let Some(n) = new {
        for row in n.order_rows() {
            tx.put(ORDER, &row, n.state.code().as_bytes())?;
        }
        add(tx, &n.tally_row(), 1)?;
        if let Some(ks) = n.keystore() {
            counts::add(tx, IN_KEYSTORE, &ks, 1)?;
        }
    }
    Ok(())
}

fn number(table: &str, bytes: &[u8]) -> Result<u64, StoreError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt {
            table: table.into(),
            detail: "a tally is not a number".into(),
        })
}

pub(super) fn add(tx: &mut dyn Tx, row: &str, delta: i64) -> Result<(), KmsError> {
    let now = tx.get(TALLY, row)?.map_or(Ok(0), |b| number(TALLY, &b))?;
    match now.saturating_add_signed(delta) {
        0 => tx.delete(TALLY, row).map(|_| ())?,
        n => tx.put(TALLY, row, n.to_string().as_bytes())?,
    }
    Ok(())
}

/// A project's keys by spec and state, from its tally rows (at most specs ×
/// states of them).
pub fn tally(tx: &mut dyn Tx, project: &str) -> Result<Vec<(String, String, u64)>, KmsError> {
    let prefix = format!("{project}/");
    let (mut out, mut after) = (Vec::new(), None::<String>);
    loop {
        let rows = tx.scan(TALLY, &prefix, after.as_deref(), 200)?;
        let done = rows.len() < 200;
        for (row, bytes) in rows {
            let rest = row.strip_prefix(&prefix).unwrap_or_default();
            if let Some((spec, state)) = rest.rsplit_once('/') {
                out.push((spec.to_owned(), state.to_owned(), number(TALLY, &bytes)?));
            }
            after = Some(row);
        }
        if done {
            return Ok(out);
        }
    }
}

/// How many of a project's keys match the filters (`None`: any).
pub fn total(
    tx: &mut dyn Tx,
    project: &str,
    spec: Option<KeySpec>,
    state: Option<KeyState>,
) -> Result<u64, KmsError> {
    Ok(tally(tx, project)?
        .into_iter()
        .filter(|(sp, st, _)| {
            spec.is_none_or(|s| s.as_str() == sp) && state.is_none_or(|s| s.code() == st)
        })
        .map(|(_, _, n)| n)
        .sum())
}

/// The ids of up to `limit` matching keys after the first `offset`, in
/// the list's order. Skipping reads order rows only.
pub fn page_ids(
    tx: &mut dyn Tx,
    project: &str,
    spec: Option<KeySpec>,
    state: Option<KeyState>,
    offset: usize,
    limit: usize,
) -> Result<Vec<String>, KmsError> {
    let prefix = format!("{project}/{}/", spec.map_or(ALL, KeySpec::as_str));
    let (mut skip, mut out, mut after) = (offset, Vec::new(), None::<String>);
    while out.len() < limit {
        // No more rows than the page and the skip still need: a first page
        // of 10 reads 10 order rows, not a scan's worth of the project's.
        let want = skip.saturating_add(limit - out.len()).min(SCAN_PAGE);
        let rows = tx.scan(ORDER, &prefix, after.as_deref(), want)?;
        let done = rows.len() < want;
        for (row, code) in rows {
            let wanted = state.is_none_or(|s| s.code().as_bytes() == code.as_slice());
            if wanted && skip > 0 {
                skip -= 1;
            } else if wanted && out.len() < limit {
                if let Some((_, id)) = row.rsplit_once('/') {
                    out.push(id.to_owned());
                }
            }
            after = Some(row);
        }
        if done {
            break;
        }
    }
    Ok(out)
}

/// How many keys a project's key store holds.
pub fn in_keystore(tx: &mut dyn Tx, project: &str, keystore_id: &str) -> Result<u64, KmsError> {
    Ok(counts::get(
        tx,
        IN_KEYSTORE,
        &format!("{project}/{keystore_id}"),
    )?)
}

/// Removes every row of `table` (before the index is built from the records).
pub(super) fn clear(tx: &mut dyn Tx, table: &str) -> Result<(), KmsError> {
    loop {
        let page = tx.scan(table, "", None, SCAN_PAGE)?;
        if page.is_empty() {
            return Ok(());
        }
        for (row, _) in page {
            tx.delete(table, &row)?;
        }
    }
}

#[cfg(test)]
#[path = "key_order_tests.rs"]
mod tests;
