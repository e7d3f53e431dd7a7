//! Alias resources (CreateAlias and friends), apart from a key's own
//! `key_alias`: `kms_alias_objects` (`project/alias` → record) makes names
//! unique per project inside the transaction, and `kms_alias_by_key`
//! (`project/key_id/alias`) finds a key's aliases when it is listed or purged.

use crate::kms::error::KmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const ALIASES: &str = "kms_alias_objects";
const BY_KEY: &str = "kms_alias_by_key";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AliasRecord {
    pub alias: String,
    pub key_id: String,
    pub domain_id: String,
    pub create_ms: i64,
    pub update_ms: i64,
}

fn alias_key(project: &str, alias: &str) -> String {
    format!("{project}/{alias}")
}

fn by_key_prefix(project: &str, key_id: &str) -> String {
    format!("{project}/{key_id}/")
}

pub fn find(tx: &mut dyn Tx, project: &str, alias: &str) -> Result<Option<AliasRecord>, KmsError> {
    Ok(tx.get_json(ALIASES, &alias_key(project, alias))?)
}

/// Writes `record`, moving its by-key index entry if it now names another key.
pub fn save(tx: &mut dyn Tx, project: &str, record: &AliasRecord) -> Result<(), KmsError> {
    if let Some(old) = find(tx, project, &record.alias)? {
        tx.delete(
            BY_KEY,
            &format!("{}{}", by_key_prefix(project, &old.key_id), old.alias),
        )?;
    }
    tx.put(
        BY_KEY,
        &format!("{}{}", by_key_prefix(project, &record.key_id), record.alias),
        b"",
    )?;
    tx.put_json(ALIASES, &alias_key(project, &record.alias), record)?;
    Ok(())
}

/// How many aliases name `key_id`, and how many the project has, each
/// counted up to `cap` (keys only, no record decoded).
pub fn counts(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
    cap: (usize, usize),
) -> Result<(usize, usize), KmsError> {
    let on_key = tx
        .scan(BY_KEY, &by_key_prefix(project, key_id), None, cap.0)?
        .len();
    let in_project = tx.scan(ALIASES, &format!("{project}/"), None, cap.1)?.len();
    Ok((on_key, in_project))
}

pub fn remove(tx: &mut dyn Tx, project: &str, record: &AliasRecord) -> Result<(), KmsError> {
    tx.delete(
        BY_KEY,
        &format!("{}{}", by_key_prefix(project, &record.key_id), record.alias),
    )?;
    tx.delete(ALIASES, &alias_key(project, &record.alias))?;
    Ok(())
}

/// The aliases of one key, or of the whole project when `key_id` is `None`,
/// oldest first (ties by name) so that offset markers stay stable.
pub fn list(
    tx: &mut dyn Tx,
    project: &str,
    key_id: Option<&str>,
) -> Result<Vec<AliasRecord>, KmsError> {
    let mut out: Vec<AliasRecord> = match key_id {
        None => tx
            .scan_json::<AliasRecord>(ALIASES, &format!("{project}/"))?
            .into_iter()
            .map(|(_, a)| a)
            .collect(),
        Some(key_id) => {
            let prefix = by_key_prefix(project, key_id);
            let mut found = Vec::new();
            for name in index_names(tx, &prefix)? {
                if let Some(a) = find(tx, project, &name)? {
                    found.push(a);
                }
            }
            found
        }
    };
    out.sort_by(|a, b| (a.create_ms, &a.alias).cmp(&(b.create_ms, &b.alias)));
    Ok(out)
}

/// Names under an index prefix; alias names contain '/', so only the prefix is cut off.
fn index_names(tx: &mut dyn Tx, prefix: &str) -> Result<Vec<String>, KmsError> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = tx.scan(BY_KEY, prefix, after.as_deref(), 500)?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        after = Some(last.clone());
        let full = batch.len() == 500;
        names.extend(
            batch
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(prefix).map(str::to_owned)),
        );
        if !full {
            break;
        }
    }
    Ok(names)
}

/// Drops every alias of a key that is being deleted for good.
pub fn remove_for_key(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<(), KmsError> {
    for record in list(tx, project, Some(key_id))? {
        remove(tx, project, &record)?;
    }
    Ok(())
}
