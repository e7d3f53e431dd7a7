//! The version bound, kept where versions are written.

use super::{delete_version, list_versions, SecretRecord};
use crate::csms::error::CsmsError;
use crate::csms::stages;
use crate::store::Tx;

/// A secret keeps at most `stages::MAX_VERSIONS` versions (the rule itself is
/// `stages::version_to_drop`). A loop: a database from before the bound may
/// hold more.
pub fn drop_excess_versions(tx: &mut dyn Tx, s: &SecretRecord) -> Result<(), CsmsError> {
    let (p, n) = (&s.project_id, &s.name);
    let mut numbers: Vec<u64> = list_versions(tx, p, n)?.iter().map(|v| v.number).collect();
    while let Some(old) = stages::version_to_drop(&s.stages, &numbers) {
        delete_version(tx, p, n, old)?;
        numbers.retain(|k| *k != old);
    }
    Ok(())
}
