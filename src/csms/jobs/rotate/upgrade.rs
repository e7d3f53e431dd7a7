//! The start-up upgrade of databases written before rotations were
//! scheduled: a secret that already had `auto_rotation` on has no row in
//! `csms_rotations` (and may have no `next_rotation_time`), so the sweep
//! would never rotate it. This visits every secret once, a page per
//! transaction; the transaction of the last page writes a done mark
//! (`csms_migrations`), and a start that finds the mark reads nothing more.
//! `store::save_secret` writes the due row for every secret saved since, so
//! nothing new needs it; several nodes may run it at once (a secret found
//! scheduled is left alone).

use super::plan;
use crate::csms::domain::SecretState;
use crate::csms::error::CsmsError;
use crate::csms::store::{self, due_key, SecretRecord, ROTATIONS};
use crate::server::state::AppState;
use crate::store::Tx;

const MARKS: &str = "csms_migrations";
const ROTATIONS_SCHEDULED: &str = "rotations_scheduled";
const PAGE: usize = 100;

/// What the upgrade does to one secret, or `None` when it needs nothing:
/// an enabled secret rotating automatically gets `next_rotation_time` one
/// period after its last rotation, or after its last change when it never
/// rotated (when rotation was turned on is not recorded; the last change is
/// the closest record of it, dewstack's choice).
pub fn upgraded(secret: &SecretRecord) -> Option<SecretRecord> {
    if !secret.auto_rotation || secret.state != SecretState::Enabled {
        return None;
    }
    let mut out = secret.clone();
    if out.next_rotation_ms.is_none() {
        let from = secret.rotation_ms.unwrap_or(secret.update_ms);
        out.next_rotation_ms = plan::next_rotation(true, secret.rotation_period.as_deref(), from);
    }
    out.next_rotation_ms.map(|_| out)
}

/// One page of the upgrade: returns where to go on from (`None`: done) and
/// how many secrets were scheduled.
pub fn schedule_existing(
    tx: &mut dyn Tx,
    after: Option<&str>,
    limit: usize,
) -> Result<(Option<String>, usize), CsmsError> {
    if after.is_none() && tx.get(MARKS, ROTATIONS_SCHEDULED)?.is_some() {
        return Ok((None, 0));
    }
    let page = store::secrets_page(tx, after, limit)?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|(k, _)| k.clone()))
        .flatten();
    let mut changed = 0;
    for (row, bytes) in page {
        let Ok(secret) = serde_json::from_slice::<SecretRecord>(&bytes) else {
            tracing::warn!(record = %row, "secret record does not decode; not scheduled");
            continue;
        };
        let Some(new) = upgraded(&secret) else {
            continue;
        };
        let due = new.next_rotation_ms.unwrap_or_default();
        let index = due_key(due, &format!("{}/{}", new.project_id, new.name));
        if tx.get(ROTATIONS, &index)?.is_none() {
            store::save_secret(tx, &new)?;
            changed += 1;
        }
    }
    if next.is_none() {
        tx.put(MARKS, ROTATIONS_SCHEDULED, b"")?;
    }
    Ok((next, changed))
}

/// Runs the upgrade to its end; how many secrets it scheduled.
pub async fn schedule_all(app: &AppState) -> Result<usize, CsmsError> {
    let (mut after, mut total) = (None::<String>, 0);
    loop {
        let from = after.clone();
        let (next, n) = app
            .db
            .tx(move |tx| schedule_existing(tx, from.as_deref(), PAGE))
            .await?;
        total += n;
        match next {
            Some(last) => after = Some(last),
            None => return Ok(total),
        }
    }
}

/// Whether the upgrade has run to its end (tests).
#[cfg(test)]
pub fn done(tx: &mut dyn Tx) -> Result<bool, CsmsError> {
    Ok(tx.get(MARKS, ROTATIONS_SCHEDULED)?.is_some())
}

#[cfg(test)]
#[path = "upgrade_tests.rs"]
mod tests;
