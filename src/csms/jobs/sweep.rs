//! Due work: secrets whose scheduled deletion date has passed are deleted for
//! good (notifying SECRET_DELETED), versions whose expire_time has come notify
//! SECRET_VERSION_EXPIRED once; `spawn_background` runs this sweep and the
//! notification delivery loop.

use super::notify;
use crate::csms::domain::{EventType, SecretState};
use crate::csms::error::CsmsError;
use crate::csms::store::{self, due_key, DELETIONS, EXPIRIES};
use crate::server::state::AppState;
use crate::store::Tx;
use std::time::Duration;

fn due_rows(
    tx: &mut dyn Tx,
    table: &str,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<(i64, String)>, CsmsError> {
    let mut due = Vec::new();
    for (k, _) in tx.scan(table, "", None, limit)? {
        let Some((ts, rest)) = k.split_once('/') else {
            continue;
        };
        let ts = ts.parse::<i64>().unwrap_or(i64::MAX);
        if ts > now_ms {
            break;
        }
        due.push((ts, rest.to_owned()));
    }
    Ok(due)
}

/// A due row: its key (to drop once handled) and the rest of the key split.
pub struct Due {
    pub key: String,
    pub project: String,
    pub name: String,
    pub version: u64,
}

fn due(tx: &mut dyn Tx, table: &str, now_ms: i64, limit: usize) -> Result<Vec<Due>, CsmsError> {
    Ok(due_rows(tx, table, now_ms, limit)?
        .into_iter()
        .filter_map(|(ts, rest)| {
            let mut parts = rest.splitn(3, '/');
            let (p, n) = (parts.next()?, parts.next()?);
            let version = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            Some(Due {
                key: due_key(ts, &rest),
                project: p.to_owned(),
                name: n.to_owned(),
                version,
            })
        })
        .collect())
}

/// Secrets whose deletion date is at or before `now_ms`.
pub fn due_deletions(tx: &mut dyn Tx, now_ms: i64, limit: usize) -> Result<Vec<Due>, CsmsError> {
    due(tx, DELETIONS, now_ms, limit)
}

/// Versions whose expire_time has come.
pub fn due_expiries(tx: &mut dyn Tx, now_ms: i64, limit: usize) -> Result<Vec<Due>, CsmsError> {
    due(tx, EXPIRIES, now_ms, limit)
}

/// Drops a handled (or stale) due row.
pub fn drop_due(tx: &mut dyn Tx, deletion: bool, key: &str) -> Result<(), CsmsError> {
    tx.delete(if deletion { DELETIONS } else { EXPIRIES }, key)?;
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub deleted: usize,
    pub expired: usize,
}

/// Deletes secrets whose scheduled deletion date has passed and notifies
/// versions whose expire_time has come.
pub async fn sweep(app: &AppState) -> Result<Swept, CsmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    let rng = app.rng.clone();
    app.db
        .tx(move |tx| {
            let mut done = Swept::default();
            for due in due_deletions(tx, now_ms, 200)? {
                if let Some(secret) = store::find_secret(tx, &due.project, &due.name)? {
                    if secret.state == SecretState::PendingDelete
                        && secret.scheduled_delete_ms.is_some_and(|d| d <= now_ms)
                    {
                        notify::emit(tx, &rng, &secret, EventType::Deleted, now_ms)?;
                        store::purge_secret(tx, &secret)?;
                        done.deleted += 1;
                    }
                }
                drop_due(tx, true, &due.key)?;
            }
            for due in due_expiries(tx, now_ms, 200)? {
                let secret = store::find_secret(tx, &due.project, &due.name)?;
                let version = match &secret {
                    Some(_) => store::find_version(tx, &due.project, &due.name, due.version)?,
                    None => None,
                };
                if let (Some(secret), Some(mut v)) = (secret, version) {
                    if !v.expiry_notified && v.expire_ms.is_some_and(|e| e <= now_ms) {
                        notify::emit(tx, &rng, &secret, EventType::VersionExpired, now_ms)?;
                        v.expiry_notified = true;
                        store::put_version(tx, &due.project, &due.name, &v)?;
                        done.expired += 1;
                    }
                }
                drop_due(tx, false, &due.key)?;
            }
            Ok(done)
        })
        .await
}

/// One sweep, logged and counted (`dewstack_background_runs_total`): the
/// background loop runs it every `sweep_interval`, the dev clock right after
/// a jump. A failure is retried next round.
pub async fn run_round(app: &AppState) -> Swept {
    let m = crate::ops::metrics::metrics();
    rotate_round(app).await;
    let outcome = sweep(app).await;
    m.job_run("csms_sweep", outcome.is_ok());
    match outcome {
        Ok(s) => {
            m.job_items("csms_sweep", "secrets_deleted", s.deleted);
            m.job_items("csms_sweep", "versions_expired", s.expired);
            if s != Swept::default() {
                tracing::info!(
                    secrets = s.deleted,
                    expired_versions = s.expired,
                    "csms: deleted secrets past their deletion date, notified expired versions"
                );
            }
            s
        }
        Err(e) => {
            tracing::warn!(error = %e, "csms sweep failed; will retry");
            Swept::default()
        }
    }
}

/// One pass of the scheduled rotations that are due.
async fn rotate_round(app: &AppState) {
    let m = crate::ops::metrics::metrics();
    let outcome = super::rotate::rotate_due(app).await;
    m.job_run("csms_rotation", outcome.is_ok());
    match outcome {
        Ok(r) => {
            m.job_items("csms_rotation", "rotated", r.rotated);
            m.job_items("csms_rotation", "failed", r.failed);
            if r != Default::default() {
                tracing::info!(
                    rotated = r.rotated,
                    failed = r.failed,
                    "csms: rotated secrets"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "csms rotation sweep failed; will retry"),
    }
}

/// Starts the sweep (every `every`) and the notification delivery loop
/// (POSTs only to URLs starting with one of `notification_urls`).
pub fn spawn_background(
    app: AppState,
    every: Duration,
    notification_urls: Vec<String>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let delivery = notify::spawn_delivery(app.clone(), notification_urls, stop.clone());
    let mut stop = stop;
    tokio::spawn(async move {
        loop {
            run_round(&app).await;
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => break,
            }
        }
        let _ = delivery.await;
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::FixedClock;
    use crate::store::Db;
    use std::sync::Arc;

    fn app(dir: &std::path::Path, clock: FixedClock) -> AppState {
        crate::testing::state(Db::open(dir, None).unwrap(), Arc::new(clock))
    }

    fn secret(name: &str, now: i64) -> store::SecretRecord {
        store::SecretRecord {
            event_subscriptions: vec!["ev".into()],
            ..store::SecretRecord::for_test("proj", name, now)
        }
    }

    #[tokio::test]
    async fn the_quota_counts_secret_keys_of_one_project() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), FixedClock::new(crate::testing::fixed_time()));
        let reached = app
            .db
            .tx(|tx| {
                let mut seen = Vec::new();
                for name in ["a", "b", "c"] {
                    seen.push(store::secret_quota_reached(tx, "proj", 3)?);
                    store::insert_secret(tx, &secret(name, 0))?;
                }
                seen.push(store::secret_quota_reached(tx, "proj", 3)?);
                seen.push(store::secret_quota_reached(tx, "pro", 1)?);
                Ok::<_, CsmsError>(seen)
            })
            .await
            .unwrap();
        assert_eq!(reached, [false, false, false, true, false]);
    }

    #[tokio::test]
    async fn the_secret_count_follows_insert_and_purge_and_is_rebuilt_once() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), FixedClock::new(crate::testing::fixed_time()));
        let counts = app
            .db
            .tx(|tx| {
                let mut seen = Vec::new();
                store::insert_secret(tx, &secret("a", 0))?;
                store::insert_secret(tx, &secret("b", 0))?;
                // A name already taken is refused and not counted.
                assert!(store::insert_secret(tx, &secret("a", 0)).is_err());
                seen.push(store::secret_count(tx, "proj")?);
                store::purge_secret(tx, &secret("a", 0))?;
                seen.push(store::secret_count(tx, "proj")?);
                // Restoring a backup inserts the secret again.
                store::insert_secret(tx, &secret("a", 0))?;
                seen.push(store::secret_count(tx, "proj")?);
                // As written before secrets were counted: rebuilt from the rows.
                tx.delete("counts", "csms_secrets/proj")?;
                seen.push(store::secret_count(tx, "proj")?);
                seen.push(store::count_existing(tx)? as u64);
                seen.push(store::secret_count(tx, "proj")?);
                seen.push(store::count_existing(tx)? as u64);
                Ok::<_, CsmsError>(seen)
            })
            .await
            .unwrap();
        assert_eq!(counts, [2, 1, 2, 0, 2, 2, 0]);
    }

    #[tokio::test]
    async fn scheduled_deletions_and_expiries_happen_when_due() {
        let dir = tempfile::tempdir().unwrap();
        let clock = FixedClock::new(crate::testing::fixed_time());
        let app = app(dir.path(), clock.clone());
        let now = app.clock.now().timestamp_millis();
        let day = 86_400_000;
        app.db
            .tx(move |tx| {
                store::insert_event(
                    tx,
                    &store::EventRecord {
                        event_id: "e".into(),
                        name: "ev".into(),
                        project_id: "proj".into(),
                        event_types: vec![EventType::Deleted, EventType::VersionExpired],
                        enabled: true,
                        target: crate::csms::domain::Target {
                            target_type: "SMN".into(),
                            target_id: "urn".into(),
                            target_name: "t".into(),
                        },
                        create_ms: now,
                        update_ms: now,
                    },
                )?;
                let mut doomed = secret("doomed", now);
                doomed.state = SecretState::PendingDelete;
                doomed.scheduled_delete_ms = Some(now + 7 * day);
                store::insert_secret(tx, &doomed)?;
                store::insert_secret(tx, &secret("kept", now))?;
                let version = store::VersionRecord {
                    number: 1,
                    create_ms: now,
                    expire_ms: Some(now + day),
                    kms_key_id: "k".into(),
                    value_id: "v".into(),
                    binary: false,
                    sealed: vec![1, 2, 3],
                    expiry_notified: false,
                };
                store::put_version(tx, "proj", "kept", &version)?;
                store::put_version(tx, "proj", "doomed", &version)
            })
            .await
            .unwrap();
        assert_eq!(sweep(&app).await.unwrap(), Swept::default());
        clock.advance(chrono::Duration::days(2));
        assert_eq!(
            sweep(&app).await.unwrap(),
            Swept {
                deleted: 0,
                expired: 2
            }
        );
        assert_eq!(
            sweep(&app).await.unwrap(),
            Swept::default(),
            "expiry notifies once"
        );
        clock.advance(chrono::Duration::days(6));
        assert_eq!(
            sweep(&app).await.unwrap(),
            Swept {
                deleted: 1,
                expired: 0
            }
        );
        let (gone, kept, records, refs) = app
            .db
            .tx(|tx| {
                Ok::<_, CsmsError>((
                    store::find_secret(tx, "proj", "doomed")?.is_none()
                        && store::list_versions(tx, "proj", "doomed")?.is_empty(),
                    store::find_secret(tx, "proj", "kept")?.is_some(),
                    notify::list_records(tx, "proj")?,
                    store::subscribers(tx, "proj", "ev", None, 10)?,
                ))
            })
            .await
            .unwrap();
        assert!(gone && kept);
        assert_eq!(refs, vec!["kept".to_string()]);
        let kinds: Vec<EventType> = records.iter().map(|r| r.trigger_event_type).collect();
        assert_eq!(
            kinds,
            vec![
                EventType::Deleted,
                EventType::VersionExpired,
                EventType::VersionExpired
            ]
        );
    }
}
