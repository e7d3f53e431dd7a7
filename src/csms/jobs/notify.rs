//! Event notifications. When something an enabled event subscribes to happens
//! to a secret, `emit` (called inside the request's own transaction) writes a
//! notification record (ListNotificationRecords) and, when the event's target
//! is an http(s) URL, an outbox entry. A background task (`deliver_due`) POSTs
//! outbox entries to URLs on the `notification_urls` allow-list, retrying with
//! backoff; a delivery never blocks or fails the API call that caused it.
//!
//! Record status: `SUCCESS` delivered (2xx), `FAIL` retries exhausted,
//! `INVALID` the target cannot be delivered by dewstack (an SMN topic, a URL
//! not on the allow-list, or an https URL: this build has no TLS client),
//! `PENDING` (dewstack's own value) while queued.
//! Notification content names the secret and the event, never a value.

use crate::csms::domain::EventType;
use crate::csms::error::CsmsError;
use crate::csms::store::{self, SecretRecord};
use crate::server::state::AppState;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const RECORDS: &str = "csms_records";
const OUTBOX: &str = "csms_outbox";
pub const MAX_ATTEMPTS: u32 = 5;

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct NotificationRecord {
    pub id: String,
    pub event_name: String,
    pub trigger_event_type: EventType,
    pub create_ms: i64,
    pub secret_name: String,
    pub secret_type: String,
    pub target_name: String,
    pub target_id: String,
    pub content: String,
    pub status: String,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct OutboxEntry {
    record_key: String,
    url: String,
    content: String,
    attempts: u32,
}

/// Records (and queues) one notification per enabled event of `secret` that
/// subscribes to `kind`; returns how many.
pub fn emit(
    tx: &mut dyn Tx,
    rng: &crate::rng::Rng,
    secret: &SecretRecord,
    kind: EventType,
    now_ms: i64,
) -> Result<usize, CsmsError> {
    let mut made = 0;
    for name in &secret.event_subscriptions {
        let Some(event) = store::find_event(tx, &secret.project_id, name)? else {
            continue;
        };
        if !event.enabled || !event.event_types.contains(&kind) {
            continue;
        }
        let id = rng.uuid().to_string();
        let content = serde_json::json!({
            "event_name": event.name,
            "event_type": kind.as_str(),
            "secret_name": secret.name,
            "secret_id": secret.id,
            "project_id": secret.project_id,
            "time": now_ms,
        })
        .to_string();
        let queued = event.target.is_url();
        let record = NotificationRecord {
            id: id.clone(),
            event_name: event.name.clone(),
            trigger_event_type: kind,
            create_ms: now_ms,
            secret_name: secret.name.clone(),
            secret_type: secret.secret_type.clone(),
            target_name: event.target.target_name.clone(),
            target_id: event.target.target_id.clone(),
            content: content.clone(),
            status: if queued { "PENDING" } else { "INVALID" }.into(),
        };
        let record_key = format!("{}/{:016}/{id}", secret.project_id, now_ms.max(0));
        tx.put_json(RECORDS, &record_key, &record)?;
        if queued {
            let entry = OutboxEntry {
                record_key,
                url: event.target.target_id.clone(),
                content,
                attempts: 0,
            };
            tx.put_json(OUTBOX, &outbox_key(now_ms, &id), &entry)?;
        }
        made += 1;
    }
    if made > 0 {
        super::records::prune(tx, RECORDS, &secret.project_id)?;
    }
    Ok(made)
}

/// How long a claimed entry stays hidden from other deliverers. A node that
/// dies mid-delivery leaves its entries to be delivered again after this.
const CLAIM_LEASE_MS: i64 = 60_000;

/// Takes up to `limit` entries due at `now_ms` and re-files them under a
/// lease, so that no other sweep takes them meanwhile; returns them with
/// their new keys (the delivery result is written under that key).
fn claim_due(
    tx: &mut dyn Tx,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<(String, OutboxEntry)>, CsmsError> {
    let mut claimed = Vec::new();
    for (key, bytes) in tx.scan(OUTBOX, "", None, limit)? {
        let ts = key.split('/').next().and_then(|t| t.parse::<i64>().ok());
        if ts.unwrap_or(i64::MAX) > now_ms {
            break;
        }
        let entry: OutboxEntry =
            serde_json::from_slice(&bytes).map_err(|e| CsmsError::Internal(e.to_string()))?;
        let id = key.rsplit('/').next().unwrap_or_default().to_owned();
        let leased = outbox_key(now_ms + CLAIM_LEASE_MS, &id);
        tx.delete(OUTBOX, &key)?;
        tx.put_json(OUTBOX, &leased, &entry)?;
        claimed.push((leased, entry));
    }
    Ok(claimed)
}

/// Outbox entries (queued or being delivered), counted up to `bound`.
pub fn outbox_len(tx: &mut dyn Tx, bound: usize) -> Result<usize, CsmsError> {
    Ok(tx.scan(OUTBOX, "", None, bound)?.len())
}

fn outbox_key(due_ms: i64, id: &str) -> String {
    format!("{:016}/{id}", due_ms.max(0))
}

/// A project's notification records, newest first.
pub fn list_records(tx: &mut dyn Tx, project: &str) -> Result<Vec<NotificationRecord>, CsmsError> {
    let mut out: Vec<NotificationRecord> = tx
        .scan_json::<NotificationRecord>(RECORDS, &format!("{project}/"))?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    out.reverse();
    Ok(out)
}

fn set_status(tx: &mut dyn Tx, record_key: &str, status: &str) -> Result<(), CsmsError> {
    if let Some(mut r) = tx.get_json::<NotificationRecord>(RECORDS, record_key)? {
        r.status = status.into();
        tx.put_json(RECORDS, record_key, &r)?;
    }
    Ok(())
}

enum Outcome {
    Delivered,
    Failed,
    NotAllowed,
}

async fn post(client: &reqwest::Client, url: &str, content: &str) -> bool {
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .body(content.to_owned())
        .send()
        .await;
    matches!(sent, Ok(r) if r.status().is_success())
}

/// Delivers the outbox entries that are due; returns how many were handled.
pub async fn deliver_due(
    app: &AppState,
    client: &reqwest::Client,
    allowed: &[String],
) -> Result<usize, CsmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    // Claimed under a cluster-wide lock: with several nodes on one database
    // each entry is POSTed by one node only.
    let due = app
        .db
        .try_exclusive("csms-notification-delivery", move |tx| {
            claim_due(tx, now_ms, 20)
        })
        .await?
        .unwrap_or_default();
    let handled = due.len();
    for (key, entry) in due {
        let allowed_url = crate::csms::domain::Target {
            target_type: String::new(),
            target_id: entry.url.clone(),
            target_name: String::new(),
        }
        .delivery_url(allowed)
        .is_some()
            // This build has no TLS stack: https targets can never be reached.
            && !entry.url.starts_with("https://");
        let outcome = if !allowed_url {
            Outcome::NotAllowed
        } else if post(client, &entry.url, &entry.content).await {
            Outcome::Delivered
        } else {
            Outcome::Failed
        };
        let now_ms = app.clock.now().timestamp_millis();
        let gave_up = entry.attempts + 1 >= MAX_ATTEMPTS;
        crate::ops::metrics::metrics().job_items(
            "csms_notifications",
            match outcome {
                Outcome::Delivered => "delivered",
                Outcome::NotAllowed => "invalid",
                Outcome::Failed if gave_up => "failed",
                Outcome::Failed => "retried",
            },
            1,
        );
        app.db
            .tx(move |tx| {
                tx.delete(OUTBOX, &key)?;
                match outcome {
                    Outcome::Delivered => set_status(tx, &entry.record_key, "SUCCESS"),
                    Outcome::NotAllowed => set_status(tx, &entry.record_key, "INVALID"),
                    Outcome::Failed if entry.attempts + 1 >= MAX_ATTEMPTS => {
                        set_status(tx, &entry.record_key, "FAIL")
                    }
                    Outcome::Failed => {
                        let mut next = entry.clone();
                        next.attempts += 1;
                        let backoff_ms = 1000i64 << next.attempts.min(10);
                        let id = key.rsplit('/').next().unwrap_or_default();
                        tx.put_json(OUTBOX, &outbox_key(now_ms + backoff_ms, id), &next)?;
                        Ok(())
                    }
                }
            })
            .await?;
    }
    Ok(handled)
}

/// The delivery loop: polls the outbox every second until told to stop.
pub fn spawn_delivery(
    app: AppState,
    allowed: Vec<String>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the notification HTTP client");
                return;
            }
        };
        loop {
            let outcome = deliver_due(&app, &client, &allowed).await;
            crate::ops::metrics::metrics().job_run("csms_notifications", outcome.is_ok());
            match outcome {
                Ok(0) => {}
                Ok(n) => tracing::debug!(entries = n, "notification outbox handled"),
                Err(e) => tracing::warn!(error = %e, "notification delivery failed; will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {},
                _ = stop.changed() => return,
            }
        }
    })
}

#[cfg(test)]
mod claim_tests {
    use super::*;
    use crate::store::Db;

    fn queue(db: &Db, due_ms: i64, id: &str) {
        let entry = OutboxEntry {
            record_key: format!("p/{id}"),
            url: "http://127.0.0.1:9/".into(),
            content: "{}".into(),
            attempts: 0,
        };
        db.tx_blocking(|tx| tx.put_json(OUTBOX, &outbox_key(due_ms, id), &entry))
            .unwrap();
    }

    fn claim(db: &Db, now_ms: i64) -> Vec<String> {
        db.tx_blocking(|tx| claim_due(tx, now_ms, 20))
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.record_key)
            .collect()
    }

    #[test]
    fn a_claimed_entry_is_not_claimed_again_until_its_lease_ends() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        queue(&db, 1_000, "a");
        queue(&db, 2_000, "b");
        queue(&db, 9_000, "later");
        assert_eq!(claim(&db, 5_000), ["p/a", "p/b"]);
        assert!(
            claim(&db, 5_000).is_empty(),
            "a second deliverer finds nothing"
        );
        assert!(
            claim(&db, 5_000 + CLAIM_LEASE_MS - 1).len() == 1,
            "only the later entry"
        );
        assert_eq!(claim(&db, 5_000 + CLAIM_LEASE_MS), ["p/a", "p/b"]);
    }
}
