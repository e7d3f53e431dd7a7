//! Secret handlers: CreateSecret, ShowSecret, ListSecrets, UpdateSecret,
//! DeleteSecret, DeleteSecretForSchedule and RestoreSecret.

use super::domain::SECRET_QUOTA;
use super::domain::{self, EventType, SecretState};
use super::error::CsmsError;
use super::stages;
use super::store::{self, SecretRecord, VersionRecord};
use super::wire::CsmsBody;
use super::wire::*;
use super::{notify, values};
use crate::auth::Caller;
use crate::common::body::Body;
use crate::server::state::AppState;
use crate::store::Tx;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

#[derive(serde::Deserialize)]
pub struct SecretPath {
    pub secret_name: String,
}

/// Every event a secret subscribes to must exist in its project.
pub(super) fn check_subscriptions(
    tx: &mut dyn crate::store::Tx,
    project: &str,
    names: &[String],
) -> Result<(), CsmsError> {
    for name in names {
        store::load_event(tx, project, name)?;
    }
    Ok(())
}

/// `limit` of the list operations: 1–1000, 50 when not given.
pub(super) fn parse_limit(raw: Option<&str>) -> Result<usize, CsmsError> {
    crate::common::paging::parse_limit(raw, 50, 1000)
        .map_err(|_| CsmsError::InvalidParameter("limit"))
}

pub async fn create_secret(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<CreateSecretRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let name = domain::parse_name(req.name.as_deref(), "name")?;
    let description = domain::parse_description(req.description.as_deref())?;
    let value = domain::parse_value(req.secret_string.as_deref(), req.secret_binary.as_deref())?;
    let secret_type = domain::parse_secret_type(req.secret_type.as_deref())?;
    let subscriptions = domain::parse_subscriptions(req.event_subscriptions.as_deref())?;
    let auto_rotation = req.auto_rotation.unwrap_or(false);
    let period = req.rotation_period.filter(|p| !p.is_empty());
    let period_secs = period
        .as_deref()
        .map(domain::parse_rotation_period)
        .transpose()?;
    if auto_rotation && period_secs.is_none() {
        return Err(CsmsError::MissingParameter("rotation_period"));
    }
    if req
        .rotation_config
        .as_deref()
        .is_some_and(|c| c.len() > 1024)
    {
        return Err(CsmsError::InvalidParameter("rotation_config"));
    }
    let project = caller.project().to_owned();
    let key_id =
        values::key_for(&app, &caller.domain_id, &project, req.kms_key_id.as_deref()).await?;
    let (value_id, sealed) = values::seal(&app, &project, &key_id, &name, &value).await?;
    let now = app.clock.now().timestamp_millis();
    let secret = SecretRecord {
        id: app.rng.uuid().to_string(),
        name: name.clone(),
        project_id: project.clone(),
        domain_id: caller.domain_id.clone(),
        state: SecretState::Enabled,
        kms_key_id: key_id.clone(),
        description,
        secret_type,
        auto_rotation,
        rotation_period: period,
        rotation_config: req.rotation_config.filter(|c| !c.is_empty()),
        rotation_func_urn: req.rotation_func_urn.filter(|u| !u.is_empty()),
        rotation_ms: None,
        next_rotation_ms: period_secs
            .filter(|_| auto_rotation)
            .map(|s| now + s * 1000),
        event_subscriptions: subscriptions,
        enterprise_project_id: req
            .enterprise_project_id
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "0".into()),
        create_ms: now,
        update_ms: now,
        scheduled_delete_ms: None,
        tags: Default::default(),
        stages: Default::default(),
        last_version: 1,
    };
    let version = VersionRecord {
        number: 1,
        create_ms: now,
        expire_ms: None,
        kms_key_id: key_id,
        value_id,
        binary: value.binary,
        sealed,
        expiry_notified: false,
    };
    let rng = app.rng.clone();
    let saved = app
        .db
        .tx(move |tx| {
            if store::secret_quota_reached(tx, &project, SECRET_QUOTA)? {
                return Err(CsmsError::SecretQuota);
            }
            check_subscriptions(tx, &project, &secret.event_subscriptions)?;
            let mut secret = secret.clone();
            stages::move_stage(&mut secret.stages, stages::CURRENT, "v1", now)?;
            store::insert_secret(tx, &secret)?;
            store::put_version(tx, &project, &secret.name, &version)?;
            notify::emit(tx, &rng, &secret, EventType::VersionCreated, now)?;
            Ok(secret)
        })
        .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&saved),
    }))
}

pub async fn show_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let secret = app
        .db
        .tx(move |tx| store::load_secret(tx, &project, &path.secret_name))
        .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}

pub async fn list_secrets(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListSecretsResponse>, CsmsError> {
    let limit = parse_limit(q.limit.as_deref())?;
    let marker = q.marker.filter(|m| !m.is_empty());
    let event = q.event_name.filter(|e| !e.is_empty());
    let project = caller.project().to_owned();
    let (page, more) = app
        .db
        .tx(move |tx| {
            let mut page = match &event {
                None => store::list_secrets(tx, &project, marker.as_deref(), limit + 1)?,
                Some(event) => {
                    let names =
                        store::subscribers(tx, &project, event, marker.as_deref(), limit + 1)?;
                    let mut out = Vec::with_capacity(names.len());
                    for name in names {
                        out.extend(store::find_secret(tx, &project, &name)?);
                    }
                    out
                }
            };
            let more = page.len() > limit;
            page.truncate(limit);
            Ok::<_, CsmsError>((page, more))
        })
        .await?;
    Ok(Json(ListSecretsResponse {
        page_info: PageInfo {
            next_marker: page.last().filter(|_| more).map(|s| s.name.clone()),
            previous_marker: page.first().map(|s| s.name.clone()),
            current_count: page.len() as i64,
        },
        secrets: page.iter().map(Secret::of).collect(),
    }))
}

pub async fn update_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Body(req, _): CsmsBody<UpdateSecretRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let project = caller.project().to_owned();
    let description = req
        .description
        .as_deref()
        .map(|d| domain::parse_description(Some(d)))
        .transpose()?;
    let subscriptions = req
        .event_subscriptions
        .as_deref()
        .map(|s| domain::parse_subscriptions(Some(s)))
        .transpose()?;
    let period = req.rotation_period.filter(|p| !p.is_empty());
    let period_secs = period
        .as_deref()
        .map(domain::parse_rotation_period)
        .transpose()?;
    let key_id = match req.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => {
            let k = crate::kms::domain::parse_key_id(Some(k))?;
            values::check_key(&app, &project, &k).await?;
            Some(k)
        }
        None => None,
    };
    let (auto_rotation, func_urn) = (req.auto_rotation, req.rotation_func_urn);
    let secret = change_secret(&app, &caller, path.secret_name, move |tx, s, now| {
        s.state.check_editable()?;
        if let Some(k) = &key_id {
            s.kms_key_id = k.clone();
        }
        if let Some(d) = &description {
            s.description = d.clone();
        }
        if let Some(subs) = &subscriptions {
            check_subscriptions(tx, &project, subs)?;
            s.event_subscriptions = subs.clone();
        }
        if let Some(p) = &period {
            s.rotation_period = Some(p.clone());
        }
        if let Some(u) = &func_urn {
            s.rotation_func_urn = Some(u.clone()).filter(|u| !u.is_empty());
        }
        if let Some(on) = auto_rotation {
            s.auto_rotation = on;
        }
        if s.auto_rotation {
            let secs = match (period_secs, s.rotation_period.as_deref()) {
                (Some(secs), _) => secs,
                (None, Some(p)) => domain::parse_rotation_period(p)?,
                (None, None) => return Err(CsmsError::MissingParameter("rotation_period")),
            };
            s.next_rotation_ms = Some(now + secs * 1000);
        } else {
            s.next_rotation_ms = None;
        }
        Ok(())
    })
    .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}

/// Loads a secret of the caller's project, lets `change` apply a rule to it,
/// stamps the update time and saves it, all in one transaction.
async fn change_secret<F>(
    app: &AppState,
    caller: &Caller,
    name: String,
    mut change: F,
) -> Result<SecretRecord, CsmsError>
where
    F: FnMut(&mut dyn Tx, &mut SecretRecord, i64) -> Result<(), CsmsError> + Send + 'static,
{
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    app.db
        .tx(move |tx| {
            let mut s = store::load_secret(tx, &project, &name)?;
            change(tx, &mut s, now)?;
            s.update_ms = now;
            store::save_secret(tx, &s)?;
            Ok(s)
        })
        .await
}

pub async fn delete_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<StatusCode, CsmsError> {
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    let rng = app.rng.clone();
    app.db
        .tx(move |tx| {
            let secret = store::load_secret(tx, &project, &path.secret_name)?;
            notify::emit(tx, &rng, &secret, EventType::Deleted, now)?;
            store::purge_secret(tx, &secret)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_secret_for_schedule(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
    Body(req, _): CsmsBody<DeleteSecretForScheduleRequest>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let days = domain::parse_recovery_days(req.recovery_window_in_days)?;
    let secret = change_secret(&app, &caller, path.secret_name, move |_, s, now| {
        s.state = s.state.schedule_deletion()?;
        s.scheduled_delete_ms = Some(now + days * 86_400_000);
        Ok(())
    })
    .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}

pub async fn restore_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<SecretPath>,
) -> Result<Json<SecretResponse>, CsmsError> {
    let secret = change_secret(&app, &caller, path.secret_name, |_, s, _| {
        s.state = s.state.restore()?;
        s.scheduled_delete_ms = None;
        Ok(())
    })
    .await?;
    Ok(Json(SecretResponse {
        secret: Secret::of(&secret),
    }))
}
