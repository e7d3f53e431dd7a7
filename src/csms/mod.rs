//! CSMS: secrets, their versions and stages, events and their notifications,
//! tags, backup and restore.
//!
//! Operations: CreateSecret, ShowSecret, ListSecrets, UpdateSecret,
//! DeleteSecret, DeleteSecretForSchedule, RestoreSecret, CreateSecretVersion,
//! ListSecretVersions, ShowSecretVersion, UpdateVersion, UpdateSecretStage,
//! ShowSecretStage, DeleteSecretStage, CreateSecretEvent, ShowSecretEvent,
//! ListSecretEvents, UpdateSecretEvent, DeleteSecretEvent,
//! ListNotificationRecords.
//!
//! Secret values are encrypted by dewstack's KMS under the secret's key
//! (`values.rs`); scheduled deletions and version expiries are handled by the
//! sweep below, notifications are delivered by `notify::spawn_delivery`.

pub mod domain;
pub mod error;
mod events;
pub mod notify;
mod secrets;
pub mod stages;
pub mod store;
mod values;
mod versions;
pub mod wire;

use crate::auth;
use crate::common::body::Body;
use crate::server::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use domain::{EventType, SecretState};
use error::CsmsError;
use std::time::Duration;

pub type CsmsBody<T> = Body<T, CsmsError>;

/// Secrets per project (CSMS.0202; the user guide says 500).
pub const SECRET_QUOTA: usize = 500;

pub fn routes(state: AppState) -> Router<AppState> {
    let s = "/v1/{project_id}/secrets";
    let c = "/v1/{project_id}/csms";
    Router::new()
        .route(s, post(secrets::create_secret).get(secrets::list_secrets))
        .route(
            &format!("{s}/{{secret_name}}"),
            get(secrets::show_secret)
                .put(secrets::update_secret)
                .delete(secrets::delete_secret),
        )
        .route(
            &format!("{s}/{{secret_name}}/scheduled-deleted-tasks/create"),
            post(secrets::delete_secret_for_schedule),
        )
        .route(
            &format!("{s}/{{secret_name}}/scheduled-deleted-tasks/cancel"),
            post(secrets::restore_secret),
        )
        .route(
            &format!("{s}/{{secret_name}}/versions"),
            post(versions::create_secret_version).get(versions::list_secret_versions),
        )
        .route(
            &format!("{s}/{{secret_name}}/versions/{{version_id}}"),
            get(versions::show_secret_version).put(versions::update_version),
        )
        .route(
            &format!("{s}/{{secret_name}}/stages/{{stage_name}}"),
            get(versions::show_secret_stage)
                .put(versions::update_secret_stage)
                .delete(versions::delete_secret_stage),
        )
        .route(
            &format!("{c}/events"),
            post(events::create_secret_event).get(events::list_secret_events),
        )
        .route(
            &format!("{c}/events/{{event_name}}"),
            get(events::show_secret_event)
                .put(events::update_secret_event)
                .delete(events::delete_secret_event),
        )
        .route(
            &format!("{c}/notification-records"),
            get(events::list_notification_records),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require::<{ auth::CSMS }>,
        ))
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
    app.db
        .tx(move |tx| {
            let mut done = Swept::default();
            for due in store::due_deletions(tx, now_ms, 200)? {
                if let Some(secret) = store::find_secret(tx, &due.project, &due.name)? {
                    if secret.state == SecretState::PendingDelete
                        && secret.scheduled_delete_ms.is_some_and(|d| d <= now_ms)
                    {
                        notify::emit(tx, &secret, EventType::Deleted, now_ms)?;
                        store::purge_secret(tx, &secret)?;
                        done.deleted += 1;
                    }
                }
                store::drop_due(tx, true, &due.key)?;
            }
            for due in store::due_expiries(tx, now_ms, 200)? {
                let secret = store::find_secret(tx, &due.project, &due.name)?;
                let version = match &secret {
                    Some(_) => store::find_version(tx, &due.project, &due.name, due.version)?,
                    None => None,
                };
                if let (Some(secret), Some(mut v)) = (secret, version) {
                    if !v.expiry_notified && v.expire_ms.is_some_and(|e| e <= now_ms) {
                        notify::emit(tx, &secret, EventType::VersionExpired, now_ms)?;
                        v.expiry_notified = true;
                        store::put_version(tx, &due.project, &due.name, &v)?;
                        done.expired += 1;
                    }
                }
                store::drop_due(tx, false, &due.key)?;
            }
            Ok(done)
        })
        .await
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
            match sweep(&app).await {
                Ok(s) if s == Swept::default() => {}
                Ok(s) => tracing::info!(
                    secrets = s.deleted,
                    expired_versions = s.expired,
                    "csms: deleted secrets past their deletion date, notified expired versions"
                ),
                Err(e) => tracing::warn!(error = %e, "csms sweep failed; will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => break,
            }
        }
        let _ = delivery.await;
    })
}
