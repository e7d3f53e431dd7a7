//! CSMS: secrets, their versions and stages, events and their notifications,
//! tags, backup and restore.
//!
//! Operations: CreateSecret, ShowSecret, ListSecrets, UpdateSecret,
//! DeleteSecret, DeleteSecretForSchedule, RestoreSecret, CreateSecretVersion,
//! ListSecretVersions, ShowSecretVersion, UpdateVersion, UpdateSecretStage,
//! ShowSecretStage, DeleteSecretStage, CreateSecretEvent, ShowSecretEvent,
//! ListSecretEvents, UpdateSecretEvent, DeleteSecretEvent,
//! ListNotificationRecords, BatchCreateOrDeleteTags, CreateSecretTag,
//! DeleteSecretTag, ListSecretTags, ListProjectSecretsTags,
//! ListResourceInstances, DownloadSecretBlob, UploadSecretBlob,
//! BatchImportSecrets, CheckSecrets, ShowSecretsConfig, UpdateSecretsConfig,
//! GenerateRandomPassword, RotateSecret, ListSecretTask, CreateGrants,
//! ListGrants, UpdateGrant, DeleteGrant, ListUsers, ShowUserDetail and
//! UpdateUserPassword, ShowSecretFunctionTemplates.
//!
//! Secret values are encrypted by dewstack's KMS under the secret's key
//! (`values.rs`); the secret checker's rules are `checker.rs`; handlers are in `api/`, background work in `jobs/` (the sweep
//! of deletions and expiries, notification delivery).

pub mod access;
mod api;
pub mod checker;
pub mod domain;
pub mod error;
pub mod grants;
pub mod jobs;
mod notify_url;
pub mod stages;
pub mod store;
mod tags;
mod values;
pub mod wire;

use crate::auth;
use crate::server::state::AppState;
use api::{
    backup, checker as checker_api, events, grants as grant_api, ops, secret_import, secrets,
    templates, users, versions,
};
use axum::routing::{delete, get, post};
use axum::Router;

pub use jobs::sweep::{run_round, spawn_background, sweep, Swept};

/// At start-up: counts the secrets of databases written before secrets were
/// counted, and schedules the rotations of databases written before
/// rotations were scheduled (each once; later starts read one row each).
pub async fn bootstrap(app: &AppState) -> anyhow::Result<()> {
    let counted = app
        .db
        .tx(store::count_existing)
        .await
        .map_err(|e: error::CsmsError| anyhow::anyhow!("cannot count secrets: {e}"))?;
    if counted > 0 {
        tracing::info!(secrets = counted, "counted the secrets of every project");
    }
    app.db
        .tx(store::count_pending_existing)
        .await
        .map_err(|e: error::CsmsError| anyhow::anyhow!("cannot count secrets: {e}"))?;
    let scheduled = jobs::rotate::upgrade::schedule_all(app)
        .await
        .map_err(|e| anyhow::anyhow!("cannot schedule rotations: {e}"))?;
    if scheduled > 0 {
        tracing::info!(
            secrets = scheduled,
            "scheduled the rotations of older secrets"
        );
    }
    Ok(())
}

/// A project's secrets by state, for the metrics sampler (`ops::inventory`):
/// two kept counters, whatever the project holds.
pub async fn inventory(
    app: &AppState,
    project: &str,
) -> Result<Vec<(&'static str, usize)>, error::CsmsError> {
    let project = project.to_owned();
    let (all, pending) = app
        .db
        .read(move |tx| {
            let all = store::secret_count(tx, &project)?;
            Ok::<_, error::CsmsError>((all, store::pending_delete_count(tx, &project)?))
        })
        .await?;
    let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Ok([
        (domain::SecretState::Enabled, all.saturating_sub(pending)),
        (domain::SecretState::PendingDelete, pending),
    ]
    .into_iter()
    .map(|(s, count)| (s.as_str(), n(count)))
    .filter(|(_, count)| *count > 0)
    .collect())
}

/// Notifications waiting in the outbox, counted up to `bound`.
pub async fn pending_notifications(
    app: &AppState,
    bound: usize,
) -> Result<usize, error::CsmsError> {
    app.db
        .read(move |tx| jobs::notify::outbox_len(tx, bound))
        .await
}

pub fn routes(state: AppState) -> Router<AppState> {
    let s = "/v1/{project_id}/secrets";
    let c = "/v1/{project_id}/csms";
    Router::new()
        .route(s, post(secrets::create_secret).get(secrets::list_secrets))
        .route(
            &format!("{s}/{{secret_name}}"),
            get(secrets::show_secret)
                .put(secrets::update_secret)
                .delete(secrets::delete_secret)
                // UploadSecretBlob (`POST .../secrets/restore`) and
                // BatchImportSecrets (`.../secrets/batch-import`) share it.
                .post(secret_import::post_on_secret_path),
        )
        // Static `checker` segments win over `{secret_name}`; a secret named
        // "checker" keeps its other routes, which have no such segment.
        .route(
            &format!("{s}/checker/check"),
            post(checker_api::check_secrets),
        )
        .route(
            &format!("{s}/checker/config"),
            get(checker_api::show_secrets_config).post(checker_api::update_secrets_config),
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
            &format!("{c}/grants"),
            post(grant_api::create_grants)
                .get(grant_api::list_grants)
                .put(grant_api::update_grant)
                .delete(grant_api::delete_grant),
        )
        .route(
            &format!("{c}/notification-records"),
            get(events::list_notification_records),
        )
        .route(
            &format!("{s}/{{secret_name}}/backup"),
            post(backup::download_secret_blob),
        )
        .route(
            &format!("{s}/{{secret_name}}/rotate"),
            post(ops::rotate_secret),
        )
        .route(
            &format!("{c}/generate-password"),
            post(ops::generate_random_password),
        )
        .route(&format!("{c}/tasks"), get(ops::list_secret_task))
        .route(
            "/v1/csms/agencies",
            post(ops::create_agency).get(ops::show_agency),
        )
        .route(
            "/v1/csms/function-templates",
            get(templates::show_secret_function_templates),
        )
        .route("/v1/csms/users", get(users::list_users))
        .route("/v1/csms/users/{user_id}", get(users::show_user_detail))
        .route(
            "/v1/csms/users/change-password",
            post(users::update_user_password),
        )
        .route(
            &format!("{c}/{{secret_id}}/tags/action"),
            post(tags::batch_create_or_delete_tags),
        )
        .route(
            &format!("{c}/{{secret_id}}/tags"),
            post(tags::create_secret_tag).get(tags::list_secret_tags),
        )
        .route(
            &format!("{c}/{{secret_id}}/tags/{{key}}"),
            delete(tags::delete_secret_tag),
        )
        .route(&format!("{c}/tags"), get(tags::list_project_secrets_tags))
        // The SDK fills `{resource_instances}` with the literal
        // "resource_instances"; it shares the `{secret_id}` position.
        .route(
            &format!("{c}/{{secret_id}}/action"),
            post(tags::list_resource_instances),
        )
        // Authentication, then the audit trail (which sees the caller and the read body).
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::server::gate::gate::<{ auth::CSMS }, error::CsmsError>,
        ))
}

impl crate::audit::Refusal for error::CsmsError {
    fn audit_refusal() -> axum::response::Response {
        use axum::response::IntoResponse;
        error::CsmsError::Internal("the audit record of this call could not be written".into())
            .into_response()
    }
}
