//! Scheduled rotations. `csms_rotations` holds `due_ms/project/name` for every
//! enabled secret with automatic rotation on (kept by `store::save_secret`).
//! The sweep claims due rows on one node at a time (`Db::try_exclusive`):
//! each claimed row is re-filed `LEASE_MS` ahead, so a node that dies
//! mid-rotation leaves it to be taken again; rows whose secret no longer
//! wants a rotation then are dropped.

use super::run::{self, Trigger};
use crate::csms::domain::SecretState;
use crate::csms::error::CsmsError;
use crate::csms::store::{self, due_key, ROTATIONS};
use crate::server::state::AppState;
use crate::store::Tx;

/// How long a claimed rotation stays hidden from other nodes (dewstack's
/// choice: well over the four step timeouts).
pub const LEASE_MS: i64 = super::plan::RUNNING_MS;
/// Rotations one sweep takes on (the rest wait for the next sweep).
pub const BATCH: usize = 50;

/// A claimed rotation: the lease row (dropped once done) and the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub lease: String,
    pub project: String,
    pub name: String,
}

/// Takes up to `limit` rotations due at `now_ms`.
pub fn claim_due(tx: &mut dyn Tx, now_ms: i64, limit: usize) -> Result<Vec<Claimed>, CsmsError> {
    let mut claimed = Vec::new();
    for (key, _) in tx.scan(ROTATIONS, "", None, limit)? {
        let mut parts = key.splitn(3, '/');
        let (Some(ts), Some(project), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            tx.delete(ROTATIONS, &key)?;
            continue;
        };
        if ts.parse::<i64>().unwrap_or(i64::MAX) > now_ms {
            break;
        }
        tx.delete(ROTATIONS, &key)?;
        let wanted = store::find_secret(tx, project, name)?.is_some_and(|s| {
            s.auto_rotation
                && s.state == SecretState::Enabled
                && s.next_rotation_ms.is_some_and(|d| d <= now_ms)
        });
        if wanted {
            let lease = due_key(now_ms + LEASE_MS, &format!("{project}/{name}"));
            tx.put(ROTATIONS, &lease, b"")?;
            claimed.push(Claimed {
                lease,
                project: project.to_owned(),
                name: name.to_owned(),
            });
        }
    }
    Ok(claimed)
}

/// What one rotation sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationSweep {
    pub rotated: usize,
    pub failed: usize,
}

/// Runs the rotations due now; `None` when another node holds the sweep.
pub async fn rotate_due(app: &AppState) -> Result<RotationSweep, CsmsError> {
    let now = app.clock.now().timestamp_millis();
    let claimed = app
        .db
        .try_exclusive("csms-rotation-sweep", move |tx| claim_due(tx, now, BATCH))
        .await?
        .unwrap_or_default();
    let mut done = RotationSweep::default();
    for c in claimed {
        match run::rotate(app, &c.project, &c.name, Trigger::Schedule).await {
            Ok(r) if r.task.task_status == super::tasks::SUCCESS => done.rotated += 1,
            Ok(_) => done.failed += 1,
            Err(refused) => {
                done.failed += 1;
                run::record_refusal(app, &c.project, &c.name, &refused).await?;
            }
        }
        let lease = c.lease.clone();
        app.db
            .tx(move |tx| tx.delete(ROTATIONS, &lease).map_err(CsmsError::from))
            .await?;
    }
    Ok(done)
}
