//! KMS: keys and their lifecycle, tags, quotas and versions.
//!
//! Operations: CreateKey, ListKeyDetail, ListKeys, EnableKey, DisableKey,
//! DeleteKey (schedule-key-deletion), CancelKeyDeletion, UpdateKeyDescription,
//! UpdateKeyAlias, BatchCreateKmsTags, CreateKmsTag, DeleteTag, ShowKmsTags,
//! ListKmsTags, ListKmsByTags, ShowUserInstances, ShowUserQuotas (ShowVersion and ShowVersions are served by
//! `server::versions`).

pub mod domain;
pub mod error;
mod material;
mod routes;
pub mod store;
mod tags;
pub mod wire;

use crate::auth;
use crate::common::body::Body;
use crate::server::state::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use domain::{KeySpec, NewKey, Origin};
use error::KmsError;
use std::time::Duration;
use store::KeyRecord;

pub type KmsBody<T> = Body<T, KmsError>;

/// Keys per project, default keys not counted.
pub const CMK_QUOTA: usize = 100;
pub const GRANTS_PER_KEY_QUOTA: i64 = 100;

pub fn routes(state: AppState) -> Router<AppState> {
    let p = "/v1.0/{project_id}/kms";
    Router::new()
        .route(&format!("{p}/create-key"), post(routes::create_key))
        .route(&format!("{p}/describe-key"), post(routes::list_key_detail))
        .route(&format!("{p}/list-keys"), post(routes::list_keys))
        .route(&format!("{p}/enable-key"), post(routes::enable_key))
        .route(&format!("{p}/disable-key"), post(routes::disable_key))
        .route(
            &format!("{p}/schedule-key-deletion"),
            post(routes::delete_key),
        )
        .route(
            &format!("{p}/cancel-key-deletion"),
            post(routes::cancel_key_deletion),
        )
        .route(
            &format!("{p}/update-key-description"),
            post(routes::update_key_description),
        )
        .route(
            &format!("{p}/update-key-alias"),
            post(routes::update_key_alias),
        )
        .route(
            &format!("{p}/{{key_id}}/tags/action"),
            post(tags::batch_create_kms_tags),
        )
        .route(
            &format!("{p}/{{key_id}}/tags"),
            post(tags::create_kms_tag).get(tags::show_kms_tags),
        )
        .route(
            &format!("{p}/{{key_id}}/tags/{{key}}"),
            delete(tags::delete_tag),
        )
        .route(&format!("{p}/tags"), get(tags::list_kms_tags))
        // The SDK fills `{resource_instances}` with the literal "resource_instances";
        // it shares the `{key_id}` position, so it is checked in the handler.
        .route(
            &format!("{p}/{{key_id}}/action"),
            post(tags::list_kms_by_tags),
        )
        .route(
            &format!("{p}/user-instances"),
            get(routes::show_user_instances),
        )
        .route(&format!("{p}/user-quotas"), get(routes::show_user_quotas))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require::<{ auth::KMS }>,
        ))
}

/// Builds the record of a new key with fresh, sealed material (none for imported keys).
async fn new_record(
    app: &AppState,
    domain_id: &str,
    project_id: &str,
    new: NewKey,
    default_key: bool,
) -> Result<KeyRecord, KmsError> {
    let key_id = uuid::Uuid::new_v4().to_string();
    let material = match new.origin {
        Origin::Kms => Some(routes::sealed_material(app, &key_id, new.spec).await?),
        Origin::External => None,
    };
    Ok(KeyRecord {
        key_id,
        project_id: project_id.to_owned(),
        domain_id: domain_id.to_owned(),
        key_alias: new.alias,
        key_description: new.description,
        key_spec: new.spec,
        key_usage: new.usage,
        origin: new.origin,
        key_state: new.origin.initial_state(),
        default_key,
        creation_ms: app.clock.now().timestamp_millis(),
        scheduled_deletion_ms: None,
        expiration_ms: None,
        enterprise_project_id: new.enterprise_project_id,
        keystore_id: new.keystore_id,
        tags: Default::default(),
        material,
    })
}

/// The project's default key of `service` (alias `<service>/default`),
/// created on first use. Other services call this to get their key.
pub async fn ensure_default_key(
    app: &AppState,
    domain_id: &str,
    project_id: &str,
    service: &str,
) -> Result<String, KmsError> {
    let alias = format!("{service}{}", domain::DEFAULT_SUFFIX);
    let (p, a) = (project_id.to_owned(), alias.clone());
    if let Some(existing) = app
        .db
        .tx(move |tx| store::find_by_alias(tx, &p, &a))
        .await?
    {
        return Ok(existing.key_id);
    }
    let new = NewKey {
        alias,
        description: format!("Default key of {service}"),
        spec: KeySpec::Aes256,
        usage: KeySpec::Aes256.default_usage(),
        origin: Origin::Kms,
        enterprise_project_id: "0".into(),
        keystore_id: "0".into(),
    };
    let record = new_record(app, domain_id, project_id, new, true).await?;
    app.db
        .tx(move |tx| {
            // Another request may have created it meanwhile: keep that one.
            match store::find_by_alias(tx, &record.project_id, &record.key_alias)? {
                Some(existing) => Ok(existing.key_id),
                None => store::insert(tx, &record).map(|_| record.key_id.clone()),
            }
        })
        .await
}

/// Every project has `kms/default` from the start.
pub async fn bootstrap(app: &AppState) -> anyhow::Result<()> {
    let projects: Vec<(String, String)> = app
        .directory
        .all_projects()
        .map(|(d, p)| (d.id.clone(), p.id.clone()))
        .collect();
    for (domain_id, project_id) in projects {
        ensure_default_key(app, &domain_id, &project_id, "kms")
            .await
            .map_err(|e| anyhow::anyhow!("cannot create kms/default for {project_id}: {e}"))?;
    }
    Ok(())
}

/// Deletes keys whose scheduled deletion date has passed; returns how many.
pub async fn sweep_deletions(app: &AppState) -> Result<usize, KmsError> {
    let now_ms = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let due = store::due_deletions(tx, now_ms, 200)?;
            let mut purged = 0;
            for (project, key_id) in due {
                if let Some(key) = store::find(tx, &project, &key_id)? {
                    if key.key_state == domain::KeyState::PendingDeletion
                        && key.scheduled_deletion_ms.is_some_and(|d| d <= now_ms)
                    {
                        store::purge(tx, &key)?;
                        purged += 1;
                    }
                }
            }
            Ok(purged)
        })
        .await
}

pub fn spawn_background(
    app: AppState,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sweep_deletions(&app).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    keys = n,
                    "deleted keys whose scheduled deletion date passed"
                ),
                Err(e) => tracing::warn!(error = %e, "deletion sweep failed; will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => return,
            }
        }
    })
}
