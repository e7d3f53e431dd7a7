//! Older key versions, one row each (`kms_key_versions`, keyed
//! `project/key_id/index`). The key record itself carries only the current
//! version, so the record every cryptographic call decodes stays the same
//! size however often a key rotates; a row is read only when a ciphertext
//! names an older version. Rows never change once written (a version's
//! sealed material is fixed), and go when their key is purged.

use crate::kms::error::KmsError;
use crate::store::{DecodeCache, Tx, TxExt};
use serde::{Deserialize, Serialize};

const VERSIONS: &str = "kms_key_versions";

/// One version of a key's material, sealed under the root key with the key
/// id as associated data.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct KeyVersion {
    pub created_ms: i64,
    #[serde(with = "crate::store::b64")]
    pub sealed: Vec<u8>,
}

fn prefix(project: &str, key_id: &str) -> String {
    format!("{project}/{key_id}/")
}

/// Zero-padded so that rows scan in version order.
fn row(project: &str, key_id: &str, index: usize) -> String {
    format!("{}{index:010}", prefix(project, key_id))
}

/// Repeated decryption of old ciphertexts reads the same few rows: decoded
/// rows are reused while the database says they are unchanged.
static DECODED: DecodeCache<KeyVersion> = DecodeCache::new(VERSIONS);

/// Older version `index` of a key, if it has a row.
pub fn find(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
    index: usize,
) -> Result<Option<KeyVersion>, KmsError> {
    Ok(DECODED.get_json(tx, &row(project, key_id, index))?)
}

pub fn put(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
    index: usize,
    version: &KeyVersion,
) -> Result<(), KmsError> {
    Ok(tx.put_json(VERSIONS, &row(project, key_id, index), version)?)
}

/// Every older version of a key with its index, oldest first (bounded by
/// `limits::MAX_KEY_VERSIONS`, which stops rotation).
pub fn list(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
) -> Result<Vec<(usize, KeyVersion)>, KmsError> {
    let start = prefix(project, key_id);
    tx.scan_json::<KeyVersion>(VERSIONS, &start)?
        .into_iter()
        .map(|(k, v)| {
            let index = k[start.len()..]
                .parse::<usize>()
                .map_err(|_| KmsError::Internal(format!("bad key version row {k}")))?;
            Ok((index, v))
        })
        .collect()
}

/// Removes every older version of a key (purge, or material replaced).
pub fn purge(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<(), KmsError> {
    let start = prefix(project, key_id);
    loop {
        let page = tx.scan(VERSIONS, &start, None, 500)?;
        if page.is_empty() {
            return Ok(());
        }
        for (k, _) in page {
            tx.delete(VERSIONS, &k)?;
        }
    }
}

#[cfg(test)]
#[path = "versions_tests.rs"]
mod tests;
